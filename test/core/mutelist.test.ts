import { describe, expect, it } from 'vitest';
import { decideAlerts } from '../../core/alerts.ts';
import { ConfigError, parseConfig } from '../../core/config.ts';
import { ACCOUNT_ID, NOW, account, actionsOf, ecrImage, findingOf, findingsOf, planOf } from './fixtures.ts';

/** EC2 capacity in two AZs behind a NAT, tagged team=payments: needs the ECS trio. */
function ec2Vpc() {
  const a = account();
  const vpc = a.vpc({ egress: 'nat', tags: { team: 'payments' } });
  a.containerInstance(a.subnet(vpc, { az: 'a' }));
  a.containerInstance(a.subnet(vpc, { az: 'b' }));
  return { a, vpc };
}

describe('mutelist', () => {
  it('a muted finding is shown with its reason, but is not drift, not planned and not counted', () => {
    const { a, vpc } = ec2Vpc();
    const plan = planOf(a.snapshot(), {
      mutelist: [
        { vpcIds: [vpc], codes: ['ENDPOINT_MISSING'], reason: 'CHG-1234: egress through the NAT by design' },
      ],
    });
    const missing = findingsOf(plan, 'ENDPOINT_MISSING');
    expect(missing.length).toBeGreaterThan(0);
    for (const finding of missing) {
      expect(finding.muted).toEqual({ rule: 0, reason: 'CHG-1234: egress through the NAT by design' });
      expect(finding.remediation).toEqual({
        status: 'muted',
        actionIds: [],
        reason: 'CHG-1234: egress through the NAT by design',
      });
    }
    expect(actionsOf(plan, 'CREATE_ENDPOINT')).toEqual([]);
    expect(actionsOf(plan, 'RESTART_AGENT')).toEqual([]);
    expect(plan.stats.mutedFindings).toBe(missing.length);
    expect(plan.stats.findings).toBe(plan.findings.length - missing.length);
  });

  it('selectors narrow: another VPC, code, service, account or tag is not muted; all given must match', () => {
    const { a, vpc } = ec2Vpc();
    const mutedBy = (rule: Record<string, unknown>) =>
      findingsOf(planOf(a.snapshot(), { mutelist: [{ reason: 'r', ...rule }] }), 'ENDPOINT_MISSING')
        .filter((f) => f.muted)
        .map((f) => f.service)
        .sort();
    expect(mutedBy({ vpcIds: ['vpc-0ffffff'] })).toEqual([]);
    expect(mutedBy({ codes: ['ENDPOINT_PRIVATE_DNS_DISABLED'] })).toEqual([]);
    expect(mutedBy({ services: ['ecs-telemetry'] })).toEqual(['ecs-telemetry']);
    expect(mutedBy({ accounts: [ACCOUNT_ID], services: ['ecs'] })).toEqual(['ecs']);
    expect(mutedBy({ accounts: ['999999999999'], services: ['ecs'] })).toEqual([]);
    expect(mutedBy({ tags: { team: 'payments' }, vpcIds: [vpc] })).toEqual([
      'ecs',
      'ecs-agent',
      'ecs-telemetry',
    ]);
    expect(mutedBy({ tags: { team: 'search' } })).toEqual([]);
    expect(mutedBy({ regions: ['eu-west-1'] })).toEqual([]);
  });

  it('an expired exception mutes nothing and says so; it holds through its last day (UTC)', () => {
    const { a } = ec2Vpc();
    const rule = {
      codes: ['ENDPOINT_MISSING' as const],
      reason: 'until the migration',
      expires: '2025-01-15',
    };
    const lastDay = planOf(a.snapshot(), { mutelist: [rule] }, new Date('2025-01-15T23:59:00Z'));
    expect(findingsOf(lastDay, 'ENDPOINT_MISSING').every((f) => f.muted?.expires === '2025-01-15')).toBe(
      true,
    );
    const after = planOf(a.snapshot(), { mutelist: [rule] }, new Date('2025-01-16T00:00:00Z'));
    for (const finding of findingsOf(after, 'ENDPOINT_MISSING')) {
      expect(finding.muted).toBeUndefined();
      expect(finding.exceptionExpired).toEqual({
        rule: 0,
        reason: 'until the migration',
        expires: '2025-01-15',
      });
      expect(finding.remediation.status).toBe('planned');
    }
    expect(actionsOf(after, 'CREATE_ENDPOINT').length).toBeGreaterThan(0);
  });

  it('a muted blocker does not unblock what depends on it: those findings stay blocked, naming it', () => {
    const a = account();
    const vpc = a.vpc({ dns: { support: false, hostnames: false } });
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    const plan = planOf(a.snapshot(), {
      remediation: { enableVpcDnsAttributes: true },
      mutelist: [{ codes: ['VPC_DNS_DISABLED'], reason: 'DNS owned by the network team' }],
    });
    const dns = findingOf(plan, 'VPC_DNS_DISABLED');
    expect(dns.remediation.status).toBe('muted');
    expect(actionsOf(plan, 'ENABLE_VPC_DNS')).toEqual([]);
    expect(actionsOf(plan, 'CREATE_ENDPOINT')).toEqual([]);
    const logs = findingOf(plan, 'ENDPOINT_MISSING', 'logs');
    expect(logs.remediation.status).toBe('blocked');
    expect(logs.remediation.reason).toBe(
      `needs ${dns.id} fixed first, which is muted (DNS owned by the network team)`,
    );
    // The S3 gateway needs no DNS: still planned.
    expect(actionsOf(plan, 'CREATE_GATEWAY_ENDPOINT')).toHaveLength(1);
  });

  it('muted findings are never alerted; one muted after it was alerted closes without a resolved alert', () => {
    const { a } = ec2Vpc();
    const scope = { region: 'us-east-1' };
    const open = planOf(a.snapshot());
    const first = decideAlerts({ mode: 'report', scope, open: [], plan: open, now: NOW });
    expect(first.put.length).toBe(open.findings.length);
    const muted = planOf(a.snapshot(), { mutelist: [{ regions: ['us-east-1'], reason: 'accepted' }] });
    expect(decideAlerts({ mode: 'report', scope, open: [], plan: muted, now: NOW }).alerts).toEqual([]);
    const after = decideAlerts({ mode: 'report', scope, open: first.put, plan: muted, now: NOW });
    expect(after.alerts).toEqual([]);
    expect(after.remove.length).toBe(first.put.length);
  });

  it('validation names the field: a rule needs a reason and a selector; dates and codes are checked', () => {
    const problems = (mutelist: unknown) => {
      try {
        parseConfig({ mutelist });
        return [];
      } catch (error) {
        return error instanceof ConfigError ? error.problems : [String(error)];
      }
    };
    expect(problems([{ codes: ['ENDPOINT_MISSING'] }])).toEqual([
      expect.stringMatching(/^mutelist\.0\.reason: /),
    ]);
    expect(problems([{ reason: 'everything' }])).toEqual([
      expect.stringContaining('mutelist.0: a rule needs at least one of'),
    ]);
    expect(problems([{ reason: 'r', codes: ['NOPE'] }])).toEqual([
      expect.stringMatching(/^mutelist\.0\.codes\.0: /),
    ]);
    expect(problems([{ reason: 'r', codes: ['VPC_DNS_DISABLED'], expires: '2026-13-45' }])).toEqual([
      'mutelist.0.expires: expected a real date',
    ]);
    expect(problems([{ reason: 'r', vpcIds: ['vpc-1'], colour: 'red' }])).toEqual([
      expect.stringMatching(/^mutelist\.0: Unrecognized key/),
    ]);
  });
});
