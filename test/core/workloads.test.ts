/**
 * Where ECS work runs and which endpoints it needs.
 */
import { describe, expect, it } from 'vitest';

import { analyseWorkloads, containerNeeds } from '../../core/workloads.ts';
import {
  ACCOUNT_ID,
  DOCKER_HUB_IMAGE,
  OTHER_REGION,
  PUBLIC_IMAGE,
  REGION,
  account,
  ecrImage,
  findingsOf,
  missingServices,
  parameterArn,
  planOf,
  secretArn,
} from './fixtures.ts';

const ECS_TRIO = ['ecs', 'ecs-agent', 'ecs-telemetry'];
const RUN_COMMAND = ['ec2messages', 'ssm', 'ssmmessages'];
const PRIVATE_ECR = ['ecr.api', 'ecr.dkr', 's3'];

/** A VPC with one subnet (egress as given) and nothing else yet. */
function oneSubnet(egress: 'none' | 'nat' = 'none') {
  const a = account();
  const vpc = a.vpc({ egress });
  const subnet = a.subnet(vpc, { az: 'a' });
  return { a, vpc, subnet };
}

describe('which VPCs host ECS work', () => {
  it('a VPC with EC2 container instances hosts ECS work', () => {
    const { a, vpc, subnet } = oneSubnet();
    a.containerInstance(subnet);
    const workloads = analyseWorkloads(a.snapshot());
    expect([...workloads.keys()]).toEqual([vpc]);
    expect(workloads.get(vpc)?.subnets.map((s) => s.subnetId)).toEqual([subnet]);
  });

  it('a VPC with an awsvpc Fargate service in its subnets hosts ECS work', () => {
    const { a, vpc, subnet } = oneSubnet();
    a.fargateService([subnet]);
    expect([...analyseWorkloads(a.snapshot()).keys()]).toEqual([vpc]);
  });

  it('a VPC with a standalone Fargate task in its subnets hosts ECS work', () => {
    const { a, vpc, subnet } = oneSubnet();
    a.task({
      launchType: 'FARGATE',
      subnets: [subnet],
      taskDefinition: a.taskDefinition({ image: ecrImage() }),
    });
    expect([...analyseWorkloads(a.snapshot()).keys()]).toEqual([vpc]);
    expect(missingServices(planOf(a.snapshot()))).toEqual(PRIVATE_ECR);
  });

  it('a VPC without ECS work gets no findings at all, even with broken endpoints', () => {
    const a = account();
    const idle = a.vpc({ dns: { support: false, dhcpDnsServers: ['10.0.0.2'] } });
    a.subnet(idle, { az: 'a' });
    a.endpoint(idle, 'ecs-agent', { privateDns: false, groups: [] });
    a.endpoint(idle, 'ecs', { region: OTHER_REGION });
    const plan = planOf(a.snapshot(), { remediation: { deleteWrongRegionEndpoints: 'any' } });
    expect(plan.findings).toEqual([]);
    expect(plan.actions).toEqual([]);
    expect(plan.vpcs).toEqual([]);
  });

  it('container instances whose EC2 instance is stopped, or that are INACTIVE, are no ECS work', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc);
    a.containerInstance(subnet, { instanceState: 'stopped' });
    a.containerInstance(subnet, { status: 'INACTIVE' });
    expect(analyseWorkloads(a.snapshot()).size).toBe(0);
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });

  it('DRAINING container instances still count', () => {
    const { a, subnet } = oneSubnet('nat');
    a.containerInstance(subnet, { status: 'DRAINING' });
    expect(missingServices(planOf(a.snapshot()))).toEqual(ECS_TRIO);
  });

  it('EXTERNAL (ECS Anywhere) work places nothing in a VPC', () => {
    const { a, subnet } = oneSubnet();
    a.service([subnet], { launchType: 'EXTERNAL', taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    expect(analyseWorkloads(a.snapshot()).size).toBe(0);
  });

  it('workload subnets are only the subnets that run work, sorted, with their AZs', () => {
    const a = account();
    const vpc = a.vpc();
    const idle = a.subnet(vpc, { az: 'c' });
    const s1 = a.subnet(vpc, { az: 'b' });
    const s2 = a.subnet(vpc, { az: 'a' });
    a.fargateService([s2, s1]);
    const workload = analyseWorkloads(a.snapshot()).get(vpc);
    expect(workload?.subnets.map((s) => s.subnetId)).toEqual([s1, s2]);
    expect(workload?.subnets.map((s) => s.subnetId)).not.toContain(idle);
    expect(workload?.availabilityZones).toEqual(['us-east-1a', 'us-east-1b']);
  });
});

describe('needs → endpoints', () => {
  it('EC2 capacity with internet egress needs ecs-agent, ecs-telemetry and ecs', () => {
    const { a, subnet } = oneSubnet('nat');
    a.containerInstance(subnet);
    expect(missingServices(planOf(a.snapshot()))).toEqual(ECS_TRIO);
  });

  it('EC2 capacity in subnets without egress also needs ssm, ssmmessages and ec2messages', () => {
    const { a, subnet } = oneSubnet('none');
    a.containerInstance(subnet);
    expect(missingServices(planOf(a.snapshot()))).toEqual([...ECS_TRIO, ...RUN_COMMAND].sort());
  });

  it('Fargate alone needs none of the ECS endpoints (public image, no logs, no secrets: nothing at all)', () => {
    const { a, vpc, subnet } = oneSubnet('none');
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ image: PUBLIC_IMAGE }) });
    const plan = planOf(a.snapshot());
    expect(plan.findings).toEqual([]);
    expect(plan.vpcs.map((report) => report.vpcId)).toEqual([vpc]);
    expect(plan.vpcs[0]?.needs).toEqual([]);
  });

  it('Fargate without egress never needs the Run Command endpoints (there are no instances to restart)', () => {
    const { a, subnet } = oneSubnet('none');
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual([...PRIVATE_ECR, 'logs'].sort());
  });

  it('an image from this Region’s private ECR needs ecr.api, ecr.dkr and the S3 gateway', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ image: ecrImage(REGION) }) });
    expect(missingServices(planOf(a.snapshot()))).toEqual(PRIVATE_ECR);
  });

  it.each([
    ['ECR Public', PUBLIC_IMAGE],
    ['Docker Hub', DOCKER_HUB_IMAGE],
    ['another Region’s private ECR', ecrImage(OTHER_REGION)],
    ['a look-alike host', `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com.evil.example/app`],
  ])('an image from %s needs no ECR endpoints here', (_label, image) => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ image }) });
    expect(missingServices(planOf(a.snapshot()))).toEqual([]);
  });

  it('an image from another account’s private ECR in this Region still needs the ECR endpoints', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({
        image: `210987654321.dkr.ecr.${REGION}.amazonaws.com/shared/base:2`,
      }),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual(PRIVATE_ECR);
  });

  it('the awslogs log driver needs logs; other drivers need nothing', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awsfirelens' }) });
    expect(missingServices(planOf(a.snapshot()))).toEqual(['logs']);
  });

  it('a task definition with several containers adds the needs of each', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition(
        { name: 'app', image: ecrImage() },
        { name: 'sidecar', image: PUBLIC_IMAGE, logDriver: 'awslogs' },
      ),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual([...PRIVATE_ECR, 'logs'].sort());
  });

  it('all task definitions of a service (deployments in progress) count', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], {
      taskDefinitions: [
        a.taskDefinition({ image: PUBLIC_IMAGE }),
        a.taskDefinition({ logDriver: 'awslogs' }),
      ],
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual(['logs']);
  });
});

describe('secret references', () => {
  const cases: Array<[string, string, string[]]> = [
    ['a Secrets Manager ARN', secretArn(), ['secretsmanager']],
    ['a Secrets Manager ARN with a JSON key', `${secretArn()}:password::`, ['secretsmanager']],
    [
      'a Secrets Manager ARN in GovCloud form',
      `arn:aws-us-gov:secretsmanager:${REGION}:123456789012:secret:x`,
      ['secretsmanager'],
    ],
    ['a Parameter Store ARN', parameterArn(), ['ssm']],
    ['a bare parameter name', 'db-url', ['ssm']],
    ['a parameter path', '/app/prod/db-url', ['ssm']],
    ['another Region’s Secrets Manager ARN', secretArn(OTHER_REGION), []],
    ['another Region’s parameter ARN', parameterArn(OTHER_REGION), []],
  ];

  it.each(cases)('secrets[].valueFrom as %s', (_label, ref, expected) => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ secretRefs: [ref] }) });
    expect(missingServices(planOf(a.snapshot()))).toEqual(expected);
  });

  it('repositoryCredentials as a Secrets Manager ARN needs secretsmanager', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ image: 'ghcr.io/acme/app:1', repositoryCredentials: secretArn() }),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual(['secretsmanager']);
  });

  // repositoryCredentials.credentialsParameter is always a Secrets Manager secret; the ECS API accepts its
  // bare name when the secret is in the task's Region. It is never a Parameter Store parameter.
  it('repositoryCredentials as a bare secret name needs secretsmanager, not ssm', () => {
    const { a, subnet } = oneSubnet();
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({
        image: 'ghcr.io/acme/app:1',
        repositoryCredentials: 'dockerhub-credentials',
      }),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual(['secretsmanager']);
  });

  it('containerNeeds gives one line of reason per need', () => {
    const needs = containerNeeds(
      { name: 'app', image: ecrImage(), logDriver: 'awslogs', secretRefs: [secretArn(), 'db-url'] },
      REGION,
    );
    expect(needs.map(([need]) => need)).toEqual([
      'private-ecr',
      'awslogs',
      'secretsmanager',
      'ssm-parameters',
    ]);
    for (const [, reason] of needs) expect(reason).not.toContain('\n');
  });
});

describe('launch types and capacity providers', () => {
  /** Container instances of cluster `default` in VPC A; an awsvpc service in VPC B. */
  function twoVpcs() {
    const a = account();
    const vpcA = a.vpc({ egress: 'nat' });
    const hostSubnet = a.subnet(vpcA, { az: 'a' });
    const vpcB = a.vpc({ egress: 'nat' });
    const taskSubnet = a.subnet(vpcB, { az: 'a' });
    a.containerInstance(hostSubnet, { cluster: 'default' });
    const logs = a.taskDefinition({ logDriver: 'awslogs' });
    return { a, vpcA, vpcB, taskSubnet, logs };
  }

  function missingIn(plan: ReturnType<typeof planOf>, vpcId: string): string[] {
    return findingsOf(plan, 'ENDPOINT_MISSING')
      .filter((finding) => finding.vpcId === vpcId)
      .map((finding) => finding.service ?? '?')
      .sort();
  }

  it('an EC2 capacity provider strategy places the agent’s calls (awslogs) on the cluster’s container instances', () => {
    const { a, vpcA, vpcB, taskSubnet, logs } = twoVpcs();
    a.service([taskSubnet], { capacityProviders: ['asg-provider'], taskDefinition: logs });
    const plan = planOf(a.snapshot());
    // On EC2 the Docker daemon on the host ships awslogs: the host's interface calls logs, not the task's.
    expect(missingIn(plan, vpcA)).toEqual([...ECS_TRIO, 'logs'].sort());
    expect(missingIn(plan, vpcB)).toEqual([]);
  });

  it('a FARGATE_SPOT strategy is Fargate: its needs stay in its own subnets’ VPC', () => {
    const { a, vpcA, vpcB, taskSubnet, logs } = twoVpcs();
    a.service([taskSubnet], { capacityProviders: ['FARGATE_SPOT'], taskDefinition: logs });
    const plan = planOf(a.snapshot());
    expect(missingIn(plan, vpcA)).toEqual(ECS_TRIO);
    expect(missingIn(plan, vpcB)).toEqual(['logs']);
  });

  it('a FARGATE + FARGATE_SPOT strategy is Fargate; mixed with an EC2 provider it is EC2', () => {
    const fargate = twoVpcs();
    fargate.a.service([fargate.taskSubnet], {
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      taskDefinition: fargate.logs,
    });
    expect(missingIn(planOf(fargate.a.snapshot()), fargate.vpcA)).toEqual(ECS_TRIO);

    const mixed = twoVpcs();
    mixed.a.service([mixed.taskSubnet], {
      capacityProviders: ['FARGATE', 'asg-provider'],
      taskDefinition: mixed.logs,
    });
    expect(missingIn(planOf(mixed.a.snapshot()), mixed.vpcA)).toEqual([...ECS_TRIO, 'logs'].sort());
  });

  it('a bridge-mode EC2 service has its needs in the VPC of the cluster’s instances', () => {
    const { a, subnet } = oneSubnet('nat');
    a.containerInstance(subnet);
    a.ec2Service([], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    expect(missingServices(planOf(a.snapshot()))).toEqual([...ECS_TRIO, ...PRIVATE_ECR].sort());
  });

  it('a bridge-mode service of another cluster does not land in this VPC', () => {
    const { a, subnet } = oneSubnet('nat');
    a.containerInstance(subnet, { cluster: 'web' });
    a.ec2Service([], { cluster: 'batch', taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    expect(missingServices(planOf(a.snapshot()))).toEqual(ECS_TRIO);
  });

  it('a standalone EC2 task has its needs in the VPC of the instance it runs on', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const subnet = a.subnet(vpc, { az: 'a' });
    const host = a.containerInstance(subnet, { cluster: 'jobs' });
    a.task({
      cluster: 'jobs',
      launchType: 'EC2',
      on: host,
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual([...ECS_TRIO, 'logs'].sort());
  });

  it('a standalone task on a FARGATE_SPOT capacity provider is Fargate', () => {
    const { a, subnet } = oneSubnet('nat');
    a.task({
      capacityProvider: 'FARGATE_SPOT',
      subnets: [subnet],
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    expect(missingServices(planOf(a.snapshot()))).toEqual(['logs']);
  });
});

describe('exposure and severity', () => {
  it('workload subnets without internet egress make findings high', () => {
    const { a, subnet } = oneSubnet('none');
    a.containerInstance(subnet);
    const plan = planOf(a.snapshot());
    expect(plan.vpcs[0]?.exposure).toBe('high');
    expect(findingsOf(plan, 'ENDPOINT_MISSING').every((finding) => finding.severity === 'high')).toBe(true);
  });

  it('workload subnets that all have egress make findings medium', () => {
    const { a, subnet } = oneSubnet('nat');
    a.containerInstance(subnet);
    const plan = planOf(a.snapshot());
    expect(plan.vpcs[0]?.exposure).toBe('medium');
    expect(findingsOf(plan, 'ENDPOINT_MISSING').map((finding) => finding.severity)).toEqual([
      'medium',
      'medium',
      'medium',
    ]);
  });

  it('one workload subnet without egress is enough for high', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const withEgress = a.subnet(vpc, { az: 'a' });
    const isolated = a.subnet(vpc, { az: 'b', egress: 'none' });
    a.fargateService([withEgress, isolated], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const plan = planOf(a.snapshot());
    expect(plan.vpcs[0]?.workloadSubnets.map((s) => s.egress)).toEqual(['nat-gateway', 'none']);
    expect(findingsOf(plan, 'ENDPOINT_MISSING', 'logs')[0]?.severity).toBe('high');
  });

  it.each([
    ['a blackhole default route', 'blackhole', 'high'],
    ['a transit gateway default route', 'tgw', 'medium'],
    ['an internet gateway', 'igw', 'medium'],
  ] as const)('%s on the subnet’s own route table → %s', (_label, egress, severity) => {
    const a = account();
    const vpc = a.vpc({ egress: egress === 'blackhole' ? 'nat' : 'none' }); // the main table says the opposite
    const subnet = a.subnet(vpc, { az: 'a', egress });
    a.containerInstance(subnet);
    expect(findingsOf(planOf(a.snapshot()), 'ENDPOINT_MISSING', 'ecs')[0]?.severity).toBe(severity);
  });

  it('an idle subnet without egress does not raise severity', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const busy = a.subnet(vpc, { az: 'a' });
    a.subnet(vpc, { az: 'b', egress: 'none' });
    a.fargateService([busy], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    expect(findingsOf(planOf(a.snapshot()), 'ENDPOINT_MISSING', 'logs')[0]?.severity).toBe('medium');
  });
});
