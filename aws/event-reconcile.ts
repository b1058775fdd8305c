/**
 * One deployed reconcile of one Region: resolve the event's ids to VPCs, re-read the truth, plan,
 * apply (enforce mode), diff against the remembered open findings, alert, remember. The deployed
 * reconciler (handlers/reconcile.ts) runs this once per Region of a coalesced batch.
 */
import type { Mode, VpcAlert } from '../core/alerts.ts';
import { decideAlerts } from '../core/alerts.ts';
import { toChatbotNotification } from '../core/chatbot.ts';
import type { ReconcileScope } from '../core/alerts.ts';
import { createsEndpoint, isManaged } from '../core/actions.ts';
import type { Config } from '../core/config.ts';
import { buildPlan } from '../core/plan.ts';
import type { RegionWork } from '../core/events.ts';
import type { Plan } from '../core/plan.ts';
import type { ActionResult } from '../core/report.ts';
import type { AlertPublisher } from './notify.ts';
import { alertMessage } from './notify.ts';
import type { RegionSnapshot } from '../core/model.ts';
import type { ClusterIndexEntries } from './discover/cluster-index.ts';
import { clustersByVpc, hintedClusters, mergeScoped } from './discover/cluster-index.ts';
import { errorMessage, errorName } from './errors.ts';
import type { TaskDefinitionCache } from './discover/task-definitions.ts';
import type { OwnershipDeps } from './ownership.ts';
import { adoptionNotification, prepareOwnership } from './ownership.ts';
import { applyPlan } from './apply.ts';
import type { ClientPool } from './reconcile.ts';
import { discoverAndPlanAccount } from './reconcile.ts';
import { resolveTargets } from './resolve.ts';
import { createContext } from './discover/context.ts';
import { unseenEcsWork } from './discover/unseen-work.ts';
import type { UnusedEndpoint } from '../core/reclaim.ts';
import { examinedVpcIds, nextClock, planView, reclaimBlocker, viewGap } from '../core/reclaim.ts';
import type { ReclaimStore } from './reclaim.ts';
import type { SecurityHubExportDeps } from './securityhub-export.ts';
import { exportToSecurityHub } from './securityhub-export.ts';
import type { LedgerBalance } from './units/run-store.ts';
import type { ClusterIndexWrite, StateStore, StoredClusterIndex } from './state.ts';

/** What a deployed reconcile needs; handlers build it from the environment, tests from a moto account. */
export interface RemediatorDeps {
  readonly mode: Mode;
  /** The Regions this deployment reconciles (a sweep covers each; events of others are out of scope). */
  readonly regions: readonly string[];
  readonly config: Config;
  readonly pool: ClientPool;
  readonly state: StateStore;
  /**
   * The records of what the remediator made (aws/ownership.ts): it changes and deletes only endpoints
   * and groups both tagged and recorded there.
   */
  readonly ownership: OwnershipDeps;
  /**
   * The reclaim clock of unneeded owned endpoints (aws/reclaim.ts); absent: none is kept, and nothing
   * is deleted for being unneeded.
   */
  readonly reclaim?: ReclaimStore;
  readonly publisher: AlertPublisher;
  /** Task definition revisions read before (aws/task-definition-cache.ts): not described again. */
  readonly taskDefinitionCache?: TaskDefinitionCache;
  readonly now: () => Date;
  readonly digestIntervalMs?: number;
  readonly accountId?: string;
  /**
   * Agent restarts wait at most this long in one reconcile (default {@link DEFAULT_RESTART_STEP_SECONDS});
   * what is not done then is continued by a later invocation (aws/restart.ts, "Steps").
   */
  readonly restartStepSeconds?: number;
  /**
   * The opt-in export of findings to Security Hub (aws/securityhub-export.ts; param
   * `securityHubExport`): after the findings are remembered, the scope's changes are sent. Absent: off.
   */
  readonly securityHub?: SecurityHubExportDeps;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * How long agent restarts may wait in one reconcile: a restart command takes seconds to a minute, new
 * endpoints minutes, against a function timeout of 300 s; a restart not done by then is continued by a
 * delayed message (aws/event-batch.ts), so no invocation waits minutes.
 */
export const DEFAULT_RESTART_STEP_SECONDS = 20;

export interface RegionOutcome {
  readonly region: string;
  /** The VPCs read, or undefined for the whole Region. */
  readonly vpcIds: readonly string[] | undefined;
  /**
   * The ECS clusters read for an event-scoped reconcile (the index's for those VPCs and the events'),
   * or undefined when every cluster was read (whole Region, or no index stored yet).
   */
  readonly clusterArns: readonly string[] | undefined;
  /** What became of the Region's cluster index (see StateStore.saveClusterIndex); `kept`: not touched. */
  readonly clusterIndex: ClusterIndexWrite | 'kept' | 'failed';
  /** Why a narrowed hint became a whole-Region reconcile, if it did. */
  readonly widened?: string;
  readonly plan: Plan;
  readonly results: readonly ActionResult[] | undefined;
  readonly alerts: readonly VpcAlert[];
  /**
   * What in this reconcile's view would keep it from counting toward the reclaim whatever it read (a
   * skipped read, a need that cannot be known: core/reclaim.ts `viewGap`); absent when none.
   */
  readonly viewGap?: string;
  /**
   * The remediator's endpoints of other VPCs this reconcile's VPCs reach through a private hosted zone
   * (hub-and-spoke: `RegionSnapshot.centralEndpoints`): a split sweep's reclaim unit, which reads only
   * the hub's VPC, keeps them (aws/units/reclaim-unit.ts).
   */
  readonly zoneUses?: readonly string[];
}

/** The run-wide caps of a split sweep's unit (aws/units/run-store.ts): a ledger all units draw from. */
export interface RunLedger {
  readonly balance: () => Promise<LedgerBalance>;
  /** Takes what a plan admits; false (nothing taken) when the ledger has less left. */
  readonly take: (amount: LedgerBalance) => Promise<boolean>;
}

export interface RegionWorkOptions {
  /**
   * Every cluster with work in the work's VPCs (a plan unit's, from the run's merged index): read
   * instead of the stored index's.
   */
  readonly clusterArns?: readonly string[];
  /** The run's ledger: the plan admits no more than it has left, and takes what it admits. */
  readonly ledger?: RunLedger;
  /**
   * A step of a split sweep's reclaim unit (aws/units/run-unit.ts): its VPCs are read with the
   * remediator's endpoints of those without ECS work, and it counts toward the reclaim for them, as a
   * whole-Region sweep does for the Region, unless `gap` says why the run cannot (what one of its
   * units saw).
   */
  readonly reclaimStep?: {
    readonly gap?: string;
    /** Endpoints the run's plan units saw other VPCs reach through a zone (kept). */
    readonly zoneUses?: readonly string[];
  };
  /** What deciding the split of a whole-Region reconcile read (aws/units/run-unit.ts `splitRegion`). */
  readonly reads?: RegionReads;
}

/** A Region's cluster index and clusters, read moments before its whole-Region reconcile. */
export interface RegionReads {
  readonly index: StoredClusterIndex | undefined;
  /** Every cluster of the Region (ListClusters). */
  readonly clusterArns: readonly string[];
}

/** How often a unit plans again when other units took from the ledger between its read and its take. */
const LEDGER_ATTEMPTS = 5;

/** Reconciles one Region's coalesced work; throws on any AWS error (the batch's records are retried). */
export async function reconcileRegionWork(
  work: RegionWork,
  deps: RemediatorDeps,
  options: RegionWorkOptions = {},
): Promise<RegionOutcome> {
  const { region } = work;
  let vpcIds: readonly string[] | undefined;
  let widened: string | undefined;
  if (!work.whole) {
    const resolution = await resolveTargets(deps.pool.clientsFor(region).ec2, work.targets);
    if (resolution.whole) widened = resolution.reason;
    else vpcIds = resolution.vpcIds;
  }
  // The cluster index of the last whole-Region reconcile narrows an event-scoped one to the clusters
  // with work in its VPCs (plus those the events name). Without an index every cluster is read.
  const { reads } = options;
  const index = reads ? reads.index : await deps.state.loadClusterIndex(region);
  const clusterArns =
    vpcIds !== undefined && options.clusterArns !== undefined
      ? [...options.clusterArns].sort()
      : vpcIds !== undefined && index !== undefined
        ? hintedClusters(index.vpcs, vpcIds, work.whole ? [] : (work.targets.clusterArns ?? []))
        : undefined;
  const now = deps.now();
  // What the remediator made, as recorded: intents left by an interrupted create are resumed first,
  // and a one-time adoption runs if asked for (its alert goes to the outbox, flushed below).
  const ownership = await prepareOwnership(deps.ownership, {
    region,
    ec2: deps.pool.clientsFor(region).ec2,
    mode: deps.mode,
    now: () => now,
    log: deps.log,
    announce: (adopted, label) =>
      deps.state.addToOutbox([
        {
          key: `${now.toISOString()}#${region}#ownership#${label}`,
          body: alertMessage(adoptionNotification(region, label, adopted, deps.accountId)),
        },
      ]),
  });
  const config = options.ledger ? withinBalance(deps.config, await options.ledger.balance()) : deps.config;
  // Only a whole-Region sweep read in one go, or a split sweep's reclaim step when every unit of its
  // run saw all it read, may count toward the reclaim's grace period, or delete.
  const { reclaimStep } = options;
  const wholeRegion =
    (work.whole && vpcIds === undefined && options.clusterArns === undefined) ||
    (reclaimStep !== undefined && reclaimStep.gap === undefined);
  // With the reclaim off, only whole-Region reconciles and reclaim steps read the clock (to clear what
  // an earlier setting left): event-scoped ones, the many, then cost no read.
  const reclaimOn = deps.config.remediation.reclaimUnusedOwnedEndpointsAfterDays !== undefined;
  const clock =
    deps.reclaim && (reclaimOn || work.whole || reclaimStep) ? await deps.reclaim.load(region) : undefined;
  const discovered = await discoverAndPlanAccount({
    regions: [region],
    config,
    pool: deps.pool,
    now,
    // The stack's account (ACCOUNT_ID): the snapshot names it whether or not ECS ARNs were read.
    ...(deps.accountId === undefined ? {} : { accountId: deps.accountId }),
    ...(vpcIds === undefined ? {} : { vpcIds }),
    ...(clusterArns === undefined ? {} : { clusterArns }),
    ...(reclaimStep ? { examineIdle: true } : {}),
    ...(reads && vpcIds === undefined ? { listedClusterArns: () => reads.clusterArns } : {}),
    ownedResourceIds: () => ownership.owned,
    ...(clock === undefined
      ? {}
      : {
          reclaim: () => ({
            unusedSince: Object.fromEntries(clock.map((entry) => [entry.vpcEndpointId, entry.since])),
            wholeRegion,
            ...(reclaimStep?.zoneUses === undefined ? {} : { zoneUses: reclaimStep.zoneUses }),
            ...(reclaimStep?.gap === undefined
              ? {}
              : {
                  partialView: `this split sweep's units did not see the whole Region (${reclaimStep.gap}): only a sweep that did counts`,
                }),
          }),
        }),
    ...(deps.taskDefinitionCache ? { taskDefinitionCache: () => deps.taskDefinitionCache } : {}),
  });
  const { failures } = discovered;
  // One Region per call here: its failure fails the call, so its events are retried.
  if (failures[0] !== undefined) throw failures[0].error;
  // A reclaim step about to delete first looks for ECS work in those VPCs that it did not read.
  const { snapshots, plan: planned } =
    reclaimStep && wholeRegion
      ? await guardReclaim(deps, region, discovered, clusterArns ?? [], config, now)
      : discovered;
  const plan = options.ledger
    ? await planWithinLedger(planned, snapshots, deps.config, now, options.ledger)
    : planned;
  const clusterIndex = await updateClusterIndex(deps, region, index, snapshots[0], vpcIds, clusterArns);
  const results =
    deps.mode === 'enforce'
      ? await applyPlan(plan, deps.pool.clientsFor, {
          agentRestart: deps.config.agentRestart,
          // Waits (endpoints available, restarts) log a heartbeat through this every 10 s.
          onProgress: (message) => {
            deps.log(message, { region });
          },
          recorder: ownership.recorder,
          // Restarts in steps: what is not done is continued by a later invocation.
          restartStepSeconds: deps.restartStepSeconds ?? DEFAULT_RESTART_STEP_SECONDS,
        })
      : undefined;
  if (deps.reclaim && clock !== undefined)
    await moveReclaimClock(deps, deps.reclaim, {
      region,
      plan,
      snapshot: snapshots[0],
      clock,
      results,
      now,
      vpcIds,
    });
  const alerts = await rememberAndAlert(
    deps,
    { region, ...(vpcIds === undefined ? {} : { vpcIds }) },
    plan,
    now,
    results,
    snapshots[0]?.accountId ?? deps.accountId,
  );
  return {
    region,
    vpcIds,
    clusterArns,
    clusterIndex,
    ...(widened === undefined ? {} : { widened }),
    plan,
    results,
    alerts,
    ...optionalGap(viewGap(planView(plan, region))),
    ...zoneUsesOf(snapshots[0]),
  };
}

/**
 * {@link RegionOutcome.zoneUses} of a reconcile: the remediator's endpoints (the managed tag) that its
 * VPCs reach through a zone (central endpoints are those of VPCs it did not read).
 */
function zoneUsesOf(snapshot: RegionSnapshot | undefined): { zoneUses?: string[] } {
  const used = (snapshot?.centralEndpoints ?? [])
    .filter((endpoint) => isManaged(endpoint.tags))
    .map((endpoint) => endpoint.vpcEndpointId)
    .sort();
  return used.length === 0 ? {} : { zoneUses: used };
}

const optionalGap = (gap: string | undefined) => (gap === undefined ? {} : { viewGap: gap });

/**
 * A counting reclaim step's plan, checked before anything is deleted: when ECS work the step did not
 * read is in the VPCs of its reclaims (aws/discover/unseen-work.ts), the step does not count (its
 * snapshot's clock says why) and is planned again, so nothing is deleted and no clock starts.
 */
async function guardReclaim(
  deps: RemediatorDeps,
  region: string,
  discovered: { readonly plan: Plan; readonly snapshots: readonly RegionSnapshot[] },
  clusterArns: readonly string[],
  config: Config,
  now: Date,
): Promise<{ readonly plan: Plan; readonly snapshots: readonly RegionSnapshot[] }> {
  const vpcIds = [
    ...new Set(
      discovered.plan.actions
        .filter((action) => action.kind === 'DELETE_ENDPOINT' && action.reclaim === true)
        .map((action) => action.vpcId),
    ),
  ].sort();
  if (vpcIds.length === 0) return discovered;
  const taskInterfaces = new Set(
    discovered.snapshots.flatMap((snapshot) =>
      snapshot.tasks.flatMap((task) => task.networkInterfaceId ?? []),
    ),
  );
  const ctx = createContext(deps.pool.clientsFor(region), region);
  const unseen = await unseenEcsWork(ctx, vpcIds, clusterArns, taskInterfaces);
  if (unseen === undefined) return discovered;
  deps.log('reclaim step does not count: ECS work it did not read is in the VPCs of its deletes', {
    region,
    unseen,
  });
  const snapshots = discovered.snapshots.map((snapshot) =>
    snapshot.reclaim === undefined
      ? snapshot
      : {
          ...snapshot,
          reclaim: {
            ...snapshot.reclaim,
            wholeRegion: false,
            partialView: `ECS work this reclaim step did not read is in the VPCs it would delete in (${unseen}): the next run reads it`,
          },
        },
  );
  return { snapshots, plan: buildPlan(snapshots, config, now) };
}

/**
 * Moves the Region's reclaim clock after a reconcile (core/reclaim.ts `nextClock`): a counting sweep
 * starts the clocks of endpoints newly seen unneeded; any reconcile stops those of endpoints it saw
 * needed again, gone or deleted.
 */
async function moveReclaimClock(
  deps: RemediatorDeps,
  store: ReclaimStore,
  input: {
    readonly region: string;
    readonly plan: Plan;
    readonly snapshot: RegionSnapshot | undefined;
    readonly clock: readonly UnusedEndpoint[];
    readonly results: readonly ActionResult[] | undefined;
    readonly now: Date;
    /** The VPCs the reconcile read (an event's, a unit's step); undefined: the whole Region. */
    readonly vpcIds: readonly string[] | undefined;
  },
): Promise<void> {
  const { region, plan, snapshot, clock, results, now, vpcIds } = input;
  const enabled = deps.config.remediation.reclaimUnusedOwnedEndpointsAfterDays !== undefined;
  // Judged on the plan, which carries what the reconcile saw: no workload is analysed again.
  const counts = enabled && reclaimBlocker(snapshot?.reclaim, planView(plan, region)) === undefined;
  const deleted = new Set(
    (results ?? []).flatMap((result) =>
      result.kind === 'DELETE_ENDPOINT' &&
      (result.outcome === 'succeeded' || result.outcome === 'already-satisfied') &&
      result.resourceId !== undefined
        ? [result.resourceId]
        : [],
    ),
  );
  // A counting sweep saw every VPC, a counting reclaim step every VPC it read; any other reconcile
  // stops only the clocks of the VPCs it examined.
  const examined = counts ? vpcIds : examinedVpcIds(plan, region);
  const change = nextClock({
    plan,
    region,
    previous: clock,
    counts,
    vpcIds: examined,
    deleted,
    enabled,
    now,
  });
  if (change.start.length + change.stop.length === 0) return;
  await store.save(region, change.start, change.stop);
  deps.log('reclaim clock', {
    region,
    started: change.start.map((entry) => entry.vpcEndpointId),
    stopped: change.stop.map((entry) => entry.vpcEndpointId),
  });
}

/**
 * Diffs `plan` (of `scope`) against the open findings remembered, puts the alerts in the outbox,
 * remembers the findings, exports the changes to Security Hub when that is on (never failing for it;
 * `accountId`: the Region's account, the findings' AwsAccountId), and publishes the Region's outbox.
 * Returns the alerts decided.
 */
export async function rememberAndAlert(
  deps: RemediatorDeps,
  scope: ReconcileScope,
  plan: Plan,
  now: Date,
  results?: readonly ActionResult[],
  accountId: string | undefined = deps.accountId,
): Promise<readonly VpcAlert[]> {
  const { region } = scope;
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
  if (deps.securityHub) {
    await exportToSecurityHub(deps.securityHub, {
      scope,
      plan,
      ...(results === undefined ? {} : { results }),
      ...(accountId === undefined ? {} : { accountId }),
      // Under the findings' current ids: a record stored under a schema-1 id keeps its firstSeen.
      open: decision.remembered,
      now,
      log: deps.log,
    });
  }
  await flushOutbox(deps, region);
  return decision.alerts;
}

/** The config with its run-wide caps lowered to what the ledger has left. */
function withinBalance(config: Config, balance: LedgerBalance): Config {
  const { maxAddedMonthlyCostUsdPerRun: budget } = config.limits;
  return {
    ...config,
    limits: {
      ...config.limits,
      maxEndpointsCreatedPerRun: Math.max(
        0,
        Math.min(config.limits.maxEndpointsCreatedPerRun, balance.endpoints),
      ),
      maxActionsPerRun: Math.max(0, Math.min(config.limits.maxActionsPerRun, balance.actions)),
      ...(budget === undefined || balance.costCents === undefined
        ? {}
        : { maxAddedMonthlyCostUsdPerRun: Math.max(0, Math.min(budget, balance.costCents / 100)) }),
    },
  };
}

/** What a plan admits (its actions not deferred), as the ledger counts it (cost only with a budget). */
function admitted(plan: Plan, config: Config): LedgerBalance {
  const planned = plan.actions.filter((action) => action.status === 'planned');
  const cents = planned.reduce(
    (sum, action) => sum + Math.round(('monthlyCostUsd' in action ? action.monthlyCostUsd : 0) * 100),
    0,
  );
  return {
    endpoints: planned.filter(createsEndpoint).length,
    actions: planned.length,
    ...(config.limits.maxAddedMonthlyCostUsdPerRun === undefined ? {} : { costCents: cents }),
  };
}

/**
 * `plan` (made within the balance read before discovery) once the ledger gave what it admits; when
 * other units took from the ledger meanwhile, planned again within what is left. After
 * {@link LEDGER_ATTEMPTS} refusals every action is deferred: the ledger errs toward doing less.
 */
async function planWithinLedger(
  plan: Plan,
  snapshots: readonly RegionSnapshot[],
  config: Config,
  now: Date,
  ledger: RunLedger,
): Promise<Plan> {
  let candidate = plan;
  for (let attempt = 1; attempt <= LEDGER_ATTEMPTS; attempt += 1) {
    if (await ledger.take(admitted(candidate, config))) return candidate;
    candidate = buildPlan(snapshots, withinBalance(config, await ledger.balance()), now);
  }
  return buildPlan(snapshots, withinBalance(config, { endpoints: 0, actions: 0, costCents: 0 }), now);
}

/**
 * Records what this reconcile learnt about which clusters have work where: a whole-Region reconcile
 * rewrites the index from its snapshot; an event-scoped one that read from the index refreshes the
 * entries of its VPCs (so a cluster an event named is known before the next sweep). Only a change is
 * written. A failure to write is logged, not thrown: the index only narrows reads, the remediation
 * already happened, and the next whole-Region reconcile rewrites it.
 */
async function updateClusterIndex(
  deps: RemediatorDeps,
  region: string,
  previous: StoredClusterIndex | undefined,
  snapshot: RegionSnapshot | undefined,
  vpcIds: readonly string[] | undefined,
  clusterArns: readonly string[] | undefined,
): Promise<RegionOutcome['clusterIndex']> {
  if (snapshot === undefined) return 'kept';
  let next: ClusterIndexEntries;
  if (vpcIds === undefined) next = clustersByVpc(snapshot);
  else if (previous !== undefined && clusterArns !== undefined)
    next = mergeScoped(previous.vpcs, vpcIds, clusterArns, clustersByVpc(snapshot));
  else return 'kept'; // an event-scoped discovery without an index saw only part of the Region
  try {
    const outcome = await deps.state.saveClusterIndex(region, next, previous);
    if (outcome !== 'unchanged')
      deps.log('cluster index', { region, outcome, vpcs: Object.keys(next).length });
    return outcome;
  } catch (error) {
    deps.log('cluster index not saved: the next whole-Region reconcile rewrites it', {
      region,
      error: errorName(error),
      message: errorMessage(error),
    });
    return 'failed';
  }
}

/**
 * Publishes the Region's alerts in the outbox (keys `<time>#<region>#…`), oldest first; throws on the
 * first that fails (it stays). Only the holder of the Region's lease calls it, so two invocations never
 * publish one alert twice.
 */
export async function flushOutbox(
  deps: Pick<RemediatorDeps, 'state' | 'publisher' | 'log'>,
  region: string,
): Promise<number> {
  const pending = (await deps.state.listOutbox()).filter((message) => message.key.split('#')[1] === region);
  for (const message of pending) {
    const messageId = await deps.publisher.publish(message.body);
    await deps.state.removeFromOutbox(message);
    deps.log('alert published', { key: message.key, messageId });
  }
  return pending.length;
}
