// The text report of what could not be checked: unknown findings, reads refused, Regions that failed.
import { describe, expect, it } from 'vitest';
import { toReport } from '../../core/report.ts';
import { renderText } from '../../cli/render.ts';
import { account, planOf } from '../core/fixtures.ts';

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
});
