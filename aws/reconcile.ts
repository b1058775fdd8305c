/**
 * One reconcile: read every Region's truth, plan, and (when asked) apply. The CLI and the Lambda
 * handlers are thin shells over these two functions.
 */
import type { Config } from '../core/config.ts';
import type { ReclaimClock, RegionSnapshot } from '../core/model.ts';
import { defaultConfig } from '../core/config.ts';
import type { FailedRegion, Plan } from '../core/plan.ts';
import { buildPlan } from '../core/plan.ts';
import type { ActionResult, ApiCallCounts } from '../core/report.ts';
import { sumApiCallCounts } from '../core/report.ts';
import { applyPlan } from './apply.ts';
import type { AwsClients, ClientOptions } from './clients.ts';
import { createClients } from './clients.ts';
import { discoverRegion } from './discover.ts';
import { errorMessage } from './errors.ts';
import type { TaskDefinitionCache } from './discover/task-definitions.ts';
import type { CreationRecorder } from './ownership.ts';
import type { RateLimiter } from './rate-limit.ts';
import { createRateLimiter } from './rate-limit.ts';

/** SDK clients per Region, made once and shared by discovery and apply, with their call counts. */
export interface ClientPool {
  readonly clientsFor: (region: string) => AwsClients;
  /** The calls sent so far by every Region's clients. */
  readonly apiCalls: () => ApiCallCounts;
  /**
   * The rate limiter every Region's clients share (with `options.rateLimits`): one bucket per Region
   * and bucket, one for every Region for Route 53 and IAM (aws/rate-limit.ts).
   */
  readonly limiter?: RateLimiter;
}

/**
 * A pool of clients made with `options` (see ClientOptions: `rateLimits` turns the shared limiter on,
 * `deadline` bounds how long throttled requests are retried). Throws ConfigError for a
 * `rateLimits.buckets` entry that names no family.
 */
export function createClientPool(options: ClientOptions = {}): ClientPool {
  const pool = new Map<string, AwsClients>();
  const limiter = options.limiter ?? (options.rateLimits ? createRateLimiter(options.rateLimits) : undefined);
  const clientsFor = (region: string): AwsClients => {
    let clients = pool.get(region);
    if (!clients) {
      clients = createClients(region, { ...options, ...(limiter ? { limiter } : {}) });
      pool.set(region, clients);
    }
    return clients;
  };
  const apiCalls = (): ApiCallCounts =>
    sumApiCallCounts([...pool.values()].map((clients) => clients.calls.snapshot()));
  return { clientsFor, apiCalls, ...(limiter ? { limiter } : {}) };
}

export interface ReconcileRequest {
  readonly regions: readonly string[];
  readonly config: Config;
  readonly pool: ClientPool;
  /** Narrows the work to these VPCs (an event's hint); the whole account when absent. */
  readonly vpcIds?: readonly string[];
  /**
   * With `vpcIds`: the only ECS clusters to read (a cluster index's and the events'); every cluster when
   * absent. See `DiscoverOptions.clusterArns` (aws/discover.ts).
   */
  readonly clusterArns?: readonly string[];
  /** With `vpcIds`: see `DiscoverOptions.examineIdle` (aws/discover.ts). */
  readonly examineIdle?: boolean;
  /**
   * Without `vpcIds`: the Region's clusters, listed moments before (a split decided against):
   * discovery reads them instead of listing them again.
   */
  readonly listedClusterArns?: (region: string) => readonly string[] | undefined;
  readonly now?: Date;
  readonly onProgress?: (message: string) => void;
  /**
   * The deployed remediator's records of what it made in a Region (aws/ownership.ts): with them an
   * endpoint or group is the remediator's only when tagged and recorded. Absent, or undefined for a
   * Region: the managed tag alone decides (the CLI).
   */
  readonly ownedResourceIds?: (region: string) => ReadonlySet<string> | undefined;
  /**
   * The deployed remediator's reclaim clock of a Region (aws/reclaim.ts, core/reclaim.ts); absent (the
   * CLI): no clock, so nothing is deleted for being unneeded.
   */
  readonly reclaim?: (region: string) => ReclaimClock | undefined;
  /** Task definition revisions read before, per Region (the deployed remediator's state table). */
  readonly taskDefinitionCache?: (region: string) => TaskDefinitionCache | undefined;
  /**
   * The account the pool's credentials are in, when the run knows it (a role it assumed there): its
   * snapshots and failed Regions name it, and progress lines read `[<account> <region>]`.
   */
  readonly accountId?: string;
}

/** Discovers every Region (concurrently) and plans. Read-only. A failed Region is in `failedRegions`. */
export async function planAccount(request: ReconcileRequest): Promise<Plan> {
  return (await discoverAndPlanAccount(request)).plan;
}

/** A plan with the snapshots it was made from (one per Region that was read, in `regions` order). */
export interface AccountDiscovery {
  readonly plan: Plan;
  readonly snapshots: readonly RegionSnapshot[];
  /** Regions whose discovery failed, with the error (their findings and actions are absent from the plan). */
  readonly failures: ReadonlyArray<{ readonly region: string; readonly error: unknown }>;
}

/**
 * {@link planAccount}, also returning the snapshots (the deployed reconciler indexes them) and the
 * Regions that failed. One Region failing does not hide the others: its error is in `failures` and
 * in the plan's `failedRegions`, the other Regions' findings and actions are planned as usual.
 */
export async function discoverAndPlanAccount(request: ReconcileRequest): Promise<AccountDiscovery> {
  const { snapshots, failures, failedRegions } = await discoverSnapshots(request);
  return {
    plan: buildPlan(snapshots, request.config, request.now ?? new Date(), failedRegions),
    snapshots,
    failures,
  };
}

const listedOf = (clusterArns: readonly string[] | undefined) =>
  clusterArns === undefined ? {} : { listedClusterArns: clusterArns };

/** What discovery read of one account's Regions: a snapshot per Region read, and the ones that failed. */
export interface SnapshotDiscovery {
  readonly snapshots: readonly RegionSnapshot[];
  readonly failures: ReadonlyArray<{ readonly region: string; readonly error: unknown }>;
  /** The failures as the report lists them (the Region named once; the account when known). */
  readonly failedRegions: readonly FailedRegion[];
}

/**
 * Discovers every Region of `request` (concurrently), without planning: a run over several accounts
 * plans their snapshots together (aws/organization-run.ts). One Region failing does not hide the others.
 */
export async function discoverSnapshots(request: ReconcileRequest): Promise<SnapshotDiscovery> {
  const label = request.accountId === undefined ? '' : `${request.accountId} `;
  const settled = await Promise.allSettled(
    request.regions.map((region) => {
      const taskDefinitionCache = request.taskDefinitionCache?.(region);
      return discoverRegion(request.pool.clientsFor(region), region, request.config, {
        ...(request.vpcIds ? { vpcIds: request.vpcIds } : {}),
        ...(request.vpcIds && request.clusterArns ? { clusterArns: request.clusterArns } : {}),
        ...(request.vpcIds && request.examineIdle ? { examineIdle: true } : {}),
        ...listedOf(request.vpcIds === undefined ? request.listedClusterArns?.(region) : undefined),
        ...(taskDefinitionCache ? { taskDefinitionCache } : {}),
        onProgress: (message) => request.onProgress?.(`[${label}${region}] ${message}`),
      });
    }),
  );
  const snapshots: RegionSnapshot[] = [];
  const failures: Array<{ region: string; error: unknown }> = [];
  settled.forEach((outcome, index) => {
    const region = request.regions[index] ?? '';
    const owned = request.ownedResourceIds?.(region);
    const reclaim = request.reclaim?.(region);
    if (outcome.status === 'fulfilled') {
      const snapshot =
        request.accountId === undefined ? outcome.value : { ...outcome.value, accountId: request.accountId };
      snapshots.push({
        ...snapshot,
        ...(owned ? { ownedResourceIds: [...owned].sort() } : {}),
        ...(reclaim ? { reclaim } : {}),
      });
    } else failures.push({ region, error: outcome.reason });
  });
  // A discovery error names its Region already: the report names it once.
  const failedRegions = failures.map(({ region, error }) => ({
    ...(request.accountId === undefined ? {} : { accountId: request.accountId }),
    region,
    error: errorMessage(error).replace(`${region}: `, ''),
  }));
  return { snapshots, failures, failedRegions };
}

/**
 * Executes a plan made by {@link planAccount} with the same pool. Pass the config the plan was made
 * with: its `agentRestart` settings (waves, waits, caps) govern the restarts. The deployed remediator
 * passes its `recorder` (aws/ownership.ts): each create is then recorded as its own.
 */
export function applyAccountPlan(
  plan: Plan,
  pool: ClientPool,
  onProgress?: (message: string) => void,
  config: Config = defaultConfig,
  recorder?: CreationRecorder,
): Promise<ActionResult[]> {
  return applyPlan(plan, pool.clientsFor, {
    agentRestart: config.agentRestart,
    ...(onProgress ? { onProgress } : {}),
    ...(recorder ? { recorder } : {}),
  });
}
