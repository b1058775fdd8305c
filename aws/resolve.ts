/**
 * Turns the ids an event names into the VPCs to reconcile, against the live account: the event is a
 * hint, and many events name no VPC (a delete names endpoint ids only; a route change, its route
 * table; a NAT gateway's deletion, the gateway; a network interface's new groups, the interface).
 *
 * One Describe call per kind of id for all the ids of a batch (in chunks of 200 filter values, every
 * page followed). Deleted endpoints (state `deleted`) and NAT gateways (`deleting`, `deleted`) are
 * still described with their VPC for a while; when an id is not found at all, its VPC cannot be known
 * and the whole Region is reconciled instead. A security group named by name alone is, as EC2 reads
 * it, the group of that name in the Region's default VPC: when groups of that name are in several
 * VPCs and none is the default VPC's, the Region is reconciled whole too.
 */
import {
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, Filter } from '@aws-sdk/client-ec2';
import type { HintTargets } from '../core/events.ts';
import { chunk, collectPages } from './pagination.ts';

export type Resolution =
  | { readonly whole: false; readonly vpcIds: readonly string[] }
  | { readonly whole: true; readonly reason: string };

/** Filter values per request: EC2 accepts up to 200 values a filter. */
const FILTER_VALUES = 200;

interface Found {
  /** The id (or name) looked up. */
  readonly key: string | undefined;
  readonly vpcId: string | undefined;
}

/** Every (id, VPC) pair that one Describe finds for `keys`, chunked and paged. */
async function describeAll(
  keys: readonly string[],
  fetch: (
    keys: string[],
    nextToken: string | undefined,
  ) => Promise<{ items: Found[]; nextToken: string | undefined }>,
): Promise<Found[]> {
  const found: Found[] = [];
  for (const batch of chunk(keys, FILTER_VALUES)) {
    found.push(...(await collectPages((token) => fetch(batch, token))));
  }
  return found;
}

/** The VPCs of `ids`, and the ids not found. */
async function lookup(
  ids: readonly string[],
  fetch: Parameters<typeof describeAll>[1],
): Promise<{ vpcIds: string[]; missing: string[] }> {
  const found = await describeAll(ids, fetch);
  const seen = new Set(found.map((f) => f.key).filter((key) => key !== undefined));
  return {
    vpcIds: found.map((f) => f.vpcId).filter((vpc) => vpc !== undefined),
    missing: ids.filter((id) => !seen.has(id)),
  };
}

/** One Describe request of the kinds below: a filter on the ids, a page size, a token. */
type Describe = (
  filter: Filter,
  nextToken: string | undefined,
) => Promise<{ items: Found[]; nextToken: string | undefined }>;

/** The Describe of each kind of id, with the filter that names its ids and what it answers. */
function describers(ec2: EC2Client) {
  const byFilter = (name: string, describe: Describe) => (ids: string[], nextToken: string | undefined) =>
    describe({ Name: name, Values: ids }, nextToken);
  return {
    vpcEndpointIds: byFilter('vpc-endpoint-id', async (filter, NextToken) => {
      const out = await ec2.send(
        new DescribeVpcEndpointsCommand({ Filters: [filter], MaxResults: 1000, NextToken }),
      );
      return {
        items: (out.VpcEndpoints ?? []).map((e) => ({ key: e.VpcEndpointId, vpcId: e.VpcId })),
        nextToken: out.NextToken,
      };
    }),
    securityGroupIds: byFilter('group-id', async (filter, NextToken) => {
      const out = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [filter], MaxResults: 1000, NextToken }),
      );
      return {
        items: (out.SecurityGroups ?? []).map((g) => ({ key: g.GroupId, vpcId: g.VpcId })),
        nextToken: out.NextToken,
      };
    }),
    subnetIds: byFilter('subnet-id', async (filter, NextToken) => {
      const out = await ec2.send(
        new DescribeSubnetsCommand({ Filters: [filter], MaxResults: 1000, NextToken }),
      );
      return {
        items: (out.Subnets ?? []).map((s) => ({ key: s.SubnetId, vpcId: s.VpcId })),
        nextToken: out.NextToken,
      };
    }),
    routeTableIds: byFilter('route-table-id', async (filter, NextToken) => {
      // DescribeRouteTables pages at most 100.
      const out = await ec2.send(
        new DescribeRouteTablesCommand({ Filters: [filter], MaxResults: 100, NextToken }),
      );
      return {
        items: (out.RouteTables ?? []).map((t) => ({ key: t.RouteTableId, vpcId: t.VpcId })),
        nextToken: out.NextToken,
      };
    }),
    natGatewayIds: byFilter('nat-gateway-id', async (filter, NextToken) => {
      // Every state: a gateway being deleted, or deleted, is still described (about an hour).
      const out = await ec2.send(
        new DescribeNatGatewaysCommand({ Filter: [filter], MaxResults: 1000, NextToken }),
      );
      return {
        items: (out.NatGateways ?? []).map((n) => ({ key: n.NatGatewayId, vpcId: n.VpcId })),
        nextToken: out.NextToken,
      };
    }),
    networkInterfaceIds: byFilter('network-interface-id', async (filter, NextToken) => {
      const out = await ec2.send(
        new DescribeNetworkInterfacesCommand({ Filters: [filter], MaxResults: 1000, NextToken }),
      );
      return {
        items: (out.NetworkInterfaces ?? []).map((i) => ({ key: i.NetworkInterfaceId, vpcId: i.VpcId })),
        nextToken: out.NextToken,
      };
    }),
    securityGroupNames: byFilter('group-name', async (filter, NextToken) => {
      const out = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [filter], MaxResults: 1000, NextToken }),
      );
      return {
        items: (out.SecurityGroups ?? []).map((g) => ({ key: g.GroupName, vpcId: g.VpcId })),
        nextToken: out.NextToken,
      };
    }),
  };
}

/** The id kinds resolved by one Describe each, in the order they are read. */
const ID_KINDS = [
  'vpcEndpointIds',
  'securityGroupIds',
  'subnetIds',
  'routeTableIds',
  'natGatewayIds',
  'networkInterfaceIds',
] as const;

/**
 * The VPC of each group name, as EC2 reads a name without a VPC: the default VPC's group. A name
 * found in one VPC only is that VPC's; in several, the default VPC's if it is among them (read only
 * then). A name not found is `missing`; one in several VPCs none of which is the default is `ambiguous`.
 */
async function resolveGroupNames(
  ec2: EC2Client,
  names: readonly string[],
  describe: Parameters<typeof describeAll>[1],
): Promise<{ vpcIds: string[]; missing: string[]; ambiguous: string[] }> {
  const vpcsByName = new Map<string, Set<string>>();
  for (const { key, vpcId } of await describeAll(names, describe)) {
    if (key === undefined || vpcId === undefined) continue;
    vpcsByName.set(key, (vpcsByName.get(key) ?? new Set()).add(vpcId));
  }
  let defaultVpc: string | undefined;
  if (names.some((name) => (vpcsByName.get(name)?.size ?? 0) > 1)) {
    const out = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    defaultVpc = out.Vpcs?.[0]?.VpcId;
  }
  const result = { vpcIds: [] as string[], missing: [] as string[], ambiguous: [] as string[] };
  for (const name of names) {
    const vpcs = [...(vpcsByName.get(name) ?? [])];
    if (vpcs.length === 0) result.missing.push(name);
    else if (vpcs.length === 1) result.vpcIds.push(...vpcs);
    else if (defaultVpc !== undefined && vpcs.includes(defaultVpc)) result.vpcIds.push(defaultVpc);
    else result.ambiguous.push(name);
  }
  return result;
}

/** The VPCs behind `targets`, or the whole Region when some id no longer exists (or a name is ambiguous). */
export async function resolveTargets(ec2: EC2Client, targets: HintTargets): Promise<Resolution> {
  const vpcIds = new Set(targets.vpcIds);
  const missing: string[] = [];
  const describe = describers(ec2);
  for (const kind of ID_KINDS) {
    const ids = targets[kind] ?? [];
    if (ids.length === 0) continue;
    const result = await lookup(ids, describe[kind]);
    for (const id of result.vpcIds) vpcIds.add(id);
    missing.push(...result.missing);
  }
  const names = targets.securityGroupNames ?? [];
  let ambiguous: string[] = [];
  if (names.length > 0) {
    const result = await resolveGroupNames(ec2, names, describe.securityGroupNames);
    for (const id of result.vpcIds) vpcIds.add(id);
    missing.push(...result.missing.map((name) => `security group ${name}`));
    ambiguous = result.ambiguous;
  }
  const reasons = [
    ...(missing.length > 0 ? [`not found: ${missing.join(', ')}`] : []),
    ...(ambiguous.length > 0
      ? [`security group names in several VPCs, none the default VPC: ${ambiguous.join(', ')}`]
      : []),
  ];
  if (reasons.length > 0) return { whole: true, reason: reasons.join('; ') };
  return { whole: false, vpcIds: [...vpcIds].sort() };
}
