/**
 * Keeps schema/plan-output.schema.json in step with the code: every enumeration in it (finding codes
 * and statuses, services, needs, action kinds and outcomes, egress kinds, remediation statuses) is
 * written from the constants in core/. The structure around them is edited by hand.
 *
 *   npm run schema        rewrite the file
 *   (test/core/schema.test.ts fails while the file and the code disagree)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ACTION_KINDS } from '../core/actions.ts';
import { FINDING_CODES, FINDING_STATUSES, REMEDIATION_STATUSES } from '../core/findings.ts';
import { NEEDS } from '../core/needs.ts';
import { EGRESS_KINDS } from '../core/network.ts';
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

/** Where each enumeration lives in the schema, and its values from the code. */
export const SCHEMA_ENUMS: ReadonlyArray<readonly [readonly string[], readonly string[]]> = [
  [['$defs', 'findingCode'], FINDING_CODES],
  [['$defs', 'findingStatus'], FINDING_STATUSES],
  [['$defs', 'service'], MANAGED_SERVICES],
  [['$defs', 'actionKind'], ACTION_KINDS],
  [['$defs', 'need'], Object.keys(NEEDS)],
  [['$defs', 'egress'], EGRESS_KINDS],
  [['$defs', 'remediationStatus'], REMEDIATION_STATUSES],
  [['$defs', 'actionOutcome'], ACTION_OUTCOMES],
];

/** The schema with every enumeration taken from the code. */
export function withCodeEnums(schema: Json): Json {
  const copy = structuredClone(schema);
  for (const [path, values] of SCHEMA_ENUMS) at(copy, path).enum = [...values];
  return copy;
}

if (import.meta.main) {
  const schema = JSON.parse(await readFile(SCHEMA_FILE, 'utf8')) as Json;
  await writeFile(SCHEMA_FILE, `${JSON.stringify(withCodeEnums(schema), null, 2)}\n`);
  process.stdout.write(`wrote ${SCHEMA_FILE.pathname}\n`);
}
