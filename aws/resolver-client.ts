/**
 * A small client for the Route 53 Resolver API (awsJson1_1), for the three reads discovery makes.
 *
 * Why not `@aws-sdk/client-route53resolver`: the registry this project installs from serves it only up
 * to 3.654, whose older SDK core would come into the Lambda bundle beside the current one (a second
 * credential chain, STS and SSO clients). This client reuses the current SDK's pieces instead: the
 * credentials of the Region's other clients, Signature V4, and the same endpoint rules
 * (`AWS_ENDPOINT_URL_ROUTE53RESOLVER`, else `AWS_ENDPOINT_URL`, unless
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`). Throttling and 5xx answers are retried like the SDK's
 * standard mode (5 attempts, exponential backoff with jitter). Each attempt has the other clients'
 * request timeout (`timeouts.requestSeconds`, connecting included), and a request stops after two
 * timed-out attempts, as theirs do (aws/timeouts.ts). Node's fetch takes no connect timeout: its own
 * (10 s) applies, which the default request timeout matches.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';
import type { Permit } from './rate-limit.ts';
import type { ClientTimeouts } from './timeouts.ts';
import { DEFAULT_TIMEOUTS, EndpointTimeoutError, originOf, timeoutsExhausted } from './timeouts.ts';

/** The operations discovery sends. */
export type ResolverOperation = 'ListResolverRuleAssociations' | 'GetResolverRule' | 'ListResolverRules';

/** An error answer of the Resolver API: `name` is its code (`AccessDeniedException`, …). */
export class ResolverServiceError extends Error {
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = code;
    this.status = status;
  }
}

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** node:crypto behind the interface Signature V4 expects. */
class Sha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

const MAX_ATTEMPTS = 5;
/** The connect timeout of Node's fetch (undici's default), which fetch does not let us set. */
const FETCH_CONNECT_SECONDS = 10;
/** Throttling answers: they slow the limiter's bucket down. */
const THROTTLED: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
]);

const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'InternalServiceErrorException',
]);

export interface ResolverClientOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Explicit endpoint (tests); default: the SDK's environment variables, else the public endpoint. */
  readonly endpoint?: string;
  /** Called once per attempt, like the other clients' counting middleware. */
  readonly onRequest?: (operation: ResolverOperation) => void;
  /** Timeouts of each attempt: `requestSeconds` bounds the whole attempt. Default: the config's. */
  readonly timeouts?: ClientTimeouts;
  /**
   * Waits for the rate limiter's token before each attempt (the other clients' rate limit middleware);
   * the permit is released with the attempt's outcome. Absent: not paced.
   */
  readonly pace?: (operation: ResolverOperation) => Promise<Permit | undefined>;
}

export interface ResolverClient {
  send<T>(operation: ResolverOperation, input: Readonly<Record<string, unknown>>): Promise<T>;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function configuredEndpoint(region: string, explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  const env = process.env;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    const configured = env.AWS_ENDPOINT_URL_ROUTE53RESOLVER ?? env.AWS_ENDPOINT_URL;
    if (configured) return configured;
  }
  return `https://route53resolver.${region}.amazonaws.com`;
}

export function createResolverClient(options: ResolverClientOptions): ResolverClient {
  const url = new URL(configuredEndpoint(options.region, options.endpoint));
  const requestSeconds = (options.timeouts ?? DEFAULT_TIMEOUTS).requestSeconds;
  const signer = new SignatureV4({
    service: 'route53resolver',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const attempt = async (operation: ResolverOperation, body: string): Promise<Response> => {
    const request = {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname || '/',
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `Route53Resolver.${operation}`,
      },
      body,
    };
    const signed = await signer.sign(request);
    options.onRequest?.(operation);
    return fetch(url, {
      method: 'POST',
      headers: signed.headers,
      body,
      signal: AbortSignal.timeout(requestSeconds * 1000),
    });
  };
  return {
    async send<T>(operation: ResolverOperation, input: Readonly<Record<string, unknown>>): Promise<T> {
      const body = JSON.stringify(input);
      let timedOut = 0;
      for (let tries = 1; ; tries += 1) {
        let error: ResolverServiceError | EndpointTimeoutError;
        const permit = await options.pace?.(operation);
        try {
          const response = await attempt(operation, body);
          const text = await response.text();
          const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
          if (response.ok) {
            permit?.release('success');
            return parsed as T;
          }
          const type =
            stringOf(parsed.__type) ?? response.headers.get('x-amzn-errortype') ?? `HTTP${response.status}`;
          const code = type.slice(type.lastIndexOf('#') + 1).split(':')[0] ?? type;
          const message = stringOf(parsed.Message) ?? stringOf(parsed.message) ?? text;
          error = new ResolverServiceError(code, message, response.status);
        } catch (cause) {
          // A connection failure, a timeout or an unreadable answer: retried like a 5xx.
          // Our signal's TimeoutError, or fetch's own connect timeout (a TypeError caused by it).
          const timeout =
            cause instanceof Error && cause.name === 'TimeoutError'
              ? 'request'
              : (cause as { cause?: { code?: unknown } } | undefined)?.cause?.code ===
                  'UND_ERR_CONNECT_TIMEOUT'
                ? 'connect'
                : undefined;
          if (timeout !== undefined) {
            timedOut += 1;
            error = new EndpointTimeoutError(
              {
                service: 'route53resolver',
                region: options.region,
                endpoint: originOf(url),
                timeout,
                seconds: timeout === 'request' ? requestSeconds : FETCH_CONNECT_SECONDS,
                attempts: timedOut,
              },
              { cause },
            );
          } else {
            error = new ResolverServiceError(
              cause instanceof Error ? cause.name : 'NetworkError',
              cause instanceof Error ? cause.message : String(cause),
              0,
            );
          }
        }
        permit?.release(THROTTLED.has(error.name) ? 'throttled' : 'failed');
        const retryable =
          error instanceof EndpointTimeoutError
            ? !timeoutsExhausted(error)
            : RETRYABLE.has(error.name) || error.status >= 500 || error.status === 0;
        if (!retryable || tries >= MAX_ATTEMPTS) throw error;
        const backoff = Math.random() * Math.min(20_000, 100 * 2 ** tries);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    },
  };
}
