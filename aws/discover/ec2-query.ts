/**
 * Shared shapes of EC2 reads: page sizes, filter limits, tags, and the chunked filter query.
 */
import type { Filter, Tag } from '@aws-sdk/client-ec2';
import type { Tags } from '../../core/model.ts';
import { chunk, collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { Page } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY } from './context.ts';

/** EC2 accepts up to 200 values in one filter. */
export const FILTER_VALUES_MAX = 200;
/** The usual EC2 page maximum (DescribeSubnets, DescribeVpcs, DescribeSecurityGroups, DescribeDhcpOptions, …). */
export const EC2_PAGE_MAX = 1000;

export function tagsOf(tags: readonly Tag[] | undefined): Tags {
  const map: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) map[tag.Key] = tag.Value ?? '';
  return map;
}

/**
 * Reads every item matching `filterName` ∈ `values` (plus `extraFilters`): one paged query per chunk
 * of {@link FILTER_VALUES_MAX} values, chunks a few at a time. No values, no call.
 */
export async function describeByFilter<T>(
  ctx: DiscoveryContext,
  operation: string,
  filterName: string,
  values: readonly string[],
  extraFilters: readonly Filter[],
  fetchPage: (filters: Filter[], nextToken: string | undefined) => Promise<Page<T>>,
): Promise<T[]> {
  const chunks = chunk(distinct(values), FILTER_VALUES_MAX);
  const results = await mapConcurrent(chunks, REQUEST_CONCURRENCY, (chunkValues) =>
    collectPages((nextToken) =>
      ctx.call(operation, () =>
        fetchPage([{ Name: filterName, Values: chunkValues }, ...extraFilters], nextToken),
      ),
    ),
  );
  return results.flat();
}
