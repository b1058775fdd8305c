/**
 * The Slack webhook notifier's I/O: the webhook URL, read from SSM Parameter Store (a SecureString,
 * decrypted) or Secrets Manager (the secret string is the URL, or JSON with a `url` field) and cached
 * for a few minutes, and the POST to it. The URL is a credential: never an environment variable.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SlackMessage } from '../core/slack.ts';

/** Where the URL is kept: exactly one of the two. */
export type WebhookSource =
  | { readonly kind: 'ssm-parameter'; readonly name: string }
  | { readonly kind: 'secrets-manager'; readonly secretId: string };

export class WebhookConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookConfigError';
  }
}

export class SlackPostError extends Error {
  readonly status: number;
  constructor(status: number, body: string) {
    super(`Slack webhook answered HTTP ${status}: ${body.slice(0, 200)}`);
    this.name = 'SlackPostError';
    this.status = status;
  }
}

/** Reads SLACK_WEBHOOK_PARAMETER or SLACK_WEBHOOK_SECRET_ID (not both). */
export function webhookSourceFrom(env: Readonly<Record<string, string | undefined>>): WebhookSource {
  const name = env.SLACK_WEBHOOK_PARAMETER?.trim();
  const secretId = env.SLACK_WEBHOOK_SECRET_ID?.trim();
  if (name && secretId)
    throw new WebhookConfigError('set SLACK_WEBHOOK_PARAMETER or SLACK_WEBHOOK_SECRET_ID, not both');
  if (name) return { kind: 'ssm-parameter', name };
  if (secretId) return { kind: 'secrets-manager', secretId };
  throw new WebhookConfigError('no webhook: set SLACK_WEBHOOK_PARAMETER or SLACK_WEBHOOK_SECRET_ID');
}

function checkUrl(url: string | undefined, where: string): string {
  if (!url || !/^https?:\/\//.test(url)) throw new WebhookConfigError(`${where} does not hold a webhook URL`);
  return url;
}

export interface WebhookClients {
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
}

/** Reads the URL from its source. */
export async function readWebhookUrl(source: WebhookSource, clients: WebhookClients): Promise<string> {
  if (source.kind === 'ssm-parameter') {
    const out = await clients.ssm.send(new GetParameterCommand({ Name: source.name, WithDecryption: true }));
    return checkUrl(out.Parameter?.Value, `parameter ${source.name}`);
  }
  const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: source.secretId }));
  const text = out.SecretString?.trim() ?? '';
  if (text.startsWith('{')) {
    const json = JSON.parse(text) as { url?: unknown };
    return checkUrl(typeof json.url === 'string' ? json.url : undefined, `secret ${source.secretId}`);
  }
  return checkUrl(text, `secret ${source.secretId}`);
}

/** A reader that keeps the URL for `ttlMs` (a rotated URL is picked up within that time). */
export function cachedWebhookUrl(read: () => Promise<string>, ttlMs = 5 * 60_000, now = () => Date.now()) {
  let cached: { url: string; at: number } | undefined;
  return async (): Promise<string> => {
    if (cached && now() - cached.at < ttlMs) return cached.url;
    cached = { url: await read(), at: now() };
    return cached.url;
  };
}

/** Posts one message; any answer but 2xx is a {@link SlackPostError} (the invocation retries). */
export async function postToSlack(url: string, message: SlackMessage, timeoutMs = 10_000): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new SlackPostError(response.status, await response.text());
}
