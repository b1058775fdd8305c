/**
 * A small signed client for AWS JSON APIs the SDK clients of this project do not cover: the Route 53
 * Resolver reads (awsJson1_1, aws/resolver-client.ts), AWS RAM's ListResources (aws/ram-client.ts),
 * the Route 53 Profiles lists (restJson1 GETs with a query string, aws/route53profiles-client.ts) and
 * Security Hub's BatchImportFindings (restJson1, aws/securityhub-client.ts).
 *
 * Why not `@aws-sdk/client-route53resolver` or `@aws-sdk/client-securityhub`: the registry this project
 * installs from serves the former only up to 3.654, whose older SDK core would come into the Lambda
 * bundle beside the current one (a second credential chain, STS and SSO clients), and the latter is not
 * installed. This client reuses the current SDK's pieces instead: the credentials of the Region's other
 * clients, Signature V4, and the same endpoint rules (`AWS_ENDPOINT_URL_<SERVICE>`, else
 * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`). Throttling (and HTTP 429) and 5xx
 * answers are retried like the SDK's standard mode (5 attempts, exponential backoff with jitter). Each
 * attempt has the other clients' request timeout (`timeouts.requestSeconds`, connecting included), and
 * a request stops after two timed-out attempts, as theirs do (aws/timeouts.ts). Node's fetch takes no
 * connect timeout: its own (10 s) applies, which the default request timeout matches.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';
import type { Permit } from './rate-limit.ts';
import type { ClientTimeouts } from './timeouts.ts';
import { DEFAULT_TIMEOUTS, EndpointTimeoutError, originOf, timeoutsExhausted } from './timeouts.ts';

/** An error answer of the API: `name` is its code (`AccessDeniedException`, …), `status` the HTTP status. */
export class ServiceError extends Error {
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

/** node:crypto behind the interface Signature V4 expects (a test signing on its own uses it too). */
export class Sha256 {
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

/**
 * How one operation is sent. A POST carries the input as its JSON body; a GET has no body, so
 * whatever of the input the operation takes is in `path` and `query` (restJson1's URI and query
 * bindings), which the API's `request` builds.
 */
export type JsonRequest =
  | {
      readonly method: 'POST';
      readonly path: string;
      readonly headers: Readonly<Record<string, string>>;
    }
  | {
      readonly method: 'GET';
      /** Already encoded (each bound member with `encodeURIComponent`). */
      readonly path: string;
      /** The query string's members, not encoded; absent members are left out, not sent empty. */
      readonly query: Readonly<Record<string, string>>;
      readonly headers: Readonly<Record<string, string>>;
    };

/** What distinguishes one API: its signing name, endpoint variable and how an operation is sent. */
export interface JsonApi<Operation extends string> {
  /** The signing name and endpoint prefix (`route53resolver`, `securityhub`). */
  readonly service: string;
  /** The service's part of `AWS_ENDPOINT_URL_<…>` (`ROUTE53RESOLVER`, `SECURITYHUB`). */
  readonly endpointVariable: string;
  /** The method, path and headers of an operation's request (for a GET, built from its input). */
  readonly request: (operation: Operation, input: Readonly<Record<string, unknown>>) => JsonRequest;
}

/** RFC 3986 encoding, as Signature V4 encodes query members (encodeURIComponent leaves `!'()*`). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export interface JsonClientOptions<Operation extends string> {
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Explicit endpoint (tests); default: the SDK's environment variables, else the public endpoint. */
  readonly endpoint?: string;
  /** Called once per attempt, like the other clients' counting middleware. */
  readonly onRequest?: (operation: Operation) => void;
  /** Timeouts of each attempt: `requestSeconds` bounds the whole attempt. Default: the config's. */
  readonly timeouts?: ClientTimeouts;
  /**
   * Waits for the rate limiter's token before each attempt (the other clients' rate limit middleware);
   * the permit is released with the attempt's outcome. Absent: not paced.
   */
  readonly pace?: (operation: Operation) => Promise<Permit | undefined>;
}

export interface JsonClient<Operation extends string> {
  send<T>(operation: Operation, input: Readonly<Record<string, unknown>>): Promise<T>;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function configuredEndpoint(
  api: Pick<JsonApi<string>, 'service' | 'endpointVariable'>,
  region: string,
  explicit: string | undefined,
): string {
  if (explicit !== undefined) return explicit;
  const env = process.env;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    const configured = env[`AWS_ENDPOINT_URL_${api.endpointVariable}`] ?? env.AWS_ENDPOINT_URL;
    if (configured) return configured;
  }
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${api.service}.${region}.${suffix}`;
}

export function createJsonClient<Operation extends string>(
  api: JsonApi<Operation>,
  options: JsonClientOptions<Operation>,
): JsonClient<Operation> {
  const base = new URL(configuredEndpoint(api, options.region, options.endpoint));
  const requestSeconds = (options.timeouts ?? DEFAULT_TIMEOUTS).requestSeconds;
  const signer = new SignatureV4({
    service: api.service,
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const attempt = async (
    operation: Operation,
    shape: JsonRequest,
    body: string | undefined,
  ): Promise<Response> => {
    const { method, path, headers } = shape;
    const query = shape.method === 'GET' ? shape.query : {};
    const url = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base);
    url.search = Object.entries(query)
      .map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`)
      .join('&');
    const request = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname || '/',
      query: { ...query },
      headers: { host: url.host, ...headers },
      ...(body === undefined ? {} : { body }),
    };
    const signed = await signer.sign(request);
    options.onRequest?.(operation);
    return fetch(url, {
      method,
      headers: signed.headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(requestSeconds * 1000),
    });
  };
  return {
    async send<T>(operation: Operation, input: Readonly<Record<string, unknown>>): Promise<T> {
      const shape = api.request(operation, input);
      const body = shape.method === 'POST' ? JSON.stringify(input) : undefined;
      let timedOut = 0;
      for (let tries = 1; ; tries += 1) {
        let error: ServiceError | EndpointTimeoutError;
        const permit = await options.pace?.(operation);
        try {
          const response = await attempt(operation, shape, body);
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
          error = new ServiceError(code, message, response.status);
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
                service: api.service,
                region: options.region,
                endpoint: originOf(base),
                timeout,
                seconds: timeout === 'request' ? requestSeconds : FETCH_CONNECT_SECONDS,
                attempts: timedOut,
              },
              { cause },
            );
          } else {
            error = new ServiceError(
              cause instanceof Error ? cause.name : 'NetworkError',
              cause instanceof Error ? cause.message : String(cause),
              0,
            );
          }
        }
        // HTTP 429 is a throttle whatever the code (Security Hub's LimitExceededException).
        const throttled =
          THROTTLED.has(error.name) || (error instanceof ServiceError && error.status === 429);
        permit?.release(throttled ? 'throttled' : 'failed');
        const retryable =
          error instanceof EndpointTimeoutError
            ? !timeoutsExhausted(error)
            : throttled || RETRYABLE.has(error.name) || error.status >= 500 || error.status === 0;
        if (!retryable || tries >= MAX_ATTEMPTS) throw error;
        const backoff = Math.random() * Math.min(20_000, 100 * 2 ** tries);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    },
  };
}
