/**
 * Properties of the whole decision over arbitrary accounts: convergence, safety, determinism,
 * well-formed plans, the DNS blocker and the caps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { isManaged } from '../../core/actions.ts';
import type { Plan } from '../../core/plan.ts';
import type { BuiltAccount, ConfigSpec } from './arbitraries.ts';
import { accountSpec, buildAccount, configOf, configSpec } from './arbitraries.ts';
import { NOW, planOf } from './fixtures.ts';
import { applyPlan } from './simulate.ts';

const HIGH = { maxEndpointsCreatedPerRun: 10_000, maxActionsPerRun: 10_000 };
/** `FC_RUNS=5000 npx vitest run --project unit test/core/properties.test.ts` digs deeper. */
const BASE_RUNS = Number(process.env.FC_RUNS ?? 100);
const RUNS = { numRuns: BASE_RUNS };

const scenario = fc.record({ account: accountSpec, config: configSpec });

function planFor(built: BuiltAccount, spec: ConfigSpec, limits = HIGH, snapshots = built.snapshots): Plan {
  return planOf(snapshots, configOf(spec, built.vpcIds, limits), NOW);
}

/** The VPCs the plan may touch, decided from the spec rather than by the core. */
function touchable(built: BuiltAccount, spec: ConfigSpec): Set<string> {
  const config = configOf(spec, built.vpcIds, HIGH);
  return new Set(
    built.vpcs
      .filter(
        (vpc) =>
          vpc.hasEcsWork &&
          !vpc.ignored &&
          !config.scope.excludeVpcIds.includes(vpc.vpcId) &&
          (config.scope.includeVpcIds.length === 0 || config.scope.includeVpcIds.includes(vpc.vpcId)),
      )
      .map((vpc) => `${vpc.region}/${vpc.vpcId}`),
  );
}

describe('properties', { timeout: Math.max(30_000, BASE_RUNS * 20) }, () => {
  it('(a) applying the plan, then planning again, leaves nothing to do', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const built = buildAccount(account);
        const first = planFor(built, config);
        expect(first.actions.every((action) => action.status === 'planned')).toBe(true);
        const after = applyPlan(built.snapshots, first);
        const second = planFor(built, config, HIGH, after);
        expect(second.actions.map((action) => action.id)).toEqual([]);
        for (const finding of second.findings)
          expect(finding.remediation.status, finding.id).not.toBe('planned');
      }),
      RUNS,
    );
  });

  it('(a″) applying the plan makes no new finding appear', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const built = buildAccount(account);
        const first = planFor(built, config);
        const second = planFor(built, config, HIGH, applyPlan(built.snapshots, first));
        const before = new Set(first.findings.map((finding) => finding.id));
        expect(second.findings.map((finding) => finding.id).filter((id) => !before.has(id))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('(a′) with small caps, repeated runs converge and never exceed the caps', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        ({ account, config }, maxEndpointsCreatedPerRun, maxActionsPerRun) => {
          const built = buildAccount(account);
          const limits = { maxEndpointsCreatedPerRun, maxActionsPerRun };
          let snapshots = built.snapshots;
          for (let round = 0; round < 200; round += 1) {
            const plan = planFor(built, config, limits, snapshots);
            const planned = plan.actions.filter((action) => action.status === 'planned');
            expect(planned.length).toBeLessThanOrEqual(maxActionsPerRun);
            if (plan.actions.length === 0) return;
            expect(planned.length, `round ${String(round)} makes no progress`).toBeGreaterThan(0);
            snapshots = applyPlan(snapshots, plan);
          }
          throw new Error('no convergence in 200 runs');
        },
      ),
      { numRuns: Math.ceil(BASE_RUNS / 2) },
    );
  });

  it('(b) nothing outside scope, or without ECS work, is touched; nothing not owned is deleted unless "any"', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const built = buildAccount(account);
        const plan = planFor(built, config);
        const allowed = touchable(built, config);
        for (const action of plan.actions)
          expect(allowed, action.id).toContain(`${action.region}/${action.vpcId}`);
        for (const finding of plan.findings)
          expect(allowed, finding.id).toContain(`${finding.region}/${finding.vpcId}`);
        const endpoints = new Map(
          built.snapshots.flatMap((s) => s.endpoints).map((e) => [e.vpcEndpointId, e]),
        );
        for (const action of plan.actions) {
          if (action.kind !== 'DELETE_ENDPOINT') continue;
          expect(config.deleteWrongRegionEndpoints).not.toBe('never');
          const endpoint = endpoints.get(action.vpcEndpointId);
          expect(endpoint, action.id).toBeDefined();
          if (config.deleteWrongRegionEndpoints === 'owned')
            expect(isManaged(endpoint?.tags ?? {})).toBe(true);
          // Only endpoints of another Region are ever deleted.
          expect(endpoint?.serviceName).not.toContain(`.${action.region}.`);
        }
      }),
      RUNS,
    );
  });

  it('(b′) with the default config nothing is ever deleted', () => {
    fc.assert(
      fc.property(accountSpec, (spec) => {
        const built = buildAccount(spec);
        const plan = planOf(built.snapshots, {}, NOW);
        expect(plan.actions.filter((action) => action.kind === 'DELETE_ENDPOINT')).toEqual([]);
      }),
      RUNS,
    );
  });

  it('(c) the plan is deterministic and survives a JSON round trip', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const one = planFor(buildAccount(account), config);
        const two = planFor(buildAccount(account), config);
        expect(two).toStrictEqual(one);
        expect(JSON.parse(JSON.stringify(one))).toStrictEqual(one);
      }),
      RUNS,
    );
  });

  it('(d) dependencies point backwards; ids are unique; every referenced id exists', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const plan = planFor(buildAccount(account), config);
        const seen = new Set<string>();
        const findingIds = new Set(plan.findings.map((finding) => finding.id));
        expect(findingIds.size).toBe(plan.findings.length);
        for (const action of plan.actions) {
          for (const dependency of action.dependsOn)
            expect(seen, `${action.id} → ${dependency}`).toContain(dependency);
          for (const fixed of action.fixes)
            expect(findingIds, `${action.id} fixes ${fixed}`).toContain(fixed);
          expect(seen).not.toContain(action.id);
          seen.add(action.id);
        }
        for (const finding of plan.findings) {
          for (const id of finding.remediation.actionIds) expect(seen, `${finding.id} → ${id}`).toContain(id);
          if (finding.remediation.status === 'planned' || finding.remediation.status === 'deferred') {
            expect(finding.remediation.actionIds.length, finding.id).toBeGreaterThan(0);
          } else {
            expect(finding.remediation.actionIds, finding.id).toEqual([]);
          }
          expect(finding.message).not.toContain('\n');
        }
      }),
      RUNS,
    );
  });

  it('(d′) everything the plan creates carries the managed tag and a Name', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const plan = planFor(buildAccount(account), config);
        for (const action of plan.actions) {
          if (
            action.kind === 'CREATE_ENDPOINT' ||
            action.kind === 'CREATE_GATEWAY_ENDPOINT' ||
            action.kind === 'CREATE_SECURITY_GROUP'
          ) {
            expect(isManaged(action.tags), action.id).toBe(true);
            expect(action.tags.Name, action.id).toBeTruthy();
          }
        }
      }),
      RUNS,
    );
  });

  it('(e) with VPC DNS off and enableVpcDnsAttributes false, nothing needing private DNS is planned there', () => {
    fc.assert(
      fc.property(scenario, ({ account, config }) => {
        const built = buildAccount(account);
        const spec = { ...config, enableVpcDnsAttributes: false };
        const plan = planFor(built, spec);
        const off = new Set(
          built.vpcs.filter((vpc) => vpc.dnsOff).map((vpc) => `${vpc.region}/${vpc.vpcId}`),
        );
        for (const action of plan.actions) {
          if (!off.has(`${action.region}/${action.vpcId}`)) continue;
          expect(action.kind, action.id).not.toBe('CREATE_ENDPOINT');
          expect(action.kind, action.id).not.toBe('ENABLE_VPC_DNS');
          if (action.kind === 'MODIFY_ENDPOINT') expect(action.enablePrivateDns, action.id).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('(f) the caps are never exceeded and nothing planned waits for something deferred', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 12 }),
        ({ account, config }, maxEndpointsCreatedPerRun, maxActionsPerRun) => {
          const plan = planFor(buildAccount(account), config, {
            maxEndpointsCreatedPerRun,
            maxActionsPerRun,
          });
          const planned = plan.actions.filter((action) => action.status === 'planned');
          const creates = planned.filter(
            (a) => a.kind === 'CREATE_ENDPOINT' || a.kind === 'CREATE_GATEWAY_ENDPOINT',
          );
          expect(planned.length).toBeLessThanOrEqual(maxActionsPerRun);
          expect(creates.length).toBeLessThanOrEqual(maxEndpointsCreatedPerRun);
          expect(plan.stats.actions).toBe(planned.length);
          expect(plan.stats.endpointsToCreate).toBe(creates.length);
          expect(plan.stats.deferredActions).toBe(plan.actions.length - planned.length);
          const plannedIds = new Set(planned.map((action) => action.id));
          for (const action of planned) {
            for (const dependency of action.dependsOn)
              expect(plannedIds, `${action.id} → ${dependency}`).toContain(dependency);
          }
          for (const action of plan.actions) {
            if (action.status === 'deferred') expect(action.deferredReason, action.id).toBeTruthy();
          }
        },
      ),
      RUNS,
    );
  });
});
