/**
 * Powertools for AWS Lambda: structured JSON logs with the invocation's correlation ids, CloudWatch
 * metrics in the embedded metric format (no PutMetricData calls), and X-Ray tracing of the SDK clients.
 * Outside Lambda the tracer is off by itself, and POWERTOOLS_METRICS_DISABLED silences metrics in tests.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const SERVICE_NAME = 'ecs-endpoint-remediator';
/** The CloudWatch namespace of every custom metric (the dashboard and docs/deploy.md name it). */
export const METRICS_NAMESPACE = 'EcsEndpointRemediator';

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export function createTelemetry(): Telemetry {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
    tracer: new Tracer({ serviceName: SERVICE_NAME }),
  };
}

export { MetricUnit };
