/**
 * What becomes of a queued event that is not reconciled: the reconciler's error taxonomy.
 *
 * Every message of a batch is judged alone and ends in exactly one of these:
 * - **processed**: its event was reconciled (or its Region's reconcile covered it);
 * - **ignored**, for one of the few {@link IGNORED_CLASSES} only: nothing is dropped silently;
 * - **dead-lettered** by the handler itself, for a {@link TerminalError} (a deterministic failure that
 *   five retries would repeat), with its {@link TerminalReason} as a message attribute;
 * - **deferred**: sent back to the queue unstarted when the invocation's time runs short;
 * - **retried**: anything else is transient (throttling, a 5xx, a failed Region, a failed send to the
 *   dead-letter queue) and is returned as a batch item failure, so SQS redelivers it (and after five
 *   receives moves it to the dead-letter queue itself).
 *
 * The split follows Kubernetes controller-runtime's `reconcile.TerminalError`: an error that is marked
 * terminal is not requeued, every other error is retried with backoff.
 */

/**
 * Why a message cannot be processed, whatever the number of attempts: the value of the dead-lettered
 * message's `eer-reason` attribute (docs/deploy.md, "Failure handling").
 */
export const TERMINAL_REASONS = {
  'not-json': 'the message body is not JSON',
  malformed: 'the event does not have the shape of the events the rules match (a path did not fit)',
  unmatched: 'an event the rules do not match (detail-type, source, CloudTrail event source or name)',
  'invalid-key': "DynamoDB refused the event's idempotency key (a ValidationException)",
  unprocessable:
    'reading the event threw an unexpected error: the read is deterministic, so every retry would too',
} as const;

/** A {@link TERMINAL_REASONS} key. */
export type TerminalReason = keyof typeof TERMINAL_REASONS;

/**
 * The only events that are dropped without being reconciled or dead-lettered, each logged with its
 * class (`event ignored`) and counted (`EventsIgnored`, `EventsDuplicate`).
 */
export const IGNORED_CLASSES = {
  'call-failed': 'a CloudTrail call that failed (detail.errorCode): it changed nothing',
  'instance-inactive':
    'a container instance neither ACTIVE nor DRAINING: it runs no work that needs the endpoints',
  'other-region': 'an event of a Region this deployment does not reconcile',
  duplicate: 'an occurrence already processed (its idempotency record is done) or twice in one batch',
} as const;

/** An {@link IGNORED_CLASSES} key. */
export type IgnoredClass = keyof typeof IGNORED_CLASSES;

/**
 * An error that retrying cannot fix: the same input fails the same way. The batch handler sends the
 * message to the dead-letter queue at once instead of returning it five times; any other error is
 * transient.
 */
export class TerminalError extends Error {
  /** Why: the dead-lettered message's `eer-reason`. */
  readonly reason: TerminalReason;

  constructor(reason: TerminalReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

/** Whether `error` must not be retried (a {@link TerminalError}, or a subclass such as EventParseError). */
export function isTerminal(error: unknown): error is TerminalError {
  return error instanceof TerminalError;
}
