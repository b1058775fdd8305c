/**
 * Route tables of VPCs: associations and routes with their targets.
 */
import { DescribeRouteTablesCommand } from '@aws-sdk/client-ec2';
import type { Route as SdkRoute, RouteTable as SdkRouteTable } from '@aws-sdk/client-ec2';
import type { Route, RouteTable } from '../../core/model.ts';
import { distinct } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { describeByFilter } from './ec2-query.ts';

/** DescribeRouteTables takes MaxResults 5..100 (not the 1000 of most EC2 describes). */
const ROUTE_TABLES_PAGE_MAX = 100;

export async function describeRouteTables(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
): Promise<RouteTable[]> {
  const { ec2 } = ctx.clients;
  const tables = await describeByFilter(
    ctx,
    'ec2:DescribeRouteTables',
    'vpc-id',
    vpcIds,
    [],
    async (Filters, NextToken) => {
      const page = await ec2.send(
        new DescribeRouteTablesCommand({ Filters, MaxResults: ROUTE_TABLES_PAGE_MAX, NextToken }),
      );
      return { items: (page.RouteTables ?? []).flatMap(toRouteTable), nextToken: page.NextToken };
    },
  );
  ctx.progress(`ec2: ${tables.length} route tables`);
  return tables;
}

function toRouteTable(table: SdkRouteTable): RouteTable[] {
  if (!table.RouteTableId || !table.VpcId) return [];
  // Associations being set up count; ones being removed or failed do not.
  const associations = (table.Associations ?? []).filter((association) => {
    const state = association.AssociationState?.State;
    return state === undefined || state === 'associated' || state === 'associating';
  });
  return [
    {
      routeTableId: table.RouteTableId,
      vpcId: table.VpcId,
      main: associations.some((association) => association.Main === true),
      subnetIds: distinct(
        associations.map((association) => association.SubnetId).filter((id) => id !== undefined),
      ),
      routes: (table.Routes ?? []).flatMap(toRoute),
    },
  ];
}

function toRoute(route: SdkRoute): Route[] {
  const destination =
    route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock ?? route.DestinationPrefixListId;
  if (destination === undefined) return [];
  const target =
    route.GatewayId ??
    route.NatGatewayId ??
    route.TransitGatewayId ??
    route.VpcPeeringConnectionId ??
    route.NetworkInterfaceId ??
    route.InstanceId ??
    route.EgressOnlyInternetGatewayId ??
    route.LocalGatewayId ??
    route.CarrierGatewayId ??
    route.CoreNetworkArn ??
    route.OdbNetworkArn ??
    'unknown';
  return [{ destination, target, active: route.State !== 'blackhole' }];
}
