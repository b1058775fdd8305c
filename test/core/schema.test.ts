/**
 * The JSON report's schema is a contract checked by code: its enumerations are the code's constants
 * (scripts/schema.ts writes them; `npm run schema` after changing one), and plans of every shape the
 * unit tests build validate against it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import { toReport } from '../../core/report.ts';
import { PLAN_SCHEMA_VERSION, buildPlan } from '../../core/plan.ts';
import { parseConfig } from '../../core/config.ts';
import { legacyFindingId } from '../../core/findings.ts';
import { SCHEMA_ENUMS, withCodeEnums } from '../../scripts/schema.ts';
import { ACCOUNT_ID, NOW, account, ecrImage, planOf } from './fixtures.ts';

describe('schema/plan-output.schema.json', () => {
  it('lists exactly the code’s finding codes, statuses, services, needs, action kinds, outcomes and egress kinds', () => {
    expect(SCHEMA_ENUMS.length).toBeGreaterThanOrEqual(8);
    expect(schema).toEqual(withCodeEnums(schema));
  });

  it('validates a report with unknown findings, a shared VPC, IPv6 endpoints and skipped reads', () => {
    const a = account();
    const shared = a.vpc({ ownerId: '210987654321' });
    a.containerInstance(a.subnet(shared, { az: 'a' }));
    const vpc = a.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const only = a.subnet(vpc, { az: 'a', ipv6Only: true, ipv6Cidr: '2600:1f18:aaaa:bb01::/64' });
    a.offer('logs', { ipAddressTypes: ['ipv4', 'ipv6'] });
    a.fargateService([only], {
      taskDefinition: a.taskDefinition(
        { image: ecrImage(), logDriver: 'awslogs' },
        { name: 'router', firelens: { type: 'fluentbit', options: { 'config-file-type': 'file' } } },
      ),
    });
    a.skippedRead({ operation: 'route53:ListHostedZonesByVPC', reason: 'AccessDenied', resourceId: shared });
    const report = toReport('plan', planOf(a.snapshot()), { total: 0, byService: {}, byOperation: {} });
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const document: unknown = JSON.parse(JSON.stringify(report));
    expect(validate(document) ? [] : validate.errors).toEqual([]);
    expect(report.findings.some((finding) => finding.status === 'unknown')).toBe(true);
    expect(report.vpcs.some((entry) => entry.shared === true && entry.ownerId !== ACCOUNT_ID)).toBe(true);
  });

  it('schema 2: a run over several accounts names the account on every VPC, finding and action, and in finding ids', () => {
    const other = '210987654321';
    const drifted = () => {
      const a = account();
      const vpc = a.vpc();
      a.fargateService([a.subnet(vpc, { az: 'a' })], {
        taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
      });
      return a.snapshot();
    };
    // The same VPC id and finding in two accounts (as a shared VPC is seen from both): two findings.
    const plan = buildPlan([drifted(), { ...drifted(), accountId: other }], parseConfig({}), NOW, {
      accounts: [ACCOUNT_ID, other, '333333333333'],
      failedAccounts: [{ accountId: '333333333333', error: 'AccessDenied: not authorized to assume' }],
      failedRegions: [{ accountId: other, region: 'eu-west-1', error: 'ec2:DescribeVpcs failed' }],
    });
    const report = toReport('plan', plan, { total: 0, byService: {}, byOperation: {} });
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const document: unknown = JSON.parse(JSON.stringify(report));
    expect(validate(document) ? [] : validate.errors).toEqual([]);
    expect(report.schemaVersion).toBe(PLAN_SCHEMA_VERSION);
    expect(PLAN_SCHEMA_VERSION).toBe(2);
    expect(report.accounts).toEqual([other, ACCOUNT_ID, '333333333333'].sort());
    expect(new Set(report.vpcs.map((vpc) => vpc.accountId))).toEqual(new Set([ACCOUNT_ID, other]));
    for (const finding of report.findings) {
      expect(finding.id.split('/')[1]).toBe(finding.accountId);
      expect(legacyFindingId(finding.id)).toBe(finding.id.replace(`/${finding.accountId}/`, '/'));
    }
    expect(new Set(report.findings.map((finding) => finding.id)).size).toBe(report.findings.length);
    expect(new Set(report.findings.map((finding) => finding.accountId))).toEqual(
      new Set([ACCOUNT_ID, other]),
    );
    expect(report.actions.length).toBeGreaterThan(0);
    for (const action of report.actions)
      for (const fixed of action.fixes) expect(fixed.split('/')[1]).toBe(action.accountId);
    // A report of schema 1 (no accountId) is not a schema 2 report.
    const old = JSON.parse(JSON.stringify({ ...report, schemaVersion: 1 })) as unknown;
    expect(validate(old)).toBe(false);
  });

  it('validates a report that reclaims an unneeded owned endpoint (DELETE_ENDPOINT with reclaim and its saving)', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    a.containerInstance(a.subnet(vpc, { az: 'a' }));
    const logs = a.endpoint(vpc, 'logs', { managed: true });
    const snapshot = {
      ...a.snapshot(),
      reclaim: { unusedSince: { [logs]: '2024-01-01T00:00:00.000Z' }, wholeRegion: true },
    };
    const plan = planOf(snapshot, { remediation: { reclaimUnusedOwnedEndpointsAfterDays: 7 } });
    const report = toReport('plan', plan, { total: 0, byService: {}, byOperation: {} });
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    expect(validate(JSON.parse(JSON.stringify(report))) ? [] : validate.errors).toEqual([]);
    expect(report.actions.some((action) => action.kind === 'DELETE_ENDPOINT' && action.reclaim)).toBe(true);
    expect(report.stats.estimatedMonthlySavingUsd).toBeGreaterThan(0);
  });
});
