/**
 * What the checks of one VPC look at ({@link VpcContext}), and the facts derived from it per service:
 * who calls it, how bad its absence is, where an endpoint for it goes.
 */
import type { FindingCode, Severity } from './findings.ts';
import type { VpcDnsView } from './dns.ts';
import type {
  EndpointAlias,
  EndpointServiceOffer,
  InboundResolverEndpoint,
  ProfileResource,
  RegionSnapshot,
  RouteTable,
  SecurityGroup,
  SharedSubnet,
  SkippedRead,
  SsmManagedInstance,
  Subnet,
  TaskDefinition,
  VpcEndpoint,
  VpcPeering,
} from './model.ts';
import type { PrefixListEntries } from './network.ts';
import { isIpv6Only, reachesPublicly } from './network.ts';
import type { InterfaceService, ManagedService } from './services.ts';
import { ECS_AGENT_SERVICES, isManagedService, serviceNameOf } from './services.ts';
import type { Caller, Need, PlacedContainerInstance, VpcWorkload } from './workloads.ts';
import { callersOf, requiredServices } from './workloads.ts';

/** What would fix a finding; the planner turns remedies into actions (or explains why not). */
export type Remedy =
  | { readonly kind: 'manual'; readonly hint: string }
  | { readonly kind: 'create-interface'; readonly service: InterfaceService }
  | {
      readonly kind: 'create-gateway';
      readonly service: ManagedService;
      readonly routeTableIds: readonly string[];
    }
  | {
      readonly kind: 'modify';
      readonly endpoint: VpcEndpoint;
      readonly service: ManagedService;
      readonly addSubnetIds?: readonly string[];
      readonly attachManagedGroup?: boolean;
      readonly enablePrivateDns?: boolean;
      readonly addRouteTableIds?: readonly string[];
      readonly resetPolicy?: boolean;
    }
  | { readonly kind: 'delete'; readonly endpoint: VpcEndpoint }
  /** Delete an owned endpoint no workload needs, once its grace period is over (core/reclaim.ts). */
  | { readonly kind: 'reclaim'; readonly endpoint: VpcEndpoint }
  | {
      readonly kind: 'reset-policy';
      readonly endpoint: VpcEndpoint;
      readonly service: ManagedService;
      readonly hint: string;
    }
  | { readonly kind: 'update-agent'; readonly instance: PlacedContainerInstance; readonly hint: string }
  | {
      readonly kind: 'enable-vpc-dns';
      readonly attributes: readonly ('enableDnsSupport' | 'enableDnsHostnames')[];
    };

export interface DraftFinding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly vpcId: string;
  readonly service?: string;
  readonly resourceId?: string;
  /** What distinguishes this finding from others of its code in the VPC (for the stable id). */
  readonly subject: string;
  readonly message: string;
  readonly remedy: Remedy;
  /** Set when the check could not establish the problem: why (the finding's status is then `unknown`). */
  readonly unknown?: string;
}

/** Everything a check may look at for one VPC. */
export interface VpcContext {
  readonly region: string;
  readonly workload: VpcWorkload;
  readonly required: ReadonlyMap<ManagedService, readonly Need[]>;
  /** `high` when some workload subnet has no internet egress, else `medium`. */
  readonly severity: Severity;
  /** The VPC's endpoints in any state but deleted/deleting. */
  readonly endpoints: readonly VpcEndpoint[];
  readonly groupsById: ReadonlyMap<string, SecurityGroup>;
  readonly offers: ReadonlyMap<string, EndpointServiceOffer>;
  readonly routeTables: readonly RouteTable[];
  readonly subnetAz: ReadonlyMap<string, string>;
  /** SSM's facts of the container instances discovery looked up, by EC2 instance id. */
  readonly ssm: ReadonlyMap<string, SsmManagedInstance>;
  /** Entries of the prefix lists security group rules refer to (undefined: could not be read). */
  readonly prefixLists: PrefixListEntries;
  /** The account that owns the VPC when it is not the account discovered (a VPC shared through AWS RAM). */
  readonly sharedBy?: string;
  /** Private hosted zones and Resolver rules of the VPC. */
  readonly dns: VpcDnsView;
  /**
   * Alias records of private hosted zones naming the remediator's endpoints, by endpoint id (read
   * while some owned endpoint looks unneeded: `RegionSnapshot.endpointAliases`).
   */
  readonly endpointAliases: ReadonlyMap<string, readonly EndpointAlias[]>;
  /** Endpoints other VPCs reach through a zone, as a split sweep's plan units saw (`ReclaimClock.zoneUses`). */
  readonly zoneUses: ReadonlySet<string>;
  /** Subnets this account shares with other accounts (AWS RAM): `RegionSnapshot.sharedSubnets`. */
  readonly sharedSubnets: readonly SharedSubnet[];
  /** Inbound Resolver endpoints of this VPC: `RegionSnapshot.inboundResolvers`. */
  readonly inboundResolvers: readonly InboundResolverEndpoint[];
  /**
   * Resources of Route 53 Profiles: the remediator's endpoints, and zones that point at them
   * (`RegionSnapshot.profileResources`; not only this VPC's: a zone may point at any VPC's endpoint).
   */
  readonly profileResources: readonly ProfileResource[];
  /** Endpoints elsewhere that the VPC's private hosted zones point at, by id. */
  readonly centralEndpoints: ReadonlyMap<string, VpcEndpoint>;
  /** Subnets of any VPC discovery read (the VPC's own, and the central endpoints'). */
  readonly subnetsById: ReadonlyMap<string, Subnet>;
  /** Route tables of every VPC discovery read. */
  readonly allRouteTables: readonly RouteTable[];
  readonly peerings: readonly VpcPeering[];
  /** Reads of the Region that failed without failing it. */
  readonly skippedReads: readonly SkippedRead[];
  /** The account discovered (for ARNs of its resources). */
  readonly accountId?: string;
  /** The task definitions of the work, by ARN. */
  readonly definitions: ReadonlyMap<string, TaskDefinition>;
}

export type Check = (context: VpcContext) => DraftFinding[];

/**
 * Services whose public endpoints the ECS agent reaches over IPv6 from an IPv6-only subnet: the agent
 * uses the dual-stack ECS endpoints there (ECS agent 1.95.0, "IPv6-only support"). Everything else
 * needs an endpoint or NAT64 from such a subnet.
 */
const DUAL_STACK_PUBLIC: ReadonlySet<ManagedService> = new Set(ECS_AGENT_SERVICES);

/** The callers of a service in the VPC. */
export function callersFor(context: VpcContext, service: ManagedService): Caller[] {
  return callersOf(context.workload, service);
}

/** `high` when some caller of the service has no public path to it, else `medium`. */
export function serviceSeverity(context: VpcContext, service: ManagedService): Severity {
  const callers = callersFor(context, service);
  if (callers.length === 0) return context.severity;
  const cutOff = callers.some(
    (caller) =>
      !reachesPublicly(
        context.workload.egressBySubnet.get(caller.subnet.subnetId) ?? 'none',
        DUAL_STACK_PUBLIC.has(service),
      ),
  );
  return cutOff ? 'high' : 'medium';
}

/** The Availability Zones the service's callers run in, sorted. */
export function serviceAzs(context: VpcContext, service: ManagedService): string[] {
  return [...new Set(callersFor(context, service).map((caller) => caller.subnet.availabilityZone))].sort();
}

/** Where an interface endpoint for a service goes, and with which IP address type. */
export interface Placement {
  /** One subnet per AZ, in AZ order. */
  readonly subnetIds: readonly string[];
  /** `ipv4`, `dualstack` or `ipv6`. */
  readonly ipAddressType: 'ipv4' | 'dualstack' | 'ipv6';
  /** AZs of the callers the service is not offered in. */
  readonly unofferedAzs: readonly string[];
  /** Why no placement works (no subnet of the needed address families in any offered AZ). */
  readonly impossible?: string;
}

function families(subnet: Subnet): { v4: boolean; v6: boolean } {
  return { v4: !isIpv6Only(subnet) && subnet.cidrBlock !== '', v6: (subnet.ipv6CidrBlocks ?? []).length > 0 };
}

/**
 * The subnets (one per AZ the callers use and the service offers) and the IP address type of a new
 * interface endpoint. IPv6-only callers need IPv6 addresses on the endpoint: `ipv6` (every subnet
 * IPv6-only) when only they call, `dualstack` (every subnet with both families) when IPv4 callers do
 * too; the service must support the type (`SupportedIpAddressTypes`). Subnets come from the callers'
 * own, then from the VPC's others in that AZ; lowest id first, for determinism.
 */
export function endpointPlacement(context: VpcContext, service: ManagedService): Placement {
  const offer = context.offers.get(serviceNameOf(context.region, service));
  const offered = new Set(offer?.availabilityZones ?? []);
  // SupportedIpAddressTypes lists address families (`ipv4`, `ipv6`): dualstack needs both.
  const supported = new Set(offer?.supportedIpAddressTypes ?? ['ipv4']);
  const callers = callersFor(context, service);
  const azs = serviceAzs(context, service);
  const unofferedAzs = azs.filter((az) => !offered.has(az));
  const needV6 = callers.some((caller) => isIpv6Only(caller.subnet));
  const needV4 = callers.some((caller) => families(caller.subnet).v4);
  let ipAddressType: Placement['ipAddressType'] = 'ipv4';
  if (needV6 && !needV4 && supported.has('ipv6')) ipAddressType = 'ipv6';
  else if (needV6 && supported.has('ipv6') && supported.has('ipv4')) ipAddressType = 'dualstack';
  const fits = (subnet: Subnet): boolean => {
    const f = families(subnet);
    if (ipAddressType === 'ipv6') return isIpv6Only(subnet);
    if (ipAddressType === 'dualstack') return f.v4 && f.v6;
    return f.v4;
  };
  const callerSubnets = [
    ...new Map(callers.map((caller) => [caller.subnet.subnetId, caller.subnet])).values(),
  ];
  const vpcSubnets = [...context.subnetsById.values()].filter(
    (subnet) => subnet.vpcId === context.workload.vpc.vpcId,
  );
  const byId = (a: Subnet, b: Subnet): number => a.subnetId.localeCompare(b.subnetId);
  const subnetIds = azs
    .filter((az) => offered.has(az))
    .flatMap((az) => {
      const inAz = (subnet: Subnet): boolean => subnet.availabilityZone === az && fits(subnet);
      const chosen = callerSubnets.filter(inAz).sort(byId)[0] ?? vpcSubnets.filter(inAz).sort(byId)[0];
      return chosen ? [chosen.subnetId] : [];
    });
  return {
    subnetIds,
    ipAddressType,
    unofferedAzs,
    ...(subnetIds.length === 0 && azs.some((az) => offered.has(az))
      ? { impossible: `no subnet fits an ${ipAddressType} endpoint in ${azs.join(', ')}` }
      : {}),
  };
}

function groupAliases(aliases: readonly EndpointAlias[]): Map<string, EndpointAlias[]> {
  const byEndpoint = new Map<string, EndpointAlias[]>();
  for (const alias of aliases)
    byEndpoint.set(alias.vpcEndpointId, [...(byEndpoint.get(alias.vpcEndpointId) ?? []), alias]);
  return byEndpoint;
}

/** The context of one VPC's checks. */
export function vpcContext(snapshot: RegionSnapshot, workload: VpcWorkload): VpcContext {
  const vpcId = workload.vpc.vpcId;
  const skippedReads = snapshot.skippedReads ?? [];
  const prefixLists = new Map<string, readonly string[] | undefined>(
    (snapshot.prefixLists ?? []).map((list) => [list.prefixListId, list.cidrs]),
  );
  // A prefix list whose description or entries could not be read: its rules admit `unknown`.
  for (const read of skippedReads) {
    if (read.resourceId?.startsWith('pl-')) prefixLists.set(read.resourceId, undefined);
  }
  const owner = workload.vpc.ownerId;
  const isRoute53Read = (read: SkippedRead): boolean =>
    (read.operation.startsWith('route53:') || read.operation.startsWith('route53resolver:')) &&
    (read.resourceId === undefined || read.resourceId === vpcId);
  return {
    region: snapshot.region,
    workload,
    required: requiredServices(workload),
    severity: workload.isolated ? 'high' : 'medium',
    endpoints: snapshot.endpoints.filter(
      (endpoint) => endpoint.vpcId === vpcId && endpoint.state !== 'deleted' && endpoint.state !== 'deleting',
    ),
    groupsById: new Map(snapshot.securityGroups.map((group) => [group.groupId, group])),
    offers: new Map(snapshot.endpointServices.map((offer) => [offer.serviceName, offer])),
    routeTables: snapshot.routeTables.filter((table) => table.vpcId === vpcId),
    subnetAz: new Map(
      [...snapshot.subnets, ...(snapshot.centralSubnets ?? [])].map((subnet) => [
        subnet.subnetId,
        subnet.availabilityZone,
      ]),
    ),
    ssm: new Map((snapshot.ssmInstances ?? []).map((managed) => [managed.instanceId, managed])),
    prefixLists,
    ...(owner !== undefined && snapshot.accountId !== undefined && owner !== snapshot.accountId
      ? { sharedBy: owner }
      : {}),
    dns: {
      zones: (snapshot.hostedZones ?? []).filter((zone) => zone.vpcIds.includes(vpcId)),
      rules: (snapshot.resolverRules ?? []).filter((rule) => rule.vpcIds.includes(vpcId)),
      unreadable: skippedReads.filter(isRoute53Read),
    },
    endpointAliases: groupAliases(snapshot.endpointAliases ?? []),
    zoneUses: new Set(snapshot.reclaim?.zoneUses ?? []),
    sharedSubnets: (snapshot.sharedSubnets ?? []).filter((share) => share.vpcId === vpcId),
    inboundResolvers: (snapshot.inboundResolvers ?? []).filter((endpoint) => endpoint.vpcId === vpcId),
    profileResources: snapshot.profileResources ?? [],
    centralEndpoints: new Map(
      (snapshot.centralEndpoints ?? []).map((endpoint) => [endpoint.vpcEndpointId, endpoint]),
    ),
    subnetsById: new Map(
      [...snapshot.subnets, ...(snapshot.centralSubnets ?? [])].map((subnet) => [subnet.subnetId, subnet]),
    ),
    allRouteTables: snapshot.routeTables,
    peerings: snapshot.peerings ?? [],
    skippedReads,
    ...(snapshot.accountId === undefined ? {} : { accountId: snapshot.accountId }),
    definitions: new Map(
      snapshot.taskDefinitions.map((definition) => [definition.taskDefinitionArn, definition]),
    ),
  };
}

// ---- drafting findings ------------------------------------------------------------------------------

const WHAT_BREAKS: Readonly<Record<ManagedService, string>> = {
  'ecs-agent': 'the ECS agent cannot poll for work',
  'ecs-telemetry': 'the ECS agent cannot send telemetry',
  ecs: 'the ECS agent cannot register or report task state',
  ssm: 'Parameter Store secrets and SSM Run Command (agent restarts) fail',
  ssmmessages: 'SSM Run Command (agent restarts) and ECS Exec sessions cannot reach the instances',
  ec2messages: 'SSM Run Command (agent restarts) cannot reach the instances',
  'ecr.api': 'image pulls from private ECR fail',
  'ecr.dkr': 'image pulls from private ECR fail',
  logs: 'log delivery to CloudWatch Logs fails',
  secretsmanager: 'tasks with Secrets Manager secrets fail to start',
  'kinesis-firehose': 'FireLens cannot deliver logs to Kinesis Data Firehose',
  'kinesis-streams': 'FireLens cannot deliver logs to Kinesis Data Streams',
  kms: 'ECS Exec sessions encrypted with KMS cannot start',
  s3: 'S3 downloads and uploads fail (image layers from private ECR, FireLens and ECS Exec output)',
};

/** What breaks when a service cannot be reached, for findings about it. */
export function whatBreaks(service: ManagedService): string {
  return WHAT_BREAKS[service];
}

/** The consequence of a broken endpoint, worded for its callers' egress. */
export function consequence(context: VpcContext, service: ManagedService): string {
  return serviceSeverity(context, service) === 'high'
    ? `${WHAT_BREAKS[service]} from subnets with no public path to it`
    : `its traffic leaves the AWS network through the internet path`;
}

export function neededFor(context: VpcContext, service: ManagedService): string {
  const reasons = (context.required.get(service) ?? []).flatMap(
    (need) => context.workload.needs.get(need) ?? [],
  );
  const first = reasons[0];
  if (first === undefined) return '';
  return reasons.length > 1
    ? ` (needed by ${first} and ${reasons.length - 1} more)`
    : ` (needed by ${first})`;
}

/** A finding of this VPC; severity defaults to the service's (or the VPC's). */
export function draft(
  context: VpcContext,
  code: FindingCode,
  fields: Omit<DraftFinding, 'code' | 'vpcId' | 'severity'> & { severity?: Severity },
): DraftFinding {
  const service = fields.service;
  const severity =
    fields.severity ??
    (service !== undefined && isManagedService(service)
      ? serviceSeverity(context, service)
      : context.severity);
  return { code, vpcId: context.workload.vpc.vpcId, severity, ...fields };
}

/** A finding the check could not establish: `low`, manual, with the reason. */
export function unknownDraft(
  context: VpcContext,
  code: FindingCode,
  fields: Omit<DraftFinding, 'code' | 'vpcId' | 'severity' | 'remedy' | 'unknown'>,
  reason: string,
): DraftFinding {
  return draft(context, code, {
    ...fields,
    severity: 'low',
    unknown: reason,
    remedy: { kind: 'manual', hint: `cannot verify: ${reason}` },
  });
}

/** Who a list of callers is, for a one-line message: the first few workloads and their subnets. */
export function describeCallers(callers: readonly Caller[]): string {
  const shown = callers.slice(0, 3).map((caller) => {
    const cidr = caller.subnet.cidrBlock || (caller.subnet.ipv6CidrBlocks ?? [])[0] || '';
    return `${caller.workload} in ${caller.subnet.subnetId}${cidr ? ` (${cidr})` : ''}`;
  });
  return callers.length > 3 ? `${shown.join(', ')} and ${callers.length - 3} more` : shown.join(', ');
}
