/**
 * The EC2 instances behind container instances.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Instance } from '../../core/model.ts';
import { chunk, collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { DiscoveryError, REQUEST_CONCURRENCY } from './context.ts';

/** DescribeInstances takes up to 1000 InstanceIds (and no MaxResults alongside them). */
const INSTANCE_IDS_MAX = 1000;

/**
 * The EC2 instances behind container instances, by id, up to 1000 ids a call. An id that no longer
 * exists fails the whole call (`InvalidInstanceID.NotFound` naming the ids): those ids are dropped and
 * the call repeated. Ids that are not EC2 instances (`mi-…` of ECS Anywhere) are skipped.
 */
export async function describeInstances(
  ctx: DiscoveryContext,
  instanceIds: readonly string[],
): Promise<Ec2Instance[]> {
  const ids = distinct(instanceIds).filter((id) => id.startsWith('i-'));
  const perChunk = await mapConcurrent(chunk(ids, INSTANCE_IDS_MAX), REQUEST_CONCURRENCY, (chunkIds) =>
    describeInstanceChunk(ctx, chunkIds),
  );
  const instances = perChunk.flat();
  ctx.progress(`ec2: ${instances.length} instances behind container instances`);
  return instances;
}

async function describeInstanceChunk(ctx: DiscoveryContext, ids: readonly string[]): Promise<Ec2Instance[]> {
  const { ec2 } = ctx.clients;
  let remaining = [...ids];
  for (;;) {
    if (remaining.length === 0) return [];
    const request = remaining;
    try {
      const instances = await collectPages(async (NextToken) => {
        const page = await ctx.call('ec2:DescribeInstances', () =>
          ec2.send(new DescribeInstancesCommand({ InstanceIds: request, NextToken })),
        );
        return {
          items: (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []),
          nextToken: page.NextToken,
        };
      });
      return instances.flatMap((instance): Ec2Instance[] => {
        if (!instance.InstanceId || !instance.VpcId || !instance.SubnetId) return [];
        return [
          {
            instanceId: instance.InstanceId,
            vpcId: instance.VpcId,
            subnetId: instance.SubnetId,
            availabilityZone: instance.Placement?.AvailabilityZone ?? '',
            securityGroupIds: (instance.SecurityGroups ?? [])
              .map((group) => group.GroupId)
              .filter((id) => id !== undefined),
            state: instance.State?.Name ?? 'unknown',
          },
        ];
      });
    } catch (error) {
      if (!(error instanceof DiscoveryError) || error.code !== 'InvalidInstanceID.NotFound') throw error;
      const missing = new Set(
        String((error.cause as Error | undefined)?.message).match(/\bi-[0-9a-f]+\b/g) ?? [],
      );
      const next = remaining.filter((id) => !missing.has(id));
      if (next.length === remaining.length) throw error;
      ctx.progress(`ec2: instances gone: ${[...missing].join(', ')}`);
      remaining = next;
    }
  }
}
