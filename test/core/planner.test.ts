/**
 * From findings to actions: what is created, modified and deleted, in which order, and why not.
 */
import { describe, expect, it } from 'vitest';

import { defaultConfig, parseConfig } from '../../core/config.ts';
import { CLIENT_TOKEN_WINDOW_MS } from '../../core/planner.ts';
import { restartCandidates } from '../../core/restarts.ts';
import type { RegionSnapshot } from '../../core/model.ts';
import { analyseWorkloads } from '../../core/workloads.ts';
import {
  MANAGED_TAGS,
  NOW,
  OTHER_REGION,
  account,
  actionOf,
  actionsOf,
  createdServices,
  ecrImage,
  findingOf,
  findingsOf,
  https,
  planOf,
} from './fixtures.ts';

/** EC2 capacity in AZs a and b (no egress unless asked): needs the trio and, isolated, the Run Command three. */
function ec2Vpc(egress: 'none' | 'nat' = 'nat') {
  const a = account();
  const vpc = a.vpc({ egress });
  const subA = a.subnet(vpc, { az: 'a' });
  const subB = a.subnet(vpc, { az: 'b' });
  a.containerInstance(subA);
  a.containerInstance(subB);
  return { a, vpc, subA, subB };
}

const workloadsOf = (snapshot: RegionSnapshot) => [...analyseWorkloads(snapshot).values()];

const managedName = (service: string) => ({ ...MANAGED_TAGS, Name: `ecs-endpoint-remediator ${service}` });

describe('creating interface endpoints', () => {
  it('creates the ECS trio in the guide’s order, each waiting for the one before', () => {
    const { a, vpc } = ec2Vpc();
    const plan = planOf(a.snapshot());
    expect(createdServices(plan)).toEqual(['ecs-agent', 'ecs-telemetry', 'ecs']);
    const group = actionOf(plan, 'CREATE_SECURITY_GROUP');
    const [agent, telemetry, ecs] = actionsOf(plan, 'CREATE_ENDPOINT');
    expect(agent?.dependsOn).toEqual([group.id]);
    expect(telemetry?.dependsOn).toEqual([group.id, `CREATE_ENDPOINT/us-east-1/${vpc}/ecs-agent`]);
    expect(ecs?.dependsOn).toEqual([group.id, `CREATE_ENDPOINT/us-east-1/${vpc}/ecs-telemetry`]);
  });

  // The guide: with container instances running, create ecs-agent, ecs-telemetry, ecs in this order. When
  // ecs-telemetry already exists, ecs must still come after ecs-agent.
  it('with ecs-telemetry already there, ecs still waits for ecs-agent', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoint(vpc, 'ecs-telemetry');
    const plan = planOf(a.snapshot());
    expect(createdServices(plan)).toEqual(['ecs-agent', 'ecs']);
    expect(actionOf(plan, 'CREATE_ENDPOINT', 'ecs').dependsOn).toContain(
      `CREATE_ENDPOINT/us-east-1/${vpc}/ecs-agent`,
    );
  });

  it('a created endpoint has one subnet per workload AZ, private DNS, the managed group and the managed tags', () => {
    const a = account();
    const vpc = a.vpc();
    const subA1 = a.subnet(vpc, { az: 'a' });
    const subA2 = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    a.fargateService([subA2, subA1, subB], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const plan = planOf(a.snapshot());
    const group = actionOf(plan, 'CREATE_SECURITY_GROUP');
    const create = actionOf(plan, 'CREATE_ENDPOINT', 'logs');
    expect(create).toMatchObject({
      id: `CREATE_ENDPOINT/us-east-1/${vpc}/logs`,
      region: 'us-east-1',
      vpcId: vpc,
      serviceName: 'com.amazonaws.us-east-1.logs',
      subnetIds: [subA1, subB],
      securityGroups: [{ createdBy: group.id }],
      privateDnsEnabled: true,
      tags: managedName('logs'),
      status: 'planned',
      fixes: [findingOf(plan, 'ENDPOINT_MISSING', 'logs').id],
    });
    expect(create.summary).not.toContain('\n');
  });

  it('skips AZs the service does not offer', () => {
    const a = account();
    a.offer('logs', { azs: ['a', 'c'] });
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    a.fargateService([subA, subB], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    expect(actionOf(planOf(a.snapshot()), 'CREATE_ENDPOINT', 'logs').subnetIds).toEqual([subA]);
  });
});

describe('the managed security group', () => {
  it('is created once per VPC, allowing 443 from each workload subnet, and tagged', () => {
    const { a, vpc } = ec2Vpc('none');
    const plan = planOf(a.snapshot());
    const groups = actionsOf(plan, 'CREATE_SECURITY_GROUP');
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      vpcId: vpc,
      ingressCidrs: ['10.0.0.0/24', '10.0.1.0/24'],
      tags: { ...MANAGED_TAGS, Name: groups[0]?.groupName },
    });
    expect(plan.actions[0]?.kind).toBe('CREATE_SECURITY_GROUP');
    for (const create of actionsOf(plan, 'CREATE_ENDPOINT')) {
      expect(create.securityGroups).toEqual([{ createdBy: groups[0]?.id }]);
      expect(create.dependsOn).toContain(groups[0]?.id);
    }
  });

  it('two VPCs get a group each', () => {
    const a = account();
    const vpcs = ['a', 'b'].map((az) => {
      const vpc = a.vpc();
      a.containerInstance(a.subnet(vpc, { az }));
      return vpc;
    });
    expect(actionsOf(planOf(a.snapshot()), 'CREATE_SECURITY_GROUP').map((group) => group.vpcId)).toEqual(
      vpcs,
    );
  });

  it('a managed group left by an earlier run is reused, not created again', () => {
    const { a, vpc } = ec2Vpc();
    const existing = a.managedGroup(vpc, [https('10.0.0.0/24', '10.0.1.0/24')]);
    const plan = planOf(a.snapshot());
    expect(actionsOf(plan, 'CREATE_SECURITY_GROUP')).toEqual([]);
    expect(actionsOf(plan, 'AUTHORIZE_SECURITY_GROUP_INGRESS')).toEqual([]);
    const agent = actionOf(plan, 'CREATE_ENDPOINT', 'ecs-agent');
    expect(agent.securityGroups).toEqual([{ groupId: existing }]);
    expect(agent.dependsOn).toEqual([]);
  });

  it('a managed group missing a workload subnet gets that subnet’s CIDR authorised first', () => {
    const { a, vpc } = ec2Vpc();
    const existing = a.managedGroup(vpc, [https('10.0.0.0/24')]);
    const plan = planOf(a.snapshot());
    const authorize = actionOf(plan, 'AUTHORIZE_SECURITY_GROUP_INGRESS');
    expect(authorize).toMatchObject({ groupId: existing, ingressCidrs: ['10.0.1.0/24'] });
    expect(actionOf(plan, 'CREATE_ENDPOINT', 'ecs-agent').dependsOn).toContain(authorize.id);
  });

  it('an endpoint without a 443 rule gets the managed group attached', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry']);
    const bare = a.endpoint(vpc, 'ecs', { groups: [a.securityGroup(vpc)] });
    const plan = planOf(a.snapshot());
    const group = actionOf(plan, 'CREATE_SECURITY_GROUP');
    const modify = actionOf(plan, 'MODIFY_ENDPOINT');
    expect(modify).toMatchObject({
      vpcEndpointId: bare,
      addSecurityGroups: [{ createdBy: group.id }],
      dependsOn: [group.id],
      fixes: [findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'ecs').id],
    });
  });

  it('an endpoint that already has the managed group, lacking a rule, is fixed by authorising on the group', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry']);
    const managed = a.managedGroup(vpc, [https('10.0.0.0/24')]);
    a.endpoint(vpc, 'ecs', { groups: [managed] });
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'ecs');
    const authorize = actionOf(plan, 'AUTHORIZE_SECURITY_GROUP_INGRESS');
    expect(authorize).toMatchObject({ groupId: managed, ingressCidrs: ['10.0.1.0/24'], fixes: [finding.id] });
    expect(finding.remediation).toEqual({ status: 'planned', actionIds: [authorize.id] });
    expect(actionsOf(plan, 'MODIFY_ENDPOINT')).toEqual([]);
  });

  it('names the findings it serves: every action fixes at least one finding', () => {
    const { a } = ec2Vpc();
    const plan = planOf(a.snapshot());
    const group = actionOf(plan, 'CREATE_SECURITY_GROUP');
    expect(group.fixes.length).toBeGreaterThan(0);
    for (const action of plan.actions) expect(action.fixes.length, action.id).toBeGreaterThan(0);
  });
});

describe('modifying endpoints', () => {
  it('several problems of one endpoint make one MODIFY_ENDPOINT that fixes each', () => {
    const { a, vpc, subA, subB } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry']);
    const broken = a.endpoint(vpc, 'ecs', { privateDns: false, subnets: [subA], groups: [] });
    const plan = planOf(a.snapshot());
    const modify = actionOf(plan, 'MODIFY_ENDPOINT');
    expect(modify).toMatchObject({
      vpcEndpointId: broken,
      service: 'ecs',
      enablePrivateDns: true,
      addSubnetIds: [subB],
      addSecurityGroups: [{ createdBy: actionOf(plan, 'CREATE_SECURITY_GROUP').id }],
    });
    const fixed = ['ENDPOINT_PRIVATE_DNS_DISABLED', 'ENDPOINT_AZ_GAP', 'ENDPOINT_SG_NO_HTTPS'] as const;
    expect([...modify.fixes].sort()).toEqual(fixed.map((code) => findingOf(plan, code, 'ecs').id).sort());
    expect(modify.summary).not.toContain('\n');
  });
});

describe('the S3 gateway endpoint', () => {
  it('is created on the route tables of the workload subnets (explicit and main), tagged', () => {
    const a = account();
    const vpc = a.vpc();
    const viaMain = a.subnet(vpc, { az: 'a' });
    const viaOwn = a.subnet(vpc, { az: 'b', egress: 'nat' });
    a.subnet(vpc, { az: 'c', egress: 'igw' }); // idle: its table is not needed
    a.fargateService([viaMain, viaOwn], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    const plan = planOf(a.snapshot());
    const gateway = actionOf(plan, 'CREATE_GATEWAY_ENDPOINT');
    const snapshot = a.snapshot();
    const ownTable = snapshot.routeTables.find((table) => table.subnetIds.includes(viaOwn))?.routeTableId;
    expect([...gateway.routeTableIds].sort()).toEqual([a.mainRouteTable(vpc), ownTable].sort());
    expect(gateway).toMatchObject({
      serviceName: 'com.amazonaws.us-east-1.s3',
      tags: managedName('s3'),
      dependsOn: [],
      fixes: [findingOf(plan, 'ENDPOINT_MISSING', 's3').id],
    });
  });
});

describe('endpoints naming another Region', () => {
  function wrongRegion(owned: boolean) {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-telemetry', 'ecs']);
    const wrong = a.endpoint(vpc, 'ecs-agent', { region: OTHER_REGION, managed: owned });
    return { a, vpc, wrong };
  }

  it('are never deleted by default', () => {
    const { a } = wrongRegion(true);
    const plan = planOf(a.snapshot());
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
    const finding = findingOf(plan, 'ENDPOINT_WRONG_REGION');
    expect(finding.remediation.status).toBe('disabled');
    expect(finding.remediation.reason).toContain('deleteWrongRegionEndpoints');
  });

  it('with "owned", one not created by the remediator is kept', () => {
    const { a } = wrongRegion(false);
    const plan = planOf(a.snapshot(), { remediation: { deleteWrongRegionEndpoints: 'owned' } });
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
    expect(findingOf(plan, 'ENDPOINT_WRONG_REGION').remediation.status).toBe('disabled');
  });

  it('with "owned", the remediator’s own is deleted after its replacement is created', () => {
    const { a, wrong, vpc } = wrongRegion(true);
    const plan = planOf(a.snapshot(), { remediation: { deleteWrongRegionEndpoints: 'owned' } });
    const remove = actionOf(plan, 'DELETE_ENDPOINT');
    expect(remove).toMatchObject({
      vpcEndpointId: wrong,
      serviceName: `com.amazonaws.${OTHER_REGION}.ecs-agent`,
      dependsOn: [`CREATE_ENDPOINT/us-east-1/${vpc}/ecs-agent`],
      fixes: [findingOf(plan, 'ENDPOINT_WRONG_REGION').id],
    });
    expect(plan.actions.indexOf(remove)).toBeGreaterThan(
      plan.actions.findIndex((x) => x.kind === 'CREATE_ENDPOINT'),
    );
  });

  it('with "any", one not created by the remediator is deleted too', () => {
    const { a, wrong } = wrongRegion(false);
    const plan = planOf(a.snapshot(), { remediation: { deleteWrongRegionEndpoints: 'any' } });
    expect(actionOf(plan, 'DELETE_ENDPOINT').vpcEndpointId).toBe(wrong);
    expect(findingOf(plan, 'ENDPOINT_WRONG_REGION').remediation.status).toBe('planned');
  });

  it('a wrong-Region endpoint of a service with a healthy replacement is deleted without waiting', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    a.endpoint(vpc, 'ecs', { region: OTHER_REGION });
    const plan = planOf(a.snapshot(), { remediation: { deleteWrongRegionEndpoints: 'any' } });
    // Deleting a wrong-Region ECS endpoint changes where agents connect: a restart follows it.
    expect(plan.actions.map((action) => action.kind)).toEqual(['DELETE_ENDPOINT', 'RESTART_AGENT']);
    expect(actionOf(plan, 'DELETE_ENDPOINT').dependsOn).toEqual([]);
  });
});

describe('VPC DNS attributes off', () => {
  function dnsOff(dns: { support?: boolean; hostnames?: boolean }) {
    const a = account();
    const vpc = a.vpc({ dns });
    const subA = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    a.fargateService([subA, subB], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    const noDns = a.endpoint(vpc, 'ecr.api', { privateDns: false, subnets: [subA] });
    return { a, vpc, noDns, subB };
  }

  it('without enableVpcDnsAttributes: nothing needing private DNS is planned; the rest is', () => {
    const { a, noDns, subB } = dnsOff({ hostnames: false });
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'VPC_DNS_DISABLED').remediation.status).toBe('disabled');
    expect(findingOf(plan, 'VPC_DNS_DISABLED').remediation.reason).toContain('enableVpcDnsAttributes');
    for (const service of ['ecr.dkr', 'logs']) {
      const missing = findingOf(plan, 'ENDPOINT_MISSING', service);
      expect(missing.remediation.status).toBe('blocked');
      expect(missing.remediation.reason).toContain('VPC_DNS_DISABLED');
    }
    expect(findingOf(plan, 'ENDPOINT_PRIVATE_DNS_DISABLED', 'ecr.api').remediation.status).toBe('blocked');
    expect(actionsOf(plan, 'ENABLE_VPC_DNS')).toEqual([]);
    expect(actionsOf(plan, 'CREATE_ENDPOINT')).toEqual([]);
    // The S3 gateway needs no DNS, and a missing AZ can still be added.
    expect(actionsOf(plan, 'CREATE_GATEWAY_ENDPOINT')).toHaveLength(1);
    const modify = actionOf(plan, 'MODIFY_ENDPOINT');
    expect(modify).toMatchObject({ vpcEndpointId: noDns, enablePrivateDns: false, addSubnetIds: [subB] });
  });

  it('with enableVpcDnsAttributes: DNS is turned on first and the endpoint work waits for it', () => {
    const { a, vpc } = dnsOff({ support: false, hostnames: false });
    const plan = planOf(a.snapshot(), { remediation: { enableVpcDnsAttributes: true } });
    const enable = actionOf(plan, 'ENABLE_VPC_DNS');
    expect(plan.actions[0]).toBe(enable);
    expect(enable).toMatchObject({
      vpcId: vpc,
      attributes: ['enableDnsSupport', 'enableDnsHostnames'],
      fixes: [findingOf(plan, 'VPC_DNS_DISABLED').id],
    });
    for (const create of actionsOf(plan, 'CREATE_ENDPOINT')) expect(create.dependsOn).toContain(enable.id);
    expect(actionOf(plan, 'MODIFY_ENDPOINT')).toMatchObject({ enablePrivateDns: true });
    expect(actionOf(plan, 'MODIFY_ENDPOINT').dependsOn).toContain(enable.id);
    expect(findingsOf(plan).every((finding) => finding.remediation.status !== 'blocked')).toBe(true);
  });

  it('only the attribute that is off is turned on', () => {
    const { a } = dnsOff({ hostnames: false });
    const plan = planOf(a.snapshot(), { remediation: { enableVpcDnsAttributes: true } });
    expect(actionOf(plan, 'ENABLE_VPC_DNS').attributes).toEqual(['enableDnsHostnames']);
  });
});

describe('checks.disabled', () => {
  it('a disabled check reports nothing and fixes nothing; the other checks run as before', () => {
    const { a } = ec2Vpc();
    const plan = planOf(a.snapshot(), { checks: { disabled: ['ENDPOINT_MISSING'] } });
    expect(findingsOf(plan, 'ENDPOINT_MISSING')).toEqual([]);
    expect(actionsOf(plan, 'CREATE_ENDPOINT')).toEqual([]);
    expect(actionsOf(plan, 'RESTART_AGENT')).toEqual([]);
    // Without it the same account has both.
    const full = planOf(a.snapshot());
    expect(findingsOf(full, 'ENDPOINT_MISSING').length).toBeGreaterThan(0);
    expect(actionsOf(full, 'CREATE_ENDPOINT').length).toBeGreaterThan(0);
  });

  it('VPC_DNS_DISABLED off: DNS is taken as on, so endpoint work is planned, not blocked', () => {
    const a = account();
    const vpc = a.vpc({ dns: { hostnames: false } });
    const subA = a.subnet(vpc, { az: 'a' });
    a.fargateService([subA], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    const plan = planOf(a.snapshot(), { checks: { disabled: ['VPC_DNS_DISABLED'] } });
    expect(findingsOf(plan, 'VPC_DNS_DISABLED')).toEqual([]);
    expect(actionsOf(plan, 'ENABLE_VPC_DNS')).toEqual([]);
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'logs').remediation.status).toBe('planned');
  });

  it('AGENT_RESTART_REQUIRED off: no restart is planned after the ECS endpoints change', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    a.endpoint(vpc, 'ecs', { region: OTHER_REGION });
    const config = {
      remediation: { deleteWrongRegionEndpoints: 'any' as const },
      checks: { disabled: ['AGENT_RESTART_REQUIRED' as const] },
    };
    const plan = planOf(a.snapshot(), config);
    expect(plan.actions.map((action) => action.kind)).toEqual(['DELETE_ENDPOINT']);
    expect(findingsOf(plan, 'AGENT_RESTART_REQUIRED')).toEqual([]);
    expect(restartCandidates(a.snapshot(), workloadsOf(a.snapshot()), parseConfig(config))).toEqual([]);
    expect(restartCandidates(a.snapshot(), workloadsOf(a.snapshot()), defaultConfig)).toHaveLength(2);
  });
});

describe('client tokens', () => {
  const windowStart = Math.floor(NOW.getTime() / CLIENT_TOKEN_WINDOW_MS) * CLIENT_TOKEN_WINDOW_MS;
  const tokens = (snapshot: ReturnType<ReturnType<typeof account>['snapshot']>, at: number) =>
    planOf(snapshot, {}, new Date(at)).actions.flatMap((action) =>
      'clientToken' in action ? [action.clientToken] : [],
    );

  it('are the same for the same drift within one 10-minute window', () => {
    const { a } = ec2Vpc();
    const snapshot = a.snapshot();
    expect(tokens(snapshot, windowStart)).toEqual(tokens(snapshot, windowStart + CLIENT_TOKEN_WINDOW_MS - 1));
  });

  it('change in the next window, and differ between endpoints', () => {
    const { a } = ec2Vpc();
    const snapshot = a.snapshot();
    const now = tokens(snapshot, windowStart);
    expect(new Set(now).size).toBe(now.length);
    expect(tokens(snapshot, windowStart + CLIENT_TOKEN_WINDOW_MS)).not.toEqual(now);
  });

  it('differ when the drift differs (another subnet set)', () => {
    const one = ec2Vpc();
    const two = ec2Vpc();
    two.a.containerInstance(two.a.subnet(two.vpc, { az: 'c' }));
    const first = actionOf(planOf(one.a.snapshot()), 'CREATE_ENDPOINT', 'ecs').clientToken;
    const second = actionOf(planOf(two.a.snapshot()), 'CREATE_ENDPOINT', 'ecs').clientToken;
    expect(first).not.toBe(second);
  });
});
