/**
 * Services the VPC resolves through private hosted zones or Resolver rules instead of its own
 * endpoints' private DNS: the centralised (hub-and-spoke) pattern. Such a VPC is served when every
 * name of the service has a record in the zone that answers it; creating a local endpoint there
 * would be wasted money, and AWS refuses one with private DNS ("conflicting DNS domain").
 *
 * Where a record points at an endpoint this account can see, that endpoint is checked as a local one
 * would be: available, serving this service, its groups admitting the callers, a route each way.
 */
import type { DraftFinding, VpcContext } from './context.ts';
import {
  callersFor,
  consequence,
  describeCallers,
  draft,
  serviceAzs,
  unknownDraft,
  whatBreaks,
} from './context.ts';
import type { Resolution, ZoneAnswer } from './dns.ts';
import { endpointIdOfDnsName } from './dns.ts';
import type { Subnet, VpcEndpoint } from './model.ts';
import type { Admission } from './network.ts';
import { admitsHttpsFrom, familiesTowards, routeTableOf, routeTo } from './network.ts';
import type { ManagedService } from './services.ts';
import { serviceNameOf } from './services.ts';
import type { Caller } from './workloads.ts';

type Verdict = 'yes' | 'no' | 'unknown';

/** Findings of a service the VPC does not resolve through Amazon-provided DNS alone. */
export function centralFindings(
  context: VpcContext,
  service: ManagedService,
  resolution: Exclude<Resolution, { kind: 'local' }>,
  local: VpcEndpoint | undefined,
): DraftFinding[] {
  const serviceName = serviceNameOf(context.region, service);
  switch (resolution.kind) {
    case 'unknown':
      // Never create on a guess: a zone may already serve the name (and AWS would refuse private DNS).
      return [
        local
          ? unknownDraft(
              context,
              'ENDPOINT_PRIVATE_DNS_DISABLED',
              {
                service,
                resourceId: local.vpcEndpointId,
                subject: service,
                message: `${local.vpcEndpointId} (${service}) has private DNS off, and whether a private hosted zone serves ${serviceName} instead cannot be verified`,
              },
              resolution.reason,
            )
          : unknownDraft(
              context,
              'ENDPOINT_MISSING',
              {
                service,
                subject: service,
                message: `no ${serviceName} endpoint, and whether a private hosted zone or Resolver rule serves it instead cannot be verified`,
              },
              resolution.reason,
            ),
      ];
    case 'forwarded':
      return [
        unknownDraft(
          context,
          'CENTRAL_ENDPOINT_UNREACHABLE',
          {
            service,
            subject: service,
            resourceId: resolution.rule.resolverRuleId,
            message: `${resolution.name} is forwarded by Resolver rule ${resolution.rule.resolverRuleId} (${resolution.rule.domainName}) to ${(resolution.rule.targets ?? []).join(', ') || 'other resolvers'}: served from elsewhere`,
          },
          'what the resolvers a forwarding rule sends queries to answer cannot be seen from this account',
        ),
      ];
    case 'zone-unreadable': {
      const { zone } = resolution;
      return [
        unknownDraft(
          context,
          'CENTRAL_ENDPOINT_UNREACHABLE',
          {
            service,
            subject: service,
            resourceId: zone.hostedZoneId,
            message: `${resolution.name} is answered by private hosted zone ${zone.name} (${zone.hostedZoneId}${zone.ownerId ? `, account ${zone.ownerId}` : ''}): served from elsewhere`,
          },
          `the zone's records cannot be read from this account${zone.recordsUnreadable ? ` (${zone.recordsUnreadable})` : ''}: check the endpoint it points at in the zone's account`,
        ),
      ];
    }
    case 'record-missing': {
      const names = resolution.missing.map(
        (entry) =>
          `${entry.name} (${entry.zone ? `no record in zone ${entry.zone}: NXDOMAIN` : 'no zone covers it'})`,
      );
      // NXDOMAIN breaks the calls whatever the egress: the workload fails, so it is high. A name no
      // zone covers resolves publicly: then the egress decides, as for a missing endpoint.
      const nxdomain = resolution.missing.some((entry) => entry.zone !== undefined);
      return [
        draft(context, 'CENTRAL_DNS_RECORD_MISSING', {
          ...(nxdomain ? { severity: 'high' as const } : {}),
          service,
          subject: service,
          message: `${serviceName} is served through private hosted zones, but ${names.join('; ')}: ${whatBreaks(service)}, NAT or not`,
          remedy: {
            kind: 'manual',
            hint: 'add the missing records (aliases to the central endpoint) to the zone, or disassociate the zone from this VPC',
          },
        }),
      ];
    }
    case 'central':
      return centralEndpointFindings(context, service, resolution.answers);
  }
}

/** The endpoints the zone records point at, checked for this VPC's callers. */
function centralEndpointFindings(
  context: VpcContext,
  service: ManagedService,
  answers: readonly ZoneAnswer[],
): DraftFinding[] {
  const targets = new Map<string, VpcEndpoint>();
  const unseen: string[] = [];
  for (const answer of answers) {
    const target = answer.record.aliasTarget;
    const id = target === undefined ? undefined : endpointIdOfDnsName(target);
    const endpoint =
      id === undefined
        ? undefined
        : (context.centralEndpoints.get(id) ?? context.endpoints.find((e) => e.vpcEndpointId === id));
    if (endpoint) targets.set(endpoint.vpcEndpointId, endpoint);
    else
      unseen.push(`${answer.name} → ${target ?? `${answer.record.type} record`} (zone ${answer.zone.name})`);
  }
  const findings: DraftFinding[] = [];
  const problems: string[] = [];
  const unknowns: string[] = [];
  const callers = callersFor(context, service);
  for (const endpoint of [...targets.values()].sort((a, b) =>
    a.vpcEndpointId.localeCompare(b.vpcEndpointId),
  )) {
    const id = endpoint.vpcEndpointId;
    if (endpoint.state !== 'available') {
      problems.push(`${id} is ${endpoint.state}`);
      continue;
    }
    if (endpoint.serviceName !== serviceNameOf(context.region, service))
      problems.push(`${id} serves ${endpoint.serviceName}`);
    const refused: Caller[] = [];
    const unsure: Caller[] = [];
    const unrouted: Caller[] = [];
    const unsureRoute: Caller[] = [];
    for (const caller of callers) {
      const admitted = admits(context, endpoint, caller);
      if (admitted === 'no') refused.push(caller);
      if (admitted === 'unknown') unsure.push(caller);
      const routed = routeBetween(context, caller.subnet, endpoint);
      if (routed === 'no') unrouted.push(caller);
      if (routed === 'unknown') unsureRoute.push(caller);
    }
    if (refused.length > 0)
      problems.push(`${id}'s security groups do not allow TCP 443 from ${describeCallers(refused)}`);
    if (unrouted.length > 0)
      problems.push(`no route between ${describeCallers(unrouted)} and ${id} in ${endpoint.vpcId}`);
    if (unsure.length > 0)
      unknowns.push(
        `${id}'s groups admit ${describeCallers(unsure)} only by a security group reference across a transit gateway`,
      );
    if (unsureRoute.length > 0)
      unknowns.push(
        `the route between ${describeCallers(unsureRoute)} and ${id} goes through a transit gateway, whose route tables are not read`,
      );
    const endpointAzs = new Set(endpoint.subnetIds.map((subnetId) => context.subnetAz.get(subnetId)));
    const gap = serviceAzs(context, service).filter((az) => !endpointAzs.has(az));
    if (gap.length > 0 && endpoint.vpcId !== context.workload.vpc.vpcId) {
      findings.push(
        draft(context, 'ENDPOINT_AZ_GAP', {
          service,
          resourceId: id,
          subject: service,
          message: `central endpoint ${id} (${service}, ${endpoint.vpcId}) has no subnet in ${gap.join(', ')} where this VPC runs ECS: calls from there cross AZs`,
          remedy: {
            kind: 'manual',
            hint: `add subnets in ${gap.join(', ')} to ${id} in its own VPC ${endpoint.vpcId}`,
          },
        }),
      );
    }
  }
  const first = [...targets.keys()][0];
  if (problems.length > 0) {
    findings.unshift(
      draft(context, 'CENTRAL_ENDPOINT_UNREACHABLE', {
        service,
        subject: service,
        ...(first === undefined ? {} : { resourceId: first }),
        message: `${service} is served by a central endpoint, but ${problems.join('; ')}: ${consequence(context, service)}`,
        remedy: {
          kind: 'manual',
          hint: "fix the central endpoint's state, security groups or routes in its own VPC",
        },
      }),
    );
  } else if (unknowns.length > 0 || unseen.length > 0) {
    const reason =
      unseen.length > 0 ? `${unseen.join('; ')}: not an endpoint this account can see` : unknowns.join('; ');
    findings.unshift(
      unknownDraft(
        context,
        'CENTRAL_ENDPOINT_UNREACHABLE',
        {
          service,
          subject: service,
          ...(first === undefined ? {} : { resourceId: first }),
          message: `${service} is served through private hosted zones; whether the endpoint they point at is reachable cannot be verified`,
        },
        reason,
      ),
    );
  }
  return findings;
}

/** Whether an active peering connection joins the two VPCs (the given one, when named). */
function peered(context: VpcContext, a: string, b: string, peeringConnectionId?: string): boolean {
  return context.peerings.some(
    (peering) =>
      peering.status === 'active' &&
      (peeringConnectionId === undefined || peering.peeringConnectionId === peeringConnectionId) &&
      ((peering.requesterVpcId === a && peering.accepterVpcId === b) ||
        (peering.requesterVpcId === b && peering.accepterVpcId === a)),
  );
}

/**
 * Whether the endpoint's groups admit the caller. Across VPCs a security group reference works over
 * an active peering connection (VPC Peering Guide, "Update your security groups to reference peer
 * security groups"), and over a transit gateway only where security group referencing is turned on
 * (off by default): there it is `unknown`.
 */
function admits(context: VpcContext, endpoint: VpcEndpoint, caller: Caller): Admission {
  const groups = endpoint.securityGroupIds.flatMap((id) => context.groupsById.get(id) ?? []);
  const spoke = context.workload.vpc.vpcId;
  const references = endpoint.vpcId === spoke || peered(context, spoke, endpoint.vpcId);
  const options = {
    ...(endpoint.ipAddressType === undefined ? {} : { endpointIpType: endpoint.ipAddressType }),
    prefixLists: context.prefixLists,
  };
  const byCidr = admitsHttpsFrom(groups, { ...caller, securityGroupIds: new Set() }, options);
  if (byCidr !== 'no' || references) return references ? admitsHttpsFrom(groups, caller, options) : byCidr;
  return admitsHttpsFrom(groups, caller, options) === 'yes' ? 'unknown' : 'no';
}

/** The subnet's CIDRs of the families the caller uses towards the endpoint. */
function cidrsOf(subnet: Subnet, families: ReadonlyArray<4 | 6>): string[] {
  return [
    ...(families.includes(4) && subnet.cidrBlock ? [subnet.cidrBlock] : []),
    ...(families.includes(6) ? (subnet.ipv6CidrBlocks ?? []) : []),
  ];
}

/**
 * A route from the caller's subnet to every subnet of the endpoint, and back, for each address family
 * the caller uses towards it: the longest prefix decides; a peering route counts when that peering is
 * active between the two VPCs, a transit gateway's is `unknown` (its own route tables decide).
 */
function routeBetween(context: VpcContext, from: Subnet, endpoint: VpcEndpoint): Verdict {
  if (endpoint.vpcId === from.vpcId) return 'yes';
  const families = familiesTowards(from, endpoint.ipAddressType);
  const hops = (source: Subnet, destinations: readonly string[], otherVpc: string): Verdict[] => {
    const table = routeTableOf(source, context.allRouteTables);
    return destinations.map((cidr) => {
      const route = routeTo(table, cidr);
      if (!route) return 'no';
      if (route.target.startsWith('pcx-'))
        return peered(context, source.vpcId, otherVpc, route.target) ? 'yes' : 'no';
      if (route.target.startsWith('tgw-')) return 'unknown';
      return 'no';
    });
  };
  const endpointSubnets = endpoint.subnetIds.flatMap((id) => context.subnetsById.get(id) ?? []);
  if (endpointSubnets.length === 0) return 'unknown';
  const verdicts = [
    ...endpointSubnets.flatMap((subnet) => hops(from, cidrsOf(subnet, families), endpoint.vpcId)),
    ...endpointSubnets.flatMap((subnet) => hops(subnet, cidrsOf(from, families), from.vpcId)),
  ];
  if (verdicts.includes('no')) return 'no';
  return verdicts.includes('unknown') ? 'unknown' : 'yes';
}
