/**
 * The retry strategy of the AWS clients for throttling: a throttled request is sent again, with capped
 * exponential backoff and full jitter, for as long as its time budget allows, whatever the SDK's
 * `maxAttempts` and retry quota (both stop a throttled request after a few tries, and one failed read
 * fails its Region). Every other error is the SDK's standard strategy's (MAX_ATTEMPTS attempts).
 *
 * The budget of a request ({@link ThrottleBudget}) is the work's deadline when there is one (the
 * Lambda: the invocation's remaining time less its safety margin), else `rateLimits.
 * throttleBudgetSeconds` from its first throttled answer (the CLI). Past it, the request fails, and
 * {@link throttleBudgetMiddleware} turns its last throttling error into a
 * {@link ThrottledPastDeadlineError} naming the service, the operation and how long it was throttled.
 *
 * A throttled request did not run: sending it again is safe for writes too.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import type { Clock } from './rate-limit.ts';
import { RateLimitWaitError, systemClock } from './rate-limit.ts';

/**
 * The codes retried until the budget: AWS's throttling answers (EC2's `RequestLimitExceeded`, the
 * JSON protocols' `ThrottlingException`, the query protocols' `Throttling`, …). The SDK also counts
 * `LimitExceededException` and `TransactionInProgressException` as throttling, but some services use
 * them for quotas and conflicts that waiting does not clear: those keep the standard attempts.
 */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceeded',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);

/** Whether an error is a throttling answer (see {@link THROTTLING_CODES}, or HTTP 429). */
export function isThrottlingError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { Code?: unknown }).Code;
  const details = error as {
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  return (
    THROTTLING_CODES.has(error.name) ||
    (typeof code === 'string' && THROTTLING_CODES.has(code)) ||
    details.$metadata?.httpStatusCode === 429 ||
    details.$retryable?.throttling === true
  );
}

/** Backoff of throttled requests: full jitter over `baseMs × 2^(n−1)`, at most `maxMs`. */
export interface ThrottleBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The SDK's throttling base delay and its longest retry delay. */
export const DEFAULT_THROTTLE_BACKOFF: ThrottleBackoff = { baseMs: 500, maxMs: 20_000 };

/** Until when a request may be retried after throttling. */
export interface ThrottleBudget {
  /** Epoch ms. */
  readonly until: number;
  /** `deadline`: the work's (ClientOptions.deadline); `budget`: `rateLimits.throttleBudgetSeconds`. */
  readonly kind: 'deadline' | 'budget';
  readonly seconds?: number;
}

/** The budget of a request first throttled at `since` (epoch ms). */
export type BudgetOf = (since: number) => ThrottleBudget;

/**
 * The budget function of a client: the work's `deadline` when it gives one, else `budgetSeconds`
 * from the request's first throttled answer.
 */
export function budgetOf(deadline: (() => number | undefined) | undefined, budgetSeconds: number): BudgetOf {
  return (since) => {
    const until = deadline?.();
    return until === undefined
      ? { until: since + budgetSeconds * 1000, kind: 'budget', seconds: budgetSeconds }
      : { until, kind: 'deadline' };
  };
}

/** How a throttled request ended, kept for {@link throttleBudgetMiddleware}. */
interface Exhausted {
  readonly attempts: number;
  /** From its first throttled answer to the last. */
  readonly throttledMs: number;
  readonly budget: ThrottleBudget;
}

/** The errors the strategy gave up on, read by the middleware outside the retry loop. */
const exhausted = new WeakMap<object, Exhausted>();

class ThrottleAwareToken implements RetryToken {
  readonly inner: RetryToken;
  /** When the request was first throttled (epoch ms), if it was. */
  readonly throttledSince: number | undefined;
  readonly count: number;
  readonly delay: number;
  readonly throttles: number;
  constructor(
    inner: RetryToken,
    throttledSince: number | undefined,
    count: number,
    delay: number,
    throttles: number,
  ) {
    this.inner = inner;
    this.throttledSince = throttledSince;
    this.count = count;
    this.delay = delay;
    this.throttles = throttles;
  }
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delay;
  }
}

export interface ThrottleRetryOptions {
  readonly budgetOf: BudgetOf;
  readonly backoff?: ThrottleBackoff;
  readonly clock?: Pick<Clock, 'now'>;
  /** A number in [0, 1) (tests pin it). */
  readonly random?: () => number;
}

/**
 * `inner` (the SDK's standard strategy) for every error but throttling; throttling retried until the
 * request's budget, its delay drawn from [0, min(maxMs, baseMs × 2^(n−1))] (at least a `Retry-After`
 * hint, and never past the budget). The retry middleware sleeps the returned token's delay.
 */
export function throttleAwareRetries(inner: RetryStrategyV2, options: ThrottleRetryOptions): RetryStrategyV2 {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? DEFAULT_THROTTLE_BACKOFF;
  const tokenOf = (token: RetryToken): ThrottleAwareToken => {
    if (token instanceof ThrottleAwareToken) return token;
    throw new Error('retry token not issued by throttleAwareRetries');
  };
  return {
    acquireInitialRetryToken: async (scope) =>
      new ThrottleAwareToken(await inner.acquireInitialRetryToken(scope), undefined, 0, 0, 0),
    refreshRetryTokenForRetry: async (token, info: RetryErrorInfo) => {
      const current = tokenOf(token);
      if (isThrottlingError(info.error)) {
        const now = clock.now();
        const since = current.throttledSince ?? now;
        const budget = options.budgetOf(since);
        const left = budget.until - now;
        if (left <= 0) {
          if (info.error)
            exhausted.set(info.error, { attempts: current.count + 1, throttledMs: now - since, budget });
          throw info.error ?? new Error('throttled past the deadline');
        }
        const throttles = current.throttles + 1;
        let delay = random() * Math.min(backoff.maxMs, backoff.baseMs * 2 ** (throttles - 1));
        const hint = info.retryAfterHint?.getTime();
        if (hint !== undefined) delay = Math.max(delay, Math.min(backoff.maxMs, hint - now));
        return new ThrottleAwareToken(
          current.inner,
          since,
          current.count + 1,
          Math.max(0, Math.min(delay, left)),
          throttles,
        );
      }
      const next = await inner.refreshRetryTokenForRetry(current.inner, info);
      return new ThrottleAwareToken(
        next,
        current.throttledSince,
        current.count + 1,
        next.getRetryDelay(),
        current.throttles,
      );
    },
    recordSuccess: (token) => {
      inner.recordSuccess(tokenOf(token).inner);
    },
  };
}

export interface ThrottledPastDeadline {
  /** The endpoint prefix of the service: `ec2`, `ecs`, `ssm`, `route53`, `iam`. */
  readonly service: string;
  readonly region: string;
  readonly operation: string;
  /** The last throttling code (`RequestLimitExceeded`, …), or `RateLimit` for our own limiter's wait. */
  readonly code: string;
  readonly attempts: number;
  /** How long the request was throttled (from its first throttled answer), or waited for a token. */
  readonly seconds: number;
  readonly budget: ThrottleBudget;
  /** The limiter's bucket it waited for (`RateLimit`). */
  readonly bucket?: string;
}

/**
 * A request still throttled when its time budget ran out (or still waiting for a token of the
 * client-side limiter then). It names the service, the Region, the operation and how long it tried.
 */
export class ThrottledPastDeadlineError extends Error implements ThrottledPastDeadline {
  readonly service: string;
  readonly region: string;
  readonly operation: string;
  readonly code: string;
  readonly attempts: number;
  readonly seconds: number;
  readonly budget: ThrottleBudget;
  readonly bucket: string | undefined;
  constructor(details: ThrottledPastDeadline, options?: ErrorOptions) {
    const why =
      details.budget.kind === 'deadline'
        ? 'no time left before its deadline'
        : `its throttling budget (rateLimits.throttleBudgetSeconds, ${details.budget.seconds ?? '?'} s) is spent`;
    const what =
      details.code === 'RateLimit'
        ? `waited ${details.seconds} s for a token of its rate limit (${details.bucket ?? '?'})`
        : `still throttled (${details.code}) after ${details.seconds} s and ${details.attempts} attempt${details.attempts === 1 ? '' : 's'}`;
    super(`${details.service}.${details.region}: ${details.operation} ${what}: ${why}`, options);
    this.name = 'ThrottledPastDeadline';
    this.service = details.service;
    this.region = details.region;
    this.operation = details.operation;
    this.code = details.code;
    this.attempts = details.attempts;
    this.seconds = details.seconds;
    this.budget = details.budget;
    this.bucket = details.bucket;
  }
}

/**
 * A middleware outside the retry loop (the `initialize` step) turning a request the strategy gave up
 * on for lack of time, or one that waited for a token until its deadline, into a
 * {@link ThrottledPastDeadlineError}.
 */
export function throttleBudgetMiddleware(service: string, region: string, budget: BudgetOf, clock: Clock) {
  return <Args, Output>(next: (args: Args) => Promise<Output>, context: { readonly commandName?: string }) =>
    async (args: Args): Promise<Output> => {
      const startedAt = clock.now();
      try {
        return await next(args);
      } catch (error) {
        const operation = context.commandName?.replace(/Command$/, '') ?? 'unknown';
        const seconds = (ms: number) => Math.round(ms / 1000);
        if (error instanceof RateLimitWaitError) {
          throw new ThrottledPastDeadlineError(
            {
              service,
              region,
              operation,
              code: 'RateLimit',
              attempts: 0,
              seconds: seconds(error.waitedMs),
              budget: budget(startedAt),
              bucket: error.bucket,
            },
            { cause: error },
          );
        }
        const gaveUp = typeof error === 'object' && error !== null ? exhausted.get(error) : undefined;
        if (gaveUp === undefined || !(error instanceof Error)) throw error;
        throw new ThrottledPastDeadlineError(
          {
            service,
            region,
            operation,
            code: error.name,
            attempts: gaveUp.attempts,
            seconds: seconds(gaveUp.throttledMs),
            budget: gaveUp.budget,
          },
          { cause: error },
        );
      }
    };
}

export const THROTTLE_BUDGET_OPTIONS = {
  step: 'initialize',
  priority: 'low',
  name: 'ecsEndpointRemediatorThrottleBudget',
  override: true,
} as const;
