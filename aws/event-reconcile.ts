/**
 * One deployed reconcile of one Region: resolve the event's ids to VPCs, re-read the truth, plan,
 * apply (enforce mode), diff against the remembered open findings, alert, remember. The deployed
 * reconciler (handlers/reconcile.ts) runs this once per Region of a coalesced batch.
 */
import type { Mode, VpcAlert } from '../core/alerts.ts';
import { decideAlerts } from '../core/alerts.ts';
import { toChatbotNotification } from '../core/chatbot.ts';
import type { Config } from '../core/config.ts';
import type { RegionWork } from '../core/events.ts';
import type { Plan } from '../core/plan.ts';
import type { ActionResult } from '../core/report.ts';
import type { AlertPublisher } from './notify.ts';
import { alertMessage } from './notify.ts';
import type { ClientPool } from './reconcile.ts';
import { applyAccountPlan, planAccount } from './reconcile.ts';
import { resolveTargets } from './resolve.ts';
import type { StateStore } from './state.ts';

/** What a deployed reconcile needs; handlers build it from the environment, tests from a moto account. */
export interface RemediatorDeps {
  readonly mode: Mode;
  /** The Regions this deployment reconciles (a sweep covers each; events of others are out of scope). */
  readonly regions: readonly string[];
  readonly config: Config;
  readonly pool: ClientPool;
  readonly state: StateStore;
  readonly publisher: AlertPublisher;
  readonly now: () => Date;
  readonly digestIntervalMs?: number;
  readonly accountId?: string;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

export interface RegionOutcome {
  readonly region: string;
  /** The VPCs read, or undefined for the whole Region. */
  readonly vpcIds: readonly string[] | undefined;
  /** Why a narrowed hint became a whole-Region reconcile, if it did. */
  readonly widened?: string;
  readonly plan: Plan;
  readonly results: readonly ActionResult[] | undefined;
  readonly alerts: readonly VpcAlert[];
}

/** Reconciles one Region's coalesced work; throws on any AWS error (the batch's records are retried). */
export async function reconcileRegionWork(work: RegionWork, deps: RemediatorDeps): Promise<RegionOutcome> {
  const { region } = work;
  let vpcIds: readonly string[] | undefined;
  let widened: string | undefined;
  if (!work.whole) {
    const resolution = await resolveTargets(deps.pool.clientsFor(region).ec2, work.targets);
    if (resolution.whole) widened = resolution.reason;
    else vpcIds = resolution.vpcIds;
  }
  const now = deps.now();
  const plan = await planAccount({
    regions: [region],
    config: deps.config,
    pool: deps.pool,
    now,
    ...(vpcIds === undefined ? {} : { vpcIds }),
  });
  const results =
    deps.mode === 'enforce' ? await applyAccountPlan(plan, deps.pool, undefined, deps.config) : undefined;
  const scope = { region, ...(vpcIds === undefined ? {} : { vpcIds }) };
  const open = await deps.state.loadOpenFindings(scope);
  const decision = decideAlerts({
    mode: deps.mode,
    scope,
    open,
    plan,
    now,
    ...(results === undefined ? {} : { results }),
    ...(deps.digestIntervalMs === undefined ? {} : { digestIntervalMs: deps.digestIntervalMs }),
  });
  // The alerts go to the outbox before the state that they describe is remembered, and leave it only
  // once published: a failed publish (or a crash) is retried by the next reconcile, never lost.
  const stamp = now.toISOString();
  await deps.state.addToOutbox(
    decision.alerts.map((alert, n) => ({
      key: `${stamp}#${region}#${alert.vpcId}#${n}`,
      body: alertMessage(
        toChatbotNotification(alert, deps.accountId === undefined ? {} : { accountId: deps.accountId }),
      ),
    })),
  );
  await deps.state.saveOpenFindings(decision.put, decision.remove);
  await flushOutbox(deps);
  return {
    region,
    vpcIds,
    ...(widened === undefined ? {} : { widened }),
    plan,
    results,
    alerts: decision.alerts,
  };
}

/** Publishes every alert in the outbox, oldest first; throws on the first that fails (it stays). */
export async function flushOutbox(
  deps: Pick<RemediatorDeps, 'state' | 'publisher' | 'log'>,
): Promise<number> {
  const pending = await deps.state.listOutbox();
  for (const message of pending) {
    const messageId = await deps.publisher.publish(message.body);
    await deps.state.removeFromOutbox(message);
    deps.log('alert published', { key: message.key, messageId });
  }
  return pending.length;
}
