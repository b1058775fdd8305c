/**
 * One batch of queued events. Each message is judged alone (core/errors.ts has the taxonomy):
 *
 * 1. judge its body: a hint, an event that may be ignored (a listed class), or a terminal failure;
 * 2. claim each occurrence once (idempotency records): one done before is a duplicate; a claim
 *    DynamoDB refuses for its key is terminal, any other claim error transient;
 * 3. send the terminal messages to the dead-letter queue at once, each with its reason;
 * 4. coalesce the claimed hints into one reconcile per Region (a burst for one VPC reads it once) and
 *    run them, Regions with deferred work first; a Region is not started with less than the safety
 *    margin of the invocation's time left (its events are deferred), nor while another invocation
 *    holds its lease in the state table (its events are deferred with a delay); a whole Region larger
 *    than one unit is split into work units sent to the events queue instead, and each work unit
 *    received runs alone (aws/units/run-unit.ts), under its Region's lease like any reconcile;
 * 5. settle the claims (done, or released), send the deferred messages back to the events queue;
 * 6. report the messages to retry (SQS partial batch failure): a failed Region's, a failed claim's,
 *    and any whose send to a queue failed;
 * 7. continue the agent restarts under way: one delayed message per Region and VPC to the events
 *    queue (a restart continuation, core/events.ts), so no invocation waits minutes for a restart and
 *    none waits for the sweep either. A continuation is a hint like any event: it makes a reconcile of
 *    its VPC, which resumes each restart from its claim. One chain per VPC: none is sent while the
 *    last one is on its way. One that cannot be sent (no queue: a direct invocation; a failed send)
 *    is logged: the next sweep continues the restart.
 *
 * Nothing here throws for one message's problem: the worst one message can do is fail itself.
 */
import { randomUUID } from 'node:crypto';
import type { IgnoredClass, TerminalReason } from '../core/errors.ts';
import { isTerminal } from '../core/errors.ts';
import type { ReconcileHint, RegionWork, UnitWork } from '../core/events.ts';
import { coalesceHints, judgeEventBody, restartContinuationBody } from '../core/events.ts';
import { errorMessage, errorName } from './errors.ts';
import type { EventQueues, OutgoingMessage, SendOutcome } from './event-queue.ts';
import {
  DEFERRALS_ATTRIBUTE,
  DETAIL_ATTRIBUTE,
  REASON_ATTRIBUTE,
  SOURCE_MESSAGE_ATTRIBUTE,
} from './event-queue.ts';
import type { RegionOutcome } from './event-reconcile.ts';
import { reconcileRegionWork } from './event-reconcile.ts';
import type { SplitOutcome, UnitDeps, UnitOutcome } from './units/run-unit.ts';
import { openRunLedger, runIdOf, runUnit, splitRegion } from './units/run-unit.ts';
import type { ScheduledContinuation } from './restart-claims.ts';
import { restartGuardOf } from './restart-guard.ts';
import type { EventClaim, RegionLease } from './state.ts';

/** One received SQS message. */
export interface QueuedEvent {
  /** The SQS message id: what a partial batch failure names. */
  readonly messageId: string;
  readonly body: string;
  /** How many times its work was deferred already (the `eer-deferrals` attribute); absent: none. */
  readonly deferrals?: number;
}

/** What became of one message: exactly one per message of the batch. */
export type MessageOutcome =
  /** Its event was reconciled (with the rest of its Region's work). */
  | { readonly messageId: string; readonly status: 'processed' }
  /** Dropped for one of the listed classes (core/errors.ts IGNORED_CLASSES), and logged. */
  | {
      readonly messageId: string;
      readonly status: 'ignored';
      readonly code: IgnoredClass;
      readonly reason: string;
    }
  /** Sent to the dead-letter queue by the handler, with `reason` as its `eer-reason` attribute. */
  | {
      readonly messageId: string;
      readonly status: 'dead-lettered';
      readonly reason: TerminalReason;
      readonly detail: string;
    }
  /** Not started before the time ran short: sent to the events queue again. */
  | { readonly messageId: string; readonly status: 'deferred' }
  /** Returned as a batch item failure: SQS delivers it again (transient). */
  | { readonly messageId: string; readonly status: 'retry'; readonly error: string };

export interface BatchSummary {
  /** Messages to retry (their receive count grows; past the queue's maxReceiveCount they go to the DLQ). */
  readonly failedMessageIds: readonly string[];
  /** Each message's outcome, in the order received. */
  readonly messages: readonly MessageOutcome[];
  /** Bodies that could not be read (not JSON, unexpected shape, an event the rules do not match). */
  readonly malformed: number;
  /** Messages the handler sent to the dead-letter queue itself. */
  readonly deadLettered: number;
  /** Messages sent back to the events queue because their Region's reconcile was not started in time. */
  readonly deferred: number;
  /** Events that changed nothing (a failed call, an inactive container instance). */
  readonly ignored: number;
  readonly duplicates: number;
  /** Events of a Region this deployment does not reconcile (ignored too). */
  readonly outOfScope: number;
  readonly outcomes: readonly RegionOutcome[];
  readonly failedRegions: ReadonlyArray<{ readonly region: string; readonly error: string }>;
  /** Regions whose reconcile was not started for lack of time. */
  readonly deferredRegions: readonly string[];
  /** Regions not started because another invocation held their lease: their events were sent back. */
  readonly busyRegions: readonly string[];
  /** Restart continuations sent to the events queue: one per Region and VPC with restarts under way. */
  readonly continuations: readonly RestartUnderWay[];
  /** Regions too large for one invocation, split into work units (aws/units/run-unit.ts). */
  readonly splits: readonly SplitOutcome[];
  /** Work units run (their plan steps' reconciles are in `outcomes` too). */
  readonly units: readonly UnitOutcome[];
}

/** A VPC whose agent restarts are under way: continued by a message delivered after `delaySeconds`. */
export interface RestartUnderWay {
  readonly region: string;
  readonly vpcId: string;
  readonly delaySeconds: number;
  /** The restart actions under way and what each waits for. */
  readonly reason: string;
}

/** What the batch needs beyond a reconcile's dependencies (and the run records of split sweeps). */
export interface BatchDeps extends UnitDeps {
  /**
   * The dead-letter and events queues. Without them a terminal message or deferred work is returned
   * as a batch item failure instead (the queue's redrive policy dead-letters it after five receives).
   */
  readonly queues?: EventQueues;
  /** A Region's reconcile is not started with less time than this left (default {@link DEFAULT_SAFETY_MARGIN_MS}). */
  readonly safetyMarginMs?: number;
}

export interface BatchOptions {
  /** How long a claim holds before another delivery may take it over: the function's timeout. */
  readonly claimLeaseSeconds: number;
  /** How long a completed event's record is kept to recognise redeliveries. */
  readonly retainSeconds: number;
  /**
   * The invocation's remaining time in milliseconds (Lambda's `context.getRemainingTimeInMillis`);
   * absent: no time budget (a direct call, a test).
   */
  readonly remainingMs?: () => number;
}

export const DEFAULT_BATCH_OPTIONS: BatchOptions = { claimLeaseSeconds: 900, retainSeconds: 7 * 24 * 3600 };

/**
 * How long the events of a Region another invocation is reconciling wait in the queue before they are
 * delivered again: a Region's reconcile normally takes seconds (a busy Region's events are deferred
 * again if it still runs, never counted as receives toward the dead-letter queue).
 */
export const BUSY_REGION_DELAY_SECONDS = 30;

/** The default safety margin: a reconcile of one Region normally takes seconds, rarely a minute. */
export const DEFAULT_SAFETY_MARGIN_MS = 60_000;

/** Longest body excerpt logged for a malformed event. */
const LOGGED_BODY_CHARS = 2000;

const describeError = (error: unknown) => `${errorName(error)}: ${errorMessage(error)}`;

/**
 * Processes one batch (see the module comment). Resolves with every message's outcome; rejects only
 * for a fault of the handler itself, never for one message's problem.
 */
export async function processEventBatch(
  events: readonly QueuedEvent[],
  deps: BatchDeps,
  options: BatchOptions = DEFAULT_BATCH_OPTIONS,
): Promise<BatchSummary> {
  const outcomes = new Map<string, MessageOutcome>();
  const settle = (outcome: MessageOutcome) => outcomes.set(outcome.messageId, outcome);
  let malformed = 0;
  let ignored = 0;
  let duplicates = 0;
  let outOfScope = 0;
  const terminal: Array<{ event: QueuedEvent; reason: TerminalReason; detail: string }> = [];

  // The time budget. An invocation that starts with no more than the margin left could never start
  // anything (a margin set at or above the function's timeout): the margin is not applied then.
  const margin = deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  let remainingMs = options.remainingMs;
  const atStart = remainingMs?.();
  if (atStart !== undefined && atStart <= margin) {
    deps.log('safety margin not below the time of the invocation: not applied', {
      remainingMs: atStart,
      safetyMarginMs: margin,
    });
    remainingMs = undefined;
  }

  // 1. Judge each message alone. Several messages may carry one occurrence (a redelivery, a duplicate).
  const messagesByEvent = new Map<string, QueuedEvent[]>();
  const hints = new Map<string, ReconcileHint>();
  for (const event of events) {
    const judged = judgeEventBody(event.body);
    if (judged.status === 'terminal') {
      malformed += 1;
      terminal.push({ event, reason: judged.reason, detail: judged.problems.join('; ') });
      deps.log('malformed event: for the dead-letter queue, not retried', {
        messageId: event.messageId,
        reason: judged.reason,
        problems: judged.problems,
        body: event.body.slice(0, LOGGED_BODY_CHARS),
      });
      continue;
    }
    if (judged.status === 'ignored') {
      ignored += 1;
      settle({ messageId: event.messageId, status: 'ignored', code: judged.code, reason: judged.reason });
      deps.log('event ignored', {
        messageId: event.messageId,
        eventId: judged.eventId,
        trigger: judged.trigger,
        code: judged.code,
        reason: judged.reason,
      });
      continue;
    }
    const { hint } = judged;
    if (hint.scope.kind !== 'sweep' && !deps.regions.includes(hint.scope.region)) {
      outOfScope += 1;
      settle({
        messageId: event.messageId,
        status: 'ignored',
        code: 'other-region',
        reason: `${hint.scope.region} is not among ${deps.regions.join(', ')}`,
      });
      deps.log('event for a Region this deployment does not reconcile', {
        messageId: event.messageId,
        eventId: hint.eventId,
        trigger: hint.trigger,
        region: hint.scope.region,
        regions: deps.regions,
      });
      continue;
    }
    messagesByEvent.set(hint.eventId, [...(messagesByEvent.get(hint.eventId) ?? []), event]);
    if (!hints.has(hint.eventId)) hints.set(hint.eventId, hint);
  }

  // 2. Claim each occurrence once.
  const claimed: ReconcileHint[] = [];
  for (const [eventId, hint] of hints) {
    const messages = messagesByEvent.get(eventId) ?? [];
    let claim: EventClaim;
    try {
      claim = await deps.state.claimEvent(eventId, options.claimLeaseSeconds);
    } catch (error) {
      if (isTerminal(error)) {
        for (const event of messages) terminal.push({ event, reason: error.reason, detail: error.message });
        deps.log('event cannot be claimed: for the dead-letter queue, not retried', {
          eventId,
          reason: error.reason,
          message: error.message,
        });
      } else {
        for (const event of messages)
          settle({ messageId: event.messageId, status: 'retry', error: describeError(error) });
        deps.log('event claim failed: retried', {
          eventId,
          error: errorName(error),
          message: errorMessage(error),
        });
      }
      continue;
    }
    if (claim === 'claimed') {
      claimed.push(hint);
      duplicates += messages.length - 1;
    } else if (claim === 'done') {
      duplicates += messages.length;
      for (const event of messages)
        settle({
          messageId: event.messageId,
          status: 'ignored',
          code: 'duplicate',
          reason: 'already processed',
        });
      deps.log('event already processed', { eventId, trigger: hint.trigger });
    } else {
      for (const event of messages)
        settle({
          messageId: event.messageId,
          status: 'retry',
          error: 'being processed by another invocation',
        });
      deps.log('event being processed by another invocation: retried later', { eventId });
    }
  }

  // 3. The terminal messages go to the dead-letter queue now, not after five receives.
  const deadLettered = await sendAndSettle(
    deps,
    'dead-letter',
    terminal.map(({ event, reason, detail }) => ({
      messageId: event.messageId,
      body: event.body,
      attributes: {
        [REASON_ATTRIBUTE]: reason,
        [DETAIL_ATTRIBUTE]: detail,
        [SOURCE_MESSAGE_ATTRIBUTE]: event.messageId,
      },
    })),
    (messageId) => {
      const found = terminal.find((t) => t.event.messageId === messageId);
      settle({
        messageId,
        status: 'dead-lettered',
        reason: found?.reason ?? 'unprocessable',
        detail: found?.detail ?? '',
      });
    },
    settle,
  );

  // 4. Coalesce and reconcile, one Region at a time (the deployment reconciles one thing at once).
  // Regions with work deferred before go first, so that deferred work never waits behind new work twice.
  // Work units of split sweeps run each alone, after the Regions' own work.
  const { work, units } = coalesceHints(claimed, deps.regions);
  const deferralsOf = (unit: RegionWork | UnitWork) =>
    Math.max(
      0,
      ...unit.eventIds.flatMap((id) => (messagesByEvent.get(id) ?? []).map((m) => m.deferrals ?? 0)),
    );
  const ordered = [...work, ...units].sort((a, b) => deferralsOf(b) - deferralsOf(a));
  const regionOutcomes: RegionOutcome[] = [];
  const splits: SplitOutcome[] = [];
  const unitOutcomes: UnitOutcome[] = [];
  // A whole Region's run is named by the sweep it carries (aws/units/run-unit.ts runIdOf).
  const isSweep = (eventId: string) => hints.get(eventId)?.scope.kind === 'sweep';
  // A plan unit takes another step while the invocation has more than the margin left.
  const hasTime = () => {
    const left = remainingMs?.();
    return left === undefined || left >= margin;
  };
  const failedRegions: Array<{ region: string; error: string }> = [];
  const deferredRegions: string[] = [];
  const busyRegions: string[] = [];
  const underWay: RestartUnderWay[] = [];
  // Events whose work did not all complete: failed (retried) wins over deferred (sent back), and a
  // deferral for a busy Region (sent back with a delay) over one for time.
  const unfinished = new Map<
    string,
    { status: 'failed'; error: string } | { status: 'deferred'; delaySeconds: number }
  >();
  const defer = (unit: RegionWork | UnitWork, delaySeconds: number) => {
    for (const id of unit.eventIds) {
      const state = unfinished.get(id);
      if (state?.status === 'failed') continue;
      unfinished.set(id, {
        status: 'deferred',
        delaySeconds: Math.max(delaySeconds, state?.delaySeconds ?? 0),
      });
    }
  };
  // This invocation's name on the Region leases it takes (aws/state.ts).
  const holder = randomUUID();
  for (const unit of ordered) {
    const left = remainingMs?.();
    if (left !== undefined && left < margin) {
      deferredRegions.push(unit.region);
      defer(unit, 0);
      deps.log('region not started: too little time left, its events go back to the queue', {
        region: unit.region,
        events: unit.eventIds.length,
        remainingMs: left,
        safetyMarginMs: margin,
      });
      continue;
    }
    // One reconcile of a Region at a time, across the invocations the event source runs at once: the
    // lease lasts until this invocation's end, so a holder that dies frees it by itself.
    let lease: RegionLease;
    try {
      lease = await deps.state.acquireRegionLease(
        unit.region,
        holder,
        Math.ceil((left ?? options.claimLeaseSeconds * 1000) / 1000),
      );
    } catch (error) {
      failedRegions.push({ region: unit.region, error: describeError(error) });
      for (const id of unit.eventIds)
        unfinished.set(id, { status: 'failed', error: `${unit.region}: lease: ${describeError(error)}` });
      deps.log('region lease not taken (state table error): its events are retried', {
        region: unit.region,
        error: errorName(error),
        message: errorMessage(error),
      });
      continue;
    }
    if (lease.status === 'held') {
      busyRegions.push(unit.region);
      defer(unit, BUSY_REGION_DELAY_SECONDS);
      deps.log('region being reconciled by another invocation: its events go back to the queue', {
        region: unit.region,
        events: unit.eventIds.length,
        heldUntil: lease.until.toISOString(),
        delaySeconds: BUSY_REGION_DELAY_SECONDS,
      });
      continue;
    }
    try {
      const callsBefore = deps.pool.apiCalls().total;
      if ('unit' in unit) {
        const done = await runUnit(unit, deps, hasTime);
        unitOutcomes.push(done);
        regionOutcomes.push(...done.outcomes);
        underWay.push(...done.outcomes.flatMap(restartsUnderWay));
        deps.log('work unit done', {
          region: unit.region,
          runId: unit.unit.runId,
          phase: unit.unit.phase,
          part: unit.unit.part,
          parts: unit.unit.parts,
          ...(done.checkpoint === undefined ? {} : { checkpoint: done.checkpoint }),
          findings: done.outcomes.reduce((n, o) => n + o.plan.findings.length, 0),
          actions: done.outcomes.reduce((n, o) => n + (o.results?.length ?? 0), 0),
          unitsSent: done.sent,
          apiCalls: deps.pool.apiCalls().total - callsBefore,
        });
        continue;
      }
      const decided = unit.whole ? await splitRegion(unit, deps, runIdOf(unit, isSweep)) : {};
      if (decided.split) splits.push(decided.split);
      // Left to a run under way, a sweep's Region reconciles the events that came with it as theirs:
      // the run's units may have read their VPCs already.
      const leftTargets = unit.whole && decided.split?.leftTo !== undefined ? unit.targets : undefined;
      if (decided.split && leftTargets === undefined) continue;
      const work: RegionWork = leftTargets
        ? { region: unit.region, whole: false, targets: leftTargets, eventIds: unit.eventIds }
        : unit;
      // A whole Region draws on its run's ledger: a sweep's caps hold over all its Regions.
      const ledger =
        work.whole && deps.runs ? await openRunLedger(deps, deps.runs, runIdOf(work, isSweep)) : undefined;
      const outcome = await reconcileRegionWork(work, deps, {
        ...(ledger ? { ledger } : {}),
        // What deciding the split read (the index, the clusters): not read again.
        ...('reads' in decided && decided.reads ? { reads: decided.reads } : {}),
      });
      regionOutcomes.push(outcome);
      underWay.push(...restartsUnderWay(outcome));
      deps.log('region reconciled', {
        region: unit.region,
        events: unit.eventIds.length,
        vpcIds: outcome.vpcIds ?? 'all',
        clusters: outcome.clusterArns ?? 'all',
        ...(outcome.widened === undefined ? {} : { widened: outcome.widened }),
        findings: outcome.plan.findings.length,
        unknownFindings: outcome.plan.findings.filter((finding) => finding.status === 'unknown').length,
        // Reads refused without failing the Region (an SCP, a trimmed role): their checks say unknown.
        ...(outcome.plan.skippedReads.length > 0 ? { skippedReads: outcome.plan.skippedReads } : {}),
        actions: outcome.results?.length ?? 0,
        alerts: outcome.alerts.length,
        // The AWS calls of this reconcile (retries included): what X-Ray does not trace.
        apiCalls: deps.pool.apiCalls().total - callsBefore,
      });
    } catch (error) {
      const described = describeError(error);
      failedRegions.push({ region: unit.region, error: described });
      for (const id of unit.eventIds)
        if (unfinished.get(id)?.status !== 'failed')
          unfinished.set(id, { status: 'failed', error: `${unit.region}: ${described}` });
      deps.log('region reconcile failed: its events are retried', {
        region: unit.region,
        error: errorName(error),
        message: errorMessage(error),
      });
    } finally {
      try {
        await deps.state.releaseRegionLease(unit.region, holder);
      } catch (error) {
        deps.log('region lease not released: it ends with this invocation', {
          region: unit.region,
          error: errorName(error),
          message: errorMessage(error),
        });
      }
    }
  }

  // 5. Settle the claims: done, or given back (for the retry, or the deferred message's next delivery).
  const toRequeue: Array<{ event: QueuedEvent; delaySeconds: number }> = [];
  for (const hint of claimed) {
    const [first, ...copies] = messagesByEvent.get(hint.eventId) ?? [];
    const state = unfinished.get(hint.eventId);
    const copiesAreDuplicates = () => {
      for (const copy of copies)
        settle({
          messageId: copy.messageId,
          status: 'ignored',
          code: 'duplicate',
          reason: 'twice in the batch',
        });
    };
    if (state === undefined) {
      try {
        await deps.state.completeEvent(hint.eventId, options.retainSeconds);
      } catch (error) {
        // The work is done; a redelivery within the lease is retried, after it a second reconcile.
        deps.log('event claim not marked done: it expires with its lease', {
          eventId: hint.eventId,
          error: errorName(error),
          message: errorMessage(error),
        });
      }
      if (first) settle({ messageId: first.messageId, status: 'processed' });
      copiesAreDuplicates();
      continue;
    }
    try {
      await deps.state.releaseEvent(hint.eventId);
    } catch (error) {
      deps.log('event claim not released: it expires with its lease', {
        eventId: hint.eventId,
        error: errorName(error),
        message: errorMessage(error),
      });
    }
    if (state.status === 'failed') {
      for (const event of [first, ...copies])
        if (event) settle({ messageId: event.messageId, status: 'retry', error: state.error });
    } else {
      if (first) toRequeue.push({ event: first, delaySeconds: state.delaySeconds });
      copiesAreDuplicates();
    }
  }

  // 6. Deferred work goes back to the events queue as new messages (its receive count starts over).
  const deferred = await sendAndSettle(
    deps,
    'requeue',
    toRequeue.map(({ event, delaySeconds }) => ({
      messageId: event.messageId,
      body: event.body,
      attributes: { [DEFERRALS_ATTRIBUTE]: (event.deferrals ?? 0) + 1 },
      ...(delaySeconds > 0 ? { delaySeconds } : {}),
    })),
    (messageId) => settle({ messageId, status: 'deferred' }),
    settle,
  );

  // 7. Restarts under way: continued by a delayed message each, not by this invocation's waits.
  const continuations = await sendContinuations(deps, underWay, new Set(claimed.map((h) => h.eventId)));

  const messages = events.map(
    (event): MessageOutcome =>
      outcomes.get(event.messageId) ?? {
        messageId: event.messageId,
        status: 'retry',
        error: 'no outcome (a fault of the handler)',
      },
  );
  // One line per batch: where every message went.
  const tally = (pick: (m: MessageOutcome) => string | undefined) => {
    const counts: Record<string, number> = {};
    for (const m of messages) {
      const key = pick(m);
      if (key !== undefined) counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };
  deps.log('batch done', {
    messages: messages.length,
    ...tally((m) => m.status),
    ...(messages.some((m) => m.status === 'ignored')
      ? { ignoredAs: tally((m) => (m.status === 'ignored' ? m.code : undefined)) }
      : {}),
    ...(messages.some((m) => m.status === 'dead-lettered')
      ? { deadLetteredAs: tally((m) => (m.status === 'dead-lettered' ? m.reason : undefined)) }
      : {}),
    ...(underWay.length > 0
      ? { restartsUnderWay: underWay.length, continuations: continuations.length }
      : {}),
  });
  return {
    failedMessageIds: messages.filter((m) => m.status === 'retry').map((m) => m.messageId),
    messages,
    malformed,
    deadLettered,
    deferred,
    ignored,
    duplicates,
    outOfScope,
    outcomes: regionOutcomes,
    failedRegions,
    deferredRegions,
    busyRegions,
    continuations,
    splits,
    units: unitOutcomes,
  };
}

/** Per VPC of a Region's outcome, the restarts under way: the earliest continuation any asks for. */
function restartsUnderWay(outcome: RegionOutcome): RestartUnderWay[] {
  const byVpc = new Map<string, { delaySeconds: number; reasons: string[] }>();
  for (const result of outcome.results ?? []) {
    if (result.continueAfterSeconds === undefined) continue;
    const entry = byVpc.get(result.vpcId) ?? { delaySeconds: result.continueAfterSeconds, reasons: [] };
    entry.delaySeconds = Math.min(entry.delaySeconds, result.continueAfterSeconds);
    entry.reasons.push(`${result.actionId}: ${result.message}`);
    byVpc.set(result.vpcId, entry);
  }
  return [...byVpc].map(([vpcId, { delaySeconds, reasons }]) => ({
    region: outcome.region,
    vpcId,
    delaySeconds: Math.min(900, Math.max(0, Math.ceil(delaySeconds))),
    reason: reasons.join('; ').slice(0, 1000),
  }));
}

/**
 * Sends one restart continuation per VPC under way to the events queue, delayed as its restarts ask
 * (SQS DelaySeconds, at most 900), each with an id of its own (a new occurrence for the idempotency
 * records), and records it beside the VPC's restart claims. One chain per VPC: where the continuation
 * sent before is still on its way (not due yet, and not among `delivered`, the events just
 * reconciled), a reconcile made by another event (an agent's reconnect is one) sends none. Returns
 * those sent; the others are logged (the next sweep continues their restarts).
 */
async function sendContinuations(
  deps: BatchDeps,
  underWay: readonly RestartUnderWay[],
  delivered: ReadonlySet<string>,
): Promise<RestartUnderWay[]> {
  if (underWay.length === 0) return [];
  const listed = (list: readonly RestartUnderWay[]) =>
    list.map((u) => ({ region: u.region, vpcId: u.vpcId, delaySeconds: u.delaySeconds }));
  if (!deps.queues) {
    deps.log('restarts under way: no queue to continue them (a direct invocation); the next sweep does', {
      restarts: listed(underWay),
    });
    return [];
  }
  const claimsOf = (region: string) => restartGuardOf(deps.pool.clientsFor(region)).claims;
  const toSend: Array<{ restart: RestartUnderWay; id: string }> = [];
  for (const restart of underWay) {
    let onItsWay: ScheduledContinuation | undefined;
    try {
      onItsWay = await claimsOf(restart.region)?.continuation(restart.region, restart.vpcId);
    } catch (error) {
      deps.log('restart continuation record not read: a continuation is sent', {
        region: restart.region,
        vpcId: restart.vpcId,
        error: errorName(error),
        message: errorMessage(error),
      });
    }
    if (onItsWay && onItsWay.dueAt > Date.now() && !delivered.has(onItsWay.id)) {
      deps.log('restarts under way: their continuation is on its way already', {
        region: restart.region,
        vpcId: restart.vpcId,
        continuation: onItsWay.id,
        dueAt: new Date(onItsWay.dueAt).toISOString(),
      });
      continue;
    }
    toSend.push({ restart, id: `continuation-${randomUUID()}` });
  }
  if (toSend.length === 0) return [];
  const time = new Date().toISOString();
  const messages: OutgoingMessage[] = toSend.map(({ restart, id }, n) => ({
    messageId: String(n),
    body: restartContinuationBody({
      id,
      time,
      region: restart.region,
      ...(deps.accountId === undefined ? {} : { account: deps.accountId }),
      vpcIds: [restart.vpcId],
      reason: restart.reason,
    }),
    attributes: {},
    delaySeconds: restart.delaySeconds,
  }));
  const sentAt = Date.now();
  let result: SendOutcome;
  try {
    result = await deps.queues.requeue(messages);
  } catch (error) {
    result = {
      sent: [],
      failed: messages.map((m) => ({ messageId: m.messageId, error: describeError(error) })),
    };
  }
  const sent: RestartUnderWay[] = [];
  for (const messageId of result.sent) {
    const entry = toSend[Number(messageId)];
    if (!entry) continue;
    sent.push(entry.restart);
    const { region, vpcId, delaySeconds } = entry.restart;
    try {
      await claimsOf(region)?.recordContinuation(region, vpcId, {
        id: entry.id,
        dueAt: sentAt + delaySeconds * 1000,
      });
    } catch (error) {
      // Without the record, a reconcile made by another event may start a second chain (harmless).
      deps.log('restart continuation sent but not recorded', {
        region,
        vpcId,
        error: errorName(error),
        message: errorMessage(error),
      });
    }
  }
  if (sent.length > 0) deps.log('restarts under way: continuations sent', { restarts: listed(sent) });
  if (result.failed.length > 0)
    deps.log('restart continuations not sent: the next sweep continues those restarts', {
      restarts: result.failed.flatMap((f) => {
        const entry = toSend[Number(f.messageId)];
        return entry ? [{ region: entry.restart.region, vpcId: entry.restart.vpcId, error: f.error }] : [];
      }),
    });
  return sent;
}

/**
 * Sends `messages` to the dead-letter queue or back to the events queue; each one sent is settled by
 * `onSent`, each not sent (no queue configured, the send failed) is retried. Returns how many were sent.
 */
async function sendAndSettle(
  deps: BatchDeps,
  to: 'dead-letter' | 'requeue',
  messages: readonly OutgoingMessage[],
  onSent: (messageId: string) => void,
  settle: (outcome: MessageOutcome) => void,
): Promise<number> {
  if (messages.length === 0) return 0;
  let result: SendOutcome;
  try {
    result = deps.queues
      ? await (to === 'dead-letter' ? deps.queues.deadLetter(messages) : deps.queues.requeue(messages))
      : {
          sent: [],
          failed: messages.map((m) => ({ messageId: m.messageId, error: 'no queue configured' })),
        };
  } catch (error) {
    result = {
      sent: [],
      failed: messages.map((m) => ({ messageId: m.messageId, error: describeError(error) })),
    };
  }
  for (const messageId of result.sent) onSent(messageId);
  for (const { messageId, error } of result.failed) {
    settle({
      messageId,
      status: 'retry',
      error: `${to === 'dead-letter' ? 'dead-letter' : 'requeue'} send failed: ${error}`,
    });
  }
  if (result.sent.length > 0)
    deps.log(to === 'dead-letter' ? 'events dead-lettered' : 'events deferred to the queue', {
      messages: result.sent.length,
    });
  if (result.failed.length > 0)
    deps.log(
      to === 'dead-letter'
        ? 'dead-letter send failed: the messages are retried'
        : 'requeue failed: the messages are retried',
      { messages: result.failed.length, errors: [...new Set(result.failed.map((f) => f.error))].slice(0, 5) },
    );
  return result.sent.length;
}
