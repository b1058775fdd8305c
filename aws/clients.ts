/**
 * The AWS SDK clients of one Region, with a counter of every API call they send.
 *
 * Endpoints are never hard-coded: the SDK itself honours `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` (tests and the local demo point it at moto that way, or pass an
 * explicit `endpoint`).
 *
 * Every client has connection and request timeouts (the config's `timeouts`, aws/timeouts.ts): an
 * endpoint that accepts the connection and never answers fails in seconds, with an error naming the
 * service and the endpoint, instead of hanging the run.
 *
 * Throttling (aws/retry.ts): a throttled request is sent again until its time budget (the work's
 * `deadline`, else the config's `rateLimits.throttleBudgetSeconds`) runs out, whatever the attempts;
 * other errors keep the standard retries. With the config's `rateLimits` (the CLI, the Lambda), each
 * attempt first waits for a token of its bucket (aws/rate-limit.ts), shared by the pool's clients.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SSMClient } from '@aws-sdk/client-ssm';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { MiddlewareStack, NodeHttpHandlerOptions, RetryStrategyV2 } from '@smithy/types';
import type { RateLimiter, RateLimitSettings } from './rate-limit.ts';
import { createRateLimiter, systemClock } from './rate-limit.ts';
import type { ThrottleBackoff } from './retry.ts';
import {
  THROTTLE_BUDGET_OPTIONS,
  budgetOf,
  isThrottlingError,
  throttleAwareRetries,
  throttleBudgetMiddleware,
} from './retry.ts';
import type { RamClient } from './ram-client.ts';
import { createRamClient } from './ram-client.ts';
import type { Route53ProfilesClient } from './route53profiles-client.ts';
import { createRoute53ProfilesClient } from './route53profiles-client.ts';
import type { ResolverClient } from './resolver-client.ts';
import { createResolverClient } from './resolver-client.ts';
import type { ClientTimeouts, TimeoutKind } from './timeouts.ts';
import { DEFAULT_TIMEOUTS, EndpointTimeoutError, originOf, timeoutsExhausted } from './timeouts.ts';
import { defaultConfig } from '../core/config.ts';
import type { ApiCallCounts } from '../core/report.ts';

export type { ApiCallCounts } from '../core/report.ts';
export type { ClientTimeouts } from './timeouts.ts';

/**
 * Retries: the SDK's `standard` mode (AWS's recommendation), with a few more attempts than its default
 * 3, for every error but throttling (retried until the request's time budget: aws/retry.ts).
 */
export const RETRY_MODE = 'standard';
export const MAX_ATTEMPTS = 5;

/** Counts the API requests the clients actually send (each retry attempt is a request of its own). */
export interface ApiCallCounter {
  record(service: string, operation: string): void;
  snapshot(): ApiCallCounts;
}

export function createApiCallCounter(): ApiCallCounter {
  const byService = new Map<string, number>();
  const byOperation = new Map<string, number>();
  let total = 0;
  return {
    record(service, operation) {
      total += 1;
      byService.set(service, (byService.get(service) ?? 0) + 1);
      const key = `${service}:${operation}`;
      byOperation.set(key, (byOperation.get(key) ?? 0) + 1);
    },
    snapshot() {
      return {
        total,
        byService: Object.fromEntries(byService),
        byOperation: Object.fromEntries(byOperation),
      };
    },
  };
}

export interface AwsClients {
  readonly region: string;
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  /**
   * Route 53 is global: its private hosted zones are read by VPC and Region. Its rate limit is per
   * account and low (a bucket of 50 refilled at 10 a second, for every caller): one bucket of the
   * limiter for all Regions, throttling retried until the budget, and ten attempts for other errors.
   */
  readonly route53: Route53Client;
  readonly resolver: ResolverClient;
  /** AWS RAM: which of the account's subnets it shares with others (their VPCs' participants). */
  readonly ram: RamClient;
  /**
   * Route 53 Profiles: which Profiles carry the remediator's endpoints, or zones that point at them,
   * to VPCs the Profiles are associated with (possibly other accounts').
   */
  readonly route53profiles: Route53ProfilesClient;
  /** IAM is global: it names the role of each container instance's profile. */
  readonly iam: IAMClient;
  readonly calls: ApiCallCounter;
  /** The client-side rate limiter, when the clients have one (ClientOptions.rateLimits). */
  readonly limiter?: RateLimiter;
}

/**
 * Attempts of the Route 53 client for errors other than throttling (5xx, network): it kept the ten of
 * the SDK's adaptive mode it had before the rate limiter replaced that mode's client-side pacing.
 */
export const ROUTE53_MAX_ATTEMPTS = 10;

export interface ClientOptions {
  /** Explicit credentials (tests, an assumed role); default: the SDK's default provider chain. */
  readonly credentials?: EC2ClientConfig['credentials'];
  /**
   * A profile of the shared config and credentials files (`--profile`): the default provider chain
   * reads its credentials (keys, SSO, role_arn with source_profile, credential_process) as it does
   * for `AWS_PROFILE`. Ignored with `credentials`.
   */
  readonly profile?: string;
  /** Explicit endpoint for every service (tests); default: the SDK's resolution, incl. `AWS_ENDPOINT_URL*`. */
  readonly endpoint?: string;
  /** Connection and request timeouts (the config's `timeouts`); default: the config's defaults. */
  readonly timeouts?: ClientTimeouts;
  /**
   * The config's `rateLimits`: with them, every attempt waits for a token of its bucket (the CLI and
   * the Lambda pass them). Without: no client-side pacing (tests, library callers), but throttling is
   * still retried until the budget (the default `throttleBudgetSeconds`).
   */
  readonly rateLimits?: RateLimitSettings;
  /**
   * The limiter to use (a ClientPool shares one between its Regions: Route 53 and IAM buckets are
   * global); default: a new one from `rateLimits`, if given.
   */
  readonly limiter?: RateLimiter;
  /**
   * The work's deadline (epoch ms), read at each throttled attempt and each wait for a token: a
   * throttled request is retried until then, and a request still waiting for a token then is not
   * sent. Undefined (or returning undefined): `rateLimits.throttleBudgetSeconds` from the request's
   * first throttled answer, and no bound on waits. The Lambda sets it to its invocation's end less
   * the safety margin (handlers/reconcile.ts).
   */
  readonly deadline?: () => number | undefined;
  /** Backoff of throttled requests (default: aws/retry.ts's, 0.5 s base, 20 s cap); tests shorten it. */
  readonly throttleBackoff?: ThrottleBackoff;
}

/**
 * The SDK's Node.js request handler options for `timeouts` (`requestHandler` of any SDK v3 client):
 * `requestTimeout` runs from the request's start to its answer's headers, connecting included;
 * `socketTimeout` bounds a silence while the answer is read (the SDK's own default is 15 minutes).
 */
export function requestHandlerOptions(timeouts: ClientTimeouts = DEFAULT_TIMEOUTS): NodeHttpHandlerOptions {
  return {
    connectionTimeout: timeouts.connectSeconds * 1000,
    requestTimeout: timeouts.requestSeconds * 1000,
    // Without it the SDK only logs a warning when requestTimeout passes, and goes on waiting.
    throwOnRequestTimeout: true,
    socketTimeout: timeouts.requestSeconds * 1000,
  };
}

/**
 * Which timeout an attempt's error is, if any. The SDK's handler names its three timeouts
 * `TimeoutError` (connection, request, socket silence), but also a refused or reset connection.
 */
function timeoutKindOf(error: unknown): TimeoutKind | undefined {
  if (!(error instanceof Error) || error.name !== 'TimeoutError' || error instanceof EndpointTimeoutError)
    return undefined;
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE') return undefined;
  return /establish a connection/.test(error.message) ? 'connect' : 'request';
}

/**
 * A middleware turning an attempt's timeout into an {@link EndpointTimeoutError} naming the service,
 * the Region and the endpoint. In the `finalizeRequest` step at low priority, like the counter, it
 * sits inside the retry middleware: it sees each attempt, and counts an operation's timed-out attempts
 * (the context is the operation's, shared by its attempts).
 */
function timeoutMiddleware(service: string, region: string, timeouts: ClientTimeouts) {
  const timedOut = new WeakMap<object, number>();
  return <Args extends { readonly request?: unknown }, Output>(
      next: (args: Args) => Promise<Output>,
      context: object,
    ) =>
    async (args: Args): Promise<Output> => {
      try {
        return await next(args);
      } catch (error) {
        const kind = timeoutKindOf(error);
        if (kind === undefined) throw error;
        const attempts = (timedOut.get(context) ?? 0) + 1;
        timedOut.set(context, attempts);
        const request = (args.request ?? {}) as Parameters<typeof originOf>[0];
        throw new EndpointTimeoutError(
          {
            service,
            region,
            endpoint: originOf(request),
            timeout: kind,
            seconds: kind === 'connect' ? timeouts.connectSeconds : timeouts.requestSeconds,
            attempts,
          },
          { cause: error },
        );
      }
    };
}

const TIMEOUT_OPTIONS = {
  step: 'finalizeRequest',
  priority: 'low',
  name: 'ecsEndpointRemediatorTimeouts',
  override: true,
} as const;

/**
 * A retry strategy that gives up on a request once {@link TIMEOUT_ATTEMPTS} of its attempts timed
 * out, and otherwise is `inner` (throttling retried until the budget, 5xx answers with all their
 * attempts).
 */
function capTimeoutRetries(inner: RetryStrategyV2): RetryStrategyV2 {
  return {
    acquireInitialRetryToken: (scope) => inner.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry: async (token, info) => {
      if (timeoutsExhausted(info.error)) throw info.error;
      return inner.refreshRetryTokenForRetry(token, info);
    },
    recordSuccess: (token) => {
      inner.recordSuccess(token);
    },
  };
}

/**
 * A middleware taking a token of the request's bucket before each attempt (and giving it back with
 * the answer's outcome: throttled, success or other). Placed just before signing, inside the retry
 * loop: each attempt takes a token, and a long wait never ages a signature. With a work `deadline`,
 * a request still waiting for its token then is not sent (RateLimitWaitError); without one (the CLI)
 * it waits for as long as the pacing takes.
 */
function rateLimitMiddleware(
  service: string,
  region: string,
  limiter: RateLimiter,
  deadline: (() => number | undefined) | undefined,
) {
  return <Args extends { readonly input?: unknown }, Output>(
      next: (args: Args) => Promise<Output>,
      context: { readonly commandName?: string },
    ) =>
    async (args: Args): Promise<Output> => {
      const until = deadline?.();
      const permit = await limiter.acquire({
        region,
        service,
        operation: context.commandName?.replace(/Command$/, '') ?? 'unknown',
        input: args.input,
        ...(until === undefined ? {} : { deadline: until }),
      });
      try {
        const output = await next(args);
        permit?.release('success');
        return output;
      } catch (error) {
        permit?.release(isThrottlingError(error) ? 'throttled' : 'failed');
        throw error;
      }
    };
}

const RATE_LIMIT_OPTIONS = {
  relation: 'before',
  toMiddleware: 'httpSigningMiddleware',
  name: 'ecsEndpointRemediatorRateLimit',
  override: true,
} as const;

/** Name of the counting middleware in each client's stack. */
const COUNTER_MIDDLEWARE = 'ecsEndpointRemediatorApiCallCounter';

/**
 * A middleware counting each request it passes on. Added to the `finalizeRequest` step at low
 * priority, it sits inside the retry middleware (same step, high priority): it runs once per attempt.
 */
function countingMiddleware(service: string, counter: ApiCallCounter) {
  return <Args, Output>(next: (args: Args) => Promise<Output>, context: { readonly commandName?: string }) =>
    (args: Args): Promise<Output> => {
      counter.record(service, context.commandName?.replace(/Command$/, '') ?? 'unknown');
      return next(args);
    };
}

const COUNTER_OPTIONS = {
  step: 'finalizeRequest',
  priority: 'low',
  name: COUNTER_MIDDLEWARE,
  override: true,
} as const;

/**
 * Paces a client made beside `clients` (SendCommand's: aws/restart-guard.ts) by their limiter, if
 * they have one: a token of the request's bucket before each attempt. Without a work deadline: such
 * a client sends a few requests, each waiting at most one refill.
 */
export function paceBeside<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  clients: Pick<AwsClients, 'region' | 'limiter'>,
  service: string,
): void {
  if (clients.limiter)
    stack.addRelativeTo(
      rateLimitMiddleware(service, clients.region, clients.limiter, undefined),
      RATE_LIMIT_OPTIONS,
    );
}

/**
 * Counts the requests `stack`'s client sends in `counter`, as the pool's clients count theirs (the
 * CLI's STS and Organizations clients of a run over several accounts).
 */
export function countRequests<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  service: string,
  counter: ApiCallCounter,
): void {
  stack.add(countingMiddleware(service, counter), COUNTER_OPTIONS);
}

export function createClients(region: string, options: ClientOptions = {}): AwsClients {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const clock = systemClock;
  const limiter = options.limiter ?? (options.rateLimits ? createRateLimiter(options.rateLimits) : undefined);
  const budget = budgetOf(
    options.deadline,
    (options.rateLimits ?? defaultConfig.rateLimits).throttleBudgetSeconds,
  );
  const common = {
    region,
    requestHandler: requestHandlerOptions(timeouts),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.credentials === undefined && options.profile !== undefined
      ? { profile: options.profile }
      : {}),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  };
  // Each client its own strategy (the SDK's default too): the standard retry quota is per client.
  const retries = (maxAttempts: number) => ({
    retryMode: RETRY_MODE,
    maxAttempts,
    retryStrategy: capTimeoutRetries(
      throttleAwareRetries(new StandardRetryStrategy(maxAttempts), {
        budgetOf: budget,
        clock,
        ...(options.throttleBackoff ? { backoff: options.throttleBackoff } : {}),
      }),
    ),
  });
  const standard = () => ({ ...common, ...retries(MAX_ATTEMPTS) });
  const calls = createApiCallCounter();
  const ec2 = new EC2Client(standard());
  const ecs = new ECSClient(standard());
  const ssm = new SSMClient(standard());
  const route53 = new Route53Client({ ...common, ...retries(ROUTE53_MAX_ATTEMPTS) });
  const iam = new IAMClient(standard());
  const instrument = <Input extends object, Output extends object>(
    stack: MiddlewareStack<Input, Output>,
    service: string,
  ): void => {
    stack.add(throttleBudgetMiddleware(service, region, budget, clock), THROTTLE_BUDGET_OPTIONS);
    if (limiter)
      stack.addRelativeTo(
        rateLimitMiddleware(service, region, limiter, options.deadline),
        RATE_LIMIT_OPTIONS,
      );
    stack.add(countingMiddleware(service, calls), COUNTER_OPTIONS);
    stack.add(timeoutMiddleware(service, region, timeouts), TIMEOUT_OPTIONS);
  };
  instrument(ec2.middlewareStack, 'ec2');
  instrument(ecs.middlewareStack, 'ecs');
  instrument(ssm.middlewareStack, 'ssm');
  instrument(route53.middlewareStack, 'route53');
  instrument(iam.middlewareStack, 'iam');
  // The signed JSON clients (Resolver, RAM, Route 53 Profiles): counted and paced like the SDK
  // clients, an assumed bucket per action (none of these services publishes its own).
  const signedJson = (service: 'route53resolver' | 'ram' | 'route53profiles') => ({
    region,
    credentials:
      options.credentials ??
      ((identity: Parameters<typeof route53.config.credentials>[0]) => route53.config.credentials(identity)),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    timeouts,
    onRequest: (operation: string) => {
      calls.record(service, operation);
    },
    ...(limiter
      ? {
          pace: (operation: string) => {
            const until = options.deadline?.();
            return limiter.acquire({
              region,
              service,
              operation,
              ...(until === undefined ? {} : { deadline: until }),
            });
          },
        }
      : {}),
  });
  const resolver = createResolverClient(signedJson('route53resolver'));
  const ram = createRamClient(signedJson('ram'));
  const route53profiles = createRoute53ProfilesClient(signedJson('route53profiles'));
  return {
    region,
    ec2,
    ecs,
    ssm,
    route53,
    resolver,
    ram,
    route53profiles,
    iam,
    calls,
    ...(limiter ? { limiter } : {}),
  };
}
