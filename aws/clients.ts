/**
 * The AWS SDK clients of one Region, with a counter of every API call they send.
 *
 * Endpoints are never hard-coded: the SDK itself honours `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` (tests and the local demo point it at moto that way, or pass an
 * explicit `endpoint`).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ResolverClient } from './resolver-client.ts';
import { createResolverClient } from './resolver-client.ts';
import type { ApiCallCounts } from '../core/report.ts';

export type { ApiCallCounts } from '../core/report.ts';

/** Retries: the SDK's `standard` mode (AWS's recommendation), with a few more attempts than its default 3. */
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
   * Route 53 is global: its private hosted zones are read by VPC and Region. Adaptive retries: its
   * per-account rate limit is low (5 requests a second), and the adaptive mode slows the client down
   * on throttling instead of failing after its attempts.
   */
  readonly route53: Route53Client;
  readonly resolver: ResolverClient;
  /** IAM is global: it names the role of each container instance's profile. */
  readonly iam: IAMClient;
  readonly calls: ApiCallCounter;
}

/** Retries of the Route 53 client: adaptive, with room for its low rate limit. */
export const ROUTE53_RETRIES = { retryMode: 'adaptive', maxAttempts: 10 } as const;

export interface ClientOptions {
  /** Explicit credentials (tests); default: the SDK's default provider chain. */
  readonly credentials?: EC2ClientConfig['credentials'];
  /** Explicit endpoint for every service (tests); default: the SDK's resolution, incl. `AWS_ENDPOINT_URL*`. */
  readonly endpoint?: string;
}

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

export function createClients(region: string, options: ClientOptions = {}): AwsClients {
  const config = {
    region,
    retryMode: RETRY_MODE,
    maxAttempts: MAX_ATTEMPTS,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  };
  const calls = createApiCallCounter();
  const ec2 = new EC2Client(config);
  const ecs = new ECSClient(config);
  const ssm = new SSMClient(config);
  const route53 = new Route53Client({ ...config, ...ROUTE53_RETRIES });
  const iam = new IAMClient(config);
  ec2.middlewareStack.add(countingMiddleware('ec2', calls), COUNTER_OPTIONS);
  ecs.middlewareStack.add(countingMiddleware('ecs', calls), COUNTER_OPTIONS);
  ssm.middlewareStack.add(countingMiddleware('ssm', calls), COUNTER_OPTIONS);
  route53.middlewareStack.add(countingMiddleware('route53', calls), COUNTER_OPTIONS);
  iam.middlewareStack.add(countingMiddleware('iam', calls), COUNTER_OPTIONS);
  const resolver = createResolverClient({
    region,
    credentials: options.credentials ?? ((identity) => route53.config.credentials(identity)),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    onRequest: (operation) => {
      calls.record('route53resolver', operation);
    },
  });
  return { region, ec2, ecs, ssm, route53, resolver, iam, calls };
}
