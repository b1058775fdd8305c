/**
 * The entries of the managed prefix lists that security group rules refer to: a rule from a
 * customer-managed prefix list admits the CIDRs in it. AWS-managed lists (service ranges, such as
 * `com.amazonaws.<region>.s3`) hold no workload subnet, so their entries are not read.
 */
import { DescribeManagedPrefixListsCommand, GetManagedPrefixListEntriesCommand } from '@aws-sdk/client-ec2';
import type { PrefixList } from '../../core/model.ts';
import { collectPages, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY, isDegradable } from './context.ts';
import { EC2_PAGE_MAX, describeByFilter } from './ec2-query.ts';

/** GetManagedPrefixListEntries returns at most 100 entries a page. */
const ENTRIES_PAGE_MAX = 100;

/**
 * The customer-managed lists among `ids`, with their entries. A list AWS does not let this account
 * read is recorded as a skipped read naming it, so the rules that use it are `unknown`, not refused.
 */
export async function describePrefixLists(
  ctx: DiscoveryContext,
  ids: readonly string[],
): Promise<PrefixList[]> {
  if (ids.length === 0) return [];
  const { ec2 } = ctx.clients;
  const operation = 'ec2:DescribeManagedPrefixLists';
  let owners: Array<{ id: string; ownerId: string }>;
  try {
    owners = await describeByFilter(ctx, operation, 'prefix-list-id', ids, [], async (Filters, NextToken) => {
      const page = await ec2.send(
        new DescribeManagedPrefixListsCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
      );
      return {
        items: (page.PrefixLists ?? []).flatMap((list) =>
          list.PrefixListId ? [{ id: list.PrefixListId, ownerId: list.OwnerId ?? '' }] : [],
        ),
        nextToken: page.NextToken,
      };
    });
  } catch (error) {
    if (!isDegradable(error)) throw error;
    for (const id of ids) ctx.skip(operation, error, id);
    return [];
  }
  const customer = owners.filter((list) => list.ownerId !== 'AWS');
  const lists = await mapConcurrent(customer, REQUEST_CONCURRENCY, async ({ id, ownerId }) => {
    const entries = await ctx.optional(
      'ec2:GetManagedPrefixListEntries',
      id,
      () =>
        collectPages(async (NextToken) => {
          const page = await ctx.call('ec2:GetManagedPrefixListEntries', () =>
            ec2.send(
              new GetManagedPrefixListEntriesCommand({
                PrefixListId: id,
                MaxResults: ENTRIES_PAGE_MAX,
                NextToken,
              }),
            ),
          );
          return {
            items: (page.Entries ?? []).flatMap((entry) => entry.Cidr ?? []),
            nextToken: page.NextToken,
          };
        }),
      undefined,
    );
    return entries === undefined
      ? []
      : [{ prefixListId: id, cidrs: entries, ...(ownerId ? { ownerId } : {}) }];
  });
  ctx.progress(`ec2: ${customer.length} customer-managed prefix lists of ${ids.length} referenced`);
  return lists.flat();
}
