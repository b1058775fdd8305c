/**
 * The findings, one code at a time: when each is reported, with what fields and which remedy.
 */
import { describe, expect, it } from 'vitest';

import { FINDING_CODES } from '../../core/findings.ts';
import type { ManagedService } from '../../core/services.ts';
import {
  ACCOUNT_ID,
  NOW,
  OTHER_REGION,
  account,
  actionOf,
  actionsOf,
  ecrImage,
  findingOf,
  findingsOf,
  https,
  httpsFromGroups,
  planOf,
  rule,
} from './fixtures.ts';

/**
 * A VPC (no egress) with EC2 capacity in AZs a and b; healthy endpoints for everything it needs except
 * what the test breaks. `services` lists the ones to leave out or build by hand.
 */
function ec2Vpc(options: { egress?: 'none' | 'nat'; skip?: readonly ManagedService[] } = {}) {
  const a = account();
  const vpc = a.vpc({ egress: options.egress ?? 'none' });
  const subA = a.subnet(vpc, { az: 'a' });
  const subB = a.subnet(vpc, { az: 'b' });
  const hostA = a.containerInstance(subA, { groups: ['sg-instances'] });
  a.containerInstance(subB, { groups: ['sg-instances'] });
  const needed: ManagedService[] = ['ecs-agent', 'ecs-telemetry', 'ecs'];
  if ((options.egress ?? 'none') === 'none') needed.push('ssm', 'ssmmessages', 'ec2messages');
  a.endpoints(
    vpc,
    needed.filter((service) => !(options.skip ?? []).includes(service)),
  );
  return { a, vpc, subA, subB, hostA };
}

describe('a healthy VPC', () => {
  it('has no findings and no actions', () => {
    const { a } = ec2Vpc();
    const plan = planOf(a.snapshot());
    expect(plan.findings).toEqual([]);
    expect(plan.actions).toEqual([]);
  });
});

describe('ENDPOINT_MISSING', () => {
  it('names the service, the VPC and the Region, with a one-line message and no resource', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs-telemetry'] });
    const finding = findingOf(planOf(a.snapshot()), 'ENDPOINT_MISSING');
    expect(finding).toMatchObject({
      id: `ENDPOINT_MISSING/${ACCOUNT_ID}/us-east-1/${vpc}/ecs-telemetry`,
      accountId: ACCOUNT_ID,
      code: 'ENDPOINT_MISSING',
      severity: 'high',
      region: 'us-east-1',
      vpcId: vpc,
      service: 'ecs-telemetry',
      remediation: { status: 'planned', actionIds: [`CREATE_ENDPOINT/us-east-1/${vpc}/ecs-telemetry`] },
    });
    expect(finding.resourceId).toBeUndefined();
    expect(finding.message).toContain('com.amazonaws.us-east-1.ecs-telemetry');
    expect(finding.message).not.toContain('\n');
  });

  it('is medium when the workload subnets have egress', () => {
    const { a } = ec2Vpc({ egress: 'nat', skip: ['ecs'] });
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_MISSING', 'ecs').severity).toBe('medium');
  });

  it('an endpoint listed as deleted does not count: the service is missing', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs'] });
    a.endpoint(vpc, 'ecs', { state: 'deleted' });
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'ecs')).toBeDefined();
    expect(findingsOf(plan, 'ENDPOINT_NOT_AVAILABLE')).toEqual([]);
  });

  it('an endpoint being deleted does not count either', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs'] });
    a.endpoint(vpc, 'ecs', { state: 'deleting' });
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_MISSING', 'ecs')).toBeDefined();
  });

  it('a gateway endpoint of the service is not its interface endpoint', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc);
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.endpoints(vpc, ['ecr.api', 'ecr.dkr']);
    a.endpoint(vpc, 's3'); // an S3 *interface* endpoint does not replace the gateway
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_MISSING', 's3')).toBeDefined();
  });
});

describe('ENDPOINT_NOT_AVAILABLE', () => {
  it('a pending endpoint is low and waited for', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs'] });
    const pending = a.endpoint(vpc, 'ecs', { state: 'pending' });
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'ENDPOINT_NOT_AVAILABLE', 'ecs');
    expect(finding).toMatchObject({
      severity: 'low',
      resourceId: pending,
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(findingsOf(plan, 'ENDPOINT_MISSING')).toEqual([]);
    expect(plan.actions).toEqual([]);
  });

  it('a failed endpoint has the VPC’s severity and is left to people', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs'] });
    const failed = a.endpoint(vpc, 'ecs', { state: 'failed' });
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'ENDPOINT_NOT_AVAILABLE', 'ecs')).toMatchObject({
      severity: 'high',
      resourceId: failed,
      remediation: { status: 'manual' },
    });
    expect(plan.actions).toEqual([]);
  });

  it('an available endpoint wins over a failed one of the same service', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs'] });
    a.endpoint(vpc, 'ecs', { state: 'failed' });
    a.endpoint(vpc, 'ecs');
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });

  it('a pending S3 gateway is not available either', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc);
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.endpoints(vpc, ['ecr.api', 'ecr.dkr']);
    a.gateway(vpc, { state: 'pending' });
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_NOT_AVAILABLE', 's3').severity).toBe('low');
  });
});

describe('ENDPOINT_PRIVATE_DNS_DISABLED', () => {
  it('is reported for the endpoint and fixed by enabling private DNS', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs-agent'] });
    const endpoint = a.endpoint(vpc, 'ecs-agent', { privateDns: false });
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'ENDPOINT_PRIVATE_DNS_DISABLED', 'ecs-agent');
    expect(finding).toMatchObject({
      severity: 'high',
      resourceId: endpoint,
      remediation: { status: 'planned' },
    });
    const modify = actionOf(plan, 'MODIFY_ENDPOINT');
    expect(modify).toMatchObject({
      vpcEndpointId: endpoint,
      enablePrivateDns: true,
      addSubnetIds: [],
      addSecurityGroups: [],
      fixes: [finding.id],
    });
  });
});

describe('ENDPOINT_AZ_GAP and ENDPOINT_AZ_NOT_OFFERED', () => {
  it('an endpoint missing a workload AZ gets a subnet there', () => {
    const { a, vpc, subA, subB } = ec2Vpc({ skip: ['ecs'] });
    const endpoint = a.endpoint(vpc, 'ecs', { subnets: [subA] });
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'ENDPOINT_AZ_GAP', 'ecs');
    expect(finding).toMatchObject({ resourceId: endpoint, severity: 'high' });
    expect(finding.message).toContain('us-east-1b');
    expect(actionOf(plan, 'MODIFY_ENDPOINT')).toMatchObject({
      addSubnetIds: [subB],
      enablePrivateDns: false,
    });
  });

  it('two workload subnets in one AZ get one endpoint subnet (the lowest id)', () => {
    const a = account();
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subB1 = a.subnet(vpc, { az: 'b' });
    const subB2 = a.subnet(vpc, { az: 'b' });
    a.fargateService([subA, subB2, subB1], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.endpoint(vpc, 'logs', { subnets: [subA] });
    const plan = planOf(a.snapshot());
    expect(actionOf(plan, 'MODIFY_ENDPOINT').addSubnetIds).toEqual([subB1]);
  });

  it('an endpoint subnet outside the workload subnets still covers its AZ', () => {
    const a = account();
    const vpc = a.vpc();
    const endpointSubnet = a.subnet(vpc, { az: 'a' });
    const workSubnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([workSubnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.endpoint(vpc, 'logs', { subnets: [endpointSubnet] });
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });

  it('AZs the service does not offer are reported apart, low and manual, and never added', () => {
    const a = account();
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    const subD = a.subnet(vpc, { az: 'd' });
    a.fargateService([subA, subB, subD], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.endpoint(vpc, 'logs', { subnets: [subA] });
    const plan = planOf(a.snapshot());
    expect(actionOf(plan, 'MODIFY_ENDPOINT').addSubnetIds).toEqual([subB]);
    const notOffered = findingOf(plan, 'ENDPOINT_AZ_NOT_OFFERED', 'logs');
    expect(notOffered).toMatchObject({ severity: 'low', remediation: { status: 'manual', actionIds: [] } });
    expect(notOffered.message).toContain('us-east-1d');
  });

  // The remedy of a missing endpoint leaves out the AZs the service does not offer; the plan must say so
  // now, not only in the run after the endpoint is created.
  it('a missing endpoint with a workload AZ the service does not offer reports that AZ in the same plan', () => {
    const a = account();
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subD = a.subnet(vpc, { az: 'd' });
    a.fargateService([subA, subD], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const plan = planOf(a.snapshot());
    expect(actionOf(plan, 'CREATE_ENDPOINT', 'logs').subnetIds).toEqual([subA]);
    const notOffered = findingOf(plan, 'ENDPOINT_AZ_NOT_OFFERED', 'logs');
    expect(notOffered.message).toContain('us-east-1d');
  });

  it('only AZs not offered: no gap finding and no action', () => {
    const a = account();
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subD = a.subnet(vpc, { az: 'd' });
    a.fargateService([subA, subD], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.endpoint(vpc, 'logs', { subnets: [subA] });
    const plan = planOf(a.snapshot());
    expect(findingsOf(plan, 'ENDPOINT_AZ_GAP')).toEqual([]);
    expect(findingsOf(plan).map((finding) => finding.code)).toEqual(['ENDPOINT_AZ_NOT_OFFERED']);
    expect(plan.actions).toEqual([]);
  });
});

describe('ENDPOINT_SG_NO_HTTPS', () => {
  /** A VPC whose logs endpoint has exactly the given groups; the service runs in two subnets. */
  function logsVpc(makeGroups: (a: ReturnType<typeof account>, vpc: string) => string[]) {
    const a = account();
    const vpc = a.vpc();
    const subA = a.subnet(vpc, { az: 'a' });
    const subB = a.subnet(vpc, { az: 'b' });
    a.fargateService([subA, subB], {
      groups: ['sg-tasks'],
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    const groups = makeGroups(a, vpc);
    const endpoint = a.endpoint(vpc, 'logs', { groups });
    return { a, vpc, subA, subB, endpoint, plan: planOf(a.snapshot()) };
  }

  const group =
    (...ingress: ReturnType<typeof https>[]) =>
    (a: ReturnType<typeof account>, vpc: string) => [a.securityGroup(vpc, { ingress })];

  it.each([
    ['the VPC CIDR', group(https('10.0.0.0/16'))],
    ['each subnet CIDR', group(https('10.0.0.0/24', '10.0.1.0/24'))],
    ['0.0.0.0/0', group(https('0.0.0.0/0'))],
    ['all traffic', group(rule('-1', {}, { cidrs: ['10.0.0.0/16'] }))],
    ['tcp 0-65535', group(rule('tcp', { from: 0, to: 65535 }, { cidrs: ['10.0.0.0/16'] }))],
    ['the workloads’ security group', group(httpsFromGroups('sg-tasks'))],
  ])('a 443 rule from %s counts', (_label, makeGroups) => {
    expect(logsVpc(makeGroups).plan.findings).toEqual([]);
  });

  it('a rule from the EC2 container instances’ security group counts', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs'] });
    a.endpoint(vpc, 'ecs', {
      groups: [a.securityGroup(vpc, { ingress: [httpsFromGroups('sg-instances')] })],
    });
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });

  it.each([
    ['no group at all', (): string[] => []],
    ['a group without rules', group()],
    ['udp 443', group(rule('udp', { from: 443, to: 443 }, { cidrs: ['10.0.0.0/16'] }))],
    ['tcp 80', group(rule('tcp', { from: 80, to: 80 }, { cidrs: ['10.0.0.0/16'] }))],
    ['an unrelated group', group(httpsFromGroups('sg-unrelated'))],
    ['another VPC’s CIDR', group(https('10.99.0.0/16'))],
  ])('%s does not count', (_label, makeGroups) => {
    const { plan, endpoint } = logsVpc(makeGroups);
    expect(findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'logs')).toMatchObject({
      resourceId: endpoint,
      remediation: { status: 'planned' },
    });
  });

  it('a rule covering one of two workload subnets names the other in the message', () => {
    const { plan, subA, subB } = logsVpc(group(https('10.0.0.0/24')));
    const finding = findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'logs');
    expect(finding.message).toContain(subB);
    expect(finding.message).not.toContain(subA);
  });

  it('a group the endpoint names but discovery did not return counts as no rule', () => {
    const { plan } = logsVpc(() => ['sg-vanished']);
    expect(findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'logs')).toBeDefined();
  });
});

describe('ENDPOINT_WRONG_REGION', () => {
  it('an endpoint naming another Region is reported, and the right one is missing', () => {
    const { a, vpc } = ec2Vpc({ skip: ['ecs-agent'] });
    const wrong = a.endpoint(vpc, 'ecs-agent', { region: OTHER_REGION });
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'ENDPOINT_WRONG_REGION', 'ecs-agent');
    expect(finding).toMatchObject({ resourceId: wrong, severity: 'high' });
    expect(finding.message).toContain(`com.amazonaws.${OTHER_REGION}.ecs-agent`);
    expect(finding.message).toContain('not created by the remediator');
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'ecs-agent')).toBeDefined();
  });

  it('a wrong-Region endpoint of a service the VPC does not need is low', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoint(vpc, 'ecr.api', { region: OTHER_REGION });
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_WRONG_REGION').severity).toBe('low');
  });

  it('endpoints of services the remediator does not manage are none of its business', () => {
    const { a, vpc } = ec2Vpc();
    a.endpoint(vpc, 'ecs');
    const snapshot = a.snapshot();
    const other = {
      ...snapshot,
      endpoints: snapshot.endpoints.map((e, i) =>
        i === snapshot.endpoints.length - 1 ? { ...e, serviceName: `com.amazonaws.${OTHER_REGION}.sqs` } : e,
      ),
    };
    expect(planOf(other).findings).toEqual([]);
  });
});

describe('ENDPOINT_SERVICE_NOT_OFFERED', () => {
  it('a service the Region does not offer is reported low and never created', () => {
    const a = account();
    a.offer('ecs-telemetry', null);
    const vpc = a.vpc();
    a.containerInstance(a.subnet(vpc));
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'ENDPOINT_SERVICE_NOT_OFFERED', 'ecs-telemetry')).toMatchObject({
      severity: 'low',
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(actionsOf(plan, 'CREATE_ENDPOINT').map((action) => action.service)).not.toContain('ecs-telemetry');
  });

  it('S3 offered only as an interface service gets no gateway', () => {
    const a = account();
    a.offer('s3', { types: ['Interface'] });
    const vpc = a.vpc();
    a.fargateService([a.subnet(vpc)], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'ENDPOINT_SERVICE_NOT_OFFERED', 's3')).toBeDefined();
    expect(actionsOf(plan, 'CREATE_GATEWAY_ENDPOINT')).toEqual([]);
  });

  it('a service offered in none of the workload AZs is not created', () => {
    const a = account();
    a.offer('logs', { azs: ['c'] });
    const vpc = a.vpc();
    a.fargateService([a.subnet(vpc, { az: 'a' })], {
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    const plan = planOf(a.snapshot());
    expect(actionsOf(plan, 'CREATE_ENDPOINT')).toEqual([]);
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'logs').remediation.status).toBe('manual');
  });
});

describe('S3_GATEWAY_ROUTE_MISSING', () => {
  it('a gateway missing the route table of a workload subnet gets it added', () => {
    const a = account();
    const vpc = a.vpc();
    const viaMain = a.subnet(vpc, { az: 'a' });
    const viaOwn = a.subnet(vpc, { az: 'b', egress: 'none' });
    a.fargateService([viaMain, viaOwn], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.endpoints(vpc, ['ecr.api', 'ecr.dkr']);
    const main = a.mainRouteTable(vpc);
    const gateway = a.gateway(vpc, { routeTables: [main] });
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'S3_GATEWAY_ROUTE_MISSING', 's3');
    expect(finding.resourceId).toBe(gateway);
    const modify = actionOf(plan, 'MODIFY_ENDPOINT');
    expect(modify.vpcEndpointId).toBe(gateway);
    expect(modify.addRouteTableIds).toHaveLength(1);
    expect(modify.addRouteTableIds).not.toContain(main);
    expect(modify.fixes).toEqual([finding.id]);
  });

  it('route tables of idle subnets are not needed', () => {
    const a = account();
    const vpc = a.vpc();
    const busy = a.subnet(vpc, { az: 'a' });
    a.subnet(vpc, { az: 'b', egress: 'nat' });
    a.fargateService([busy], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.endpoints(vpc, ['ecr.api', 'ecr.dkr']);
    a.gateway(vpc, { routeTables: [a.mainRouteTable(vpc)] });
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });
});

describe('VPC_DNS_DISABLED and VPC_CUSTOM_DNS', () => {
  it.each([
    ['enableDnsSupport', { support: false }],
    ['enableDnsHostnames', { hostnames: false }],
  ])('%s off is reported on the VPC', (attribute, dns) => {
    const a = account();
    const vpc = a.vpc({ dns });
    a.containerInstance(a.subnet(vpc));
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs', 'ssm', 'ssmmessages', 'ec2messages']);
    const finding = findingOf(planOf(a.snapshot()), 'VPC_DNS_DISABLED');
    expect(finding).toMatchObject({ resourceId: vpc, vpcId: vpc, severity: 'high' });
    expect(finding.service).toBeUndefined();
    expect(finding.message).toContain(attribute);
  });

  it('custom DNS servers in the DHCP options are low and manual', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat', dns: { dhcpDnsServers: ['10.0.0.53', 'AmazonProvidedDNS'] } });
    a.containerInstance(a.subnet(vpc));
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'VPC_CUSTOM_DNS');
    expect(finding).toMatchObject({
      severity: 'low',
      resourceId: vpc,
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(finding.message).toContain('10.0.0.53');
    expect(plan.actions).toEqual([]);
  });

  it('DNS facts that discovery did not read raise nothing', () => {
    const a = account();
    const vpc = a.vpc({ dns: null, egress: 'nat' });
    a.containerInstance(a.subnet(vpc));
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });
});

describe('AGENT_OUTDATED', () => {
  it.each([
    ['1.25.0', true],
    ['1.24.9', true],
    ['1.0.0', true],
    ['1.25.1', false],
    ['1.89.0', false],
    [null, false],
  ])('agent %s outdated: %s', (agentVersion, outdated) => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const host = a.containerInstance(a.subnet(vpc), { agentVersion });
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs']);
    const findings = findingsOf(planOf(a.snapshot()), 'AGENT_OUTDATED');
    if (!outdated) {
      expect(findings).toEqual([]);
      return;
    }
    expect(findings).toHaveLength(1);
    // UpdateContainerAgent is off by default (agentRestart.updateOutdatedAgents).
    expect(findings[0]).toMatchObject({ resourceId: host.instanceId, remediation: { status: 'disabled' } });
    expect(findings[0]?.message).toContain(agentVersion ?? '?');
    expect(findings[0]?.service).toBeUndefined();
  });
});

describe('every finding', () => {
  it('carries the contract fields; ids are stable across runs and unique', () => {
    const { a, vpc, subA } = ec2Vpc({ skip: ['ecs', 'ecs-agent', 'ssm'] });
    a.endpoint(vpc, 'ecs-agent', { privateDns: false, subnets: [subA], groups: [] });
    a.endpoint(vpc, 'ecs', { region: OTHER_REGION });
    const snapshot = a.snapshot();
    const first = planOf(snapshot);
    const later = planOf(snapshot, {}, new Date(NOW.getTime() + 86_400_000));
    expect(later.findings.map((f) => f.id)).toEqual(first.findings.map((f) => f.id));
    expect(new Set(first.findings.map((f) => f.id)).size).toBe(first.findings.length);
    for (const finding of first.findings) {
      expect(FINDING_CODES).toContain(finding.code);
      expect(finding.region).toBe('us-east-1');
      expect(finding.vpcId).toBe(vpc);
      expect(finding.id).toMatch(new RegExp(`^${finding.code}/${ACCOUNT_ID}/us-east-1/${vpc}/.+`));
      expect(finding.message.length).toBeGreaterThan(0);
      expect(finding.message).not.toMatch(/\n/);
      expect(['planned', 'deferred', 'blocked', 'disabled', 'manual']).toContain(finding.remediation.status);
    }
  });
});
