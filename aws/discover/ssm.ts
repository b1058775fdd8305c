/**
 * SSM's view of the container instances that may need an agent restart or update: whether each is
 * managed and online, and its platform (the restart method depends on it).
 */
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import type { InstanceInformation } from '@aws-sdk/client-ssm';
import type { SsmManagedInstance } from '../../core/model.ts';
import { chunk, collectPages, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY } from './context.ts';

/** DescribeInstanceInformation returns at most 50 a page; one page per 50 ids. */
const SSM_PAGE_MAX = 50;

const OPERATION = 'ssm:DescribeInstanceInformation';

/**
 * Only restarts and agent updates need SSM's facts: a refused read is skipped (core then reports the
 * restart blocked on SSM's facts instead of calling the instances unreachable).
 */
export async function describeManagedInstances(
  ctx: DiscoveryContext,
  instanceIds: readonly string[],
): Promise<SsmManagedInstance[]> {
  const pages = await ctx.optional(
    OPERATION,
    undefined,
    () =>
      mapConcurrent(chunk(instanceIds, SSM_PAGE_MAX), REQUEST_CONCURRENCY, (ids) =>
        collectPages<InstanceInformation>(async (nextToken) => {
          const response = await ctx.call(OPERATION, () =>
            ctx.clients.ssm.send(
              new DescribeInstanceInformationCommand({
                Filters: [{ Key: 'InstanceIds', Values: ids }],
                MaxResults: SSM_PAGE_MAX,
                NextToken: nextToken,
              }),
            ),
          );
          return { items: response.InstanceInformationList ?? [], nextToken: response.NextToken };
        }),
      ),
    [],
  );
  const managed = pages.flat().map((info): SsmManagedInstance => ({
    instanceId: info.InstanceId ?? '',
    pingStatus: info.PingStatus ?? 'Unknown',
    ...(info.PlatformType ? { platformType: info.PlatformType } : {}),
    ...(info.PlatformName ? { platformName: info.PlatformName } : {}),
    ...(info.PlatformVersion ? { platformVersion: info.PlatformVersion } : {}),
  }));
  ctx.progress(`ssm: ${managed.length} of ${instanceIds.length} container instances managed by SSM`);
  return managed;
}
