// End to end through the real SDK against moto: discover → plan → apply → plan, and the AWS state
// the apply leaves behind. Every test works in an account of its own.
import {
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  DeleteSubnetCommand,
  DeleteVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { Plan } from '../../core/plan.ts';
import { applySucceeded } from '../../core/report.ts';
import type { ClientPool } from '../../aws/reconcile.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../../aws/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createService,
  createVpc,
  registerTaskDefinition,
} from '../harness/seed.ts';

function poolFor(acct: Account): ClientPool {
  return createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
}

async function plan(acct: Account, config: Config = parseConfig({}), pool = poolFor(acct)): Promise<Plan> {
  return planAccount({ regions: [acct.region], config, pool });
}

async function endpointsOf(acct: Account, vpcId: string): Promise<VpcEndpoint[]> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).filter((endpoint) => (endpoint.State ?? '').toLowerCase() !== 'deleted');
}

const shortName = (endpoint: VpcEndpoint): string =>
  (endpoint.ServiceName ?? '').split('.').slice(3).join('.');

/** What an EC2 cluster without egress, private ECR images, awslogs and a secret needs (sorted). */
const EC2_PRIVATE_VPC_SERVICES = [
  'ec2messages',
  'ecr.api',
  'ecr.dkr',
  'ecs',
  'ecs-agent',
  'ecs-telemetry',
  'logs',
  's3',
  'secretsmanager',
  'ssm',
  'ssmmessages',
];

/** An EC2 cluster in two private subnets, running a service with a private ECR image, awslogs and a secret. */
async function ec2PrivateVpc(acct: Account, cidr = '10.1.0.0/16') {
  const network = await createNetwork(acct, { cidr, name: 'ec2-private', azs: ['a', 'b'] });
  const cluster = await createCluster(acct, `ec2-${cidr.split('.')[1] ?? ''}`);
  for (const subnetId of network.subnetIds) await addContainerInstance(acct, { cluster, subnetId });
  const taskDefinition = await registerTaskDefinition(acct, {
    family: 'api',
    images: [`${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com/api:1`],
    logDriver: 'awslogs',
    secrets: [
      { name: 'DB', valueFrom: `arn:aws:secretsmanager:${acct.region}:${acct.accountId}:secret:db-AbC123` },
    ],
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  await createService(acct, { cluster, name: 'api', taskDefinition, launchType: 'EC2' });
  return network;
}

describe('plan → apply → plan on a fresh account', () => {
  it('reports exactly the drift the rules define, per VPC', async () => {
    const acct = newAccount();
    const ec2 = await ec2PrivateVpc(acct);
    const fargate = await createNetwork(acct, { cidr: '10.2.0.0/16', azs: ['a'], egress: 'nat' });
    const cluster = await createCluster(acct, 'fargate');
    const web = await registerTaskDefinition(acct, {
      family: 'web',
      images: ['public.ecr.aws/nginx/nginx:1'],
    });
    await createService(acct, {
      cluster,
      name: 'web',
      taskDefinition: web,
      launchType: 'FARGATE',
      subnets: fargate.subnetIds,
    });
    await createVpc(acct, { cidr: '10.3.0.0/16', name: 'no-ecs' });

    const result = await plan(acct);

    const missing = (vpcId: string) =>
      result.findings
        .filter((f) => f.vpcId === vpcId && f.code === 'ENDPOINT_MISSING')
        .map((f) => f.service)
        .sort();
    expect(missing(ec2.vpcId)).toEqual(EC2_PRIVATE_VPC_SERVICES);
    expect(result.findings.filter((f) => f.vpcId === ec2.vpcId).every((f) => f.severity === 'high')).toBe(
      true,
    );
    // Fargate with a public image and no log driver, behind a NAT: needs nothing.
    expect(result.findings.filter((f) => f.vpcId === fargate.vpcId)).toEqual([]);
    expect(result.vpcs.map((vpc) => vpc.vpcId).sort()).toEqual([ec2.vpcId, fargate.vpcId].sort());
    const creates = result.actions
      .filter((a) => a.kind === 'CREATE_ENDPOINT')
      .map((a) => ('service' in a ? a.service : ''));
    expect(creates.slice(0, 3)).toEqual(['ecs-agent', 'ecs-telemetry', 'ecs']);
    expect(result.stats.estimatedMonthlyCostUsd).toBeCloseTo(10 * 2 * 0.01 * 730, 2);
  });

  it('apply fixes it in AWS: owned endpoints, one subnet per AZ, private DNS, 443 from the workload subnets', async () => {
    const acct = newAccount();
    const ec2 = await ec2PrivateVpc(acct);
    const pool = poolFor(acct);
    const results = await applyAccountPlan(await plan(acct, undefined, pool), pool);
    expect(applySucceeded(results)).toBe(true);

    const endpoints = await endpointsOf(acct, ec2.vpcId);
    expect(endpoints.map(shortName).sort()).toEqual(EC2_PRIVATE_VPC_SERVICES);
    const groupIds = new Set<string>();
    for (const endpoint of endpoints) {
      expect(endpoint.Tags).toEqual(
        expect.arrayContaining([{ Key: 'ecs-endpoint-remediator/managed', Value: 'true' }]),
      );
      if (endpoint.VpcEndpointType === 'Gateway') {
        expect(endpoint.RouteTableIds?.length).toBe(1);
        continue;
      }
      expect(endpoint.PrivateDnsEnabled).toBe(true);
      expect([...(endpoint.SubnetIds ?? [])].sort()).toEqual([...ec2.subnetIds].sort());
      for (const group of endpoint.Groups ?? []) groupIds.add(group.GroupId ?? '');
    }
    expect(groupIds.size).toBe(1);
    const groups = await acct.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds] }));
    const rule = groups.SecurityGroups?.[0]?.IpPermissions?.[0];
    expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(rule?.IpRanges?.map((range) => range.CidrIp).sort()).toEqual(['10.1.0.0/24', '10.1.1.0/24']);

    const after = await plan(acct);
    expect(after.findings).toEqual([]);
    expect(after.actions).toEqual([]);
  });

  it('a second apply right after the first does nothing', async () => {
    const acct = newAccount();
    await ec2PrivateVpc(acct);
    const pool = poolFor(acct);
    await applyAccountPlan(await plan(acct, undefined, pool), pool);
    const second = await plan(acct);
    expect(second.actions).toEqual([]);
    expect(await applyAccountPlan(second, poolFor(acct))).toEqual([]);
  });

  it('two applies of the same drift at once create each endpoint once', async () => {
    const acct = newAccount();
    const ec2 = await ec2PrivateVpc(acct);
    const [first, second] = await Promise.all([plan(acct), plan(acct)]);
    const [a, b] = await Promise.all([
      applyAccountPlan(first, poolFor(acct)),
      applyAccountPlan(second, poolFor(acct)),
    ]);
    expect([...a, ...b].filter((result) => result.outcome === 'failed')).toEqual([]);
    const names = (await endpointsOf(acct, ec2.vpcId)).map(shortName);
    expect(names.length).toBe(new Set(names).size);
    expect(names.length).toBe(11);
  });

  it('an endpoint made by someone else between plan and apply is already-satisfied, not duplicated', async () => {
    const acct = newAccount();
    const ec2 = await ec2PrivateVpc(acct);
    const stale = await plan(acct);
    const theirs = await createEndpoint(acct, {
      vpcId: ec2.vpcId,
      service: 'logs',
      subnetIds: ec2.subnetIds,
    });
    const results = await applyAccountPlan(stale, poolFor(acct));
    const logs = results.find(
      (result) => result.actionId.endsWith('/logs') && result.kind === 'CREATE_ENDPOINT',
    );
    expect(logs).toMatchObject({ outcome: 'already-satisfied', resourceId: theirs });
    expect((await endpointsOf(acct, ec2.vpcId)).filter((e) => shortName(e) === 'logs')).toHaveLength(1);
  });

  it('recreates an endpoint deleted within its client token window (the token replays the deleted one)', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.4.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 'fg');
    const td = await registerTaskDefinition(acct, { family: 'l', images: ['nginx:1'], logDriver: 'awslogs' });
    await createService(acct, {
      cluster,
      name: 's',
      taskDefinition: td,
      launchType: 'FARGATE',
      subnets: network.subnetIds,
    });
    const now = new Date();
    const pool = poolFor(acct);
    await applyAccountPlan(
      await planAccount({ regions: [acct.region], config: parseConfig({}), pool, now }),
      pool,
    );
    const [first] = await endpointsOf(acct, network.vpcId);
    await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [first?.VpcEndpointId ?? ''] }));

    // The same 10-minute window: the plan carries the same client token as the first creation.
    const again = await planAccount({ regions: [acct.region], config: parseConfig({}), pool, now });
    const results = await applyAccountPlan(again, pool);
    expect(results.map((r) => [r.kind, r.outcome])).toEqual([['CREATE_ENDPOINT', 'succeeded']]);
    const live = await endpointsOf(acct, network.vpcId);
    expect(live.map((e) => e.VpcEndpointId)).toEqual([results[0]?.resourceId]);
    expect(live[0]?.VpcEndpointId).not.toBe(first?.VpcEndpointId);
  });

  it('one VPC failing does not stop another; dependants of a failure are skipped', async () => {
    const acct = newAccount();
    const broken = await createNetwork(acct, { cidr: '10.5.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 'fg');
    const td = await registerTaskDefinition(acct, {
      family: 'logs-only',
      images: ['nginx:1'],
      logDriver: 'awslogs',
    });
    await createService(acct, {
      cluster,
      name: 'broken',
      taskDefinition: td,
      launchType: 'FARGATE',
      subnets: broken.subnetIds,
    });
    const healthy = await createNetwork(acct, { cidr: '10.6.0.0/16', azs: ['a'] });
    await createService(acct, {
      cluster,
      name: 'healthy',
      taskDefinition: td,
      launchType: 'FARGATE',
      subnets: healthy.subnetIds,
    });
    const stale = await plan(acct);
    // The subnet disappears between plan and apply: AWS refuses the endpoint in it.
    await acct.ec2.send(new DeleteSubnetCommand({ SubnetId: broken.subnetIds[0] }));

    const results = await applyAccountPlan(stale, poolFor(acct));
    const inVpc = (vpcId: string) => results.filter((result) => result.vpcId === vpcId);
    expect(inVpc(healthy.vpcId).every((result) => result.outcome === 'succeeded')).toBe(true);
    const brokenLogs = inVpc(broken.vpcId).find((result) => result.kind === 'CREATE_ENDPOINT');
    expect(brokenLogs?.outcome).toBe('failed');
    expect(brokenLogs?.message).toMatch(/subnet/i);
    expect(applySucceeded(results)).toBe(false);
    expect((await endpointsOf(acct, healthy.vpcId)).map(shortName)).toEqual(['logs']);
  });
});

describe('safety', () => {
  it('with VPC DNS off, plans no interface endpoint (AWS would refuse private DNS) and reports the blocker', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.7.0.0/16', azs: ['a'], dnsHostnames: false });
    const cluster = await createCluster(acct, 'fg');
    const td = await registerTaskDefinition(acct, { family: 'l', images: ['nginx:1'], logDriver: 'awslogs' });
    await createService(acct, {
      cluster,
      name: 's',
      taskDefinition: td,
      launchType: 'FARGATE',
      subnets: network.subnetIds,
    });

    const blocked = await plan(acct);
    expect(blocked.actions).toEqual([]);
    expect(blocked.findings.map((f) => [f.code, f.remediation.status])).toEqual([
      ['VPC_DNS_DISABLED', 'disabled'],
      ['ENDPOINT_MISSING', 'blocked'],
    ]);

    const config = parseConfig({ remediation: { enableVpcDnsAttributes: true } });
    const pool = poolFor(acct);
    const results = await applyAccountPlan(await plan(acct, config, pool), pool);
    expect(
      results.map((r) => [r.kind, r.outcome]),
      JSON.stringify(results),
    ).toEqual([
      ['ENABLE_VPC_DNS', 'succeeded'],
      ['CREATE_SECURITY_GROUP', 'succeeded'],
      ['CREATE_ENDPOINT', 'succeeded'],
    ]);
    expect((await plan(acct)).findings).toEqual([]);
  });

  it('leaves ignored VPCs alone and deletes a wrong-Region endpoint only when allowed, after its replacement', async () => {
    const acct = newAccount();
    const ignored = await createNetwork(acct, { cidr: '10.8.0.0/16', azs: ['a'] });
    await acct.ec2.send(
      new (await import('@aws-sdk/client-ec2')).CreateTagsCommand({
        Resources: [ignored.vpcId],
        Tags: [{ Key: 'ecs-endpoint-remediator/ignore', Value: 'true' }],
      }),
    );
    const copied = await createNetwork(acct, { cidr: '10.9.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 'fg');
    const td = await registerTaskDefinition(acct, { family: 'l', images: ['nginx:1'], logDriver: 'awslogs' });
    for (const [name, network] of [
      ['ignored', ignored],
      ['copied', copied],
    ] as const) {
      await createService(acct, {
        cluster,
        name,
        taskDefinition: td,
        launchType: 'FARGATE',
        subnets: network.subnetIds,
      });
    }
    const stray = await createEndpoint(acct, {
      vpcId: copied.vpcId,
      service: 'logs',
      region: 'us-west-2',
      privateDns: false,
    });

    const byDefault = await plan(acct);
    expect(byDefault.vpcs.find((vpc) => vpc.vpcId === ignored.vpcId)).toMatchObject({
      inScope: false,
      outOfScopeReason: 'ignore-tag',
    });
    expect(byDefault.findings.some((f) => f.vpcId === ignored.vpcId)).toBe(false);
    expect(byDefault.findings.find((f) => f.code === 'ENDPOINT_WRONG_REGION')?.remediation.status).toBe(
      'disabled',
    );

    const config = parseConfig({ remediation: { deleteWrongRegionEndpoints: 'any' } });
    const pool = poolFor(acct);
    const results = await applyAccountPlan(await plan(acct, config, pool), pool);
    expect(results.map((r) => [r.kind, r.outcome])).toEqual([
      ['CREATE_SECURITY_GROUP', 'succeeded'],
      ['CREATE_ENDPOINT', 'succeeded'],
      ['DELETE_ENDPOINT', 'succeeded'],
    ]);
    expect((await endpointsOf(acct, copied.vpcId)).map((e) => e.VpcEndpointId)).not.toContain(stray);
    expect(await endpointsOf(acct, ignored.vpcId)).toEqual([]);
  });

  it('caps the endpoints created per run and defers the rest to the next run', async () => {
    const acct = newAccount();
    await ec2PrivateVpc(acct);
    const config = parseConfig({ limits: { maxEndpointsCreatedPerRun: 2 } });
    const pool = poolFor(acct);
    const capped = await plan(acct, config, pool);
    expect(capped.stats.endpointsToCreate).toBe(2);
    const results = await applyAccountPlan(capped, pool);
    expect(results.filter((r) => r.kind === 'CREATE_ENDPOINT' && r.outcome === 'succeeded')).toHaveLength(2);
    expect(results.filter((r) => r.outcome === 'skipped').length).toBeGreaterThan(0);
    const next = await plan(acct, config);
    expect(next.findings.filter((f) => f.code === 'ENDPOINT_MISSING')).toHaveLength(9);
  });
});
