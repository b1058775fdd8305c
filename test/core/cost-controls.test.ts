import { describe, expect, it } from 'vitest';
import { account, actionsOf, findingsOf, planOf } from './fixtures.ts';

/** EC2 capacity in two AZs: behind a NAT (`medium` findings) or isolated (`high`). */
function ec2Vpc(a = account(), egress: 'none' | 'nat' = 'nat') {
  const vpc = a.vpc({ egress });
  a.containerInstance(a.subnet(vpc, { az: 'a' }));
  a.containerInstance(a.subnet(vpc, { az: 'b' }));
  return { a, vpc };
}

describe('costs under the operator’s control', () => {
  it('remediation.minSeverity high: medium findings are reported with their fix disabled; high ones are fixed', () => {
    const a = account();
    const { vpc: natVpc } = ec2Vpc(a, 'nat');
    const { vpc: isolated } = ec2Vpc(a, 'none');
    const plan = planOf(a.snapshot(), { remediation: { minSeverity: 'high' } });
    const nat = findingsOf(plan, 'ENDPOINT_MISSING').filter((f) => f.vpcId === natVpc);
    expect(nat.length).toBeGreaterThan(0);
    for (const finding of nat) {
      expect(finding.severity).toBe('medium');
      expect(finding.remediation).toEqual({
        status: 'disabled',
        actionIds: [],
        reason: 'remediation.minSeverity is high: a medium finding is reported, not fixed',
      });
    }
    const creates = actionsOf(plan, 'CREATE_ENDPOINT');
    expect(creates.length).toBeGreaterThan(0);
    expect(creates.every((action) => action.vpcId === isolated)).toBe(true);
    // The default fixes both.
    expect(new Set(actionsOf(planOf(a.snapshot()), 'CREATE_ENDPOINT').map((x) => x.vpcId))).toEqual(
      new Set([natVpc, isolated]),
    );
  });

  it('a monthly cost budget per run and per VPC defers the fixes past it, worst first, with the reason', () => {
    const a = account();
    const { vpc: natVpc } = ec2Vpc(a, 'nat');
    const { vpc: isolated } = ec2Vpc(a, 'none');
    const caps = { maxEndpointsCreatedPerRun: 100, maxActionsPerRun: 100 };
    // Each interface endpoint in two AZs: 2 x $0.01 x 730 h = $14.60 a month.
    const run = planOf(a.snapshot(), { limits: { ...caps, maxAddedMonthlyCostUsdPerRun: 30 } });
    const planned = actionsOf(run, 'CREATE_ENDPOINT').filter((x) => x.status === 'planned');
    expect(planned.map((x) => x.vpcId)).toEqual([isolated, isolated]);
    expect(run.stats.estimatedMonthlyCostUsd).toBe(29.2);
    const deferred = actionsOf(run, 'CREATE_ENDPOINT').filter((x) => x.status === 'deferred');
    expect(deferred.some((x) => x.vpcId === natVpc)).toBe(true);
    expect(
      deferred.every((x) =>
        /^(limits\.maxAddedMonthlyCostUsdPerRun \(\$30\.00\) reached|waits for)/.test(x.deferredReason ?? ''),
      ),
    ).toBe(true);
    const perVpc = planOf(a.snapshot(), { limits: { ...caps, maxAddedMonthlyCostUsdPerVpc: 15 } });
    const byVpc = (vpcId: string) =>
      actionsOf(perVpc, 'CREATE_ENDPOINT').filter((x) => x.vpcId === vpcId && x.status === 'planned').length;
    expect([byVpc(isolated), byVpc(natVpc)]).toEqual([1, 1]);
    expect(actionsOf(perVpc, 'CREATE_ENDPOINT').find((x) => x.status === 'deferred')?.deferredReason).toMatch(
      /limits\.maxAddedMonthlyCostUsdPerVpc \(\$15\.00\) reached|waits for/,
    );
  });
});
