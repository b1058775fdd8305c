/**
 * One batch of queued events: parse each (a malformed one fails alone), skip the ones an earlier
 * delivery completed (idempotency records), coalesce the rest into one reconcile per Region (a burst
 * for one VPC reads it once), and report which messages must come back (SQS partial batch failure).
 */
import type { ParsedEvent, ReconcileHint } from '../core/events.ts';
import { EventParseError, coalesceHints, parseEventBody } from '../core/events.ts';
import type { RegionOutcome, RemediatorDeps } from './event-reconcile.ts';
import { reconcileRegionWork } from './event-reconcile.ts';
import { errorMessage, errorName } from './errors.ts';

export interface QueuedEvent {
  /** The SQS message id: what a partial batch failure names. */
  readonly messageId: string;
  readonly body: string;
}

export interface BatchSummary {
  /** Messages to retry (their receive count grows; past the queue's maxReceiveCount they go to the DLQ). */
  readonly failedMessageIds: readonly string[];
  readonly malformed: number;
  readonly ignored: number;
  readonly duplicates: number;
  readonly outOfScope: number;
  readonly outcomes: readonly RegionOutcome[];
  readonly failedRegions: ReadonlyArray<{ readonly region: string; readonly error: string }>;
}

export interface BatchOptions {
  /** How long a claim holds before another delivery may take it over: the function's timeout. */
  readonly claimLeaseSeconds: number;
  /** How long a completed event's record is kept to recognise redeliveries. */
  readonly retainSeconds: number;
}

export const DEFAULT_BATCH_OPTIONS: BatchOptions = { claimLeaseSeconds: 900, retainSeconds: 7 * 24 * 3600 };

export async function processEventBatch(
  events: readonly QueuedEvent[],
  deps: RemediatorDeps,
  options: BatchOptions = DEFAULT_BATCH_OPTIONS,
): Promise<BatchSummary> {
  const failed = new Set<string>();
  let malformed = 0;
  let ignored = 0;
  let duplicates = 0;

  // 1. Parse. Several messages may carry one occurrence (a redelivery, a duplicate event).
  const messagesByEvent = new Map<string, string[]>();
  const hints = new Map<string, ReconcileHint>();
  for (const event of events) {
    let parsed: ParsedEvent;
    try {
      parsed = parseEventBody(event.body);
    } catch (error) {
      if (!(error instanceof EventParseError)) throw error;
      malformed += 1;
      failed.add(event.messageId);
      deps.log('malformed event: retried, then dead-lettered', {
        messageId: event.messageId,
        problems: error.problems,
        body: event.body.slice(0, 2000),
      });
      continue;
    }
    if (parsed.status === 'ignored') {
      ignored += 1;
      deps.log('event ignored', {
        messageId: event.messageId,
        eventId: parsed.eventId,
        trigger: parsed.trigger,
        reason: parsed.reason,
      });
      continue;
    }
    const { hint } = parsed;
    messagesByEvent.set(hint.eventId, [...(messagesByEvent.get(hint.eventId) ?? []), event.messageId]);
    hints.set(hint.eventId, hint);
  }
  if (messagesByEvent.size < [...messagesByEvent.values()].flat().length) {
    duplicates += [...messagesByEvent.values()].flat().length - messagesByEvent.size;
  }

  // 2. Claim each occurrence once.
  const claimed: ReconcileHint[] = [];
  for (const hint of hints.values()) {
    const claim = await deps.state.claimEvent(hint.eventId, options.claimLeaseSeconds);
    if (claim === 'claimed') claimed.push(hint);
    else if (claim === 'done') {
      duplicates += messagesByEvent.get(hint.eventId)?.length ?? 1;
      deps.log('event already processed', { eventId: hint.eventId, trigger: hint.trigger });
    } else {
      for (const id of messagesByEvent.get(hint.eventId) ?? []) failed.add(id);
      deps.log('event being processed by another invocation: retried later', { eventId: hint.eventId });
    }
  }

  // 3. Coalesce and reconcile, one Region at a time (the deployment reconciles one thing at once).
  const { work, outOfScope } = coalesceHints(claimed, deps.regions);
  for (const hint of outOfScope) {
    deps.log('event for a Region this deployment does not reconcile', {
      eventId: hint.eventId,
      trigger: hint.trigger,
      regions: deps.regions,
    });
    await deps.state.completeEvent(hint.eventId, options.retainSeconds);
  }
  const outcomes: RegionOutcome[] = [];
  const failedRegions: Array<{ region: string; error: string }> = [];
  const failedEvents = new Set<string>();
  for (const unit of work) {
    try {
      const callsBefore = deps.pool.apiCalls().total;
      const outcome = await reconcileRegionWork(unit, deps);
      outcomes.push(outcome);
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
      failedRegions.push({ region: unit.region, error: `${errorName(error)}: ${errorMessage(error)}` });
      for (const id of unit.eventIds) failedEvents.add(id);
      deps.log('region reconcile failed: its events are retried', {
        region: unit.region,
        error: errorName(error),
        message: errorMessage(error),
      });
    }
  }

  // 4. Settle the claims: done, or given back for the retry.
  for (const hint of claimed) {
    if (outOfScope.includes(hint)) continue;
    if (failedEvents.has(hint.eventId)) {
      await deps.state.releaseEvent(hint.eventId);
      for (const id of messagesByEvent.get(hint.eventId) ?? []) failed.add(id);
    } else {
      await deps.state.completeEvent(hint.eventId, options.retainSeconds);
    }
  }

  return {
    failedMessageIds: events.map((e) => e.messageId).filter((id) => failed.has(id)),
    malformed,
    ignored,
    duplicates,
    outOfScope: outOfScope.length,
    outcomes,
    failedRegions,
  };
}
