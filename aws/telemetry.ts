/**
 * Powertools for AWS Lambda: structured JSON logs with the invocation's correlation ids, and CloudWatch
 * metrics in the embedded metric format (no PutMetricData calls). POWERTOOLS_METRICS_DISABLED silences
 * metrics in tests.
 *
 * No Powertools Tracer: its X-Ray SDK added about 60 ms to every cold start of the reconciler, more
 * than the rest of its imports bar the SDK clients (docs/benchmarks.md). X-Ray still traces each
 * invocation (Lambda active tracing, serverless.yml); what the SDK calls cost is in the run log.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'ecs-endpoint-remediator';
/** The CloudWatch namespace of every custom metric (the dashboard and docs/deploy.md name it). */
export const METRICS_NAMESPACE = 'EcsEndpointRemediator';

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function createTelemetry(): Telemetry {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
  };
}

export { MetricUnit };
