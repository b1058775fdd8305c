/**
 * Which subnets of the given VPCs this account shares with other accounts through AWS RAM (VPC
 * sharing: the owner keeps the VPC and its endpoints, participants run their work in its subnets).
 * The owner cannot see that work, so an endpoint of such a VPC is never judged unused from here
 * (core/checks.ts). One paged ListResources (resourceOwner SELF, resourceType ec2:Subnet) per Region.
 */
import type { SharedSubnet, Subnet } from '../../core/model.ts';
import { collectPages } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { isDegradable } from './context.ts';
import { describeSubnetsById } from './vpcs.ts';

const OPERATION = 'ram:ListResources';
/** ListResources returns at most 500 resources a page. */
const PAGE_MAX = 500;

/**
 * The subnets of `vpcIds` this account shares (`known`: subnets already read, to learn their VPCs;
 * others are read by id). Refused (access denied), the read is recorded as skipped and undefined
 * returned: whether the VPCs have participants cannot be known.
 */
export async function describeSharedSubnets(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
  known: readonly Subnet[],
): Promise<SharedSubnet[] | undefined> {
  if (vpcIds.length === 0) return [];
  try {
    const resources = await collectPages(async (nextToken: string | undefined) => {
      const page = await ctx.call(OPERATION, () =>
        ctx.clients.ram.listResources({
          resourceOwner: 'SELF',
          resourceType: 'ec2:Subnet',
          maxResults: PAGE_MAX,
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      );
      return { items: page.resources ?? [], nextToken: page.nextToken };
    });
    // arn:<partition>:ec2:<region>:<account>:subnet/<subnet id>, of this Region only.
    const shares = resources.flatMap((resource) => {
      const match = /^arn:[^:]+:ec2:([^:]*):\d*:subnet\/(subnet-[0-9a-f]+)$/.exec(resource.arn ?? '');
      return match?.[1] === ctx.region && match[2] && resource.resourceShareArn
        ? [{ subnetId: match[2], resourceShareArn: resource.resourceShareArn }]
        : [];
    });
    const vpcOf = new Map(known.map((subnet) => [subnet.subnetId, subnet.vpcId]));
    const unknown = [...new Set(shares.map((share) => share.subnetId))].filter((id) => !vpcOf.has(id));
    if (unknown.length > 0)
      for (const subnet of await describeSubnetsById(ctx, unknown)) vpcOf.set(subnet.subnetId, subnet.vpcId);
    const wanted = new Set(vpcIds);
    const shared = shares.flatMap((share) => {
      const vpcId = vpcOf.get(share.subnetId);
      return vpcId !== undefined && wanted.has(vpcId) ? [{ ...share, vpcId }] : [];
    });
    ctx.progress(
      `ram: ${shares.length} subnets shared with other accounts, ${shared.length} in the VPCs weighed`,
    );
    return shared;
  } catch (error) {
    if (!isDegradable(error)) throw error;
    ctx.skip(OPERATION, error);
    return undefined;
  }
}
