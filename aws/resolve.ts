/**
 * Turns the ids an event names into the VPCs to reconcile, against the live account: the event is a
 * hint, and a delete event names endpoint ids only. DescribeVpcEndpoints still lists a deleted
 * endpoint (state `deleted`) for a while; when an id is not found at all, the VPC cannot be known and
 * the whole Region is reconciled instead.
 */
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { HintTargets } from '../core/events.ts';
import { chunk, collectPages } from './pagination.ts';

export type Resolution =
  | { readonly whole: false; readonly vpcIds: readonly string[] }
  | { readonly whole: true; readonly reason: string };

/** Filter values per request: EC2 accepts up to 200 values a filter. */
const FILTER_VALUES = 200;

async function lookup<T>(
  ids: readonly string[],
  fetch: (
    ids: string[],
    nextToken: string | undefined,
  ) => Promise<{ items: T[] | undefined; nextToken: string | undefined }>,
  idOf: (item: T) => string | undefined,
  vpcOf: (item: T) => string | undefined,
): Promise<{ vpcIds: string[]; missing: string[] }> {
  const vpcIds = new Set<string>();
  const found = new Set<string>();
  for (const batch of chunk(ids, FILTER_VALUES)) {
    const items = await collectPages((token) => fetch(batch, token));
    for (const item of items) {
      const id = idOf(item);
      const vpc = vpcOf(item);
      if (id) found.add(id);
      if (vpc) vpcIds.add(vpc);
    }
  }
  return { vpcIds: [...vpcIds], missing: ids.filter((id) => !found.has(id)) };
}

/** The VPCs behind `targets`, or the whole Region when some id no longer exists. */
export async function resolveTargets(ec2: EC2Client, targets: HintTargets): Promise<Resolution> {
  const vpcIds = new Set(targets.vpcIds);
  const missing: string[] = [];
  const merge = (result: { vpcIds: string[]; missing: string[] }) => {
    for (const id of result.vpcIds) vpcIds.add(id);
    missing.push(...result.missing);
  };
  if (targets.vpcEndpointIds.length > 0) {
    merge(
      await lookup(
        targets.vpcEndpointIds,
        async (ids, NextToken) => {
          const out = await ec2.send(
            new DescribeVpcEndpointsCommand({
              Filters: [{ Name: 'vpc-endpoint-id', Values: ids }],
              MaxResults: 1000,
              NextToken,
            }),
          );
          return { items: out.VpcEndpoints, nextToken: out.NextToken };
        },
        (e) => e.VpcEndpointId,
        (e) => e.VpcId,
      ),
    );
  }
  if (targets.securityGroupIds.length > 0) {
    merge(
      await lookup(
        targets.securityGroupIds,
        async (ids, NextToken) => {
          const out = await ec2.send(
            new DescribeSecurityGroupsCommand({
              Filters: [{ Name: 'group-id', Values: ids }],
              MaxResults: 1000,
              NextToken,
            }),
          );
          return { items: out.SecurityGroups, nextToken: out.NextToken };
        },
        (g) => g.GroupId,
        (g) => g.VpcId,
      ),
    );
  }
  if (targets.subnetIds.length > 0) {
    merge(
      await lookup(
        targets.subnetIds,
        async (ids, NextToken) => {
          const out = await ec2.send(
            new DescribeSubnetsCommand({
              Filters: [{ Name: 'subnet-id', Values: ids }],
              MaxResults: 1000,
              NextToken,
            }),
          );
          return { items: out.Subnets, nextToken: out.NextToken };
        },
        (s) => s.SubnetId,
        (s) => s.VpcId,
      ),
    );
  }
  if (missing.length > 0) return { whole: true, reason: `not found: ${missing.join(', ')}` };
  return { whole: false, vpcIds: [...vpcIds].sort() };
}
