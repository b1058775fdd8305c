/**
 * The reclaim unit of a split sweep (core/units.ts; docs/architecture.md, "Reclaiming unneeded
 * endpoints"): what it reads again, and the clocks it stops when done.
 *
 * A plan unit reads only its VPCs, so none of them may count toward the reclaim's grace period. Once
 * every plan unit is in, the run has seen every VPC with ECS work, and each step has noted the VPCs
 * where it saw owned endpoints serve no need and any gap in its view (aws/units/run-store.ts). The
 * reclaim unit reads those VPCs again, with the VPCs that hold the remediator's endpoints but no ECS
 * work (which no plan unit reads), and counts for them when the run saw no gap: the only deletes of a
 * split sweep are judged on a fresh read of the endpoint's VPC, like a whole-Region sweep's.
 */
import { isChecked } from '../../core/config.ts';
import { skippedReadGap } from '../../core/reclaim.ts';
import type { ReclaimUnit } from '../../core/units.ts';
import { reclaimUnit } from '../../core/units.ts';
import { mergeEntries } from '../discover/cluster-index.ts';
import { createContext } from '../discover/context.ts';
import { listClusterArns } from '../discover/ecs.ts';
import { describeTaggedEndpoints } from '../discover/endpoints.ts';
import type { RemediatorDeps } from '../event-reconcile.ts';
import type { RunStore } from './run-store.ts';

/** What the run's reclaim unit is to read, and what keeps the run from counting, if anything. */
export interface ReclaimPreparation {
  /** Undefined: nothing to read again (the run finishes at once). */
  readonly unit: ReclaimUnit | undefined;
  /** A gap this preparation found (noted for the run by the caller). */
  readonly gap?: string;
}

/**
 * The reclaim unit of a run whose plan units are all done: the VPCs its plan units noted with
 * unneeded owned endpoints (with the reclaim on), each with its clusters from the merged index, and the VPCs holding the
 * remediator's tagged endpoints without ECS work (one `DescribeVpcEndpoints` by the managed tag, as a
 * whole-Region discovery lists them; refused, a gap). Each VPC is also read with the clusters made
 * since the split (listed once: nobody knows yet where they work).
 */
export async function prepareReclaim(
  deps: Pick<RemediatorDeps, 'config' | 'pool' | 'log'>,
  runs: RunStore,
  runId: string,
  region: string,
): Promise<ReclaimPreparation> {
  const notes = await runs.loadNotes(runId, region);
  const merged = mergeEntries(await runs.loadShards(runId, region));
  const ctx = createContext(deps.pool.clientsFor(region), region, (message) => {
    deps.log(message, { region, runId });
  });
  const tagged = isChecked(deps.config, 'ENDPOINT_UNUSED')
    ? await ctx.optional('ec2:DescribeVpcEndpoints', undefined, () => describeTaggedEndpoints(ctx), [])
    : [];
  const readAgain: Record<string, readonly string[]> = {};
  // With the reclaim off nothing counts: the plan units reported those VPCs' endpoints already.
  if (deps.config.remediation.reclaimUnusedOwnedEndpointsAfterDays !== undefined)
    for (const vpcId of notes.unusedVpcIds) readAgain[vpcId] = merged[vpcId] ?? [];
  // VPCs holding the remediator's endpoints that no plan step examined: without ECS work per the
  // index, or indexed but without live work when their step read them (a stopped host).
  const unexamined = new Set(notes.unexaminedVpcIds);
  for (const endpoint of tagged)
    if (
      endpoint.state !== 'deleting' &&
      (merged[endpoint.vpcId] === undefined || unexamined.has(endpoint.vpcId))
    )
      readAgain[endpoint.vpcId] = merged[endpoint.vpcId] ?? [];
  const total = Object.keys(readAgain).length;
  if (total === 0) return { unit: undefined, ...gapOf(ctx.skipped[0] && skippedReadGap(ctx.skipped[0])) };
  const known = new Set(await runs.loadShardClusters(runId, region));
  const newClusters = (await listClusterArns(ctx)).filter((arn) => !known.has(arn));
  const unit = reclaimUnit(runId, readAgain, newClusters);
  const left = total - (unit?.vpcIds.length ?? 0);
  const gap =
    ctx.skipped[0] !== undefined
      ? skippedReadGap(ctx.skipped[0])
      : left > 0
        ? `${left} of ${total} VPCs to read again for the reclaim did not fit one reclaim unit`
        : undefined;
  return { unit, ...gapOf(gap) };
}

/** `{ gap }`, or nothing when there is none (optional fields stay absent). */
export const gapOf = (gap: string | undefined): { gap?: string } => (gap === undefined ? {} : { gap });

/**
 * The clocks the reclaim unit's steps did not read the VPCs of, once it is done: a run that saw no gap
 * saw them needed, or their endpoints gone, so they stop (as a counting whole-Region sweep stops every
 * clock it did not report unneeded); a run with a gap leaves them (a partial view only stops the
 * clocks of what it examined). With the reclaim off, every clock stops. Returns the clocks stopped.
 */
export async function stopUnreadClocks(
  deps: Pick<RemediatorDeps, 'config' | 'reclaim' | 'log'>,
  region: string,
  readAgain: readonly string[],
  gap: string | undefined,
): Promise<number> {
  if (!deps.reclaim) return 0;
  const enabled = deps.config.remediation.reclaimUnusedOwnedEndpointsAfterDays !== undefined;
  if (enabled && gap !== undefined) return 0;
  const read = new Set(readAgain);
  const stop = (await deps.reclaim.load(region)).filter((entry) => !enabled || !read.has(entry.vpcId));
  if (stop.length === 0) return 0;
  await deps.reclaim.save(region, [], stop);
  deps.log('reclaim clock', { region, started: [], stopped: stop.map((entry) => entry.vpcEndpointId) });
  return stop.length;
}
