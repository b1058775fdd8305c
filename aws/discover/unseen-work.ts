/**
 * Before a split sweep's reclaim step deletes (aws/units/reclaim-unit.ts): is there ECS work in those
 * VPCs that the step did not read? The step reads each VPC with the clusters the run's index placed
 * there, as the index shards found them, maybe an hour before; work an existing cluster started there
 * since would be missed, and the events that announce it are delivered at least once but with no bound
 * on their delay, or on a best-effort basis (EventBridge, "Event delivery from AWS services"). So,
 * only when the step is about to delete, it looks at the VPCs themselves, as a whole-Region sweep's
 * reads would have found such work:
 *
 * - awsvpc tasks (Fargate, and EC2 in awsvpc mode): each has a network interface in its subnet whose
 *   description is its ECS attachment (`arn:aws:ecs:<region>:<account>:attachment/<id>`); one that is
 *   no task the step read belongs to work it did not read (one paged `DescribeNetworkInterfaces`
 *   filtered by the VPCs and that description);
 * - EC2 capacity: a container instance in the VPCs of a cluster the step did not read (one
 *   `ListContainerInstances` per such cluster, filtered by the built-in attribute `ecs.vpc-id`, after
 *   one `ListClusters` pass).
 */
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { chunk, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { CLUSTER_CONCURRENCY } from './context.ts';
import { EC2_PAGE_MAX, describeByFilter } from './ec2-query.ts';
import { listClusterArns } from './ecs.ts';

/** VPC ids per cluster query expression (as aws/discover/ecs.ts filters container instances). */
const VPC_FILTER_VALUES = 20;

/**
 * What ECS work in `vpcIds` the step did not read, described; undefined when there is none.
 * `readClusterArns`: the clusters the step read; `readTaskInterfaces`: its tasks' network interfaces.
 * Throws on an AWS error (the step is retried; nothing was deleted).
 */
export async function unseenEcsWork(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
  readClusterArns: readonly string[],
  readTaskInterfaces: ReadonlySet<string>,
): Promise<string | undefined> {
  if (vpcIds.length === 0) return undefined;
  const interfaces = await describeByFilter(
    ctx,
    'ec2:DescribeNetworkInterfaces',
    'vpc-id',
    vpcIds,
    [{ Name: 'description', Values: ['arn:aws:ecs:*:attachment/*', 'arn:aws-*:ecs:*:attachment/*'] }],
    async (Filters, NextToken) => {
      const page = await ctx.clients.ec2.send(
        new DescribeNetworkInterfacesCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
      );
      return {
        items: (page.NetworkInterfaces ?? []).map((eni) => ({
          id: eni.NetworkInterfaceId ?? '',
          vpcId: eni.VpcId ?? '',
        })),
        nextToken: page.NextToken,
      };
    },
  );
  const strange = interfaces.find((eni) => !readTaskInterfaces.has(eni.id));
  if (strange !== undefined)
    return `${strange.id} in ${strange.vpcId}, an ECS task's network interface, is of no task this step read`;
  const read = new Set(readClusterArns);
  const others = (await listClusterArns(ctx)).filter((arn) => !read.has(arn));
  const filters = chunk([...vpcIds].sort(), VPC_FILTER_VALUES).map(
    (ids) => `attribute:ecs.vpc-id in [${ids.join(', ')}]`,
  );
  const found = await mapConcurrent(others, CLUSTER_CONCURRENCY, async (cluster) => {
    for (const filter of filters) {
      const page = await ctx.call('ecs:ListContainerInstances', () =>
        ctx.clients.ecs.send(new ListContainerInstancesCommand({ cluster, filter, maxResults: 1 })),
      );
      if ((page.containerInstanceArns ?? []).length > 0) return cluster;
    }
    return undefined;
  });
  const cluster = found.find((arn) => arn !== undefined);
  return cluster === undefined
    ? undefined
    : `${cluster}, a cluster this step did not read, has container instances in ${vpcIds.join(', ')}`;
}
