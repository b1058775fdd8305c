/**
 * The machine formats of findings (docs/cli.md) as contracts checked by code:
 * - each schema's enumerations are the code's constants (scripts/schema.ts; `npm run schema`);
 * - ASFF output validates against its schema and against the Security Hub API model itself (the
 *   `AwsSecurityFinding` shape of botocore's securityhub service-2.json, from the moto install in
 *   .venv, turned into a JSON Schema here: required members, enumerations, types, patterns, list
 *   limits), and the schema names only members the model has;
 * - OCSF output validates against its schema and against the published OCSF 1.6.0 Compliance Finding
 *   class (test/fixtures/ocsf-1.6.0-compliance-finding.json, derived by scripts/ocsf-fixture.ts: its
 *   `provenance` names the repository, ref, commit and files), attributes not in the class refused;
 * - CSV follows RFC 4180 and defuses formulas: every value, hostile ones included, reads back intact.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AnySchema } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import asffSchema from '../../schema/asff-output.schema.json' with { type: 'json' };
import csvSchema from '../../schema/findings-csv.schema.json' with { type: 'json' };
import ocsfSchema from '../../schema/ocsf-output.schema.json' with { type: 'json' };
import ocsfFixture from '../fixtures/ocsf-1.6.0-compliance-finding.json' with { type: 'json' };
import type { AsffFinding } from '../../core/asff.ts';
import { asffId, defaultProductArn, resolvedAsff, toAsffFinding, toAsffReport } from '../../core/asff.ts';
import { CSV_COLUMNS, csvCell, toCsv } from '../../core/csv.ts';
import type { ExportContext } from '../../core/export.ts';
import { UnknownAccountError, findingAccount, fixedFindingIds } from '../../core/export.ts';
import type { Finding } from '../../core/findings.ts';
import { OCSF_CLASS, OCSF_VERSION, toOcsfReport } from '../../core/ocsf.ts';
import type { ActionResult, RunReport } from '../../core/report.ts';
import { toReport } from '../../core/report.ts';
import { SCHEMA_FILES, withCodeEnums } from '../../scripts/schema.ts';
import { repoRoot } from '../harness/moto.ts';
import { ACCOUNT_ID, NO_CAPS, NOW, account, ecrImage, planOf } from './fixtures.ts';

type Json = Record<string, unknown>;

const CONTEXT: ExportContext = {
  generatedAt: NOW.toISOString(),
  toolVersion: '0.1.0',
  accounts: { 'us-east-1': ACCOUNT_ID },
};

const ajv = () => new Ajv2020({ allErrors: true, strict: false, unicodeRegExp: false });
const NO_CALLS = { total: 0, byService: {}, byOperation: {} };

/**
 * A plan with every kind of finding the formats distinguish: drift (high and medium), unknown (a
 * shared VPC, a refused read), muted by the mutelist, and fixes; and its apply's report, where every
 * action succeeded.
 */
function reports(): { plan: RunReport; applied: RunReport } {
  const a = account();
  const shared = a.vpc({ ownerId: '210987654321' });
  a.containerInstance(a.subnet(shared, { az: 'a' }));
  const vpc = a.vpc({ egress: 'nat', tags: { Name: '=HYPERLINK("https://evil.example","click")' } });
  a.containerInstance(a.subnet(vpc, { az: 'a' }));
  a.containerInstance(a.subnet(vpc, { az: 'b' }));
  const isolated = a.vpc({ egress: 'none' });
  a.fargateService([a.subnet(isolated, { az: 'a' })], {
    taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
  });
  a.skippedRead({ operation: 'route53:ListHostedZonesByVPC', reason: 'AccessDenied', resourceId: shared });
  const plan = planOf(a.snapshot(), {
    ...NO_CAPS,
    mutelist: [{ vpcIds: [vpc], services: ['ecs-telemetry'], reason: 'CHG-1: "accepted", by design\n-bye' }],
  });
  const results: ActionResult[] = plan.actions.map((action) => ({
    actionId: action.id,
    accountId: action.accountId,
    kind: action.kind,
    region: action.region,
    vpcId: action.vpcId,
    outcome: 'succeeded',
    message: 'done',
  }));
  return { plan: toReport('plan', plan, NO_CALLS), applied: toReport('apply', plan, NO_CALLS, results) };
}

// ---- the Security Hub API model -------------------------------------------------------------------

interface Shape {
  readonly type: string;
  readonly members?: Record<string, { shape: string }>;
  readonly required?: string[];
  readonly member?: { shape: string };
  readonly key?: { shape: string };
  readonly value?: { shape: string };
  readonly enum?: string[];
  readonly pattern?: string;
  readonly min?: number;
  readonly max?: number;
}

/** botocore's Security Hub model, as the moto install in .venv carries it. */
function securityHubModel(): { shapes: Record<string, Shape>; file: string } {
  const lib = path.join(repoRoot, '.venv/lib');
  const python = readdirSync(lib).find((name) => name.startsWith('python'));
  if (python === undefined) throw new Error(`no python in ${lib}`);
  const dir = path.join(lib, python, 'site-packages/botocore/data/securityhub');
  const version = readdirSync(dir).sort().at(-1) ?? '';
  const file = path.join(dir, version, 'service-2.json.gz');
  const model = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
    shapes: Record<string, Shape>;
  };
  return { shapes: model.shapes, file };
}

/** A JSON Schema of a model shape and every shape it reaches (structures closed: no unknown member). */
function modelSchema(shapes: Record<string, Shape>, root: string): AnySchema {
  const defs: Record<string, Json> = {};
  const ref = (name: string) => ({ $ref: `#/$defs/${name}` });
  const visit = (name: string): void => {
    if (name in defs) return;
    const shape = shapes[name];
    if (shape === undefined) throw new Error(`no shape ${name}`);
    defs[name] = {};
    let schema: Json;
    switch (shape.type) {
      case 'structure':
        schema = {
          type: 'object',
          additionalProperties: false,
          ...(shape.required ? { required: shape.required } : {}),
          properties: Object.fromEntries(
            Object.entries(shape.members ?? {}).map(([member, target]) => [member, ref(target.shape)]),
          ),
        };
        for (const target of Object.values(shape.members ?? {})) visit(target.shape);
        break;
      case 'list':
        schema = {
          type: 'array',
          items: ref(shape.member?.shape ?? ''),
          ...(shape.min === undefined ? {} : { minItems: shape.min }),
          ...(shape.max === undefined ? {} : { maxItems: shape.max }),
        };
        visit(shape.member?.shape ?? '');
        break;
      case 'map':
        schema = {
          type: 'object',
          propertyNames: ref(shape.key?.shape ?? ''),
          additionalProperties: ref(shape.value?.shape ?? ''),
        };
        visit(shape.key?.shape ?? '');
        visit(shape.value?.shape ?? '');
        break;
      case 'string':
        schema = {
          type: 'string',
          ...(shape.enum ? { enum: shape.enum } : {}),
          ...(shape.pattern ? { pattern: shape.pattern } : {}),
          ...(shape.min === undefined ? {} : { minLength: shape.min }),
          ...(shape.max === undefined ? {} : { maxLength: shape.max }),
        };
        break;
      case 'integer':
      case 'long':
        schema = { type: 'integer' };
        break;
      case 'double':
      case 'float':
        schema = { type: 'number' };
        break;
      case 'boolean':
        schema = { type: 'boolean' };
        break;
      case 'timestamp':
        schema = { type: 'string' };
        break;
      default:
        throw new Error(`shape ${name}: type ${shape.type} not handled`);
    }
    defs[name] = schema;
  };
  visit(root);
  return { $defs: defs, ...ref(root) };
}

/** The members our schema names at each level, as paths (`Compliance.StatusReasons.ReasonCode`). */
function schemaPaths(schema: Json, defs: Json, prefix = ''): string[] {
  const resolved = (node: Json): Json => {
    const target = node.$ref;
    return typeof target === 'string' ? resolved(defs[target.replace('#/$defs/', '')] as Json) : node;
  };
  const node = resolved(schema);
  const items = node.items as Json | undefined;
  if (items !== undefined) return schemaPaths(items, defs, prefix);
  const properties = node.properties as Record<string, Json> | undefined;
  if (properties === undefined || node.additionalProperties !== false) return [];
  return Object.entries(properties).flatMap(([name, child]) => [
    `${prefix}${name}`,
    ...schemaPaths(child, defs, `${prefix}${name}.`),
  ]);
}

/** Whether the model shape `root` has the member path (lists and maps looked through). */
function modelHas(shapes: Record<string, Shape>, root: string, memberPath: string): boolean {
  let shape = shapes[root];
  for (const part of memberPath.split('.')) {
    while (shape?.type === 'list') shape = shapes[shape.member?.shape ?? ''];
    const next = shape?.members?.[part]?.shape;
    if (next === undefined) return false;
    shape = shapes[next];
  }
  return true;
}

// ---- the OCSF fixture -----------------------------------------------------------------------------

interface OcsfAttribute {
  readonly type: string;
  readonly object_type?: string;
  readonly is_array?: boolean;
  readonly requirement: string;
  readonly enum?: ReadonlyArray<number | string>;
}
interface OcsfDefinition {
  readonly attributes: Readonly<Record<string, OcsfAttribute>>;
  readonly constraints?: { readonly at_least_one?: readonly string[]; readonly just_one?: readonly string[] };
}

/** A JSON Schema of the fixture's class: its attributes only, required ones required, enums enforced. */
function ocsfClassSchema(): AnySchema {
  const objects = ocsfFixture.objects as unknown as Record<string, OcsfDefinition>;
  const TYPES: Record<string, Json> = {
    string_t: { type: 'string' },
    integer_t: { type: 'integer' },
    long_t: { type: 'integer' },
    float_t: { type: 'number' },
    boolean_t: { type: 'boolean' },
    json_t: {},
  };
  const attributeSchema = (attribute: OcsfAttribute): Json => {
    const one: Json =
      attribute.type === 'object'
        ? attribute.object_type !== undefined && attribute.object_type in objects
          ? { $ref: `#/$defs/${attribute.object_type}` }
          : { type: 'object' }
        : { ...(TYPES[attribute.type] ?? {}), ...(attribute.enum ? { enum: attribute.enum } : {}) };
    return attribute.is_array === true ? { type: 'array', items: one } : one;
  };
  const definitionSchema = (definition: OcsfDefinition, overrides: Record<string, Json> = {}): Json => ({
    type: 'object',
    additionalProperties: false,
    required: Object.entries(definition.attributes)
      .filter(([, attribute]) => attribute.requirement === 'required')
      .map(([name]) => name),
    properties: Object.fromEntries(
      Object.entries(definition.attributes).map(([name, attribute]) => [
        name,
        overrides[name] ?? attributeSchema(attribute),
      ]),
    ),
    ...(definition.constraints?.at_least_one
      ? { anyOf: definition.constraints.at_least_one.map((name) => ({ required: [name] })) }
      : {}),
    ...(definition.constraints?.just_one
      ? { oneOf: definition.constraints.just_one.map((name) => ({ required: [name] })) }
      : {}),
  });
  const klass = ocsfFixture.class as unknown as OcsfDefinition & { uid: number; category_uid: number };
  const activities = (klass.attributes.activity_id?.enum ?? []) as number[];
  return {
    $defs: Object.fromEntries(
      Object.entries(objects).map(([name, object]) => [name, definitionSchema(object)]),
    ),
    type: 'array',
    // A class's uid, category and type uids are computed, not enumerated, in the schema's sources.
    items: definitionSchema(klass, {
      class_uid: { const: klass.uid },
      category_uid: { const: klass.category_uid },
      type_uid: { enum: activities.map((activity) => klass.uid * 100 + activity) },
    }),
  };
}

// ---- CSV ------------------------------------------------------------------------------------------

/** An RFC 4180 reader (CRLF rows, quoted fields with doubled quotes), strict about what it accepts. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let index = 0;
  let quoted = false;
  while (index < text.length) {
    const char = text[index] ?? '';
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 2;
      } else if (char === '"') {
        quoted = false;
        index += 1;
        if (![',', '\r'].includes(text[index] ?? ''))
          throw new Error(`text after a closing quote at ${index}`);
      } else {
        field += char;
        index += 1;
      }
    } else if (char === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${index}`);
      quoted = true;
      index += 1;
    } else if (char === ',') {
      row.push(field);
      field = '';
      index += 1;
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      index += 2;
    } else {
      if (char === '\r' || char === '\n')
        throw new Error(`a bare line break in an unquoted field at ${index}`);
      field += char;
      index += 1;
    }
  }
  if (quoted || field !== '' || row.length > 0) throw new Error('the last row does not end with CRLF');
  return rows;
}

const HOSTILE = [
  '=HYPERLINK("https://evil.example","click")',
  '+1+cmd|" /C calc"!A0',
  '-2+3',
  '@SUM(A1:A9)',
  '\t=1',
  '\r=1',
  'a,b',
  'say "hi"',
  'line one\nline two',
  'cr\ronly',
  'crlf\r\n',
  '"',
  '',
  ' padded ',
  'ünïcödé ✓ \u2028',
];

function findingWith(fields: Partial<Finding>): Finding {
  return {
    id: `ENDPOINT_MISSING/${ACCOUNT_ID}/us-east-1/vpc-0a1b/logs`,
    accountId: ACCOUNT_ID,
    code: 'ENDPOINT_MISSING',
    status: 'drift',
    severity: 'high',
    region: 'us-east-1',
    vpcId: 'vpc-0a1b',
    service: 'logs',
    message: 'the endpoint is missing',
    remediation: { status: 'planned', actionIds: ['a1', 'a2'] },
    ...fields,
  };
}

// ---- the tests ------------------------------------------------------------------------------------

describe('the machine formats of findings', () => {
  it('every schema lists exactly the code’s values (npm run schema writes them)', () => {
    expect(SCHEMA_FILES.length).toBe(4);
    for (const { file, enums } of SCHEMA_FILES) {
      const schema = JSON.parse(readFileSync(file, 'utf8')) as Json;
      expect(schema, file.pathname).toEqual(withCodeEnums(schema, enums));
    }
  });

  it('the account of a finding comes from its own accountId when it has one, else its Region’s', () => {
    const finding = findingWith({ accountId: '999999999999' });
    expect(findingAccount(finding, CONTEXT)).toBe('999999999999');
    // A finding without one (a report of schema 1): its Region's account, if the run saw it.
    const legacy: Omit<Finding, 'accountId'> = Object.fromEntries(
      Object.entries(finding).filter(([key]) => key !== 'accountId'),
    ) as Omit<Finding, 'accountId'>;
    expect(findingAccount(legacy, CONTEXT)).toBe(ACCOUNT_ID);
    expect(() => findingAccount({ ...legacy, region: 'eu-west-3' }, CONTEXT)).toThrow(UnknownAccountError);
  });

  describe('ASFF', () => {
    const { shapes, file } = securityHubModel();
    const modelValidate = ajv().compile(modelSchema(shapes, 'BatchImportFindingsRequest'));
    const validate = ajv().compile(asffSchema);

    it(`validates against schema/asff-output.schema.json and the Security Hub API model (${path.basename(path.dirname(file))})`, () => {
      const { plan, applied } = reports();
      for (const report of [plan, applied]) {
        const document: unknown = JSON.parse(
          JSON.stringify(
            toAsffReport(report.findings, CONTEXT, fixedFindingIds(report.findings, report.actions)),
          ),
        );
        expect(validate(document) ? [] : validate.errors).toEqual([]);
        expect(modelValidate(document) ? [] : modelValidate.errors).toEqual([]);
      }
      // The model refuses what Security Hub refuses: a guard against a vacuous model schema.
      const bad = {
        Findings: [{ ...toAsffReport(plan.findings, CONTEXT).Findings[0], RecordState: 'GONE' }],
      };
      expect(modelValidate(bad)).toBe(false);
      expect(modelValidate({ Findings: [{ Id: 'x' }] })).toBe(false);
    });

    it('names only members of AwsSecurityFinding, and sends every member the model requires', () => {
      const defs = asffSchema.$defs as unknown as Json;
      const paths = schemaPaths(defs.finding as Json, defs);
      expect(paths).toContain('Compliance.StatusReasons.ReasonCode');
      expect(paths.filter((member) => !modelHas(shapes, 'AwsSecurityFinding', member))).toEqual([]);
      const required = (defs.finding as { required: string[] }).required;
      expect(shapes.AwsSecurityFinding?.required?.filter((member) => !required.includes(member))).toEqual([]);
      // Workflow, Note, UserDefinedFields and VerificationState are the customer's: never sent.
      for (const member of ['Workflow', 'WorkflowState', 'Note', 'UserDefinedFields', 'VerificationState'])
        expect(paths).not.toContain(member);
    });

    it('maps drift to FAILED, unknown and muted to WARNING with a reason, and fixed to PASSED', () => {
      const { plan, applied } = reports();
      const byState = (findings: readonly AsffFinding[]) =>
        Object.fromEntries(
          ['FAILED', 'WARNING', 'PASSED'].map((status) => [
            status,
            findings.filter((f) => f.Compliance.Status === status),
          ]),
        );
      const planned = byState(toAsffReport(plan.findings, CONTEXT).Findings);
      expect(planned.FAILED?.length).toBeGreaterThan(0);
      expect(planned.PASSED).toEqual([]);
      const reasons = new Set(
        planned.WARNING?.flatMap((f) => f.Compliance.StatusReasons?.map((r) => r.ReasonCode)),
      );
      expect([...reasons].sort()).toEqual(['MUTED', 'UNVERIFIABLE']);
      const muted = planned.WARNING?.find((f) => f.Compliance.StatusReasons?.[0]?.ReasonCode === 'MUTED');
      expect(muted?.Severity.Label).toBe('INFORMATIONAL');
      expect(muted?.Compliance.StatusReasons?.[0]?.Description).toContain('CHG-1');
      for (const f of planned.FAILED ?? []) expect(f.Severity.Label).toMatch(/^(HIGH|MEDIUM|LOW)$/);

      const fixed = fixedFindingIds(applied.findings, applied.actions);
      expect(fixed.size).toBeGreaterThan(0);
      const after = byState(toAsffReport(applied.findings, CONTEXT, fixed).Findings);
      expect(after.PASSED?.length).toBe(fixed.size);
      for (const f of after.PASSED ?? []) expect(f.Severity.Label).toBe('INFORMATIONAL');
    });

    it('the Id is stable across runs and the ProductArn is the account’s default product in the Region', () => {
      const [first] = reports().plan.findings;
      if (!first) throw new Error('no finding');
      const one = toAsffFinding(first, CONTEXT, {
        createdAt: '2025-01-01T00:00:00.000Z',
        updatedAt: NOW.toISOString(),
      });
      const two = toAsffFinding(first, CONTEXT, {
        createdAt: '2025-01-01T00:00:00.000Z',
        updatedAt: '2025-02-01T00:00:00.000Z',
      });
      expect(one.Id).toBe(two.Id);
      expect(one.Id).toBe(asffId(first.id, ACCOUNT_ID));
      expect(one.CreatedAt).toBe(two.CreatedAt);
      expect(one.ProductArn).toBe(
        `arn:aws:securityhub:us-east-1:${ACCOUNT_ID}:product/${ACCOUNT_ID}/default`,
      );
      expect(defaultProductArn('cn-north-1', ACCOUNT_ID)).toMatch(/^arn:aws-cn:securityhub:cn-north-1:/);
      expect(defaultProductArn('us-gov-west-1', ACCOUNT_ID)).toMatch(/^arn:aws-us-gov:/);
      const archived = resolvedAsff(one, 'archived', '2025-03-01T00:00:00.000Z');
      expect(archived).toMatchObject({
        Id: one.Id,
        RecordState: 'ARCHIVED',
        UpdatedAt: '2025-03-01T00:00:00.000Z',
      });
      expect(archived.Compliance).toEqual(one.Compliance);
    });

    it('cuts texts to ASFF’s limits', () => {
      const long = findingWith({
        message: 'x'.repeat(5000),
        remediation: { status: 'manual', actionIds: [], reason: 'y'.repeat(5000) },
      });
      const asff = toAsffFinding(long, CONTEXT, {
        createdAt: CONTEXT.generatedAt,
        updatedAt: CONTEXT.generatedAt,
      });
      expect(asff.Description.length).toBe(1024);
      expect(asff.Remediation.Recommendation.Text.length).toBe(512);
      expect(validate({ Findings: [asff] }) ? [] : validate.errors).toEqual([]);
    });
  });

  describe('OCSF', () => {
    const classValidate = ajv().compile(ocsfClassSchema());
    const validate = ajv().compile(ocsfSchema);

    it(`validates against schema/ocsf-output.schema.json and the published OCSF ${OCSF_VERSION} Compliance Finding class`, () => {
      expect(ocsfFixture.provenance).toMatchObject({
        repository: 'https://github.com/ocsf/ocsf-schema',
        version: OCSF_VERSION,
        commit: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown,
      });
      expect(ocsfFixture.class.uid).toBe(OCSF_CLASS.uid);
      const { plan, applied } = reports();
      for (const report of [plan, applied]) {
        const events: unknown = JSON.parse(
          JSON.stringify(
            toOcsfReport(report.findings, CONTEXT, fixedFindingIds(report.findings, report.actions)),
          ),
        );
        expect(validate(events) ? [] : validate.errors).toEqual([]);
        expect(classValidate(events) ? [] : classValidate.errors).toEqual([]);
      }
      // The class refuses an attribute it does not define and a value outside an enumeration.
      const [event] = toOcsfReport(plan.findings, CONTEXT);
      expect(classValidate([{ ...event, workflow: 'x' }])).toBe(false);
      expect(classValidate([{ ...event, severity_id: 7 }])).toBe(false);
      expect(classValidate([{ ...event, class_uid: 2004 }])).toBe(false);
    });

    it('maps drift to Fail/New, unknown to Warning, muted to Suppressed, and fixed to Pass/Resolved', () => {
      const { plan, applied } = reports();
      const events = toOcsfReport(plan.findings, CONTEXT);
      const pairs = new Set(events.map((e) => `${e.compliance.status}/${e.status}`));
      expect([...pairs].sort()).toEqual(['Fail/New', 'Fail/Suppressed', 'Warning/New']);
      const fixed = fixedFindingIds(applied.findings, applied.actions);
      const after = toOcsfReport(applied.findings, CONTEXT, fixed);
      expect(after.filter((e) => e.status === 'Resolved' && e.compliance.status === 'Pass').length).toBe(
        fixed.size,
      );
      // The same stable id as ASFF.
      expect(events[0]?.finding_info.uid).toBe(toAsffReport(plan.findings, CONTEXT).Findings[0]?.Id);
    });
  });

  describe('CSV', () => {
    const validate = ajv().compile(csvSchema);

    it('a header row of the documented columns, then one row per finding that validates against the schema', () => {
      const { plan } = reports();
      const rows = parseCsv(toCsv(plan.findings, CONTEXT));
      expect(rows[0]).toEqual([...CSV_COLUMNS]);
      expect(rows[0]).toEqual(csvSchema['x-columns']);
      expect(rows.length).toBe(plan.findings.length + 1);
      for (const row of rows.slice(1)) {
        const record = Object.fromEntries(CSV_COLUMNS.map((column, index) => [column, row[index]]));
        expect(validate(record) ? [] : validate.errors).toEqual([]);
      }
      expect(rows.some((row) => row[CSV_COLUMNS.indexOf('muted')] === 'true')).toBe(true);
    });

    it('quotes commas, quotes and line breaks, and defuses formulas, for hostile values', () => {
      const findings = HOSTILE.map((text, n) =>
        findingWith({
          id: `ENDPOINT_MISSING/us-east-1/vpc-0a1b/${n}`,
          message: text || 'empty',
          resourceId: text,
          statusReason: text,
        }),
      );
      const rows = parseCsv(toCsv(findings, CONTEXT)).slice(1);
      HOSTILE.forEach((text, n) => {
        const expected = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
        expect(rows[n]?.[CSV_COLUMNS.indexOf('resourceId')]).toBe(expected);
        expect(rows[n]?.[CSV_COLUMNS.indexOf('statusReason')]).toBe(expected);
      });
      expect(csvCell('=1+1')).toBe("'=1+1");
      expect(csvCell('a "b", c')).toBe('"a ""b"", c"');
      expect(csvCell('-1')).toBe("'-1");
    });

    it('every string reads back as written (formula-prefixed where it must be)', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 5 }), (texts) => {
          const findings = texts.map((text, n) =>
            findingWith({ id: `ENDPOINT_MISSING/us-east-1/vpc-0a1b/${n}`, resourceId: text }),
          );
          const rows = parseCsv(toCsv(findings, CONTEXT)).slice(1);
          texts.forEach((text, n) => {
            const cell = rows[n]?.[CSV_COLUMNS.indexOf('resourceId')] ?? '';
            expect(cell).toBe(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
          });
        }),
      );
    });
  });
});
