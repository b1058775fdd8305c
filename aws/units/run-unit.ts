/**
 * Split sweeps, run (core/units.ts has the split; docs/architecture.md, "Work units"):
 *
 * - {@link splitRegion}: a whole-Region reconcile of a Region too large for one invocation becomes a
 *   run: its clusters are recorded and one index shard per slice of them is sent to the events queue;
 * - {@link runUnit} of an index shard: reads where its clusters work and records it; the shard that
 *   completes the set merges the entries into the Region's cluster index and sends the plan units;
 * - {@link runUnit} of a plan unit: reconciles its VPCs (with every cluster working there) in steps,
 *   looking at the time left before each; short of time, it sends itself on from the next VPC (its
 *   checkpoint) instead of failing; each step notes for the run the VPCs where it saw owned endpoints
 *   unneeded, and any gap in its view; the unit that completes the set sends the reclaim unit;
 * - {@link runUnit} of the reclaim unit (aws/units/reclaim-unit.ts): reads those VPCs again, and those
 *   holding the remediator's endpoints without ECS work, in steps like a plan unit's, counting toward
 *   the reclaim when the run saw no gap; done, it stops the clocks of the VPCs it did not read, retires
 *   the open findings of VPCs that no longer host ECS work, as a whole-Region reconcile would, and
 *   frees the Region.
 *
 * Every unit draws from the run's ledger for the run-wide caps. Units of a Region run one at a time
 * (the Region's lease, aws/event-batch.ts); a unit's failure retries only its own message.
 */
import type { RegionWork, UnitWork } from '../../core/events.ts';
import { buildPlan } from '../../core/plan.ts';
import { reportedUnused } from '../../core/reclaim.ts';
import type { IndexShard, VpcUnit, WorkUnit } from '../../core/units.ts';
import { indexShards, needsSplit, nextStep, planUnits, unitId, workUnitBody } from '../../core/units.ts';
import { eventKeyId } from '../state.ts';
import { mergeEntries } from '../discover/cluster-index.ts';
import { discoverClusterPlaces } from '../discover.ts';
import { createContext } from '../discover/context.ts';
import { listClusterArns } from '../discover/ecs.ts';
import { errorMessage, errorName } from '../errors.ts';
import type { EventQueues } from '../event-queue.ts';
import type { RegionOutcome, RegionReads, RemediatorDeps, RunLedger } from '../event-reconcile.ts';
import { reconcileRegionWork, rememberAndAlert } from '../event-reconcile.ts';
import { gapOf, prepareReclaim, stopUnreadClocks } from './reclaim-unit.ts';
import type { RunStore, StepNote } from './run-store.ts';

/** What running units needs beyond a reconcile's dependencies. */
export interface UnitDeps extends RemediatorDeps {
  readonly runs?: RunStore;
  readonly queues?: EventQueues;
}

/** What became of one unit. */
export interface UnitOutcome {
  readonly region: string;
  readonly unit: WorkUnit;
  /** The reconciles of a plan or reclaim unit's steps (none for an index shard). */
  readonly outcomes: readonly RegionOutcome[];
  /**
   * Units sent on: the plan units (by the shard completing the index), the reclaim unit (by the plan
   * unit completing the set), or this unit's rest.
   */
  readonly sent: number;
  /** A plan or reclaim unit stopped short of time: the VPC its rest starts at. */
  readonly checkpoint?: number;
}

/** A split Region: its run, and the index shards sent. */
export interface SplitOutcome {
  readonly region: string;
  readonly runId: string;
  readonly shards: number;
  /** Not split again: the run under way, which the work is left to. */
  readonly leftTo?: string;
}

/**
 * How long a run may hold its Region without progress (a unit done, a checkpoint sent) before a sweep
 * takes over: a run that will never finish. Longer than a unit's retry after a failure (the queue's
 * 1,800 s visibility timeout) plus its own run; a large Region's run may take longer in all.
 */
export const RUN_STALE_SECONDS = 3600;

/**
 * Splits a whole-Region reconcile into a run of units when the Region is larger than one unit
 * (config `workUnits`: its clusters, listed, or the VPCs of the stored cluster index). Not split
 * (reconcile it whole): `split` is absent, and `reads` hands what deciding read (the index, the
 * clusters listed) to that reconcile, which then reads neither again. While another run of the
 * Region is under way, the work is left to that run (`leftTo`). Throws when the shards cannot all be
 * sent (the events are retried; shards sent before are the same occurrence).
 */
export async function splitRegion(
  work: Extract<RegionWork, { whole: true }>,
  deps: UnitDeps,
  runId: string,
): Promise<{ readonly split: SplitOutcome } | { readonly split?: undefined; readonly reads?: RegionReads }> {
  const { runs, queues } = deps;
  if (!runs || !queues) return {};
  const { region } = work;
  const sizes = deps.config.workUnits;
  const index = await deps.state.loadClusterIndex(region);
  // Every cluster costs reads, with work or without: the split is decided on the listed ones.
  const clusters = await listClusterArns(createContext(deps.pool.clientsFor(region), region));
  if (!needsSplit(clusters.length, index ? Object.keys(index.vpcs).length : 0, sizes))
    return { reads: { index, clusterArns: clusters } };
  const startedAt = deps.now();
  const claim = await runs.claimRegion(runId, region, startedAt, RUN_STALE_SECONDS);
  if (!claim.granted) {
    deps.log('region split into work units already: this reconcile leaves it to the run under way', {
      region,
      runId: claim.runId,
      startedAt: claim.startedAt,
    });
    return { split: { region, runId: claim.runId, shards: 0, leftTo: claim.runId } };
  }
  const planned = indexShards(runId, clusters, sizes).map((shard) => shard.clusterArns);
  const recorded = await runs.startRun(runId, region, planned, startedAt);
  const shards: IndexShard[] = recorded.map((clusterArns, part) => ({
    phase: 'index',
    runId,
    part,
    parts: recorded.length,
    clusterArns,
  }));
  await openRunLedger(deps, runs, runId);
  await send(deps, queues, region, shards);
  deps.log('region split into work units', {
    region,
    runId,
    clusters: clusters.length,
    shards: shards.length,
  });
  return { split: { region, runId, shards: shards.length } };
}

/**
 * The run a whole-Region reconcile belongs to: the sweep it carries (a sweep's Regions share the run,
 * and a retried sweep resumes it, whatever other events share its batch), else its first event.
 * Bounded like an event's key (aws/state.ts `eventKeyId`).
 */
export function runIdOf(work: RegionWork, isSweep: (eventId: string) => boolean): string {
  const ids = [...work.eventIds].sort();
  return eventKeyId(ids.find(isSweep) ?? ids[0] ?? work.region);
}

/**
 * The ledger of a run's caps, opened (with the config's `limits`) unless open already: every Region a
 * sweep reconciles whole, and every unit of a split one, draws from it, so the caps hold "over all
 * Regions" across invocations.
 */
export async function openRunLedger(
  deps: Pick<UnitDeps, 'config'>,
  runs: RunStore,
  runId: string,
): Promise<RunLedger> {
  const budget = deps.config.limits.maxAddedMonthlyCostUsdPerRun;
  await runs.openLedger(runId, {
    endpoints: deps.config.limits.maxEndpointsCreatedPerRun,
    actions: deps.config.limits.maxActionsPerRun,
    ...(budget === undefined ? {} : { costCents: Math.round(budget * 100) }),
  });
  return ledgerOf(runs, runId);
}

function ledgerOf(runs: RunStore, runId: string): RunLedger {
  return { balance: () => runs.balance(runId), take: (amount) => runs.take(runId, amount) };
}

/**
 * Runs one unit. `hasTime` says whether the invocation has time for another step of a plan unit.
 * Throws on an AWS or state table error: the unit's message alone is retried.
 */
export async function runUnit(work: UnitWork, deps: UnitDeps, hasTime: () => boolean): Promise<UnitOutcome> {
  const { runs, queues } = deps;
  if (!runs || !queues) throw new Error('work units need the state table and the events queue');
  return work.unit.phase === 'index'
    ? runIndexShard(work.region, work.unit, deps, runs, queues)
    : runVpcUnit(work, work.unit, deps, runs, queues, hasTime);
}

async function runIndexShard(
  region: string,
  shard: IndexShard,
  deps: UnitDeps,
  runs: RunStore,
  queues: EventQueues,
): Promise<UnitOutcome> {
  const entries = await discoverClusterPlaces(
    deps.pool.clientsFor(region),
    region,
    shard.clusterArns,
    (m) => {
      deps.log(m, { region, unit: unitId(region, shard) });
    },
  );
  await runs.saveShard(shard.runId, region, shard.part, entries);
  const { done, parts } = await runs.markShardDone(shard.runId, region, shard.part);
  await runs.progress(shard.runId, region, deps.now());
  deps.log('index shard done', { region, runId: shard.runId, part: shard.part, done, parts });
  if (done < parts) return { region, unit: shard, outcomes: [], sent: 0 };
  // The last shard in: the merged index is the Region's, and the plan units go out.
  const merged = mergeEntries(await runs.loadShards(shard.runId, region));
  try {
    const previous = await deps.state.loadClusterIndex(region);
    await deps.state.saveClusterIndex(region, merged, previous);
  } catch (error) {
    // The units carry their clusters; the index only narrows event-scoped reconciles.
    deps.log('cluster index not saved: the units carry their clusters', {
      region,
      error: errorName(error),
      message: errorMessage(error),
    });
  }
  const units = planUnits(shard.runId, merged, deps.config.workUnits);
  await runs.recordPlan(shard.runId, region, units.length);
  await send(deps, queues, region, units);
  deps.log('plan units sent', {
    region,
    runId: shard.runId,
    units: units.length,
    vpcs: Object.keys(merged).length,
  });
  // No VPC hosts ECS work: the reclaim unit (VPCs holding the remediator's endpoints) follows at once.
  const reclaim = units.length === 0 ? await startReclaim(deps, runs, queues, shard.runId, region) : 0;
  return { region, unit: shard, outcomes: [], sent: units.length + reclaim };
}

async function runVpcUnit(
  work: UnitWork,
  unit: VpcUnit,
  deps: UnitDeps,
  runs: RunStore,
  queues: EventQueues,
  hasTime: () => boolean,
): Promise<UnitOutcome> {
  const { region } = work;
  const ledger = ledgerOf(runs, unit.runId);
  const reclaimStep = unit.phase === 'reclaim' ? await reclaimView(runs, unit.runId, region) : undefined;
  const outcomes: RegionOutcome[] = [];
  let current: VpcUnit = unit;
  for (;;) {
    const step = nextStep(current, deps.config.workUnits.vpcsPerStep);
    const targets = { vpcIds: step.vpcIds, vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] };
    const outcome = await reconcileRegionWork(
      { region, whole: false, targets, eventIds: work.eventIds },
      deps,
      { clusterArns: step.clusterArns, ledger, ...(reclaimStep ? { reclaimStep } : {}) },
    );
    outcomes.push(outcome);
    if (unit.phase === 'plan')
      await runs.noteStep(unit.runId, region, stepNote(region, step.vpcIds, outcome));
    if (step.rest === undefined) break;
    current = step.rest;
    if (!hasTime()) {
      // The checkpoint: the rest of the unit, as a message of its own.
      await send(deps, queues, region, [current]);
      await runs.progress(unit.runId, region, deps.now());
      deps.log(`${unit.phase} unit short of time: its rest is sent on`, {
        region,
        runId: unit.runId,
        part: unit.part,
        from: current.offset,
        of: current.vpcIds.length,
      });
      return { region, unit, outcomes, sent: 1, checkpoint: current.offset };
    }
  }
  if (unit.phase === 'reclaim') {
    await finishReclaim(deps, runs, unit.runId, region, unit.vpcIds);
    return { region, unit, outcomes, sent: 0 };
  }
  const { done, parts } = await runs.markUnitDone(unit.runId, region, unit.part);
  await runs.progress(unit.runId, region, deps.now());
  deps.log('plan unit done', { region, runId: unit.runId, part: unit.part, done, parts });
  return {
    region,
    unit,
    outcomes,
    sent: done >= parts ? await startReclaim(deps, runs, queues, unit.runId, region) : 0,
  };
}

/**
 * What a plan step notes for the run's reclaim unit: VPCs where it saw owned endpoints unneeded, VPCs
 * of the step it did not examine (no live ECS work left, so possibly holding owned endpoints no plan
 * unit weighs), endpoints its VPCs reach through a zone, and any gap in its view.
 */
function stepNote(region: string, vpcIds: readonly string[], outcome: RegionOutcome): StepNote {
  const planned = new Set(outcome.plan.vpcs.map((vpc) => vpc.vpcId));
  return {
    unusedVpcIds: [...new Set(reportedUnused(outcome.plan, region).values())].sort(),
    unexaminedVpcIds: vpcIds.filter((vpcId) => !planned.has(vpcId)),
    ...(outcome.zoneUses === undefined ? {} : { zoneUses: outcome.zoneUses }),
    ...gapOf(outcome.viewGap),
  };
}

/**
 * How the reclaim unit's steps may judge: not counting when a plan unit of the run (or the reclaim's
 * preparation) noted a gap, or when the run no longer holds the Region
 * (a newer run took it over: this one's index is old); keeping what the plan units saw reached
 * through zones.
 */
async function reclaimView(
  runs: RunStore,
  runId: string,
  region: string,
): Promise<{ gap?: string; zoneUses?: readonly string[] }> {
  const [notes, active] = await Promise.all([runs.loadNotes(runId, region), runs.activeRun(region)]);
  const gap =
    notes.gap ??
    (active === runId ? undefined : `the run no longer holds the Region (${active ?? 'none'} does)`);
  return {
    ...gapOf(gap),
    ...(notes.zoneUses.length > 0 ? { zoneUses: notes.zoneUses } : {}),
  };
}

/**
 * Every plan unit is in: sends the run's reclaim unit, or, with nothing to read again, finishes the
 * run at once. Returns the units sent. A run that no longer holds the Region (finished already: this
 * is a plan unit delivered again; or taken over) sends nothing.
 */
async function startReclaim(
  deps: UnitDeps,
  runs: RunStore,
  queues: EventQueues,
  runId: string,
  region: string,
): Promise<number> {
  const active = await runs.activeRun(region);
  if (active !== runId) {
    deps.log('run no longer holds the Region: no reclaim unit', { region, runId, active });
    return 0;
  }
  const prepared = await prepareReclaim(deps, runs, runId, region);
  if (prepared.gap !== undefined) await runs.noteStep(runId, region, { unusedVpcIds: [], gap: prepared.gap });
  if (prepared.unit === undefined) {
    await finishReclaim(deps, runs, runId, region, []);
    return 0;
  }
  await send(deps, queues, region, [prepared.unit]);
  deps.log('reclaim unit sent', { region, runId, vpcs: prepared.unit.vpcIds.length, gap: prepared.gap });
  return 1;
}

/**
 * The reclaim unit is done (or had nothing to read): the clocks of the VPCs it did not read stop when
 * the run saw no gap, and the run finishes, if it still holds the Region.
 */
async function finishReclaim(
  deps: UnitDeps,
  runs: RunStore,
  runId: string,
  region: string,
  readAgain: readonly string[],
): Promise<void> {
  // A run another took over, or one finished already (its reclaim unit delivered again), judges no
  // more: its index is old, and the clocks and findings are the newer run's to move.
  const active = await runs.activeRun(region);
  if (active !== runId) {
    deps.log('run no longer holds the Region: its end changes nothing', { region, runId, active });
    return;
  }
  const notes = await runs.loadNotes(runId, region);
  await stopUnreadClocks(deps, region, readAgain, notes.gap);
  const covered = Object.keys(mergeEntries(await runs.loadShards(runId, region)));
  await finishRun(deps, runs, runId, region, [...covered, ...readAgain], notes.startedAt);
  if (notes.gap !== undefined)
    deps.log('run done: it does not count toward the reclaim', { region, runId, gap: notes.gap });
}

/**
 * The run's last step: findings remembered for VPCs none of its units covered (their ECS work is
 * gone) and not seen since the run began (an event-scoped reconcile may have found new work meanwhile)
 * are judged against an empty plan, as a whole-Region reconcile judges them; then the Region is free
 * for the next run.
 */
async function finishRun(
  deps: UnitDeps,
  runs: RunStore,
  runId: string,
  region: string,
  covered: readonly string[],
  startedAt: string,
): Promise<void> {
  const keep = new Set(covered);
  const stale = [
    ...new Set(
      (await deps.state.loadOpenFindings({ region }))
        .filter((f) => !keep.has(f.vpcId) && f.lastSeen < startedAt)
        .map((f) => f.vpcId),
    ),
  ];
  if (stale.length > 0) {
    const now = deps.now();
    await rememberAndAlert(deps, { region, vpcIds: stale }, buildPlan([], deps.config, now), now);
    deps.log('run done: findings of VPCs without ECS work retired', { region, runId, vpcs: stale.length });
  }
  await runs.releaseRegion(runId, region);
}

/** Sends units to the events queue; throws unless every one was sent. */
async function send(
  deps: UnitDeps,
  queues: EventQueues,
  region: string,
  units: readonly WorkUnit[],
): Promise<void> {
  if (units.length === 0) return;
  const time = deps.now().toISOString();
  const outcome = await queues.requeue(
    units.map((unit, n) => ({
      messageId: String(n),
      body: workUnitBody(region, unit, time, deps.accountId),
      attributes: {},
    })),
  );
  if (outcome.failed.length > 0)
    throw new Error(
      `${outcome.failed.length} of ${units.length} work units not sent: ${[...new Set(outcome.failed.map((f) => f.error))].join('; ')}`,
    );
}
