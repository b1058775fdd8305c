// Composable builders of realistic ECS accounts, through the real SDK v3 against the (patched) moto server.
// Used by the integration tests and by scripts (npm run demo): no vitest import here. Tests get their
// Account from newAccount() in ./aws.ts; scripts call accountFor(endpoint, accountId, region).
import {
  AllocateAddressCommand,
  AssociateDhcpOptionsCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateDhcpOptionsCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { _InstanceType, IpPermission, ResourceType, TagSpecification } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import type {
  CapacityProviderStrategyItem,
  Compatibility,
  ContainerDefinition,
  NetworkConfiguration,
  NetworkMode,
} from '@aws-sdk/client-ecs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

// ------------------------------------------------------------------------------------------------
// Accounts
// ------------------------------------------------------------------------------------------------

/** One AWS account in one Region of the moto server, with SDK clients bound to it. */
export interface Account {
  /** 12 digits; also the access key id, which is how the patched moto tells accounts apart. */
  accountId: string;
  region: string;
  /** The moto endpoint, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** What a child process (the CLI) needs to reach the same account: merge into its environment. */
  env: Record<
    'AWS_ENDPOINT_URL' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION' | 'AWS_DEFAULT_REGION',
    string
  >;
  ec2: EC2Client;
  ecs: ECSClient;
  ssm: SSMClient;
}

/** Clients for `accountId` in `region` on the moto server at `endpoint` (no vitest needed). */
export function accountFor(endpoint: string, accountId: string, region = 'us-east-1'): Account {
  if (!/^\d{12}$/.test(accountId)) throw new Error(`account id must be 12 digits, got ${accountId}`);
  const credentials = { accessKeyId: accountId, secretAccessKey: 'test' };
  const config = { endpoint, region, credentials, maxAttempts: 2 };
  return {
    accountId,
    region,
    endpoint,
    credentials,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: accountId,
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
    },
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
    ssm: new SSMClient(config),
  };
}

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`seed: the response has no ${what}`);
  return value;
}

/** TagSpecifications for one resource: Name (if given) plus `tags`. */
export function tagSpecifications(
  resourceType: ResourceType,
  name?: string,
  tags: Record<string, string> = {},
): TagSpecification[] | undefined {
  const all = { ...(name === undefined ? {} : { Name: name }), ...tags };
  const list = Object.entries(all).map(([Key, Value]) => ({ Key, Value }));
  return list.length ? [{ ResourceType: resourceType, Tags: list }] : undefined;
}

/** 'a' → 'us-east-1a' (in the account's Region); a full AZ name is kept. */
export function azName(acct: Account, az: string): string {
  return /^[a-z]$/.test(az) ? `${acct.region}${az}` : az;
}

/** The i-th /24 inside a VPC CIDR (10.0.0.0/16, 2 → 10.0.2.0/24). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [base = '', bits = ''] = vpcCidr.split('/');
  const prefix = Number(bits);
  if (!(prefix <= 24) || 2 ** (24 - prefix) <= index) throw new Error(`no /24 number ${index} in ${vpcCidr}`);
  const n = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) + index * 256;
  return `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/24`;
}

// ------------------------------------------------------------------------------------------------
// Network
// ------------------------------------------------------------------------------------------------

export interface CreateVpcOptions {
  cidr: string;
  name?: string;
  tags?: Record<string, string>;
  /** enableDnsSupport; default true (AWS default for new VPCs: true). */
  dnsSupport?: boolean;
  /** enableDnsHostnames; default true (AWS default for new non-default VPCs: false). */
  dnsHostnames?: boolean;
}

/** A VPC with both DNS attributes set explicitly (ModifyVpcAttribute takes one attribute a call). */
export async function createVpc(acct: Account, o: CreateVpcOptions): Promise<string> {
  const out = await acct.ec2.send(
    new CreateVpcCommand({ CidrBlock: o.cidr, TagSpecifications: tagSpecifications('vpc', o.name, o.tags) }),
  );
  const vpcId = must(out.Vpc?.VpcId, 'Vpc.VpcId');
  await acct.ec2.send(
    new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: o.dnsSupport ?? true } }),
  );
  await acct.ec2.send(
    new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: o.dnsHostnames ?? true } }),
  );
  return vpcId;
}

export interface CreateSubnetOptions {
  vpcId: string;
  cidr: string;
  /** 'a' or 'us-east-1a' */
  az: string;
  name?: string;
  tags?: Record<string, string>;
}

export async function createSubnet(acct: Account, o: CreateSubnetOptions): Promise<string> {
  const out = await acct.ec2.send(
    new CreateSubnetCommand({
      VpcId: o.vpcId,
      CidrBlock: o.cidr,
      AvailabilityZone: azName(acct, o.az),
      TagSpecifications: tagSpecifications('subnet', o.name, o.tags),
    }),
  );
  return must(out.Subnet?.SubnetId, 'Subnet.SubnetId');
}

export interface InternetEgressOptions {
  vpcId: string;
  /** The subnets that get the default route (their new route table replaces the main one for them). */
  subnetIds: string[];
  via: 'igw' | 'nat';
  /** For via 'nat': the public subnet the NAT gateway lives in (it gets its own route table to the IGW). */
  publicSubnetId?: string;
}

export interface InternetEgress {
  internetGatewayId: string;
  natGatewayId?: string;
  /** The route table with 0.0.0.0/0 that `subnetIds` are associated with. */
  routeTableId: string;
  /** For via 'nat': the public subnet's route table (0.0.0.0/0 → IGW). */
  publicRouteTableId?: string;
}

/**
 * Gives `subnetIds` a default route to the internet: straight to a new attached IGW ('igw'), or to a NAT
 * gateway in `publicSubnetId`, which itself routes to the IGW ('nat'). Subnets left out stay on the main
 * route table, which has only the local route: no egress.
 */
export async function addInternetEgress(acct: Account, o: InternetEgressOptions): Promise<InternetEgress> {
  const igw = await acct.ec2.send(new CreateInternetGatewayCommand({}));
  const internetGatewayId = must(igw.InternetGateway?.InternetGatewayId, 'InternetGatewayId');
  await acct.ec2.send(
    new AttachInternetGatewayCommand({ InternetGatewayId: internetGatewayId, VpcId: o.vpcId }),
  );

  const routeTable = async (
    target: { GatewayId?: string; NatGatewayId?: string },
    subnets: string[],
  ): Promise<string> => {
    const rt = await acct.ec2.send(new CreateRouteTableCommand({ VpcId: o.vpcId }));
    const id = must(rt.RouteTable?.RouteTableId, 'RouteTableId');
    await acct.ec2.send(
      new CreateRouteCommand({ RouteTableId: id, DestinationCidrBlock: '0.0.0.0/0', ...target }),
    );
    for (const SubnetId of subnets)
      await acct.ec2.send(new AssociateRouteTableCommand({ RouteTableId: id, SubnetId }));
    return id;
  };

  if (o.via === 'igw') {
    return {
      internetGatewayId,
      routeTableId: await routeTable({ GatewayId: internetGatewayId }, o.subnetIds),
    };
  }
  if (o.publicSubnetId === undefined) throw new Error("addInternetEgress via 'nat' needs publicSubnetId");
  const publicRouteTableId = await routeTable({ GatewayId: internetGatewayId }, [o.publicSubnetId]);
  const eip = await acct.ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const nat = await acct.ec2.send(
    new CreateNatGatewayCommand({
      SubnetId: o.publicSubnetId,
      AllocationId: must(eip.AllocationId, 'AllocationId'),
    }),
  );
  const natGatewayId = must(nat.NatGateway?.NatGatewayId, 'NatGatewayId');
  const routeTableId = await routeTable({ NatGatewayId: natGatewayId }, o.subnetIds);
  return { internetGatewayId, natGatewayId, routeTableId, publicRouteTableId };
}

export interface CreateNetworkOptions {
  cidr?: string;
  name?: string;
  /** AZ letters of the private subnets, one /24 each (default ['a', 'b']). */
  azs?: string[];
  /** 'none' (default): private subnets only, no route out. 'igw' / 'nat': see addInternetEgress. */
  egress?: 'none' | 'igw' | 'nat';
  dnsSupport?: boolean;
  dnsHostnames?: boolean;
}

export interface Network {
  vpcId: string;
  /** One per AZ in `azs`, in that order. */
  subnetIds: string[];
  /** Only for egress 'nat' (in the first AZ, after the private subnets). */
  publicSubnetId?: string;
  egress?: InternetEgress;
}

/** A VPC with one private /24 per AZ and the chosen egress: the usual starting point of a scenario. */
export async function createNetwork(acct: Account, o: CreateNetworkOptions = {}): Promise<Network> {
  const cidr = o.cidr ?? '10.0.0.0/16';
  const azs = o.azs ?? ['a', 'b'];
  const vpcId = await createVpc(acct, {
    cidr,
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.dnsSupport === undefined ? {} : { dnsSupport: o.dnsSupport }),
    ...(o.dnsHostnames === undefined ? {} : { dnsHostnames: o.dnsHostnames }),
  });
  const subnetIds: string[] = [];
  for (const [i, az] of azs.entries()) {
    subnetIds.push(await createSubnet(acct, { vpcId, cidr: subnetCidr(cidr, i), az, name: `private-${az}` }));
  }
  const egress = o.egress ?? 'none';
  if (egress === 'none') return { vpcId, subnetIds };
  if (egress === 'igw')
    return { vpcId, subnetIds, egress: await addInternetEgress(acct, { vpcId, subnetIds, via: 'igw' }) };
  const publicSubnetId = await createSubnet(acct, {
    vpcId,
    cidr: subnetCidr(cidr, azs.length),
    az: azs[0] ?? 'a',
    name: 'public',
  });
  const natEgress = await addInternetEgress(acct, { vpcId, subnetIds, via: 'nat', publicSubnetId });
  return { vpcId, subnetIds, publicSubnetId, egress: natEgress };
}

export interface SecurityGroupRule {
  port: number;
  /** tcp by default; '-1' = all traffic (port ignored). */
  protocol?: 'tcp' | 'udp' | '-1';
  cidr?: string;
  groupId?: string;
}

export interface CreateSecurityGroupOptions {
  vpcId: string;
  name: string;
  description?: string;
  ingress?: SecurityGroupRule[];
  /** Replaces the default allow-all egress rule when given ([] = no egress at all). */
  egress?: SecurityGroupRule[];
}

function ipPermission(rule: SecurityGroupRule): IpPermission {
  const protocol = rule.protocol ?? 'tcp';
  return {
    IpProtocol: protocol,
    ...(protocol === '-1' ? {} : { FromPort: rule.port, ToPort: rule.port }),
    ...(rule.cidr === undefined ? {} : { IpRanges: [{ CidrIp: rule.cidr }] }),
    ...(rule.groupId === undefined ? {} : { UserIdGroupPairs: [{ GroupId: rule.groupId }] }),
  };
}

export async function createSecurityGroup(acct: Account, o: CreateSecurityGroupOptions): Promise<string> {
  const out = await acct.ec2.send(
    new CreateSecurityGroupCommand({
      VpcId: o.vpcId,
      GroupName: o.name,
      Description: o.description ?? o.name,
    }),
  );
  const groupId = must(out.GroupId, 'GroupId');
  if (o.ingress?.length) {
    await acct.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: o.ingress.map(ipPermission),
      }),
    );
  }
  if (o.egress !== undefined) {
    await acct.ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    if (o.egress.length) {
      await acct.ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: groupId,
          IpPermissions: o.egress.map(ipPermission),
        }),
      );
    }
  }
  return groupId;
}

/** A custom DHCP options set (e.g. own DNS servers, which bypass private DNS of endpoints) on the VPC. */
export async function setDhcpOptions(
  acct: Account,
  o: { vpcId: string; domainNameServers: string[]; domainName?: string },
): Promise<string> {
  const out = await acct.ec2.send(
    new CreateDhcpOptionsCommand({
      DhcpConfigurations: [
        { Key: 'domain-name-servers', Values: o.domainNameServers },
        ...(o.domainName === undefined ? [] : [{ Key: 'domain-name', Values: [o.domainName] }]),
      ],
    }),
  );
  const id = must(out.DhcpOptions?.DhcpOptionsId, 'DhcpOptionsId');
  await acct.ec2.send(new AssociateDhcpOptionsCommand({ DhcpOptionsId: id, VpcId: o.vpcId }));
  return id;
}

// ------------------------------------------------------------------------------------------------
// VPC endpoints
// ------------------------------------------------------------------------------------------------

export interface CreateEndpointOptions {
  vpcId: string;
  /** Short service name: 'ecs', 'ecs-agent', 'ecr.dkr', 's3', ... */
  service: string;
  /**
   * Region in the service name (default: the account's). Another Region makes a cross-Region endpoint
   * (com.amazonaws.<region>.<service> with ServiceRegion=<region>), which the patched moto accepts as
   * real AWS does: the way to seed a "wrong-Region" endpoint.
   */
  region?: string;
  type?: 'Interface' | 'Gateway';
  subnetIds?: string[];
  securityGroupIds?: string[];
  /** Omitted: the AWS default (true for Interface, false for Gateway). */
  privateDns?: boolean;
  routeTableIds?: string[];
  name?: string;
  tags?: Record<string, string>;
  clientToken?: string;
  policyDocument?: string;
}

export function serviceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}

/** Seeds a (possibly misconfigured) endpoint; returns its id. */
export async function createEndpoint(acct: Account, o: CreateEndpointOptions): Promise<string> {
  const region = o.region ?? acct.region;
  const out = await acct.ec2.send(
    new CreateVpcEndpointCommand({
      VpcId: o.vpcId,
      ServiceName: serviceName(region, o.service),
      VpcEndpointType: o.type ?? 'Interface',
      ...(region === acct.region ? {} : { ServiceRegion: region }),
      ...(o.subnetIds === undefined ? {} : { SubnetIds: o.subnetIds }),
      ...(o.securityGroupIds === undefined ? {} : { SecurityGroupIds: o.securityGroupIds }),
      ...(o.privateDns === undefined ? {} : { PrivateDnsEnabled: o.privateDns }),
      ...(o.routeTableIds === undefined ? {} : { RouteTableIds: o.routeTableIds }),
      ...(o.clientToken === undefined ? {} : { ClientToken: o.clientToken }),
      ...(o.policyDocument === undefined ? {} : { PolicyDocument: o.policyDocument }),
      TagSpecifications: tagSpecifications('vpc-endpoint', o.name, o.tags),
    }),
  );
  return must(out.VpcEndpoint?.VpcEndpointId, 'VpcEndpoint.VpcEndpointId');
}

// ------------------------------------------------------------------------------------------------
// ECS
// ------------------------------------------------------------------------------------------------

export interface CreateClusterOptions {
  capacityProviders?: string[];
  defaultCapacityProviderStrategy?: CapacityProviderStrategyItem[];
  tags?: Record<string, string>;
}

export async function createCluster(
  acct: Account,
  name: string,
  o: CreateClusterOptions = {},
): Promise<string> {
  const out = await acct.ecs.send(
    new CreateClusterCommand({
      clusterName: name,
      ...(o.capacityProviders === undefined ? {} : { capacityProviders: o.capacityProviders }),
      ...(o.defaultCapacityProviderStrategy === undefined
        ? {}
        : { defaultCapacityProviderStrategy: o.defaultCapacityProviderStrategy }),
      ...(o.tags === undefined
        ? {}
        : { tags: Object.entries(o.tags).map(([key, value]) => ({ key, value })) }),
    }),
  );
  return must(out.cluster?.clusterArn, 'cluster.clusterArn');
}

/** An image id moto knows (Amazon Linux 2, x86_64) and a Windows one, for RunInstances. */
export const DEFAULT_AMI = { linux: 'ami-04681a1dbd79675a5', windows: 'ami-03cf127a' } as const;

/** Attributes a current ECS agent on Linux registers (capabilities carry no value). */
const LINUX_AGENT_CAPABILITIES = [
  'com.amazonaws.ecs.capability.docker-remote-api.1.17',
  'com.amazonaws.ecs.capability.docker-remote-api.1.44',
  'com.amazonaws.ecs.capability.ecr-auth',
  'com.amazonaws.ecs.capability.logging-driver.awslogs',
  'com.amazonaws.ecs.capability.privileged-container',
  'com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager',
  'com.amazonaws.ecs.capability.task-iam-role',
  'ecs.capability.container-health-check',
  'ecs.capability.execution-role-awslogs',
  'ecs.capability.execution-role-ecr-pull',
  'ecs.capability.secrets.asm.environment-variables',
  'ecs.capability.secrets.ssm.environment-variables',
  'ecs.capability.task-eni',
];

export interface AddContainerInstanceOptions {
  /** Cluster name or ARN. */
  cluster: string;
  subnetId: string;
  /** versionInfo.agentVersion; default '1.80.0'. */
  agentVersion?: string;
  osType?: 'linux' | 'windows';
  /** ecs.os-family; default LINUX / WINDOWS_SERVER_2019_FULL. */
  osFamily?: string;
  /** Default DEFAULT_AMI[osType]. */
  amiId?: string;
  instanceType?: _InstanceType;
  securityGroupIds?: string[];
  /** More attributes (name → value; null for a capability without value); they win over the defaults. */
  extraAttributes?: Record<string, string | null>;
}

export interface ContainerInstance {
  instanceId: string;
  containerInstanceArn: string;
}

/**
 * Runs an EC2 instance in the subnet and registers it with the cluster the way the ECS agent does:
 * instance identity document, versionInfo and the agent's attributes (ecs.os-type, ecs.os-family,
 * ecs.ami-id, ecs.instance-type, ecs.cpu-architecture, ecs.vpc-id, ecs.subnet-id, capabilities).
 */
export async function addContainerInstance(
  acct: Account,
  o: AddContainerInstanceOptions,
): Promise<ContainerInstance> {
  const osType = o.osType ?? 'linux';
  const amiId = o.amiId ?? DEFAULT_AMI[osType];
  const instanceType: _InstanceType = o.instanceType ?? 'm5.large';
  const run = await acct.ec2.send(
    new RunInstancesCommand({
      ImageId: amiId,
      InstanceType: instanceType,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: o.subnetId,
      ...(o.securityGroupIds === undefined ? {} : { SecurityGroupIds: o.securityGroupIds }),
    }),
  );
  const instance = must(run.Instances?.[0], 'Instances[0]');
  const instanceId = must(instance.InstanceId, 'InstanceId');
  const availabilityZone = must(instance.Placement?.AvailabilityZone, 'Placement.AvailabilityZone');
  const identity = {
    accountId: acct.accountId,
    architecture: 'x86_64',
    availabilityZone,
    imageId: amiId,
    instanceId,
    instanceType,
    pendingTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    privateIp: instance.PrivateIpAddress ?? null,
    region: acct.region,
    version: '2017-09-30',
  };
  const attributes: Record<string, string | null> = {
    'ecs.os-type': osType,
    'ecs.os-family': o.osFamily ?? (osType === 'linux' ? 'LINUX' : 'WINDOWS_SERVER_2019_FULL'),
    'ecs.ami-id': amiId,
    'ecs.instance-type': instanceType,
    'ecs.availability-zone': availabilityZone,
    'ecs.cpu-architecture': 'x86_64',
    ...(instance.VpcId === undefined ? {} : { 'ecs.vpc-id': instance.VpcId }),
    'ecs.subnet-id': o.subnetId,
    ...Object.fromEntries((osType === 'linux' ? LINUX_AGENT_CAPABILITIES : []).map((c) => [c, null])),
    ...o.extraAttributes,
  };
  const out = await acct.ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: o.cluster,
      instanceIdentityDocument: JSON.stringify(identity),
      instanceIdentityDocumentSignature: 'harness',
      versionInfo: {
        agentVersion: o.agentVersion ?? '1.80.0',
        agentHash: 'a1b2c3d4',
        dockerVersion: osType === 'linux' ? 'DockerVersion: 25.0.8' : 'DockerVersion: 20.10.23',
      },
      attributes: Object.entries(attributes).map(([name, value]) =>
        value === null ? { name } : { name, value },
      ),
    }),
  );
  return {
    instanceId,
    containerInstanceArn: must(out.containerInstance?.containerInstanceArn, 'containerInstanceArn'),
  };
}

export interface RegisterTaskDefinitionOptions {
  family: string;
  /** One essential container per image (named after the image's repository). */
  images: string[];
  /** awslogs on every container (group /ecs/<family>, this Region). */
  logDriver?: 'awslogs';
  /** On the first container: valueFrom is an SSM parameter or Secrets Manager ARN / name. */
  secrets?: { name: string; valueFrom: string }[];
  /** On every container: private registry authentication through Secrets Manager. */
  repositoryCredentials?: { credentialsParameter: string };
  networkMode?: NetworkMode;
  compatibilities?: Compatibility[];
  executionRoleArn?: string;
  cpu?: string;
  memory?: string;
}

function containerName(image: string, index: number, taken: Set<string>): string {
  const repo = (image.split('/').pop() ?? 'app').split(/[:@]/)[0] ?? 'app';
  let name = repo.replace(/[^A-Za-z0-9_-]/g, '-') || 'app';
  if (taken.has(name)) name = `${name}-${index}`;
  taken.add(name);
  return name;
}

export async function registerTaskDefinition(
  acct: Account,
  o: RegisterTaskDefinitionOptions,
): Promise<string> {
  const taken = new Set<string>();
  const containerDefinitions: ContainerDefinition[] = o.images.map((image, i) => ({
    name: containerName(image, i, taken),
    image,
    essential: true,
    memory: 256,
    ...(o.logDriver === 'awslogs'
      ? {
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': `/ecs/${o.family}`,
              'awslogs-region': acct.region,
              'awslogs-stream-prefix': 'ecs',
            },
          },
        }
      : {}),
    ...(i === 0 && o.secrets ? { secrets: o.secrets } : {}),
    ...(o.repositoryCredentials ? { repositoryCredentials: o.repositoryCredentials } : {}),
  }));
  const out = await acct.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: o.family,
      containerDefinitions,
      networkMode: o.networkMode ?? 'awsvpc',
      requiresCompatibilities: o.compatibilities ?? ['FARGATE'],
      executionRoleArn: o.executionRoleArn ?? `arn:aws:iam::${acct.accountId}:role/ecsTaskExecutionRole`,
      cpu: o.cpu ?? '256',
      memory: o.memory ?? String(Math.max(512, 256 * o.images.length)),
    }),
  );
  return must(out.taskDefinition?.taskDefinitionArn, 'taskDefinition.taskDefinitionArn');
}

function awsvpc(
  subnets: string[] | undefined,
  securityGroups: string[] | undefined,
): NetworkConfiguration | undefined {
  // moto needs the securityGroups key (AWS falls back to the VPC's default group when it is omitted).
  return subnets === undefined
    ? undefined
    : { awsvpcConfiguration: { subnets, securityGroups: securityGroups ?? [], assignPublicIp: 'DISABLED' } };
}

export interface CreateServiceOptions {
  cluster: string;
  name: string;
  taskDefinition: string;
  /** Omit both this and capacityProviderStrategy for the cluster's default strategy (else EC2). */
  launchType?: 'EC2' | 'FARGATE';
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  /** awsvpc subnets (networkConfiguration is sent only when given). */
  subnets?: string[];
  securityGroups?: string[];
  desiredCount?: number;
}

export async function createService(acct: Account, o: CreateServiceOptions): Promise<string> {
  const networkConfiguration = awsvpc(o.subnets, o.securityGroups);
  const out = await acct.ecs.send(
    new CreateServiceCommand({
      cluster: o.cluster,
      serviceName: o.name,
      taskDefinition: o.taskDefinition,
      desiredCount: o.desiredCount ?? 1,
      ...(o.launchType === undefined ? {} : { launchType: o.launchType }),
      ...(o.capacityProviderStrategy === undefined
        ? {}
        : { capacityProviderStrategy: o.capacityProviderStrategy }),
      ...(networkConfiguration === undefined ? {} : { networkConfiguration }),
    }),
  );
  return must(out.service?.serviceArn, 'service.serviceArn');
}

export interface RunStandaloneTaskOptions {
  cluster: string;
  taskDefinition: string;
  /** awsvpc subnets (required by awsvpc task definitions). */
  subnets?: string[];
  securityGroups?: string[];
  /** Default FARGATE. EC2 needs registered container instances with room. */
  launchType?: 'EC2' | 'FARGATE';
  count?: number;
  /** Task group; 'service:<name>' makes ListTasks(serviceName) find it (patched moto). */
  group?: string;
  startedBy?: string;
}

/** RunTask (moto supports Fargate and awsvpc: it creates the task ENI in the first subnet). Returns task ARNs. */
export async function runStandaloneTask(acct: Account, o: RunStandaloneTaskOptions): Promise<string[]> {
  const networkConfiguration = awsvpc(o.subnets, o.securityGroups);
  const out = await acct.ecs.send(
    new RunTaskCommand({
      cluster: o.cluster,
      taskDefinition: o.taskDefinition,
      count: o.count ?? 1,
      launchType: o.launchType ?? 'FARGATE',
      ...(networkConfiguration === undefined ? {} : { networkConfiguration }),
      ...(o.group === undefined ? {} : { group: o.group }),
      ...(o.startedBy === undefined ? {} : { startedBy: o.startedBy }),
    }),
  );
  return (out.tasks ?? []).map((t) => must(t.taskArn, 'taskArn'));
}

/** An SSM parameter (e.g. what a task definition secret's valueFrom points at). Returns its ARN. */
export async function putParameter(
  acct: Account,
  o: { name: string; value: string; secure?: boolean },
): Promise<string> {
  await acct.ssm.send(
    new PutParameterCommand({
      Name: o.name,
      Value: o.value,
      Type: o.secure === false ? 'String' : 'SecureString',
      Overwrite: true,
    }),
  );
  const path = o.name.startsWith('/') ? o.name.slice(1) : o.name;
  return `arn:aws:ssm:${acct.region}:${acct.accountId}:parameter/${path}`;
}
