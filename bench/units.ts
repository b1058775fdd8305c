/**
 * `npm run bench -- --size XL --throttle aws --units`: a sweep split into work units as the deployed
 * reconciler splits it (core/units.ts, aws/units/run-unit.ts; docs/architecture.md, "Work units"),
 * each unit measured in a process of its own, as one invocation would run it:
 *
 * 1. on moto, moto's answers kept: the split's ListClusters, each index shard of `clustersPerShard`
 *    clusters (discoverClusterPlaces), then each plan unit of `vpcsPerUnit` VPCs cut from the merged
 *    shards (the event-scoped plan of those VPCs with exactly their clusters: the unit's steps made
 *    as one, so the figure is the unit's reads without the state table's);
 * 2. each unit replayed without moto at 150 ms a request, behind AWS's buckets (`--throttle aws`) with
 *    the config's limiter, by the plan bundled as the handlers are: wall and CPU time, peak RSS, and
 *    the Lambda projection (bench/aws-model.ts), judged against the 300 s timeout and the memory with
 *    2x headroom.
 *
 * Units run one after another, as the Region's lease runs them. The replays run on a second server,
 * handed each unit's answers as soon as it is recorded, so a unit replays while the next one records:
 * the replay shares this machine's cores with moto (its wall time errs high, not low), and the whole
 * run takes about as long as the recording instead of the sum of both. The run's state table items,
 * queue messages and ledger are not modelled (a few DynamoDB and SQS calls per unit).
 */
import { mergeEntries } from '../aws/discover/cluster-index.ts';
import type { ClusterIndexEntries } from '../aws/discover/cluster-index.ts';
import { parseConfig } from '../core/config.ts';
import type { UnitSizes } from '../core/units.ts';
import { indexShards, planUnits } from '../core/units.ts';
import { BUDGET_HEADROOM, LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_SECONDS, lambdaSeconds } from './aws-model.ts';
import type { PlanChildResult } from './plan-child.ts';

/** What a unit's child process is asked to do (bench/plan-child.ts BENCH_MODE and scope). */
export interface UnitRun {
  readonly mode: 'list-clusters' | 'shard' | 'plan';
  readonly clusterArns?: readonly string[];
  readonly vpcIds?: readonly string[];
}

/** One run of a unit's child: on moto (`served`) or replayed. */
export interface UnitMeasure {
  readonly result: PlanChildResult;
  readonly throttledAnswers: number;
  readonly failedCalls: number;
}

/**
 * What the bench gives this module: two servers, one recording moto's answers (`served` runs), one
 * replaying them (`replayed` runs), and the hand-over of answers from the first to the second.
 */
export interface UnitBenchDeps {
  readonly measure: (run: UnitRun, how: 'served' | 'replayed') => Promise<UnitMeasure>;
  /** The recording server keeps moto's answers from now on. */
  readonly record: () => Promise<void>;
  /** The answers it kept since the last hand-over, given to the replaying server; how many. */
  readonly handOver: () => Promise<number>;
  /** The recording server stops keeping answers. */
  readonly stopRecording: () => Promise<void>;
  /** The replaying server answers from what it was handed, at `latencyMs`, behind the buckets or not. */
  readonly replay: (latencyMs: number, throttle: boolean) => Promise<void>;
  /** The replaying server back to serving by moto; the requests the replay just made that it had not kept. */
  readonly off: () => Promise<number>;
  readonly log: (message: string) => void;
}

export interface UnitFigures {
  readonly kind: 'list-clusters' | 'shard' | 'plan';
  readonly part: number;
  readonly clusters: number;
  readonly vpcs: number;
  readonly calls: number;
  /** On moto (its CPU included): the client's wall ms. */
  readonly motoWallMs: number;
  /** Replayed at `latencyMs`, behind AWS's buckets, paced. */
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly throttledAnswers: number;
  readonly failedCalls: number;
  readonly replayMisses: number;
  /** Lambda seconds by memory (MB → s). */
  readonly lambdaSeconds: Record<string, number>;
  /** Within half the timeout and half the memory, at each memory size. */
  readonly fits: Record<string, boolean>;
  readonly findings: number;
}

export interface UnitsResult {
  readonly sizes: UnitSizes;
  readonly latencyMs: number;
  readonly units: readonly UnitFigures[];
  readonly vpcsIndexed: number;
  readonly clusters: number;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Splits the seeded account as a sweep would and measures every unit (see the module comment). */
export async function benchUnits(deps: UnitBenchDeps, latencyMs = 150): Promise<UnitsResult> {
  const sizes = parseConfig({}).workUnits;
  const units: UnitFigures[] = [];
  // Replays run one after another (they share the replaying server's buckets), each as soon as its
  // unit is recorded, while the recording server goes on with the next unit.
  let replays = Promise.resolve();
  let replayFailure: { error: unknown } | undefined;
  const served = async (run: UnitRun, part: number): Promise<UnitMeasure> => {
    const measured = await deps.measure(run, 'served');
    const answers = await deps.handOver();
    deps.log(`units: ${run.mode} ${part + 1} recorded (${answers} answers handed to the replaying server)`);
    replays = replays
      .then(async () => {
        if (!replayFailure) units.push(await replayUnit(deps, run, part, measured, latencyMs));
      })
      .catch((error: unknown) => {
        replayFailure ??= { error };
      });
    return measured;
  };
  let merged: ClusterIndexEntries;
  let clusters: readonly string[];
  await deps.record();
  try {
    deps.log('units: the split (ListClusters), on moto');
    const listed = await served({ mode: 'list-clusters' }, 0);
    clusters = listed.result.clusterArns ?? [];
    const shards = indexShards('bench', clusters, sizes);
    const found: ClusterIndexEntries[] = [];
    for (const shard of shards) {
      deps.log(
        `units: index shard ${shard.part + 1} of ${shard.parts} (${shard.clusterArns.length} clusters), on moto`,
      );
      const measured = await served({ mode: 'shard', clusterArns: shard.clusterArns }, shard.part);
      found.push(measured.result.clusterIndex);
    }
    merged = mergeEntries(found);
    for (const unit of planUnits('bench', merged, sizes)) {
      deps.log(`units: plan unit ${unit.part + 1} of ${unit.parts} (${unit.vpcIds.length} VPCs), on moto`);
      await served({ mode: 'plan', vpcIds: unit.vpcIds, clusterArns: unit.clusterArns }, unit.part);
    }
  } finally {
    await deps.stopRecording();
    await replays;
  }
  if (replayFailure) throw replayFailure.error;
  return { sizes, latencyMs, units, vpcsIndexed: Object.keys(merged).length, clusters: clusters.length };
}

/** One unit replayed behind AWS's buckets at `latencyMs`, and its verdict. */
async function replayUnit(
  deps: UnitBenchDeps,
  run: UnitRun,
  part: number,
  served: UnitMeasure,
  latencyMs: number,
): Promise<UnitFigures> {
  deps.log(`units: ${run.mode} ${part + 1} replayed at ${latencyMs} ms, AWS's buckets, paced`);
  await deps.replay(latencyMs, true);
  let replayed: UnitMeasure;
  let replayMisses: number;
  try {
    replayed = await deps.measure(run, 'replayed');
  } finally {
    replayMisses = await deps.off();
  }
  const { result } = replayed;
  const seconds = Object.fromEntries(
    LAMBDA_MEMORY_MB.map((mb) => [String(mb), round1(lambdaSeconds(result.wallMs, result.cpuMs, mb))]),
  );
  deps.log(
    `units: ${run.mode} ${part + 1}: ${round1(result.wallMs / 1000)} s wall, ${round1(result.cpuMs / 1000)} s CPU, ` +
      `${result.peakRssMb} MB, Lambda 512 MB ${seconds['512'] ?? '?'} s, ${replayed.failedCalls} failed calls`,
  );
  return {
    kind: run.mode,
    part,
    clusters: run.clusterArns?.length ?? 0,
    vpcs: run.vpcIds?.length ?? 0,
    calls: result.apiCalls,
    motoWallMs: served.result.wallMs,
    wallMs: result.wallMs,
    cpuMs: result.cpuMs,
    peakRssMb: result.peakRssMb,
    throttledAnswers: replayed.throttledAnswers,
    failedCalls: replayed.failedCalls,
    replayMisses,
    lambdaSeconds: seconds,
    fits: Object.fromEntries(
      LAMBDA_MEMORY_MB.map((mb) => [
        String(mb),
        (seconds[String(mb)] ?? Infinity) * BUDGET_HEADROOM <= LAMBDA_TIMEOUT_SECONDS &&
          result.peakRssMb * BUDGET_HEADROOM <= mb &&
          replayed.failedCalls === 0,
      ]),
    ),
    findings: result.findings.length,
  };
}

/** The units as a table, and the verdict. */
export function unitsText(size: string, r: UnitsResult): string {
  const lines = [
    `${size}: a sweep split into work units (clustersPerShard ${r.sizes.clustersPerShard}, vpcsPerUnit ${r.sizes.vpcsPerUnit}): ` +
      `${r.clusters} clusters, ${r.vpcsIndexed} VPCs with ECS work; replayed at ${r.latencyMs} ms, AWS's buckets, paced`,
    '  unit             clusters  VPCs  calls  moto s  wall s  CPU s  RSS MB  throttled  failed  Lambda 512 / 1024 s  fits 512 / 1024',
  ];
  for (const u of r.units) {
    const name = `${u.kind} ${u.part + 1}`.padEnd(16);
    lines.push(
      `  ${name} ${String(u.clusters).padStart(8)} ${String(u.vpcs).padStart(5)} ${String(u.calls).padStart(6)} ` +
        `${round1(u.motoWallMs / 1000)
          .toFixed(1)
          .padStart(7)} ${round1(u.wallMs / 1000)
          .toFixed(1)
          .padStart(7)} ` +
        `${round1(u.cpuMs / 1000)
          .toFixed(1)
          .padStart(6)} ${u.peakRssMb.toFixed(0).padStart(7)} ` +
        `${String(u.throttledAnswers).padStart(10)} ${String(u.failedCalls).padStart(7)} ` +
        `${`${u.lambdaSeconds['512'] ?? '?'} / ${u.lambdaSeconds['1024'] ?? '?'}`.padStart(20)}  ` +
        `${u.fits['512'] ? 'yes' : 'NO'} / ${u.fits['1024'] ? 'yes' : 'NO'}`,
    );
  }
  const worst = (key: (u: UnitFigures) => number) => Math.max(0, ...r.units.map(key));
  lines.push(
    `  largest unit: ${worst((u) => u.lambdaSeconds['512'] ?? 0)} s at 512 MB (budget ${LAMBDA_TIMEOUT_SECONDS / BUDGET_HEADROOM} s), ` +
      `${worst((u) => u.peakRssMb)} MB peak RSS; failed calls ${r.units.reduce((n, u) => n + u.failedCalls, 0)}, ` +
      `throttled answers ${r.units.reduce((n, u) => n + u.throttledAnswers, 0)}, replay misses ${r.units.reduce((n, u) => n + u.replayMisses, 0)}; ` +
      `every unit fits 512 MB with 2x headroom: ${r.units.every((u) => u.fits['512']) ? 'yes' : 'NO'}`,
  );
  return `${lines.join('\n')}\n`;
}
