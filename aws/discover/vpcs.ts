/**
 * Subnets, VPCs and the DNS facts of VPCs.
 */
import {
  DescribeDhcpOptionsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { Filter, Subnet as SdkSubnet } from '@aws-sdk/client-ec2';
import type { Subnet, Vpc, VpcDns } from '../../core/model.ts';
import { collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { Page } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY } from './context.ts';
import { EC2_PAGE_MAX, describeByFilter, tagsOf } from './ec2-query.ts';

/**
 * Subnets, for two purposes at once: the VPC of each awsvpc subnet of services and tasks, and every
 * subnet of the VPCs that host ECS work (the snapshot lists them all).
 *
 * Without `vpcIds`: one account-wide listing, 1000 a page. It answers both questions in one call
 * for up to 1000 subnets (the default quotas, 5 VPCs x 200 subnets, allow no more), where filtering
 * takes at least two dependent calls (by subnet-id to learn the VPCs, then by vpc-id for their other
 * subnets). With `vpcIds` (event-scoped): those VPCs' subnets only, by a vpc-id filter (chunks of
 * 200); awsvpc subnets not among them belong to other VPCs. Either way a subnet deleted since ECS
 * reported it is simply absent (SubnetIds would fail the call on it).
 */
export async function describeSubnets(
  ctx: DiscoveryContext,
  vpcIds: readonly string[] | undefined,
): Promise<Subnet[]> {
  if (vpcIds === undefined) {
    return collectPages((nextToken) => ctx.call(SUBNETS, () => subnetPage(ctx, undefined, nextToken)));
  }
  return describeByFilter(ctx, SUBNETS, 'vpc-id', vpcIds, [], (Filters, NextToken) =>
    subnetPage(ctx, Filters, NextToken),
  );
}

/** Subnets by id (a subnet-id filter: one deleted meanwhile is absent, not an error). */
export function describeSubnetsById(ctx: DiscoveryContext, subnetIds: readonly string[]): Promise<Subnet[]> {
  return describeByFilter(ctx, SUBNETS, 'subnet-id', subnetIds, [], (Filters, NextToken) =>
    subnetPage(ctx, Filters, NextToken),
  );
}

const SUBNETS = 'ec2:DescribeSubnets';

async function subnetPage(
  ctx: DiscoveryContext,
  Filters: Filter[] | undefined,
  NextToken: string | undefined,
): Promise<Page<Subnet>> {
  const page = await ctx.clients.ec2.send(
    new DescribeSubnetsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
  );
  return { items: (page.Subnets ?? []).flatMap(toSubnet), nextToken: page.NextToken };
}

/** A subnet as the model holds it: IPv6 blocks being associated or associated count. */
function toSubnet(subnet: SdkSubnet): Subnet[] {
  if (!subnet.SubnetId || !subnet.VpcId) return [];
  const ipv6 = (subnet.Ipv6CidrBlockAssociationSet ?? [])
    .filter((block) => LIVE_BLOCK_STATES.has(block.Ipv6CidrBlockState?.State ?? 'associated'))
    .flatMap((block) => block.Ipv6CidrBlock ?? []);
  return [
    {
      subnetId: subnet.SubnetId,
      vpcId: subnet.VpcId,
      availabilityZone: subnet.AvailabilityZone ?? '',
      ...(subnet.AvailabilityZoneId ? { availabilityZoneId: subnet.AvailabilityZoneId } : {}),
      cidrBlock: subnet.CidrBlock ?? '',
      ...(ipv6.length > 0 ? { ipv6CidrBlocks: ipv6 } : {}),
      ...(subnet.Ipv6Native === true ? { ipv6Native: true } : {}),
      ...(subnet.EnableDns64 === true ? { dns64: true } : {}),
      ...(subnet.OwnerId ? { ownerId: subnet.OwnerId } : {}),
    },
  ];
}

const LIVE_BLOCK_STATES = new Set(['associated', 'associating']);

export interface VpcRecord {
  readonly vpc: Vpc;
  /** `default` when the VPC has no DHCP option set. */
  readonly dhcpOptionsId: string | undefined;
}

export async function describeVpcs(ctx: DiscoveryContext, vpcIds: readonly string[]): Promise<VpcRecord[]> {
  const { ec2 } = ctx.clients;
  return describeByFilter(ctx, 'ec2:DescribeVpcs', 'vpc-id', vpcIds, [], async (Filters, NextToken) => {
    const page = await ec2.send(new DescribeVpcsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }));
    return {
      items: (page.Vpcs ?? []).flatMap((vpc): VpcRecord[] => {
        if (!vpc.VpcId) return [];
        const associated = (vpc.CidrBlockAssociationSet ?? [])
          .filter((association) => association.CidrBlockState?.State === 'associated')
          .map((association) => association.CidrBlock);
        const cidrBlocks = distinct([vpc.CidrBlock, ...associated].filter((cidr) => cidr !== undefined));
        const ipv6 = (vpc.Ipv6CidrBlockAssociationSet ?? [])
          .filter((block) => LIVE_BLOCK_STATES.has(block.Ipv6CidrBlockState?.State ?? 'associated'))
          .flatMap((block) => block.Ipv6CidrBlock ?? []);
        return [
          {
            vpc: {
              vpcId: vpc.VpcId,
              cidrBlocks,
              ...(ipv6.length > 0 ? { ipv6CidrBlocks: ipv6 } : {}),
              ...(vpc.OwnerId ? { ownerId: vpc.OwnerId } : {}),
              tags: tagsOf(vpc.Tags),
            },
            dhcpOptionsId: vpc.DhcpOptionsId,
          },
        ];
      }),
      nextToken: page.NextToken,
    };
  });
}

const AMAZON_PROVIDED_DNS: readonly string[] = ['AmazonProvidedDNS'];

/**
 * DNS facts of the given VPCs. `enableDnsSupport` and `enableDnsHostnames` have no batch API:
 * DescribeVpcAttribute takes one VPC and one attribute, so two calls per VPC (a few VPCs at a time).
 * DHCP option sets are read in one batch for all distinct ids.
 */
export async function describeDns(
  ctx: DiscoveryContext,
  vpcs: readonly VpcRecord[],
): Promise<Map<string, VpcDns>> {
  const { ec2 } = ctx.clients;
  const dhcpIds = distinct(
    vpcs.flatMap((record) =>
      record.dhcpOptionsId && record.dhcpOptionsId !== 'default' ? [record.dhcpOptionsId] : [],
    ),
  );
  const [attributes, dhcpServers] = await Promise.all([
    mapConcurrent(vpcs, REQUEST_CONCURRENCY, async ({ vpc }) => {
      const [support, hostnames] = await Promise.all(
        (['enableDnsSupport', 'enableDnsHostnames'] as const).map((Attribute) =>
          ctx.call('ec2:DescribeVpcAttribute', () =>
            ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.vpcId, Attribute })),
          ),
        ),
      );
      return {
        support: support?.EnableDnsSupport?.Value === true,
        hostnames: hostnames?.EnableDnsHostnames?.Value === true,
      };
    }),
    describeByFilter(
      ctx,
      'ec2:DescribeDhcpOptions',
      'dhcp-options-id',
      dhcpIds,
      [],
      async (Filters, NextToken) => {
        const page = await ec2.send(
          new DescribeDhcpOptionsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
        );
        return {
          items: (page.DhcpOptions ?? []).map((options) => {
            const servers = (options.DhcpConfigurations ?? [])
              .filter((configuration) => configuration.Key === 'domain-name-servers')
              .flatMap((configuration) => configuration.Values ?? [])
              .map((value) => value.Value)
              .filter((value) => value !== undefined);
            return [options.DhcpOptionsId ?? '', servers] as [string, string[]];
          }),
          nextToken: page.NextToken,
        };
      },
    ),
  ]);
  const serversById = new Map(dhcpServers);
  const dns = new Map<string, VpcDns>();
  vpcs.forEach((record, index) => {
    const servers = record.dhcpOptionsId === undefined ? undefined : serversById.get(record.dhcpOptionsId);
    const attribute = attributes[index] ?? { support: false, hostnames: false };
    dns.set(record.vpc.vpcId, {
      ...attribute,
      dhcpDnsServers: servers && servers.length > 0 ? servers : AMAZON_PROVIDED_DNS,
    });
  });
  return dns;
}
