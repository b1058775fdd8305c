// The text report of what could not be checked: unknown findings, reads refused, Regions that failed.
import { describe, expect, it } from 'vitest';
import { toReport } from '../../core/report.ts';
import { renderText } from '../../cli/render.ts';
import { account, ecrImage, planOf } from '../core/fixtures.ts';

describe('renderText', () => {
  it('says what cannot be verified and why, the reads skipped and the Regions that failed', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.skippedRead({
      operation: 'route53:ListHostedZonesByVPC',
      reason: 'AccessDenied: denied',
      resourceId: vpc,
    });
    const plan = planOf(a.snapshot());
    const text = renderText(
      toReport(
        'plan',
        { ...plan, failedRegions: [{ region: 'eu-west-1', error: 'ecs:ListClusters failed' }] },
        {
          total: 0,
          byService: {},
          byOperation: {},
        },
      ),
    );
    expect(text).toMatch(/LOW\s+ENDPOINT_MISSING\s+logs\s+unknown/);
    expect(text).toContain(
      'ENDPOINT_MISSING logs: cannot verify: route53:ListHostedZonesByVPC failed (AccessDenied: denied)',
    );
    expect(text).toContain(
      `skipped read: us-east-1 route53:ListHostedZonesByVPC (${vpc}): AccessDenied: denied`,
    );
    expect(text).toContain('FAILED Region eu-west-1: ecs:ListClusters failed');
    expect(text).toContain('1 cannot be verified');
  });

  it('summary first, VPCs worst first, lines within 120 columns, a shared reason once; colours on request', () => {
    const a = account();
    const quiet = a.vpc({ egress: 'nat', name: 'quiet' });
    a.fargateService([a.subnet(quiet, { az: 'a' })], {
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    const broken = a.vpc({ dns: { support: false, hostnames: false }, name: 'broken' });
    const subnet = a.subnet(broken, { az: 'a' });
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    const report = toReport('plan', planOf(a.snapshot()), { total: 0, byService: {}, byOperation: {} });
    const text = renderText(report);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Summary');
    expect(lines[1]).toMatch(/^ {2}us-east-1 {2}2 VPC\(s\) in scope, 2 with findings: \d+ high/);
    // The VPC with high findings (no internet egress, no DNS) comes before the one behind a NAT.
    expect(text.indexOf(`${broken} (broken)`)).toBeLessThan(text.indexOf(`${quiet} (quiet)`));
    expect(lines.filter((line) => line.length > 120)).toEqual([]);
    // Every finding blocked by the VPC's DNS shares one reason line.
    const blocked = lines.filter((line) => line.includes(': blocked: VPC_DNS_DISABLED'));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatch(/ENDPOINT_MISSING ecr\.dkr, .*ENDPOINT_MISSING logs/);
    expect(text).not.toContain('\x1b[');
    expect(renderText(report, { color: true })).toContain('\x1b[31mHIGH\x1b[0m');
  });
});
