/**
 * Connection and request timeouts of the AWS clients (the config's `timeouts`), and the error a
 * request that times out becomes: it names the service, the Region, the endpoint and the timeout, so
 * an endpoint that never answers (a private subnet without the service's VPC endpoint or egress)
 * fails in seconds with a message that says so. Used by aws/clients.ts and aws/resolver-client.ts.
 */
import type { Config } from '../core/config.ts';
import { defaultConfig } from '../core/config.ts';

export type ClientTimeouts = Config['timeouts'];

/** The config's defaults: 5 s to connect, 10 s for an answer. */
export const DEFAULT_TIMEOUTS: ClientTimeouts = defaultConfig.timeouts;

/**
 * Most attempts of one request while its attempts time out, whatever the client's `maxAttempts`
 * (throttling and 5xx answers keep all of theirs): an endpoint silent twice is not reached by a fifth
 * try, and two attempts keep a silent endpoint's failure under 30 s with the default timeouts
 * (2 × 10 s and a backoff of at most 50 ms).
 */
export const TIMEOUT_ATTEMPTS = 2;

/** Which timeout fired: no connection within `connectSeconds`, or no answer within `requestSeconds`. */
export type TimeoutKind = 'connect' | 'request';

export interface EndpointTimeout {
  /** The endpoint prefix of the service: `ec2`, `ecs`, `ssm`, `route53`, `iam`, `route53resolver`. */
  readonly service: string;
  readonly region: string;
  /** The endpoint's origin, e.g. `https://ec2.us-east-1.amazonaws.com`. */
  readonly endpoint: string;
  readonly timeout: TimeoutKind;
  readonly seconds: number;
  /** Attempts of this request that timed out so far. */
  readonly attempts: number;
}

/**
 * A request to an endpoint that did not connect or answer in time. Its name stays `TimeoutError`,
 * the name the SDK's retry strategies and discovery's error wrapping know as a transient failure.
 */
export class EndpointTimeoutError extends Error implements EndpointTimeout {
  readonly service: string;
  readonly region: string;
  readonly endpoint: string;
  readonly timeout: TimeoutKind;
  readonly seconds: number;
  readonly attempts: number;
  constructor(details: EndpointTimeout, options?: ErrorOptions) {
    const what = details.timeout === 'connect' ? 'no connection to' : 'no answer from';
    const tries = details.attempts > 1 ? `, ${details.attempts} attempts` : '';
    super(
      `${details.service}.${details.region}: ${what} ${details.endpoint} within ${details.seconds} s ` +
        `(${details.timeout} timeout${tries}); a private subnet without the ${details.service} endpoint or egress?`,
      options,
    );
    this.name = 'TimeoutError';
    this.service = details.service;
    this.region = details.region;
    this.endpoint = details.endpoint;
    this.timeout = details.timeout;
    this.seconds = details.seconds;
    this.attempts = details.attempts;
  }
}

/** Whether a failed attempt may be tried again: not once it is the {@link TIMEOUT_ATTEMPTS}th timeout. */
export function timeoutsExhausted(error: unknown): error is EndpointTimeoutError {
  return error instanceof EndpointTimeoutError && error.attempts >= TIMEOUT_ATTEMPTS;
}

/** The origin of a URL-like request (`https://host:port`), for the message. */
export function originOf(request: {
  readonly protocol?: string;
  readonly hostname?: string;
  readonly port?: number | string | undefined;
}): string {
  const protocol = request.protocol ?? 'https:';
  const port = request.port === undefined || request.port === '' ? '' : `:${String(request.port)}`;
  return `${protocol.endsWith(':') ? protocol : `${protocol}:`}//${request.hostname ?? '?'}${port}`;
}
