/**
 * `npm run bench [-- --size S|M|L|XL|all|S,M] [--output text|json] [--no-custodian] [--full-plan-only]
 *  [--throttle aws|off] [--throttle-scale <x>] [--units]`
 *
 * For each size: a fresh moto server (bench/moto_bench_server.py: the test harness's patched moto,
 * bulk seeding, request counting, AWS's throttling buckets, record and replay), a synthetic account
 * (bench/spec.ts) seeded through moto's Python API, then, each in a process of its own:
 *  - a full plan through the CLI's code path (bench/plan-child.ts), API calls next to the lower bound
 *    (bench/lower-bound.ts), wall and CPU time, peak RSS; moto's answers are kept;
 *  - the AWS projection: that plan replayed without moto at 50 and 150 ms a request, by the plan
 *    bundled as the handlers are, unthrottled and (`--throttle aws`) behind AWS's buckets with the
 *    config's limiter; its Lambda seconds, the largest account it extrapolates to (bench/aws-model.ts);
 *  - an event-scoped plan of one VPC (planAccount with vpcIds: [that VPC]), twice: with the cluster
 *    hint the deployed reconciler takes from its index (the full plan's snapshot indexed as a sweep
 *    indexes it), and without an index (the CLI, or a first run): every cluster read;
 *  - Cloud Custodian (c7n, pinned, in .tools/venv-c7n) with bench/custodian/ecs-endpoints.yml, and again with
 *    the ECS inventory a user would need to tell which VPCs need what (ecs-inventory.yml).
 * (`--full-plan-only`: the first two only. `--units`, with `--throttle aws`: instead of all this, the
 * sweep split into work units as the deployed reconciler splits it, each unit measured on moto and
 * replayed behind AWS's buckets at 150 ms: bench/units.ts. `--size XL --throttle aws` implies it.)
 * API calls are counted by the server for every client alike (and by our own counter as a cross-check).
 * Once per run: every Lambda handler bundled as deployed, its size and cold import time.
 * `--size all` also rewrites the figures and the chart in docs/benchmarks.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundlePlugins } from '../scripts/esbuild-plugins.ts';
import { renderChart } from './chart.ts';
import {
  compareFindings,
  countsDelta,
  median,
  ratio,
  SHARED_DETECTION_CODES,
  SHARED_SUBSET_SKIPPED_OPERATIONS,
  sameSharedFindings,
  sharedSubsetConfig,
} from './compare.ts';
import type { Comparison } from './compare.ts';
import { hintedClusters } from '../aws/discover/cluster-index.ts';
import { MODELLED_OPERATIONS, lowerBound, withoutOperations } from './lower-bound.ts';
import type { LowerBound } from './lower-bound.ts';
import type { PlanChildResult } from './plan-child.ts';
import {
  BUDGET_HEADROOM,
  LAMBDA_MEMORY_MB,
  LAMBDA_TIMEOUT_SECONDS,
  largestAccount,
  lambdaSeconds,
  serverThrottleFamilies,
  throttleFloor,
} from './aws-model.ts';
import { parseConfig } from '../core/config.ts';
import { SIZES, buildSpec } from './spec.ts';
import { benchUnits, unitsText } from './units.ts';
import type { AccountSpec, SizeName, SizeParams } from './spec.ts';
import type { MotoServer } from '../test/harness/moto.ts';
import { startMoto } from '../test/harness/moto.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const REGION = 'us-east-1';
/** The VPC of the event-scoped reconcile: in scope, NAT egress, EC2 and Fargate work, at every size. */
const EVENT_VPC = 'vpc-000';
/**
 * The per-request wait of the comparison's second round: an in-Region AWS API call takes tens of
 * milliseconds, mostly waiting, in parallel across requests; moto alone serializes everything.
 */
const SIMULATED_LATENCY_MS = 50;
const C7N_REQUIREMENT = 'c7n==0.9.53';
/** Under .tools/ with the other installed tools: ignored by git, ESLint and Prettier alike. */
const C7N_VENV = path.join(ROOT, '.tools', 'venv-c7n');
const COLD_IMPORT_RUNS = 9;

// ---------------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------------
interface Args {
  readonly sizes: SizeName[];
  readonly output: 'text' | 'json';
  readonly custodian: boolean;
  readonly writeDocs: boolean;
  /** `aws`: the AWS projection also runs with AWS's throttling buckets in front of the emulator. */
  readonly throttle: 'off' | 'aws';
  /** Multiplies every bucket's capacity and refill rate (1: the published sizes). */
  readonly throttleScale: number;
  /** Only the full plan and its AWS projection: no event-scoped plans, no Custodian. */
  readonly fullPlanOnly: boolean;
  /** Instead of the full plan: the sweep split into work units, each unit measured (bench/units.ts). */
  readonly units: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let size = 'S';
  let output: 'text' | 'json' = 'text';
  let custodian = true;
  let throttle: 'off' | 'aws' = 'off';
  let throttleScale = 1;
  let fullPlanOnly = false;
  let units = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--size') size = value().toUpperCase();
    else if (arg === '--output') {
      const o = value();
      if (o !== 'text' && o !== 'json') throw new Error(`--output text|json, got ${o}`);
      output = o;
    } else if (arg === '--no-custodian') custodian = false;
    else if (arg === '--throttle') {
      const t = value();
      if (t !== 'off' && t !== 'aws') throw new Error(`--throttle aws|off, got ${t}`);
      throttle = t;
    } else if (arg === '--throttle-scale') {
      throttleScale = Number(value());
      if (!(throttleScale > 0)) throw new Error('--throttle-scale takes a number above 0');
    } else if (arg === '--full-plan-only') fullPlanOnly = true;
    else if (arg === '--units') units = true;
    else throw new Error(`unknown argument ${arg ?? ''}`);
  }
  const sizes: SizeName[] = size === 'ALL' ? ['S', 'M', 'L'] : (size.split(',') as SizeName[]);
  for (const s of sizes)
    if (!(s in SIZES)) throw new Error(`--size S|M|L|XL|all (or a list: S,M), got ${size}`);
  if (throttleScale !== 1 && throttle === 'off') throw new Error('--throttle-scale needs --throttle aws');
  if (units && throttle === 'off')
    throw new Error('--units needs --throttle aws (units are judged behind the buckets)');
  // An XL Region is never planned whole by the deployed reconciler: with AWS's buckets it is measured
  // as it runs, in work units (a whole XL plan cannot fit one invocation: docs/benchmarks.md).
  if (sizes.length === 1 && sizes[0] === 'XL' && throttle === 'aws') units = true;
  return {
    units,
    sizes,
    output,
    custodian: custodian && !fullPlanOnly,
    writeDocs: size === 'ALL' && !units,
    throttle,
    throttleScale,
    fullPlanOnly,
  };
}

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

// ---------------------------------------------------------------------------------------------------
// The bench moto server
// ---------------------------------------------------------------------------------------------------
/** The bench launcher: the harness's patched moto plus bulk seeding and request counting. */
function startServer(): Promise<MotoServer> {
  return startMoto({ script: 'bench/moto_bench_server.py' });
}

async function seed(
  endpoint: string,
  spec: AccountSpec,
): Promise<{ vpcIds: Record<string, string>; seconds: number; maxRssMb: number }> {
  const res = await fetch(`${endpoint}/_bench/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: spec.accountId, region: spec.region, spec }),
  });
  const body = (await res.json()) as {
    vpcIds?: Record<string, string>;
    seconds?: number;
    maxRssMb?: number;
    error?: string;
  };
  if (!res.ok || !body.vpcIds) throw new Error(`seeding failed: ${body.error ?? res.status}`);
  log(`seeded ${spec.size} in ${body.seconds ?? '?'} s (moto's peak RSS ${body.maxRssMb ?? '?'} MB)`);
  return { vpcIds: body.vpcIds, seconds: body.seconds ?? 0, maxRssMb: body.maxRssMb ?? 0 };
}

/** Makes every AWS request wait `ms` before moto serves it (bench/moto_bench_server.py). */
async function setLatency(endpoint: string, ms: number): Promise<void> {
  const res = await fetch(`${endpoint}/_bench/latency`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
  if (!res.ok) throw new Error(`setting the latency failed: ${res.status}`);
}

async function post(endpoint: string, route: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${endpoint}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${route} failed: ${res.status} ${await res.text()}`);
  return res.json();
}

async function get<T>(endpoint: string, route: string): Promise<T> {
  const res = await fetch(`${endpoint}${route}`);
  if (!res.ok) throw new Error(`GET ${route} failed: ${res.status}`);
  return (await res.json()) as T;
}

/** AWS's throttling buckets in front of the emulator, at `scale` × their published sizes; or off. */
async function setThrottle(endpoint: string, on: boolean, scale = 1): Promise<void> {
  await post(endpoint, '/_bench/throttle', { families: on ? serverThrottleFamilies() : null, scale });
}

interface ReplayStats {
  readonly mode: string;
  readonly answers: number;
  readonly bytes: number;
  readonly served: number;
  readonly misses: Record<string, number>;
}

/** Record moto's answers, replay them at `latencyMs` without moto, or neither. */
async function setReplay(
  endpoint: string,
  mode: 'record' | 'replay' | 'off',
  latencyMs = 0,
): Promise<ReplayStats> {
  return (await post(endpoint, '/_bench/replay', { mode, latencyMs })) as ReplayStats;
}

/** The bench server's own CPU seconds and peak RSS. */
function serverCpu(endpoint: string): Promise<{ seconds: number; maxRssMb: number }> {
  return get(endpoint, '/_bench/cpu');
}

async function serverCounts(endpoint: string, account: string): Promise<Record<string, number>> {
  const res = await fetch(`${endpoint}/_bench/counts?account=${account}`);
  return (await res.json()) as Record<string, number>;
}

/** Milliseconds moto spent per operation so far (cumulative). */
async function serverTimes(endpoint: string, account: string): Promise<Record<string, number>> {
  const res = await fetch(`${endpoint}/_bench/times?account=${account}`);
  return (await res.json()) as Record<string, number>;
}

/** The operations moto spent most time on, largest first. */
function topTimes(delta: Record<string, number>, count = 5): Record<string, number> {
  return Object.fromEntries(
    Object.entries(delta)
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([operation, ms]) => [operation, Math.round(ms)]),
  );
}

function awsEnv(endpoint: string, account: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: account,
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Runs `command` to its end; wall time measured here, from spawn to exit. */
function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr, wallMs: Math.round(performance.now() - started) });
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------------
export interface PlanFigures {
  readonly apiCalls: number;
  readonly apiCallLowerBound: number;
  readonly ratio: number;
  readonly byService: Record<string, number>;
  readonly byOperation: Record<string, { calls: number; lowerBound: number | null }>;
  /** Calls the server received (every client counted alike): equals apiCalls when our counter is right. */
  readonly serverCountedCalls: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  /** The child process from spawn to exit: Node start, imports, plan. */
  readonly processWallMs: number;
  /** Milliseconds the emulator spent serving the run, in all, and its five costliest operations. */
  readonly serverMs: number;
  readonly serverMsTop: Record<string, number>;
  readonly vpcsInScope: number;
  readonly findings: number;
  /** The most requests the server was answering at once, per service and in all (`*`). */
  readonly peakInFlight: Record<string, number>;
  /** Requests the server answered as throttled (AWS's buckets on: POST /_bench/throttle), per operation. */
  readonly throttledAnswers: number;
  readonly throttledByOperation: Record<string, number>;
  /** Calls that failed after their retries, per operation; Regions that failed; reads skipped. */
  readonly failedCalls: number;
  readonly failedCallsByOperation: Record<string, Record<string, number>>;
  readonly failedRegions: readonly string[];
  readonly skippedReads: number;
}

interface PlanOptions {
  /** Event-scoped: these VPCs only. */
  readonly vpcIds?: readonly string[];
  /** With `vpcIds`: the cluster hint of the index. */
  readonly clusterArns?: readonly string[];
  /** The remediator's config (default `{}`). */
  readonly config?: object;
  /**
   * The clients without a limiter (default: the client's own pace, as the bench always ran) or paced
   * by the config's `rateLimits`, as the CLI and the Lambda make them.
   */
  readonly pool?: 'unpaced' | 'paced';
  /** The plan child to run: bench/plan-child.ts (default), or its bundle ({@link bundlePlanChild}). */
  readonly child?: string;
  /** A split sweep's other steps (bench/plan-child.ts BENCH_MODE): its ListClusters, an index shard. */
  readonly mode?: 'list-clusters' | 'shard';
  /** A file to write the task definitions the plan read to; a file of them to start from (warm cache). */
  readonly taskDefinitionsOut?: string;
  readonly taskDefinitionsIn?: string;
  /**
   * Served by moto (default): requests time out after {@link MOTO_REQUEST_SECONDS}, not the config's
   * 10 s: under the plan's concurrency moto takes tens of seconds for some describes of L (its five
   * DescribeInstances summed 144 s) and 14 s for one DescribeVpcs page of XL; the config allows at
   * most 300 s. The replays keep the config's.
   */
  readonly servedByMoto?: boolean;
}

const MOTO_REQUEST_SECONDS = 300;

async function measurePlan(
  endpoint: string,
  spec: AccountSpec,
  bound: LowerBound,
  {
    vpcIds,
    clusterArns,
    config,
    pool,
    mode,
    child = 'bench/plan-child.ts',
    servedByMoto = true,
    taskDefinitionsIn,
    taskDefinitionsOut,
  }: PlanOptions = {},
): Promise<{ figures: PlanFigures; result: PlanChildResult }> {
  const before = await serverCounts(endpoint, spec.accountId);
  const timesBefore = await serverTimes(endpoint, spec.accountId);
  const throttledBefore = await get<Record<string, number>>(
    endpoint,
    `/_bench/throttled?account=${spec.accountId}`,
  );
  await post(endpoint, '/_bench/in-flight', {});
  const env = awsEnv(endpoint, spec.accountId);
  if (vpcIds) env.BENCH_VPC_IDS = vpcIds.join(',');
  if (clusterArns) env.BENCH_CLUSTER_ARNS = clusterArns.join(',');
  if (mode) env.BENCH_MODE = mode;
  if (config) env.BENCH_CONFIG = JSON.stringify(config);
  if (pool === 'paced') env.BENCH_POOL = pool;
  if (servedByMoto) env.BENCH_REQUEST_SECONDS = String(MOTO_REQUEST_SECONDS);
  if (taskDefinitionsIn) env.BENCH_TD_CACHE_IN = taskDefinitionsIn;
  if (taskDefinitionsOut) env.BENCH_TD_CACHE_OUT = taskDefinitionsOut;
  const out = await run(process.execPath, [child], env);
  if (out.code !== 0) throw new Error(`plan failed (${String(out.code)}):\n${out.stderr}`);
  const result = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as PlanChildResult;
  const peakInFlight = await get<Record<string, number>>(endpoint, '/_bench/in-flight');
  const server = countsDelta(before, await serverCounts(endpoint, spec.accountId));
  const times = countsDelta(timesBefore, await serverTimes(endpoint, spec.accountId));
  const throttled = countsDelta(
    throttledBefore,
    await get<Record<string, number>>(endpoint, `/_bench/throttled?account=${spec.accountId}`),
  );
  // Operations the bound does not model (MODELLED_OPERATIONS): counted at what they cost. A modelled
  // one the bound puts at 0 (or leaves out, as the shared subset's skipped reads) is held to 0.
  const byOperation: PlanFigures['byOperation'] = {};
  let unmodelled = 0;
  for (const [operation, calls] of Object.entries(result.byOperation)) {
    const lb = bound.byOperation[operation] ?? (MODELLED_OPERATIONS.has(operation) ? 0 : undefined);
    byOperation[operation] = { calls, lowerBound: lb ?? null };
    if (lb === undefined) unmodelled += calls;
  }
  for (const [operation, lb] of Object.entries(bound.byOperation)) {
    byOperation[operation] ??= { calls: 0, lowerBound: lb };
  }
  const apiCallLowerBound = bound.total + unmodelled;
  return {
    result,
    figures: {
      apiCalls: result.apiCalls,
      apiCallLowerBound,
      ratio: ratio(result.apiCalls, apiCallLowerBound),
      byService: result.byService,
      byOperation,
      serverCountedCalls: Object.values(server).reduce((a, b) => a + b, 0),
      wallMs: result.wallMs,
      cpuMs: result.cpuMs,
      peakRssMb: result.peakRssMb,
      processWallMs: out.wallMs,
      serverMs: Math.round(Object.values(times).reduce((a, b) => a + b, 0)),
      serverMsTop: topTimes(times),
      vpcsInScope: result.vpcsInScope,
      findings: result.findings.length,
      peakInFlight,
      throttledAnswers: Object.values(throttled).reduce((a, b) => a + b, 0),
      throttledByOperation: throttled,
      failedCalls: Object.values(result.failedCalls)
        .flatMap((byKind) => Object.values(byKind))
        .reduce((a, b) => a + b, 0),
      failedCallsByOperation: result.failedCalls,
      failedRegions: result.failedRegions.map(({ region, error }) => `${region}: ${error}`),
      skippedReads: result.skippedReads,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Cloud Custodian
// ---------------------------------------------------------------------------------------------------
function ensureCustodian(): string {
  const bin = path.join(C7N_VENV, 'bin', 'custodian');
  const stamp = path.join(C7N_VENV, '.c7n-stamp');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === C7N_REQUIREMENT)
    return bin;
  log(`installing ${C7N_REQUIREMENT} into .tools/venv-c7n (first use)`);
  const venv = spawnSync('python3', ['-m', 'venv', C7N_VENV], { stdio: 'inherit' });
  if (venv.status !== 0) throw new Error('python3 -m venv .tools/venv-c7n failed');
  const pip = spawnSync(
    path.join(C7N_VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', C7N_REQUIREMENT],
    { stdio: ['ignore', 2, 2] },
  );
  if (pip.status !== 0) throw new Error(`pip install ${C7N_REQUIREMENT} failed`);
  writeFileSync(stamp, `${C7N_REQUIREMENT}\n`);
  return bin;
}

export interface CustodianRun {
  readonly wallMs: number;
  readonly apiCalls: number;
  readonly byOperation: Record<string, number>;
  readonly serverMs: number;
  readonly policies: number;
}

async function runCustodian(
  bin: string,
  endpoint: string,
  account: string,
  files: readonly string[],
): Promise<{ figures: CustodianRun; flagged: Record<string, string[]> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-c7n-'));
  try {
    const before = await serverCounts(endpoint, account);
    const timesBefore = await serverTimes(endpoint, account);
    // A cache file of this run only: Custodian's default cache (15 minutes, shared by the policies of
    // one run) stays on, but nothing carries over from an earlier run.
    const out = await run(
      bin,
      ['run', '-s', path.join(dir, 'out'), '--cache', path.join(dir, 'cache.pkl'), '-r', REGION, ...files],
      awsEnv(endpoint, account),
    );
    if (out.code !== 0) throw new Error(`custodian failed (${String(out.code)}):\n${out.stderr}`);
    const delta = countsDelta(before, await serverCounts(endpoint, account));
    const times = countsDelta(timesBefore, await serverTimes(endpoint, account));
    const flagged: Record<string, string[]> = {};
    const outDir = path.join(dir, 'out');
    for (const policy of existsSync(outDir) ? readdirSync(outDir) : []) {
      const file = path.join(outDir, policy, 'resources.json');
      if (!existsSync(file)) continue;
      const resources = JSON.parse(readFileSync(file, 'utf8')) as { VpcId?: string }[];
      flagged[policy] = resources.map((r) => r.VpcId ?? '').filter(Boolean);
    }
    return {
      flagged,
      figures: {
        wallMs: out.wallMs,
        apiCalls: Object.values(delta).reduce((a, b) => a + b, 0),
        byOperation: delta,
        serverMs: Math.round(Object.values(times).reduce((a, b) => a + b, 0)),
        policies: readdirSync(outDir).length,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Lambda bundles
// ---------------------------------------------------------------------------------------------------
export interface BundleFigures {
  readonly handler: string;
  readonly bytes: number;
  readonly coldImportMs: number;
}

function wallOf(args: readonly string[]): number {
  const started = performance.now();
  const out = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  if (out.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${String(out.stderr)}`);
  return performance.now() - started;
}

async function measureBundles(): Promise<BundleFigures[]> {
  // Inside the repository, so that anything left out of a bundle resolves as it would when deployed.
  mkdirSync(path.join(ROOT, '.esbuild'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, '.esbuild', 'bench-bundles-'));
  try {
    const handlers = readdirSync(path.join(ROOT, 'handlers'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
      .sort();
    const figures: BundleFigures[] = [];
    for (const file of handlers) {
      const name = file.replace(/\.ts$/, '');
      const outfile = path.join(dir, `${name}.cjs`);
      // As deployed (serverless.yml): one minified CommonJS file for the Node.js 24 runtime, SDK included.
      await build({
        entryPoints: [path.join(ROOT, 'handlers', file)],
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        mainFields: ['module', 'main'],
        minify: true,
        plugins: bundlePlugins,
        logLevel: 'error',
      });
      const check = spawnSync(
        process.execPath,
        ['-e', `process.exit(typeof require(${JSON.stringify(outfile)}).handler === 'function' ? 0 : 3)`],
        { stdio: 'ignore' },
      );
      if (check.status !== 0) continue; // a module of handlers/ that is not a handler
      const bare: number[] = [];
      const loaded: number[] = [];
      for (let i = 0; i < COLD_IMPORT_RUNS; i++) {
        bare.push(wallOf(['-e', '0']));
        loaded.push(wallOf(['-e', `require(${JSON.stringify(outfile)})`]));
      }
      figures.push({
        handler: `handlers/${file}`,
        bytes: statSync(outfile).size,
        coldImportMs: Math.round((median(loaded) - median(bare)) * 10) / 10,
      });
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * bench/plan-child.ts bundled as the Lambda handlers are (measureBundles), into `dir`: the AWS
 * projection runs the plan as the deployed function would load it, so its peak RSS and CPU are a
 * bundle's, not those of the TypeScript sources and node_modules.
 */
async function bundlePlanChild(dir: string): Promise<string> {
  const outfile = path.join(dir, 'plan-child.cjs');
  await build({
    entryPoints: [path.join(ROOT, 'bench', 'plan-child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    mainFields: ['module', 'main'],
    minify: true,
    plugins: bundlePlugins,
    logLevel: 'error',
  });
  return outfile;
}

// ---------------------------------------------------------------------------------------------------
// The AWS projection: the client alone, at AWS-like latency, with and without AWS's throttling
// ---------------------------------------------------------------------------------------------------
/** The per-request latencies of the projection: an in-Region describe on AWS takes tens of ms. */
export const AWS_LATENCIES_MS: readonly number[] = [50, 150];

/** One replay of the full plan (bench/moto_bench_server.py, Replay). */
export interface AwsRun extends PlanFigures {
  readonly latencyMs: number;
  readonly throttle: 'off' | 'aws';
  readonly throttleScale: number;
  /**
   * The clients: without throttling, without a limiter (the client's own pace); with AWS's
   * throttling, paced by the config's `rateLimits`, as the CLI and the Lambda make them.
   */
  readonly pool: 'unpaced' | 'paced';
  /**
   * `cold`: every task definition described (the first run, or the CLI); `warm`: those the recorded
   * plan read held in the deployed remediator's cache, so only new revisions are described.
   */
  readonly taskDefinitionCache: 'cold' | 'warm';
  /** Seconds on a Lambda of each memory size (bench/aws-model.ts, lambdaSeconds), by MB. */
  readonly lambdaSeconds: Record<string, number>;
  /**
   * The most VPCs of an account of this shape one invocation of each memory size handles, from this
   * run alone (bench/aws-model.ts, largestAccount: linear, through the origin); null when incomplete.
   */
  readonly largestAccount: Record<string, number | null>;
  /** Requests the replay answered from what moto said; those it had not kept (served by moto). */
  readonly replayServed: number;
  readonly replayMisses: Record<string, number>;
  /** The bench server's CPU during the run: what answering cost it (not the client). */
  readonly serverCpuMs: number;
  /** Every Region planned, no call failed, no read skipped, the recorded plan's findings. */
  readonly complete: boolean;
  readonly sameFindings: boolean;
  readonly limiter?: PlanChildResult['limiter'];
}

export interface AwsProjection {
  /** What the full plan on moto left to replay. */
  readonly kept: { readonly answers: number; readonly bytes: number };
  readonly runs: readonly AwsRun[];
  /**
   * The least time AWS's buckets allow for the lower bound's calls (bench/aws-model.ts,
   * throttleFloor): whole buckets, and the limiter's share of them; the slowest buckets.
   */
  readonly throttleFloor: {
    readonly seconds: number;
    readonly share: number;
    readonly atShareSeconds: number;
    readonly slowest: ReadonlyArray<{ bucket: string; calls: number; seconds: number }>;
  };
  /**
   * The run the per-unit figures are of: the throttled one at the higher latency, else unthrottled.
   * Not `complete` (a call failed): its figures are of a plan that stopped early, not a projection.
   */
  readonly reference: {
    readonly latencyMs: number;
    readonly throttle: 'off' | 'aws';
    readonly complete: boolean;
  };
  /** Lambda seconds (by MB) per VPC, cluster and task definition of the account, of the reference run. */
  readonly perUnit: Record<string, { vpc: number; cluster: number; taskDefinition: number }>;
  /** The largest account of this shape one invocation handles, from this size alone (by MB). */
  readonly largestAccount: Record<string, number | null>;
}

const sameFindingSet = (a: PlanChildResult['findings'], b: PlanChildResult['findings']): boolean => {
  const key = (f: PlanChildResult['findings'][number]) => `${f.code}|${f.vpcId}|${f.service ?? ''}`;
  return JSON.stringify(a.map(key).sort()) === JSON.stringify(b.map(key).sort());
};

async function measureAws(
  endpoint: string,
  spec: AccountSpec,
  bound: LowerBound,
  recorded: PlanChildResult,
  args: Pick<Args, 'throttle' | 'throttleScale'>,
  child: string,
  /** The task definitions the recorded plan read (a file), for the warm-cache run. */
  taskDefinitions: string,
): Promise<AwsProjection> {
  const kept = await setReplay(endpoint, 'off');
  const runs: AwsRun[] = [];
  // Unthrottled at each latency; with --throttle aws, throttled at each latency, then (with the task
  // definitions the recorded plan read) throttled with a warm cache at the higher latency.
  const plans: Array<{ latencyMs: number; throttle: 'off' | 'aws'; cache: 'cold' | 'warm' }> = [
    ...AWS_LATENCIES_MS.map((latencyMs) => ({ latencyMs, throttle: 'off' as const, cache: 'cold' as const })),
  ];
  if (args.throttle === 'aws') {
    plans.push(
      ...AWS_LATENCIES_MS.map((latencyMs) => ({
        latencyMs,
        throttle: 'aws' as const,
        cache: 'cold' as const,
      })),
    );
    plans.push({ latencyMs: Math.max(...AWS_LATENCIES_MS), throttle: 'aws', cache: 'warm' });
  }
  for (const { latencyMs, throttle, cache } of plans) {
    log(
      `${spec.size}: full plan replayed at ${latencyMs} ms a request, throttling ${throttle}` +
        (cache === 'warm' ? ', task definitions cached' : ''),
    );
    await setThrottle(endpoint, throttle === 'aws', args.throttleScale);
    await setReplay(endpoint, 'replay', latencyMs);
    const cpuBefore = await serverCpu(endpoint);
    try {
      const pool = throttle === 'aws' ? 'paced' : 'unpaced';
      const { figures, result } = await measurePlan(endpoint, spec, bound, {
        pool,
        child,
        servedByMoto: false,
        ...(cache === 'warm' ? { taskDefinitionsIn: taskDefinitions } : {}),
      });
      const cpuAfter = await serverCpu(endpoint);
      const stats = await setReplay(endpoint, 'off');
      const complete =
        figures.failedCalls === 0 && figures.failedRegions.length === 0 && figures.skippedReads === 0;
      const seconds = Object.fromEntries(
        LAMBDA_MEMORY_MB.map((mb) => [String(mb), round1(lambdaSeconds(figures.wallMs, figures.cpuMs, mb))]),
      );
      runs.push({
        ...figures,
        latencyMs,
        throttle,
        throttleScale: throttle === 'aws' ? args.throttleScale : 1,
        pool,
        taskDefinitionCache: cache,
        lambdaSeconds: seconds,
        largestAccount: Object.fromEntries(
          LAMBDA_MEMORY_MB.map((mb) => [
            String(mb),
            complete
              ? (largestAccount([{ vpcs: SIZES[spec.size].vpcs, seconds: seconds[String(mb)] ?? 0 }])?.vpcs ??
                null)
              : null,
          ]),
        ),
        replayServed: stats.served,
        replayMisses: stats.misses,
        serverCpuMs: Math.round((cpuAfter.seconds - cpuBefore.seconds) * 1000),
        complete,
        sameFindings: sameFindingSet(recorded.findings, result.findings),
        ...(result.limiter ? { limiter: result.limiter } : {}),
      });
    } finally {
      await setReplay(endpoint, 'off');
      await setThrottle(endpoint, false);
    }
  }
  const share = parseConfig({}).rateLimits.share;
  const floor = throttleFloor(bound.byOperation);
  const reference =
    runs.findLast((run) => run.throttle === args.throttle && run.taskDefinitionCache === 'cold') ??
    runs[runs.length - 1] ??
    undefined;
  const p = SIZES[spec.size];
  const perUnit: AwsProjection['perUnit'] = {};
  const largest: AwsProjection['largestAccount'] = {};
  for (const mb of LAMBDA_MEMORY_MB) {
    const seconds = reference?.lambdaSeconds[String(mb)] ?? 0;
    perUnit[String(mb)] = {
      vpc: round3(seconds / p.vpcs),
      cluster: round3(seconds / p.clusters),
      taskDefinition: round3(seconds / p.taskDefinitions),
    };
    largest[String(mb)] = largestAccount([{ vpcs: p.vpcs, seconds }])?.vpcs ?? null;
  }
  return {
    kept: { answers: kept.answers, bytes: kept.bytes },
    runs,
    throttleFloor: {
      seconds: round1(floor.seconds),
      share,
      atShareSeconds: round1(throttleFloor(bound.byOperation, share).seconds),
      slowest: floor.buckets
        .slice(0, 3)
        .map(({ bucket, calls, seconds }) => ({ bucket, calls, seconds: round1(seconds) })),
    },
    reference: {
      latencyMs: reference?.latencyMs ?? 0,
      throttle: reference?.throttle ?? 'off',
      complete: reference?.complete ?? false,
    },
    perUnit,
    largestAccount: largest,
  };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------------------------------
export interface SizeResult {
  readonly size: SizeName;
  readonly account: SizeParams;
  /** Seconds moto took to seed the account, and its peak RSS then. */
  readonly seed: { readonly seconds: number; readonly motoRssMb: number };
  /**
   * The machine's 1-minute load average when the size started and ended (2 cores, shared): wall times
   * measured under a load above 2 include waiting for a core.
   */
  readonly loadAverage: readonly [number, number];
  readonly plan: PlanFigures;
  /** The full plan replayed at AWS-like latencies, with and (`--throttle aws`) without throttling. */
  readonly aws: AwsProjection;
  /** The event-scoped plan with the cluster index (the deployed path after a sweep); null with --full-plan-only. */
  readonly eventReconcile: (PlanFigures & { readonly vpcId: string; readonly clusters: number }) | null;
  /** The same without an index (the CLI, a first run): every cluster is read. */
  readonly eventReconcileUnindexed: (PlanFigures & { readonly vpcId: string }) | null;
  readonly bundles: readonly BundleFigures[];
  readonly custodian:
    | (CustodianRun &
        Comparison & {
          readonly withEcsInventory: CustodianRun;
        })
    | null;
  /**
   * Our full plan with only the shared detection's checks on (config `checks.disabled`), run with
   * Custodian; `sameFindings`: it reports exactly the full plan's findings of that detection.
   */
  readonly sharedSubset: (PlanFigures & { readonly sameFindings: boolean }) | null;
  /** The shared subset and Custodian + ECS inventory again, every request delayed `latencyMs`. */
  readonly withLatency: {
    readonly latencyMs: number;
    readonly sharedSubset: PlanFigures;
    readonly custodianWithEcsInventory: CustodianRun;
  } | null;
}

async function benchSize(
  size: SizeName,
  accountIndex: number,
  bundles: readonly BundleFigures[],
  c7n: string | undefined,
  args: Args,
  child: string,
): Promise<SizeResult> {
  const accountId = `31000000000${accountIndex}`;
  const spec = buildSpec(size, accountId, REGION);
  const loadAtStart = round1(os.loadavg()[0] ?? 0);
  log(`${size}: starting a fresh moto server (load average ${loadAtStart})`);
  const server = await startServer();
  try {
    const seeded = await seed(server.endpoint, spec);
    const vpcIds = seeded.vpcIds;
    log(`${size}: full plan (moto's answers kept for the replays)`);
    await setReplay(server.endpoint, 'record');
    const taskDefinitions = path.join(path.dirname(child), `task-definitions-${size}.json`);
    const full = await measurePlan(server.endpoint, spec, lowerBound(spec), {
      taskDefinitionsOut: taskDefinitions,
    }).finally(() => setReplay(server.endpoint, 'off'));
    const aws = await measureAws(
      server.endpoint,
      spec,
      lowerBound(spec),
      full.result,
      args,
      child,
      taskDefinitions,
    );
    let event: SizeResult['eventReconcile'] = null;
    let unindexed: SizeResult['eventReconcileUnindexed'] = null;
    if (!args.fullPlanOnly) {
      const eventVpc = vpcIds[EVENT_VPC] ?? '';
      const hint = hintedClusters(full.result.clusterIndex, [eventVpc]);
      log(`${size}: event-scoped plan of ${EVENT_VPC} (${eventVpc}), indexed: ${hint.length} clusters`);
      const only = new Set([EVENT_VPC]);
      const indexed = await measurePlan(server.endpoint, spec, lowerBound(spec, only, 'indexed'), {
        vpcIds: [eventVpc],
        clusterArns: hint,
      });
      event = { ...indexed.figures, vpcId: EVENT_VPC, clusters: hint.length };
      log(`${size}: event-scoped plan of ${EVENT_VPC}, no index`);
      const all = await measurePlan(server.endpoint, spec, lowerBound(spec, only, 'all'), {
        vpcIds: [eventVpc],
      });
      unindexed = { ...all.figures, vpcId: EVENT_VPC };
    }
    let custodian: SizeResult['custodian'] = null;
    let sharedSubset: SizeResult['sharedSubset'] = null;
    let withLatency: SizeResult['withLatency'] = null;
    if (c7n !== undefined) {
      // The two runs of the comparison, made twice: on moto alone, then with AWS-like latency.
      // The full plan's bound without the reads the disabled checks alone need.
      const subsetBound = withoutOperations(lowerBound(spec), SHARED_SUBSET_SKIPPED_OPERATIONS);
      const measureSubset = () =>
        measurePlan(server.endpoint, spec, subsetBound, { config: sharedSubsetConfig() });
      const custodianFiles = ['bench/custodian/ecs-endpoints.yml'];
      const inventoryFiles = [...custodianFiles, 'bench/custodian/ecs-inventory.yml'];
      log(`${size}: full plan of the shared subset (the checks Custodian can express)`);
      const subset = await measureSubset();
      sharedSubset = {
        ...subset.figures,
        sameFindings: sameSharedFindings(full.result.findings, subset.result.findings),
      };
      log(`${size}: Cloud Custodian`);
      const detection = await runCustodian(c7n, server.endpoint, accountId, custodianFiles);
      const inventory = await runCustodian(c7n, server.endpoint, accountId, inventoryFiles);
      custodian = {
        ...detection.figures,
        ...compareFindings(full.result.findings, detection.flagged),
        withEcsInventory: inventory.figures,
      };
      log(
        `${size}: the shared subset and Custodian + ECS inventory again, ${SIMULATED_LATENCY_MS} ms a request`,
      );
      await setLatency(server.endpoint, SIMULATED_LATENCY_MS);
      try {
        const slowSubset = await measureSubset();
        const slowInventory = await runCustodian(c7n, server.endpoint, accountId, inventoryFiles);
        withLatency = {
          latencyMs: SIMULATED_LATENCY_MS,
          sharedSubset: slowSubset.figures,
          custodianWithEcsInventory: slowInventory.figures,
        };
      } finally {
        await setLatency(server.endpoint, 0);
      }
    }
    const p = SIZES[size];
    return {
      size,
      account: { ...p },
      seed: { seconds: seeded.seconds, motoRssMb: seeded.maxRssMb },
      loadAverage: [loadAtStart, round1(os.loadavg()[0] ?? 0)],
      plan: full.figures,
      aws,
      eventReconcile: event,
      eventReconcileUnindexed: unindexed,
      bundles,
      custodian,
      sharedSubset,
      withLatency,
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------
const pad = (text: string | number, width: number): string => String(text).padStart(width);

/** `* 44 (ec2 36, ecs 12, …)`: the most requests at once in all, then per service. */
function inFlightText(peak: Readonly<Record<string, number>>): string {
  const services = Object.entries(peak)
    .filter(([service]) => service !== '*')
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([service, n]) => `${service} ${n}`);
  return `${peak['*'] ?? 0} (${services.join(', ')})`;
}

function failuresText(f: PlanFigures): string {
  const failed = Object.entries(f.failedCallsByOperation)
    .map(
      ([operation, byKind]) =>
        `${operation} ${Object.entries(byKind)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}`,
    )
    .join('; ');
  return (
    `${f.failedCalls} failed calls${failed ? ` (${failed})` : ''}, ${f.failedRegions.length} failed Regions` +
    `${f.failedRegions.length > 0 ? ` (${f.failedRegions.join('; ').slice(0, 300)})` : ''}, ${f.skippedReads} skipped reads`
  );
}

function awsText(r: SizeResult): string[] {
  const w = r.aws;
  const lines = [
    `AWS projection: the full plan again, moto's ${w.kept.answers} kept answers (${(w.kept.bytes / 2 ** 20).toFixed(1)} MiB) ` +
      'replayed without moto by the bundled plan (throttling off: no limiter, the client alone; ' +
      "throttling aws: AWS's buckets in front, the clients paced by rateLimits as the CLI and the Lambda make them):",
    `  throttle floor of the lower bound's calls: ${w.throttleFloor.seconds} s at AWS's buckets, ` +
      `${w.throttleFloor.atShareSeconds} s at the limiter's share (${w.throttleFloor.share}); slowest: ` +
      w.throttleFloor.slowest.map((b) => `${b.bucket} ${b.calls} calls ${b.seconds} s`).join(', '),
  ];
  for (const run of w.runs) {
    const throttled = Object.entries(run.throttledByOperation)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([operation, n]) => `${operation} ${n}`)
      .join(', ');
    lines.push(
      `  ${run.latencyMs} ms a request, throttling ${run.throttle}${run.taskDefinitionCache === 'warm' ? ', task definitions cached' : ''}${run.throttle === 'aws' && run.throttleScale !== 1 ? ` ×${run.throttleScale}` : ''}: ` +
        `${run.apiCalls} calls (server ${run.serverCountedCalls}), ${run.throttledAnswers} throttled${throttled ? ` (${throttled})` : ''}; ` +
        `${failuresText(run)}; ${run.complete ? 'complete' : 'INCOMPLETE'}, findings ${run.sameFindings ? 'as recorded' : 'DIFFER'}`,
    );
    lines.push(
      `    plan ${run.wallMs} ms wall, ${run.cpuMs} ms CPU, peak RSS ${run.peakRssMb} MB; Lambda ` +
        Object.entries(run.lambdaSeconds)
          .map(([mb, seconds]) => `${mb} MB ${seconds} s (≈ ${run.largestAccount[mb] ?? '?'} VPCs a run)`)
          .join(', ') +
        `; most requests at once ${inFlightText(run.peakInFlight)}; server CPU ${run.serverCpuMs} ms` +
        (Object.keys(run.replayMisses).length > 0
          ? `; NOT KEPT (served by moto): ${JSON.stringify(run.replayMisses)}`
          : '') +
        (run.limiter
          ? `; limiter: ${run.limiter.throttled} throttled, ${run.limiter.backoffs} back-offs`
          : ''),
    );
  }
  const ref =
    `${w.reference.latencyMs} ms, throttling ${w.reference.throttle}` +
    (w.reference.complete ? '' : ': INCOMPLETE, calls failed: not a projection');
  for (const [mb, unit] of Object.entries(w.perUnit)) {
    lines.push(
      `  at ${mb} MB (${ref}): ${unit.vpc} s per VPC, ${unit.cluster} s per cluster, ${unit.taskDefinition} s ` +
        `per task definition; one invocation (${LAMBDA_TIMEOUT_SECONDS} s, ${BUDGET_HEADROOM}× headroom) handles ` +
        `≈ ${w.largestAccount[mb] ?? '?'} VPCs of this shape (linear from this size alone)`,
    );
  }
  return lines;
}

/**
 * With several sizes: the largest account one invocation handles, from a line through every size's
 * projection (bench/aws-model.ts, largestAccount), of the reference run (cold task definition cache)
 * and, when measured, of the warm-cache run. Incomplete runs (calls failed) are left out.
 */
export function largestAccountText(results: readonly SizeResult[]): string[] {
  if (results.length < 2) return [];
  const lines: string[] = [];
  const cases: Array<[string, (r: SizeResult) => AwsRun | undefined]> = [
    [
      'cold task definition cache',
      (r) =>
        r.aws.runs.find(
          (run) =>
            run.latencyMs === r.aws.reference.latencyMs &&
            run.throttle === r.aws.reference.throttle &&
            run.taskDefinitionCache === 'cold',
        ),
    ],
    ['task definitions cached', (r) => r.aws.runs.find((run) => run.taskDefinitionCache === 'warm')],
  ];
  for (const [label, runOf] of cases) {
    for (const mb of LAMBDA_MEMORY_MB) {
      const points = results.flatMap((r) => {
        const run = runOf(r);
        return run?.complete ? [{ vpcs: r.account.vpcs, seconds: run.lambdaSeconds[String(mb)] ?? 0 }] : [];
      });
      const fit = points.length > 1 ? largestAccount(points) : undefined;
      if (!fit) continue;
      lines.push(
        `Largest account one ${mb} MB invocation handles, ${label} (${LAMBDA_TIMEOUT_SECONDS} s timeout, ` +
          `${BUDGET_HEADROOM}× headroom, a line through ${points.length} sizes: ${round3(fit.secondsPerVpc)} s per VPC + ` +
          `${round1(fit.fixedSeconds)} s): ≈ ${fit.vpcs} VPCs, ${round1(fit.vpcs / SIZES.L.vpcs)} × L`,
      );
    }
  }
  return lines;
}

export function renderText(results: readonly SizeResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const a = r.account;
    lines.push(
      `== size ${r.size}: ${a.vpcs} VPCs, ${a.clusters} clusters, ${a.containerInstances} container instances, ` +
        `${a.services} services, ${a.taskDefinitions} task definitions, ${a.endpoints} endpoints, ${a.tasks} tasks`,
    );
    lines.push(
      `seeded in ${r.seed.seconds} s (moto's peak RSS ${r.seed.motoRssMb} MB); load average ` +
        `${r.loadAverage[0]} at the start, ${r.loadAverage[1]} at the end (2 cores)`,
    );
    const plans: Array<readonly [string, PlanFigures]> = [['full plan', r.plan]];
    if (r.eventReconcile)
      plans.push([
        `event-scoped plan (${r.eventReconcile.vpcId}, indexed: ${r.eventReconcile.clusters} clusters)`,
        r.eventReconcile,
      ]);
    if (r.eventReconcileUnindexed)
      plans.push([
        `event-scoped plan (${r.eventReconcileUnindexed.vpcId}, no index)`,
        r.eventReconcileUnindexed,
      ]);
    for (const [label, f] of plans) {
      lines.push(
        `${label}: ${f.apiCalls} API calls (server counted ${f.serverCountedCalls}), lower bound ${f.apiCallLowerBound}, ` +
          `ratio ${f.ratio}; plan ${f.wallMs} ms wall, ${f.cpuMs} ms CPU, peak RSS ${f.peakRssMb} MB; ` +
          `process ${f.processWallMs} ms; ${f.vpcsInScope} VPCs in scope, ${f.findings} findings`,
      );
      lines.push(
        `  moto served it in ${f.serverMs} ms; costliest: ` +
          Object.entries(f.serverMsTop)
            .map(([operation, ms]) => `${operation} ${ms} ms`)
            .join(', '),
      );
      lines.push(`  most requests at once: ${inFlightText(f.peakInFlight)}`);
      const width = Math.max(36, ...Object.keys(f.byOperation).map((operation) => operation.length));
      lines.push(`  ${'operation'.padEnd(width)} ${pad('calls', 7)} ${pad('bound', 7)}`);
      for (const [operation, { calls, lowerBound: lb }] of Object.entries(f.byOperation).sort()) {
        lines.push(`  ${operation.padEnd(width)} ${pad(calls, 7)} ${pad(lb ?? '-', 7)}`);
      }
    }
    lines.push(...awsText(r));
    if (r.custodian) {
      const c = r.custodian;
      lines.push(
        `Cloud Custodian (9 endpoint policies): ${c.wallMs} ms (moto ${c.serverMs} ms), ${c.apiCalls} API calls; reproduces ` +
          `${c.findingsReproduced} of our ${c.sharedFindings} shared findings, flags ${c.custodianOnly} ` +
          `(VPC, service) pairs we do not`,
      );
      lines.push(
        `Cloud Custodian + ECS inventory policies: ${c.withEcsInventory.wallMs} ms (moto ${c.withEcsInventory.serverMs} ms), ` +
          `${c.withEcsInventory.apiCalls} API calls`,
      );
    }
    if (r.sharedSubset) {
      const f = r.sharedSubset;
      lines.push(
        `our full plan of the shared subset (checks.disabled: all but ${SHARED_DETECTION_CODES.join(', ')}): ` +
          `${f.processWallMs} ms process (plan ${f.wallMs} ms, moto ${f.serverMs} ms), ${f.apiCalls} API calls ` +
          `(lower bound ${f.apiCallLowerBound}); same shared findings as the full plan: ${f.sameFindings ? 'yes' : 'NO'}`,
      );
    }
    if (r.withLatency) {
      const w = r.withLatency;
      lines.push(
        `with ${w.latencyMs} ms a request: our shared subset ${w.sharedSubset.processWallMs} ms process ` +
          `(${w.sharedSubset.apiCalls} calls); Custodian + ECS inventory ${w.custodianWithEcsInventory.wallMs} ms ` +
          `(${w.custodianWithEcsInventory.apiCalls} calls)`,
      );
    }
    lines.push('');
  }
  const bundles = results[0]?.bundles ?? [];
  if (bundles.length > 0) {
    lines.push('Lambda handlers (esbuild, minified, cjs, node24):');
    for (const b of bundles) {
      lines.push(
        `  ${b.handler.padEnd(28)} ${pad((b.bytes / 1024).toFixed(0), 6)} KiB  cold import +${b.coldImportMs} ms`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const CHART = path.join(ROOT, 'docs', 'benchmarks.svg');
const START = '<!-- bench:figures:start -->';
const END = '<!-- bench:figures:end -->';

/** The AWS projection's rows of the figures table (bench/aws-model.ts; docs/benchmarks.md explains them). */
function awsRows(
  results: readonly SizeResult[],
  row: (cells: readonly (string | number)[]) => string,
): string[] {
  const runOf = (r: SizeResult, latencyMs: number, throttle: 'off' | 'aws') =>
    r.aws.runs.find(
      (run) => run.latencyMs === latencyMs && run.throttle === throttle && run.taskDefinitionCache === 'cold',
    );
  const rows: string[] = [];
  for (const throttle of ['off', 'aws'] as const) {
    if (!results.some((r) => r.aws.runs.some((run) => run.throttle === throttle))) continue;
    const label = throttle === 'aws' ? "AWS's buckets, paced clients" : 'unthrottled, unpaced';
    for (const latencyMs of AWS_LATENCIES_MS) {
      const cell = (f: (run: AwsRun) => string | number) =>
        results.map((r) => {
          const run = runOf(r, latencyMs, throttle);
          return run ? f(run) : '-';
        });
      const at = `replayed at ${latencyMs} ms, ${label}`;
      rows.push(row([`${at}: plan wall ms`, ...cell((run) => run.wallMs)]));
      rows.push(row([`${at}: CPU ms`, ...cell((run) => run.cpuMs)]));
      if (throttle === 'aws') {
        rows.push(row([`${at}: throttled answers`, ...cell((run) => run.throttledAnswers)]));
        rows.push(
          row([
            `${at}: failed calls / Regions`,
            ...cell((run) => `${run.failedCalls} / ${run.failedRegions.length}`),
          ]),
        );
      }
      for (const mb of LAMBDA_MEMORY_MB)
        rows.push(row([`${at}: Lambda ${mb} MB s`, ...cell((run) => run.lambdaSeconds[String(mb)] ?? '-')]));
      rows.push(row([`${at}: most requests at once`, ...cell((run) => run.peakInFlight['*'] ?? 0)]));
    }
  }
  const warm = (r: SizeResult) => r.aws.runs.find((run) => run.taskDefinitionCache === 'warm');
  if (results.some(warm)) {
    const at = `replayed at ${Math.max(...AWS_LATENCIES_MS)} ms, AWS's buckets, paced, task definitions cached`;
    rows.push(row([`${at}: plan wall ms`, ...results.map((r) => warm(r)?.wallMs ?? '-')]));
    rows.push(row([`${at}: API calls`, ...results.map((r) => warm(r)?.apiCalls ?? '-')]));
    for (const mb of LAMBDA_MEMORY_MB)
      rows.push(
        row([`${at}: Lambda ${mb} MB s`, ...results.map((r) => warm(r)?.lambdaSeconds[String(mb)] ?? '-')]),
      );
  }
  rows.push(
    row([
      'throttle floor of the lower bound, s (AWS buckets)',
      ...results.map((r) => r.aws.throttleFloor.seconds),
    ]),
  );
  rows.push(
    row([
      "throttle floor of the lower bound, s (the limiter's share)",
      ...results.map((r) => r.aws.throttleFloor.atShareSeconds),
    ]),
  );
  return rows;
}

function figuresMarkdown(results: readonly SizeResult[], command: string): string {
  const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on this project's 2-core machine with \`${command}\`` +
      ` (Node ${process.versions.node}, moto 5.2.5, ${C7N_REQUIREMENT}).`,
    '',
    row(['size', 'VPCs', 'clusters', 'container instances', 'services', 'task definitions', 'endpoints']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:'].map(String)),
    ...results.map((r) =>
      row([
        r.size,
        r.account.vpcs,
        r.account.clusters,
        r.account.containerInstances,
        r.account.services,
        r.account.taskDefinitions,
        r.account.endpoints,
      ]),
    ),
    '',
    row(['', ...results.map((r) => r.size)]),
    row(['---', ...results.map(() => '---:')]),
    row(['full plan: API calls', ...results.map((r) => r.plan.apiCalls)]),
    row(['full plan: lower bound', ...results.map((r) => r.plan.apiCallLowerBound)]),
    row(['full plan: ratio (target ≤ 1.10)', ...results.map((r) => r.plan.ratio)]),
    row(['full plan: calls counted by the server', ...results.map((r) => r.plan.serverCountedCalls)]),
    row(['full plan: wall ms', ...results.map((r) => r.plan.wallMs)]),
    row(['full plan: CPU ms', ...results.map((r) => r.plan.cpuMs)]),
    row(['full plan: peak RSS MB', ...results.map((r) => r.plan.peakRssMb)]),
    row(['full plan: process wall ms', ...results.map((r) => r.plan.processWallMs)]),
    row(['full plan: moto request latency, summed (ms)', ...results.map((r) => r.plan.serverMs)]),
    row(['full plan: most requests at once (moto)', ...results.map((r) => r.plan.peakInFlight['*'] ?? 0)]),
    ...awsRows(results, row),
    row([
      'event-scoped plan (1 VPC, indexed): clusters read',
      ...results.map((r) => r.eventReconcile?.clusters ?? '-'),
    ]),
    row(['event-scoped plan (indexed): API calls', ...results.map((r) => r.eventReconcile?.apiCalls ?? '-')]),
    row([
      'event-scoped plan (indexed): lower bound',
      ...results.map((r) => r.eventReconcile?.apiCallLowerBound ?? '-'),
    ]),
    row(['event-scoped plan (indexed): wall ms', ...results.map((r) => r.eventReconcile?.wallMs ?? '-')]),
    row([
      'event-scoped plan (indexed): peak RSS MB',
      ...results.map((r) => r.eventReconcile?.peakRssMb ?? '-'),
    ]),
    row([
      'event-scoped plan (no index): API calls',
      ...results.map((r) => r.eventReconcileUnindexed?.apiCalls ?? '-'),
    ]),
    row([
      'event-scoped plan (no index): lower bound',
      ...results.map((r) => r.eventReconcileUnindexed?.apiCallLowerBound ?? '-'),
    ]),
    row([
      'event-scoped plan (no index): wall ms',
      ...results.map((r) => r.eventReconcileUnindexed?.wallMs ?? '-'),
    ]),
    row(['Custodian: API calls', ...results.map((r) => r.custodian?.apiCalls ?? '-')]),
    row(['Custodian: process wall ms', ...results.map((r) => r.custodian?.wallMs ?? '-')]),
    row([
      'Custodian: moto request latency, summed (ms)',
      ...results.map((r) => r.custodian?.serverMs ?? '-'),
    ]),
    row([
      'Custodian + ECS inventory: API calls',
      ...results.map((r) => r.custodian?.withEcsInventory.apiCalls ?? '-'),
    ]),
    row([
      'Custodian + ECS inventory: process wall ms',
      ...results.map((r) => r.custodian?.withEcsInventory.wallMs ?? '-'),
    ]),
    row([
      'Custodian + ECS inventory: moto latency, summed (ms)',
      ...results.map((r) => r.custodian?.withEcsInventory.serverMs ?? '-'),
    ]),
    row(['ours, shared subset: API calls', ...results.map((r) => r.sharedSubset?.apiCalls ?? '-')]),
    row([
      'ours, shared subset: lower bound',
      ...results.map((r) => r.sharedSubset?.apiCallLowerBound ?? '-'),
    ]),
    row([
      'ours, shared subset: process wall ms',
      ...results.map((r) => r.sharedSubset?.processWallMs ?? '-'),
    ]),
    row([
      'ours, shared subset: moto latency, summed (ms)',
      ...results.map((r) => r.sharedSubset?.serverMs ?? '-'),
    ]),
    row([
      'ours, shared subset: same findings as the full plan',
      ...results.map((r) => (r.sharedSubset ? (r.sharedSubset.sameFindings ? 'yes' : 'no') : '-')),
    ]),
    row([
      `with ${SIMULATED_LATENCY_MS} ms a request: ours, shared subset, process wall ms`,
      ...results.map((r) => r.withLatency?.sharedSubset.processWallMs ?? '-'),
    ]),
    row([
      `with ${SIMULATED_LATENCY_MS} ms a request: Custodian + ECS inventory, process wall ms`,
      ...results.map((r) => r.withLatency?.custodianWithEcsInventory.wallMs ?? '-'),
    ]),
    row([
      'our shared findings reproduced by Custodian',
      ...results.map((r) =>
        r.custodian ? `${r.custodian.findingsReproduced} / ${r.custodian.sharedFindings}` : '-',
      ),
    ]),
    row([
      'Custodian pairs flagged that we do not report',
      ...results.map((r) => r.custodian?.custodianOnly ?? '-'),
    ]),
    '',
    row(['Lambda handler', 'bundle KiB (minified)', 'cold import ms over bare node']),
    row(['---', '---:', '---:']),
    ...(results[0]?.bundles ?? []).map((b) =>
      row([`\`${b.handler}\``, (b.bytes / 1024).toFixed(0), b.coldImportMs]),
    ),
  ];
  return lines.join('\n');
}

function writeDocs(results: readonly SizeResult[], command: string): void {
  const sizes = results.map((r) => r.size);
  const svg = renderChart(
    sizes,
    [
      {
        title: 'API calls per run',
        unit: 'calls',
        series: [
          { name: 'full plan', color: '#1f77b4', values: results.map((r) => r.plan.apiCalls) },
          {
            name: 'lower bound',
            color: '#1f77b4',
            dashed: true,
            values: results.map((r) => r.plan.apiCallLowerBound),
          },
          {
            name: 'event-scoped (1 VPC, indexed)',
            color: '#2ca02c',
            values: results.map((r) => r.eventReconcile?.apiCalls ?? 0),
          },
          {
            name: 'event-scoped (1 VPC, no index)',
            color: '#2ca02c',
            dashed: true,
            values: results.map((r) => r.eventReconcileUnindexed?.apiCalls ?? 0),
          },
          {
            name: 'ours, shared subset',
            color: '#9467bd',
            values: results.map((r) => r.sharedSubset?.apiCalls ?? 0),
          },
          {
            name: 'Custodian + ECS inventory',
            color: '#d62728',
            values: results.map((r) => r.custodian?.withEcsInventory.apiCalls ?? 0),
          },
        ],
      },
      {
        title: 'Time per run',
        unit: 'ms',
        series: [
          { name: 'full plan (process)', color: '#1f77b4', values: results.map((r) => r.plan.processWallMs) },
          {
            name: 'event-scoped, indexed (process)',
            color: '#2ca02c',
            values: results.map((r) => r.eventReconcile?.processWallMs ?? 0),
          },
          {
            name: 'ours, shared subset (process)',
            color: '#9467bd',
            values: results.map((r) => r.sharedSubset?.processWallMs ?? 0),
          },
          {
            name: `ours, shared subset, ${SIMULATED_LATENCY_MS} ms a request`,
            color: '#9467bd',
            dashed: true,
            values: results.map((r) => r.withLatency?.sharedSubset.processWallMs ?? 0),
          },
          {
            name: `Custodian + ECS inventory, ${SIMULATED_LATENCY_MS} ms a request`,
            color: '#d62728',
            dashed: true,
            values: results.map((r) => r.withLatency?.custodianWithEcsInventory.wallMs ?? 0),
          },
          {
            name: 'Custodian (endpoints only)',
            color: '#ff7f0e',
            dashed: true,
            values: results.map((r) => r.custodian?.wallMs ?? 0),
          },
          {
            name: 'Custodian + ECS inventory',
            color: '#d62728',
            values: results.map((r) => r.custodian?.withEcsInventory.wallMs ?? 0),
          },
        ],
      },
    ],
    `account size S → M → L (moto on 2 cores), ${command}`,
  );
  writeFileSync(CHART, svg);
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${DOC}: markers ${START} … ${END} not found`);
  writeFileSync(
    DOC,
    `${doc.slice(0, start + START.length)}\n${figuresMarkdown(results, command)}\n${doc.slice(end)}`,
  );
  // The tables as Prettier lays them out, so that `prettier --check .` stays clean.
  spawnSync(path.join(ROOT, 'node_modules', '.bin', 'prettier'), ['--write', DOC], { stdio: 'ignore' });
  log(`wrote ${path.relative(ROOT, DOC)} and ${path.relative(ROOT, CHART)}`);
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------
/** `--units`: per size, a fresh server and account, the sweep split into units (bench/units.ts). */
async function benchUnitsSize(
  size: SizeName,
  accountIndex: number,
  args: Args,
  child: string,
): Promise<string> {
  const spec = buildSpec(size, `31000000000${accountIndex}`, REGION);
  log(`${size}: starting a fresh moto server (load average ${round1(os.loadavg()[0] ?? 0)})`);
  const server = await startServer();
  let replaying: MotoServer | undefined;
  try {
    // The replays' server: moto empty, answering from what the recording server hands it (bench/units.ts).
    const replayer = (replaying = await startServer());
    await seed(server.endpoint, spec);
    const none: LowerBound = { total: 0, byOperation: {}, byService: {} };
    const result = await benchUnits({
      measure: async (run, how) => {
        const endpoint = how === 'served' ? server.endpoint : replayer.endpoint;
        const { figures, result: child_ } = await measurePlan(endpoint, spec, none, {
          ...(run.mode === 'plan' ? {} : { mode: run.mode }),
          ...(run.vpcIds ? { vpcIds: run.vpcIds } : {}),
          ...(run.clusterArns ? { clusterArns: run.clusterArns } : {}),
          ...(how === 'replayed' ? { pool: 'paced' as const, child, servedByMoto: false } : {}),
        });
        return {
          result: child_,
          throttledAnswers: figures.throttledAnswers,
          failedCalls: figures.failedCalls,
        };
      },
      record: async () => {
        await setReplay(server.endpoint, 'record');
      },
      handOver: async () => {
        const { answers } = await get<{ answers: unknown[] }>(server.endpoint, '/_bench/replay/kept');
        await post(replayer.endpoint, '/_bench/replay/kept', { answers });
        return answers.length;
      },
      stopRecording: async () => {
        await setReplay(server.endpoint, 'off');
      },
      replay: async (latencyMs, throttle) => {
        await setThrottle(replayer.endpoint, throttle, args.throttleScale);
        await setReplay(replayer.endpoint, 'replay', latencyMs);
      },
      off: async () => {
        const stats = await setReplay(replayer.endpoint, 'off');
        await setThrottle(replayer.endpoint, false);
        return Object.values(stats.misses).reduce((a, b) => a + b, 0);
      },
      log,
    });
    return args.output === 'json'
      ? `${JSON.stringify({ size, ...result }, null, 2)}\n`
      : unitsText(size, result);
  } finally {
    await Promise.all([server.stop(), replaying?.stop()]);
  }
}

/**
 * Runs `work` with the plan child bundled ({@link bundlePlanChild}) in a directory of its own: not
 * under .esbuild/, which packaging (osls) empties whenever it runs; removed when the work ends.
 */
async function withPlanChild(work: (child: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-plan-child-'));
  try {
    await work(await bundlePlanChild(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.units) {
    await withPlanChild(async (child) => {
      for (const [index, size] of args.sizes.entries())
        process.stdout.write(await benchUnitsSize(size, index + 1, args, child));
    });
    return;
  }
  const c7n = args.custodian ? ensureCustodian() : undefined;
  log('bundling the Lambda handlers');
  const bundles = await measureBundles();
  const results: SizeResult[] = [];
  await withPlanChild(async (child) => {
    for (const [index, size] of args.sizes.entries()) {
      results.push(await benchSize(size, index + 1, bundles, c7n, args, child));
    }
  });
  if (args.output === 'json') {
    const out = results.length === 1 ? results[0] : results;
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    process.stdout.write(renderText(results));
    const summary = largestAccountText(results);
    if (summary.length > 0) process.stdout.write(`${summary.join('\n')}\n`);
  }
  if (args.writeDocs)
    writeDocs(results, `npm run bench -- --size all${args.custodian ? '' : ' --no-custodian'}`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
