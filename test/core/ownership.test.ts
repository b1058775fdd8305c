/**
 * Ownership from data: with `RegionSnapshot.ownedResourceIds` (the deployed remediator's records) an
 * endpoint or group is the remediator's only when tagged and recorded; without them (the CLI) the
 * managed tag alone decides. A tagged resource without a record is remediated like an unowned one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { isManaged } from '../../core/actions.ts';
import type { RegionSnapshot } from '../../core/model.ts';
import { MANAGED_GROUP_NAME, ownershipOf } from '../../core/planner.ts';
import { fnv1a64 } from '../../core/hash.ts';
import { accountSpec, buildAccount, configOf, configSpec } from './arbitraries.ts';
import {
  MANAGED_TAGS,
  NOW,
  OTHER_REGION,
  account,
  actionOf,
  actionsOf,
  findingOf,
  https,
  planOf,
} from './fixtures.ts';

const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 100) };

const recorded = (snapshot: RegionSnapshot, ids: readonly string[]): RegionSnapshot => ({
  ...snapshot,
  ownedResourceIds: ids,
});

/** EC2 capacity in AZs a and b behind a NAT: needs the ECS trio. */
function ec2Vpc() {
  const a = account();
  const vpc = a.vpc({ egress: 'nat' });
  const subA = a.subnet(vpc, { az: 'a' });
  const subB = a.subnet(vpc, { az: 'b' });
  a.containerInstance(subA);
  a.containerInstance(subB);
  return { a, vpc, subA, subB };
}

const denyAll = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }],
});

describe('ownershipOf', () => {
  it('without records the tag decides; with records it takes tag and record', () => {
    const tagged = MANAGED_TAGS;
    expect(ownershipOf('vpce-1', tagged, undefined)).toBe('owned');
    expect(ownershipOf('vpce-1', {}, undefined)).toBe('not-tagged');
    expect(ownershipOf('vpce-1', tagged, new Set(['vpce-1']))).toBe('owned');
    expect(ownershipOf('vpce-1', tagged, new Set())).toBe('not-recorded');
    expect(ownershipOf('vpce-1', tagged, new Set(['vpce-2']))).toBe('not-recorded');
    // Recorded, but someone removed the tag: hands off as well.
    expect(ownershipOf('vpce-1', {}, new Set(['vpce-1']))).toBe('not-tagged');
    expect(ownershipOf('vpce-1', { 'ecs-endpoint-remediator/managed': 'false' }, new Set(['vpce-1']))).toBe(
      'not-tagged',
    );
  });
});

describe('a wrong-Region endpoint tagged as managed', () => {
  function wrongRegion() {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    const wrong = a.endpoint(vpc, 'ecs', { region: OTHER_REGION, managed: true });
    return { snapshot: a.snapshot(), wrong };
  }

  it('is deleted when recorded ("owned")', () => {
    const { snapshot, wrong } = wrongRegion();
    const plan = planOf(recorded(snapshot, [wrong]), {
      remediation: { deleteWrongRegionEndpoints: 'owned' },
    });
    expect(actionOf(plan, 'DELETE_ENDPOINT').vpcEndpointId).toBe(wrong);
  });

  it('is deleted on its tag alone without records (the CLI)', () => {
    const { snapshot, wrong } = wrongRegion();
    const plan = planOf(snapshot, { remediation: { deleteWrongRegionEndpoints: 'owned' } });
    expect(actionOf(plan, 'DELETE_ENDPOINT').vpcEndpointId).toBe(wrong);
  });

  it('without a record is never deleted, in "owned" nor "any", and the reason says why', () => {
    const { snapshot, wrong } = wrongRegion();
    const owned = planOf(recorded(snapshot, []), { remediation: { deleteWrongRegionEndpoints: 'owned' } });
    expect(actionsOf(owned, 'DELETE_ENDPOINT')).toEqual([]);
    const finding = findingOf(owned, 'ENDPOINT_WRONG_REGION');
    expect(finding.remediation.status).toBe('disabled');
    expect(finding.remediation.reason).toContain(
      `${wrong} carries the ecs-endpoint-remediator/managed=true tag`,
    );
    expect(finding.remediation.reason).toContain('no record of creating it');
    expect(finding.remediation.reason).toContain('"owned"');

    const any = planOf(recorded(snapshot, []), { remediation: { deleteWrongRegionEndpoints: 'any' } });
    expect(actionsOf(any, 'DELETE_ENDPOINT')).toEqual([]);
    expect(findingOf(any, 'ENDPOINT_WRONG_REGION').remediation).toMatchObject({
      status: 'manual',
      reason: expect.stringContaining('never deleted') as unknown,
    });
  });

  it('an untagged one is still deleted with "any" (records change only what the tag claimed)', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    const wrong = a.endpoint(vpc, 'ecs', { region: OTHER_REGION });
    const plan = planOf(recorded(a.snapshot(), []), { remediation: { deleteWrongRegionEndpoints: 'any' } });
    expect(actionOf(plan, 'DELETE_ENDPOINT').vpcEndpointId).toBe(wrong);
  });
});

describe('an endpoint policy that denies the work', () => {
  function denied() {
    const { a, vpc } = ec2Vpc();
    const agent = a.endpoint(vpc, 'ecs-agent', { managed: true, policy: denyAll });
    a.endpoints(vpc, ['ecs-telemetry', 'ecs']);
    return { snapshot: a.snapshot(), agent };
  }
  const reset = { remediation: { resetOwnedEndpointPolicies: true } };

  it('is reset on a recorded endpoint', () => {
    const { snapshot, agent } = denied();
    const plan = planOf(recorded(snapshot, [agent]), reset);
    expect(actionOf(plan, 'MODIFY_ENDPOINT', 'ecs-agent')).toMatchObject({
      vpcEndpointId: agent,
      resetPolicy: true,
    });
  });

  it('is never reset on a tagged endpoint without a record: manual, saying why', () => {
    const { snapshot, agent } = denied();
    const plan = planOf(recorded(snapshot, []), reset);
    expect(actionsOf(plan, 'MODIFY_ENDPOINT').filter((m) => m.resetPolicy)).toEqual([]);
    const finding = findingOf(plan, 'ENDPOINT_POLICY_DENIES', 'ecs-agent');
    expect(finding.remediation.status).toBe('manual');
    expect(finding.remediation.reason).toContain(
      `${agent} carries the ecs-endpoint-remediator/managed=true tag`,
    );
    expect(finding.remediation.reason).toContain('its policy is never changed');
  });
});

describe('a tagged endpoint without a record gets what any endpoint not the remediator’s gets', () => {
  it('its missing AZ and private DNS are added, and the recorded managed group attached', () => {
    const { a, vpc, subA } = ec2Vpc();
    const group = a.managedGroup(vpc, [https('10.0.0.0/8')]);
    const narrow = a.securityGroup(vpc);
    const agent = a.endpoint(vpc, 'ecs-agent', {
      managed: true,
      subnets: [subA],
      privateDns: false,
      groups: [narrow],
    });
    a.endpoints(vpc, ['ecs-telemetry', 'ecs']);
    const plan = planOf(recorded(a.snapshot(), [group]));
    const modify = actionOf(plan, 'MODIFY_ENDPOINT', 'ecs-agent');
    expect(modify).toMatchObject({
      vpcEndpointId: agent,
      enablePrivateDns: true,
      addSecurityGroups: [{ groupId: group }],
    });
    expect(modify.addSubnetIds).toHaveLength(1);
    expect(modify.resetPolicy).toBeUndefined();
  });
});

describe('the managed security group', () => {
  it('a recorded one is used, and given the rules it lacks', () => {
    const { a, vpc } = ec2Vpc();
    const group = a.managedGroup(vpc);
    const plan = planOf(recorded(a.snapshot(), [group]));
    expect(actionOf(plan, 'AUTHORIZE_SECURITY_GROUP_INGRESS').groupId).toBe(group);
    expect(actionsOf(plan, 'CREATE_ENDPOINT').map((c) => c.securityGroups)).toEqual([
      [{ groupId: group }],
      [{ groupId: group }],
      [{ groupId: group }],
    ]);
    expect(actionsOf(plan, 'CREATE_SECURITY_GROUP')).toEqual([]);
  });

  it('a tagged one without a record holding its name is neither changed nor used; what needs it is manual, saying why', () => {
    const { a, vpc } = ec2Vpc();
    const group = a.managedGroup(vpc);
    const plan = planOf(recorded(a.snapshot(), []));
    expect(plan.actions.map((action) => action.kind)).toEqual([]);
    const missing = plan.findings.filter((finding) => finding.code === 'ENDPOINT_MISSING');
    expect(missing).toHaveLength(3);
    for (const finding of missing) {
      expect(finding.remediation.status).toBe('manual');
      expect(finding.remediation.reason).toContain(`security group ${group} holds the managed group's name`);
      expect(finding.remediation.reason).toContain('no record of creating it');
      expect(finding.remediation.reason).toContain('adopt the group');
    }
  });

  it('a tagged one without a record under another name is ignored: the remediator makes its own', () => {
    const { a, vpc } = ec2Vpc();
    const other = a.securityGroup(vpc, {
      name: 'team-endpoints',
      managed: true,
      ingress: [https('0.0.0.0/0')],
    });
    const plan = planOf(recorded(a.snapshot(), []));
    const create = actionOf(plan, 'CREATE_SECURITY_GROUP');
    expect(create.groupName).toBe(MANAGED_GROUP_NAME);
    expect(JSON.stringify(plan.actions)).not.toContain(other);
  });

  it('without records (the CLI) a tagged group of that name is the managed group, as before', () => {
    const { a, vpc } = ec2Vpc();
    const group = a.managedGroup(vpc);
    const plan = planOf(a.snapshot());
    expect(actionOf(plan, 'AUTHORIZE_SECURITY_GROUP_INGRESS').groupId).toBe(group);
  });
});

/** A deterministic subset of `ids`, drawn by `seed`. */
function subset(ids: readonly string[], seed: number): string[] {
  return ids.filter((id) => BigInt(`0x${fnv1a64(`${seed}|${id}`)}`) % 2n === 0n);
}

const taggedIds = (snapshot: RegionSnapshot): string[] => [
  ...snapshot.endpoints.filter((e) => isManaged(e.tags)).map((e) => e.vpcEndpointId),
  ...snapshot.securityGroups.filter((g) => isManaged(g.tags)).map((g) => g.groupId),
];

describe('over arbitrary accounts', () => {
  it('recording every tagged resource plans exactly what the tag alone plans', () => {
    fc.assert(
      fc.property(accountSpec, configSpec, (spec, configSpecValue) => {
        const built = buildAccount(spec);
        const config = configOf(configSpecValue, built.vpcIds, {
          maxEndpointsCreatedPerRun: 10_000,
          maxActionsPerRun: 10_000,
        });
        const byTag = planOf(built.snapshots, config, NOW);
        const byRecord = planOf(
          built.snapshots.map((s) => recorded(s, taggedIds(s))),
          config,
          NOW,
        );
        expect(byRecord).toEqual(byTag);
      }),
      RUNS,
    );
  });

  it('whatever is recorded, nothing unrecorded is deleted, reset, given rules or attached as the managed group', () => {
    fc.assert(
      fc.property(accountSpec, configSpec, fc.nat(), (spec, configSpecValue, seed) => {
        const built = buildAccount(spec);
        const config = {
          ...configOf(configSpecValue, built.vpcIds, {
            maxEndpointsCreatedPerRun: 10_000,
            maxActionsPerRun: 10_000,
          }),
        };
        const snapshots = built.snapshots.map((s) => recorded(s, subset(taggedIds(s), seed)));
        const owned = new Set(snapshots.flatMap((s) => s.ownedResourceIds ?? []));
        const tagged = new Set(snapshots.flatMap(taggedIds));
        for (const resetPolicies of [false, true]) {
          const plan = planOf(
            snapshots,
            { ...config, remediation: { ...config.remediation, resetOwnedEndpointPolicies: resetPolicies } },
            NOW,
          );
          for (const action of plan.actions) {
            if (action.kind === 'DELETE_ENDPOINT' && tagged.has(action.vpcEndpointId))
              expect(owned.has(action.vpcEndpointId), action.id).toBe(true);
            if (action.kind === 'MODIFY_ENDPOINT' && action.resetPolicy)
              expect(owned.has(action.vpcEndpointId), action.id).toBe(true);
            if (action.kind === 'AUTHORIZE_SECURITY_GROUP_INGRESS')
              expect(owned.has(action.groupId), action.id).toBe(true);
            const refs =
              action.kind === 'CREATE_ENDPOINT'
                ? action.securityGroups
                : action.kind === 'MODIFY_ENDPOINT'
                  ? action.addSecurityGroups
                  : [];
            for (const ref of refs)
              if ('groupId' in ref) expect(owned.has(ref.groupId), action.id).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });
});
