// Self-test of the AWS-emulator harness: every moto patch (test/harness/moto_server.py) and every seed
// builder (test/harness/seed.ts), through the real SDK v3, each test in an account of its own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateTagsCommand,
  DeleteVpcEndpointsCommand,
  DescribeDhcpOptionsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  ModifyVpcAttributeCommand,
  ModifyVpcEndpointCommand,
  CreateVpcEndpointCommand,
  paginateDescribeVpcEndpoints,
} from '@aws-sdk/client-ec2';
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  paginateListServices,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { inRegion, newAccount, newAccountId } from '../harness/aws.ts';
import type { Account } from '../harness/aws.ts';
import { repoRoot, resetMoto, startMoto } from '../harness/moto.ts';
import {
  accountFor,
  addContainerInstance,
  addInternetEgress,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  createSubnet,
  createVpc,
  putParameter,
  registerTaskDefinition,
  runStandaloneTask,
  serviceName,
  setDhcpOptions,
  subnetCidr,
} from '../harness/seed.ts';

async function awsError(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return { name: err.name, message: err.message };
    throw err;
  }
  throw new Error('expected the call to fail');
}

async function endpoint(acct: Account, id: string): Promise<VpcEndpoint> {
  const out = await acct.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
  const ep = out.VpcEndpoints?.[0];
  if (!ep) throw new Error(`no endpoint ${id}`);
  return ep;
}

/** VPC (DNS on) with subnets in a, a (second one), b. */
async function vpcWithSubnets(acct: Account, dns = true) {
  const vpcId = await createVpc(acct, { cidr: '10.1.0.0/16', dnsSupport: dns, dnsHostnames: dns });
  const a = await createSubnet(acct, { vpcId, cidr: '10.1.0.0/24', az: 'a' });
  const a2 = await createSubnet(acct, { vpcId, cidr: '10.1.1.0/24', az: 'a' });
  const b = await createSubnet(acct, { vpcId, cidr: '10.1.2.0/24', az: 'b' });
  return { vpcId, a, a2, b };
}

const ECS_SERVICES = [
  'ecs',
  'ecs-agent',
  'ecs-telemetry',
  'ecr.api',
  'ecr.dkr',
  's3',
  'logs',
  'secretsmanager',
  'ssm',
  'ssmmessages',
  'ec2messages',
];

describe('accounts', () => {
  it('isolates state by the 12-digit access key id', async () => {
    const a = newAccount();
    const b = newAccount();
    expect(a.accountId).toMatch(/^\d{12}$/);
    expect(a.accountId).not.toBe(b.accountId);
    const vpcId = await createVpc(a, { cidr: '10.9.0.0/16' });
    const seenByA = await a.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    expect(seenByA.Vpcs?.[0]?.OwnerId).toBe(a.accountId);
    const seenByB = await b.ec2.send(new DescribeVpcsCommand({}));
    expect(seenByB.Vpcs?.map((v) => v.VpcId)).not.toContain(vpcId);
    // A new account has what AWS gives it: the default VPC only.
    expect(seenByB.Vpcs?.map((v) => v.IsDefault)).toEqual([true]);
    const arn = await createCluster(a, 'iso');
    expect(arn).toBe(`arn:aws:ecs:us-east-1:${a.accountId}:cluster/iso`);
    expect((await b.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
  });

  it('hands out unique ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newAccountId()));
    expect(ids.size).toBe(1000);
  });

  it('gives a child process the same account through env', async () => {
    const acct = newAccount('eu-west-1');
    const vpcId = await createVpc(acct, { cidr: '10.8.0.0/16' });
    const script = `
      import { EC2Client, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
      const out = await new EC2Client({}).send(new DescribeVpcsCommand({}));
      console.log(JSON.stringify(out.Vpcs.map((v) => v.VpcId)));`;
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...acct.env };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      env,
    });
    expect(JSON.parse(stdout)).toContain(vpcId);
  });
});

describe('moto.ts', () => {
  it('starts a server of its own, resets it and stops it', async () => {
    const moto = await startMoto();
    try {
      expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
      const acct = accountFor(moto.endpoint, newAccountId());
      await createCluster(acct, 'before-reset');
      await resetMoto(moto.endpoint);
      expect((await acct.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
    } finally {
      await moto.stop();
    }
    await expect(fetch(`${moto.endpoint}/moto-api/`)).rejects.toThrow();
  });
});

describe('DescribeVpcEndpointServices', () => {
  it.each(['us-east-1', 'eu-west-1'])('offers the ECS-related services in %s', async (region) => {
    const acct = newAccount(region);
    const out = await acct.ec2.send(
      new DescribeVpcEndpointServicesCommand({
        ServiceNames: ECS_SERVICES.map((s) => serviceName(region, s)),
      }),
    );
    const names = new Set(out.ServiceDetails?.map((d) => d.ServiceName));
    for (const s of ECS_SERVICES) expect(names).toContain(serviceName(region, s));
    for (const d of out.ServiceDetails ?? []) expect(d.AvailabilityZones?.length).toBeGreaterThanOrEqual(3);
    const s3Types = out.ServiceDetails?.filter((d) => d.ServiceName === serviceName(region, 's3')).flatMap(
      (d) => d.ServiceType?.map((t) => t.ServiceType) ?? [],
    );
    expect(new Set(s3Types)).toEqual(new Set(['Gateway', 'Interface']));
  });

  it('pages with MaxResults/NextToken', async () => {
    const acct = newAccount();
    const first = await acct.ec2.send(new DescribeVpcEndpointServicesCommand({ MaxResults: 5 }));
    expect(first.ServiceDetails).toHaveLength(5);
    expect(first.NextToken).toBeTruthy();
    const second = await acct.ec2.send(
      new DescribeVpcEndpointServicesCommand({ MaxResults: 5, NextToken: first.NextToken }),
    );
    expect(second.ServiceDetails?.[0]?.ServiceName).not.toBe(first.ServiceDetails?.[0]?.ServiceName);
  });
});

describe('CreateVpcEndpoint', () => {
  it('is idempotent on ClientToken', async () => {
    const acct = newAccount();
    const { vpcId, a } = await vpcWithSubnets(acct);
    const input = {
      VpcId: vpcId,
      ServiceName: serviceName(acct.region, 'ecs'),
      VpcEndpointType: 'Interface' as const,
      SubnetIds: [a],
      ClientToken: 'token-1',
    };
    const first = await acct.ec2.send(new CreateVpcEndpointCommand(input));
    const again = await acct.ec2.send(new CreateVpcEndpointCommand(input));
    expect(again.VpcEndpoint?.VpcEndpointId).toBe(first.VpcEndpoint?.VpcEndpointId);
    expect(again.ClientToken).toBe('token-1');
    const all = await acct.ec2.send(new DescribeVpcEndpointsCommand({}));
    expect(all.VpcEndpoints).toHaveLength(1);
    const mismatch = await awsError(
      acct.ec2.send(
        new CreateVpcEndpointCommand({ ...input, ServiceName: serviceName(acct.region, 'ecr.api') }),
      ),
    );
    expect(mismatch.name).toBe('IdempotentParameterMismatch');
  });

  it('serialises concurrent creates: one endpoint per token, one private DNS winner', async () => {
    const acct = newAccount();
    const { vpcId, a } = await vpcWithSubnets(acct);
    const input = (ClientToken: string) =>
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        ServiceName: serviceName(acct.region, 'ssmmessages'),
        VpcEndpointType: 'Interface',
        SubnetIds: [a],
        ClientToken,
      });
    const same = await Promise.all(Array.from({ length: 6 }, () => acct.ec2.send(input('same'))));
    expect(new Set(same.map((r) => r.VpcEndpoint?.VpcEndpointId)).size).toBe(1);
    const racing = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        acct.ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: vpcId,
            ServiceName: serviceName(acct.region, 'ec2messages'),
            VpcEndpointType: 'Interface',
            ClientToken: `t${i}`,
          }),
        ),
      ),
    );
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('rejects service names the Region does not offer; accepts cross-Region ones with ServiceRegion', async () => {
    const acct = newAccount();
    const { vpcId } = await vpcWithSubnets(acct);
    const unknown = await awsError(
      acct.ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: 'com.amazonaws.us-east-1.nope',
          VpcEndpointType: 'Interface',
        }),
      ),
    );
    expect(unknown.name).toBe('InvalidServiceName');
    const otherRegion = await awsError(
      acct.ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: serviceName('eu-west-1', 'ecs'),
          VpcEndpointType: 'Interface',
        }),
      ),
    );
    expect(otherRegion.name).toBe('InvalidServiceName');
    const wrongType = await awsError(
      acct.ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: serviceName(acct.region, 'ecs'),
          VpcEndpointType: 'Gateway',
        }),
      ),
    );
    expect(wrongType.name).toBe('InvalidParameter');

    const id = await createEndpoint(acct, { vpcId, service: 'ecs', region: 'eu-west-1' });
    const ep = await endpoint(acct, id);
    expect(ep.ServiceName).toBe('com.amazonaws.eu-west-1.ecs');
    expect(ep.ServiceRegion).toBe('eu-west-1');
    // Its private DNS name is the other Region's, so it does not conflict with a local ecs endpoint.
    await createEndpoint(acct, { vpcId, service: 'ecs' });
  });

  it('rejects unknown security groups and two subnets in one AZ', async () => {
    const acct = newAccount();
    const { vpcId, a, a2 } = await vpcWithSubnets(acct);
    const sg = await awsError(
      createEndpoint(acct, { vpcId, service: 'ssm', securityGroupIds: ['sg-0123456789abcdef0'] }),
    );
    expect(sg.name).toBe('InvalidGroup.NotFound');
    const dup = await awsError(createEndpoint(acct, { vpcId, service: 'ssm', subnetIds: [a, a2] }));
    expect(dup.name).toBe('DuplicateSubnetsInSameZone');
  });

  it('defaults: private DNS on for Interface, off for Gateway; the VPC default group; ENIs in the subnets', async () => {
    const acct = newAccount();
    const { vpcId, a, b } = await vpcWithSubnets(acct);
    const ep = await endpoint(
      acct,
      await createEndpoint(acct, { vpcId, service: 'ecr.dkr', subnetIds: [a, b] }),
    );
    expect(ep.State).toBe('available');
    expect(ep.VpcEndpointType).toBe('Interface');
    expect(ep.PrivateDnsEnabled).toBe(true);
    expect(ep.Groups?.map((g) => g.GroupName)).toEqual(['default']);
    expect(ep.DnsEntries?.map((d) => d.DnsName)).toContain('*.dkr.ecr.us-east-1.amazonaws.com');
    const enis = await acct.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ep.NetworkInterfaceIds }),
    );
    expect(enis.NetworkInterfaces?.map((n) => n.SubnetId).sort()).toEqual([a, b].sort());
    for (const eni of enis.NetworkInterfaces ?? []) {
      expect(eni.InterfaceType).toBe('vpc_endpoint');
      expect(eni.PrivateIpAddress).toMatch(/^10\.1\.[02]\./);
    }
    const gw = await endpoint(acct, await createEndpoint(acct, { vpcId, service: 's3', type: 'Gateway' }));
    expect(gw.PrivateDnsEnabled).toBe(false);
    expect(gw.VpcEndpointType).toBe('Gateway');
  });

  it('rejects conflicting private DNS, and private DNS without the VPC DNS attributes', async () => {
    const acct = newAccount();
    const { vpcId, a } = await vpcWithSubnets(acct);
    const first = await createEndpoint(acct, { vpcId, service: 'ecs', subnetIds: [a] });
    const conflict = await awsError(createEndpoint(acct, { vpcId, service: 'ecs', privateDns: true }));
    expect(conflict.name).toBe('InvalidParameter');
    expect(conflict.message).toBe(
      `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ecs.us-east-1.amazonaws.com in the VPC ${vpcId}`,
    );
    // Without private DNS a duplicate is accepted (real AWS too), and a deleted endpoint no longer conflicts.
    await createEndpoint(acct, { vpcId, service: 'ecs', privateDns: false });
    await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [first] }));
    expect((await endpoint(acct, first)).State).toBe('deleted');
    await createEndpoint(acct, { vpcId, service: 'ecs' });

    const noDns = await vpcWithSubnets(acct, false);
    const off = await awsError(createEndpoint(acct, { vpcId: noDns.vpcId, service: 'ecs' }));
    expect(off.name).toBe('InvalidParameter');
    expect(off.message).toMatch(/enableDnsSupport and enableDnsHostnames/);
    await createEndpoint(acct, { vpcId: noDns.vpcId, service: 'ecs', privateDns: false });
  });
});

describe('ModifyVpcEndpoint', () => {
  it('honours PrivateDnsEnabled with the same checks', async () => {
    const acct = newAccount();
    const { vpcId } = await vpcWithSubnets(acct);
    const withDns = await createEndpoint(acct, { vpcId, service: 'logs' });
    const without = await createEndpoint(acct, { vpcId, service: 'logs', privateDns: false });
    const conflict = await awsError(
      acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: without, PrivateDnsEnabled: true })),
    );
    expect(conflict.name).toBe('InvalidParameter');
    await acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: withDns, PrivateDnsEnabled: false }));
    await acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: without, PrivateDnsEnabled: true }));
    expect((await endpoint(acct, withDns)).PrivateDnsEnabled).toBe(false);
    expect((await endpoint(acct, without)).PrivateDnsEnabled).toBe(true);
  });

  it('adds and removes security groups and subnets', async () => {
    const acct = newAccount();
    const { vpcId, a, a2, b } = await vpcWithSubnets(acct);
    const sg1 = await createSecurityGroup(acct, {
      vpcId,
      name: 'one',
      ingress: [{ port: 443, cidr: '10.1.0.0/16' }],
    });
    const sg2 = await createSecurityGroup(acct, { vpcId, name: 'two' });
    const id = await createEndpoint(acct, {
      vpcId,
      service: 'ecs-agent',
      subnetIds: [a],
      securityGroupIds: [sg1],
    });

    const missing = await awsError(
      acct.ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSecurityGroupIds: ['sg-0123456789abcdef0'] }),
      ),
    );
    expect(missing.name).toBe('InvalidGroup.NotFound');
    await acct.ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: id,
        AddSecurityGroupIds: [sg2],
        RemoveSecurityGroupIds: [sg1],
      }),
    );
    expect((await endpoint(acct, id)).Groups?.map((g) => g.GroupId)).toEqual([sg2]);

    const dup = await awsError(
      acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [a2] })),
    );
    expect(dup.name).toBe('DuplicateSubnetsInSameZone');
    // Swapping a for a2 (same AZ) in one call is fine.
    await acct.ec2.send(
      new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [a2, b], RemoveSubnetIds: [a] }),
    );
    const ep = await endpoint(acct, id);
    expect(ep.SubnetIds?.sort()).toEqual([a2, b].sort());
    const enis = await acct.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ep.NetworkInterfaceIds }),
    );
    expect(enis.NetworkInterfaces?.map((n) => n.SubnetId).sort()).toEqual([a2, b].sort());
    expect(enis.NetworkInterfaces?.flatMap((n) => n.Groups?.map((g) => g.GroupId))).toEqual([sg2, sg2]);
  });

  it('adds gateway routes with AddRouteTableIds', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { egress: 'igw' });
    const rt = net.egress?.routeTableId ?? '';
    const id = await createEndpoint(acct, { vpcId: net.vpcId, service: 's3', type: 'Gateway' });
    await acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddRouteTableIds: [rt] }));
    expect((await endpoint(acct, id)).RouteTableIds).toEqual([rt]);
    const tables = await acct.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rt] }));
    const routes = tables.RouteTables?.[0]?.Routes ?? [];
    expect(routes.find((r) => r.GatewayId === id)?.DestinationPrefixListId).toMatch(/^pl-/);
    await acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, RemoveRouteTableIds: [rt] }));
    const after = await acct.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rt] }));
    expect(after.RouteTables?.[0]?.Routes?.some((r) => r.GatewayId === id)).toBe(false);
  });
});

describe('DescribeVpcEndpoints filters', () => {
  it('supports vpc-endpoint-id, service-region, vpc-endpoint-state and vpc-endpoint-type', async () => {
    const acct = newAccount();
    const { vpcId } = await vpcWithSubnets(acct);
    const local = await createEndpoint(acct, { vpcId, service: 'logs' });
    const remote = await createEndpoint(acct, {
      vpcId,
      service: 'logs',
      region: 'us-west-2',
      privateDns: false,
    });
    const ids = async (Name: string, Values: string[]) =>
      (
        await acct.ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name, Values }] }))
      ).VpcEndpoints?.map((e) => e.VpcEndpointId);
    expect(await ids('vpc-endpoint-id', [remote])).toEqual([remote]);
    expect(await ids('service-region', ['us-west-2'])).toEqual([remote]);
    expect(await ids('service-region', ['us-east-1'])).toEqual([local]);
    expect(await ids('vpc-endpoint-type', ['Interface'])).toHaveLength(2);
    await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [local] }));
    expect(await ids('vpc-endpoint-state', ['available'])).toEqual([remote]);
  });
});

describe('endpoint states (P16)', () => {
  it('a VPC tagged eer-test:endpoint-pending-seconds keeps its new endpoints pending that long after creation', async () => {
    const acct = newAccount();
    const { vpcId } = await vpcWithSubnets(acct);
    const before = await createEndpoint(acct, { vpcId, service: 'logs' });
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [vpcId],
        Tags: [{ Key: 'eer-test:endpoint-pending-seconds', Value: '3600' }],
      }),
    );
    const created = await acct.ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        ServiceName: serviceName(acct.region, 'ecs'),
        VpcEndpointType: 'Interface',
      }),
    );
    const id = created.VpcEndpoint?.VpcEndpointId ?? '';
    expect(created.VpcEndpoint?.State).toBe('pending');
    const inState = async (state: string) =>
      (
        await acct.ec2.send(
          new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-endpoint-state', Values: [state] }] }),
        )
      ).VpcEndpoints?.map((e) => e.VpcEndpointId);
    // Made before the tag: available at once, as moto has it; the new one pending, filters included.
    expect(await inState('available')).toEqual([before]);
    expect(await inState('pending')).toEqual([id]);
    // Its time passes (the tag lowered to 0 s): available, and no longer pending to the filters.
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [vpcId],
        Tags: [{ Key: 'eer-test:endpoint-pending-seconds', Value: '0' }],
      }),
    );
    expect((await endpoint(acct, id)).State).toBe('available');
    expect(await inState('pending')).toEqual([]);
  });
});

describe('ModifyVpcAttribute', () => {
  it('takes exactly one attribute', async () => {
    const acct = newAccount();
    const vpcId = await createVpc(acct, { cidr: '10.7.0.0/16' });
    const none = await awsError(acct.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId })));
    expect(none.name).toBe('MissingParameter');
    const two = await awsError(
      acct.ec2.send(
        new ModifyVpcAttributeCommand({
          VpcId: vpcId,
          EnableDnsSupport: { Value: true },
          EnableDnsHostnames: { Value: true },
        }),
      ),
    );
    expect(two.name).toBe('InvalidParameterCombination');
  });
});

describe('DeleteVpcEndpoints', () => {
  it('reports unknown ids as unsuccessful', async () => {
    const acct = newAccount();
    const out = await acct.ec2.send(
      new DeleteVpcEndpointsCommand({ VpcEndpointIds: ['vpce-0123456789abcdef0'] }),
    );
    expect(out.Unsuccessful?.[0]?.Error?.Code).toBe('InvalidVpcEndpoint.NotFound');
  });
});

describe('paging', () => {
  it('DescribeVpcEndpoints honours MaxResults/NextToken', async () => {
    const acct = newAccount();
    const { vpcId } = await vpcWithSubnets(acct);
    const services = ['ecs', 'ecs-agent', 'ecs-telemetry', 'ecr.api', 'ecr.dkr', 'logs', 'ssm'];
    for (const service of services) await createEndpoint(acct, { vpcId, service });
    const first = await acct.ec2.send(new DescribeVpcEndpointsCommand({ MaxResults: 5 }));
    expect(first.VpcEndpoints).toHaveLength(5);
    expect(first.NextToken).toBeTruthy();
    const second = await acct.ec2.send(
      new DescribeVpcEndpointsCommand({ MaxResults: 5, NextToken: first.NextToken }),
    );
    expect(second.VpcEndpoints).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
    const all: string[] = [];
    for await (const page of paginateDescribeVpcEndpoints({ client: acct.ec2, pageSize: 3 }, {})) {
      all.push(...(page.VpcEndpoints ?? []).map((e) => e.ServiceName ?? ''));
    }
    expect(all.sort()).toEqual(services.map((s) => serviceName(acct.region, s)).sort());
    const filtered = await acct.ec2.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'service-name', Values: [serviceName(acct.region, 'ssm')] }],
      }),
    );
    expect(filtered.VpcEndpoints).toHaveLength(1);
  });

  it('ECS list calls page (ListServices 10 by default) and DescribeServices takes at most 10', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    await createCluster(acct, 'big');
    const td = await registerTaskDefinition(acct, { family: 'web', images: ['nginx:latest'] });
    const names = Array.from({ length: 12 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      await createService(acct, {
        cluster: 'big',
        name,
        taskDefinition: td,
        launchType: 'FARGATE',
        subnets: net.subnetIds,
      });
    }
    // A cluster whose name ends in "big" must not leak into big's listing (moto matched substrings).
    await createCluster(acct, 'notbig');
    await createService(acct, {
      cluster: 'notbig',
      name: 'svc-00',
      taskDefinition: td,
      launchType: 'FARGATE',
      subnets: net.subnetIds,
    });
    const page1 = await acct.ecs.send(new ListServicesCommand({ cluster: 'big' }));
    expect(page1.serviceArns).toHaveLength(10);
    expect(page1.nextToken).toBeTruthy();
    const small = await acct.ecs.send(new ListServicesCommand({ cluster: 'big', maxResults: 5 }));
    expect(small.serviceArns).toHaveLength(5);
    const all: string[] = [];
    for await (const page of paginateListServices({ client: acct.ecs }, { cluster: 'big' }))
      all.push(...(page.serviceArns ?? []));
    expect(all).toHaveLength(12);
    const tooMany = await awsError(
      acct.ecs.send(new DescribeServicesCommand({ cluster: 'big', services: all })),
    );
    expect(tooMany.name).toBe('InvalidParameterException');
    const ten = await acct.ecs.send(
      new DescribeServicesCommand({ cluster: 'big', services: all.slice(0, 10) }),
    );
    expect(ten.services).toHaveLength(10);

    for (let i = 0; i < 6; i++) await createCluster(acct, `c${i}`);
    const clusters = await acct.ecs.send(new ListClustersCommand({ maxResults: 5 }));
    expect(clusters.clusterArns).toHaveLength(5);
    expect(clusters.nextToken).toBeTruthy();
    const rest = await acct.ecs.send(
      new ListClustersCommand({ maxResults: 5, nextToken: clusters.nextToken }),
    );
    expect(rest.clusterArns).toHaveLength(3); // big, notbig, c0..c5

    const tasks = await runStandaloneTask(acct, {
      cluster: 'big',
      taskDefinition: td,
      subnets: net.subnetIds,
      count: 7,
    });
    expect(tasks).toHaveLength(7);
    const taskPage = await acct.ecs.send(new ListTasksCommand({ cluster: 'big', maxResults: 5 }));
    expect(taskPage.taskArns).toHaveLength(5);
    expect(taskPage.nextToken).toBeTruthy();
  });

  it('ListContainerInstances pages', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { azs: ['a'] });
    await createCluster(acct, 'ec2');
    for (let i = 0; i < 6; i++) {
      const subnetId = net.subnetIds[0] ?? '';
      await addContainerInstance(acct, { cluster: 'ec2', subnetId });
    }
    const page = await acct.ecs.send(new ListContainerInstancesCommand({ cluster: 'ec2', maxResults: 5 }));
    expect(page.containerInstanceArns).toHaveLength(5);
    const next = await acct.ecs.send(
      new ListContainerInstancesCommand({ cluster: 'ec2', maxResults: 5, nextToken: page.nextToken }),
    );
    expect(next.containerInstanceArns).toHaveLength(1);
    expect(next.nextToken).toBeUndefined();
  });
});

describe('ECS', () => {
  it('ListContainerInstances honours a cluster query language filter (P13), then pages', async () => {
    const acct = newAccount();
    const one = await createNetwork(acct, { cidr: '10.1.0.0/16', azs: ['a'] });
    const two = await createNetwork(acct, { cidr: '10.2.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 'ec2');
    const inOne = [];
    for (let i = 0; i < 3; i++)
      inOne.push(await addContainerInstance(acct, { cluster, subnetId: one.subnetIds[0] ?? '' }));
    const inTwo = await addContainerInstance(acct, {
      cluster,
      subnetId: two.subnetIds[0] ?? '',
      extraAttributes: { 'custom.tier': 'batch' },
    });
    const list = async (filter: string, maxResults?: number, nextToken?: string) =>
      acct.ecs.send(new ListContainerInstancesCommand({ cluster, filter, maxResults, nextToken }));
    const arnsOf = (instances: ReadonlyArray<{ containerInstanceArn: string }>) =>
      instances.map((ci) => ci.containerInstanceArn).sort();

    expect((await list(`attribute:ecs.vpc-id == ${one.vpcId}`)).containerInstanceArns?.sort()).toEqual(
      arnsOf(inOne),
    );
    expect(
      (await list(`attribute:ecs.vpc-id in [${one.vpcId}, ${two.vpcId}]`)).containerInstanceArns?.sort(),
    ).toEqual(arnsOf([...inOne, inTwo]));
    expect((await list(`attribute:ecs.vpc-id in [vpc-0000000000000000]`)).containerInstanceArns).toEqual([]);
    expect((await list(`attribute:ecs.vpc-id != ${one.vpcId}`)).containerInstanceArns).toEqual([
      inTwo.containerInstanceArn,
    ]);
    expect((await list('attribute:custom.tier exists')).containerInstanceArns).toEqual([
      inTwo.containerInstanceArn,
    ]);
    expect(
      (await list(`attribute:ecs.vpc-id == ${one.vpcId} and ec2InstanceId == ${inOne[1]?.instanceId ?? ''}`))
        .containerInstanceArns,
    ).toEqual([inOne[1]?.containerInstanceArn]);
    // Paging applies to the filtered list.
    const first = await list(`attribute:ecs.vpc-id in [${one.vpcId}]`, 2);
    expect(first.containerInstanceArns).toHaveLength(2);
    const rest = await list(`attribute:ecs.vpc-id in [${one.vpcId}]`, 2, first.nextToken);
    expect(rest.containerInstanceArns).toHaveLength(1);
    expect(rest.nextToken).toBeUndefined();
    // What the harness does not emulate fails loudly instead of listing everything.
    const unsupported = await awsError(list('runningTasksCount > 1'));
    expect(unsupported.name).toBe('InvalidParameterException');
    expect(unsupported.message).toContain('P13');
    // An unknown cluster is an error, as in AWS.
    const missing = await awsError(
      acct.ecs.send(new ListContainerInstancesCommand({ cluster: 'no-such-cluster' })),
    );
    expect(missing.name).toBe('ClusterNotFoundException');
  });

  it('RegisterContainerInstance honours versionInfo and attributes', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { azs: ['a', 'b'] });
    const cluster = await createCluster(acct, 'ec2');
    const old = await addContainerInstance(acct, {
      cluster: 'ec2',
      subnetId: net.subnetIds[0] ?? '',
      agentVersion: '1.51.0',
    });
    const win = await addContainerInstance(acct, {
      cluster,
      subnetId: net.subnetIds[1] ?? '',
      osType: 'windows',
      amiId: 'ami-0123456789abcdef0',
      extraAttributes: { 'custom.tier': 'batch' },
    });
    const out = await acct.ecs.send(
      new DescribeContainerInstancesCommand({
        cluster,
        containerInstances: [old.containerInstanceArn, win.containerInstanceArn],
      }),
    );
    const [ci1, ci2] = out.containerInstances ?? [];
    const attrs = (ci: typeof ci1) =>
      Object.fromEntries((ci?.attributes ?? []).map((x) => [x.name ?? '', x.value] as const));
    expect(ci1?.versionInfo?.agentVersion).toBe('1.51.0');
    expect(ci1?.agentConnected).toBe(true);
    expect(ci1?.registeredAt).toBeInstanceOf(Date);
    expect(ci1?.ec2InstanceId).toBe(old.instanceId);
    expect(attrs(ci1)).toMatchObject({
      'ecs.os-type': 'linux',
      'ecs.os-family': 'LINUX',
      'ecs.availability-zone': 'us-east-1a',
    });
    expect(Object.keys(attrs(ci1))).toContain('ecs.capability.secrets.asm.environment-variables');
    expect(ci2?.versionInfo?.agentVersion).toBe('1.80.0');
    expect(attrs(ci2)).toMatchObject({
      'ecs.os-type': 'windows',
      'ecs.os-family': 'WINDOWS_SERVER_2019_FULL',
      'ecs.ami-id': 'ami-0123456789abcdef0',
      'custom.tier': 'batch',
    });
    const instances = await acct.ec2.send(new DescribeInstancesCommand({ InstanceIds: [old.instanceId] }));
    expect(instances.Reservations?.[0]?.Instances?.[0]?.SubnetId).toBe(net.subnetIds[0]);
  });

  it('CreateService honours capacityProviderStrategy and the cluster default', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    await createCluster(acct, 'plain');
    await createCluster(acct, 'spot', {
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    });
    const td = await registerTaskDefinition(acct, {
      family: 'api',
      images: ['nginx'],
      compatibilities: ['FARGATE', 'EC2'],
    });
    const common = { taskDefinition: td, subnets: net.subnetIds };
    await createService(acct, { ...common, cluster: 'plain', name: 'ec2-default' });
    await createService(acct, { ...common, cluster: 'plain', name: 'fargate', launchType: 'FARGATE' });
    await createService(acct, {
      ...common,
      cluster: 'plain',
      name: 'cps',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 1 }],
    });
    await createService(acct, { ...common, cluster: 'spot', name: 'inherits' });
    const both = await awsError(
      createService(acct, {
        ...common,
        cluster: 'plain',
        name: 'both',
        launchType: 'FARGATE',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }],
      }),
    );
    expect(both.name).toBe('InvalidParameterException');

    const plain = await acct.ecs.send(
      new DescribeServicesCommand({ cluster: 'plain', services: ['ec2-default', 'fargate', 'cps'] }),
    );
    const byName = Object.fromEntries((plain.services ?? []).map((s) => [s.serviceName ?? '', s] as const));
    expect(byName['ec2-default']?.launchType).toBe('EC2');
    expect(byName.fargate?.launchType).toBe('FARGATE');
    expect(byName.cps?.launchType).toBeUndefined();
    expect(byName.cps?.capacityProviderStrategy?.[0]?.capacityProvider).toBe('FARGATE');
    expect(byName.cps?.networkConfiguration?.awsvpcConfiguration?.subnets).toEqual(net.subnetIds);
    const spot = await acct.ecs.send(
      new DescribeServicesCommand({ cluster: 'spot', services: ['inherits'] }),
    );
    expect(spot.services?.[0]?.launchType).toBeUndefined();
    expect(spot.services?.[0]?.capacityProviderStrategy?.[0]?.capacityProvider).toBe('FARGATE_SPOT');
  });

  it('ListTasks filters by serviceName (task group) and lists RUNNING tasks by default', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    await createCluster(acct, 'c');
    const td = await registerTaskDefinition(acct, { family: 'worker', images: ['busybox'] });
    const svcTasks = await runStandaloneTask(acct, {
      cluster: 'c',
      taskDefinition: td,
      subnets: net.subnetIds,
      group: 'service:worker',
      count: 2,
    });
    const other = await runStandaloneTask(acct, { cluster: 'c', taskDefinition: td, subnets: net.subnetIds });
    await createCluster(acct, 'elsewhere');
    await runStandaloneTask(acct, { cluster: 'elsewhere', taskDefinition: td, subnets: net.subnetIds });
    const bySvc = await acct.ecs.send(new ListTasksCommand({ cluster: 'c', serviceName: 'worker' }));
    expect(bySvc.taskArns?.sort()).toEqual([...svcTasks].sort());
    const all = await acct.ecs.send(new ListTasksCommand({ cluster: 'c' }));
    expect(all.taskArns).toHaveLength(3);
    expect(all.taskArns).toContain(other[0]);
    const stopped = await acct.ecs.send(new ListTasksCommand({ cluster: 'c', desiredStatus: 'STOPPED' }));
    expect(stopped.taskArns).toEqual([]);
    // Tasks stay RUNNING however often they are described, until StopTask.
    for (let i = 0; i < 5; i++) {
      const d = await acct.ecs.send(new DescribeTasksCommand({ cluster: 'c', tasks: other }));
      expect(d.tasks?.[0]?.lastStatus).toBe('RUNNING');
    }
    await acct.ecs.send(new StopTaskCommand({ cluster: 'c', task: other[0] ?? '' }));
    const afterStop = await acct.ecs.send(new ListTasksCommand({ cluster: 'c', desiredStatus: 'STOPPED' }));
    expect(afterStop.taskArns).toEqual(other);
    expect((await acct.ecs.send(new ListTasksCommand({ cluster: 'c' }))).taskArns).toHaveLength(2);
  });
});

describe('DynamoDB BatchWriteItem (P19)', () => {
  /** A table keyed as the state table is (pk, sk), in a new account, and a writer of batches to it. */
  async function table() {
    const acct = newAccount();
    const dynamodb = new DynamoDBClient({
      endpoint: acct.endpoint,
      region: acct.region,
      credentials: acct.credentials,
      maxAttempts: 1,
    });
    const TableName = 'p17';
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    const write = (requests: WriteRequest[]) =>
      dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: requests } }));
    const items = async () =>
      ((await dynamodb.send(new ScanCommand({ TableName }))).Items ?? [])
        .map((item) => `${item.sk?.S ?? ''}=${item.v?.S ?? ''}`)
        .sort();
    return { write, items };
  }
  const put = (sk: string, v: string): WriteRequest => ({
    PutRequest: { Item: { pk: { S: 'p' }, sk: { S: sk }, v: { S: v } } },
  });
  const del = (sk: string): WriteRequest => ({ DeleteRequest: { Key: { pk: { S: 'p' }, sk: { S: sk } } } });

  it('refuses the whole batch when two requests name one key: a put and a delete, two puts of other content, two deletes', async () => {
    const { write, items } = await table();
    await write([put('a', '1')]);
    for (const batch of [
      [put('b', '1'), put('a', '2'), del('a')],
      [put('b', '1'), put('a', '2'), put('a', '3')],
      [put('b', '1'), del('a'), del('a')],
    ]) {
      const error = await awsError(write(batch));
      expect(error).toEqual({
        name: 'ValidationException',
        message: 'Provided list of item keys contains duplicates',
      });
    }
    // Nothing of a refused batch was written.
    expect(await items()).toEqual(['a=1']);
    // Requests on distinct keys go through.
    await write([put('a', '2'), put('b', '1'), del('c')]);
    expect(await items()).toEqual(['a=2', 'b=1']);
  });

  it('takes at most 25 requests', async () => {
    const { write, items } = await table();
    const requests = Array.from({ length: 26 }, (_, n) => put(`k${String(n).padStart(2, '0')}`, 'x'));
    expect(await awsError(write(requests))).toEqual({
      name: 'ValidationException',
      message: 'Too many items requested for the BatchWriteItem call',
    });
    expect(await items()).toEqual([]);
    await write(requests.slice(0, 25));
    expect(await items()).toHaveLength(25);
  });
});

describe('seed builders', () => {
  it('createVpc sets both DNS attributes explicitly', async () => {
    const acct = newAccount();
    const on = await createVpc(acct, { cidr: '10.2.0.0/16', name: 'on', tags: { team: 'x' } });
    const off = await createVpc(acct, { cidr: '10.3.0.0/16', dnsSupport: true, dnsHostnames: false });
    const attr = async (VpcId: string, Attribute: 'enableDnsSupport' | 'enableDnsHostnames') => {
      const out = await acct.ec2.send(new DescribeVpcAttributeCommand({ VpcId, Attribute }));
      return (Attribute === 'enableDnsSupport' ? out.EnableDnsSupport : out.EnableDnsHostnames)?.Value;
    };
    expect(await attr(on, 'enableDnsSupport')).toBe(true);
    expect(await attr(on, 'enableDnsHostnames')).toBe(true);
    expect(await attr(off, 'enableDnsHostnames')).toBe(false);
    const vpcs = await acct.ec2.send(new DescribeVpcsCommand({ VpcIds: [on] }));
    expect(vpcs.Vpcs?.[0]?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'Name', Value: 'on' },
        { Key: 'team', Value: 'x' },
      ]),
    );
  });

  it('createNetwork / addInternetEgress build igw and nat egress; other subnets stay on the main table', async () => {
    const acct = newAccount();
    const nat = await createNetwork(acct, { azs: ['a', 'b', 'c'], egress: 'nat' });
    expect(nat.subnetIds).toHaveLength(3);
    const tables = await acct.ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [nat.vpcId] }] }),
    );
    const privateRt = tables.RouteTables?.find((t) => t.RouteTableId === nat.egress?.routeTableId);
    expect(privateRt?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')?.NatGatewayId).toBe(
      nat.egress?.natGatewayId,
    );
    expect(privateRt?.Associations?.map((x) => x.SubnetId).sort()).toEqual([...nat.subnetIds].sort());
    const publicRt = tables.RouteTables?.find((t) => t.RouteTableId === nat.egress?.publicRouteTableId);
    expect(publicRt?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')?.GatewayId).toBe(
      nat.egress?.internetGatewayId,
    );

    const vpcId = await createVpc(acct, { cidr: '10.4.0.0/16' });
    const isolated = await createSubnet(acct, { vpcId, cidr: '10.4.0.0/24', az: 'a' });
    const open = await createSubnet(acct, { vpcId, cidr: '10.4.1.0/24', az: 'b' });
    const egress = await addInternetEgress(acct, { vpcId, subnetIds: [open], via: 'igw' });
    const t2 = await acct.ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    const main = t2.RouteTables?.find((t) => t.Associations?.some((x) => x.Main));
    expect(main?.Routes?.map((r) => r.DestinationCidrBlock)).toEqual(['10.4.0.0/16']);
    expect(main?.Associations?.some((x) => x.SubnetId === isolated)).toBe(false);
    const igwRt = t2.RouteTables?.find((t) => t.RouteTableId === egress.routeTableId);
    expect(igwRt?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')?.GatewayId).toBe(
      egress.internetGatewayId,
    );
    expect(subnetCidr('10.0.0.0/16', 3)).toBe('10.0.3.0/24');
  });

  it('createSecurityGroup writes ingress and replaces egress', async () => {
    const acct = newAccount();
    const vpcId = await createVpc(acct, { cidr: '10.5.0.0/16' });
    const tasks = await createSecurityGroup(acct, {
      vpcId,
      name: 'tasks',
      egress: [{ port: 443, cidr: '10.5.0.0/16' }],
    });
    const vpce = await createSecurityGroup(acct, {
      vpcId,
      name: 'vpce',
      ingress: [{ port: 443, groupId: tasks }],
    });
    const out = await acct.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [tasks, vpce] }));
    const byId = Object.fromEntries((out.SecurityGroups ?? []).map((g) => [g.GroupId ?? '', g] as const));
    expect(byId[tasks]?.IpPermissionsEgress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [expect.objectContaining({ CidrIp: '10.5.0.0/16' })],
      }),
    ]);
    expect(byId[vpce]?.IpPermissions?.[0]?.UserIdGroupPairs?.[0]?.GroupId).toBe(tasks);
    expect(byId[vpce]?.IpPermissionsEgress?.[0]?.IpProtocol).toBe('-1');
  });

  it('setDhcpOptions associates custom DNS servers', async () => {
    const acct = newAccount();
    const vpcId = await createVpc(acct, { cidr: '10.6.0.0/16' });
    const before = await acct.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    expect(before.Vpcs?.[0]?.DhcpOptionsId).toBe('default');
    const id = await setDhcpOptions(acct, { vpcId, domainNameServers: ['10.6.0.10'] });
    const after = await acct.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    expect(after.Vpcs?.[0]?.DhcpOptionsId).toBe(id);
    const opts = await acct.ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [id] }));
    const servers = opts.DhcpOptions?.[0]?.DhcpConfigurations?.find((c) => c.Key === 'domain-name-servers');
    expect(servers?.Values?.map((v) => v.Value)).toEqual(['10.6.0.10']);
  });

  it('createEndpoint seeds interface, gateway and cross-Region endpoints with tags', async () => {
    const acct = newAccount('eu-west-1');
    const net = await createNetwork(acct, { egress: 'igw' });
    const sg = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'vpce' });
    const ecs = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'ecs',
      subnetIds: net.subnetIds,
      securityGroupIds: [sg],
      name: 'ecs',
      tags: { owner: 'platform' },
    });
    const s3 = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 's3',
      type: 'Gateway',
      routeTableIds: [net.egress?.routeTableId ?? ''],
    });
    const wrong = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'ecr.api',
      region: 'us-east-1',
      privateDns: false,
    });
    const e1 = await endpoint(acct, ecs);
    expect(e1.ServiceName).toBe('com.amazonaws.eu-west-1.ecs');
    expect(e1.Groups?.map((g) => g.GroupId)).toEqual([sg]);
    expect(e1.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'Name', Value: 'ecs' },
        { Key: 'owner', Value: 'platform' },
      ]),
    );
    expect((await endpoint(acct, s3)).RouteTableIds).toEqual([net.egress?.routeTableId]);
    const e3 = await endpoint(acct, wrong);
    expect(e3.ServiceName).toBe('com.amazonaws.us-east-1.ecr.api');
    expect(e3.ServiceRegion).toBe('us-east-1');
    // The same account seen from another Region is empty there.
    const us = inRegion(acct, 'us-east-1');
    expect((await us.ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints).toEqual([]);
  });

  it('registerTaskDefinition writes images, awslogs, secrets and repository credentials', async () => {
    const acct = newAccount();
    const secretArn = await putParameter(acct, { name: '/app/db-password', value: 's3cr3t' });
    expect(secretArn).toBe(`arn:aws:ssm:us-east-1:${acct.accountId}:parameter/app/db-password`);
    const param = await acct.ssm.send(
      new GetParameterCommand({ Name: '/app/db-password', WithDecryption: true }),
    );
    expect(param.Parameter?.Value).toBe('s3cr3t');
    const arn = await registerTaskDefinition(acct, {
      family: 'app',
      images: [`${acct.accountId}.dkr.ecr.us-east-1.amazonaws.com/app:1`, 'public.ecr.aws/nginx/nginx:1.27'],
      logDriver: 'awslogs',
      secrets: [{ name: 'DB_PASSWORD', valueFrom: secretArn }],
      repositoryCredentials: {
        credentialsParameter: `arn:aws:secretsmanager:us-east-1:${acct.accountId}:secret:dockerhub`,
      },
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    });
    const out = await acct.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    const td = out.taskDefinition;
    expect(td?.networkMode).toBe('bridge');
    expect(td?.requiresCompatibilities).toEqual(['EC2']);
    expect(td?.containerDefinitions?.map((c) => c.name)).toEqual(['app', 'nginx']);
    expect(td?.containerDefinitions?.[0]?.logConfiguration?.options?.['awslogs-region']).toBe('us-east-1');
    expect(td?.containerDefinitions?.[0]?.secrets).toEqual([{ name: 'DB_PASSWORD', valueFrom: secretArn }]);
    expect(td?.containerDefinitions?.[1]?.repositoryCredentials?.credentialsParameter).toMatch(
      /secret:dockerhub$/,
    );
  });

  it('runStandaloneTask runs Fargate awsvpc tasks with an ENI in the subnet', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    const sg = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'task' });
    await createCluster(acct, 'jobs');
    const td = await registerTaskDefinition(acct, { family: 'job', images: ['busybox'] });
    const [taskArn] = await runStandaloneTask(acct, {
      cluster: 'jobs',
      taskDefinition: td,
      subnets: net.subnetIds,
      securityGroups: [sg],
    });
    const out = await acct.ecs.send(new DescribeTasksCommand({ cluster: 'jobs', tasks: [taskArn ?? ''] }));
    const task = out.tasks?.[0];
    expect(task?.lastStatus).toBe('RUNNING');
    expect(task?.launchType).toBe('FARGATE');
    const details = Object.fromEntries(
      (task?.attachments?.[0]?.details ?? []).map((d) => [d.name ?? '', d.value] as const),
    );
    expect(details.subnetId).toBe(net.subnetIds[0]);
    const eni = await acct.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [details.networkInterfaceId ?? ''] }),
    );
    expect(eni.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual([sg]);
  });
});
