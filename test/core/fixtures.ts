/**
 * Builders for RegionSnapshot values, so a test reads like its scenario:
 *
 *   const a = account();                        // us-east-1; every managed service offered in AZs a, b, c
 *   const vpc = a.vpc();                        // 10.0.0.0/16, DNS on, main route table without egress
 *   const sub = a.subnet(vpc, { az: 'a' });     // 10.0.0.0/24 in us-east-1a, served by the main table
 *   a.containerInstance(sub);                   // EC2 capacity (agent 1.89.0)
 *   a.endpoint(vpc, 'ecs-agent');               // healthy: available, private DNS, a subnet per AZ, 443 from the VPC
 *   const plan = planOf(a.snapshot());
 *
 * Ids are deterministic (a counter per builder, hex so the config accepts the VPC ids). Endpoints take
 * their default subnets from the VPC's subnets that exist when `endpoint()` is called.
 */
import type { ActionKind } from '../../core/actions.ts';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { Finding, FindingCode } from '../../core/findings.ts';
import { serviceDnsNames } from '../../core/dns.ts';
import type {
  ContainerDefinition,
  ContainerInstance,
  EcsCluster,
  HostedZone,
  PrefixList,
  ResolverRule,
  SkippedRead,
  VpcPeering,
  Ec2Instance,
  EcsService,
  EcsTask,
  EndpointServiceOffer,
  EndpointState,
  IngressRule,
  RegionSnapshot,
  Route,
  RouteTable,
  SecurityGroup,
  SsmManagedInstance,
  Subnet,
  Tags,
  TaskDefinition,
  Vpc,
  VpcDns,
  VpcEndpoint,
} from '../../core/model.ts';
import type { Plan, PlannedAction } from '../../core/plan.ts';
import { buildPlan } from '../../core/plan.ts';
import type { ManagedService } from '../../core/services.ts';
import { GATEWAY_SERVICE, MANAGED_SERVICES, serviceNameOf } from '../../core/services.ts';

export const REGION = 'us-east-1';
export const OTHER_REGION = 'us-west-2';
export const ACCOUNT_ID = '123456789012';
/** A fixed clock: 12:03 is 3 minutes into a 10-minute client-token window. */
export const NOW = new Date('2025-01-15T12:03:00.000Z');
export const MANAGED_TAGS: Tags = { 'ecs-endpoint-remediator/managed': 'true' };
export const IGNORE_TAGS: Tags = { 'ecs-endpoint-remediator/ignore': 'true' };

export const PUBLIC_IMAGE = 'public.ecr.aws/docker/library/nginx:1.27';
export const DOCKER_HUB_IMAGE = 'nginx:1.27';

/** An image in this account's private ECR registry of `region`. */
export function ecrImage(region: string = REGION, repository = 'app'): string {
  return `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${repository}:1.0`;
}

export function secretArn(region: string = REGION, name = 'db-password'): string {
  return `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-AbCdEf`;
}

export function parameterArn(region: string = REGION, name = 'app/db-url'): string {
  return `arn:aws:ssm:${region}:${ACCOUNT_ID}:parameter/${name}`;
}

// ---- security group rules ---------------------------------------------------------------------

export function https(...cidrs: string[]): IngressRule {
  return { protocol: 'tcp', fromPort: 443, toPort: 443, cidrs, sourceGroupIds: [] };
}

export function httpsFromGroups(...groupIds: string[]): IngressRule {
  return { protocol: 'tcp', fromPort: 443, toPort: 443, cidrs: [], sourceGroupIds: groupIds };
}

export function rule(
  protocol: string,
  ports: { from?: number; to?: number },
  sources: { cidrs?: string[]; groups?: string[] },
): IngressRule {
  return {
    protocol,
    ...(ports.from === undefined ? {} : { fromPort: ports.from }),
    ...(ports.to === undefined ? {} : { toPort: ports.to }),
    cidrs: sources.cidrs ?? [],
    sourceGroupIds: sources.groups ?? [],
  };
}

// ---- the builder --------------------------------------------------------------------------------

/** Where a route table's default route leads: `blackhole` is a NAT route that no longer works. */
export type EgressKind = 'igw' | 'nat' | 'tgw' | 'none' | 'blackhole';

export interface VpcOptions {
  readonly cidr?: string;
  readonly name?: string;
  readonly tags?: Tags;
  /** Partial DNS facts over the defaults (all on, Amazon DNS); `null`: discovery did not read them. */
  readonly dns?: Partial<VpcDns> | null;
  /** Egress of the main route table (default `none`). */
  readonly egress?: EgressKind;
  /** The owner account (default: the account discovered); another makes it a shared VPC. */
  readonly ownerId?: string;
  /** An IPv6 block of the VPC. */
  readonly ipv6Cidr?: string;
}

export interface SubnetOptions {
  /** `a` (short for `<region>a`) or a full AZ name; default `a`. */
  readonly az?: string;
  /** The IPv4 CIDR; `''` for an IPv6-only subnet. */
  readonly cidr?: string;
  /** With an egress, the subnet gets an explicit route table of its own; without, the main table serves it. */
  readonly egress?: EgressKind;
  readonly ipv6Cidr?: string;
  /** An IPv6-only subnet (`Ipv6Native`): no IPv4 CIDR. */
  readonly ipv6Only?: boolean;
  readonly dns64?: boolean;
  /** Extra routes of its own route table (created when egress or routes are given). */
  readonly routes?: readonly Route[];
}

export interface EndpointOptions {
  /** Default: one subnet per AZ of the VPC's subnets so far (lowest id per AZ). */
  readonly subnets?: readonly string[];
  /** Default: a group of the VPC allowing TCP 443 from the VPC CIDR. */
  readonly groups?: readonly string[];
  readonly privateDns?: boolean;
  readonly state?: EndpointState;
  /** The Region the service name names (default: the account's). */
  readonly region?: string;
  readonly tags?: Tags;
  readonly managed?: boolean;
  readonly ipAddressType?: 'ipv4' | 'dualstack' | 'ipv6';
  /** The endpoint policy document (JSON). */
  readonly policy?: string;
}

export interface GatewayOptions {
  /** Default: every route table of the VPC so far. */
  readonly routeTables?: readonly string[];
  readonly state?: EndpointState;
  readonly region?: string;
  readonly tags?: Tags;
}

export interface ContainerInstanceOptions {
  readonly cluster?: string;
  /** `null`: the agent never reported a version. */
  readonly agentVersion?: string | null;
  readonly status?: string;
  readonly instanceState?: string;
  readonly groups?: readonly string[];
  /**
   * SSM's view of the instance. Default: managed and online, Amazon Linux 2023 (an ECS-optimized AMI
   * ships the SSM agent); `null`: not managed by SSM.
   */
  readonly ssm?: Partial<SsmManagedInstance> | null;
  /** ISO time of registration with ECS. */
  readonly registeredAt?: string;
  /** More ECS attributes (e.g. the restart record). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** The role of the instance's profile, as discovery reads it. */
  readonly role?: string;
}

export interface PlacedInstance {
  readonly instanceId: string;
  readonly arn: string;
}

export interface ServiceOptions {
  readonly name?: string;
  readonly cluster?: string;
  readonly launchType?: string;
  readonly capacityProviders?: readonly string[];
  readonly taskDefinition?: string;
  readonly taskDefinitions?: readonly string[];
  readonly groups?: readonly string[];
  readonly serviceConnect?: boolean;
  /** More awsvpc configurations (deployments of a rolling update), beyond `subnetIds` with `groups`. */
  readonly deployments?: ReadonlyArray<{
    readonly subnets: readonly string[];
    readonly groups: readonly string[];
  }>;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  readonly exec?: boolean;
}

export interface TaskOptions {
  readonly taskDefinition: string;
  readonly subnets?: readonly string[];
  readonly cluster?: string;
  readonly launchType?: string;
  readonly capacityProvider?: string;
  /** The container instance the task runs on (EC2 bridge/host tasks). */
  readonly on?: PlacedInstance;
  /** The groups of the task's ENI; `null`: they could not be read. */
  readonly groups?: readonly string[] | null;
  readonly exec?: boolean;
}

export type ContainerOptions = Partial<ContainerDefinition>;

const DEFAULT_AZS = ['a', 'b', 'c'];

interface MutableState {
  vpcs: Vpc[];
  subnets: Subnet[];
  routeTables: RouteTable[];
  endpoints: VpcEndpoint[];
  securityGroups: SecurityGroup[];
  endpointServices: EndpointServiceOffer[];
  containerInstances: ContainerInstance[];
  ec2Instances: Ec2Instance[];
  services: EcsService[];
  tasks: EcsTask[];
  taskDefinitions: TaskDefinition[];
  ssmInstances: SsmManagedInstance[];
  clusters: EcsCluster[];
  prefixLists: PrefixList[];
  hostedZones: HostedZone[];
  resolverRules: ResolverRule[];
  centralEndpoints: VpcEndpoint[];
  peerings: VpcPeering[];
  skippedReads: SkippedRead[];
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}

export class Account {
  readonly region: string;
  readonly #state: MutableState;
  #next: number;
  readonly #vpcIndex = new Map<string, number>();
  readonly #subnetCount = new Map<string, number>();
  readonly #openGroups = new Map<string, string>();

  constructor(region: string, firstId: number) {
    this.region = region;
    this.#next = firstId;
    this.#state = {
      vpcs: [],
      subnets: [],
      routeTables: [],
      endpoints: [],
      securityGroups: [],
      endpointServices: MANAGED_SERVICES.map((service) => defaultOffer(region, service)),
      containerInstances: [],
      ec2Instances: [],
      services: [],
      tasks: [],
      taskDefinitions: [],
      ssmInstances: [],
      clusters: [],
      prefixLists: [],
      hostedZones: [],
      resolverRules: [],
      centralEndpoints: [],
      peerings: [],
      skippedReads: [],
    };
  }

  #id(prefix: string): string {
    this.#next += 1;
    return `${prefix}-${hex(this.#next)}`;
  }

  /** `a` → `us-east-1a`; full names pass through. */
  az(name: string): string {
    return name.length <= 2 ? `${this.region}${name}` : name;
  }

  vpc(options: VpcOptions = {}): string {
    const vpcId = this.#id('vpc');
    const index = this.#vpcIndex.size;
    this.#vpcIndex.set(vpcId, index);
    const cidr = options.cidr ?? `10.${index}.0.0/16`;
    const dns =
      options.dns === null
        ? undefined
        : { support: true, hostnames: true, dhcpDnsServers: ['AmazonProvidedDNS'], ...options.dns };
    const tags = { ...(options.name ? { Name: options.name } : {}), ...options.tags };
    this.#state.vpcs.push({
      vpcId,
      cidrBlocks: [cidr],
      tags,
      ownerId: options.ownerId ?? ACCOUNT_ID,
      ...(options.ipv6Cidr ? { ipv6CidrBlocks: [options.ipv6Cidr] } : {}),
      ...(dns ? { dns } : {}),
    });
    this.routeTable(vpcId, { main: true, egress: options.egress ?? 'none' });
    return vpcId;
  }

  vpcOf(vpcId: string): Vpc {
    return must(
      this.#state.vpcs.find((vpc) => vpc.vpcId === vpcId),
      `no VPC ${vpcId}`,
    );
  }

  cidrOf(vpcId: string): string {
    return must(this.vpcOf(vpcId).cidrBlocks[0], `VPC ${vpcId} has no CIDR`);
  }

  subnet(vpcId: string, options: SubnetOptions = {}): string {
    const subnetId = this.#id('subnet');
    const count = this.#subnetCount.get(vpcId) ?? 0;
    this.#subnetCount.set(vpcId, count + 1);
    const index = this.#vpcIndex.get(vpcId) ?? 0;
    const cidrBlock = options.ipv6Only ? '' : (options.cidr ?? `10.${index}.${count}.0/24`);
    this.#state.subnets.push({
      subnetId,
      vpcId,
      availabilityZone: this.az(options.az ?? 'a'),
      cidrBlock,
      ...(options.ipv6Cidr ? { ipv6CidrBlocks: [options.ipv6Cidr] } : {}),
      ...(options.ipv6Only ? { ipv6Native: true } : {}),
      ...(options.dns64 ? { dns64: true } : {}),
      ownerId: this.vpcOf(vpcId).ownerId ?? ACCOUNT_ID,
    });
    if (options.egress !== undefined || options.routes !== undefined) {
      const local: Route = { destination: this.cidrOf(vpcId), target: 'local', active: true };
      this.routeTable(vpcId, {
        subnets: [subnetId],
        routes: [
          local,
          ...egressRoutes(options.egress ?? 'none', `rtb-${subnetId.slice(7)}`),
          ...(options.routes ?? []),
        ],
      });
    }
    return subnetId;
  }

  subnetOf(subnetId: string): Subnet {
    return must(
      this.#state.subnets.find((subnet) => subnet.subnetId === subnetId),
      `no subnet ${subnetId}`,
    );
  }

  mainRouteTable(vpcId: string): string {
    return must(
      this.#state.routeTables.find((table) => table.vpcId === vpcId && table.main),
      `VPC ${vpcId} has no main route table`,
    ).routeTableId;
  }

  routeTable(
    vpcId: string,
    options: {
      subnets?: readonly string[];
      egress?: EgressKind;
      main?: boolean;
      routes?: readonly Route[];
    } = {},
  ): string {
    const routeTableId = this.#id('rtb');
    const local: Route = { destination: this.cidrOf(vpcId), target: 'local', active: true };
    const routes = options.routes ?? [local, ...egressRoutes(options.egress ?? 'none', routeTableId)];
    this.#state.routeTables.push({
      routeTableId,
      vpcId,
      main: options.main ?? false,
      subnetIds: options.subnets ?? [],
      routes,
    });
    return routeTableId;
  }

  securityGroup(
    vpcId: string,
    options: {
      ingress?: readonly IngressRule[];
      /** Outbound rules; default: not read (absent). */
      egress?: readonly IngressRule[];
      name?: string;
      tags?: Tags;
      managed?: boolean;
    } = {},
  ): string {
    const groupId = this.#id('sg');
    this.#state.securityGroups.push({
      groupId,
      vpcId,
      groupName: options.name ?? `group-${groupId}`,
      tags: { ...(options.managed ? MANAGED_TAGS : {}), ...options.tags },
      ingress: options.ingress ?? [],
      ...(options.egress === undefined ? {} : { egress: options.egress }),
    });
    return groupId;
  }

  /** A group left by an earlier run of the remediator. */
  managedGroup(vpcId: string, ingress: readonly IngressRule[] = []): string {
    return this.securityGroup(vpcId, { ingress, name: 'ecs-endpoint-remediator-endpoints', managed: true });
  }

  /** A group allowing TCP 443 from the whole VPC CIDR (made once per VPC). */
  openGroup(vpcId: string): string {
    const existing = this.#openGroups.get(vpcId);
    if (existing) return existing;
    const groupId = this.securityGroup(vpcId, {
      ingress: [https(this.cidrOf(vpcId))],
      name: 'endpoints-open',
    });
    this.#openGroups.set(vpcId, groupId);
    return groupId;
  }

  /** An interface endpoint; by default a healthy one (see {@link EndpointOptions}). */
  endpoint(vpcId: string, service: ManagedService, options: EndpointOptions = {}): string {
    const vpcEndpointId = this.#id('vpce');
    this.#state.endpoints.push({
      vpcEndpointId,
      vpcId,
      serviceName: serviceNameOf(options.region ?? this.region, service),
      type: 'Interface',
      state: options.state ?? 'available',
      privateDnsEnabled: options.privateDns ?? true,
      subnetIds: options.subnets ?? this.#onePerAz(vpcId),
      securityGroupIds: options.groups ?? [this.openGroup(vpcId)],
      routeTableIds: [],
      tags: { ...(options.managed ? MANAGED_TAGS : {}), ...options.tags },
      ...(options.ipAddressType ? { ipAddressType: options.ipAddressType } : {}),
      ...(options.policy === undefined ? {} : { policyDocument: options.policy }),
      dnsNames: [`${vpcEndpointId}-abcd1234.${service}.${this.region}.vpce.amazonaws.com`],
    });
    return vpcEndpointId;
  }

  /**
   * An interface endpoint in a central (hub) VPC, private DNS off: what a spoke's private hosted zone
   * points at. Returns its id and its regional DNS name.
   */
  centralEndpoint(
    vpcId: string,
    service: ManagedService,
    options: EndpointOptions = {},
  ): { readonly id: string; readonly dnsName: string } {
    const id = this.endpoint(vpcId, service, { privateDns: false, ...options });
    const endpoint = must(
      this.#state.endpoints.find((candidate) => candidate.vpcEndpointId === id),
      'unreachable',
    );
    this.#state.endpoints = this.#state.endpoints.filter((candidate) => candidate !== endpoint);
    this.#state.centralEndpoints.push(endpoint);
    return { id, dnsName: endpoint.dnsNames?.[0] ?? '' };
  }

  /** A private hosted zone associated with `vpcIds`; `records: null` means they could not be read. */
  hostedZone(
    name: string,
    vpcIds: readonly string[],
    records: ReadonlyArray<{ readonly name: string; readonly alias?: string }> | null,
    ownerId = ACCOUNT_ID,
  ): string {
    const hostedZoneId = `Z${hex(this.#next + 1).toUpperCase()}`;
    this.#next += 1;
    this.#state.hostedZones.push({
      hostedZoneId,
      name,
      vpcIds,
      ownerId,
      ...(records === null
        ? { recordsUnreadable: 'AccessDenied: not authorized to access this hosted zone' }
        : {
            records: records.map((record) => ({
              name: record.name,
              type: 'A',
              ...(record.alias ? { aliasTarget: record.alias } : {}),
            })),
          }),
    });
    return hostedZoneId;
  }

  resolverRule(domainName: string, ruleType: 'FORWARD' | 'SYSTEM', vpcIds: readonly string[]): string {
    const resolverRuleId = `rslvr-rr-${hex(this.#next + 1)}`;
    this.#next += 1;
    this.#state.resolverRules.push({
      resolverRuleId,
      domainName,
      ruleType,
      vpcIds,
      ...(ruleType === 'FORWARD' ? { targets: ['10.99.0.2:53'] } : {}),
    });
    return resolverRuleId;
  }

  peering(requesterVpcId: string, accepterVpcId: string, status = 'active'): string {
    const peeringConnectionId = this.#id('pcx');
    this.#state.peerings.push({ peeringConnectionId, requesterVpcId, accepterVpcId, status });
    return peeringConnectionId;
  }

  /** A customer-managed prefix list; `null` entries: its entries could not be read. */
  prefixList(cidrs: readonly string[] | null): string {
    const prefixListId = this.#id('pl');
    if (cidrs === null) {
      this.skippedRead({
        operation: 'ec2:GetManagedPrefixListEntries',
        reason: 'AccessDenied: not authorized',
        resourceId: prefixListId,
      });
    } else {
      this.#state.prefixLists.push({ prefixListId, cidrs, ownerId: ACCOUNT_ID });
    }
    return prefixListId;
  }

  skippedRead(read: SkippedRead): this {
    this.#state.skippedReads.push(read);
    return this;
  }

  /** The cluster's ECS Exec settings (`executeCommandConfiguration`). */
  cluster(name: string, executeCommand: NonNullable<EcsCluster['executeCommand']>): string {
    const clusterArn = this.clusterArn(name);
    this.#state.clusters.push({ clusterArn, executeCommand });
    return clusterArn;
  }

  /** Sets a task definition's execution and task roles. */
  roles(taskDefinitionArn: string, roles: { executionRoleArn?: string; taskRoleArn?: string }): this {
    this.#state.taskDefinitions = this.#state.taskDefinitions.map((definition) =>
      definition.taskDefinitionArn === taskDefinitionArn ? { ...definition, ...roles } : definition,
    );
    return this;
  }

  /** Healthy endpoints for each service (the S3 one as a gateway on every route table). */
  endpoints(vpcId: string, services: readonly ManagedService[]): void {
    for (const service of services) {
      if (service === GATEWAY_SERVICE) this.gateway(vpcId);
      else this.endpoint(vpcId, service);
    }
  }

  /** The S3 gateway endpoint. */
  gateway(vpcId: string, options: GatewayOptions = {}): string {
    const vpcEndpointId = this.#id('vpce');
    this.#state.endpoints.push({
      vpcEndpointId,
      vpcId,
      serviceName: serviceNameOf(options.region ?? this.region, GATEWAY_SERVICE),
      type: 'Gateway',
      state: options.state ?? 'available',
      privateDnsEnabled: false,
      subnetIds: [],
      securityGroupIds: [],
      routeTableIds:
        options.routeTables ??
        this.#state.routeTables.filter((table) => table.vpcId === vpcId).map((table) => table.routeTableId),
      tags: options.tags ?? {},
    });
    return vpcEndpointId;
  }

  #onePerAz(vpcId: string): string[] {
    const byAz = new Map<string, string>();
    const subnets = this.#state.subnets
      .filter((subnet) => subnet.vpcId === vpcId)
      .sort((a, b) => a.subnetId.localeCompare(b.subnetId));
    for (const subnet of subnets)
      if (!byAz.has(subnet.availabilityZone)) byAz.set(subnet.availabilityZone, subnet.subnetId);
    return [...byAz.values()];
  }

  /** A running EC2 instance registered as an ECS container instance in the subnet. */
  containerInstance(subnetId: string, options: ContainerInstanceOptions = {}): PlacedInstance {
    const subnet = this.subnetOf(subnetId);
    const instanceId = this.#id('i');
    const cluster = this.clusterArn(options.cluster ?? 'default');
    const arn = `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:container-instance/${options.cluster ?? 'default'}/${instanceId.slice(2)}`;
    this.#state.ec2Instances.push({
      instanceId,
      vpcId: subnet.vpcId,
      subnetId,
      availabilityZone: subnet.availabilityZone,
      securityGroupIds: options.groups ?? [],
      state: options.instanceState ?? 'running',
      ...(options.role === undefined ? {} : { instanceRoleArn: options.role }),
    });
    const agentVersion = options.agentVersion === undefined ? '1.89.0' : options.agentVersion;
    this.#state.containerInstances.push({
      clusterArn: cluster,
      containerInstanceArn: arn,
      ec2InstanceId: instanceId,
      ...(agentVersion === null ? {} : { agentVersion }),
      agentConnected: true,
      status: options.status ?? 'ACTIVE',
      ...(options.registeredAt === undefined ? {} : { registeredAt: options.registeredAt }),
      attributes: { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX', ...options.attributes },
    });
    if (options.ssm !== null) {
      this.#state.ssmInstances.push({
        instanceId,
        pingStatus: 'Online',
        platformType: 'Linux',
        platformName: 'Amazon Linux',
        platformVersion: '2023',
        ...options.ssm,
      });
    }
    return { instanceId, arn };
  }

  clusterArn(name: string): string {
    return `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:cluster/${name}`;
  }

  taskDefinition(...containers: ContainerOptions[]): string {
    const family = `td-${hex(this.#next + 1)}`;
    this.#next += 1;
    const taskDefinitionArn = `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:task-definition/${family}:1`;
    const definitions = (containers.length > 0 ? containers : [{}]).map(
      (container, index): ContainerDefinition => ({
        name: container.name ?? `c${index}`,
        image: container.image ?? PUBLIC_IMAGE,
        ...(container.logDriver === undefined ? {} : { logDriver: container.logDriver }),
        ...(container.logOptions === undefined ? {} : { logOptions: container.logOptions }),
        ...(container.firelens === undefined ? {} : { firelens: container.firelens }),
        secretRefs: container.secretRefs ?? [],
        ...(container.repositoryCredentials === undefined
          ? {}
          : { repositoryCredentials: container.repositoryCredentials }),
      }),
    );
    this.#state.taskDefinitions.push({ taskDefinitionArn, containers: definitions });
    return taskDefinitionArn;
  }

  service(subnetIds: readonly string[], options: ServiceOptions = {}): string {
    const name = options.name ?? `svc-${hex(this.#next + 1)}`;
    this.#next += 1;
    const cluster = options.cluster ?? 'default';
    const serviceArn = `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:service/${cluster}/${name}`;
    this.#state.services.push({
      clusterArn: this.clusterArn(cluster),
      serviceArn,
      serviceName: name,
      ...(options.launchType === undefined ? {} : { launchType: options.launchType }),
      capacityProviders: options.capacityProviders ?? [],
      subnetIds,
      networks: [
        ...(subnetIds.length > 0 ? [{ subnetIds, securityGroupIds: options.groups ?? [] }] : []),
        ...(options.deployments ?? []).map((deployment) => ({
          subnetIds: deployment.subnets,
          securityGroupIds: deployment.groups,
        })),
      ],
      taskDefinitionArns: options.taskDefinitions ?? (options.taskDefinition ? [options.taskDefinition] : []),
      serviceConnect: options.serviceConnect ?? false,
      ...(options.desiredCount === undefined ? {} : { desiredCount: options.desiredCount }),
      ...(options.runningCount === undefined ? {} : { runningCount: options.runningCount }),
      ...(options.exec ? { enableExecuteCommand: true } : {}),
    });
    return serviceArn;
  }

  fargateService(subnetIds: readonly string[], options: ServiceOptions = {}): string {
    return this.service(subnetIds, { launchType: 'FARGATE', ...options });
  }

  /** An EC2 service: awsvpc when given subnets, bridge (no subnets) otherwise. */
  ec2Service(subnetIds: readonly string[], options: ServiceOptions = {}): string {
    return this.service(subnetIds, { launchType: 'EC2', ...options });
  }

  task(options: TaskOptions): string {
    const cluster = options.cluster ?? 'default';
    const taskArn = `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:task/${cluster}/${hex(this.#next + 1)}`;
    this.#next += 1;
    this.#state.tasks.push({
      clusterArn: this.clusterArn(cluster),
      taskArn,
      ...(options.launchType === undefined ? {} : { launchType: options.launchType }),
      ...(options.capacityProvider === undefined ? {} : { capacityProviderName: options.capacityProvider }),
      taskDefinitionArn: options.taskDefinition,
      subnetIds: options.subnets ?? [],
      ...(options.groups === null ? {} : { securityGroupIds: options.groups ?? [] }),
      ...(options.on ? { containerInstanceArn: options.on.arn } : {}),
      ...(options.exec ? { enableExecuteCommand: true } : {}),
    });
    return taskArn;
  }

  /** Replaces what the Region offers for a service; `null` removes the offer. */
  offer(
    service: ManagedService,
    offer: {
      azs?: readonly string[];
      types?: readonly string[];
      ipAddressTypes?: readonly string[];
      privateDnsNames?: readonly string[];
      policySupported?: boolean;
    } | null,
  ): this {
    const serviceName = serviceNameOf(this.region, service);
    const others = this.#state.endpointServices.filter((candidate) => candidate.serviceName !== serviceName);
    const base = defaultOffer(this.region, service);
    this.#state.endpointServices =
      offer === null
        ? others
        : [
            ...others,
            {
              serviceName,
              types: offer.types ?? base.types,
              availabilityZones: offer.azs ? offer.azs.map((az) => this.az(az)) : base.availabilityZones,
              privateDnsNames: offer.privateDnsNames ?? base.privateDnsNames ?? [],
              supportedIpAddressTypes: offer.ipAddressTypes ?? base.supportedIpAddressTypes ?? [],
              policySupported: offer.policySupported ?? base.policySupported ?? true,
            },
          ];
    return this;
  }

  snapshot(): RegionSnapshot {
    return structuredClone({ region: this.region, accountId: ACCOUNT_ID, ...this.#state });
  }
}

function defaultOffer(region: string, service: ManagedService): EndpointServiceOffer {
  return {
    serviceName: serviceNameOf(region, service),
    types: service === GATEWAY_SERVICE ? ['Interface', 'Gateway'] : ['Interface'],
    availabilityZones: DEFAULT_AZS.map((az) => `${region}${az}`),
    privateDnsNames: serviceDnsNames(region, service, undefined),
    supportedIpAddressTypes: ['ipv4', 'ipv6'],
    policySupported: true,
  };
}

function egressRoutes(kind: EgressKind, routeTableId: string): Route[] {
  const suffix = routeTableId.slice(4);
  switch (kind) {
    case 'igw':
      return [{ destination: '0.0.0.0/0', target: `igw-${suffix}`, active: true }];
    case 'nat':
      return [{ destination: '0.0.0.0/0', target: `nat-${suffix}`, active: true }];
    case 'tgw':
      return [{ destination: '0.0.0.0/0', target: `tgw-${suffix}`, active: true }];
    case 'blackhole':
      return [{ destination: '0.0.0.0/0', target: `nat-${suffix}`, active: false }];
    case 'none':
      return [];
  }
}

/** A builder for one Region's snapshot; `firstId` keeps ids apart between Regions of one test. */
export function account(region: string = REGION, firstId = 0): Account {
  return new Account(region, firstId);
}

// ---- planning and reading plans -----------------------------------------------------------------

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : DeepPartial<T[K]> };

/** A config from a partial document (validated by the real parser). */
export function config(input: DeepPartial<Config> = {}): Config {
  return parseConfig(input);
}

/** Generous caps, for tests that are not about caps. */
export const NO_CAPS = { limits: { maxEndpointsCreatedPerRun: 10_000, maxActionsPerRun: 10_000 } } as const;

export function planOf(
  snapshots: RegionSnapshot | readonly RegionSnapshot[],
  input: DeepPartial<Config> | Config = {},
  now: Date = NOW,
): Plan {
  const list = Array.isArray(snapshots)
    ? (snapshots as readonly RegionSnapshot[])
    : [snapshots as RegionSnapshot];
  return buildPlan(list, parseConfig(input), now);
}

export function findingsOf(plan: Plan, code?: FindingCode, service?: string): Finding[] {
  return plan.findings.filter(
    (finding) =>
      (code === undefined || finding.code === code) && (service === undefined || finding.service === service),
  );
}

/** The one finding of a code (and service); fails the test when there are none or several. */
export function findingOf(plan: Plan, code: FindingCode, service?: string): Finding {
  const found = findingsOf(plan, code, service);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${code}${service ? ` (${service})` : ''}, got ${found.length}: ${plan.findings.map((f) => f.id).join(', ')}`,
    );
  }
  return must(found[0], 'unreachable');
}

export type ActionOf<K extends ActionKind> = Extract<PlannedAction, { readonly kind: K }>;

export function actionsOf<K extends ActionKind>(plan: Plan, kind: K): ActionOf<K>[] {
  return plan.actions.filter((action): action is ActionOf<K> => action.kind === kind);
}

/** The one action of a kind (and, for endpoint actions, service); fails the test otherwise. */
export function actionOf<K extends ActionKind>(plan: Plan, kind: K, service?: string): ActionOf<K> {
  const found = actionsOf(plan, kind).filter(
    (action) => service === undefined || ('service' in action && action.service === service),
  );
  if (found.length !== 1) {
    throw new Error(
      `expected one ${kind}${service ? ` (${service})` : ''}, got ${found.length}: ${plan.actions.map((a) => a.id).join(', ')}`,
    );
  }
  return must(found[0], 'unreachable');
}

/** Short service names of the endpoints the plan creates (interface and gateway), in plan order. */
export function createdServices(plan: Plan): string[] {
  return plan.actions.flatMap((action) =>
    action.kind === 'CREATE_ENDPOINT' || action.kind === 'CREATE_GATEWAY_ENDPOINT' ? [action.service] : [],
  );
}

/** Services with an ENDPOINT_MISSING finding, sorted. */
export function missingServices(plan: Plan): string[] {
  return findingsOf(plan, 'ENDPOINT_MISSING')
    .map((finding) => finding.service ?? '?')
    .sort();
}

export function must<T>(value: T | undefined | null, message: string): T {
  if (value === undefined || value === null) throw new Error(message);
  return value;
}
