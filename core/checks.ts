/**
 * The checks: each looks at one VPC's ECS work and endpoints and reports findings, each with the
 * remedy that would fix it. Checks only diagnose; the planner decides what is actually done.
 */
import { isManaged } from './actions.ts';
import type { FindingCode, Severity } from './findings.ts';
import type {
  EndpointServiceOffer,
  RegionSnapshot,
  RouteTable,
  SecurityGroup,
  SsmManagedInstance,
  VpcEndpoint,
} from './model.ts';
import { admitsHttpsFrom, routeTableOf } from './network.ts';
import type { InterfaceService, ManagedService } from './services.ts';
import {
  GATEWAY_SERVICE,
  isManagedService,
  parseServiceName,
  serviceNameOf,
  serviceOrder,
} from './services.ts';
import { MINIMUM_AGENT_VERSION, isAgentOutdated } from './version.ts';
import type { Need, PlacedContainerInstance, VpcWorkload } from './workloads.ts';
import { requiredServices } from './workloads.ts';

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
    }
  | { readonly kind: 'delete'; readonly endpoint: VpcEndpoint }
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
}

/** Everything a check may look at for one VPC. */
export interface VpcContext {
  readonly region: string;
  readonly workload: VpcWorkload;
  readonly required: ReadonlyMap<ManagedService, readonly Need[]>;
  /** `high` when the workload has no internet egress (it breaks), else `medium`. */
  readonly severity: Severity;
  /** The VPC's endpoints in any state but deleted/deleting. */
  readonly endpoints: readonly VpcEndpoint[];
  readonly groupsById: ReadonlyMap<string, SecurityGroup>;
  readonly offers: ReadonlyMap<string, EndpointServiceOffer>;
  readonly routeTables: readonly RouteTable[];
  readonly subnetAz: ReadonlyMap<string, string>;
  /** SSM's facts of the container instances discovery looked up, by EC2 instance id. */
  readonly ssm: ReadonlyMap<string, SsmManagedInstance>;
}

export type Check = (context: VpcContext) => DraftFinding[];

const WHAT_BREAKS: Readonly<Record<ManagedService, string>> = {
  'ecs-agent': 'the ECS agent cannot poll for work',
  'ecs-telemetry': 'the ECS agent cannot send telemetry',
  ecs: 'the ECS agent cannot register or report task state',
  ssm: 'Parameter Store secrets and SSM Run Command (agent restarts) fail',
  ssmmessages: 'SSM Run Command (agent restarts) cannot reach the instances',
  ec2messages: 'SSM Run Command (agent restarts) cannot reach the instances',
  'ecr.api': 'image pulls from private ECR fail',
  'ecr.dkr': 'image pulls from private ECR fail',
  logs: 'awslogs delivery to CloudWatch Logs fails',
  secretsmanager: 'tasks with Secrets Manager secrets fail to start',
  s3: 'image layers from private ECR cannot be downloaded',
};

/** The consequence of a broken endpoint, worded for the VPC's egress. */
function consequence(context: VpcContext, service: ManagedService): string {
  return context.severity === 'high'
    ? `${WHAT_BREAKS[service]} from subnets without internet egress`
    : `its traffic leaves the AWS network through the internet path`;
}

function neededFor(context: VpcContext, service: ManagedService): string {
  const reasons = (context.required.get(service) ?? []).flatMap(
    (need) => context.workload.needs.get(need) ?? [],
  );
  const first = reasons[0];
  if (first === undefined) return '';
  return reasons.length > 1
    ? ` (needed by ${first} and ${reasons.length - 1} more)`
    : ` (needed by ${first})`;
}

function draft(
  context: VpcContext,
  code: FindingCode,
  fields: Omit<DraftFinding, 'code' | 'vpcId' | 'severity'> & { severity?: Severity },
): DraftFinding {
  return {
    code,
    vpcId: context.workload.vpc.vpcId,
    severity: fields.severity ?? context.severity,
    ...fields,
  };
}

/** The endpoint that counts for a service: available with private DNS first, then available, then any. */
function primaryEndpoint(candidates: readonly VpcEndpoint[]): VpcEndpoint | undefined {
  const rank = (endpoint: VpcEndpoint): number =>
    endpoint.state === 'available' ? (endpoint.privateDnsEnabled ? 0 : 1) : 2;
  return [...candidates].sort(
    (a, b) => rank(a) - rank(b) || a.vpcEndpointId.localeCompare(b.vpcEndpointId),
  )[0];
}

const vpcDnsCheck: Check = (context) => {
  const dns = context.workload.vpc.dns;
  // DNS matters only to interface endpoints (private DNS); a gateway-only VPC needs none of it.
  const needsInterface = [...context.required.keys()].some((service) => service !== GATEWAY_SERVICE);
  if (!dns || !needsInterface) return [];
  const findings: DraftFinding[] = [];
  const off = [
    ...(dns.support ? [] : (['enableDnsSupport'] as const)),
    ...(dns.hostnames ? [] : (['enableDnsHostnames'] as const)),
  ];
  if (off.length > 0) {
    findings.push(
      draft(context, 'VPC_DNS_DISABLED', {
        subject: 'dns',
        resourceId: context.workload.vpc.vpcId,
        message: `${off.join(' and ')} off: interface endpoints' private DNS cannot work, so AWS API calls resolve to public endpoints`,
        remedy: { kind: 'enable-vpc-dns', attributes: off },
      }),
    );
  }
  const custom = dns.dhcpDnsServers.filter((server) => server !== 'AmazonProvidedDNS');
  if (custom.length > 0) {
    findings.push(
      draft(context, 'VPC_CUSTOM_DNS', {
        severity: 'low',
        subject: 'dhcp',
        resourceId: context.workload.vpc.vpcId,
        message: `DHCP options use custom DNS servers (${custom.join(', ')}): endpoint private DNS names resolve only with conditional forwarding to the Amazon resolver`,
        remedy: {
          kind: 'manual',
          hint: 'forward amazonaws.com queries to the VPC resolver (Route 53 Resolver rules)',
        },
      }),
    );
  }
  return findings;
};

function interfaceEndpointFindings(context: VpcContext, service: InterfaceService): DraftFinding[] {
  const serviceName = serviceNameOf(context.region, service);
  const offer = context.offers.get(serviceName);
  if (!offer?.types.includes('Interface')) {
    return [
      draft(context, 'ENDPOINT_SERVICE_NOT_OFFERED', {
        severity: 'low',
        service,
        subject: service,
        message: `${serviceName} is not offered as an interface endpoint in ${context.region}: ${WHAT_BREAKS[service]} without egress`,
        remedy: { kind: 'manual', hint: 'provide internet egress (NAT) for this service' },
      }),
    ];
  }
  const endpoint = primaryEndpoint(
    context.endpoints.filter(
      (candidate) => candidate.serviceName === serviceName && candidate.type === 'Interface',
    ),
  );
  const offered = new Set(offer.availabilityZones);
  if (!endpoint) {
    const unofferedAzs = context.workload.availabilityZones.filter((az) => !offered.has(az));
    return [
      draft(context, 'ENDPOINT_MISSING', {
        service,
        subject: service,
        message: `no ${serviceName} endpoint: ${consequence(context, service)}${neededFor(context, service)}`,
        remedy: { kind: 'create-interface', service },
      }),
      ...(unofferedAzs.length > 0 ? [azNotOffered(context, service, unofferedAzs)] : []),
    ];
  }
  const resourceId = endpoint.vpcEndpointId;
  if (endpoint.state !== 'available') return [notAvailable(context, service, endpoint)];
  const findings: DraftFinding[] = [];
  if (!endpoint.privateDnsEnabled) {
    findings.push(
      draft(context, 'ENDPOINT_PRIVATE_DNS_DISABLED', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) has private DNS off: SDK calls still resolve to the public endpoint, so ${consequence(context, service)}`,
        remedy: { kind: 'modify', endpoint, service, enablePrivateDns: true },
      }),
    );
  }
  const endpointAzs = new Set(endpoint.subnetIds.map((id) => context.subnetAz.get(id)));
  const gapAzs = context.workload.availabilityZones.filter((az) => !endpointAzs.has(az));
  const fixableAzs = gapAzs.filter((az) => offered.has(az));
  if (fixableAzs.length > 0) {
    const addSubnetIds = fixableAzs.map((az) => subnetInAz(context, az));
    findings.push(
      draft(context, 'ENDPOINT_AZ_GAP', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) has no subnet in ${fixableAzs.join(', ')} where ECS runs: calls from there cross AZs and fail when the endpoint's AZs are impaired`,
        remedy: { kind: 'modify', endpoint, service, addSubnetIds },
      }),
    );
  }
  const unofferedAzs = gapAzs.filter((az) => !offered.has(az));
  if (unofferedAzs.length > 0) findings.push(azNotOffered(context, service, unofferedAzs));
  const groups = endpoint.securityGroupIds.flatMap((id) => context.groupsById.get(id) ?? []);
  const uncovered = context.workload.sources.filter((source) => !admitsHttpsFrom(groups, source));
  if (uncovered.length > 0) {
    findings.push(
      draft(context, 'ENDPOINT_SG_NO_HTTPS', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) security groups do not allow TCP 443 from ${uncovered.map((source) => `${source.subnet.subnetId} (${source.subnet.cidrBlock})`).join(', ')}: connections from there time out`,
        remedy: { kind: 'modify', endpoint, service, attachManagedGroup: true },
      }),
    );
  }
  return findings;
}

function azNotOffered(context: VpcContext, service: ManagedService, azs: readonly string[]): DraftFinding {
  return draft(context, 'ENDPOINT_AZ_NOT_OFFERED', {
    severity: 'low',
    service,
    subject: service,
    message: `${serviceNameOf(context.region, service)} is not offered in ${azs.join(', ')} where ECS runs: calls from there cross AZs`,
    remedy: { kind: 'manual', hint: 'run the workload in AZs the endpoint service offers' },
  });
}

function notAvailable(context: VpcContext, service: ManagedService, endpoint: VpcEndpoint): DraftFinding {
  const pending = endpoint.state === 'pending' || endpoint.state === 'pendingacceptance';
  return draft(context, 'ENDPOINT_NOT_AVAILABLE', {
    severity: pending ? 'low' : context.severity,
    service,
    resourceId: endpoint.vpcEndpointId,
    subject: service,
    message: `${endpoint.vpcEndpointId} (${service}) is ${endpoint.state}: ${pending ? 'it serves no traffic until available' : consequence(context, service)}`,
    remedy: {
      kind: 'manual',
      hint: pending
        ? 'wait: new endpoints are pending for a few minutes'
        : 'delete the endpoint; the next run recreates it',
    },
  });
}

/** The workload subnet chosen to host an endpoint in an AZ: the lowest id, for determinism. */
function subnetInAz(context: VpcContext, az: string): string {
  const subnet = context.workload.subnets.find((candidate) => candidate.availabilityZone === az);
  if (!subnet) throw new Error(`no workload subnet in ${az}`); // unreachable: AZs come from the subnets
  return subnet.subnetId;
}

function gatewayEndpointFindings(context: VpcContext): DraftFinding[] {
  const service = GATEWAY_SERVICE;
  const serviceName = serviceNameOf(context.region, service);
  if (!context.offers.get(serviceName)?.types.includes('Gateway')) {
    return [
      draft(context, 'ENDPOINT_SERVICE_NOT_OFFERED', {
        severity: 'low',
        service,
        subject: service,
        message: `${serviceName} is not offered as a gateway endpoint in ${context.region}`,
        remedy: { kind: 'manual', hint: 'provide internet egress (NAT) for S3' },
      }),
    ];
  }
  const gateways = context.endpoints.filter((e) => e.serviceName === serviceName && e.type === 'Gateway');
  const needed = [
    ...new Set(
      context.workload.subnets.flatMap(
        (subnet) => routeTableOf(subnet, context.routeTables)?.routeTableId ?? [],
      ),
    ),
  ].sort();
  const endpoint = primaryEndpoint(gateways);
  if (!endpoint) {
    return [
      draft(context, 'ENDPOINT_MISSING', {
        service,
        subject: service,
        message: `no ${serviceName} gateway endpoint: ${consequence(context, service)}${neededFor(context, service)}`,
        remedy: { kind: 'create-gateway', service, routeTableIds: needed },
      }),
    ];
  }
  if (endpoint.state !== 'available') return [notAvailable(context, service, endpoint)];
  const covered = new Set(gateways.flatMap((gateway) => gateway.routeTableIds));
  const missing = needed.filter((id) => !covered.has(id));
  if (missing.length === 0) return [];
  return [
    draft(context, 'S3_GATEWAY_ROUTE_MISSING', {
      service,
      resourceId: endpoint.vpcEndpointId,
      subject: service,
      message: `${endpoint.vpcEndpointId} (s3) is not on route tables ${missing.join(', ')} of workload subnets: ${consequence(context, service)}`,
      remedy: { kind: 'modify', endpoint, service, addRouteTableIds: missing },
    }),
  ];
}

const requiredEndpointsCheck: Check = (context) =>
  [...context.required.keys()]
    .sort((a, b) => serviceOrder(a) - serviceOrder(b))
    .flatMap((service) =>
      service === GATEWAY_SERVICE
        ? gatewayEndpointFindings(context)
        : interfaceEndpointFindings(context, service),
    );

const wrongRegionCheck: Check = (context) =>
  context.endpoints.flatMap((endpoint) => {
    const parsed = parseServiceName(endpoint.serviceName);
    if (!parsed || parsed.region === context.region || !isManagedService(parsed.service)) return [];
    // Harmful while this Region's endpoint is missing; once it exists the stray one is only waste.
    const localName = serviceNameOf(context.region, parsed.service);
    const replaced = context.endpoints.some(
      (other) => other.serviceName === localName && other.state === 'available',
    );
    const harmful = context.required.has(parsed.service) && !replaced;
    return [
      draft(context, 'ENDPOINT_WRONG_REGION', {
        severity: harmful ? context.severity : 'low',
        service: parsed.service,
        resourceId: endpoint.vpcEndpointId,
        subject: endpoint.vpcEndpointId,
        message: `${endpoint.vpcEndpointId} serves ${endpoint.serviceName}, not ${context.region}: it carries none of this Region's ${parsed.service} calls${isManaged(endpoint.tags) ? '' : ' (not created by the remediator)'}`,
        remedy: { kind: 'delete', endpoint },
      }),
    ];
  });

const agentVersionCheck: Check = (context) =>
  context.workload.containerInstances
    .filter((instance) => isAgentOutdated(instance.agentVersion))
    .map((instance) =>
      draft(context, 'AGENT_OUTDATED', {
        resourceId: instance.ec2InstanceId,
        subject: instance.ec2InstanceId,
        message: `container instance ${instance.ec2InstanceId} runs ECS agent ${instance.agentVersion ?? '?'}, older than ${MINIMUM_AGENT_VERSION}: it cannot use the ECS interface endpoints`,
        remedy: {
          kind: 'update-agent',
          instance,
          hint: 'update the agent (UpdateContainerAgent) or replace the instance with a current ECS-optimized AMI',
        },
      }),
    );

/** Every check, run in this order for each VPC in scope. */
export const CHECKS: readonly Check[] = [
  vpcDnsCheck,
  requiredEndpointsCheck,
  wrongRegionCheck,
  agentVersionCheck,
];

/** The context of one VPC's checks. */
export function vpcContext(snapshot: RegionSnapshot, workload: VpcWorkload): VpcContext {
  const vpcId = workload.vpc.vpcId;
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
    subnetAz: new Map(snapshot.subnets.map((subnet) => [subnet.subnetId, subnet.availabilityZone])),
    ssm: new Map((snapshot.ssmInstances ?? []).map((managed) => [managed.instanceId, managed])),
  };
}

/** Runs every check on one VPC. */
export function runChecks(context: VpcContext): DraftFinding[] {
  return CHECKS.flatMap((check) => check(context));
}
