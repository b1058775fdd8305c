/**
 * Keeps the JSON Schemas of the machine outputs in step with the code: every enumeration in them
 * (finding codes and statuses, services, needs, action kinds and outcomes, egress kinds, remediation
 * statuses; ASFF's and OCSF's values; the CSV's columns) is written from the constants in core/. The
 * structure around them is edited by hand.
 *
 *   npm run schema        rewrite the files
 *   (test/core/schema.test.ts and test/core/finding-formats.test.ts fail while a file and the code disagree)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ACTION_KINDS } from '../core/actions.ts';
import {
  ASFF_COMPLIANCE_STATUSES,
  ASFF_REASON_CODES,
  ASFF_RECORD_STATES,
  ASFF_RESOURCE_TYPES,
  ASFF_SEVERITY_LABELS,
} from '../core/asff.ts';
import { CSV_COLUMNS } from '../core/csv.ts';
import { SEVERITIES } from '../core/export.ts';
import { FINDING_CODES, FINDING_STATUSES, REMEDIATION_STATUSES } from '../core/findings.ts';
import { NEEDS } from '../core/needs.ts';
import { EGRESS_KINDS } from '../core/network.ts';
import { OCSF_COMPLIANCE_STATUS, OCSF_FINDING_STATUS, OCSF_SEVERITY } from '../core/ocsf.ts';
import { ACTION_OUTCOMES } from '../core/report.ts';
import { MANAGED_SERVICES } from '../core/services.ts';

export const SCHEMA_FILE = new URL('../schema/plan-output.schema.json', import.meta.url);

type Json = Record<string, unknown>;

function at(root: Json, path: readonly string[]): Json {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !(key in node))
      throw new Error(`schema has no ${path.join('.')}`);
    node = (node as Json)[key];
  }
  return node as Json;
}

/**
 * Where each enumeration lives in a schema (a path to the node, and the key set there: `enum` unless
 * named), and its values from the code.
 */
export type SchemaEnums = ReadonlyArray<readonly [readonly string[], readonly (string | number)[], string?]>;

/** The run report's (--output json). */
export const SCHEMA_ENUMS: SchemaEnums = [
  [['$defs', 'findingCode'], FINDING_CODES],
  [['$defs', 'findingStatus'], FINDING_STATUSES],
  [['$defs', 'service'], MANAGED_SERVICES],
  [['$defs', 'actionKind'], ACTION_KINDS],
  [['$defs', 'need'], Object.keys(NEEDS)],
  [['$defs', 'egress'], EGRESS_KINDS],
  [['$defs', 'remediationStatus'], REMEDIATION_STATUSES],
  [['$defs', 'actionOutcome'], ACTION_OUTCOMES],
];

const ids = (values: Readonly<Record<string, { readonly id: number; readonly name: string }>>) =>
  [...new Set(Object.values(values).map((value) => value.id))].sort((a, b) => a - b);
const names = (values: Readonly<Record<string, { readonly id: number; readonly name: string }>>) => [
  ...new Set(
    Object.values(values)
      .sort((a, b) => a.id - b.id)
      .map((value) => value.name),
  ),
];

/** --output asff (core/asff.ts). */
export const ASFF_SCHEMA_ENUMS: SchemaEnums = [
  [['$defs', 'severityLabel'], ASFF_SEVERITY_LABELS],
  [['$defs', 'originalSeverity'], SEVERITIES],
  [['$defs', 'complianceStatus'], ASFF_COMPLIANCE_STATUSES],
  [['$defs', 'recordState'], ASFF_RECORD_STATES],
  [['$defs', 'resourceType'], ASFF_RESOURCE_TYPES],
  [['$defs', 'reasonCode'], Object.values(ASFF_REASON_CODES)],
  [['$defs', 'findingCode'], FINDING_CODES],
  [['$defs', 'findingStatus'], FINDING_STATUSES],
  [['$defs', 'remediationStatus'], REMEDIATION_STATUSES],
];

/** --output ocsf (core/ocsf.ts). */
export const OCSF_SCHEMA_ENUMS: SchemaEnums = [
  [['$defs', 'severityId'], ids(OCSF_SEVERITY)],
  [['$defs', 'severityName'], names(OCSF_SEVERITY)],
  [['$defs', 'findingStatusId'], ids(OCSF_FINDING_STATUS)],
  [['$defs', 'findingStatusName'], names(OCSF_FINDING_STATUS)],
  [['$defs', 'complianceStatusId'], ids(OCSF_COMPLIANCE_STATUS)],
  [['$defs', 'complianceStatusName'], names(OCSF_COMPLIANCE_STATUS)],
  [['$defs', 'findingCode'], FINDING_CODES],
];

/** --output csv (core/csv.ts): the header is `x-columns`, every column required. */
export const CSV_SCHEMA_ENUMS: SchemaEnums = [
  [[], CSV_COLUMNS, 'x-columns'],
  [[], CSV_COLUMNS, 'required'],
  [['$defs', 'findingCode'], FINDING_CODES],
  [['$defs', 'findingStatus'], FINDING_STATUSES],
  [['$defs', 'severity'], SEVERITIES],
  [['$defs', 'remediationStatus'], REMEDIATION_STATUSES],
];

/** Every schema file with the enumerations the code writes into it. */
export const SCHEMA_FILES: ReadonlyArray<{ readonly file: URL; readonly enums: SchemaEnums }> = [
  { file: SCHEMA_FILE, enums: SCHEMA_ENUMS },
  { file: new URL('../schema/asff-output.schema.json', import.meta.url), enums: ASFF_SCHEMA_ENUMS },
  { file: new URL('../schema/ocsf-output.schema.json', import.meta.url), enums: OCSF_SCHEMA_ENUMS },
  { file: new URL('../schema/findings-csv.schema.json', import.meta.url), enums: CSV_SCHEMA_ENUMS },
];

/** The schema with every enumeration taken from the code (the run report's by default). */
export function withCodeEnums(schema: Json, enums: SchemaEnums = SCHEMA_ENUMS): Json {
  const copy = structuredClone(schema);
  for (const [path, values, key = 'enum'] of enums) at(copy, path)[key] = [...values];
  return copy;
}

if (import.meta.main) {
  for (const { file, enums } of SCHEMA_FILES) {
    const schema = JSON.parse(await readFile(file, 'utf8')) as Json;
    await writeFile(file, `${JSON.stringify(withCodeEnums(schema, enums), null, 2)}\n`);
    process.stdout.write(`wrote ${file.pathname}\n`);
  }
}
