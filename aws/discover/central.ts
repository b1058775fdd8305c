/**
 * The endpoints that the VPCs' private hosted zones point at, outside those VPCs (a shared-services
 * hub VPC runs no ECS work, so the rest of discovery never reads it), with what decides whether a
 * spoke reaches them: their security groups, their subnets, the route tables of their VPCs, and the
 * peering connections of those VPCs.
 */
import { DescribeVpcPeeringConnectionsCommand } from '@aws-sdk/client-ec2';
import { endpointIdOfDnsName } from '../../core/dns.ts';
import type {
  HostedZone,
  RouteTable,
  SecurityGroup,
  Subnet,
  VpcEndpoint,
  VpcPeering,
} from '../../core/model.ts';
import { distinct } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { EC2_PAGE_MAX, describeByFilter } from './ec2-query.ts';
import { describeEndpoints, describeGroups } from './endpoints.ts';
import { describeRouteTables } from './routes.ts';
import { describeSubnetsById } from './vpcs.ts';

export interface CentralEndpoints {
  readonly endpoints: VpcEndpoint[];
  readonly securityGroups: SecurityGroup[];
  readonly subnets: Subnet[];
  readonly routeTables: RouteTable[];
  readonly peerings: VpcPeering[];
}

const NONE: CentralEndpoints = {
  endpoints: [],
  securityGroups: [],
  subnets: [],
  routeTables: [],
  peerings: [],
};

/**
 * Reads the endpoints the zones' alias records name (`vpce-…` DNS names) that are not among `known`
 * (the VPCs' own). An id this account cannot see (another account's endpoint) is simply absent: the
 * check calls it unverifiable.
 */
export async function describeCentralEndpoints(
  ctx: DiscoveryContext,
  zones: readonly HostedZone[],
  known: readonly VpcEndpoint[],
  spokeVpcIds: readonly string[],
): Promise<CentralEndpoints> {
  const knownIds = new Set(known.map((endpoint) => endpoint.vpcEndpointId));
  const ids = distinct(
    zones.flatMap((zone) =>
      (zone.records ?? []).flatMap((record) => {
        const id = record.aliasTarget === undefined ? undefined : endpointIdOfDnsName(record.aliasTarget);
        return id !== undefined && !knownIds.has(id) ? [id] : [];
      }),
    ),
  ).sort();
  if (ids.length === 0) return NONE;
  const endpoints = (await describeEndpoints(ctx, 'vpc-endpoint-id', ids)).filter(
    (endpoint) => endpoint.state !== 'deleting',
  );
  const hubVpcIds = distinct(endpoints.map((endpoint) => endpoint.vpcId)).sort();
  const [securityGroups, subnets, routeTables, peerings] = await Promise.all([
    describeGroups(ctx, 'group-id', distinct(endpoints.flatMap((endpoint) => endpoint.securityGroupIds))),
    describeSubnetsById(ctx, distinct(endpoints.flatMap((endpoint) => endpoint.subnetIds))),
    describeRouteTables(ctx, hubVpcIds),
    describePeerings(ctx, hubVpcIds, spokeVpcIds),
  ]);
  ctx.progress(`ec2: ${endpoints.length} central endpoints in ${hubVpcIds.length} VPCs`);
  return { endpoints, securityGroups, subnets, routeTables, peerings };
}

/** Peering connections between the hub VPCs and the spokes, in either direction. */
async function describePeerings(
  ctx: DiscoveryContext,
  hubVpcIds: readonly string[],
  spokeVpcIds: readonly string[],
): Promise<VpcPeering[]> {
  const spokes = new Set(spokeVpcIds);
  const side = (filterName: string): Promise<VpcPeering[]> =>
    describeByFilter(
      ctx,
      'ec2:DescribeVpcPeeringConnections',
      filterName,
      hubVpcIds,
      [],
      async (Filters, NextToken) => {
        const page = await ctx.clients.ec2.send(
          new DescribeVpcPeeringConnectionsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
        );
        return {
          items: (page.VpcPeeringConnections ?? []).flatMap((peering): VpcPeering[] =>
            peering.VpcPeeringConnectionId &&
            peering.RequesterVpcInfo?.VpcId &&
            peering.AccepterVpcInfo?.VpcId
              ? [
                  {
                    peeringConnectionId: peering.VpcPeeringConnectionId,
                    requesterVpcId: peering.RequesterVpcInfo.VpcId,
                    accepterVpcId: peering.AccepterVpcInfo.VpcId,
                    status: peering.Status?.Code ?? 'unknown',
                  },
                ]
              : [],
          ),
          nextToken: page.NextToken,
        };
      },
    );
  const [requested, accepted] = await Promise.all([
    side('requester-vpc-info.vpc-id'),
    side('accepter-vpc-info.vpc-id'),
  ]);
  const byId = new Map([...requested, ...accepted].map((peering) => [peering.peeringConnectionId, peering]));
  return [...byId.values()].filter(
    (peering) => spokes.has(peering.requesterVpcId) || spokes.has(peering.accepterVpcId),
  );
}
