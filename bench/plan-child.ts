/**
 * One plan in a process of its own, so that its CPU time and peak RSS are the plan's (what a Lambda
 * invocation of a fresh container would use). The code path is the CLI's: createClientPool() with the
 * SDK's own configuration (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_REGION from the environment) and
 * the config's timeouts, then planAccount. Prints one JSON line (PlanChildResult) on stdout.
 *
 * Environment: BENCH_REGION (default us-east-1), BENCH_VPC_IDS (comma-separated: event-scoped),
 * BENCH_CLUSTER_ARNS (comma-separated, with BENCH_VPC_IDS: the cluster hint a stored index gives),
 * BENCH_CONFIG (the remediator's JSON config; default `{}`), BENCH_POOL (absent: no client-side
 * limiter, the client's own pace, as the bench always measured it; `paced`: paced by the config's
 * `rateLimits`, as cli/main.ts and handlers/reconcile.ts make the clients, without an invocation
 * deadline),
 * BENCH_REQUEST_SECONDS (the clients' request timeout instead of the config's: moto is slow at XL),
 * BENCH_MODE (`plan`, the default; `list-clusters`: a split sweep's ListClusters; `shard`: an index
 * shard of the clusters in BENCH_CLUSTER_ARNS, aws/units/run-unit.ts),
 * BENCH_TD_CACHE_OUT (a file: the task definitions the plan read, as the deployed remediator's cache
 * keeps them) and BENCH_TD_CACHE_IN (such a file: a warm cache, held in memory, that the plan reads
 * instead of describing the revisions it holds; the deployed one is the state table, read in
 * BatchGetItem calls of 100 that this does not make).
 * `clusterIndex` in the result is what the deployed reconciler would record from this plan's snapshot.
 *
 * A Region that fails, or a call that fails, does not fail the process: both are in the result
 * (`failedRegions`, `failedCalls`), for the bench to report.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import { parseConfig } from '../core/config.ts';
import { clustersByVpc } from '../aws/discover/cluster-index.ts';
import type { ClusterIndexEntries } from '../aws/discover/cluster-index.ts';
import type { TaskDefinitionCache } from '../aws/discover/task-definitions.ts';
import type { TaskDefinition } from '../core/model.ts';
import { createClientPool, discoverAndPlanAccount } from '../aws/reconcile.ts';
import type { ClientPool } from '../aws/reconcile.ts';
import { discoverClusterPlaces } from '../aws/discover.ts';
import { createContext } from '../aws/discover/context.ts';
import { listClusterArns } from '../aws/discover/ecs.ts';

export interface PlanChildResult {
  readonly apiCalls: number;
  readonly byService: Record<string, number>;
  readonly byOperation: Record<string, number>;
  /** planAccount alone. */
  readonly wallMs: number;
  /** User + system CPU of the plan (planAccount alone). */
  readonly cpuMs: number;
  /** Peak resident set of the whole process (Node, SDK, discovery, plan). */
  readonly peakRssMb: number;
  /** Process start (as Node reports it) to the end of the plan: imports included. */
  readonly processMs: number;
  readonly vpcsInScope: number;
  readonly findings: ReadonlyArray<{ code: string; vpcId: string; service?: string }>;
  /** VPC → clusters of the snapshot (computed after the plan, outside the timings). */
  readonly clusterIndex: ClusterIndexEntries;
  /** Calls (SDK commands, after their retries) that ended in an error: `service:Command` → error name → n. */
  readonly failedCalls: Record<string, Record<string, number>>;
  readonly failedRegions: ReadonlyArray<{ readonly region: string; readonly error: string }>;
  /** Reads discovery skipped after an error (their checks are `unknown`). */
  readonly skippedReads: number;
  /** The client-side limiter's buckets at the end (`lambda` pool with a limiter), else absent. */
  /** BENCH_MODE=list-clusters: the Region's clusters (ListClusters). */
  readonly clusterArns?: readonly string[];
  readonly limiter?: {
    readonly buckets: number;
    readonly throttled: number;
    readonly backoffs: number;
    readonly peakInFlight: Record<string, number>;
  };
}

/** The plan, measured (no top-level await: the bench also runs this file bundled as CommonJS). */
async function main(): Promise<PlanChildResult> {
  const region = process.env.BENCH_REGION ?? 'us-east-1';
  const vpcIds = (process.env.BENCH_VPC_IDS ?? '').split(',').filter(Boolean);
  const clusterArns = process.env.BENCH_CLUSTER_ARNS?.split(',').filter(Boolean);
  const config = parseConfig(JSON.parse(process.env.BENCH_CONFIG ?? '{}'));
  const paced = process.env.BENCH_POOL === 'paced';
  // The emulator answers a large account's describes in seconds where AWS takes milliseconds: runs it
  // serves (not the replays) wait longer before a request times out.
  const requestSeconds = Number(process.env.BENCH_REQUEST_SECONDS ?? 0);
  const pool = createClientPool({
    timeouts: requestSeconds > 0 ? { ...config.timeouts, requestSeconds } : config.timeouts,
    ...(paced ? { rateLimits: config.rateLimits } : {}),
  });

  // Every call's final outcome, after its retries: an SDK client's initialize step wraps the retry loop
  // (its command name is a literal, bundled or not); the Resolver client's send takes the operation.
  const failedCalls: Record<string, Record<string, number>> = {};
  const fail = (name: string, error: unknown): void => {
    const kind = error instanceof Error ? error.name : 'unknown';
    const byKind = (failedCalls[name] ??= {});
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  };
  const clients = pool.clientsFor(region) as unknown as Record<string, unknown>;
  for (const [service, client] of Object.entries(clients)) {
    const sdk = client as { middlewareStack?: MiddlewareStack<object, MetadataBearer> };
    if (sdk.middlewareStack) {
      sdk.middlewareStack.add(
        (next, context) => async (args) => {
          try {
            return await next(args);
          } catch (error) {
            fail(`${service}:${String(context.commandName).replace(/Command$/, '')}`, error);
            throw error;
          }
        },
        { step: 'initialize', name: 'benchFailedCalls' },
      );
      continue;
    }
    const custom = client as { send?: (operation: string, ...rest: unknown[]) => Promise<unknown> };
    if (typeof custom.send !== 'function') continue;
    const send = custom.send.bind(client);
    custom.send = async (operation, ...rest) => {
      try {
        return await send(operation, ...rest);
      } catch (error) {
        fail(`${service === 'resolver' ? 'route53resolver' : service}:${operation}`, error);
        throw error;
      }
    };
  }

  // The task definition cache: in memory, empty or loaded from a previous plan's.
  const cacheIn = process.env.BENCH_TD_CACHE_IN;
  const cacheOut = process.env.BENCH_TD_CACHE_OUT;
  const cached = new Map<string, TaskDefinition>(
    cacheIn
      ? (JSON.parse(readFileSync(cacheIn, 'utf8')) as TaskDefinition[]).map((td) => [
          td.taskDefinitionArn,
          td,
        ])
      : [],
  );
  const cache: TaskDefinitionCache = {
    get: (arns) =>
      Promise.resolve(
        new Map(
          arns.flatMap((arn): Array<[string, TaskDefinition]> => {
            const td = cached.get(arn);
            return td ? [[arn, td]] : [];
          }),
        ),
      ),
    put: (definitions) => {
      for (const td of definitions) cached.set(td.taskDefinitionArn, td);
      return Promise.resolve();
    },
  };

  const mode = process.env.BENCH_MODE ?? 'plan';
  if (mode === 'list-clusters' || mode === 'shard') {
    // A split sweep's first steps (aws/units/run-unit.ts): the split's ListClusters, an index shard.
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const clients = pool.clientsFor(region);
    const listed =
      mode === 'list-clusters' ? await listClusterArns(createContext(clients, region)) : undefined;
    const entries = mode === 'shard' ? await discoverClusterPlaces(clients, region, clusterArns ?? []) : {};
    return measured(pool, started, cpuBefore, failedCalls, {
      vpcsInScope: 0,
      findings: [],
      clusterIndex: entries,
      failedRegions: [],
      skippedReads: 0,
      ...(listed ? { clusterArns: listed } : {}),
    });
  }
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { plan, snapshots } = await discoverAndPlanAccount({
    regions: [region],
    config,
    pool,
    ...(vpcIds.length > 0 ? { vpcIds } : {}),
    ...(vpcIds.length > 0 && clusterArns ? { clusterArns } : {}),
    ...(cacheIn || cacheOut ? { taskDefinitionCache: () => cache } : {}),
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (cacheOut) writeFileSync(cacheOut, JSON.stringify([...cached.values()]));
  return measured(
    pool,
    started,
    cpuBefore,
    failedCalls,
    {
      vpcsInScope: plan.vpcs.filter((vpc) => vpc.inScope).length,
      findings: plan.findings.map((finding) => ({
        code: finding.code,
        vpcId: finding.vpcId,
        ...(finding.service === undefined ? {} : { service: finding.service }),
      })),
      clusterIndex: snapshots[0] ? clustersByVpc(snapshots[0]) : {},
      failedRegions: plan.failedRegions,
      skippedReads: plan.skippedReads.length,
    },
    { wallMs, cpu },
  );
}

/** The figures of a run that started at `started` (performance.now()) with `cpuBefore`. */
function measured(
  pool: ClientPool,
  started: number,
  cpuBefore: NodeJS.CpuUsage,
  failedCalls: PlanChildResult['failedCalls'],
  outcome: Pick<
    PlanChildResult,
    'vpcsInScope' | 'findings' | 'clusterIndex' | 'failedRegions' | 'skippedReads' | 'clusterArns'
  >,
  taken?: { wallMs: number; cpu: NodeJS.CpuUsage },
): PlanChildResult {
  const wallMs = taken?.wallMs ?? performance.now() - started;
  const cpu = taken?.cpu ?? process.cpuUsage(cpuBefore);
  const calls = pool.apiCalls();
  const buckets = pool.limiter?.stats();
  return {
    apiCalls: calls.total,
    byService: calls.byService,
    byOperation: calls.byOperation,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    processMs: Math.round(performance.now()),
    ...outcome,
    failedCalls,
    ...(buckets
      ? {
          limiter: {
            buckets: buckets.length,
            throttled: buckets.reduce((sum, b) => sum + b.throttled, 0),
            backoffs: buckets.reduce((sum, b) => sum + b.backoffs, 0),
            peakInFlight: Object.fromEntries(buckets.map((b) => [b.key, b.peakInFlight])),
          },
        }
      : {}),
  };
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
