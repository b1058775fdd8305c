/**
 * Endpoint discovery: the VPC endpoints of the VPCs in scope, their security groups and the
 * remediator's own groups, and what the Region offers for the managed services.
 */
import {
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type {
  Filter,
  IpPermission,
  SecurityGroup as SdkSecurityGroup,
  ServiceDetail,
  VpcEndpoint as SdkVpcEndpoint,
} from '@aws-sdk/client-ec2';
import { MANAGED_TAG } from '../../core/actions.ts';
import type {
  EndpointServiceOffer,
  EndpointState,
  IngressRule,
  SecurityGroup,
  VpcEndpoint,
} from '../../core/model.ts';
import { MANAGED_SERVICES, serviceNameOf } from '../../core/services.ts';
import { collectPages, distinct } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { DiscoveryError } from './context.ts';
import { EC2_PAGE_MAX, describeByFilter, tagsOf } from './ec2-query.ts';

const ENDPOINT_STATES: ReadonlySet<string> = new Set<EndpointState>([
  'pendingacceptance',
  'pending',
  'available',
  'deleting',
  'deleted',
  'rejected',
  'failed',
  'expired',
  'partial',
]);

/**
 * The endpoint state in lower case: the API answers `available`, `pendingAcceptance`, … while the
 * SDK's enum reads `Available`, `PendingAcceptance`: compare without case.
 */
export function endpointState(state: string | undefined): EndpointState | undefined {
  const lower = state?.toLowerCase();
  return lower !== undefined && ENDPOINT_STATES.has(lower) ? (lower as EndpointState) : undefined;
}

export interface EndpointsAndGroups {
  readonly endpoints: VpcEndpoint[];
  readonly securityGroups: SecurityGroup[];
}

/**
 * Endpoints of the VPCs (all states but `deleted`) and the security groups that matter: the
 * endpoints' groups, the remediator's managed groups in those VPCs, and `workloadGroupIds` (the
 * groups of the interfaces that call the endpoints, whose outbound rules matter). The managed groups
 * are read while the endpoints are; the others not already among them in one read afterwards.
 */
export async function describeEndpointsAndGroups(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
  workloadGroupIds: Promise<readonly string[]> = Promise.resolve([]),
): Promise<EndpointsAndGroups> {
  const managedFilter = { Name: `tag:${MANAGED_TAG.key}`, Values: [MANAGED_TAG.value] };
  const [endpoints, managedGroups] = await Promise.all([
    describeEndpoints(ctx, 'vpc-id', vpcIds),
    describeGroups(ctx, 'vpc-id', vpcIds, [managedFilter]),
  ]);
  const known = new Set(managedGroups.map((group) => group.groupId));
  const missing = distinct([
    ...endpoints.flatMap((endpoint) => endpoint.securityGroupIds),
    ...(await workloadGroupIds),
  ]).filter((id) => !known.has(id));
  const endpointGroups = await describeGroups(ctx, 'group-id', missing);
  const securityGroups = [...managedGroups, ...endpointGroups.filter((group) => !known.has(group.groupId))];
  ctx.progress(`ec2: ${securityGroups.length} security groups (${managedGroups.length} managed)`);
  return { endpoints, securityGroups };
}

/**
 * Security groups by a filter (`vpc-id`, `group-id`, …). By a group-id filter rather than GroupIds:
 * a group deleted meanwhile is then absent, not an error.
 */
export function describeGroups(
  ctx: DiscoveryContext,
  filterName: string,
  values: readonly string[],
  extraFilters: readonly Filter[] = [],
): Promise<SecurityGroup[]> {
  const { ec2 } = ctx.clients;
  return describeByFilter(
    ctx,
    'ec2:DescribeSecurityGroups',
    filterName,
    values,
    extraFilters,
    async (Filters, NextToken) => {
      const page = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
      );
      return { items: (page.SecurityGroups ?? []).flatMap(toSecurityGroup), nextToken: page.NextToken };
    },
  );
}

/** The filter on the managed tag (`tag:<key>` = value: DescribeVpcEndpoints filters by a tag). */
const MANAGED_TAG_FILTER = `tag:${MANAGED_TAG.key}` as const;

/**
 * Endpoints (all states but `deleted`) by a filter: `vpc-id`, `vpc-endpoint-id` for central ones, or
 * the managed tag's for the remediator's own ({@link describeTaggedEndpoints}).
 */
export async function describeEndpoints(
  ctx: DiscoveryContext,
  filterName: 'vpc-id' | 'vpc-endpoint-id' | typeof MANAGED_TAG_FILTER,
  values: readonly string[],
): Promise<VpcEndpoint[]> {
  const { ec2 } = ctx.clients;
  let deleted = 0;
  const endpoints = await describeByFilter(
    ctx,
    'ec2:DescribeVpcEndpoints',
    filterName,
    values,
    [],
    async (Filters, NextToken) => {
      const page = await ec2.send(
        new DescribeVpcEndpointsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
      );
      const items = (page.VpcEndpoints ?? []).flatMap((endpoint) => {
        const mapped = toEndpoint(endpoint);
        if (mapped?.state === 'deleted') deleted += 1;
        return mapped && mapped.state !== 'deleted' ? [mapped] : [];
      });
      return { items, nextToken: page.NextToken };
    },
  );
  ctx.progress(`ec2: ${endpoints.length} VPC endpoints (${deleted} deleted left out)`);
  return endpoints;
}

/**
 * Every endpoint of the Region that carries the remediator's managed tag, whatever its VPC: one
 * DescribeVpcEndpoints by a tag filter (paged, 1000 a page). A whole-Region discovery reads them to
 * find the VPCs that hold the remediator's endpoints but no longer host ECS work (reclaim,
 * ENDPOINT_UNUSED); whether each is also recorded as the remediator's is core's to decide.
 */
export function describeTaggedEndpoints(ctx: DiscoveryContext): Promise<VpcEndpoint[]> {
  return describeEndpoints(ctx, MANAGED_TAG_FILTER, [MANAGED_TAG.value]);
}

function toEndpoint(endpoint: SdkVpcEndpoint): VpcEndpoint | undefined {
  if (!endpoint.VpcEndpointId || !endpoint.VpcId || !endpoint.ServiceName) return undefined;
  // An unknown state (one added to the API later) is kept as the API spells it, in lower case.
  const state =
    endpointState(endpoint.State) ?? ((endpoint.State ?? 'pending').toLowerCase() as EndpointState);
  return {
    vpcEndpointId: endpoint.VpcEndpointId,
    vpcId: endpoint.VpcId,
    serviceName: endpoint.ServiceName,
    type: endpoint.VpcEndpointType ?? 'Interface',
    state,
    privateDnsEnabled: endpoint.PrivateDnsEnabled === true,
    subnetIds: endpoint.SubnetIds ?? [],
    securityGroupIds: (endpoint.Groups ?? []).map((group) => group.GroupId).filter((id) => id !== undefined),
    routeTableIds: endpoint.RouteTableIds ?? [],
    tags: tagsOf(endpoint.Tags),
    ...(endpoint.PolicyDocument ? { policyDocument: endpoint.PolicyDocument } : {}),
    ...(endpoint.IpAddressType ? { ipAddressType: endpoint.IpAddressType.toLowerCase() } : {}),
    dnsNames: (endpoint.DnsEntries ?? []).flatMap((entry) =>
      entry.DnsName ? [entry.DnsName.toLowerCase().replace(/\.$/, '')] : [],
    ),
    ...(endpoint.OwnerId ? { ownerId: endpoint.OwnerId } : {}),
  };
}

function toSecurityGroup(group: SdkSecurityGroup): SecurityGroup[] {
  if (!group.GroupId) return [];
  return [
    {
      groupId: group.GroupId,
      vpcId: group.VpcId ?? '',
      groupName: group.GroupName ?? '',
      tags: tagsOf(group.Tags),
      ingress: (group.IpPermissions ?? []).map(toRule),
      egress: (group.IpPermissionsEgress ?? []).map(toRule),
    },
  ];
}

/** A rule of either direction: for an outbound rule the CIDRs, lists and groups are destinations. */
function toRule(permission: IpPermission): IngressRule {
  return {
    protocol: permission.IpProtocol ?? '-1',
    ...(permission.FromPort === undefined ? {} : { fromPort: permission.FromPort }),
    ...(permission.ToPort === undefined ? {} : { toPort: permission.ToPort }),
    cidrs: (permission.IpRanges ?? []).map((range) => range.CidrIp).filter((cidr) => cidr !== undefined),
    ipv6Cidrs: (permission.Ipv6Ranges ?? [])
      .map((range) => range.CidrIpv6)
      .filter((cidr) => cidr !== undefined),
    prefixListIds: (permission.PrefixListIds ?? [])
      .map((list) => list.PrefixListId)
      .filter((id) => id !== undefined),
    sourceGroupIds: (permission.UserIdGroupPairs ?? [])
      .map((pair) => pair.GroupId)
      .filter((id) => id !== undefined),
  };
}

/**
 * What the Region offers for each managed service: types (S3 is listed once as Interface and once
 * as Gateway: merged) and Availability Zones.
 *
 * Asked by `ServiceNames` (one call in the normal case). A name the Region does not offer fails that
 * whole call with `InvalidServiceName`; then the Region's full list is paged instead (1000 a page)
 * and the names picked from it, so a missing service is an absent offer, not a failed discovery.
 * (The `service-name` filter would be the other way, but moto 5.2 fails on it with a server error.)
 */
export async function describeEndpointServices(ctx: DiscoveryContext): Promise<EndpointServiceOffer[]> {
  const { ec2 } = ctx.clients;
  const operation = 'ec2:DescribeVpcEndpointServices';
  const names = MANAGED_SERVICES.map((service) => serviceNameOf(ctx.region, service));
  const wanted = new Set(names);
  const page = (ServiceNames: string[] | undefined) => (NextToken: string | undefined) =>
    ctx.call(operation, async () => {
      const out = await ec2.send(
        new DescribeVpcEndpointServicesCommand({ ServiceNames, MaxResults: EC2_PAGE_MAX, NextToken }),
      );
      return { items: out.ServiceDetails, nextToken: out.NextToken };
    });
  let details: ServiceDetail[];
  try {
    details = await collectPages(page(names));
  } catch (error) {
    if (!(error instanceof DiscoveryError) || error.code !== 'InvalidServiceName') throw error;
    ctx.progress(`ec2: some managed services are not offered here (${error.message}); listing all services`);
    details = await collectPages(page(undefined));
  }
  interface Merged {
    types: Set<string>;
    zones: Set<string>;
    dnsNames: Set<string>;
    ipTypes: Set<string>;
    policy: boolean;
  }
  const offers = new Map<string, Merged>();
  for (const detail of details) {
    if (!detail.ServiceName || !wanted.has(detail.ServiceName)) continue;
    const offer = offers.get(detail.ServiceName) ?? {
      types: new Set<string>(),
      zones: new Set<string>(),
      dnsNames: new Set<string>(),
      ipTypes: new Set<string>(),
      policy: false,
    };
    const interfaceOffer = (detail.ServiceType ?? []).some((type) => type.ServiceType === 'Interface');
    for (const type of detail.ServiceType ?? []) if (type.ServiceType) offer.types.add(type.ServiceType);
    for (const zone of detail.AvailabilityZones ?? []) offer.zones.add(zone);
    // Private DNS names and IP address types belong to the interface offer (S3 lists a gateway one too).
    if (interfaceOffer) {
      for (const name of [
        detail.PrivateDnsName,
        ...(detail.PrivateDnsNames ?? []).map((n) => n.PrivateDnsName),
      ])
        if (name) offer.dnsNames.add(name.toLowerCase().replace(/\.$/, ''));
      for (const type of detail.SupportedIpAddressTypes ?? []) offer.ipTypes.add(type.toLowerCase());
    }
    offer.policy ||= detail.VpcEndpointPolicySupported === true;
    offers.set(detail.ServiceName, offer);
  }
  const result = names
    .filter((name) => offers.has(name))
    .map((serviceName): EndpointServiceOffer => {
      const offer = offers.get(serviceName);
      return {
        serviceName,
        types: [...(offer?.types ?? [])].sort(),
        availabilityZones: [...(offer?.zones ?? [])].sort(),
        privateDnsNames: [...(offer?.dnsNames ?? [])].sort(),
        supportedIpAddressTypes: [...(offer?.ipTypes ?? [])].sort(),
        policySupported: offer?.policy ?? false,
      };
    });
  ctx.progress(`ec2: ${result.length} of ${names.length} managed services offered`);
  return result;
}
