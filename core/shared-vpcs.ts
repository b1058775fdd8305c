/**
 * Shared VPCs in a run over several accounts: a participant of a VPC shared through AWS RAM cannot see
 * its owner's endpoints (its checks report SHARED_VPC_UNVERIFIABLE, `unknown`), but when the owner is
 * in the same run its endpoints, their subnets and security groups were read with the owner's
 * credentials (aws/organization-run.ts). The participant's needs then meet the owner's endpoints under
 * the single-account engine's rules (core/checks.ts), each finding in the participant's view (its
 * account in the id) and fixed by the owner only: a participant can neither create nor change
 * endpoints in a VPC it does not own, so every endpoint fix is manual and names the owner.
 *
 * Availability Zones are compared by AZ ID: AWS maps AZ names to zones independently for each account,
 * so the owner's `us-east-1a` may be another zone than the participant's; the AZ ID is the same zone
 * everywhere (docs/architecture.md, Shared VPCs).
 */
import {
  admissionFindings,
  azNotOffered,
  egressFindings,
  gatewayRoutes,
  notAvailable,
  primaryEndpoint,
} from './checks.ts';
import type { DraftFinding, Remedy, VpcContext } from './context.ts';
import { callersFor, consequence, draft, neededFor, unknownDraft } from './context.ts';
import type { PrefixList, SecurityGroup, SkippedRead, Subnet, VpcEndpoint } from './model.ts';
import { policyFindings } from './policies.ts';
import type { InterfaceService, ManagedService } from './services.ts';
import { GATEWAY_SERVICE, serviceNameOf, serviceOrder } from './services.ts';

/** A VPC shared with other accounts of the run, as its owner sees it (read with the owner's role). */
export interface OwnerEndpoints {
  readonly ownerId: string;
  readonly region: string;
  readonly vpcId: string;
  /** The VPC's endpoints, in every state but `deleted`. */
  readonly endpoints: readonly VpcEndpoint[];
  /** The endpoints' subnets: their AZ IDs place them against the participant's work. */
  readonly subnets?: readonly Subnet[];
  /** The endpoints' security groups. */
  readonly securityGroups?: readonly SecurityGroup[];
  /** The customer-managed prefix lists those groups' rules refer to, with their entries. */
  readonly prefixLists?: readonly PrefixList[];
  /** The owner's reads that failed (subnets, groups, prefix lists): what they decide is `unknown`. */
  readonly skippedReads?: readonly SkippedRead[];
}

/**
 * The participant's drafts of a shared VPC with its SHARED_VPC_UNVERIFIABLE ones replaced by the
 * owner's endpoints judged for the participant's work (see the module comment). Other drafts, and every
 * draft without `owner` (the owner not in the run, or its endpoints unreadable), are kept.
 */
export function joinSharedVpc(
  context: VpcContext,
  drafts: readonly DraftFinding[],
  owner: OwnerEndpoints | undefined,
): DraftFinding[] {
  if (owner === undefined) return [...drafts];
  const joined = ownerContext(context, owner);
  const services = [...context.required.keys()].sort((a, b) => serviceOrder(a) - serviceOrder(b));
  return [
    ...drafts.filter((finding) => finding.code !== 'SHARED_VPC_UNVERIFIABLE'),
    ...services
      .flatMap((service) =>
        service === GATEWAY_SERVICE
          ? gatewayFindings(joined, owner)
          : interfaceFindings(joined, owner, service),
      )
      .map((finding) => ownerFixes(joined, owner, finding)),
  ];
}

/** The participant's context with the owner's endpoints, their subnets, groups and prefix lists. */
function ownerContext(context: VpcContext, owner: OwnerEndpoints): VpcContext {
  const prefixLists = new Map(context.prefixLists);
  for (const list of owner.prefixLists ?? []) prefixLists.set(list.prefixListId, list.cidrs);
  for (const read of owner.skippedReads ?? [])
    if (read.resourceId?.startsWith('pl-')) prefixLists.set(read.resourceId, undefined);
  return {
    ...context,
    endpoints: owner.endpoints.filter(
      (endpoint) =>
        endpoint.vpcId === owner.vpcId && endpoint.state !== 'deleted' && endpoint.state !== 'deleting',
    ),
    groupsById: new Map([
      ...context.groupsById,
      ...(owner.securityGroups ?? []).map((group): [string, SecurityGroup] => [group.groupId, group]),
    ]),
    prefixLists,
    subnetsById: new Map([
      ...context.subnetsById,
      ...(owner.subnets ?? []).map((subnet): [string, Subnet] => [subnet.subnetId, subnet]),
    ]),
    skippedReads: [...context.skippedReads, ...(owner.skippedReads ?? [])],
  };
}

function interfaceFindings(
  context: VpcContext,
  owner: OwnerEndpoints,
  service: InterfaceService,
): DraftFinding[] {
  const serviceName = serviceNameOf(context.region, service);
  const endpoint = primaryEndpoint(
    context.endpoints.filter(
      (candidate) => candidate.serviceName === serviceName && candidate.type === 'Interface',
    ),
  );
  if (!endpoint)
    return [ownerLacks(context, owner, service, 'endpoint', { kind: 'create-interface', service })];
  if (endpoint.state !== 'available') return [ownersNotAvailable(context, service, endpoint)];
  const resourceId = endpoint.vpcEndpointId;
  const findings: DraftFinding[] = [];
  // Private DNS is what makes the SDK's regional names reach the endpoint. The owner's private hosted
  // zones and Resolver rules are not read by the join (docs/architecture.md, Shared VPCs).
  if (!endpoint.privateDnsEnabled)
    findings.push(
      draft(context, 'ENDPOINT_PRIVATE_DNS_DISABLED', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) of account ${owner.ownerId} has private DNS off: this account's SDK calls still resolve to the public endpoint, so ${consequence(context, service)}`,
        remedy: { kind: 'modify', endpoint, service, enablePrivateDns: true },
      }),
    );
  findings.push(...zoneFindings(context, owner, service, endpoint));
  findings.push(...admissionFindings(context, service, endpoint, unreadableGroups(owner, endpoint)));
  findings.push(...egressFindings(context, service, endpoint));
  findings.push(...policyFindings(context, service, endpoint));
  return findings;
}

/**
 * ENDPOINT_AZ_GAP by AZ ID: each zone the service's callers run in (their subnets as the participant
 * reads them) must hold a subnet of the endpoint (as the owner reads them). A zone the Region does not
 * offer the service in is ENDPOINT_AZ_NOT_OFFERED, as in the single-account check.
 */
function zoneFindings(
  context: VpcContext,
  owner: OwnerEndpoints,
  service: InterfaceService,
  endpoint: VpcEndpoint,
): DraftFinding[] {
  const resourceId = endpoint.vpcEndpointId;
  const callers = callersFor(context, service);
  // The participant's own name of each zone its callers run in, by AZ ID.
  const callerZones = new Map<string, string>();
  const unplaced = new Set<string>();
  for (const caller of callers) {
    const zoneId = caller.subnet.availabilityZoneId;
    if (zoneId === undefined) unplaced.add(caller.subnet.subnetId);
    else callerZones.set(zoneId, caller.subnet.availabilityZone);
  }
  const ownerSubnets = new Map((owner.subnets ?? []).map((subnet) => [subnet.subnetId, subnet]));
  const endpointZones = new Set<string>();
  const unread: string[] = [];
  for (const subnetId of endpoint.subnetIds) {
    const zoneId = ownerSubnets.get(subnetId)?.availabilityZoneId;
    if (zoneId === undefined) unread.push(subnetId);
    else endpointZones.add(zoneId);
  }
  const gap = [...callerZones.keys()].filter((zoneId) => !endpointZones.has(zoneId)).sort();
  const offered = new Set(
    context.offers.get(serviceNameOf(context.region, service))?.availabilityZones ?? [],
  );
  const named = (zoneId: string): string => `${zoneId} (${callerZones.get(zoneId) ?? '?'} in this account)`;
  // The offer lists the participant's own AZ names, as its callers' subnets do.
  const fixable = gap.filter((zoneId) => offered.has(callerZones.get(zoneId) ?? ''));
  const unoffered = gap.filter((zoneId) => !fixable.includes(zoneId));
  const findings: DraftFinding[] = [];
  if (unread.length === 0 && fixable.length > 0)
    findings.push(
      draft(context, 'ENDPOINT_AZ_GAP', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) of account ${owner.ownerId} has no subnet in ${fixable.map(named).join(', ')} where this account's ECS work runs: calls from there cross AZs and fail when the endpoint's AZs are impaired`,
        remedy: {
          kind: 'manual',
          hint: `add a subnet of ${fixable.join(', ')} (AZ IDs: each account names the zones differently) to ${resourceId}`,
        },
      }),
    );
  else if (fixable.length > 0 || unplaced.size > 0)
    findings.push(
      unknownDraft(
        context,
        'ENDPOINT_AZ_GAP',
        {
          service,
          resourceId,
          subject: service,
          message: `${resourceId} (${service}) of account ${owner.ownerId}: whether it has a subnet in every AZ where this account's ECS work runs cannot be verified`,
        },
        unread.length > 0
          ? `the AZ of the endpoint's subnet ${unread.join(', ')} could not be read with the owner's role${skippedReason(owner, 'ec2:DescribeSubnets')}`
          : `the AZ ID of this account's subnet ${[...unplaced].sort().join(', ')} is not known (AZ names differ between accounts)`,
      ),
    );
  if (unoffered.length > 0)
    findings.push(
      azNotOffered(
        context,
        service,
        unoffered.map((zoneId) => callerZones.get(zoneId) ?? zoneId),
      ),
    );
  return findings;
}

/** Why some of the endpoint's groups are not among those the owner's role read, if any are not. */
function unreadableGroups(owner: OwnerEndpoints, endpoint: VpcEndpoint): string | undefined {
  const read = new Set((owner.securityGroups ?? []).map((group) => group.groupId));
  const unread = endpoint.securityGroupIds.filter((id) => !read.has(id));
  if (unread.length === 0) return undefined;
  return `the security group ${unread.join(', ')} of ${endpoint.vpcEndpointId} could not be read with the owner's role${skippedReason(owner, 'ec2:DescribeSecurityGroups')}`;
}

function skippedReason(owner: OwnerEndpoints, operation: string): string {
  const read = (owner.skippedReads ?? []).find((skipped) => skipped.operation === operation);
  return read ? ` (${read.reason})` : '';
}

/** The S3 gateway: present, available, on the route tables of S3's callers' subnets, its policy. */
function gatewayFindings(context: VpcContext, owner: OwnerEndpoints): DraftFinding[] {
  const service = GATEWAY_SERVICE;
  const { gateways, needed } = gatewayRoutes(context, service);
  const endpoint = primaryEndpoint(gateways);
  if (!endpoint)
    return [
      ownerLacks(context, owner, service, 'gateway endpoint', {
        kind: 'create-gateway',
        service,
        routeTableIds: needed,
      }),
    ];
  if (endpoint.state !== 'available') return [ownersNotAvailable(context, service, endpoint)];
  const covered = new Set(gateways.flatMap((gateway) => gateway.routeTableIds));
  const missing = needed.filter((id) => !covered.has(id));
  return [
    ...policyFindings(context, service, endpoint),
    ...(missing.length === 0
      ? []
      : [
          draft(context, 'S3_GATEWAY_ROUTE_MISSING', {
            service,
            resourceId: endpoint.vpcEndpointId,
            subject: service,
            message: `${endpoint.vpcEndpointId} (s3) of account ${owner.ownerId} is not on route tables ${missing.join(', ')} of this account's workload subnets: ${consequence(context, service)}`,
            remedy: { kind: 'modify', endpoint, service, addRouteTableIds: missing },
          }),
        ]),
  ];
}

/** ENDPOINT_NOT_AVAILABLE, where no run of this account recreates a failed endpoint: the owner does. */
/** ENDPOINT_MISSING of a shared VPC: the owner's VPC has no `kind` of the service (its fix is the owner's). */
function ownerLacks(
  context: VpcContext,
  owner: OwnerEndpoints,
  service: ManagedService,
  kind: 'endpoint' | 'gateway endpoint',
  remedy: Remedy,
): DraftFinding {
  const vpcId = context.workload.vpc.vpcId;
  return draft(context, 'ENDPOINT_MISSING', {
    service,
    subject: service,
    resourceId: vpcId,
    message: `${vpcId} is shared by account ${owner.ownerId}, whose VPC has no ${serviceNameOf(context.region, service)} ${kind} (read with the owner's role): ${consequence(context, service)}${neededFor(context, service)}`,
    remedy,
  });
}

function ownersNotAvailable(
  context: VpcContext,
  service: ManagedService,
  endpoint: VpcEndpoint,
): DraftFinding {
  const finding = notAvailable(context, service, endpoint);
  const pending = endpoint.state === 'pending' || endpoint.state === 'pendingacceptance';
  return pending
    ? finding
    : {
        ...finding,
        remedy: { kind: 'manual', hint: `replace ${endpoint.vpcEndpointId} (it is ${endpoint.state})` },
      };
}

/** Findings whose fix is the participant's own: its groups' outbound rules, where its work runs. */
const PARTICIPANT_FIXES: ReadonlySet<string> = new Set([
  'WORKLOAD_SG_NO_HTTPS_EGRESS',
  'ENDPOINT_AZ_NOT_OFFERED',
]);

/**
 * The finding with its fix left to the owner: a manual remedy naming the owner account and what it
 * would do. Unknown findings (nothing to fix yet) and the participant's own fixes are kept.
 */
function ownerFixes(context: VpcContext, owner: OwnerEndpoints, finding: DraftFinding): DraftFinding {
  if (finding.unknown !== undefined || PARTICIPANT_FIXES.has(finding.code)) return finding;
  const what = ownerAction(context, finding.remedy);
  return {
    ...finding,
    remedy: {
      kind: 'manual',
      hint: `only the VPC's owner, account ${owner.ownerId}, can change the endpoints of ${context.workload.vpc.vpcId}: ${what}`,
    },
  };
}

/** What the owner would do for a remedy the single-account engine would carry out itself. */
function ownerAction(context: VpcContext, remedy: Remedy): string {
  switch (remedy.kind) {
    case 'create-interface':
      return `create ${serviceNameOf(context.region, remedy.service)} there (private DNS on, a subnet in each AZ ID this account's work runs in, a security group admitting TCP 443 from it)`;
    case 'create-gateway':
      return `create the ${serviceNameOf(context.region, remedy.service)} gateway endpoint${remedy.routeTableIds.length > 0 ? ` on route tables ${remedy.routeTableIds.join(', ')}` : ''}`;
    case 'modify': {
      const id = remedy.endpoint.vpcEndpointId;
      if (remedy.enablePrivateDns) return `turn on private DNS of ${id}`;
      if (remedy.attachManagedGroup)
        return `let a security group of ${id} (${remedy.endpoint.securityGroupIds.join(', ') || 'none'}) allow TCP 443 from this account's work (its subnets' CIDRs or its security groups)`;
      if (remedy.addRouteTableIds) return `add route tables ${remedy.addRouteTableIds.join(', ')} to ${id}`;
      if (remedy.resetPolicy) return `allow this account's calls in the policy of ${id}`;
      return `change ${id}`;
    }
    case 'reset-policy':
    case 'manual':
    case 'update-agent':
      return remedy.hint;
    case 'delete':
    case 'reclaim':
      return `delete ${remedy.endpoint.vpcEndpointId}`;
    case 'enable-vpc-dns':
      return `turn on ${remedy.attributes.join(' and ')}`;
  }
}
