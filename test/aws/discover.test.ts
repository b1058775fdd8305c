// Integration tests of the read-only discovery (aws/discover.ts) with the real SDK against the patched
// moto server of the harness. Every test works in an account of its own.
import {
  CreateTagsCommand,
  DeleteVpcEndpointsCommand,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateServiceCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { createClients } from '../../aws/clients.ts';
import type { AwsClients } from '../../aws/clients.ts';
import { DiscoveryError, discoverRegion } from '../../aws/discover.ts';
import { clustersByVpc } from '../../aws/discover/cluster-index.ts';
import { defaultConfig, parseConfig } from '../../core/config.ts';
import type { RegionSnapshot } from '../../core/model.ts';
import { MANAGED_SERVICES, serviceNameOf } from '../../core/services.ts';
import { newAccount } from '../harness/aws.ts';
import type { Account } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  createSubnet,
  createVpc,
  registerTaskDefinition,
  runStandaloneTask,
  setDhcpOptions,
} from '../harness/seed.ts';

function clientsFor(acct: Account): AwsClients {
  return createClients(acct.region, { endpoint: acct.endpoint, credentials: acct.credentials });
}

const ids = <T>(items: readonly T[], key: (item: T) => string): string[] => items.map(key).sort();

/**
 * A realistic account:
 * - VPC "ec2": private subnets a/b routed through a NAT gateway (public subnet → IGW); cluster "ec2"
 *   with two container instances (agents 1.80.0 and 1.20.0) and two bridge-mode EC2 services sharing
 *   one task definition (private ECR image, awslogs, an SSM secret); endpoints ecs-agent and
 *   ecs-telemetry (group "endpoints"), an S3 gateway, and a logs endpoint deleted again; a managed
 *   group of the remediator and an unrelated group.
 * - VPC "fargate": two private subnets, no egress, custom DNS servers, enableDnsHostnames off; cluster
 *   "fargate" with a FARGATE service, a FARGATE_SPOT service and a standalone task.
 * - VPC "ignored" (tag ecs-endpoint-remediator/ignore=true) with a Fargate service and an endpoint.
 * - VPC "idle" with no ECS work (and an endpoint), plus the account's default VPC.
 * - VPC "stopped": its only container instance's EC2 instance is stopped.
 */
async function seedRealistic(acct: Account) {
  const region = acct.region;
  const ec2Net = await createNetwork(acct, {
    cidr: '10.1.0.0/16',
    name: 'ec2',
    azs: ['a', 'b'],
    egress: 'nat',
  });
  const fargateNet = await createNetwork(acct, { cidr: '10.2.0.0/16', name: 'fargate', azs: ['a', 'b'] });
  const fargateDhcp = await setDhcpOptions(acct, {
    vpcId: fargateNet.vpcId,
    domainNameServers: ['10.2.0.2', '10.2.0.3'],
  });
  const ignoredVpc = await createVpc(acct, {
    cidr: '10.3.0.0/16',
    name: 'ignored',
    tags: { 'ecs-endpoint-remediator/ignore': 'true' },
  });
  const ignoredSubnet = await createSubnet(acct, { vpcId: ignoredVpc, cidr: '10.3.0.0/24', az: 'a' });
  const idleVpc = await createVpc(acct, { cidr: '10.4.0.0/16', name: 'idle' });
  const idleSubnet = await createSubnet(acct, { vpcId: idleVpc, cidr: '10.4.0.0/24', az: 'a' });
  const stoppedVpc = await createVpc(acct, { cidr: '10.5.0.0/16', name: 'stopped' });
  const stoppedSubnet = await createSubnet(acct, { vpcId: stoppedVpc, cidr: '10.5.0.0/24', az: 'a' });

  // Cluster "ec2".
  const ec2Cluster = await createCluster(acct, 'ec2');
  const ci1 = await addContainerInstance(acct, {
    cluster: 'ec2',
    subnetId: ec2Net.subnetIds[0] ?? '',
    agentVersion: '1.80.0',
  });
  const ci2 = await addContainerInstance(acct, {
    cluster: 'ec2',
    subnetId: ec2Net.subnetIds[1] ?? '',
    agentVersion: '1.20.0',
  });
  const stoppedCluster = await createCluster(acct, 'stopped');
  const ci3 = await addContainerInstance(acct, { cluster: 'stopped', subnetId: stoppedSubnet });
  await acct.ec2.send(new StopInstancesCommand({ InstanceIds: [ci3.instanceId] }));
  const ssmSecret = `arn:aws:ssm:${region}:${acct.accountId}:parameter/app/db-password`;
  const appImage = `${acct.accountId}.dkr.ecr.${region}.amazonaws.com/app:1.4.2`;
  const appTd = await registerTaskDefinition(acct, {
    family: 'app',
    images: [appImage],
    logDriver: 'awslogs',
    secrets: [{ name: 'DB_PASSWORD', valueFrom: ssmSecret }],
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  const web = await createService(acct, {
    cluster: 'ec2',
    name: 'web',
    taskDefinition: appTd,
    launchType: 'EC2',
  });
  const worker = await createService(acct, {
    cluster: 'ec2',
    name: 'worker',
    taskDefinition: appTd,
    launchType: 'EC2',
  });

  // Cluster "fargate".
  const fargateCluster = await createCluster(acct, 'fargate', {
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
  });
  const taskSg = await createSecurityGroup(acct, { vpcId: fargateNet.vpcId, name: 'tasks' });
  const smSecret = `arn:aws:secretsmanager:${region}:${acct.accountId}:secret:api-key-AbCdEf`;
  const registryCreds = `arn:aws:secretsmanager:${region}:${acct.accountId}:secret:dockerhub-XyZ123`;
  const apiTd = await registerTaskDefinition(acct, {
    family: 'api',
    images: ['docker.io/library/nginx:1.27', 'public.ecr.aws/aws-observability/aws-otel-collector:latest'],
    secrets: [{ name: 'API_KEY', valueFrom: smSecret }],
    repositoryCredentials: { credentialsParameter: registryCreds },
  });
  const api = await createService(acct, {
    cluster: 'fargate',
    name: 'api',
    taskDefinition: apiTd,
    launchType: 'FARGATE',
    subnets: fargateNet.subnetIds,
    securityGroups: [taskSg],
  });
  const spot = await createService(acct, {
    cluster: 'fargate',
    name: 'spot',
    taskDefinition: apiTd,
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    subnets: [fargateNet.subnetIds[1] ?? ''],
    securityGroups: [taskSg],
  });
  const batchTd = await registerTaskDefinition(acct, {
    family: 'batch',
    images: ['busybox:stable'],
    logDriver: 'awslogs',
  });
  const [batchTask] = await runStandaloneTask(acct, {
    cluster: 'fargate',
    taskDefinition: batchTd,
    subnets: [fargateNet.subnetIds[0] ?? ''],
    securityGroups: [taskSg],
  });
  // A task a service started: covered by its service, not listed as standalone.
  await runStandaloneTask(acct, {
    cluster: 'fargate',
    taskDefinition: apiTd,
    subnets: [fargateNet.subnetIds[0] ?? ''],
    securityGroups: [taskSg],
    group: 'service:api',
  });
  // Off only now: moto 5.2.5 fails RunTask (awsvpc) in a VPC without DNS hostnames (its ENI lacks a DNS name).
  await acct.ec2.send(
    new ModifyVpcAttributeCommand({ VpcId: fargateNet.vpcId, EnableDnsHostnames: { Value: false } }),
  );

  // The ignored VPC's work.
  const ignoredTd = await registerTaskDefinition(acct, { family: 'ignored', images: ['busybox:stable'] });
  const ignoredSg = await createSecurityGroup(acct, { vpcId: ignoredVpc, name: 'ignored-tasks' });
  const ignoredService = await createService(acct, {
    cluster: 'fargate',
    name: 'ignored',
    taskDefinition: ignoredTd,
    launchType: 'FARGATE',
    subnets: [ignoredSubnet],
    securityGroups: [ignoredSg],
  });

  // Endpoints and groups.
  const endpointSg = await createSecurityGroup(acct, {
    vpcId: ec2Net.vpcId,
    name: 'endpoints',
    ingress: [{ port: 443, cidr: '10.1.0.0/16' }],
  });
  const managedSg = await createSecurityGroup(acct, {
    vpcId: ec2Net.vpcId,
    name: 'ecs-endpoint-remediator',
    ingress: [{ port: 443, groupId: endpointSg }],
  });
  await acct.ec2.send(
    new CreateTagsCommand({
      Resources: [managedSg],
      Tags: [{ Key: 'ecs-endpoint-remediator/managed', Value: 'true' }],
    }),
  );
  await createSecurityGroup(acct, {
    vpcId: ec2Net.vpcId,
    name: 'unrelated',
    ingress: [{ port: 22, cidr: '10.0.0.0/8' }],
  });
  const interfaceEndpoint = (service: string, name: string) =>
    createEndpoint(acct, {
      vpcId: ec2Net.vpcId,
      service,
      subnetIds: ec2Net.subnetIds,
      securityGroupIds: [endpointSg],
      name,
      tags: { team: 'platform' },
    });
  const agentEp = await interfaceEndpoint('ecs-agent', 'ecs-agent');
  const telemetryEp = await interfaceEndpoint('ecs-telemetry', 'ecs-telemetry');
  const logsEp = await interfaceEndpoint('logs', 'logs');
  await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [logsEp] }));
  const s3Ep = await createEndpoint(acct, {
    vpcId: ec2Net.vpcId,
    service: 's3',
    type: 'Gateway',
    routeTableIds: [ec2Net.egress?.routeTableId ?? ''],
  });
  const idleSg = await createSecurityGroup(acct, { vpcId: idleVpc, name: 'idle-endpoints' });
  await createEndpoint(acct, {
    vpcId: idleVpc,
    service: 'ecs',
    subnetIds: [idleSubnet],
    securityGroupIds: [idleSg],
  });
  const ignoredEpSg = await createSecurityGroup(acct, { vpcId: ignoredVpc, name: 'ignored-endpoints' });
  await createEndpoint(acct, {
    vpcId: ignoredVpc,
    service: 'ecs',
    subnetIds: [ignoredSubnet],
    securityGroupIds: [ignoredEpSg],
  });

  return {
    ec2Net,
    fargateNet,
    fargateDhcp,
    ignoredVpc,
    ignoredSubnet,
    idleVpc,
    stoppedVpc,
    stoppedSubnet,
    clusters: { ec2: ec2Cluster, fargate: fargateCluster, stopped: stoppedCluster },
    instances: { ci1, ci2, ci3 },
    taskDefinitions: { app: appTd, api: apiTd, batch: batchTd, ignored: ignoredTd },
    services: { web, worker, api, spot, ignored: ignoredService },
    batchTask: batchTask ?? '',
    groups: { endpointSg, managedSg, taskSg },
    endpoints: { agentEp, telemetryEp, logsEp, s3Ep },
    secrets: { ssmSecret, smSecret, registryCreds },
    appImage,
  };
}

describe('discoverRegion', () => {
  it('reads a realistic account into exactly the expected snapshot, with batched calls', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    const clients = clientsFor(acct);
    const progress: string[] = [];
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig, {
      onProgress: (m) => progress.push(m),
    });

    expect(snapshot.region).toBe(acct.region);

    // VPCs: only those hosting ECS work (live instances or awsvpc subnets); dns only in scope.
    const { ec2Net, fargateNet, ignoredVpc } = seed;
    expect(ids(snapshot.vpcs, (v) => v.vpcId)).toEqual([ec2Net.vpcId, fargateNet.vpcId, ignoredVpc].sort());
    const vpc = (id: string) => snapshot.vpcs.find((v) => v.vpcId === id);
    expect(vpc(ec2Net.vpcId)).toEqual({
      vpcId: ec2Net.vpcId,
      cidrBlocks: ['10.1.0.0/16'],
      ownerId: acct.accountId,
      tags: { Name: 'ec2' },
      dns: { support: true, hostnames: true, dhcpDnsServers: ['AmazonProvidedDNS'] },
    });
    expect(vpc(fargateNet.vpcId)?.dns).toEqual({
      support: true,
      hostnames: false,
      dhcpDnsServers: ['10.2.0.2', '10.2.0.3'],
    });
    expect(vpc(ignoredVpc)).toEqual({
      vpcId: ignoredVpc,
      cidrBlocks: ['10.3.0.0/16'],
      ownerId: acct.accountId,
      tags: { Name: 'ignored', 'ecs-endpoint-remediator/ignore': 'true' },
    });

    // Every subnet of those VPCs, and no other.
    const expectedSubnets = [
      ...ec2Net.subnetIds,
      ec2Net.publicSubnetId ?? '',
      ...fargateNet.subnetIds,
      seed.ignoredSubnet,
    ];
    expect(ids(snapshot.subnets, (s) => s.subnetId)).toEqual(expectedSubnets.sort());
    expect(snapshot.subnets.find((s) => s.subnetId === fargateNet.subnetIds[1])).toEqual({
      subnetId: fargateNet.subnetIds[1],
      vpcId: fargateNet.vpcId,
      availabilityZone: `${acct.region}b`,
      availabilityZoneId: 'use1-az1', // moto's mapping of us-east-1b
      cidrBlock: '10.2.1.0/24',
      ownerId: acct.accountId,
    });

    // Route tables of the VPCs in scope only: main + NAT + public in "ec2", main in "fargate".
    expect(new Set(snapshot.routeTables.map((t) => t.vpcId))).toEqual(
      new Set([ec2Net.vpcId, fargateNet.vpcId]),
    );
    const natTable = snapshot.routeTables.find((t) => t.routeTableId === ec2Net.egress?.routeTableId);
    expect(natTable).toMatchObject({ vpcId: ec2Net.vpcId, main: false });
    expect([...(natTable?.subnetIds ?? [])].sort()).toEqual([...ec2Net.subnetIds].sort());
    expect(natTable?.routes).toContainEqual({
      destination: '0.0.0.0/0',
      target: ec2Net.egress?.natGatewayId,
      active: true,
    });
    expect(natTable?.routes).toContainEqual({ destination: '10.1.0.0/16', target: 'local', active: true });
    const publicTable = snapshot.routeTables.find(
      (t) => t.routeTableId === ec2Net.egress?.publicRouteTableId,
    );
    expect(publicTable?.subnetIds).toEqual([ec2Net.publicSubnetId]);
    expect(publicTable?.routes).toContainEqual({
      destination: '0.0.0.0/0',
      target: ec2Net.egress?.internetGatewayId,
      active: true,
    });
    const mains = snapshot.routeTables.filter((t) => t.main);
    expect(ids(mains, (t) => t.vpcId)).toEqual([ec2Net.vpcId, fargateNet.vpcId].sort());
    expect(mains.every((t) => t.subnetIds.length === 0)).toBe(true);
    expect(snapshot.routeTables).toHaveLength(4);

    // Endpoints of the in-scope VPCs, the deleted one left out, states in lower case.
    const { agentEp, telemetryEp, s3Ep } = seed.endpoints;
    expect(ids(snapshot.endpoints, (e) => e.vpcEndpointId)).toEqual([agentEp, telemetryEp, s3Ep].sort());
    expect(snapshot.endpoints.find((e) => e.vpcEndpointId === agentEp)).toEqual({
      vpcEndpointId: agentEp,
      vpcId: ec2Net.vpcId,
      serviceName: serviceNameOf(acct.region, 'ecs-agent'),
      type: 'Interface',
      state: 'available',
      privateDnsEnabled: true,
      subnetIds: ec2Net.subnetIds,
      securityGroupIds: [seed.groups.endpointSg],
      routeTableIds: [],
      tags: { Name: 'ecs-agent', team: 'platform' },
      policyDocument: expect.stringContaining('"Statement"') as unknown,
      ipAddressType: 'ipv4',
      dnsNames: expect.arrayContaining(['ecs-agent.us-east-1.amazonaws.com']) as unknown,
      ownerId: acct.accountId,
    });
    expect(snapshot.endpoints.find((e) => e.vpcEndpointId === s3Ep)).toMatchObject({
      type: 'Gateway',
      state: 'available',
      privateDnsEnabled: false,
      securityGroupIds: [],
      routeTableIds: [ec2Net.egress?.routeTableId],
    });

    // The endpoints' group, the managed group and the workloads' group (for its outbound rules); not
    // the unrelated ones. The hosts carry the VPC's default group only when launched without one.
    expect(ids(snapshot.securityGroups, (g) => g.groupId)).toEqual(
      [seed.groups.endpointSg, seed.groups.managedSg, seed.groups.taskSg].sort(),
    );
    expect(snapshot.securityGroups.find((g) => g.groupId === seed.groups.endpointSg)).toEqual({
      groupId: seed.groups.endpointSg,
      vpcId: ec2Net.vpcId,
      groupName: 'endpoints',
      tags: {},
      ingress: [
        {
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          cidrs: ['10.1.0.0/16'],
          ipv6Cidrs: [],
          prefixListIds: [],
          sourceGroupIds: [],
        },
      ],
      // A new group's allow-all outbound rule.
      egress: [
        { protocol: '-1', cidrs: ['0.0.0.0/0'], ipv6Cidrs: [], prefixListIds: [], sourceGroupIds: [] },
      ],
    });
    expect(snapshot.securityGroups.find((g) => g.groupId === seed.groups.managedSg)).toMatchObject({
      tags: { 'ecs-endpoint-remediator/managed': 'true' },
      ingress: [
        {
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          cidrs: [],
          ipv6Cidrs: [],
          prefixListIds: [],
          sourceGroupIds: [seed.groups.endpointSg],
        },
      ],
    });

    // Offers for every managed service; S3's two entries merged.
    expect(snapshot.endpointServices.map((o) => o.serviceName)).toEqual(
      MANAGED_SERVICES.map((s) => serviceNameOf(acct.region, s)),
    );
    expect(snapshot.endpointServices.find((o) => o.serviceName.endsWith('.s3'))?.types).toEqual([
      'Gateway',
      'Interface',
    ]);
    expect(snapshot.endpointServices.find((o) => o.serviceName.endsWith('.ecs-agent'))).toMatchObject({
      types: ['Interface'],
    });
    for (const offer of snapshot.endpointServices)
      expect(offer.availabilityZones).toContain(`${acct.region}a`);

    // Container instances with agent versions and attributes; all of them, the stopped host's too.
    const { ci1, ci2, ci3 } = seed.instances;
    expect(ids(snapshot.containerInstances, (c) => c.containerInstanceArn)).toEqual(
      [ci1.containerInstanceArn, ci2.containerInstanceArn, ci3.containerInstanceArn].sort(),
    );
    const first = snapshot.containerInstances.find(
      (c) => c.containerInstanceArn === ci1.containerInstanceArn,
    );
    expect(first).toMatchObject({
      clusterArn: seed.clusters.ec2,
      ec2InstanceId: ci1.instanceId,
      agentVersion: '1.80.0',
      agentConnected: true,
      status: 'ACTIVE',
    });
    expect(first?.attributes).toMatchObject({ 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX' });
    expect(first?.attributes).not.toHaveProperty(['ecs.capability.task-eni']); // capabilities carry no value
    expect(first?.registeredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(
      snapshot.containerInstances.find((c) => c.containerInstanceArn === ci2.containerInstanceArn)
        ?.agentVersion,
    ).toBe('1.20.0');

    // The EC2 instances behind them.
    expect(snapshot.ec2Instances.find((i) => i.instanceId === ci2.instanceId)).toEqual({
      instanceId: ci2.instanceId,
      vpcId: ec2Net.vpcId,
      subnetId: ec2Net.subnetIds[1],
      availabilityZone: `${acct.region}b`,
      securityGroupIds: expect.any(Array) as unknown,
      state: 'running',
    });
    expect(snapshot.ec2Instances.find((i) => i.instanceId === ci3.instanceId)).toMatchObject({
      vpcId: seed.stoppedVpc,
      state: 'stopped',
    });

    // Services with their placement, subnets and task definitions.
    const { app, api, batch, ignored } = seed.taskDefinitions;
    const service = (arn: string) => snapshot.services.find((s) => s.serviceArn === arn);
    expect(ids(snapshot.services, (s) => s.serviceArn)).toEqual(Object.values(seed.services).sort());
    expect(service(seed.services.web)).toEqual({
      clusterArn: seed.clusters.ec2,
      serviceArn: seed.services.web,
      serviceName: 'web',
      launchType: 'EC2',
      capacityProviders: [],
      subnetIds: [],
      networks: [],
      taskDefinitionArns: [app],
      serviceConnect: false,
      desiredCount: 1,
      runningCount: 0,
    });
    expect(service(seed.services.api)).toEqual({
      clusterArn: seed.clusters.fargate,
      serviceArn: seed.services.api,
      serviceName: 'api',
      launchType: 'FARGATE',
      capacityProviders: [],
      subnetIds: fargateNet.subnetIds,
      networks: [{ subnetIds: [...fargateNet.subnetIds].sort(), securityGroupIds: [seed.groups.taskSg] }],
      taskDefinitionArns: [api],
      serviceConnect: false,
      desiredCount: 1,
      runningCount: 1,
    });
    expect(service(seed.services.spot)).not.toHaveProperty('launchType');
    expect(service(seed.services.spot)).toMatchObject({
      capacityProviders: ['FARGATE_SPOT'],
      subnetIds: [fargateNet.subnetIds[1]],
    });

    // Only the standalone task; the one of group service:api belongs to its service.
    expect(snapshot.tasks).toEqual([
      {
        clusterArn: seed.clusters.fargate,
        taskArn: seed.batchTask,
        launchType: 'FARGATE',
        taskDefinitionArn: batch,
        subnetIds: [fargateNet.subnetIds[0]],
        // DescribeTasks names the ENI; its groups come from EC2 (DescribeNetworkInterfaces).
        networkInterfaceId: expect.stringMatching(/^eni-/) as unknown,
        securityGroupIds: [seed.groups.taskSg],
      },
    ]);

    // Task definitions: each distinct one once, with images, log drivers and secrets; none of work
    // that runs only in the ignored VPC (it is not examined).
    expect(ids(snapshot.taskDefinitions, (t) => t.taskDefinitionArn)).toEqual([app, api, batch].sort());
    expect(ignored).not.toBe('');
    const td = (arn: string) => snapshot.taskDefinitions.find((t) => t.taskDefinitionArn === arn);
    const awslogs = (group: string) => ({
      'awslogs-group': group,
      'awslogs-region': acct.region,
      'awslogs-stream-prefix': 'ecs',
    });
    expect(td(app)?.containers).toEqual([
      {
        name: 'app',
        image: seed.appImage,
        logDriver: 'awslogs',
        logOptions: awslogs('/ecs/app'),
        secretRefs: [seed.secrets.ssmSecret],
      },
    ]);
    expect(td(api)?.containers).toEqual([
      {
        name: 'nginx',
        image: 'docker.io/library/nginx:1.27',
        secretRefs: [seed.secrets.smSecret],
        repositoryCredentials: seed.secrets.registryCreds,
      },
      {
        name: 'aws-otel-collector',
        image: 'public.ecr.aws/aws-observability/aws-otel-collector:latest',
        secretRefs: [],
        repositoryCredentials: seed.secrets.registryCreds,
      },
    ]);
    expect(td(batch)?.containers).toEqual([
      {
        name: 'busybox',
        image: 'busybox:stable',
        logDriver: 'awslogs',
        logOptions: awslogs('/ecs/batch'),
        secretRefs: [],
      },
    ]);

    // API calls: every VPC-level read once (one page, one chunk), per-VPC only where no batch exists;
    // DescribeVpcEndpoints twice: the VPCs' endpoints, and the Region's tagged as the remediator's.
    const calls = clients.calls.snapshot().byOperation;
    expect(calls).toEqual({
      'ecs:ListClusters': 1,
      'ecs:ListContainerInstances': 3,
      'ecs:DescribeContainerInstances': 2, // clusters "ec2" and "stopped"; "fargate" has none
      'ecs:ListServices': 3,
      'ecs:DescribeServices': 2, // "ec2" (2 services) and "fargate" (3)
      'ecs:ListTasks': 3,
      'ecs:DescribeTasks': 1, // only "fargate" runs tasks
      'ecs:DescribeTaskDefinition': 3, // app is shared by web and worker, api by api and spot
      'ec2:DescribeInstances': 1,
      'ec2:DescribeSubnets': 1,
      'ec2:DescribeVpcs': 1,
      'ec2:DescribeVpcAttribute': 4, // 2 VPCs in scope x 2 attributes
      'ec2:DescribeDhcpOptions': 1, // only "fargate" has a DHCP option set
      'ec2:DescribeRouteTables': 1,
      'ec2:DescribeVpcEndpoints': 2,
      'ec2:DescribeSecurityGroups': 2, // managed groups, then the endpoints' groups not among them
      'ec2:DescribeVpcEndpointServices': 1,
      'ec2:DescribeNetworkInterfaces': 1, // the standalone task's ENI, for its groups
      // How each VPC in scope resolves service names: no batch form exists for a VPC's zones.
      'route53:ListHostedZonesByVPC': 2,
      'route53resolver:ListResolverRuleAssociations': 1, // the Region's; no rule is associated
      // SSM facts of the container instances that may owe an agent restart (core/restarts.ts).
      'ssm:DescribeInstanceInformation': 1,
    });
    expect(clients.calls.snapshot().byService).toEqual({
      ecs: 18,
      ec2: 15,
      ssm: 1,
      route53: 2,
      route53resolver: 1,
    });
    expect(progress).toContain('ecs: 3 clusters');
    expect(progress).toContain('ec2: 3 VPCs host ECS work (2 in scope), 6 subnets');
    expect(progress).toContain('ec2: 3 VPC endpoints (1 deleted left out)');
  });

  it('narrows to the VPCs given (event-scoped reconcile) and reads only what they need', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    const clients = clientsFor(acct);
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig, {
      vpcIds: [seed.fargateNet.vpcId, seed.idleVpc],
    });

    // The idle VPC hosts no ECS work: not listed even though asked for.
    expect(snapshot.vpcs.map((v) => v.vpcId)).toEqual([seed.fargateNet.vpcId]);
    expect(ids(snapshot.subnets, (s) => s.subnetId)).toEqual([...seed.fargateNet.subnetIds].sort());
    expect(snapshot.routeTables.map((t) => t.vpcId)).toEqual([seed.fargateNet.vpcId]);
    expect(snapshot.endpoints).toEqual([]);
    // No endpoint groups; the tasks' group is read for its outbound rules (WORKLOAD_SG_NO_HTTPS_EGRESS).
    expect(ids(snapshot.securityGroups, (g) => g.groupId)).toEqual([seed.groups.taskSg]);
    expect(snapshot.containerInstances).toEqual([]);
    expect(snapshot.ec2Instances).toEqual([]);
    // The fargate cluster's work in that VPC; not the ignored VPC's service nor cluster "ec2".
    expect(ids(snapshot.services, (s) => s.serviceArn)).toEqual(
      [seed.services.api, seed.services.spot].sort(),
    );
    expect(snapshot.tasks.map((t) => t.taskArn)).toEqual([seed.batchTask]);
    expect(ids(snapshot.taskDefinitions, (t) => t.taskDefinitionArn)).toEqual(
      [seed.taskDefinitions.api, seed.taskDefinitions.batch].sort(),
    );

    const calls = clients.calls.snapshot().byOperation;
    expect(calls['ec2:DescribeVpcAttribute']).toBe(2);
    expect(calls['ec2:DescribeVpcs']).toBe(1);
    expect(calls['ec2:DescribeSubnets']).toBe(1);
    expect(calls['ecs:DescribeTaskDefinition']).toBe(2);
    expect(calls['ec2:DescribeSecurityGroups']).toBe(2); // managed groups, then the tasks' group (its outbound rules)
  });

  it('with a cluster hint, reads only the hinted clusters and their container instances in the VPC: the same snapshot, fewer calls', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    // Cluster "ec2" also has a host in the fargate VPC: not the event's VPC, so not described.
    await addContainerInstance(acct, { cluster: 'ec2', subnetId: seed.fargateNet.subnetIds[0] ?? '' });
    const vpcIds = [seed.ec2Net.vpcId];
    const unhinted = await discoverRegion(clientsFor(acct), acct.region, defaultConfig, { vpcIds });
    const clients = clientsFor(acct);
    const hinted = await discoverRegion(clients, acct.region, defaultConfig, {
      vpcIds,
      clusterArns: [seed.clusters.ec2],
    });

    expect(hinted).toEqual(unhinted);
    expect(ids(hinted.containerInstances, (ci) => ci.containerInstanceArn)).toEqual(
      [seed.instances.ci1.containerInstanceArn, seed.instances.ci2.containerInstanceArn].sort(),
    );
    expect(ids(hinted.services, (s) => s.serviceArn)).toEqual(
      [seed.services.web, seed.services.worker].sort(),
    );
    // No ListClusters; one list and describe per kind in the one cluster; the VPC's two hosts only.
    expect(clients.calls.snapshot().byOperation).toEqual({
      'ecs:ListContainerInstances': 1,
      'ecs:DescribeContainerInstances': 1,
      'ecs:ListServices': 1,
      'ecs:DescribeServices': 1,
      'ecs:ListTasks': 1,
      'ec2:DescribeInstances': 1,
      'ec2:DescribeSubnets': 1,
      'ec2:DescribeVpcs': 1,
      'ec2:DescribeVpcAttribute': 2,
      'ec2:DescribeRouteTables': 1,
      'ec2:DescribeVpcEndpoints': 1,
      'ec2:DescribeSecurityGroups': 2,
      'ec2:DescribeVpcEndpointServices': 1,
      'ecs:DescribeTaskDefinition': 1,
      'route53:ListHostedZonesByVPC': 1, // the one VPC
      'route53resolver:ListResolverRuleAssociations': 1,
      'ssm:DescribeInstanceInformation': 1, // the hosts that may owe an agent restart
    });
  });

  it('with a cluster hint, skips a hinted cluster that no longer exists and reads nothing else', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    const gone = `arn:aws:ecs:${acct.region}:${acct.accountId}:cluster/deleted-since`;
    const progress: string[] = [];
    const clients = clientsFor(acct);
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig, {
      vpcIds: [seed.fargateNet.vpcId],
      clusterArns: [gone, seed.clusters.fargate],
      onProgress: (message) => progress.push(message),
    });
    expect(ids(snapshot.services, (s) => s.serviceArn)).toEqual(
      [seed.services.api, seed.services.spot].sort(),
    );
    expect(snapshot.tasks.map((t) => t.taskArn)).toEqual([seed.batchTask]);
    expect(progress).toContain(`ecs: hinted cluster ${gone} no longer exists`);
    const calls = clients.calls.snapshot().byOperation;
    expect(calls['ecs:ListClusters']).toBeUndefined();
    expect(calls['ecs:ListServices']).toBe(2); // the fargate cluster's, and the one that found it gone
    expect(calls['ecs:DescribeServices']).toBe(1);
    expect(calls['ec2:DescribeInstances']).toBeUndefined(); // no hosts in that VPC
  });

  it('indexes which clusters have work in which VPC from a whole-Region snapshot', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    const snapshot = await discoverRegion(clientsFor(acct), acct.region, defaultConfig);
    expect(clustersByVpc(snapshot)).toEqual({
      [seed.ec2Net.vpcId]: [seed.clusters.ec2],
      [seed.fargateNet.vpcId]: [seed.clusters.fargate],
      [seed.ignoredVpc]: [seed.clusters.fargate],
      // A stopped host still counts: when it starts again its cluster is already known.
      [seed.stoppedVpc]: [seed.clusters.stopped],
    });
  });

  it('leaves VPCs out of scope by config without DNS and without VPC-level reads', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    const clients = clientsFor(acct);
    const config = parseConfig({ scope: { excludeVpcIds: [seed.fargateNet.vpcId] } });
    const snapshot = await discoverRegion(clients, acct.region, config);

    expect(ids(snapshot.vpcs, (v) => v.vpcId)).toEqual(
      [seed.ec2Net.vpcId, seed.fargateNet.vpcId, seed.ignoredVpc].sort(),
    );
    expect(snapshot.vpcs.filter((v) => v.dns).map((v) => v.vpcId)).toEqual([seed.ec2Net.vpcId]);
    expect(new Set(snapshot.routeTables.map((t) => t.vpcId))).toEqual(new Set([seed.ec2Net.vpcId]));
    expect(clients.calls.snapshot().byOperation['ec2:DescribeVpcAttribute']).toBe(2);
    expect(clients.calls.snapshot().byOperation['ec2:DescribeDhcpOptions']).toBeUndefined();
  });

  it('skips the reads only disabled checks need: DNS facts, and SSM facts for restarts', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    const full = await discoverRegion(clientsFor(acct), acct.region, defaultConfig);
    const clients = clientsFor(acct);
    const config = parseConfig({
      checks: { disabled: ['VPC_DNS_DISABLED', 'VPC_CUSTOM_DNS', 'AGENT_RESTART_REQUIRED'] },
    });
    const snapshot = await discoverRegion(clients, acct.region, config);

    const calls = clients.calls.snapshot().byOperation;
    expect(calls['ec2:DescribeVpcAttribute']).toBeUndefined();
    expect(calls['ec2:DescribeDhcpOptions']).toBeUndefined();
    expect(calls['ssm:DescribeInstanceInformation']).toBeUndefined();
    expect(snapshot.vpcs.filter((v) => v.dns)).toEqual([]);
    expect(snapshot.ssmInstances).toEqual([]);
    // Everything else is read as before.
    const withoutSkipped = (s: typeof snapshot) => ({
      ...s,
      vpcs: s.vpcs.map((vpc) => ({ ...vpc, dns: undefined })),
      ssmInstances: [],
    });
    expect(withoutSkipped(snapshot)).toEqual(withoutSkipped(full));
    expect(full.vpcs.filter((v) => v.dns).map((v) => v.vpcId)).toContain(seed.ec2Net.vpcId);
  });

  it('batches describes at their limits: 100 container instances, 10 services, one read per task definition', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.9.0.0/16', azs: ['a'] });
    const subnetId = net.subnetIds[0] ?? '';
    const cluster = await createCluster(acct, 'big');
    const run = await acct.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-04681a1dbd79675a5',
        InstanceType: 'm5.large',
        MinCount: 101,
        MaxCount: 101,
        SubnetId: subnetId,
      }),
    );
    const instanceIds = (run.Instances ?? []).map((i) => i.InstanceId ?? '');
    expect(instanceIds).toHaveLength(101);
    await Promise.all(
      instanceIds.map((instanceId) =>
        acct.ecs.send(
          new RegisterContainerInstanceCommand({
            cluster: 'big',
            instanceIdentityDocument: JSON.stringify({
              instanceId,
              region: acct.region,
              accountId: acct.accountId,
            }),
            versionInfo: { agentVersion: '1.85.0' },
          }),
        ),
      ),
    );
    const shared = await registerTaskDefinition(acct, {
      family: 'shared',
      images: ['nginx:1'],
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    });
    const other = await registerTaskDefinition(acct, {
      family: 'other',
      images: ['nginx:2'],
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    });
    for (let i = 0; i < 21; i += 1) {
      await acct.ecs.send(
        new CreateServiceCommand({
          cluster: 'big',
          serviceName: `svc-${i}`,
          taskDefinition: i < 15 ? shared : other,
          desiredCount: 1,
          launchType: 'EC2',
        }),
      );
    }

    const clients = clientsFor(acct);
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig);

    expect(snapshot.containerInstances).toHaveLength(101);
    expect(
      snapshot.containerInstances.every((c) => c.agentVersion === '1.85.0' && c.clusterArn === cluster),
    ).toBe(true);
    expect(snapshot.ec2Instances).toHaveLength(101);
    expect(snapshot.services).toHaveLength(21);
    expect(snapshot.vpcs.map((v) => v.vpcId)).toEqual([net.vpcId]);
    const calls = clients.calls.snapshot().byOperation;
    expect(calls['ecs:ListContainerInstances']).toBe(2); // 100 a page
    expect(calls['ecs:DescribeContainerInstances']).toBe(2); // 100 + 1
    expect(calls['ecs:ListServices']).toBe(1); // maxResults 100 (the default page is 10)
    expect(calls['ecs:DescribeServices']).toBe(3); // 10 + 10 + 1
    expect(calls['ecs:DescribeTaskDefinition']).toBe(2); // 21 services, 2 task definitions
    expect(calls['ec2:DescribeInstances']).toBe(1); // up to 1000 ids a call
  });

  it("returns an empty snapshot without VPC-level reads when the Region has no ECS work (but the remediator's endpoints are looked for)", async () => {
    const acct = newAccount();
    await createNetwork(acct, { cidr: '10.8.0.0/16' });
    const clients = clientsFor(acct);
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig);
    expect(snapshot).toEqual<RegionSnapshot>({
      region: acct.region,
      vpcs: [],
      subnets: [],
      routeTables: [],
      endpoints: [],
      securityGroups: [],
      endpointServices: [],
      containerInstances: [],
      ec2Instances: [],
      services: [],
      tasks: [],
      taskDefinitions: [],
      ssmInstances: [],
    });
    // One read for endpoints tagged as the remediator's, wherever they are: there are none.
    expect(clients.calls.snapshot()).toEqual({
      total: 2,
      byService: { ecs: 1, ec2: 1 },
      byOperation: { 'ecs:ListClusters': 1, 'ec2:DescribeVpcEndpoints': 1 },
    });
  });

  it('wraps a failed read in a DiscoveryError naming the Region and the operation', async () => {
    const acct = newAccount();
    await seedMinimal(acct);
    const clients = clientsFor(acct);
    failOperation(
      clients,
      'DescribeVpcEndpoints',
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
    );
    const error: unknown = await discoverRegion(clients, acct.region, defaultConfig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error).toMatchObject({
      region: acct.region,
      operation: 'ec2:DescribeVpcEndpoints',
      code: 'UnauthorizedOperation',
      message: `${acct.region}: ec2:DescribeVpcEndpoints failed: UnauthorizedOperation: You are not authorized to perform this operation.`,
    });
  });

  it('lists all endpoint services when the Region does not offer one of the managed names', async () => {
    const acct = newAccount();
    await seedMinimal(acct);
    const clients = clientsFor(acct);
    // As AWS answers ServiceNames with a name it does not know: the whole call fails.
    failOperation(
      clients,
      'DescribeVpcEndpointServices',
      'InvalidServiceName',
      'The Vpc Endpoint Service does not exist',
      1,
    );
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig);
    expect(snapshot.endpointServices).toHaveLength(MANAGED_SERVICES.length);
    expect(clients.calls.snapshot().byOperation['ec2:DescribeVpcEndpointServices']).toBe(1); // the failed one never left
  });

  it('without ENDPOINT_SG_NO_HTTPS, places hosts by their ECS attributes and asks EC2 only which are not live', async () => {
    const acct = newAccount();
    const seed = await seedRealistic(acct);
    // A host whose agent registered no place attributes: it is described in full.
    const hostGroup = await createSecurityGroup(acct, { vpcId: seed.ec2Net.vpcId, name: 'hosts' });
    const bare = await addContainerInstance(acct, {
      cluster: 'ec2',
      subnetId: seed.ec2Net.subnetIds[0] ?? '',
      securityGroupIds: [hostGroup],
      extraAttributes: { 'ecs.vpc-id': null, 'ecs.subnet-id': null },
    });
    // Compared with a discovery that checks only inbound groups: the outbound check reads the
    // workloads' groups, which placing hosts by attributes goes without.
    const full = await discoverRegion(
      clientsFor(acct),
      acct.region,
      parseConfig({ checks: { disabled: ['WORKLOAD_SG_NO_HTTPS_EGRESS'] } }),
    );
    const clients = clientsFor(acct);
    const reads: Array<{ ids: number; filtered: boolean; returned: string[] }> = [];
    clients.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'DescribeInstancesCommand') {
          const input = args.input as { InstanceIds?: string[]; Filters?: unknown[] };
          const output = result.output as {
            Reservations?: Array<{ Instances?: Array<{ InstanceId?: string }> }>;
          };
          reads.push({
            ids: input.InstanceIds?.length ?? 0,
            filtered: (input.Filters ?? []).length > 0,
            returned: (output.Reservations ?? []).flatMap((r) =>
              (r.Instances ?? []).map((i) => i.InstanceId ?? ''),
            ),
          });
        }
        return result;
      },
      { step: 'initialize', name: 'testInstanceReads' },
    );
    const config = parseConfig({
      checks: { disabled: ['ENDPOINT_SG_NO_HTTPS', 'WORKLOAD_SG_NO_HTTPS_EGRESS'] },
    });
    const snapshot = await discoverRegion(clients, acct.region, config);

    // The same snapshot but for the groups of the hosts placed by attributes and of the task ENIs
    // (only the disabled check needs either).
    const byId = (s: typeof snapshot, id: string) => s.ec2Instances.find((i) => i.instanceId === id);
    const withoutGroups = (s: typeof snapshot) => ({
      ...s,
      ec2Instances: s.ec2Instances.map((i) => ({ ...i, securityGroupIds: [] })),
      tasks: s.tasks.map((task) => ({ ...task, securityGroupIds: undefined })),
    });
    expect(snapshot.tasks.every((task) => task.securityGroupIds === undefined)).toBe(true);
    expect(withoutGroups(snapshot)).toEqual(withoutGroups(full));
    expect(byId(snapshot, bare.instanceId)).toEqual(byId(full, bare.instanceId));
    expect(byId(snapshot, bare.instanceId)?.securityGroupIds).toEqual([hostGroup]);
    // One filtered read returning only the stopped host, one full read of the unplaced host.
    const placedHosts = full.containerInstances.length - 1;
    expect(reads.sort((a, b) => Number(b.filtered) - Number(a.filtered))).toEqual([
      { ids: placedHosts, filtered: true, returned: [seed.instances.ci3.instanceId] },
      { ids: 1, filtered: false, returned: [bare.instanceId] },
    ]);
    expect(byId(snapshot, seed.instances.ci3.instanceId)?.state).toBe('stopped');
  });

  it.each([
    ['every check on', defaultConfig],
    [
      'hosts placed by attributes',
      parseConfig({ checks: { disabled: ['ENDPOINT_SG_NO_HTTPS', 'WORKLOAD_SG_NO_HTTPS_EGRESS'] } }),
    ],
  ])('drops instance ids that no longer exist and asks again (%s)', async (_, config) => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.6.0.0/16', azs: ['a'] });
    await createCluster(acct, 'ec2');
    const kept = await addContainerInstance(acct, { cluster: 'ec2', subnetId: net.subnetIds[0] ?? '' });
    const gone = await addContainerInstance(acct, { cluster: 'ec2', subnetId: net.subnetIds[0] ?? '' });
    const clients = clientsFor(acct);
    const requested: string[][] = [];
    clients.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DescribeInstancesCommand') {
          const ids = (args.input as { InstanceIds?: string[] }).InstanceIds ?? [];
          requested.push([...ids].sort());
          if (ids.includes(gone.instanceId)) {
            // As AWS answers for an instance terminated long ago.
            const message = `The instance ID '${gone.instanceId}' does not exist`;
            throw Object.assign(new Error(message), { name: 'InvalidInstanceID.NotFound', $metadata: {} });
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'testInstanceGone' },
    );
    const snapshot = await discoverRegion(clients, acct.region, config);
    expect(requested).toEqual([[kept.instanceId, gone.instanceId].sort(), [kept.instanceId]]);
    expect(snapshot.ec2Instances.map((i) => i.instanceId)).toEqual([kept.instanceId]);
    expect(snapshot.containerInstances).toHaveLength(2); // the engine skips the one without a host
    expect(snapshot.vpcs.map((v) => v.vpcId)).toEqual([net.vpcId]);
  });

  it('counts every attempt, retries included', async () => {
    const acct = newAccount();
    await seedMinimal(acct);
    const clients = clientsFor(acct);
    let thrown = 0;
    clients.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DescribeVpcsCommand' && thrown === 0) {
          thrown += 1;
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $metadata: {},
            $fault: 'client',
          });
        }
        return next(args);
      },
      { step: 'deserialize', name: 'testThrottleOnce' },
    );
    const snapshot = await discoverRegion(clients, acct.region, defaultConfig);
    expect(snapshot.vpcs).toHaveLength(1);
    expect(clients.calls.snapshot().byOperation['ec2:DescribeVpcs']).toBe(2);
  });
});

/** One Fargate service in a private VPC: enough for every discovery step to run. */
async function seedMinimal(acct: Account): Promise<void> {
  const net = await createNetwork(acct, { cidr: '10.7.0.0/16', azs: ['a'] });
  await createCluster(acct, 'small');
  const sg = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'tasks' });
  const td = await registerTaskDefinition(acct, { family: 'small', images: ['nginx:1'] });
  await createService(acct, {
    cluster: 'small',
    name: 'small',
    taskDefinition: td,
    launchType: 'FARGATE',
    subnets: net.subnetIds,
    securityGroups: [sg],
  });
}

/** Makes `times` calls of the operation fail before they are sent, as AWS would answer them. */
function failOperation(
  clients: AwsClients,
  operation: string,
  code: string,
  message: string,
  times = Infinity,
): void {
  let failures = 0;
  clients.ec2.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === `${operation}Command` && failures < times) {
        failures += 1;
        throw Object.assign(new Error(message), {
          name: code,
          $metadata: { httpStatusCode: 400 },
          $fault: 'client',
        });
      }
      return next(args);
    },
    { step: 'initialize', name: `testFail${operation}` },
  );
}
