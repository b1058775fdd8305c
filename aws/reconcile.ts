/**
 * One reconcile: read every Region's truth, plan, and (when asked) apply. The CLI and the Lambda
 * handlers are thin shells over these two functions.
 */
import type { Config } from '../core/config.ts';
import type { RegionSnapshot } from '../core/model.ts';
import { defaultConfig } from '../core/config.ts';
import type { Plan } from '../core/plan.ts';
import { buildPlan } from '../core/plan.ts';
import type { ActionResult, ApiCallCounts } from '../core/report.ts';
import { applyPlan } from './apply.ts';
import type { AwsClients, ClientOptions } from './clients.ts';
import { createClients } from './clients.ts';
import { discoverRegion } from './discover.ts';

/** SDK clients per Region, made once and shared by discovery and apply, with their call counts. */
export interface ClientPool {
  readonly clientsFor: (region: string) => AwsClients;
  /** The calls sent so far by every Region's clients. */
  readonly apiCalls: () => ApiCallCounts;
}

export function createClientPool(options: ClientOptions = {}): ClientPool {
  const pool = new Map<string, AwsClients>();
  const clientsFor = (region: string): AwsClients => {
    let clients = pool.get(region);
    if (!clients) {
      clients = createClients(region, options);
      pool.set(region, clients);
    }
    return clients;
  };
  const apiCalls = (): ApiCallCounts => {
    const byService: Record<string, number> = {};
    const byOperation: Record<string, number> = {};
    let total = 0;
    for (const clients of pool.values()) {
      const counts = clients.calls.snapshot();
      total += counts.total;
      for (const [key, count] of Object.entries(counts.byService))
        byService[key] = (byService[key] ?? 0) + count;
      for (const [key, count] of Object.entries(counts.byOperation))
        byOperation[key] = (byOperation[key] ?? 0) + count;
    }
    return { total, byService, byOperation };
  };
  return { clientsFor, apiCalls };
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
  readonly now?: Date;
  readonly onProgress?: (message: string) => void;
}

/** Discovers every Region (concurrently) and plans. Read-only. */
export async function planAccount(request: ReconcileRequest): Promise<Plan> {
  return (await discoverAndPlanAccount(request)).plan;
}

/** A plan with the snapshots it was made from (one per Region, in `regions` order). */
export interface AccountDiscovery {
  readonly plan: Plan;
  readonly snapshots: readonly RegionSnapshot[];
}

/** {@link planAccount}, also returning the snapshots (the deployed reconciler indexes them). */
export async function discoverAndPlanAccount(request: ReconcileRequest): Promise<AccountDiscovery> {
  const snapshots = await Promise.all(
    request.regions.map((region) =>
      discoverRegion(request.pool.clientsFor(region), region, request.config, {
        ...(request.vpcIds ? { vpcIds: request.vpcIds } : {}),
        ...(request.vpcIds && request.clusterArns ? { clusterArns: request.clusterArns } : {}),
        onProgress: (message) => request.onProgress?.(`[${region}] ${message}`),
      }),
    ),
  );
  return { plan: buildPlan(snapshots, request.config, request.now ?? new Date()), snapshots };
}

/**
 * Executes a plan made by {@link planAccount} with the same pool. Pass the config the plan was made
 * with: its `agentRestart` settings (waves, waits, caps) govern the restarts.
 */
export function applyAccountPlan(
  plan: Plan,
  pool: ClientPool,
  onProgress?: (message: string) => void,
  config: Config = defaultConfig,
): Promise<ActionResult[]> {
  return applyPlan(plan, pool.clientsFor, {
    agentRestart: config.agentRestart,
    ...(onProgress ? { onProgress } : {}),
  });
}
