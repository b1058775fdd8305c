/**
 * The AWS model the properties rely on: it must apply what a plan says and refuse what AWS refuses.
 */
import { describe, expect, it } from 'vitest';

import type { Plan } from '../../core/plan.ts';
import { OTHER_REGION, account, actionOf, ecrImage, planOf } from './fixtures.ts';
import { SimulationError, applyPlan } from './simulate.ts';

function isolatedEc2() {
  const a = account();
  const vpc = a.vpc();
  const subA = a.subnet(vpc, { az: 'a' });
  const subB = a.subnet(vpc, { az: 'b' });
  a.containerInstance(subA);
  a.fargateService([subB], { taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }) });
  return { a, vpc, subA, subB };
}

describe('applyPlan', () => {
  it('creates what the plan creates: endpoints with their subnets, the new group, tags and private DNS', () => {
    const { a, vpc, subA, subB } = isolatedEc2();
    const snapshot = a.snapshot();
    const plan = planOf(snapshot);
    const [after] = applyPlan(snapshot, plan);
    const created = after?.endpoints ?? [];
    expect(created.map((endpoint) => endpoint.serviceName.split('.').slice(3).join('.')).sort()).toEqual(
      [
        'ec2messages',
        'ecr.api',
        'ecr.dkr',
        'ecs',
        'ecs-agent',
        'ecs-telemetry',
        'logs',
        's3',
        'ssm',
        'ssmmessages',
      ].sort(),
    );
    const group = after?.securityGroups.find((candidate) => candidate.vpcId === vpc);
    expect(group?.tags['ecs-endpoint-remediator/managed']).toBe('true');
    for (const endpoint of created.filter((candidate) => candidate.type === 'Interface')) {
      expect(endpoint).toMatchObject({
        state: 'available',
        privateDnsEnabled: true,
        securityGroupIds: [group?.groupId],
      });
      // Each endpoint sits in the AZs of the interfaces that call it: the hosts' for the agent's own
      // endpoints, the Fargate tasks' for image pulls and logs.
      const host = ['ecs-agent', 'ecs-telemetry', 'ecs', 'ssm', 'ssmmessages', 'ec2messages'];
      expect(endpoint.subnetIds).toEqual(
        host.some((s) => endpoint.serviceName.endsWith(`.${s}`)) ? [subA] : [subB],
      );
    }
    expect(after ? planOf(after).findings : ['no snapshot']).toEqual([]);
  });

  it('does not apply deferred actions', () => {
    const { a } = isolatedEc2();
    const snapshot = a.snapshot();
    const plan = planOf(snapshot, { limits: { maxActionsPerRun: 0 } });
    expect(applyPlan(snapshot, plan)[0]?.endpoints).toEqual([]);
  });

  it('deletes, modifies and turns on VPC DNS', () => {
    const a = account();
    const vpc = a.vpc({ dns: { hostnames: false } });
    const subA = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    a.fargateService([subA, subB], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const partial = a.endpoint(vpc, 'logs', { privateDns: false, subnets: [subA] });
    const wrong = a.endpoint(vpc, 'logs', { region: OTHER_REGION });
    const snapshot = a.snapshot();
    const plan = planOf(snapshot, {
      remediation: { enableVpcDnsAttributes: true, deleteWrongRegionEndpoints: 'any' },
    });
    const [after] = applyPlan(snapshot, plan);
    expect(after?.vpcs[0]?.dns).toMatchObject({ support: true, hostnames: true });
    expect(after?.endpoints.map((endpoint) => endpoint.vpcEndpointId)).toEqual([partial]);
    expect(after?.endpoints[0]).toMatchObject({ privateDnsEnabled: true, subnetIds: [subA, subB] });
    expect(wrong).not.toBe(partial);
  });

  describe('refuses what AWS or the plan’s contract refuses', () => {
    function tampered(edit: (plan: Plan) => Plan) {
      const { a } = isolatedEc2();
      const snapshot = a.snapshot();
      return () => applyPlan(snapshot, edit(planOf(snapshot)));
    }

    it('an action before what it depends on', () => {
      const run = tampered((plan) => ({ ...plan, actions: [...plan.actions].reverse() }));
      expect(run).toThrow(SimulationError);
      expect(run).toThrow(/depends on/);
    });

    it('two subnets of one AZ in an endpoint', () => {
      const run = tampered((plan) => {
        const create = actionOf(plan, 'CREATE_ENDPOINT', 'ecs-agent');
        const first = create.subnetIds[0] ?? '';
        return {
          ...plan,
          actions: plan.actions.map((action) =>
            action === create ? { ...create, subnetIds: [first, first] } : action,
          ),
        };
      });
      expect(run).toThrow(/DuplicateSubnetsInSameZone/);
    });

    it('private DNS in a VPC whose DNS attributes are off', () => {
      const a = account();
      const vpc = a.vpc({ dns: { support: false } });
      a.fargateService([a.subnet(vpc)], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
      const snapshot = a.snapshot();
      const plan = planOf(snapshot, { remediation: { enableVpcDnsAttributes: true } });
      const withoutDns = {
        ...plan,
        actions: plan.actions
          .filter((action) => action.kind !== 'ENABLE_VPC_DNS')
          .map((action) => ({ ...action, dependsOn: [] })),
      };
      expect(() => applyPlan(snapshot, withoutDns)).toThrow(/private DNS needs/);
    });

    it('a reference to a group no action created', () => {
      const run = tampered((plan) => ({
        ...plan,
        actions: plan.actions
          .filter((action) => action.kind !== 'CREATE_SECURITY_GROUP')
          .map((action) => ({ ...action, dependsOn: [] })),
      }));
      expect(run).toThrow(/not created/);
    });
  });
});
