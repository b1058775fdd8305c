/**
 * Blast-radius caps, deferral, cost and stats.
 */
import { describe, expect, it } from 'vitest';

import { account, actionOf, actionsOf, ecrImage, findingOf, planOf } from './fixtures.ts';

/** EC2 capacity in AZs a, b, c with egress: the ECS trio to create, in three AZs each. */
function trioVpc(a = account(), egress: 'nat' | 'none' = 'nat') {
  const vpc = a.vpc({ egress });
  for (const az of ['a', 'b', 'c']) a.containerInstance(a.subnet(vpc, { az }));
  return { a, vpc };
}

describe('maxEndpointsCreatedPerRun', () => {
  it('defers the endpoints past the cap, and what waits for them', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 1 } });
    const [agent, telemetry, ecs] = actionsOf(plan, 'CREATE_ENDPOINT');
    expect(agent?.status).toBe('planned');
    expect(telemetry?.status).toBe('deferred');
    expect(telemetry?.deferredReason).toContain('maxEndpointsCreatedPerRun');
    expect(ecs?.status).toBe('deferred');
    expect(ecs?.deferredReason).toMatch(/maxEndpointsCreatedPerRun|waits for/);
    expect(actionOf(plan, 'CREATE_SECURITY_GROUP').status).toBe('planned');
  });

  it('marks the findings of deferred actions deferred, with the reason', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 1 } });
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'ecs-agent').remediation.status).toBe('planned');
    const telemetry = findingOf(plan, 'ENDPOINT_MISSING', 'ecs-telemetry').remediation;
    expect(telemetry.status).toBe('deferred');
    expect(telemetry.reason).toContain('maxEndpointsCreatedPerRun');
    expect(telemetry.actionIds).toEqual([actionOf(plan, 'CREATE_ENDPOINT', 'ecs-telemetry').id]);
  });

  it('counts gateway endpoints too', () => {
    const a = account();
    const vpc = a.vpc();
    a.fargateService([a.subnet(vpc)], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.endpoints(vpc, ['ecr.api', 'ecr.dkr']);
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 0 } });
    expect(actionOf(plan, 'CREATE_GATEWAY_ENDPOINT').status).toBe('deferred');
  });

  it('is over all Regions and VPCs of the run', () => {
    const east = trioVpc(account('us-east-1'));
    const west = trioVpc(account('eu-west-1', 0x100));
    const plan = planOf([east.a.snapshot(), west.a.snapshot()], { limits: { maxEndpointsCreatedPerRun: 4 } });
    const planned = actionsOf(plan, 'CREATE_ENDPOINT').filter((action) => action.status === 'planned');
    expect(planned).toHaveLength(4);
  });

  it('modifying an endpoint is not creating one', () => {
    const { a, vpc } = trioVpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry']);
    a.endpoint(vpc, 'ecs', { privateDns: false });
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 0 } });
    expect(actionOf(plan, 'MODIFY_ENDPOINT').status).toBe('planned');
  });
});

describe('maxActionsPerRun', () => {
  it('defers every action past the cap; dependents say what they wait for', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot(), { limits: { maxActionsPerRun: 1 } });
    expect(plan.actions.map((action) => [action.kind, action.status])).toEqual([
      ['CREATE_SECURITY_GROUP', 'planned'],
      ['CREATE_ENDPOINT', 'deferred'],
      ['CREATE_ENDPOINT', 'deferred'],
      ['CREATE_ENDPOINT', 'deferred'],
      // The agent restart waits for the ECS endpoints, so it is deferred with them.
      ['RESTART_AGENT', 'deferred'],
    ]);
    expect(plan.actions[1]?.deferredReason).toContain('maxActionsPerRun');
  });

  it('with 0, nothing is planned and the stats say so', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot(), { limits: { maxActionsPerRun: 0 } });
    expect(plan.actions.every((action) => action.status === 'deferred')).toBe(true);
    expect(plan.actions.every((action) => (action.deferredReason ?? '').length > 0)).toBe(true);
    expect(plan.stats).toMatchObject({
      actions: 0,
      deferredActions: 5,
      endpointsToCreate: 0,
      estimatedMonthlyCostUsd: 0,
    });
    expect(plan.findings.every((finding) => finding.remediation.status === 'deferred')).toBe(true);
  });

  it('a dependent of a deferred action is deferred even when the cap would admit it', () => {
    const { a } = trioVpc();
    // Room for the group and ecs-agent; ecs-telemetry hits the endpoint cap; ecs waits for it.
    const plan = planOf(a.snapshot(), { limits: { maxActionsPerRun: 10, maxEndpointsCreatedPerRun: 1 } });
    const ecs = actionOf(plan, 'CREATE_ENDPOINT', 'ecs');
    expect(ecs.status).toBe('deferred');
    expect(ecs.deferredReason).toContain(actionOf(plan, 'CREATE_ENDPOINT', 'ecs-telemetry').id);
  });

  it('the VPCs with the worst findings go first', () => {
    const a = account();
    const calm = trioVpc(a, 'nat').vpc; // medium, lower id
    const broken = trioVpc(a, 'none').vpc; // high
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 1 } });
    const planned = actionsOf(plan, 'CREATE_ENDPOINT').filter((action) => action.status === 'planned');
    expect(planned.map((action) => action.vpcId)).toEqual([broken]);
    expect(plan.actions[0]?.vpcId).toBe(broken);
    expect(plan.actions.some((action) => action.vpcId === calm)).toBe(true);
  });
});

describe('cost and stats', () => {
  it('an endpoint costs hourly price × hours per month × its AZs', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot());
    for (const create of actionsOf(plan, 'CREATE_ENDPOINT'))
      expect(create.monthlyCostUsd).toBeCloseTo(0.01 * 730 * 3, 2);
    expect(plan.stats.estimatedMonthlyCostUsd).toBeCloseTo(3 * 21.9, 2);
  });

  it('follows the configured pricing', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot(), { pricing: { interfaceEndpointHourlyUsd: 0.011, hoursPerMonth: 720 } });
    expect(actionOf(plan, 'CREATE_ENDPOINT', 'ecs').monthlyCostUsd).toBeCloseTo(0.011 * 720 * 3, 2);
  });

  it('adding AZs to an endpoint costs those AZs; gateways and groups cost nothing', () => {
    const a = account();
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    const subC = a.subnet(vpc, { az: 'c' });
    a.fargateService([subA, subB, subC], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.endpoint(vpc, 'ecr.api', { subnets: [subA] });
    a.endpoint(vpc, 'ecr.dkr');
    const plan = planOf(a.snapshot());
    expect(actionOf(plan, 'MODIFY_ENDPOINT').monthlyCostUsd).toBeCloseTo(2 * 7.3, 2);
    expect(plan.stats.estimatedMonthlyCostUsd).toBeCloseTo(14.6, 2);
  });

  it('counts only planned actions in the cost', () => {
    const { a } = trioVpc();
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 1 } });
    expect(plan.stats.estimatedMonthlyCostUsd).toBeCloseTo(21.9, 2);
    expect(plan.stats).toMatchObject({ endpointsToCreate: 1, actions: 2, deferredActions: 3 });
  });

  it('summarises findings and actions', () => {
    const { a } = trioVpc(account(), 'none');
    const plan = planOf(a.snapshot());
    // Six missing endpoints, and the agent restart the ECS three make due on the VPC's instances.
    const instances = plan.vpcs[0]?.containerInstances ?? 0;
    expect(plan.stats).toMatchObject({
      findings: 6 + instances,
      findingsBySeverity: { high: 6 + instances, medium: 0, low: 0 },
      findingsByCode: { ENDPOINT_MISSING: 6, AGENT_RESTART_REQUIRED: instances },
      actions: 8,
      actionsByKind: { CREATE_SECURITY_GROUP: 1, CREATE_ENDPOINT: 6, RESTART_AGENT: 1 },
      deferredActions: 0,
      endpointsToCreate: 6,
    });
  });
});
