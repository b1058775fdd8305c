/**
 * The reconciler Lambda: consumes the event queue (EventBridge rules and the schedule → SQS → here),
 * reconciles the VPCs the events point at, alerts, and reports the messages to retry (partial batch
 * failure). Invoked directly with one EventBridge event (e.g. `osls invoke -f reconcile -p
 * events/scheduled-sweep.json`), it processes that event and throws if it fails.
 *
 * Thin: settings come from aws/environment.ts, the work from aws/event-batch.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { RemediatorDeps } from '../aws/event-reconcile.ts';
import type { BatchSummary, QueuedEvent } from '../aws/event-batch.ts';
import { processEventBatch } from '../aws/event-batch.ts';
import { reconcilerSettings } from '../aws/environment.ts';
import { createSnsPublisher } from '../aws/notify.ts';
import { MAX_ATTEMPTS, RETRY_MODE } from '../aws/clients.ts';
import type { ClientOptions } from '../aws/clients.ts';
import { createClientPool } from '../aws/reconcile.ts';
import { createStateStore } from '../aws/state.ts';
import type { Telemetry } from '../aws/telemetry.ts';
import { MetricUnit, createTelemetry } from '../aws/telemetry.ts';

const telemetry = createTelemetry();

/** Action kinds that restart an ECS agent (issue 3's agent restarts). */
const RESTART_KINDS: ReadonlySet<string> = new Set(['RESTART_AGENT']);

/** A direct invocation with one EventBridge event that failed. */
export class ReconcileFailedError extends Error {
  constructor(summary: BatchSummary) {
    super(
      `reconcile failed: ${summary.malformed > 0 ? 'malformed event' : summary.failedRegions.map((f) => `${f.region}: ${f.error}`).join('; ')}`,
    );
    this.name = 'ReconcileFailedError';
  }
}

/**
 * Builds what a reconcile needs from an environment. The deployed handler passes `process.env`;
 * tests pass a moto account's environment and client options.
 */
export function remediatorDeps(
  env: Readonly<Record<string, string | undefined>>,
  t: Telemetry = telemetry,
  clientOptions: ClientOptions = {},
): RemediatorDeps {
  const settings = reconcilerSettings(env);
  // The table and the topic live in the function's own Region.
  const region = env.AWS_REGION ?? settings.regions[0];
  const sdk = { region, retryMode: RETRY_MODE, maxAttempts: MAX_ATTEMPTS, ...clientOptions };
  return {
    mode: settings.mode,
    regions: settings.regions,
    config: settings.config,
    pool: createClientPool(clientOptions),
    state: createStateStore(new DynamoDBClient(sdk), settings.tableName),
    publisher: createSnsPublisher(new SNSClient(sdk), settings.topicArn),
    now: () => new Date(),
    digestIntervalMs: settings.digestIntervalMs,
    ...(env.ACCOUNT_ID ? { accountId: env.ACCOUNT_ID } : {}),
    log: (message, fields) => {
      t.logger.info(message, fields);
    },
  };
}

function recordMetrics(summary: BatchSummary, t: Telemetry, received: number): void {
  const { metrics } = t;
  metrics.addMetric('EventsReceived', MetricUnit.Count, received);
  metrics.addMetric('EventsMalformed', MetricUnit.Count, summary.malformed);
  metrics.addMetric('EventsIgnored', MetricUnit.Count, summary.ignored);
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

let cachedDeps: RemediatorDeps | undefined;

/**
 * Runs one invocation with `deps`: an SQS batch returns its partial batch failures; one direct event
 * returns the summary or throws {@link ReconcileFailedError}.
 */
export async function runReconcile(
  event: SQSEvent | Record<string, unknown>,
  deps: RemediatorDeps,
  t: Telemetry = telemetry,
): Promise<SQSBatchResponse | BatchSummary> {
  const queued: QueuedEvent[] = isSqsEvent(event)
    ? event.Records.map((record) => ({ messageId: record.messageId, body: record.body }))
    : [{ messageId: 'direct', body: JSON.stringify(event) }];
  try {
    const summary = await processEventBatch(queued, deps);
    recordMetrics(summary, t, queued.length);
    if (isSqsEvent(event)) {
      return { batchItemFailures: summary.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
    }
    if (summary.failedMessageIds.length > 0) throw new ReconcileFailedError(summary);
    return summary;
  } finally {
    if (t.metrics.hasStoredMetrics()) t.metrics.publishStoredMetrics();
  }
}

/** The Lambda entry point. */
export async function handler(
  event: SQSEvent | Record<string, unknown>,
  context?: Context,
): Promise<SQSBatchResponse | BatchSummary> {
  if (context) telemetry.logger.addContext(context);
  cachedDeps ??= remediatorDeps(process.env);
  return runReconcile(event, cachedDeps);
}
