// A fault-injecting HTTP proxy between the AWS SDK and the moto server: throttling in each protocol's
// shape, 5xx answers, latency, and lost responses (the request is applied, the client sees an error).
// The code under test is pointed at the proxy (proxiedAccount); seeding and assertions go straight to
// moto. No vitest import: fixtures (child processes) may use it too.
//
// Which requests get a fault is decided by rules (FaultRule): a selector (service, operation,
// mutating, account, predicate) and a selection that is deterministic: the nth requests of a key, at
// most `times` per key, or a rate drawn from a hash of (seed, rule, key, the request's number within
// its key). Keys default to the operation (`ec2:CreateVpcEndpoint`), so how concurrent calls of
// *other* operations interleave never changes which request of an operation gets a fault. Rules are
// tried in order: latency adds up and goes on to the next rule; the first other fault that fires is
// the request's, and later rules do not see (or count) that request. Every request is recorded with
// its fault (if any) and moto's status, for assertions.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { accountFor } from './seed.ts';
import type { Account } from './seed.ts';

// ------------------------------------------------------------------------------------------------
// Classifying a request
// ------------------------------------------------------------------------------------------------

/** The wire protocols of the services the remediator and its tests call. */
export type Protocol = 'ec2' | 'query' | 'json' | 'restXml' | 'restJson';

/** What the proxy knows of one request. */
export interface RequestInfo {
  /** From the SigV4 credential scope: ec2, ecs, ssm, dynamodb, route53, route53resolver, iam, … */
  readonly service: string;
  /** The API operation: Action= (query protocols), X-Amz-Target (JSON), method + path (Route 53). */
  readonly operation: string;
  readonly protocol: Protocol;
  /** See {@link isMutating}. */
  readonly mutating: boolean;
  /** The access key id (the patched moto's account id). */
  readonly account: string;
  readonly method: string;
  readonly path: string;
  /** sha1 of the body: an SDK retry resends the same body, so it identifies "the same request". */
  readonly bodyHash: string;
  readonly body: string;
  readonly contentType: string;
}

/**
 * Operation names that change state, by prefix (AWS names operations verb first). Everything else
 * (Describe, List, Get, Query, Scan, BatchGet, TransactGet, Search, Lookup, Check, Validate, Preview,
 * Estimate, …) reads. `Batch`/`Transact` count only in their writing forms (BatchWriteItem,
 * TransactWriteItems, BatchDeleteX…): BatchGetItem and TransactGetItems read.
 */
export const MUTATING_PREFIXES = [
  'Accept',
  'Add',
  'Allocate',
  'Apply',
  'Associate',
  'Attach',
  'Authorize',
  'BatchDelete',
  'BatchPut',
  'BatchUpdate',
  'BatchWrite',
  'Cancel',
  'Change',
  'Copy',
  'Create',
  'Delete',
  'Deregister',
  'Detach',
  'Disable',
  'Disassociate',
  'Enable',
  'Execute',
  'Import',
  'Invoke',
  'Modify',
  'Publish',
  'Put',
  'Reboot',
  'Register',
  'Reject',
  'Release',
  'Remove',
  'Replace',
  'Reset',
  'Restore',
  'Revoke',
  'Run',
  'Send',
  'Set',
  'Start',
  'Stop',
  'Submit',
  'Tag',
  'Terminate',
  'TransactWrite',
  'Untag',
  'Update',
] as const;

/** Whether an operation name changes state (see {@link MUTATING_PREFIXES}). */
export function isMutating(operation: string): boolean {
  // A prefix must end at a word boundary: "Tag" matches TagResource, not "Tagging" reads.
  return MUTATING_PREFIXES.some(
    (prefix) => operation.startsWith(prefix) && /^(?:[A-Z]|$)/.test(operation.slice(prefix.length)),
  );
}

/** Route 53's REST-XML operations the remediator and the harness use, by method and path. */
const ROUTE53_ROUTES: ReadonlyArray<readonly [string, RegExp, string]> = [
  ['GET', /^\/2013-04-01\/hostedzonesbyvpc$/, 'ListHostedZonesByVPC'],
  ['GET', /^\/2013-04-01\/hostedzone\/[^/]+\/rrset$/, 'ListResourceRecordSets'],
  ['POST', /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?$/, 'ChangeResourceRecordSets'],
  ['POST', /^\/2013-04-01\/hostedzone\/[^/]+\/associatevpc$/, 'AssociateVPCWithHostedZone'],
  ['POST', /^\/2013-04-01\/hostedzone\/[^/]+\/disassociatevpc$/, 'DisassociateVPCFromHostedZone'],
  ['POST', /^\/2013-04-01\/hostedzone\/[^/]+\/authorizevpcassociation$/, 'CreateVPCAssociationAuthorization'],
  ['GET', /^\/2013-04-01\/hostedzone\/[^/]+$/, 'GetHostedZone'],
  ['DELETE', /^\/2013-04-01\/hostedzone\/[^/]+$/, 'DeleteHostedZone'],
  ['GET', /^\/2013-04-01\/hostedzone$/, 'ListHostedZones'],
  ['POST', /^\/2013-04-01\/hostedzone$/, 'CreateHostedZone'],
];

function restOperation(service: string, method: string, path: string): string {
  if (service === 'route53') {
    const found = ROUTE53_ROUTES.find(([m, pattern]) => m === method && pattern.test(path));
    if (found) return found[2];
  }
  return `${method} ${path}`;
}

/** Service, operation and protocol of a request (headers lower-cased, as node:http gives them). */
export function classify(
  method: string,
  url: string,
  headers: http.IncomingHttpHeaders,
  body: string,
): RequestInfo {
  const authorization = headers.authorization ?? '';
  const scope = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  const account = scope?.[1] ?? '';
  const service = scope?.[2] ?? 'unknown';
  const path = url.split('?')[0] ?? url;
  const target = headers['x-amz-target'];
  const contentType = headers['content-type'] ?? '';
  let protocol: Protocol;
  let operation: string;
  if (typeof target === 'string' && target !== '') {
    protocol = 'json';
    operation = target.slice(target.lastIndexOf('.') + 1);
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    protocol = service === 'ec2' ? 'ec2' : 'query';
    operation = new URLSearchParams(body).get('Action') ?? 'unknown';
  } else {
    protocol = service === 'route53' || service === 's3' ? 'restXml' : 'restJson';
    operation = restOperation(service, method, path);
  }
  const mutating =
    protocol === 'restXml' || protocol === 'restJson'
      ? isMutating(operation) || !['GET', 'HEAD'].includes(method)
      : isMutating(operation);
  return {
    service,
    operation,
    protocol,
    mutating,
    account,
    method,
    path,
    bodyHash: createHash('sha1').update(body).digest('hex'),
    body,
    contentType,
  };
}

// ------------------------------------------------------------------------------------------------
// Faults and their answers
// ------------------------------------------------------------------------------------------------

export type Fault =
  /** Answered without forwarding, as the service throttles (see {@link errorAnswer}). */
  | { readonly kind: 'throttle'; readonly code?: string }
  /** Answered without forwarding: InternalError (500) or ServiceUnavailable (503). */
  | { readonly kind: '5xx'; readonly status?: 500 | 503 }
  /**
   * Answered without forwarding as AWS refuses a caller: 403 with `code` (default `AccessDenied`) and
   * `message`, in the protocol's shape (an IAM policy, SCP or trust policy that does not allow it).
   */
  | { readonly kind: 'denied'; readonly code?: string; readonly message?: string }
  /** Delays the request, then goes on (other rules still apply). */
  | { readonly kind: 'latency'; readonly ms: number }
  /**
   * Forwarded, so moto applies it; then the answer is lost: the connection reset ('reset', the
   * default: the SDK sees ECONNRESET) or a 500 / 504 in the protocol's shape instead of moto's answer.
   */
  | { readonly kind: 'lost'; readonly as?: 'reset' | 500 | 504 };

export type FaultKind = Fault['kind'];

/** A string matches itself, a list any of its members, a RegExp what it matches. */
export type Matcher = string | readonly string[] | RegExp;

function matches(matcher: Matcher | undefined, value: string): boolean {
  if (matcher === undefined) return true;
  if (typeof matcher === 'string') return matcher === value;
  if (matcher instanceof RegExp) return matcher.test(value);
  return matcher.includes(value);
}

export interface FaultRule {
  /** For the record (default `rule <index>`). */
  readonly name?: string;
  readonly service?: Matcher;
  readonly operation?: Matcher;
  readonly mutating?: boolean;
  readonly account?: string;
  readonly when?: (request: RequestInfo) => boolean;
  readonly fault: Fault;
  /**
   * What the counters below count per: 'operation' (default: `service:operation`), 'request' (the
   * same body: an SDK retry is the same request, so `times: 1` loses each distinct request's first
   * attempt and lets its retry through), or 'rule' (one counter for everything the rule selects).
   */
  readonly per?: 'operation' | 'request' | 'rule';
  /** The 1-based numbers, within their key, of the requests that get the fault. */
  readonly nth?: number | readonly number[];
  /** Probability of the fault for each selected request (deterministic: see the module comment). */
  readonly rate?: number;
  /** At most this many faults per key. */
  readonly times?: number;
}

/** One request through the proxy. */
export interface ProxiedRequest {
  readonly seq: number;
  /** When it arrived (epoch ms): for reading a run's timeline, not for assertions. */
  readonly at: number;
  readonly service: string;
  readonly operation: string;
  readonly mutating: boolean;
  readonly account: string;
  readonly bodyHash: string;
  /** The fault the client got (latency is listed in `delayMs` only). */
  readonly fault?: Exclude<FaultKind, 'latency'>;
  readonly rule?: string;
  readonly delayMs?: number;
  /** moto's HTTP status when forwarded (also for `lost`: what the client did not get). */
  readonly upstreamStatus?: number;
  /** What the client got: an HTTP status, or 'reset'. */
  readonly answered: number | 'reset';
}

const DYNAMODB_NAMESPACE = 'com.amazonaws.dynamodb.v20120810#';

function requestId(): string {
  return createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 32);
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * An error answer in the request's protocol, as AWS sends it:
 * - EC2 (its own query dialect): `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error>
 *   </Errors><RequestID>…</RequestID></Response>`; throttling is `RequestLimitExceeded`, 503.
 * - awsQuery (IAM, STS, …) and REST-XML (Route 53): `<ErrorResponse><Error><Type>Sender|Receiver</Type>
 *   <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`; throttling is
 *   `Throttling`, 400.
 * - awsJson (ECS, SSM, DynamoDB, Route 53 Resolver, SQS): `{"__type": "…", "message": "…"}`; throttling
 *   is `ThrottlingException`, 400; DynamoDB's codes carry its namespace
 *   (`com.amazonaws.dynamodb.v20120810#ThrottlingException`).
 * - REST-JSON: the same body, with the code also in `x-amzn-ErrorType`.
 */
export function errorAnswer(
  request: Pick<RequestInfo, 'protocol' | 'service'> & { readonly contentType?: string },
  kind: 'throttle' | 'server',
  options: { status?: number; code?: string; message?: string } = {},
): { status: number; headers: Record<string, string>; body: string } {
  const { protocol, service } = request;
  const throttle = kind === 'throttle';
  const status = options.status ?? (throttle ? (protocol === 'ec2' ? 503 : 400) : 500);
  const code =
    options.code ??
    (throttle
      ? protocol === 'ec2'
        ? 'RequestLimitExceeded'
        : protocol === 'json' || protocol === 'restJson'
          ? 'ThrottlingException'
          : 'Throttling'
      : status === 504
        ? 'GatewayTimeout'
        : status === 503
          ? protocol === 'ec2'
            ? 'Unavailable'
            : 'ServiceUnavailable'
          : protocol === 'ec2'
            ? 'InternalError'
            : protocol === 'json' || protocol === 'restJson'
              ? 'InternalServerError'
              : 'InternalFailure');
  const message =
    options.message ?? (throttle ? 'Rate exceeded' : 'We encountered an internal error. Please try again.');
  const id = requestId();
  if (protocol === 'ec2') {
    return {
      status,
      headers: { 'content-type': 'text/xml;charset=UTF-8' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`,
    };
  }
  if (protocol === 'query' || protocol === 'restXml') {
    const type = throttle || status < 500 ? 'Sender' : 'Receiver';
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': id },
      body: `<?xml version="1.0"?>\n<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
    };
  }
  const type = service === 'dynamodb' ? `${DYNAMODB_NAMESPACE}${code}` : code;
  return {
    status,
    headers: {
      'content-type':
        protocol === 'json' && request.contentType ? request.contentType : 'application/x-amz-json-1.1',
      'x-amzn-requestid': id,
      ...(protocol === 'restJson' ? { 'x-amzn-errortype': code } : {}),
    },
    body: JSON.stringify({ __type: type, message }),
  };
}

// ------------------------------------------------------------------------------------------------
// Deterministic selection
// ------------------------------------------------------------------------------------------------

/** A number in [0, 1) from a hash of the parts: the same parts, the same draw. */
function draw(...parts: Array<string | number>): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

class Selector {
  readonly #seen = new Map<string, number>();
  readonly #fired = new Map<string, number>();
  readonly rule: FaultRule;
  readonly index: number;
  readonly seed: number;
  constructor(rule: FaultRule, index: number, seed: number) {
    this.rule = rule;
    this.index = index;
    this.seed = seed;
  }

  get name(): string {
    return this.rule.name ?? `rule ${this.index}`;
  }

  /** Whether this request gets the rule's fault (counts it either way if selected). */
  fires(request: RequestInfo): boolean {
    const r = this.rule;
    if (!matches(r.service, request.service) || !matches(r.operation, request.operation)) return false;
    if (r.mutating !== undefined && r.mutating !== request.mutating) return false;
    if (r.account !== undefined && r.account !== request.account) return false;
    if (r.when && !r.when(request)) return false;
    const per = r.per ?? 'operation';
    const key =
      per === 'rule'
        ? '*'
        : per === 'request'
          ? `${request.service}:${request.operation}:${request.bodyHash}`
          : `${request.service}:${request.operation}`;
    const n = (this.#seen.get(key) ?? 0) + 1;
    this.#seen.set(key, n);
    const fired = this.#fired.get(key) ?? 0;
    if (r.times !== undefined && fired >= r.times) return false;
    if (r.nth !== undefined) {
      const wanted = typeof r.nth === 'number' ? [r.nth] : r.nth;
      if (!wanted.includes(n)) return false;
    }
    if (r.rate !== undefined && draw(this.seed, this.index, key, n) >= r.rate) return false;
    this.#fired.set(key, fired + 1);
    return true;
  }
}

// ------------------------------------------------------------------------------------------------
// The proxy
// ------------------------------------------------------------------------------------------------

export interface FaultProxy {
  /** e.g. http://127.0.0.1:40123: the endpoint to give the code under test. */
  readonly endpoint: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Replaces the rules (and their counters); `seed` for rate rules (default: the start's). */
  setRules(rules: readonly FaultRule[], seed?: number): void;
  /** The requests that got a fault (not latency), optionally only of `kind`. */
  faults(kind?: Exclude<FaultKind, 'latency'>): ProxiedRequest[];
  /** Forgets the recorded requests. */
  clearRecord(): void;
  /** Closes the listener and every connection; safe to call twice. */
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The moto endpoint to forward to. */
  readonly target: string;
  readonly rules?: readonly FaultRule[];
  /** Seed of the rate rules (default 1). */
  readonly seed?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Hop-by-hop headers, not passed on (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

async function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** Starts a proxy on 127.0.0.1 (an ephemeral port) forwarding to `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  let seed = options.seed ?? 1;
  let selectors: Selector[] = [];
  const setRules = (rules: readonly FaultRule[], newSeed?: number): void => {
    if (newSeed !== undefined) seed = newSeed;
    selectors = rules.map((rule, index) => new Selector(rule, index, seed));
  };
  setRules(options.rules ?? []);
  const requests: ProxiedRequest[] = [];
  let seq = 0;

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers))
        if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
      headers['content-length'] = String(body.length);
      const upstream = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (res) => {
          readBody(res).then(
            (data) => {
              const out: http.OutgoingHttpHeaders = {};
              for (const [name, value] of Object.entries(res.headers))
                if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
              out['content-length'] = String(data.length);
              resolve({ status: res.statusCode ?? 502, headers: out, body: data });
            },
            (error: unknown) => {
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        },
      );
      upstream.once('error', reject);
      upstream.end(body);
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const info = classify(req.method ?? 'GET', req.url ?? '/', req.headers, body.toString('utf8'));
    const base = {
      seq: ++seq,
      at: Date.now(),
      service: info.service,
      operation: info.operation,
      mutating: info.mutating,
      account: info.account,
      bodyHash: info.bodyHash,
    };
    let delayMs = 0;
    let chosen: { fault: Exclude<Fault, { kind: 'latency' }>; rule: string } | undefined;
    for (const selector of selectors) {
      if (!selector.fires(info)) continue;
      const { fault } = selector.rule;
      if (fault.kind === 'latency') {
        delayMs += fault.ms;
        continue;
      }
      chosen = { fault, rule: selector.name };
      break;
    }
    if (delayMs > 0) await sleep(delayMs);
    const record = (entry: Partial<ProxiedRequest> & Pick<ProxiedRequest, 'answered'>): void => {
      requests.push({
        ...base,
        ...(delayMs > 0 ? { delayMs } : {}),
        ...(chosen ? { fault: chosen.fault.kind, rule: chosen.rule } : {}),
        ...entry,
      });
    };
    const answer = (status: number, headers: http.OutgoingHttpHeaders, data: Buffer | string): void => {
      res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(data)) });
      res.end(data);
    };
    const fault = chosen?.fault;
    if (fault?.kind === 'throttle' || fault?.kind === '5xx' || fault?.kind === 'denied') {
      const error =
        fault.kind === 'throttle'
          ? errorAnswer(info, 'throttle', fault.code === undefined ? {} : { code: fault.code })
          : fault.kind === 'denied'
            ? errorAnswer(info, 'server', {
                status: 403,
                code: fault.code ?? 'AccessDenied',
                message: fault.message ?? 'User is not authorized to perform this operation',
              })
            : errorAnswer(info, 'server', { status: fault.status ?? 500 });
      record({ answered: error.status });
      answer(error.status, error.headers, error.body);
      return;
    }
    const upstream = await forward(req, body);
    if (fault?.kind === 'lost') {
      const as = fault.as ?? 'reset';
      if (as === 'reset') {
        record({ upstreamStatus: upstream.status, answered: 'reset' });
        req.socket.destroy();
        return;
      }
      const error = errorAnswer(info, 'server', { status: as });
      record({ upstreamStatus: upstream.status, answered: error.status });
      answer(error.status, error.headers, error.body);
      return;
    }
    record({ upstreamStatus: upstream.status, answered: upstream.status });
    answer(upstream.status, upstream.headers, upstream.body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A proxy failure (moto unreachable): a 502 the SDK retries, and visible in the record.
      requests.push({
        seq: ++seq,
        at: Date.now(),
        service: 'unknown',
        operation: 'unknown',
        mutating: false,
        account: '',
        bodyHash: '',
        answered: 502,
      });
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setRules,
    faults: (kind) =>
      requests.filter((r) => r.fault !== undefined && (kind === undefined || r.fault === kind)),
    clearRecord: () => {
      requests.length = 0;
    },
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
        agent.destroy();
      });
      return stopping;
    },
  };
}

/** The same account (id, credentials, Region) with clients whose requests go through the proxy. */
export function proxiedAccount(acct: Account, proxy: Pick<FaultProxy, 'endpoint'>): Account {
  return accountFor(proxy.endpoint, acct.accountId, acct.region);
}
