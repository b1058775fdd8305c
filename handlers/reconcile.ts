/**
 * Lambda handler: one reconcile of the configured Regions (the scheduled sweep). A thin shell over
 * aws/reconcile.ts, the same code the CLI runs. The event-driven triggers, the queue, state and
 * alerts come with the deploy work (docs/architecture.md).
 *
 * Environment: REGIONS (comma-separated; default the function's Region), MODE (`report` plans only,
 * `enforce` applies; default report), CONFIG (the JSON config document; default empty).
 */
import { parseConfig } from '../core/config.ts';
import type { RunReport } from '../core/report.ts';
import { toReport } from '../core/report.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../aws/reconcile.ts';

export interface ReconcileEvent {
  /** Narrow the reconcile to these VPCs (an event's hint); the whole account when absent. */
  readonly vpcIds?: readonly string[];
}

export async function handler(event: ReconcileEvent = {}): Promise<RunReport> {
  const config = parseConfig(JSON.parse(process.env.CONFIG ?? '{}'));
  const regions = (process.env.REGIONS ?? process.env.AWS_REGION ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length === 0) throw new Error('no Region: set REGIONS or AWS_REGION');
  const pool = createClientPool();
  const plan = await planAccount({
    regions,
    config,
    pool,
    ...(event.vpcIds ? { vpcIds: event.vpcIds } : {}),
  });
  if (process.env.MODE !== 'enforce') return toReport('plan', plan, pool.apiCalls());
  const results = await applyAccountPlan(plan, pool);
  return toReport('apply', plan, pool.apiCalls(), results);
}
