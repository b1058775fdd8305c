/**
 * Work units (pure: no I/O): how the deployed reconciler splits a sweep of a Region too large for one
 * invocation (docs/architecture.md, "Work units").
 *
 * A VPC's needs come from every cluster that works there, so the split has two phases:
 *
 * 1. **index shards**: each reads a slice of the Region's clusters (their container instances,
 *    services and tasks, and where those run) and records which VPCs each cluster works in;
 * 2. **plan units**: once every shard is in, the merged VPC → clusters index is cut into batches of
 *    VPCs; each unit reads, plans and applies its VPCs with exactly the clusters that work there, in
 *    steps of a few VPCs; a unit short of time checkpoints by sending itself on with the VPCs left;
 * 3. **the reclaim unit**: once every plan unit is in, the VPCs where they saw owned endpoints serve
 *    no need, and those holding the remediator's endpoints but no ECS work, are read again, in steps
 *    like a plan unit's: the only reconcile of a split sweep that may count toward the reclaim's grace
 *    period, and only when no unit of the run saw a gap (docs/architecture.md, "Reclaiming unneeded
 *    endpoints").
 *
 * Units travel as messages on the events queue, each with an id derived from its run, Region, phase
 * and place (so a unit sent twice is one occurrence to the idempotency records), read back by
 * core/events.ts as hints of kind `unit`.
 */
import * as z from 'zod/mini';

/** Most clusters one index shard reads; most VPCs one plan unit holds (limits of the message shape). */
export const UNIT_MAX_CLUSTERS = 1000;
export const UNIT_MAX_VPCS = 1000;
/** Most clusters one plan or reclaim unit lists (each VPC's refer to them by position). */
export const UNIT_MAX_LISTED_CLUSTERS = UNIT_MAX_CLUSTERS * 10;

/** How big units are (config `workUnits`, docs/config.md). */
export interface UnitSizes {
  /** Most clusters one index shard reads. */
  readonly clustersPerShard: number;
  /** Most VPCs one plan unit holds. */
  readonly vpcsPerUnit: number;
  /** VPCs a plan unit reconciles between two looks at the invocation's remaining time. */
  readonly vpcsPerStep: number;
}

/** An index shard: read these clusters, record where each works. */
export interface IndexShard {
  readonly phase: 'index';
  /** The sweep that split the Region (its event id): names the run's records and its ledger. */
  readonly runId: string;
  readonly part: number;
  readonly parts: number;
  readonly clusterArns: readonly string[];
}

/**
 * A plan unit: reconcile `vpcIds` (from `offset` on), VPC `vpcIds[i]` with the clusters at positions
 * `clustersOf[i]` of `clusterArns` (every cluster that works there, per the merged index).
 */
export interface PlanUnit {
  readonly phase: 'plan';
  readonly runId: string;
  readonly part: number;
  readonly parts: number;
  readonly vpcIds: readonly string[];
  readonly clusterArns: readonly string[];
  readonly clustersOf: ReadonlyArray<readonly number[]>;
  /** VPCs before this position were reconciled by an earlier invocation (the unit's checkpoint). */
  readonly offset: number;
}

/**
 * The reclaim unit of a run (one, `part` 0 of 1): the VPCs to read again for the reclaim, each with
 * the clusters that work there (per the merged index, plus clusters made since the split), in steps
 * and checkpoints like a plan unit's.
 */
export interface ReclaimUnit extends Omit<PlanUnit, 'phase'> {
  readonly phase: 'reclaim';
}

/** A unit whose VPCs are reconciled in steps: a plan unit or the reclaim unit. */
export type VpcUnit = PlanUnit | ReclaimUnit;

export type WorkUnit = IndexShard | VpcUnit;

/** The message detail-type of a work unit (source `ecs-endpoint-remediator`). */
export const WORK_UNIT_DETAIL_TYPE = 'Work Unit';

const clusterArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+$/));
const vpcId = z.string().check(z.regex(/^vpc-[0-9a-f]+$/, 'expected a VPC id'));
const runId = z.string().check(z.minLength(1), z.maxLength(600));
const position = z.number().check(z.int(), z.gte(0));

/** The fields every unit has: its run and its place among the run's units of its phase. */
const unitPlace = {
  runId,
  part: position,
  parts: z.number().check(z.int(), z.gte(1)),
};

/** A work unit's detail: ours, so nothing else is expected in it. */
export const workUnitDetail = z.union([
  z.strictObject({
    phase: z.literal('index'),
    ...unitPlace,
    clusterArns: z.array(clusterArn).check(z.minLength(1), z.maxLength(UNIT_MAX_CLUSTERS)),
  }),
  z.strictObject({
    phase: z.enum(['plan', 'reclaim']),
    ...unitPlace,
    vpcIds: z.array(vpcId).check(z.minLength(1), z.maxLength(UNIT_MAX_VPCS)),
    clusterArns: z.array(clusterArn).check(z.maxLength(UNIT_MAX_LISTED_CLUSTERS)),
    clustersOf: z.array(z.array(position)),
    offset: position,
  }),
]);

/**
 * The problems of a parsed unit that its shape does not catch: a part past its parts, positions past
 * the lists. Empty when consistent.
 */
export function unitProblems(unit: WorkUnit): string[] {
  const problems: string[] = [];
  if (unit.part >= unit.parts) problems.push(`detail.part: ${unit.part} is not below parts (${unit.parts})`);
  if (unit.phase !== 'index') {
    if (unit.phase === 'reclaim' && unit.parts !== 1)
      problems.push('detail.parts: a run has one reclaim unit');
    if (unit.clustersOf.length !== unit.vpcIds.length)
      problems.push(`detail.clustersOf: ${unit.clustersOf.length} entries for ${unit.vpcIds.length} VPCs`);
    if (unit.clustersOf.some((positions) => positions.some((p) => p >= unit.clusterArns.length)))
      problems.push('detail.clustersOf: a position past clusterArns');
    if (unit.offset >= unit.vpcIds.length)
      problems.push(`detail.offset: ${unit.offset} is not below the VPCs (${unit.vpcIds.length})`);
  }
  return problems;
}

/**
 * The id of a unit's message: the same unit sent twice (a retried split) is one occurrence; a plan
 * unit resumed from its checkpoint is a new one.
 */
export function unitId(region: string, unit: WorkUnit): string {
  const place = unit.phase !== 'index' && unit.offset > 0 ? `${unit.part}@${unit.offset}` : `${unit.part}`;
  return `unit:${unit.runId}:${region}:${unit.phase}:${place}`;
}

/** The message body of a work unit: an EventBridge-shaped event core/events.ts reads back. */
export function workUnitBody(region: string, unit: WorkUnit, time: string, account?: string): string {
  return JSON.stringify({
    version: '0',
    id: unitId(region, unit),
    'detail-type': WORK_UNIT_DETAIL_TYPE,
    source: 'ecs-endpoint-remediator',
    ...(account === undefined ? {} : { account }),
    time,
    region,
    resources: [],
    detail: unit,
  });
}

/** The index shards of a Region's clusters: consecutive slices of the sorted list. */
export function indexShards(runId: string, clusterArns: readonly string[], sizes: UnitSizes): IndexShard[] {
  const sorted = [...new Set(clusterArns)].sort();
  const size = Math.max(1, Math.min(sizes.clustersPerShard, UNIT_MAX_CLUSTERS));
  const slices = chunk(sorted, size);
  return slices.map((slice, part) => ({
    phase: 'index',
    runId,
    part,
    parts: slices.length,
    clusterArns: slice,
  }));
}

/**
 * The plan units of a merged VPC → clusters index: consecutive batches of its sorted VPCs, each with
 * the clusters of its VPCs (listed once, referred to by position), at most `vpcsPerUnit` VPCs and (but
 * for a single VPC) at most `clustersPerShard` clusters.
 */
export function planUnits(
  runId: string,
  index: Readonly<Record<string, readonly string[]>>,
  sizes: UnitSizes,
): PlanUnit[] {
  const vpcsPerUnit = Math.max(1, Math.min(sizes.vpcsPerUnit, UNIT_MAX_VPCS));
  const clustersPerUnit = Math.max(1, Math.min(sizes.clustersPerShard, UNIT_MAX_CLUSTERS));
  // Consecutive VPCs, a unit closed at `vpcsPerUnit` VPCs or once its clusters would pass a shard's
  // (a unit reads every cluster of its VPCs); a unit has at least one VPC.
  const batches: string[][] = [];
  let batch: string[] = [];
  let clusters = new Set<string>();
  for (const vpcId of Object.keys(index).sort()) {
    const next = new Set([...clusters, ...(index[vpcId] ?? [])]);
    if (batch.length > 0 && (batch.length >= vpcsPerUnit || next.size > clustersPerUnit)) {
      batches.push(batch);
      batch = [];
      clusters = new Set(index[vpcId] ?? []);
    } else clusters = next;
    batch.push(vpcId);
  }
  if (batch.length > 0) batches.push(batch);
  return batches.map((vpcIds, part) => ({
    phase: 'plan',
    runId,
    part,
    parts: batches.length,
    ...vpcBatch(vpcIds, index),
    offset: 0,
  }));
}

/**
 * The reclaim unit of a run: `index` (VPC → the clusters that work there; none for a VPC without ECS
 * work) in one unit, each VPC also with `newClusters` (made since the split: nobody knows yet where
 * they work). Undefined without VPCs. Its VPCs, sorted, stop before {@link UNIT_MAX_VPCS} VPCs or
 * {@link UNIT_MAX_LISTED_CLUSTERS} clusters would be passed (the message's limits): the caller
 * compares them with `index` and says what was left out.
 */
export function reclaimUnit(
  runId: string,
  index: Readonly<Record<string, readonly string[]>>,
  newClusters: readonly string[],
): ReclaimUnit | undefined {
  const withNew: Record<string, string[]> = {};
  const clusters = new Set<string>();
  for (const vpcId of Object.keys(index).sort()) {
    const own = [...new Set([...(index[vpcId] ?? []), ...newClusters])];
    const added = own.filter((arn) => !clusters.has(arn)).length;
    if (Object.keys(withNew).length >= UNIT_MAX_VPCS || clusters.size + added > UNIT_MAX_LISTED_CLUSTERS)
      break;
    withNew[vpcId] = own;
    for (const arn of own) clusters.add(arn);
  }
  const vpcIds = Object.keys(withNew);
  if (vpcIds.length === 0) return undefined;
  return { phase: 'reclaim', runId, part: 0, parts: 1, ...vpcBatch(vpcIds, withNew), offset: 0 };
}

/** VPCs with their clusters, each cluster listed once and referred to by position. */
function vpcBatch(
  vpcIds: readonly string[],
  index: Readonly<Record<string, readonly string[]>>,
): Pick<PlanUnit, 'vpcIds' | 'clusterArns' | 'clustersOf'> {
  const clusterArns = [...new Set(vpcIds.flatMap((id) => index[id] ?? []))].sort();
  const positionOf = new Map(clusterArns.map((arn, n) => [arn, n]));
  return {
    vpcIds: [...vpcIds],
    clusterArns,
    clustersOf: vpcIds.map((id) =>
      [...new Set(index[id] ?? [])].map((arn) => positionOf.get(arn) ?? 0).sort((a, b) => a - b),
    ),
  };
}

/** The next step of a plan or reclaim unit: its VPCs from `offset`, at most `vpcsPerStep`, with their clusters. */
export function nextStep<U extends VpcUnit>(
  unit: U,
  vpcsPerStep: number,
): { readonly vpcIds: string[]; readonly clusterArns: string[]; readonly rest: U | undefined } {
  const end = Math.min(unit.vpcIds.length, unit.offset + Math.max(1, vpcsPerStep));
  const vpcIds = unit.vpcIds.slice(unit.offset, end);
  const positions = new Set(unit.clustersOf.slice(unit.offset, end).flat());
  const clusterArns = [...positions].sort((a, b) => a - b).flatMap((p) => unit.clusterArns[p] ?? []);
  return { vpcIds, clusterArns, rest: end < unit.vpcIds.length ? { ...unit, offset: end } : undefined };
}

/**
 * Whether a whole-Region reconcile is split: when the Region has more clusters than one shard reads,
 * or (per the stored index) more VPCs with ECS work than one unit holds.
 */
export function needsSplit(clusters: number, indexedVpcs: number, sizes: UnitSizes): boolean {
  return clusters > sizes.clustersPerShard || indexedVpcs > sizes.vpcsPerUnit;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
