// Self-test of the network patches of the AWS emulator (test/harness/moto_network.py, N1-N12, P17, P18, P20) and of
// the seed builders of test/harness/seed-network.ts, through the real SDK v3 (EC2, ECS), the product's own signed
// client (Route 53 Profiles) and the wire protocols (Route 53, Resolver, RAM), each test in accounts of its own.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSubnetCommand,
  CreateVpcEndpointCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcEndpointCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Subnet, VpcEndpoint } from '@aws-sdk/client-ec2';
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { Service } from '@aws-sdk/client-ecs';
import {
  AssociateVPCWithHostedZoneCommand,
  DisassociateVPCFromHostedZoneCommand,
  GetHostedZoneCommand,
  ListHostedZonesByVPCCommand,
  ListResourceRecordSetsCommand,
  ListVPCAssociationAuthorizationsCommand,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { createRoute53ProfilesClient } from '../../aws/route53profiles-client.ts';
import type { Route53ProfilesClient } from '../../aws/route53profiles-client.ts';
import { inRegion, newAccount } from '../harness/aws.ts';
import type { Account } from '../harness/aws.ts';
import {
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createSubnet,
  createVpc,
  registerTaskDefinition,
  serviceName,
} from '../harness/seed.ts';
import {
  addAliasRecord,
  associateResolverRule,
  associateResourceToProfile,
  associateZone,
  createAwsvpcService,
  createDualStackNetwork,
  createExecCluster,
  createIpv6Subnet,
  createPrefixList,
  createPrivateHostedZone,
  createProfile,
  createResolverEndpoint,
  createResolverRule,
  endpointAliasTarget,
  hostedZoneArn,
  ipv6SubnetCidr,
  ramCall,
  registerFireLensTaskDefinition,
  resolverCall,
  route53Of,
  runAwsvpcTask,
  shareResources,
  shareSubnets,
  startServiceTasks,
  vpcEndpointArn,
} from '../harness/seed-network.ts';

async function awsError(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) {
      const meta = err as { $metadata?: { httpStatusCode?: number }; status?: number };
      const status = meta.$metadata?.httpStatusCode ?? meta.status;
      return { name: err.name, message: err.message, ...(status === undefined ? {} : { status }) };
    }
    throw err;
  }
  throw new Error('expected the call to fail');
}

async function subnet(acct: Account, id: string): Promise<Subnet> {
  const out = await acct.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }));
  const found = out.Subnets?.[0];
  if (!found) throw new Error(`no subnet ${id}`);
  return found;
}

async function endpoint(acct: Account, id: string): Promise<VpcEndpoint> {
  const out = await acct.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
  const found = out.VpcEndpoints?.[0];
  if (!found) throw new Error(`no endpoint ${id}`);
  return found;
}

async function service(acct: Account, cluster: string, name: string): Promise<Service> {
  const out = await acct.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
  const found = out.services?.[0];
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

function inCidr(ip: string | undefined, cidr: string): boolean {
  const toInt = (a: string): number => a.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return ip !== undefined && toInt(ip) >= toInt(base) && toInt(ip) < toInt(base) + size;
}

/** Creates an interface endpoint with the SDK (seed.ts's createEndpoint has no IpAddressType / DnsOptions). */
async function createTypedEndpoint(
  acct: Account,
  o: {
    vpcId: string;
    service: string;
    subnetIds: string[];
    ipAddressType?: 'ipv4' | 'dualstack' | 'ipv6';
    dns?: 'ipv4' | 'dualstack' | 'ipv6' | 'service-defined';
    policy?: string;
  },
): Promise<string> {
  const out = await acct.ec2.send(
    new CreateVpcEndpointCommand({
      VpcId: o.vpcId,
      ServiceName: serviceName(acct.region, o.service),
      VpcEndpointType: 'Interface',
      SubnetIds: o.subnetIds,
      PrivateDnsEnabled: false,
      ...(o.ipAddressType === undefined ? {} : { IpAddressType: o.ipAddressType }),
      ...(o.dns === undefined ? {} : { DnsOptions: { DnsRecordIpType: o.dns } }),
      ...(o.policy === undefined ? {} : { PolicyDocument: o.policy }),
    }),
  );
  return out.VpcEndpoint?.VpcEndpointId ?? '';
}

describe('N1 IPv6 subnets, VPCs and routes', () => {
  it('a dual-stack network with an egress-only gateway and DNS64/NAT64 reads back as AWS returns it', async () => {
    const acct = newAccount();
    const net = await createDualStackNetwork(acct, { nat64: true });
    const vpcs = await acct.ec2.send(new DescribeVpcsCommand({ VpcIds: [net.vpcId] }));
    const vpc = vpcs.Vpcs?.[0];
    expect(vpc?.OwnerId).toBe(acct.accountId);
    expect(vpc?.Ipv6CidrBlockAssociationSet?.[0]).toMatchObject({
      Ipv6CidrBlock: net.ipv6Cidr,
      Ipv6CidrBlockState: { State: 'associated' },
    });
    expect(net.ipv6Cidr).toMatch(/\/56$/);
    const s = await subnet(acct, net.subnetIds[0] ?? '');
    expect(s).toMatchObject({
      OwnerId: acct.accountId,
      Ipv6Native: false,
      EnableDns64: true,
      CidrBlock: '10.0.0.0/24',
      Ipv6CidrBlockAssociationSet: [
        expect.objectContaining({
          Ipv6CidrBlock: net.subnetIpv6Cidrs[0],
          Ipv6CidrBlockState: { State: 'associated' },
        }),
      ],
    });
    const tables = await acct.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [net.routeTableId] }));
    const routes = tables.RouteTables?.[0]?.Routes ?? [];
    expect(routes.find((r) => r.DestinationIpv6CidrBlock === '::/0')?.EgressOnlyInternetGatewayId).toBe(
      net.egressOnlyInternetGatewayId,
    );
    expect(routes.find((r) => r.DestinationIpv6CidrBlock === '64:ff9b::/96')?.NatGatewayId).toBe(
      net.natGatewayId,
    );
    const pub = await acct.ec2.send(
      new DescribeRouteTablesCommand({ RouteTableIds: [net.publicRouteTableId ?? ''] }),
    );
    expect(pub.RouteTables?.[0]?.Routes?.filter((r) => r.GatewayId === net.internetGatewayId)).toHaveLength(
      2,
    );
  });

  it('IPv6-only subnets: no IPv4 block, no IPv4 addresses, DNS64 switchable, blocks validated', async () => {
    const acct = newAccount();
    const net = await createDualStackNetwork(acct, { subnets: 'ipv6-only', azs: ['a'] });
    const id = net.subnetIds[0] ?? '';
    const s = await subnet(acct, id);
    expect(s.Ipv6Native).toBe(true);
    expect(s.CidrBlock).toBeUndefined();
    expect(s.AvailableIpAddressCount).toBe(0);
    expect(s.EnableDns64).toBe(false);
    await acct.ec2.send(new ModifySubnetAttributeCommand({ SubnetId: id, EnableDns64: { Value: true } }));
    await acct.ec2.send(
      new ModifySubnetAttributeCommand({
        SubnetId: id,
        EnableResourceNameDnsAAAARecordOnLaunch: { Value: true },
      }),
    );
    const modified = await subnet(acct, id);
    expect(modified.EnableDns64).toBe(true);
    expect(modified.PrivateDnsNameOptionsOnLaunch?.EnableResourceNameDnsAAAARecord).toBe(true);

    const outside = await awsError(
      createIpv6Subnet(acct, { vpcId: net.vpcId, ipv6Cidr: '2600:1f18:dead:be00::/64', az: 'b' }),
    );
    expect(outside).toMatchObject({
      name: 'InvalidSubnet.Range',
      message: "The CIDR '2600:1f18:dead:be00::/64' is invalid.",
    });
    const overlap = await awsError(
      acct.ec2.send(
        new CreateSubnetCommand({
          VpcId: net.vpcId,
          Ipv6CidrBlock: net.subnetIpv6Cidrs[0],
          Ipv6Native: true,
        }),
      ),
    );
    expect(overlap.name).toBe('InvalidSubnet.Conflict');
    expect(ipv6SubnetCidr('2600:1f18:a:b00::/56', 1)).toBe('2600:1f18:a:b01::/64');
    expect(ipv6SubnetCidr('2600:1f18:0:0::/56', 0)).toBe('2600:1f18::/64');
  });
});

describe('N2 security groups and prefix lists', () => {
  it('rules with Ipv6Ranges and PrefixListIds round-trip; AWS-managed lists are owned by AWS', async () => {
    const acct = newAccount();
    const vpcId = await createVpc(acct, { cidr: '10.3.0.0/16' });
    const corp = await createPrefixList(acct, {
      name: 'corp',
      entries: [{ cidr: '10.10.0.0/16', description: 'office' }, { cidr: '10.20.0.0/16' }],
    });
    const sg = await createSecurityGroup(acct, { vpcId, name: 'vpce' });
    await acct.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sg,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            Ipv6Ranges: [{ CidrIpv6: '2600:1f18::/56', Description: 'v6' }],
            PrefixListIds: [{ PrefixListId: corp, Description: 'corporate ranges' }],
          },
        ],
      }),
    );
    const groups = await acct.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg] }));
    expect(groups.SecurityGroups?.[0]?.IpPermissions?.[0]).toMatchObject({
      Ipv6Ranges: [{ CidrIpv6: '2600:1f18::/56', Description: 'v6' }],
      PrefixListIds: [{ PrefixListId: corp, Description: 'corporate ranges' }],
    });

    const own = await acct.ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-id', Values: [corp] }] }),
    );
    expect(own.PrefixLists?.map((p) => [p.PrefixListName, p.OwnerId])).toEqual([['corp', acct.accountId]]);
    const s3 = await acct.ec2.send(
      new DescribeManagedPrefixListsCommand({
        Filters: [{ Name: 'prefix-list-name', Values: [serviceName(acct.region, 's3')] }],
      }),
    );
    expect(s3.PrefixLists?.[0]?.OwnerId).toBe('AWS');
    const entries = await acct.ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: corp }));
    expect(entries.Entries?.map((e) => e.Cidr).sort()).toEqual(['10.10.0.0/16', '10.20.0.0/16']);

    const missing = 'pl-0123456789abcdef0';
    const message = `The prefix list ID '${missing}' does not exist`;
    expect(
      await awsError(acct.ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [missing] }))),
    ).toMatchObject({ name: 'InvalidPrefixListID.NotFound', message });
    expect(
      (await awsError(acct.ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: missing })))).name,
    ).toBe('InvalidPrefixListID.NotFound');
    const rule = await awsError(
      acct.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: sg,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: missing }] },
          ],
        }),
      ),
    );
    expect(rule).toMatchObject({ name: 'InvalidPrefixListID.NotFound', message });
  });
});

describe('N3 ECS awsvpc tasks', () => {
  it('task ENIs live in their subnet with the task groups; DescribeTasks gives the ENI id and enableExecuteCommand', async () => {
    const acct = newAccount();
    // DNS hostnames off: moto answered RunTask with HTTP 500 there.
    const net = await createNetwork(acct, { dnsHostnames: false });
    const sg = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'task' });
    await createCluster(acct, 'jobs');
    const td = await registerTaskDefinition(acct, { family: 'job', images: ['busybox'] });
    const [task] = await runAwsvpcTask(acct, {
      cluster: 'jobs',
      taskDefinition: td,
      subnets: [net.subnetIds[1] ?? ''],
      securityGroups: [sg],
      enableExecuteCommand: true,
    });
    expect(task?.subnetId).toBe(net.subnetIds[1]);
    expect(inCidr(task?.privateIpv4Address, '10.0.1.0/24')).toBe(true);
    const described = await acct.ecs.send(
      new DescribeTasksCommand({ cluster: 'jobs', tasks: [task?.taskArn ?? ''] }),
    );
    expect(described.tasks?.[0]?.enableExecuteCommand).toBe(true);
    const enis = await acct.ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'network-interface-id', Values: [task?.networkInterfaceId ?? ''] }],
      }),
    );
    const eni = enis.NetworkInterfaces?.[0];
    expect(eni?.Groups?.map((g) => g.GroupId)).toEqual([sg]);
    expect(eni?.SubnetId).toBe(net.subnetIds[1]);
    expect(eni?.PrivateIpAddress).toBe(task?.privateIpv4Address);
    expect(eni?.Description).toMatch(new RegExp(`^arn:aws:ecs:us-east-1:${acct.accountId}:attachment/`));
    expect(eni?.PrivateDnsName).toBe(
      `ip-${(task?.privateIpv4Address ?? '').replace(/\./g, '-')}.ec2.internal`,
    );

    // Without securityGroups AWS uses the VPC's default group; exec is off unless asked.
    const [plain] = await runAwsvpcTask(acct, {
      cluster: 'jobs',
      taskDefinition: td,
      subnets: net.subnetIds,
    });
    const plainEni = await acct.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [plain?.networkInterfaceId ?? ''] }),
    );
    expect(plainEni.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupName)).toEqual(['default']);
    const plainTask = await acct.ecs.send(
      new DescribeTasksCommand({ cluster: 'jobs', tasks: [plain?.taskArn ?? ''] }),
    );
    expect(plainTask.tasks?.[0]?.enableExecuteCommand).toBe(false);

    // The ENI goes away with the task.
    await acct.ecs.send(new StopTaskCommand({ cluster: 'jobs', task: plain?.taskArn ?? '' }));
    const gone = await acct.ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'network-interface-id', Values: [plain?.networkInterfaceId ?? ''] }],
      }),
    );
    expect(gone.NetworkInterfaces).toEqual([]);
  });

  it('RunTask refuses unknown subnets and security groups as AWS does', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { azs: ['a'] });
    await createCluster(acct, 'c');
    const td = await registerTaskDefinition(acct, { family: 'job', images: ['busybox'] });
    const sg = await awsError(
      runAwsvpcTask(acct, {
        cluster: 'c',
        taskDefinition: td,
        subnets: net.subnetIds,
        securityGroups: ['sg-0123456789abcdef0'],
      }),
    );
    expect(sg).toMatchObject({
      name: 'InvalidParameterException',
      message:
        "Error retrieving security group information for [sg-0123456789abcdef0]: The security group 'sg-0123456789abcdef0' does not exist (ErrorCode: InvalidGroup.NotFound)",
    });
    const sub = await awsError(
      runAwsvpcTask(acct, { cluster: 'c', taskDefinition: td, subnets: ['subnet-0123456789abcdef0'] }),
    );
    expect(sub.name).toBe('InvalidParameterException');
    expect(sub.message).toMatch(/^Error retrieving subnet information for \[subnet-0123456789abcdef0\]/);
  });
});

describe('N4 ECS services', () => {
  it('ECS Exec, counts that follow the tasks, and one deployment per network configuration during a rollout', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    const [a = '', b = ''] = net.subnetIds;
    const sg = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'svc' });
    await createCluster(acct, 'web');
    const td = await registerTaskDefinition(acct, { family: 'web', images: ['nginx'] });
    await createAwsvpcService(acct, {
      cluster: 'web',
      name: 'api',
      taskDefinition: td,
      subnets: [a],
      securityGroups: [sg],
      desiredCount: 2,
      enableExecuteCommand: true,
    });
    let svc = await service(acct, 'web', 'api');
    expect(svc).toMatchObject({
      enableExecuteCommand: true,
      desiredCount: 2,
      runningCount: 0,
      pendingCount: 2,
    });

    const first = await startServiceTasks(acct, { cluster: 'web', service: 'api' });
    expect(first.map((t) => t.subnetId)).toEqual([a, a]);
    svc = await service(acct, 'web', 'api');
    expect(svc).toMatchObject({ runningCount: 2, pendingCount: 0 });
    expect(svc.deployments?.map((d) => [d.status, d.runningCount, d.rolloutState])).toEqual([
      ['PRIMARY', 2, 'COMPLETED'],
    ]);
    const tasks = await acct.ecs.send(
      new DescribeTasksCommand({ cluster: 'web', tasks: first.map((t) => t.taskArn) }),
    );
    expect(tasks.tasks?.map((t) => t.enableExecuteCommand)).toEqual([true, true]);

    // Moving the service to subnet b: a new PRIMARY deployment, the old one ACTIVE until its tasks are replaced.
    await acct.ecs.send(
      new UpdateServiceCommand({
        cluster: 'web',
        service: 'api',
        networkConfiguration: { awsvpcConfiguration: { subnets: [b], securityGroups: [sg] } },
      }),
    );
    svc = await service(acct, 'web', 'api');
    expect(svc.networkConfiguration?.awsvpcConfiguration?.subnets).toEqual([b]);
    expect(
      svc.deployments?.map((d) => [
        d.status,
        d.runningCount,
        d.networkConfiguration?.awsvpcConfiguration?.subnets,
      ]),
    ).toEqual([
      ['PRIMARY', 0, [b]],
      ['ACTIVE', 2, [a]],
    ]);
    expect(svc.runningCount).toBe(2);

    const second = await startServiceTasks(acct, { cluster: 'web', service: 'api' });
    expect(second.map((t) => t.subnetId)).toEqual([b, b]);
    for (const t of first) await acct.ecs.send(new StopTaskCommand({ cluster: 'web', task: t.taskArn }));
    svc = await service(acct, 'web', 'api');
    expect(svc.deployments?.map((d) => [d.status, d.runningCount, d.rolloutState])).toEqual([
      ['PRIMARY', 2, 'COMPLETED'],
    ]);
    const listed = await acct.ecs.send(new ListTasksCommand({ cluster: 'web', serviceName: 'api' }));
    expect(listed.taskArns?.sort()).toEqual(second.map((t) => t.taskArn).sort());

    // Turning ECS Exec off (and a task definition given by family) changes no network: no new deployment.
    await acct.ecs.send(
      new UpdateServiceCommand({
        cluster: 'web',
        service: 'api',
        enableExecuteCommand: false,
        taskDefinition: 'web',
      }),
    );
    svc = await service(acct, 'web', 'api');
    expect(svc.enableExecuteCommand).toBe(false);
    expect(svc.taskDefinition).toBe(td);
    expect(svc.deployments).toHaveLength(1);
    // forceNewDeployment starts a deployment of the same configuration.
    await acct.ecs.send(
      new UpdateServiceCommand({ cluster: 'web', service: 'api', forceNewDeployment: true }),
    );
    svc = await service(acct, 'web', 'api');
    expect(
      svc.deployments?.map((d) => [d.status, d.networkConfiguration?.awsvpcConfiguration?.subnets]),
    ).toEqual([
      ['PRIMARY', [b]],
      ['ACTIVE', [b]],
    ]);
  });
});

describe('N5 ECS clusters, FireLens task definitions', () => {
  it('executeCommandConfiguration is returned with include CONFIGURATIONS only', async () => {
    const acct = newAccount();
    const kmsKeyId = `arn:aws:kms:us-east-1:${acct.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const arn = await createExecCluster(acct, 'exec', {
      logging: 'OVERRIDE',
      kmsKeyId,
      cloudWatchLogGroupName: '/ecs/exec',
      cloudWatchEncryptionEnabled: true,
      s3BucketName: 'exec-logs',
      s3KeyPrefix: 'sessions/',
    });
    const plain = await acct.ecs.send(new DescribeClustersCommand({ clusters: [arn] }));
    expect(plain.clusters?.[0]?.configuration).toBeUndefined();
    expect(plain.clusters?.[0]?.settings).toBeUndefined();
    const full = await acct.ecs.send(
      new DescribeClustersCommand({ clusters: [arn], include: ['CONFIGURATIONS', 'SETTINGS'] }),
    );
    expect(full.clusters?.[0]?.configuration?.executeCommandConfiguration).toEqual({
      kmsKeyId,
      logging: 'OVERRIDE',
      logConfiguration: {
        cloudWatchLogGroupName: '/ecs/exec',
        cloudWatchEncryptionEnabled: true,
        s3BucketName: 'exec-logs',
        s3KeyPrefix: 'sessions/',
      },
    });
    expect(full.clusters?.[0]?.settings?.[0]?.name).toBe('containerInsights');
  });

  it('registerFireLensTaskDefinition: firelensConfiguration, awsfirelens options and roles round-trip', async () => {
    const acct = newAccount();
    const arn = await registerFireLensTaskDefinition(acct, {
      family: 'logs',
      router: {
        configFile: { type: 's3', value: 'arn:aws:s3:::cfg/extra.conf' },
        enableEcsLogMetadata: true,
      },
      output: {
        Name: 'cloudwatch_logs',
        region: 'eu-west-1',
        log_group_name: '/app',
        auto_create_group: 'true',
      },
      secretOptions: [{ name: 'apikey', valueFrom: `arn:aws:ssm:us-east-1:${acct.accountId}:parameter/k` }],
      taskRoleArn: `arn:aws:iam::${acct.accountId}:role/app`,
    });
    const td = (await acct.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })))
      .taskDefinition;
    expect(td?.taskRoleArn).toBe(`arn:aws:iam::${acct.accountId}:role/app`);
    expect(td?.executionRoleArn).toBe(`arn:aws:iam::${acct.accountId}:role/ecsTaskExecutionRole`);
    const [router, app] = td?.containerDefinitions ?? [];
    expect(router?.firelensConfiguration).toEqual({
      type: 'fluentbit',
      options: {
        'enable-ecs-log-metadata': 'true',
        'config-file-type': 's3',
        'config-file-value': 'arn:aws:s3:::cfg/extra.conf',
      },
    });
    expect(app?.logConfiguration?.logDriver).toBe('awsfirelens');
    expect(app?.logConfiguration?.options).toMatchObject({ Name: 'cloudwatch_logs', region: 'eu-west-1' });
    expect(app?.logConfiguration?.secretOptions?.[0]?.name).toBe('apikey');
  });
});

describe('N6/N7 VPC endpoints: IP address types, DNS options, policies', () => {
  it('DescribeVpcEndpointServices: SupportedIpAddressTypes, policy support, private DNS names, the needed services', async () => {
    const acct = newAccount();
    const names = ['ecr.dkr', 'kms', 'kinesis-firehose', 'kinesis-streams', 'athena'].map((s) =>
      serviceName(acct.region, s),
    );
    const out = await acct.ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: names }));
    const byName = Object.fromEntries(
      (out.ServiceDetails ?? []).map((d) => [d.ServiceName ?? '', d] as const),
    );
    for (const s of ['ecr.dkr', 'kms', 'kinesis-firehose', 'kinesis-streams']) {
      expect(byName[serviceName(acct.region, s)]?.SupportedIpAddressTypes).toEqual(['ipv4', 'ipv6']);
    }
    expect(byName[serviceName(acct.region, 'athena')]?.SupportedIpAddressTypes).toEqual(['ipv4']);
    const dkr = byName[serviceName(acct.region, 'ecr.dkr')];
    expect(dkr?.VpcEndpointPolicySupported).toBe(true);
    expect(dkr?.PrivateDnsNames).toEqual([{ PrivateDnsName: '*.dkr.ecr.us-east-1.amazonaws.com' }]);
  });

  it('IpAddressType and DnsRecordIpType are validated against subnets and the service, stored and returned', async () => {
    const acct = newAccount();
    const dual = await createDualStackNetwork(acct, { azs: ['a'], egressOnly: false });
    const [ds = ''] = dual.subnetIds;
    const v6 = await createIpv6Subnet(acct, {
      vpcId: dual.vpcId,
      ipv6Cidr: ipv6SubnetCidr(dual.ipv6Cidr, 5),
      az: 'b',
    });
    const v4 = await createSubnet(acct, { vpcId: dual.vpcId, cidr: '10.0.7.0/24', az: 'c' });
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' }],
    });

    const plain = await endpoint(
      acct,
      await createTypedEndpoint(acct, { vpcId: dual.vpcId, service: 'ecr.api', subnetIds: [v4], policy }),
    );
    expect(plain).toMatchObject({
      IpAddressType: 'ipv4',
      DnsOptions: { DnsRecordIpType: 'ipv4' },
      OwnerId: acct.accountId,
    });
    expect(JSON.parse(plain.PolicyDocument ?? '{}')).toEqual(JSON.parse(policy));

    const both = await endpoint(
      acct,
      await createTypedEndpoint(acct, {
        vpcId: dual.vpcId,
        service: 'ecr.dkr',
        subnetIds: [ds],
        ipAddressType: 'dualstack',
      }),
    );
    expect(both).toMatchObject({ IpAddressType: 'dualstack', DnsOptions: { DnsRecordIpType: 'dualstack' } });
    const bothEni = (
      await acct.ec2.send(
        new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: both.NetworkInterfaceIds }),
      )
    ).NetworkInterfaces?.[0];
    expect(bothEni?.PrivateIpAddress).toMatch(/^10\.0\.0\./);
    expect(bothEni?.Ipv6Addresses?.length).toBe(1);

    const six = await endpoint(
      acct,
      await createTypedEndpoint(acct, {
        vpcId: dual.vpcId,
        service: 'logs',
        subnetIds: [v6],
        ipAddressType: 'ipv6',
      }),
    );
    expect(six).toMatchObject({ IpAddressType: 'ipv6', DnsOptions: { DnsRecordIpType: 'ipv6' } });
    const sixEni = (
      await acct.ec2.send(
        new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: six.NetworkInterfaceIds }),
      )
    ).NetworkInterfaces?.[0];
    expect(sixEni?.PrivateIpAddress).toBeUndefined();
    expect(sixEni?.Ipv6Addresses?.[0]?.Ipv6Address).toMatch(/:/);

    const refused = async (o: Parameters<typeof createTypedEndpoint>[1]) =>
      awsError(createTypedEndpoint(acct, o));
    expect((await refused({ vpcId: dual.vpcId, service: 'ssm', subnetIds: [v6] })).message).toMatch(
      /subnet .* IpAddressType ipv4/,
    );
    expect(
      (await refused({ vpcId: dual.vpcId, service: 'ssm', subnetIds: [ds], ipAddressType: 'ipv6' })).message,
    ).toMatch(/IPv6-only/);
    expect(
      (await refused({ vpcId: dual.vpcId, service: 'ssm', subnetIds: [v4], ipAddressType: 'dualstack' }))
        .name,
    ).toBe('InvalidParameter');
    expect(
      (await refused({ vpcId: dual.vpcId, service: 'athena', subnetIds: [ds], ipAddressType: 'dualstack' }))
        .message,
    ).toMatch(/does not support the IP address type dualstack/);
    expect(
      (await refused({ vpcId: dual.vpcId, service: 'ssm', subnetIds: [v4], dns: 'dualstack' })).message,
    ).toMatch(/DnsRecordIpType dualstack/);

    // ModifyVpcEndpoint: the same rules; policy replaced.
    const notSix = await awsError(
      acct.ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: plain.VpcEndpointId, IpAddressType: 'ipv6' }),
      ),
    );
    expect(notSix.name).toBe('InvalidParameter');
    await acct.ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: plain.VpcEndpointId,
        AddSubnetIds: [ds],
        RemoveSubnetIds: [v4],
        IpAddressType: 'dualstack',
        DnsOptions: { DnsRecordIpType: 'service-defined' },
        PolicyDocument: '{"Statement":[]}',
      }),
    );
    const modified = await endpoint(acct, plain.VpcEndpointId ?? '');
    expect(modified).toMatchObject({
      IpAddressType: 'dualstack',
      DnsOptions: { DnsRecordIpType: 'service-defined' },
      PolicyDocument: '{"Statement":[]}',
      SubnetIds: [ds],
    });
    const filtered = await acct.ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'ip-address-type', Values: ['ipv6'] }] }),
    );
    expect(filtered.VpcEndpoints?.map((e) => e.VpcEndpointId)).toEqual([six.VpcEndpointId]);
  });
});

describe('N8 private DNS vs private hosted zones', () => {
  it("a private hosted zone of the service name in the VPC (own or another account's) blocks private DNS", async () => {
    const acct = newAccount();
    const hub = newAccount();
    const net = await createNetwork(acct, { azs: ['a'] });
    await createPrivateHostedZone(acct, { name: 'dkr.ecr.us-east-1.amazonaws.com', vpcId: net.vpcId });
    const dkr = await awsError(
      acct.ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          ServiceName: serviceName(acct.region, 'ecr.dkr'),
          VpcEndpointType: 'Interface',
          SubnetIds: net.subnetIds,
        }),
      ),
    );
    expect(dkr).toMatchObject({
      name: 'InvalidParameter',
      message: `private-dns-enabled cannot be set because there is already a conflicting DNS domain for *.dkr.ecr.us-east-1.amazonaws.com in the VPC ${net.vpcId}`,
    });
    const quiet = await createTypedEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'ecr.dkr',
      subnetIds: net.subnetIds,
    });
    const turnOn = await awsError(
      acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: quiet, PrivateDnsEnabled: true })),
    );
    expect(turnOn.name).toBe('InvalidParameter');

    // The hub's zone for logs, associated with this VPC, conflicts just the same.
    const hubNet = await createNetwork(hub, { azs: ['a'] });
    const zone = await createPrivateHostedZone(hub, {
      name: 'logs.us-east-1.amazonaws.com',
      vpcId: hubNet.vpcId,
    });
    await associateZone(hub, acct, { zoneId: zone, vpcId: net.vpcId });
    const logs = await awsError(
      acct.ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          ServiceName: serviceName(acct.region, 'logs'),
          VpcEndpointType: 'Interface',
        }),
      ),
    );
    expect(logs.message).toMatch(/conflicting DNS domain for logs\.us-east-1\.amazonaws\.com/);
    // A zone of an unrelated name does not.
    await createPrivateHostedZone(acct, { name: 'corp.example.com', vpcId: net.vpcId });
    await createTypedEndpoint(acct, { vpcId: net.vpcId, service: 'ssm', subnetIds: net.subnetIds });
  });
});

describe('N9/N10 Route 53 private hosted zones', () => {
  it('alias records to an endpoint, wildcards as \\052, SOA, and the zone rules of one account', async () => {
    const acct = newAccount();
    const r53 = route53Of(acct);
    const net = await createNetwork(acct, { azs: ['a'] });
    const ep = await endpoint(
      acct,
      await createTypedEndpoint(acct, { vpcId: net.vpcId, service: 'ecr.dkr', subnetIds: net.subnetIds }),
    );
    const zone = await createPrivateHostedZone(acct, {
      name: 'dkr.ecr.us-east-1.amazonaws.com',
      vpcId: net.vpcId,
    });
    const target = endpointAliasTarget(ep);
    expect(target.dnsName).toMatch(/^vpce-[0-9a-f]+-[a-z0-9]{8}\.dkr\.ecr\.us-east-1\.vpce\.amazonaws\.com$/);
    await addAliasRecord(acct, {
      zoneId: zone,
      name: '*.dkr.ecr.us-east-1.amazonaws.com',
      ...target,
      types: ['A', 'AAAA'],
    });
    const records =
      (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }))).ResourceRecordSets ?? [];
    const wildcard = records.filter((r) => r.Name === '\\052.dkr.ecr.us-east-1.amazonaws.com.');
    expect(wildcard.map((r) => r.Type).sort()).toEqual(['A', 'AAAA']);
    expect(wildcard[0]?.AliasTarget).toEqual({
      DNSName: target.dnsName,
      HostedZoneId: target.hostedZoneId,
      EvaluateTargetHealth: false,
    });
    expect(records.find((r) => r.Type === 'SOA')?.ResourceRecords?.[0]?.Value).toMatch(
      /^ns-\d+\.awsdns-\d+\.\S+\. awsdns-hostmaster\.amazon\.com\. 1 /,
    );

    const byVpc = await r53.send(
      new ListHostedZonesByVPCCommand({ VPCId: net.vpcId, VPCRegion: 'us-east-1' }),
    );
    expect(byVpc.HostedZoneSummaries).toEqual([
      {
        HostedZoneId: zone,
        Name: 'dkr.ecr.us-east-1.amazonaws.com.',
        Owner: { OwningAccount: acct.accountId },
      },
    ]);
    const again = await awsError(
      createPrivateHostedZone(acct, { name: 'dkr.ecr.us-east-1.amazonaws.com', vpcId: net.vpcId }),
    );
    expect(again).toMatchObject({
      name: 'ConflictingDomainExists',
      message: 'A conflicting domain is already associated with the given VPC or Delegation Set.',
    });
    const noVpc = await awsError(
      createPrivateHostedZone(acct, { name: 'x.example.com', vpcId: 'vpc-0123456789abcdef0' }),
    );
    expect(noVpc.name).toBe('InvalidVPCId');
    // Associating a VPC with a second zone of a name it already has conflicts the same way.
    const other = await createVpc(acct, { cidr: '10.4.0.0/16' });
    const second = await createPrivateHostedZone(acct, {
      name: 'dkr.ecr.us-east-1.amazonaws.com',
      vpcId: other,
    });
    const associate = await awsError(associateZone(acct, acct, { zoneId: second, vpcId: net.vpcId }));
    expect(associate.name).toBe('ConflictingDomainExists');
  });

  it('hub-and-spoke: the hub authorizes, the spoke associates and lists the zone, but cannot read it', async () => {
    const hub = newAccount();
    const spoke = newAccount();
    const hubVpc = await createVpc(hub, { cidr: '10.0.0.0/16' });
    const spokeVpc = await createVpc(spoke, { cidr: '10.1.0.0/16' });
    const zone = await createPrivateHostedZone(hub, {
      name: 'api.ecr.us-east-1.amazonaws.com',
      vpcId: hubVpc,
    });
    await addAliasRecord(hub, {
      zoneId: zone,
      name: 'api.ecr.us-east-1.amazonaws.com',
      dnsName: 'vpce-0123456789abcdef0-abcd1234.api.ecr.us-east-1.vpce.amazonaws.com',
      hostedZoneId: 'Z7HUB22UULQXV',
    });
    const VPC = { VPCRegion: 'us-east-1' as const, VPCId: spokeVpc };

    // Without the hub's authorization the spoke's association is refused.
    const unauthorized = await awsError(
      route53Of(spoke).send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId: zone, VPC })),
    );
    expect(unauthorized).toMatchObject({
      name: 'NotAuthorizedException',
      message: `The VPC: ${spokeVpc} has not authorized to associate with your hosted zone.`,
      status: 401,
    });

    await associateZone(hub, spoke, { zoneId: zone, vpcId: spokeVpc });
    const authorizations = await route53Of(hub).send(
      new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: zone }),
    );
    expect(authorizations.VPCs).toEqual([VPC]);
    const byVpc = await route53Of(spoke).send(new ListHostedZonesByVPCCommand(VPC));
    expect(byVpc.HostedZoneSummaries).toEqual([
      {
        HostedZoneId: zone,
        Name: 'api.ecr.us-east-1.amazonaws.com.',
        Owner: { OwningAccount: hub.accountId },
      },
    ]);
    const hubView = await route53Of(hub).send(new GetHostedZoneCommand({ Id: zone }));
    expect(hubView.VPCs?.map((v) => v.VPCId).sort()).toEqual([hubVpc, spokeVpc].sort());

    const denied = await awsError(
      route53Of(spoke).send(new ListResourceRecordSetsCommand({ HostedZoneId: zone })),
    );
    expect(denied).toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${spoke.accountId}:root is not authorized to access this resource`,
      status: 403,
    });
    expect((await awsError(route53Of(spoke).send(new GetHostedZoneCommand({ Id: zone })))).name).toBe(
      'AccessDenied',
    );
    const unknown = await awsError(
      route53Of(spoke).send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z0123456789ABCDEFGHIJ' })),
    );
    expect(unknown.name).toBe('NoSuchHostedZone');
    // The hub cannot list zones by the spoke's VPC: it is not the hub's.
    expect((await awsError(route53Of(hub).send(new ListHostedZonesByVPCCommand(VPC)))).name).toBe(
      'InvalidVPCId',
    );

    await associateZone(hub, spoke, {
      zoneId: zone,
      vpcId: await createVpc(spoke, { cidr: '10.2.0.0/16' }),
      deleteAuthorization: true,
    });
    const left = await route53Of(hub).send(
      new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: zone }),
    );
    expect(left.VPCs).toEqual([VPC]);
    // The spoke may take its VPC out of the hub's zone again.
    await route53Of(spoke).send(new DisassociateVPCFromHostedZoneCommand({ HostedZoneId: zone, VPC }));
    expect((await route53Of(spoke).send(new ListHostedZonesByVPCCommand(VPC))).HostedZoneSummaries).toEqual(
      [],
    );
  });
});

describe('N11 Route 53 Resolver', () => {
  it('FORWARD and SYSTEM rules, associations, filters and paging', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    const other = await createVpc(acct, { cidr: '10.5.0.0/16' });
    const sg = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'resolver' });
    const out = await createResolverEndpoint(acct, {
      direction: 'OUTBOUND',
      subnetIds: net.subnetIds,
      securityGroupIds: [sg],
    });
    const forward = await createResolverRule(acct, {
      type: 'FORWARD',
      domainName: 'corp.example.com',
      targetIps: [{ ip: '10.0.0.10' }, { ip: '10.0.1.10', port: 5353 }],
      resolverEndpointId: out,
      name: 'corp',
    });
    const system = await createResolverRule(acct, { type: 'SYSTEM', domainName: 'aws.corp.example.com' });
    const rule = (await resolverCall(acct, 'GetResolverRule', { ResolverRuleId: forward.id })).ResolverRule;
    expect(rule).toMatchObject({
      DomainName: 'corp.example.com.',
      RuleType: 'FORWARD',
      ResolverEndpointId: out,
      OwnerId: acct.accountId,
      ShareStatus: 'NOT_SHARED',
      TargetIps: [
        { Ip: '10.0.0.10', Port: 53 },
        { Ip: '10.0.1.10', Port: 5353 },
      ],
    });
    const systemWithTargets = await awsError(
      createResolverRule(acct, {
        type: 'SYSTEM',
        domainName: 'x.example.com',
        targetIps: [{ ip: '10.0.0.1' }],
      }),
    );
    expect(systemWithTargets.name).toBe('InvalidRequestException');

    // Unnamed associations used to fail the listing (HTTP 500).
    const a1 = await associateResolverRule(acct, { ruleId: forward.id, vpcId: net.vpcId });
    await associateResolverRule(acct, { ruleId: system.id, vpcId: net.vpcId, name: 'exception' });
    await associateResolverRule(acct, { ruleId: forward.id, vpcId: other });
    const sameDomain = await createResolverRule(acct, {
      type: 'FORWARD',
      domainName: 'corp.example.com',
      targetIps: [{ ip: '10.9.9.9' }],
    });
    const conflict = await awsError(associateResolverRule(acct, { ruleId: sameDomain.id, vpcId: net.vpcId }));
    expect(conflict).toMatchObject({
      name: 'InvalidRequestException',
      message: `Cannot associate rules with same domain name with same VPC. Conflict with resolver rule '${forward.id}'`,
    });

    const byVpc = await resolverCall(acct, 'ListResolverRuleAssociations', {
      Filters: [{ Name: 'VPCId', Values: [net.vpcId] }],
    });
    const assocs = byVpc.ResolverRuleAssociations as { Id: string; ResolverRuleId: string }[];
    expect(assocs.map((x) => x.ResolverRuleId).sort()).toEqual([forward.id, system.id].sort());
    expect(assocs.map((x) => x.Id)).toContain(a1);
    expect(byVpc.MaxResults).toBe(100);
    const page1 = await resolverCall(acct, 'ListResolverRuleAssociations', { MaxResults: 2 });
    const page2 = await resolverCall(acct, 'ListResolverRuleAssociations', {
      MaxResults: 2,
      NextToken: page1.NextToken,
    });
    expect([
      ...(page1.ResolverRuleAssociations as unknown[]),
      ...(page2.ResolverRuleAssociations as unknown[]),
    ]).toHaveLength(3);
    expect(page2.NextToken).toBeUndefined();
    const forwards = await resolverCall(acct, 'ListResolverRules', {
      Filters: [{ Name: 'TYPE', Values: ['FORWARD'] }],
    });
    expect((forwards.ResolverRules as { Id: string }[]).map((r) => r.Id).sort()).toEqual(
      [forward.id, sameDomain.id].sort(),
    );
  });
});

describe('N12 shared VPCs (AWS RAM)', () => {
  it('the participant sees the shared subnets, their VPC and route tables, runs work there, but gets no endpoints', async () => {
    const owner = newAccount();
    const participant = newAccount();
    const net = await createNetwork(owner, { egress: 'nat', name: 'shared' });
    const [shared = '', kept = ''] = net.subnetIds;
    const ownerEndpoint = await createTypedEndpoint(owner, {
      vpcId: net.vpcId,
      service: 'ecs',
      subnetIds: [shared],
    });
    const shareArn = await shareSubnets(owner, participant, { subnetIds: [shared] });

    const subnets = await participant.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }),
    );
    expect(subnets.Subnets?.map((s) => [s.SubnetId, s.OwnerId, s.Tags])).toEqual([
      [shared, owner.accountId, []],
    ]);
    expect(
      (await awsError(participant.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [kept] })))).name,
    ).toBe('InvalidSubnetID.NotFound');
    const vpcs = await participant.ec2.send(new DescribeVpcsCommand({ VpcIds: [net.vpcId] }));
    expect(vpcs.Vpcs?.map((v) => [v.VpcId, v.OwnerId, v.Tags])).toEqual([[net.vpcId, owner.accountId, []]]);
    const tables = await participant.ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }),
    );
    expect(tables.RouteTables?.map((t) => [t.RouteTableId, t.OwnerId])).toEqual([
      [net.egress?.routeTableId, owner.accountId],
    ]);
    expect(
      tables.RouteTables?.[0]?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')?.NatGatewayId,
    ).toBe(net.egress?.natGatewayId);

    // Work of the participant in the owner's subnet: an instance and an awsvpc task with the participant's group.
    const sg = await createSecurityGroup(participant, { vpcId: net.vpcId, name: 'app' });
    const run = await participant.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-04681a1dbd79675a5',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: shared,
        SecurityGroupIds: [sg],
      }),
    );
    expect(run.Instances?.[0]).toMatchObject({ SubnetId: shared, VpcId: net.vpcId });
    await createCluster(participant, 'apps');
    const td = await registerTaskDefinition(participant, { family: 'app', images: ['nginx'] });
    const [task] = await runAwsvpcTask(participant, {
      cluster: 'apps',
      taskDefinition: td,
      subnets: [shared],
      securityGroups: [sg],
    });
    expect(task?.subnetId).toBe(shared);
    expect(inCidr(task?.privateIpv4Address, '10.0.0.0/24')).toBe(true);

    // Endpoints: the owner's are not the participant's, and the participant cannot create any in a shared VPC.
    expect((await participant.ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints).toEqual([]);
    expect((await endpoint(owner, ownerEndpoint)).OwnerId).toBe(owner.accountId);
    const refused = await awsError(
      createTypedEndpoint(participant, { vpcId: net.vpcId, service: 'ecs', subnetIds: [shared] }),
    );
    expect(refused).toMatchObject({
      name: 'UnauthorizedOperation',
      message: 'This operation does not support shared VPCs.',
      status: 403,
    });

    // RAM as the participant sees it.
    const shares = await ramCall(participant, 'getresourceshares', { resourceOwner: 'OTHER-ACCOUNTS' });
    expect((shares.resourceShares as { resourceShareArn: string }[]).map((s) => s.resourceShareArn)).toEqual([
      shareArn,
    ]);
    const resources = await ramCall(participant, 'listresources', { resourceOwner: 'OTHER-ACCOUNTS' });
    expect(resources.resources).toEqual([
      expect.objectContaining({
        arn: `arn:aws:ec2:us-east-1:${owner.accountId}:subnet/${shared}`,
        type: 'ec2:Subnet',
      }),
    ]);
  });

  it('P17: AZ names are per account: the participant names a shared subnet by its own name for the zone, the AZ ID is the same', async () => {
    const owner = newAccount();
    const participant = newAccount();
    // moto's us-east-1b is use1-az1; the participant's view shifts names by one place (moto_network.py P17).
    const net = await createNetwork(owner, { azs: ['a', 'b'], name: 'shared' });
    await shareSubnets(owner, participant, { subnetIds: net.subnetIds });
    const zones = async (acct: Account): Promise<string[][]> =>
      ((await acct.ec2.send(new DescribeSubnetsCommand({ SubnetIds: net.subnetIds }))).Subnets ?? []).map(
        (s) => [s.SubnetId ?? '', s.AvailabilityZone ?? '', s.AvailabilityZoneId ?? ''],
      );
    expect(await zones(owner)).toEqual([
      [net.subnetIds[0], 'us-east-1a', 'use1-az6'],
      [net.subnetIds[1], 'us-east-1b', 'use1-az1'],
    ]);
    expect(await zones(participant)).toEqual([
      [net.subnetIds[0], 'us-east-1f', 'use1-az6'],
      [net.subnetIds[1], 'us-east-1a', 'use1-az1'],
    ]);
    // The participant's filter by AZ name uses its own names too.
    const filtered = await participant.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [net.vpcId] },
          { Name: 'availability-zone', Values: ['us-east-1a'] },
        ],
      }),
    );
    expect(filtered.Subnets?.map((s) => s.SubnetId)).toEqual([net.subnetIds[1]]);
  });

  it("P18: a participant's security group in a shared VPC starts with the allow-all outbound rule", async () => {
    const owner = newAccount();
    const participant = newAccount();
    const net = await createNetwork(owner, { name: 'shared' });
    await shareSubnets(owner, participant, { subnetIds: net.subnetIds });
    const group = await createSecurityGroup(participant, { vpcId: net.vpcId, name: 'app' });
    const read = await participant.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [group] }));
    expect(read.SecurityGroups?.map((g) => [g.VpcId, g.OwnerId])).toEqual([
      [net.vpcId, participant.accountId],
    ]);
    expect(read.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([
      expect.objectContaining({
        IpProtocol: '-1',
        IpRanges: [expect.objectContaining({ CidrIp: '0.0.0.0/0' })],
      }),
    ]);
  });

  it('Resolver rules shared through RAM are listed by both sides and associated by the participant', async () => {
    const hub = newAccount();
    const spoke = newAccount();
    const rule = await createResolverRule(hub, {
      type: 'FORWARD',
      domainName: 'onprem.example.com',
      targetIps: [{ ip: '10.0.0.2' }],
    });
    await shareResources(hub, [spoke], { resourceArns: [rule.arn], name: 'dns' });
    const spokeVpc = await createVpc(spoke, { cidr: '10.8.0.0/16' });
    const seen = (await resolverCall(spoke, 'ListResolverRules')).ResolverRules as {
      Id: string;
      ShareStatus: string;
      OwnerId: string;
    }[];
    expect(seen.map((r) => [r.Id, r.ShareStatus, r.OwnerId])).toEqual([
      [rule.id, 'SHARED_WITH_ME', hub.accountId],
    ]);
    const own = (await resolverCall(hub, 'GetResolverRule', { ResolverRuleId: rule.id })).ResolverRule as {
      ShareStatus: string;
    };
    expect(own.ShareStatus).toBe('SHARED_BY_ME');
    const assoc = await associateResolverRule(spoke, { ruleId: rule.id, vpcId: spokeVpc });
    const listed = await resolverCall(spoke, 'ListResolverRuleAssociations', {
      Filters: [{ Name: 'VPCId', Values: [spokeVpc] }],
    });
    expect((listed.ResolverRuleAssociations as { Id: string }[]).map((x) => x.Id)).toEqual([assoc]);
  });
});

describe('P20 Route 53 Profiles', () => {
  const profilesOf = (acct: Account): Route53ProfilesClient =>
    createRoute53ProfilesClient({
      region: acct.region,
      credentials: acct.credentials,
      endpoint: acct.endpoint,
    });

  it("Profiles and their resources (an endpoint, a zone) listed and paged per account and Region, through the product's client", async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    const vpce = await createEndpoint(acct, { vpcId: net.vpcId, service: 'logs', subnetIds: net.subnetIds });
    const zoneId = await createPrivateHostedZone(acct, { name: 'corp.example.com', vpcId: net.vpcId });
    const hub = await createProfile(acct, { name: 'hub-dns' });
    const other = await createProfile(acct, { name: 'other' });
    expect(hub.id).toMatch(/^rp-[0-9a-f]{16}$/);
    expect(hub.arn).toBe(`arn:aws:route53profiles:${acct.region}:${acct.accountId}:profile/${hub.id}`);
    const client = profilesOf(acct);

    const all = await client.listProfiles({});
    expect(all.ProfileSummaries).toEqual([
      { Arn: hub.arn, Id: hub.id, Name: 'hub-dns', ShareStatus: 'NOT_SHARED' },
      { Arn: other.arn, Id: other.id, Name: 'other', ShareStatus: 'NOT_SHARED' },
    ]);
    expect(all.NextToken).toBeUndefined();
    const first = await client.listProfiles({ maxResults: 1 });
    const second = await client.listProfiles({
      maxResults: 1,
      ...(first.NextToken ? { nextToken: first.NextToken } : {}),
    });
    expect([...(first.ProfileSummaries ?? []), ...(second.ProfileSummaries ?? [])].map((p) => p.Id)).toEqual([
      hub.id,
      other.id,
    ]);
    expect(second.NextToken).toBeUndefined();
    expect(await awsError(client.listProfiles({ maxResults: 101 }))).toMatchObject({
      name: 'ValidationException',
      status: 400,
    });

    const asEndpoint = await associateResourceToProfile(acct, {
      profileId: hub.id,
      resourceArn: vpcEndpointArn(acct, vpce),
    });
    await associateResourceToProfile(acct, { profileId: hub.id, resourceArn: hostedZoneArn(zoneId) });
    const resources = await client.listProfileResourceAssociations({ profileId: hub.id });
    expect(resources.ProfileResourceAssociations).toMatchObject([
      {
        Id: asEndpoint,
        ProfileId: hub.id,
        ResourceArn: vpcEndpointArn(acct, vpce),
        Status: 'COMPLETE',
        OwnerId: acct.accountId,
      },
      {
        ProfileId: hub.id,
        ResourceArn: hostedZoneArn(zoneId),
        ResourceType: 'PRIVATE_HOSTED_ZONE',
        Status: 'COMPLETE',
      },
    ]);
    const page = await client.listProfileResourceAssociations({ profileId: hub.id, maxResults: 1 });
    expect(page.ProfileResourceAssociations).toHaveLength(1);
    const rest = await client.listProfileResourceAssociations({
      profileId: hub.id,
      ...(page.NextToken ? { nextToken: page.NextToken } : {}),
    });
    expect(rest.ProfileResourceAssociations?.map((r) => r.ResourceArn)).toEqual([hostedZoneArn(zoneId)]);
    expect(
      (await client.listProfileResourceAssociations({ profileId: other.id })).ProfileResourceAssociations,
    ).toEqual([]);

    // Another account, or another Region of this one, has Profiles of its own: none here.
    const stranger = newAccount();
    expect((await profilesOf(stranger).listProfiles({})).ProfileSummaries).toEqual([]);
    expect((await profilesOf(inRegion(acct, 'eu-west-1')).listProfiles({})).ProfileSummaries).toEqual([]);
  });

  it('refuses what AWS refuses: an unknown Profile or resource, a resource twice', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct);
    const vpce = await createEndpoint(acct, { vpcId: net.vpcId, service: 'kms', subnetIds: net.subnetIds });
    const profile = await createProfile(acct, { name: 'p' });
    expect(
      await awsError(profilesOf(acct).listProfileResourceAssociations({ profileId: 'rp-0000000000000000' })),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(
      await awsError(
        associateResourceToProfile(acct, {
          profileId: profile.id,
          resourceArn: vpcEndpointArn(acct, 'vpce-0123456789abcdef0'),
        }),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    // Another account's endpoint is not this account's to associate.
    const stranger = newAccount();
    const theirs = await createProfile(stranger, { name: 'theirs' });
    expect(
      await awsError(
        associateResourceToProfile(stranger, {
          profileId: theirs.id,
          resourceArn: vpcEndpointArn(acct, vpce),
        }),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
    await associateResourceToProfile(acct, {
      profileId: profile.id,
      resourceArn: vpcEndpointArn(acct, vpce),
    });
    expect(
      await awsError(
        associateResourceToProfile(acct, { profileId: profile.id, resourceArn: vpcEndpointArn(acct, vpce) }),
      ),
    ).toMatchObject({ name: 'ConflictException', status: 409 });
  });
});
