/**
 * The reconciler Lambda: consumes the event queue (EventBridge rules and the schedule → SQS → here),
 * reconciles the VPCs the events point at, alerts, and reports the messages to retry (partial batch
 * failure). Invoked directly with one EventBridge event (e.g. `osls invoke -f reconcile -p
 * events/scheduled-sweep.json`), it processes that event and throws if it fails.
 *
 * Thin: settings come from aws/environment.ts (and the queue settings below), the work from
 * aws/event-batch.ts. A message that can never be processed is sent to the dead-letter queue at once;
 * a Region not started before the time runs short goes back to the events queue (docs/deploy.md,
 * "Failure handling").
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BatchDeps, BatchOptions, BatchSummary, QueuedEvent } from '../aws/event-batch.ts';
import { DEFAULT_BATCH_OPTIONS, DEFAULT_SAFETY_MARGIN_MS, processEventBatch } from '../aws/event-batch.ts';
import { DEFERRALS_ATTRIBUTE, createEventQueues } from '../aws/event-queue.ts';
import { SettingsError, reconcilerSettings } from '../aws/environment.ts';
import { createSnsPublisher } from '../aws/notify.ts';
import { MAX_ATTEMPTS, RETRY_MODE, requestHandlerOptions } from '../aws/clients.ts';
import type { ClientOptions } from '../aws/clients.ts';
import { createClientPool } from '../aws/reconcile.ts';
import { adoptionLabelSetting, createOwnershipStore } from '../aws/ownership.ts';
import { createReclaimStore } from '../aws/reclaim.ts';
import { createStateStore } from '../aws/state.ts';
import { createSecurityHubClient } from '../aws/securityhub-client.ts';
import { createSecurityHubExportStore } from '../aws/securityhub-export.ts';
import { createTaskDefinitionCache } from '../aws/task-definition-cache.ts';
import { createRunStore } from '../aws/units/run-store.ts';
import type { Telemetry } from '../aws/telemetry.ts';
import { MetricUnit, createTelemetry } from '../aws/telemetry.ts';

const telemetry = createTelemetry();

/** Action kinds that restart an ECS agent (issue 3's agent restarts). */
const RESTART_KINDS: ReadonlySet<string> = new Set(['RESTART_AGENT']);

/** A direct invocation with one EventBridge event that failed. */
export class ReconcileFailedError extends Error {
  constructor(summary: BatchSummary) {
    const why =
      summary.malformed > 0
        ? ['malformed event']
        : [
            ...summary.failedRegions.map((f) => `${f.region}: ${f.error}`),
            ...summary.deferredRegions.map((region) => `${region}: not started, too little time left`),
            ...summary.busyRegions.map((region) => `${region}: being reconciled by another invocation`),
            ...summary.messages.flatMap((m) =>
              m.status === 'retry' && summary.failedRegions.length === 0 ? [m.error] : [],
            ),
          ];
    super(`reconcile failed: ${[...new Set(why)].join('; ')}`);
    this.name = 'ReconcileFailedError';
  }
}

/**
 * The seconds of the invocation a Region's reconcile is not started within (`SAFETY_MARGIN_SECONDS`,
 * default 60): a number from 0 up.
 */
export function safetyMarginMs(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_SAFETY_MARGIN_MS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new SettingsError([`SAFETY_MARGIN_SECONDS: expected a number of seconds, got ${value}`]);
  return seconds * 1000;
}

/**
 * The deadline of the invocation a call runs in: the client pool is made once per container, so its
 * `deadline` reads the current invocation's from here (a store per invocation: two runs in one
 * process, as tests make them, never see each other's).
 */
const invocationBudget = new AsyncLocalStorage<() => number | undefined>();

/**
 * Until when (epoch ms) a throttled AWS request of the current invocation is retried, and a request
 * may wait for a token of the rate limiter: the invocation's end less the safety margin, the time no
 * Region's reconcile is started within (aws/event-batch.ts); the invocation's end when the margin is
 * not below the invocation's time at its start (the batch does not apply it then either). Undefined
 * outside an invocation with a Lambda context: each request then has the config's
 * `rateLimits.throttleBudgetSeconds`.
 */
export function invocationDeadline(): number | undefined {
  return invocationBudget.getStore()?.();
}

/**
 * Runs one batch with the batch options of the invocation `context` is of (its remaining time is the
 * budget) and that invocation's deadline. The deadline is taken from the batch's own reads of the
 * remaining time (at its start and before each Region), so the context is never asked more often.
 */
function withInvocationBudget<T>(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  deps: BatchDeps,
  work: (options: BatchOptions) => Promise<T>,
): Promise<T> {
  if (!context) return work(DEFAULT_BATCH_OPTIONS);
  const margin = deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  let end: number | undefined;
  let applied: number | undefined;
  const remainingMs = (): number => {
    const left = context.getRemainingTimeInMillis();
    end = Date.now() + left;
    applied ??= left > margin ? margin : 0;
    return left;
  };
  return invocationBudget.run(
    () => (end === undefined ? undefined : end - (applied ?? 0)),
    () => work({ ...DEFAULT_BATCH_OPTIONS, remainingMs }),
  );
}

/**
 * Builds what a batch needs from an environment. The deployed handler passes `process.env`;
 * tests pass a moto account's environment and client options. Besides aws/environment.ts's settings:
 * `DEAD_LETTER_QUEUE_URL` and `EVENTS_QUEUE_URL` (where terminal messages and deferred work are sent;
 * without them both are returned for retry instead), `SAFETY_MARGIN_SECONDS` and
 * `ADOPT_TAGGED_RESOURCES` (the one-time adoption's label: aws/ownership.ts). With
 * `SECURITY_HUB_EXPORT=true`, findings go to Security Hub too (aws/securityhub-export.ts).
 */
export function remediatorDeps(
  env: Readonly<Record<string, string | undefined>>,
  t: Telemetry = telemetry,
  clientOptions: ClientOptions = {},
): BatchDeps {
  const settings = reconcilerSettings(env);
  // The table and the topic live in the function's own Region.
  const region = env.AWS_REGION ?? settings.regions[0];
  // The config's timeouts bound every client, the table's, topic's and queues' too.
  const sdk = {
    region,
    retryMode: RETRY_MODE,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: requestHandlerOptions(settings.config.timeouts),
    ...clientOptions,
  };
  const dynamodb = new DynamoDBClient(sdk);
  const adoptionLabel = adoptionLabelSetting(env.ADOPT_TAGGED_RESOURCES);
  return {
    mode: settings.mode,
    regions: settings.regions,
    config: settings.config,
    // Paced by the config's rate limits; throttled requests retried until the invocation's deadline.
    pool: createClientPool({
      timeouts: settings.config.timeouts,
      rateLimits: settings.config.rateLimits,
      deadline: invocationDeadline,
      ...clientOptions,
    }),
    state: createStateStore(dynamodb, settings.tableName),
    ownership: {
      store: createOwnershipStore(dynamodb, settings.tableName),
      ...(adoptionLabel === undefined ? {} : { adoptionLabel }),
    },
    reclaim: createReclaimStore(dynamodb, settings.tableName),
    publisher: createSnsPublisher(new SNSClient(sdk), settings.topicArn),
    taskDefinitionCache: createTaskDefinitionCache(dynamodb, settings.tableName),
    runs: createRunStore(dynamodb, settings.tableName),
    now: () => new Date(),
    digestIntervalMs: settings.digestIntervalMs,
    ...(env.ACCOUNT_ID ? { accountId: env.ACCOUNT_ID } : {}),
    // Opt-in (param securityHubExport): each finding's Region's Security Hub, with the SDK's credentials.
    ...(settings.securityHubExport
      ? {
          securityHub: {
            client: (findingRegion: string) =>
              createSecurityHubClient({
                region: findingRegion,
                credentials:
                  clientOptions.credentials ?? ((identity) => dynamodb.config.credentials(identity)),
                ...(clientOptions.endpoint === undefined ? {} : { endpoint: clientOptions.endpoint }),
                timeouts: settings.config.timeouts,
              }),
            store: createSecurityHubExportStore(dynamodb, settings.tableName),
          },
        }
      : {}),
    queues: createEventQueues(new SQSClient(sdk), {
      deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL,
      eventsQueueUrl: env.EVENTS_QUEUE_URL,
    }),
    safetyMarginMs: safetyMarginMs(env.SAFETY_MARGIN_SECONDS),
    log: (message, fields) => {
      t.logger.info(message, fields);
    },
  };
}

function recordMetrics(summary: BatchSummary, t: Telemetry, received: number): void {
  const { metrics } = t;
  metrics.addMetric('EventsReceived', MetricUnit.Count, received);
  metrics.addMetric('EventsMalformed', MetricUnit.Count, summary.malformed);
  // Sent to the dead-letter queue by the handler (terminal), and sent back to the queue (time budget).
  metrics.addMetric('EventsDeadLettered', MetricUnit.Count, summary.deadLettered);
  metrics.addMetric('EventsDeferred', MetricUnit.Count, summary.deferred);
  // Regions another invocation held the lease of: their events were sent back with a delay.
  metrics.addMetric('RegionsBusy', MetricUnit.Count, summary.busyRegions.length);
  // VPCs whose agent restarts are under way: a delayed continuation each (aws/event-batch.ts).
  metrics.addMetric('RestartContinuations', MetricUnit.Count, summary.continuations.length);
  // Split sweeps: Regions split into work units, and the units run (aws/units/run-unit.ts).
  metrics.addMetric('RegionsSplit', MetricUnit.Count, summary.splits.length);
  metrics.addMetric('WorkUnits', MetricUnit.Count, summary.units.length);
  metrics.addMetric('EventsIgnored', MetricUnit.Count, summary.ignored + summary.outOfScope);
  metrics.addMetric('EventsDuplicate', MetricUnit.Count, summary.duplicates);
  metrics.addMetric('ReconcileFailures', MetricUnit.Count, summary.failedRegions.length);
  const results = summary.outcomes.flatMap((o) => o.results ?? []);
  const created = results.filter(
    (r) =>
      r.outcome === 'succeeded' && (r.kind === 'CREATE_ENDPOINT' || r.kind === 'CREATE_GATEWAY_ENDPOINT'),
  );
  metrics.addMetric('EndpointsCreated', MetricUnit.Count, created.length);
  // Instances whose agent restarted, whatever the rest of their rollout did.
  const restartedInstances = results
    .filter((r) => RESTART_KINDS.has(r.kind))
    .flatMap((r) => r.instances ?? [])
    .filter((instance) => instance.outcome === 'restarted');
  metrics.addMetric('AgentRestarts', MetricUnit.Count, restartedInstances.length);
  metrics.addMetric('ActionsFailed', MetricUnit.Count, results.filter((r) => r.outcome === 'failed').length);
  metrics.addMetric(
    'AlertsPublished',
    MetricUnit.Count,
    summary.outcomes.reduce((n, o) => n + o.alerts.length, 0),
  );
  // Open findings by code, as of the Regions reconciled whole (a narrowed reconcile sees only part).
  const counts = new Map<string, number>();
  for (const outcome of summary.outcomes) {
    if (outcome.vpcIds !== undefined) continue;
    for (const finding of outcome.plan.findings)
      counts.set(finding.code, (counts.get(finding.code) ?? 0) + 1);
  }
  for (const [code, count] of counts) {
    metrics.singleMetric().addDimension('code', code).addMetric('FindingsOpen', MetricUnit.Count, count);
  }
}

function isSqsEvent(event: unknown): event is SQSEvent {
  return (
    typeof event === 'object' && event !== null && Array.isArray((event as { Records?: unknown }).Records)
  );
}

let cachedDeps: BatchDeps | undefined;

/** The `eer-deferrals` attribute of a message this handler sent back to the queue (0 if none). */
function deferralsOf(record: SQSRecord): number {
  // Lambda always sets messageAttributes; a hand-made event may not.
  const attributes = record.messageAttributes as SQSRecord['messageAttributes'] | undefined;
  const value = Number(attributes?.[DEFERRALS_ATTRIBUTE]?.stringValue ?? 0);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** An SQS event's records as the batch handler takes them. */
function queuedEvents(event: SQSEvent): QueuedEvent[] {
  return event.Records.map((record) => ({
    messageId: record.messageId,
    body: record.body,
    deferrals: deferralsOf(record),
  }));
}

/**
 * Runs one SQS batch with `deps`: the partial batch failures for Lambda, and the batch's summary (each
 * message's outcome). With `context`, no Region's reconcile is started with less than
 * `deps.safetyMarginMs` of the invocation left.
 */
export async function reconcileSqsBatch(
  event: SQSEvent,
  deps: BatchDeps,
  t: Telemetry = telemetry,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<{ readonly response: SQSBatchResponse; readonly summary: BatchSummary }> {
  const queued = queuedEvents(event);
  try {
    const summary = await withInvocationBudget(context, deps, (options) =>
      processEventBatch(queued, deps, options),
    );
    recordMetrics(summary, t, queued.length);
    return {
      response: {
        batchItemFailures: summary.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })),
      },
      summary,
    };
  } finally {
    if (t.metrics.hasStoredMetrics()) t.metrics.publishStoredMetrics();
  }
}

/**
 * Runs one invocation with `deps`: an SQS batch returns its partial batch failures
 * ({@link reconcileSqsBatch}); one direct event returns the summary or throws
 * {@link ReconcileFailedError} (it has no queue: what a batch would dead-letter or defer fails the
 * call instead).
 */
export async function runReconcile(
  event: SQSEvent | Record<string, unknown>,
  deps: BatchDeps,
  t: Telemetry = telemetry,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SQSBatchResponse | BatchSummary> {
  if (isSqsEvent(event)) return (await reconcileSqsBatch(event, deps, t, context)).response;
  const queued: QueuedEvent[] = [{ messageId: 'direct', body: JSON.stringify(event) }];
  try {
    const summary = await withInvocationBudget(context, deps, (options) =>
      processEventBatch(queued, { ...deps, queues: undefined }, options),
    );
    recordMetrics(summary, t, queued.length);
    if (summary.failedMessageIds.length > 0) throw new ReconcileFailedError(summary);
    return summary;
  } finally {
    if (t.metrics.hasStoredMetrics()) t.metrics.publishStoredMetrics();
  }
}

/**
 * The function's environment with `ACCOUNT_ID`, the account it runs in: as set (tests, `npm run
 * invoke-local`), else the account of the invoked function's ARN
 * (`arn:<partition>:lambda:<region>:<account>:function:<name>`). Its snapshots, alerts, continuations
 * and Security Hub findings name it, whether or not a Region's ECS ARNs were read.
 */
export function withAccountId(
  env: Readonly<Record<string, string | undefined>>,
  context: Pick<Context, 'invokedFunctionArn'> | undefined,
): Readonly<Record<string, string | undefined>> {
  if (env.ACCOUNT_ID) return env;
  const account = /^arn:[^:]+:lambda:[^:]*:(\d{12}):function:/.exec(context?.invokedFunctionArn ?? '')?.[1];
  return account === undefined ? env : { ...env, ACCOUNT_ID: account };
}

/** The Lambda entry point. */
export async function handler(
  event: SQSEvent | Record<string, unknown>,
  context?: Context,
): Promise<SQSBatchResponse | BatchSummary> {
  if (context) telemetry.logger.addContext(context);
  // Made once per container: every invocation of a function has the same ARN's account.
  cachedDeps ??= remediatorDeps(withAccountId(process.env, context));
  try {
    return await runReconcile(event, cachedDeps, telemetry, context);
  } catch (error) {
    throw withTableHint(error, process.env.TABLE_NAME);
  }
}

/**
 * A direct invocation (`npm run invoke-local`) whose state table does not exist says so, and how to
 * make it, instead of leaving the reader with DynamoDB's "Requested resource not found".
 */
export function withTableHint(error: unknown, tableName: string | undefined): unknown {
  if (!(error instanceof ReconcileFailedError) || !error.message.includes('ResourceNotFoundException'))
    return error;
  error.message +=
    `\nThe state table ${tableName ?? '(TABLE_NAME)'} does not exist in this account and Region: deploy ` +
    'the stage first (npm run deploy -- --stage <stage>), or create the table as docs/deploy.md ' +
    '("Try it locally") shows.';
  return error;
}
