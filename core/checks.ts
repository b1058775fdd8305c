/**
 * The checks: each looks at one VPC's ECS work and endpoints and reports findings, each with the
 * remedy that would fix it. Checks only diagnose; the planner decides what is actually done.
 * The context they read is built in core/context.ts; endpoints served from elsewhere (private hosted
 * zones, Resolver rules) are checked in core/central.ts.
 */
import { isManaged } from './actions.ts';
import { centralFindings } from './central.ts';
import type { Check, DraftFinding, VpcContext } from './context.ts';
import {
  callersFor,
  consequence,
  describeCallers,
  draft,
  endpointPlacement,
  neededFor,
  serviceAzs,
  serviceSeverity,
  unknownDraft,
  whatBreaks,
} from './context.ts';
import { resolveService, serviceDnsNames } from './dns.ts';
import type { ProfileResource, SecurityGroup, SharedSubnet, VpcEndpoint } from './model.ts';
import { unneededOwnedService } from './reclaim.ts';
import { NEEDS, isUnknownNeed } from './needs.ts';
import { policyFindings } from './policies.ts';
import type { Admission } from './network.ts';
import { admitsHttpsFrom, allowsHttpsOut, familiesTowards, routeTableOf } from './network.ts';
import type { InterfaceService, ManagedService } from './services.ts';
import {
  GATEWAY_SERVICE,
  isManagedService,
  parseServiceName,
  serviceNameOf,
  serviceOrder,
} from './services.ts';
import { MINIMUM_AGENT_VERSION, isAgentOutdated } from './version.ts';
import type { Caller } from './workloads.ts';

export type { Check, DraftFinding, Remedy, VpcContext } from './context.ts';
export { vpcContext } from './context.ts';

/** The endpoint that counts for a service: available with private DNS first, then available, then any. */
export function primaryEndpoint(candidates: readonly VpcEndpoint[]): VpcEndpoint | undefined {
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
        remedy:
          context.sharedBy === undefined
            ? { kind: 'enable-vpc-dns', attributes: off }
            : {
                kind: 'manual',
                hint: `only the VPC's owner (account ${context.sharedBy}) can change its DNS attributes`,
              },
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

/**
 * A VPC shared with this account (AWS RAM): the participant can neither see the owner's endpoints nor
 * create any, so a missing endpoint and an existing one look the same. Each need is reported once,
 * with the owner and the services, and nothing is planned.
 */
const sharedVpcCheck: Check = (context) => {
  const owner = context.sharedBy;
  if (owner === undefined) return [];
  return [...context.workload.needs]
    .filter(([need]) => NEEDS[need].services.length > 0)
    .map(([need, reasons]) =>
      unknownDraft(
        context,
        'SHARED_VPC_UNVERIFIABLE',
        {
          subject: need,
          resourceId: context.workload.vpc.vpcId,
          message: `${context.workload.vpc.vpcId} is shared by account ${owner}: this account cannot see or create its endpoints; ${need} needs ${NEEDS[need].services.join(', ')} (${reasons[0] ?? ''}${reasons.length > 1 ? ` and ${reasons.length - 1} more` : ''})`,
        },
        `the endpoints of a shared VPC are visible only to its owner, account ${owner}: check them there`,
      ),
    );
};

/** Needs whose endpoints the remediator cannot know (a FireLens config file it cannot read). */
const unknownNeedsCheck: Check = (context) =>
  [...context.workload.needs]
    .filter(([need]) => isUnknownNeed(need))
    .map(([need, reasons]) =>
      unknownDraft(
        context,
        'NEED_UNKNOWN',
        {
          subject: need,
          message: `${reasons[0] ?? need}${reasons.length > 1 ? ` (and ${reasons.length - 1} more)` : ''}: the endpoints its outputs need cannot be known`,
        },
        'the outputs of a FireLens config file are not visible to the remediator: each AWS output needs its endpoint (logs, kinesis-firehose, kinesis-streams, s3)',
      ),
    );

function interfaceEndpointFindings(context: VpcContext, service: InterfaceService): DraftFinding[] {
  const serviceName = serviceNameOf(context.region, service);
  const offer = context.offers.get(serviceName);
  if (!offer?.types.includes('Interface')) {
    return [
      draft(context, 'ENDPOINT_SERVICE_NOT_OFFERED', {
        severity: 'low',
        service,
        subject: service,
        message: `${serviceName} is not offered as an interface endpoint in ${context.region}: ${whatBreaks(service)} without egress`,
        remedy: { kind: 'manual', hint: 'provide internet egress (NAT) for this service' },
      }),
    ];
  }
  const endpoint = primaryEndpoint(
    context.endpoints.filter(
      (candidate) => candidate.serviceName === serviceName && candidate.type === 'Interface',
    ),
  );
  // A local endpoint with private DNS answers its names itself: no private hosted zone can overlap it.
  if (!endpoint?.privateDnsEnabled) {
    const resolution = resolveService(
      context.dns,
      serviceDnsNames(context.region, service, offer.privateDnsNames),
    );
    if (resolution.kind !== 'local') return centralFindings(context, service, resolution, endpoint);
  }
  const offered = new Set(offer.availabilityZones);
  if (!endpoint) {
    const placement = endpointPlacement(context, service);
    return [
      draft(context, 'ENDPOINT_MISSING', {
        service,
        subject: service,
        message: `no ${serviceName} endpoint: ${consequence(context, service)}${neededFor(context, service)}`,
        remedy: { kind: 'create-interface', service },
      }),
      ...(placement.unofferedAzs.length > 0 ? [azNotOffered(context, service, placement.unofferedAzs)] : []),
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
  const gapAzs = serviceAzs(context, service).filter((az) => !endpointAzs.has(az));
  const fixableAzs = gapAzs.filter((az) => offered.has(az));
  if (fixableAzs.length > 0) {
    const placement = endpointPlacement(context, service);
    const addSubnetIds = placement.subnetIds.filter((id) =>
      fixableAzs.includes(context.subnetAz.get(id) ?? ''),
    );
    findings.push(
      draft(context, 'ENDPOINT_AZ_GAP', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) has no subnet in ${fixableAzs.join(', ')} where ECS runs: calls from there cross AZs and fail when the endpoint's AZs are impaired`,
        remedy:
          addSubnetIds.length > 0
            ? { kind: 'modify', endpoint, service, addSubnetIds }
            : {
                kind: 'manual',
                hint: `no subnet in ${fixableAzs.join(', ')} fits the endpoint's IP address type`,
              },
      }),
    );
  }
  const unofferedAzs = gapAzs.filter((az) => !offered.has(az));
  if (unofferedAzs.length > 0) findings.push(azNotOffered(context, service, unofferedAzs));
  findings.push(...admissionFindings(context, service, endpoint));
  findings.push(...egressFindings(context, service, endpoint));
  findings.push(...policyFindings(context, service, endpoint));
  return findings;
}

/**
 * Whether each caller of the service can open TCP 443 to the endpoint: its IP type, then its groups
 * (those of `context.groupsById`). `groupsUnreadable`: why some of the endpoint's groups could not be
 * read (another account's, read with its role in a shared VPC); a refusal is then `unknown`, since an
 * unread group may admit.
 */
export function admissionFindings(
  context: VpcContext,
  service: ManagedService,
  endpoint: VpcEndpoint,
  groupsUnreadable?: string,
): DraftFinding[] {
  const resourceId = endpoint.vpcEndpointId;
  const callers = callersFor(context, service);
  const noFamily = callers.filter(
    (caller) => familiesTowards(caller.subnet, endpoint.ipAddressType).length === 0,
  );
  const findings: DraftFinding[] = [];
  if (noFamily.length > 0) {
    findings.push(
      draft(context, 'ENDPOINT_IP_TYPE_MISMATCH', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) is ${endpoint.ipAddressType ?? 'ipv4'}: ${describeCallers(noFamily)} share no address family with it, so ${whatBreaks(service)} there`,
        remedy: {
          kind: 'manual',
          hint: 'change the endpoint to dualstack (ModifyVpcEndpoint IpAddressType; its subnets need both IPv4 and IPv6) or add NAT64 egress',
        },
      }),
    );
  }
  const groups = endpoint.securityGroupIds.flatMap((id) => context.groupsById.get(id) ?? []);
  const verdicts = callers
    .filter((caller) => !noFamily.includes(caller))
    .map((caller): [Caller, Admission] => {
      const verdict = admission(context, groups, caller, endpoint);
      return [caller, verdict === 'no' && groupsUnreadable !== undefined ? 'unknown' : verdict];
    });
  const refused = verdicts.filter(([, verdict]) => verdict === 'no').map(([caller]) => caller);
  const unknown = verdicts.filter(([, verdict]) => verdict === 'unknown').map(([caller]) => caller);
  if (refused.length > 0) {
    findings.push(
      draft(context, 'ENDPOINT_SG_NO_HTTPS', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) security groups do not allow TCP 443 from ${describeCallers(refused)}: connections from there time out`,
        remedy: { kind: 'modify', endpoint, service, attachManagedGroup: true },
      }),
    );
  } else if (unknown.length > 0) {
    findings.push(
      unknownDraft(
        context,
        'ENDPOINT_SG_NO_HTTPS',
        {
          service,
          resourceId,
          subject: service,
          message: `${resourceId} (${service}): whether its security groups allow TCP 443 from ${describeCallers(unknown)} cannot be verified`,
        },
        groupsUnreadable ?? unknownAdmissionReason(context, groups),
      ),
    );
  }
  return findings;
}

function admission(
  context: VpcContext,
  groups: readonly SecurityGroup[],
  caller: Caller,
  endpoint: VpcEndpoint,
): Admission {
  const verdict = admitsHttpsFrom(groups, caller, {
    ...(endpoint.ipAddressType === undefined ? {} : { endpointIpType: endpoint.ipAddressType }),
    prefixLists: context.prefixLists,
  });
  // A caller whose groups could not be read may be admitted by a group-referencing rule.
  if (verdict === 'no' && !caller.groupsKnown) {
    const referencesGroups = groups.some((group) =>
      group.ingress.some((rule) => rule.sourceGroupIds.length > 0),
    );
    if (referencesGroups) return 'unknown';
  }
  return verdict;
}

function unknownAdmissionReason(context: VpcContext, groups: readonly SecurityGroup[]): string {
  const unreadable = groups
    .flatMap((group) => group.ingress.flatMap((rule) => rule.prefixListIds ?? []))
    .filter((id) => context.prefixLists.has(id) && context.prefixLists.get(id) === undefined);
  if (unreadable.length > 0) {
    const read = context.skippedReads.find((skipped) => skipped.resourceId === unreadable[0]);
    return `prefix list ${unreadable[0] ?? ''} could not be read (${read?.reason ?? 'unknown error'})`;
  }
  return 'the security groups of a task interface could not be read (DescribeNetworkInterfaces)';
}

/**
 * Whether each caller's own groups let it out to the endpoint on TCP 443 (WORKLOAD_SG_NO_HTTPS_EGRESS).
 * Only callers whose groups were all read are judged; the workload's groups are never changed.
 */
export function egressFindings(
  context: VpcContext,
  service: ManagedService,
  endpoint: VpcEndpoint,
): DraftFinding[] {
  const endpointSubnets = endpoint.subnetIds.flatMap((id) => context.subnetsById.get(id) ?? []);
  const endpointGroups = new Set(endpoint.securityGroupIds);
  const blocked: Caller[] = [];
  const unsure: Caller[] = [];
  for (const caller of callersFor(context, service)) {
    const groups = [...caller.securityGroupIds].map((id) => context.groupsById.get(id));
    if (!caller.groupsKnown || groups.length === 0 || groups.some((group) => group?.egress === undefined))
      continue;
    const families = familiesTowards(caller.subnet, endpoint.ipAddressType);
    const cidrs = endpointSubnets.flatMap((subnet) => [
      ...(families.includes(4) && subnet.cidrBlock ? [subnet.cidrBlock] : []),
      ...(families.includes(6) ? (subnet.ipv6CidrBlocks ?? []) : []),
    ]);
    const verdict = allowsHttpsOut(
      groups.filter((group): group is SecurityGroup => group !== undefined),
      { cidrs, groupIds: endpointGroups },
      context.prefixLists,
    );
    if (verdict === 'no') blocked.push(caller);
    if (verdict === 'unknown') unsure.push(caller);
  }
  const resourceId = endpoint.vpcEndpointId;
  if (blocked.length > 0) {
    return [
      draft(context, 'WORKLOAD_SG_NO_HTTPS_EGRESS', {
        service,
        resourceId,
        subject: service,
        message: `the security groups of ${describeCallers(blocked)} allow no TCP 443 out to ${resourceId} (${service}): their calls never leave`,
        remedy: {
          kind: 'manual',
          hint: `allow outbound TCP 443 from the workload's groups to the endpoint's group (${endpoint.securityGroupIds.join(', ') || 'none'}) or its subnets`,
        },
      }),
    ];
  }
  if (unsure.length > 0) {
    return [
      unknownDraft(
        context,
        'WORKLOAD_SG_NO_HTTPS_EGRESS',
        {
          service,
          resourceId,
          subject: service,
          message: `whether the security groups of ${describeCallers(unsure)} allow TCP 443 out to ${resourceId} (${service}) cannot be verified`,
        },
        'an outbound rule names a prefix list whose entries could not be read',
      ),
    ];
  }
  return [];
}

export function azNotOffered(
  context: VpcContext,
  service: ManagedService,
  azs: readonly string[],
): DraftFinding {
  return draft(context, 'ENDPOINT_AZ_NOT_OFFERED', {
    severity: 'low',
    service,
    subject: service,
    message: `${serviceNameOf(context.region, service)} is not offered in ${azs.join(', ')} where ECS runs: calls from there cross AZs`,
    remedy: { kind: 'manual', hint: 'run the workload in AZs the endpoint service offers' },
  });
}

export function notAvailable(
  context: VpcContext,
  service: ManagedService,
  endpoint: VpcEndpoint,
): DraftFinding {
  const pending = endpoint.state === 'pending' || endpoint.state === 'pendingacceptance';
  return draft(context, 'ENDPOINT_NOT_AVAILABLE', {
    ...(pending ? { severity: 'low' as const } : {}),
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

function gatewayEndpointFindings(context: VpcContext): DraftFinding[] {
  const service = GATEWAY_SERVICE;
  const serviceName = serviceNameOf(context.region, service);
  const offer = context.offers.get(serviceName);
  // S3 reached through a private hosted zone (an S3 interface endpoint in a central VPC) needs no
  // gateway, and a zone without S3's records breaks it. Otherwise the gateway decides by route tables,
  // whatever DNS answers (a forwarding rule's resolvers, an unreadable zone): it stays needed.
  const resolution = resolveService(
    context.dns,
    serviceDnsNames(context.region, service, offer?.privateDnsNames),
  );
  if (resolution.kind === 'central' || resolution.kind === 'record-missing')
    return centralFindings(context, service, resolution, undefined);
  if (!offer?.types.includes('Gateway')) {
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
  const { gateways, needed } = gatewayRoutes(context, service);
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
  const policy = policyFindings(context, service, endpoint);
  if (missing.length === 0) return policy;
  return [
    ...policy,
    draft(context, 'S3_GATEWAY_ROUTE_MISSING', {
      service,
      resourceId: endpoint.vpcEndpointId,
      subject: service,
      message: `${endpoint.vpcEndpointId} (s3) is not on route tables ${missing.join(', ')} of workload subnets: ${consequence(context, service)}`,
      remedy: { kind: 'modify', endpoint, service, addRouteTableIds: missing },
    }),
  ];
}

/** The VPC's gateway endpoints of `service`, and the route tables of its callers' subnets (sorted). */
export function gatewayRoutes(
  context: VpcContext,
  service: ManagedService,
): { gateways: VpcEndpoint[]; needed: string[] } {
  const serviceName = serviceNameOf(context.region, service);
  return {
    gateways: context.endpoints.filter((e) => e.serviceName === serviceName && e.type === 'Gateway'),
    needed: [
      ...new Set(
        callersFor(context, service).flatMap(
          (caller) => routeTableOf(caller.subnet, context.routeTables)?.routeTableId ?? [],
        ),
      ),
    ].sort(),
  };
}

const requiredEndpointsCheck: Check = (context) =>
  context.sharedBy !== undefined
    ? []
    : [...context.required.keys()]
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
        severity: harmful ? serviceSeverity(context, parsed.service) : 'low',
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
        severity: serviceSeverity(context, 'ecs-agent'),
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

/**
 * The services whose need comes only from EC2 container instances in the VPC (the ECS agent's
 * three): when the capacity scales to zero the need leaves no trace here (its services and clusters
 * stay, placed nowhere), and instances launched later cannot register without these endpoints. Their
 * endpoints are never judged unused: `unknown`, never a candidate.
 */
const EC2_CAPACITY_SERVICES: ReadonlySet<string> = new Set(['ecs', 'ecs-agent', 'ecs-telemetry']);

/**
 * Endpoints the remediator made (the managed tag; the planner also asks for its records where it keeps
 * them) for a service none of the VPC's ECS work needs any more: the same needs the other checks
 * answer. Only `available` interface endpoints of this Region's managed services (a gateway endpoint
 * costs nothing, and deleting it takes routes from every subnet of its route tables); never in a
 * shared VPC (its endpoints are out of sight). In a VPC with a need whose endpoints cannot be known
 * (NEED_UNKNOWN), the endpoint may serve it: `unknown`, never a candidate; so are the ECS agent's
 * three ({@link EC2_CAPACITY_SERVICES}). An endpoint a private hosted zone associated with another
 * VPC points at (hub-and-spoke: `endpointAliases`, or a split sweep's `zoneUses`) serves that VPC: not unused, whatever its own
 * VPC runs; `unknown` where those zones could not be read. In a VPC hosting a Route 53 Resolver
 * inbound endpoint (the Resolver form of hub-and-spoke: spokes forward to it, no zone names the
 * endpoint), `unknown`; so where those could not be read. An endpoint that is a resource of a Route
 * 53 Profile, or that a private hosted zone which is one points at, `unknown`: the Profile carries it
 * to the VPCs it is associated with, possibly other accounts'; so where the Profiles could not be read.
 */
const unusedEndpointsCheck: Check = (context) => {
  if (context.sharedBy !== undefined) return [];
  const unknownNeeds = [...context.workload.needs.keys()].filter(isUnknownNeed);
  return context.endpoints.flatMap((endpoint) => {
    const service = unneededOwnedService(endpoint, context.region, context.required);
    if (service === undefined) return [];
    // Hub-and-spoke: a private hosted zone associated with other VPCs points their calls here (as read
    // now, or as a split sweep's plan units saw from those VPCs).
    const servedElsewhere = (context.endpointAliases.get(endpoint.vpcEndpointId) ?? []).filter((alias) =>
      alias.vpcIds.some((vpcId) => vpcId !== endpoint.vpcId),
    );
    if (servedElsewhere.length > 0 || context.zoneUses.has(endpoint.vpcEndpointId)) return [];
    const aliasesUnread = context.skippedReads.find(
      (read) => read.resourceId === endpoint.vpcEndpointId && read.operation.startsWith('route53:'),
    );
    // The owner of a VPC whose subnets it shares through AWS RAM cannot see its participants' work.
    const sharing = context.sharedSubnets.filter((share) => share.vpcId === endpoint.vpcId);
    const sharesUnread = context.skippedReads.find((read) => read.operation.startsWith('ram:'));
    // Hub-and-spoke through Route 53 Resolver: an inbound endpoint answers other networks' queries
    // with this VPC's resolution, the endpoint's private DNS names included; no zone names it.
    const inbound = context.inboundResolvers.map((resolver) => resolver.resolverEndpointId);
    const inboundUnread = context.skippedReads.find(
      (read) => read.operation === 'route53resolver:ListResolverEndpoints',
    );
    // Route 53 Profiles: the endpoint itself, or a zone with an alias to it, as a Profile's resource
    // reaches every VPC the Profile is associated with (other accounts' too); GetHostedZone does not
    // list those VPCs.
    const aliasZones = new Set(
      (context.endpointAliases.get(endpoint.vpcEndpointId) ?? []).map((alias) => alias.hostedZoneId),
    );
    const profiles = context.profileResources.filter((resource) =>
      resource.kind === 'vpc-endpoint'
        ? resource.resourceId === endpoint.vpcEndpointId
        : aliasZones.has(resource.resourceId),
    );
    const profilesUnread = context.skippedReads.find((read) => read.operation.startsWith('route53profiles:'));
    const fields = {
      service,
      resourceId: endpoint.vpcEndpointId,
      subject: endpoint.vpcEndpointId,
      message: `${endpoint.vpcEndpointId} (${service}) was made by the remediator, and no ECS work in ${context.workload.vpc.vpcId} needs ${endpoint.serviceName} any more: it costs money for nothing`,
    };
    if (unknownNeeds.length > 0)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `${unknownNeeds.join(', ')}: what some work of the VPC calls cannot be known, so the endpoint may still serve it`,
        ),
      ];
    if (sharing.length > 0)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `this account shares ${sharing.map((share) => share.subnetId).join(', ')} of the VPC with other accounts through AWS RAM (${distinctShares(sharing)}): their ECS work there is out of its sight, and may need the endpoint`,
        ),
      ];
    if (sharesUnread !== undefined)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `whether this account shares the VPC's subnets with other accounts (AWS RAM), whose work may need the endpoint, cannot be read (${sharesUnread.operation}: ${sharesUnread.reason})`,
        ),
      ];
    if (inbound.length > 0)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `Route 53 Resolver inbound endpoint ${inbound.join(', ')} in the VPC answers DNS queries from other networks (spokes forwarding to it, on-premises), whose calls may reach the endpoint through its private DNS name: out of sight here`,
        ),
      ];
    if (inboundUnread !== undefined)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `whether a Route 53 Resolver inbound endpoint in the VPC answers other networks' queries for it cannot be read (${inboundUnread.operation}: ${inboundUnread.reason})`,
        ),
      ];
    if (profiles.length > 0)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `${profiles.map(describeProfileResource).join('; ')}: the Profile carries it to the VPCs it is associated with (possibly other accounts'), whose calls are out of sight here`,
        ),
      ];
    if (profilesUnread !== undefined)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `whether a Route 53 Profile carries the endpoint, or a zone that points at it, to other VPCs cannot be read (${profilesUnread.operation}: ${profilesUnread.reason})`,
        ),
      ];
    if (aliasesUnread !== undefined)
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          `whether a private hosted zone points other VPCs at it (hub-and-spoke) cannot be read (${aliasesUnread.operation}: ${aliasesUnread.reason})`,
        ),
      ];
    if (EC2_CAPACITY_SERVICES.has(service))
      return [
        unknownDraft(
          context,
          'ENDPOINT_UNUSED',
          fields,
          'EC2 capacity scaled to zero leaves no trace of its need for the ECS endpoints, and instances launched later could not register without them: never reclaimed',
        ),
      ];
    return [
      draft(context, 'ENDPOINT_UNUSED', {
        ...fields,
        severity: 'low',
        remedy: { kind: 'reclaim', endpoint },
      }),
    ];
  });
};

/** How a Profile carries the endpoint: as its own resource, or a zone of its resources points at it. */
function describeProfileResource(resource: ProfileResource): string {
  const profile = `Route 53 Profile ${resource.profileId}${resource.profileName ? ` (${resource.profileName})` : ''}`;
  return resource.kind === 'vpc-endpoint'
    ? `${profile} has the endpoint as a resource`
    : `${profile} has as a resource private hosted zone ${resource.resourceId}, which points at the endpoint`;
}

function distinctShares(sharing: readonly SharedSubnet[]): string {
  return [...new Set(sharing.map((share) => share.resourceShareArn))].sort().join(', ');
}

/** Every check, run in this order for each VPC in scope. */
export const CHECKS: readonly Check[] = [
  vpcDnsCheck,
  sharedVpcCheck,
  requiredEndpointsCheck,
  wrongRegionCheck,
  agentVersionCheck,
  unknownNeedsCheck,
  unusedEndpointsCheck,
];

/** Runs every check on one VPC. */
export function runChecks(context: VpcContext): DraftFinding[] {
  return CHECKS.flatMap((check) => check(context));
}

/**
 * The checks of a VPC that hosts no ECS work but holds the remediator's endpoints
 * (`RegionSnapshot.idleVpcIds`): only whether those endpoints are still needed. Nothing else of it
 * was read (its DNS, routes, groups), and it has no work for the other checks to judge.
 */
export function runIdleChecks(context: VpcContext): DraftFinding[] {
  return unusedEndpointsCheck(context);
}
