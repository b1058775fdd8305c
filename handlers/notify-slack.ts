/**
 * The optional Slack webhook notifier: subscribed to the alerts topic, it posts each message (our
 * Chatbot notifications, CloudWatch alarms) to a Slack incoming webhook as Block Kit. For teams that
 * do not use AWS Chatbot. The webhook URL is read from SSM Parameter Store (SecureString) or Secrets
 * Manager (SLACK_WEBHOOK_PARAMETER or SLACK_WEBHOOK_SECRET_ID name it), cached for five minutes; it
 * must be an https:// URL on Slack's webhook host unless SLACK_WEBHOOK_ALLOWED_HOSTS names another.
 * A failed post throws: SNS retries the invocation, then its on-failure queue keeps the message.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SNSEvent } from 'aws-lambda';
import { toSlackMessage } from '../core/slack.ts';
import { MAX_ATTEMPTS, RETRY_MODE } from '../aws/clients.ts';
import type { ClientOptions } from '../aws/clients.ts';
import {
  allowedHostsFrom,
  cachedWebhookUrl,
  postToSlack,
  readWebhookUrl,
  webhookSourceFrom,
} from '../aws/slack-webhook.ts';
import { MetricUnit, createTelemetry } from '../aws/telemetry.ts';
import type { Telemetry } from '../aws/telemetry.ts';

const telemetry = createTelemetry();

export interface NotifierDeps {
  readonly webhookUrl: () => Promise<string>;
}

/** Builds the notifier's dependencies from an environment (tests pass a moto account's). */
export function notifierDeps(
  env: Readonly<Record<string, string | undefined>>,
  clientOptions: ClientOptions = {},
): NotifierDeps {
  const source = webhookSourceFrom(env);
  const allowedHosts = allowedHostsFrom(env);
  const sdk = { region: env.AWS_REGION, retryMode: RETRY_MODE, maxAttempts: MAX_ATTEMPTS, ...clientOptions };
  const clients = { ssm: new SSMClient(sdk), secrets: new SecretsManagerClient(sdk) };
  return { webhookUrl: cachedWebhookUrl(() => readWebhookUrl(source, clients, allowedHosts)) };
}

/** Posts every record of one SNS invocation; throws on the first failure. */
export async function runNotifier(
  event: SNSEvent,
  deps: NotifierDeps,
  t: Telemetry = telemetry,
): Promise<void> {
  try {
    const url = await deps.webhookUrl();
    for (const record of event.Records) {
      const message = toSlackMessage(record.Sns.Message, record.Sns.Subject ?? undefined);
      await postToSlack(url, message);
      t.logger.info('posted to Slack', { messageId: record.Sns.MessageId, title: message.text });
      t.metrics.addMetric('SlackMessagesPosted', MetricUnit.Count, 1);
    }
  } finally {
    if (t.metrics.hasStoredMetrics()) t.metrics.publishStoredMetrics();
  }
}

let cachedDeps: NotifierDeps | undefined;

export async function handler(event: SNSEvent, context?: Context): Promise<void> {
  if (context) telemetry.logger.addContext(context);
  cachedDeps ??= notifierDeps(process.env);
  await runNotifier(event, cachedDeps);
}
