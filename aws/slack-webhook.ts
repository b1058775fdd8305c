/**
 * The Slack webhook notifier's I/O: the webhook URL, read from SSM Parameter Store (a SecureString,
 * decrypted) or Secrets Manager (the secret string is the URL, or JSON with a `url` field) and cached
 * for a few minutes, and the POST to it. The URL is a credential: never an environment variable, never
 * in an error or a log line.
 *
 * Only `https://` URLs on Slack's webhook hosts are posted to (hooks.slack.com, and GovSlack's
 * hooks.slack-gov.com): whoever can write the parameter or secret cannot make the notifier send the
 * alerts elsewhere. Other hosts only when the deployment names them (the `slackWebhookAllowedHosts`
 * parameter, SLACK_WEBHOOK_ALLOWED_HOSTS here).
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

/** Slack's incoming-webhook hosts: Slack, and GovSlack. */
export const SLACK_WEBHOOK_HOSTS: readonly string[] = ['hooks.slack.com', 'hooks.slack-gov.com'];

/** A host name, or `host:port`; an IPv6 literal in brackets. No scheme, path or wildcard. */
const HOST_ENTRY =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/**
 * SLACK_WEBHOOK_ALLOWED_HOSTS: further hosts the webhook URL may name, comma-separated (empty: none).
 * An entry `host` allows that host on the default port, `host:port` that port only.
 */
export function allowedHostsFrom(env: Readonly<Record<string, string | undefined>>): readonly string[] {
  const entries = (env.SLACK_WEBHOOK_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!HOST_ENTRY.test(entry))
      throw new WebhookConfigError(
        `SLACK_WEBHOOK_ALLOWED_HOSTS: "${entry}" is not a host name (host or host:port, no scheme, path or wildcard)`,
      );
  }
  return entries;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks a webhook URL read from `where`; the errors name what is wrong and where the URL is kept,
 * never the URL (it is the credential). `https:` on Slack's hosts (default port), or on a host of
 * `allowedHosts`; plain `http:` only to a loopback host that `allowedHosts` names (a local relay, the
 * tests), where nothing crosses a network.
 */
export function checkWebhookUrl(
  url: string | undefined,
  where: string,
  allowedHosts: readonly string[] = [],
): string {
  let parsed: URL;
  try {
    parsed = new URL(url ?? '');
  } catch {
    throw new WebhookConfigError(`${where} does not hold a webhook URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new WebhookConfigError(`${where} holds a webhook URL that is not https://`);
  if (parsed.username !== '' || parsed.password !== '')
    throw new WebhookConfigError(`${where} holds a webhook URL with credentials before the host; refused`);
  const host = parsed.hostname.toLowerCase();
  const allowed =
    allowedHosts.includes(parsed.host.toLowerCase()) || (parsed.port === '' && allowedHosts.includes(host));
  const slack = SLACK_WEBHOOK_HOSTS.includes(host) && parsed.port === '';
  if (!slack && !allowed)
    throw new WebhookConfigError(
      `${where} holds a webhook URL whose host is not Slack's (${SLACK_WEBHOOK_HOSTS.join(', ')}); ` +
        'deploy with the slackWebhookAllowedHosts parameter to allow another host',
    );
  if (parsed.protocol !== 'https:' && !(allowed && LOOPBACK.has(host)))
    throw new WebhookConfigError(`${where} holds a webhook URL that is not https://`);
  // The parsed form: what is posted to is what was checked.
  return parsed.href;
}

export interface WebhookClients {
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
}

/** Reads the URL from its source and checks it ({@link checkWebhookUrl}). */
export async function readWebhookUrl(
  source: WebhookSource,
  clients: WebhookClients,
  allowedHosts: readonly string[] = [],
): Promise<string> {
  if (source.kind === 'ssm-parameter') {
    const out = await clients.ssm.send(new GetParameterCommand({ Name: source.name, WithDecryption: true }));
    return checkWebhookUrl(out.Parameter?.Value?.trim(), `parameter ${source.name}`, allowedHosts);
  }
  const where = `secret ${source.secretId}`;
  const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: source.secretId }));
  const text = out.SecretString?.trim() ?? '';
  if (text.startsWith('{')) {
    let json: { url?: unknown };
    try {
      json = JSON.parse(text) as { url?: unknown };
    } catch {
      // JSON.parse's message quotes the text: the URL must not reach an error.
      throw new WebhookConfigError(`${where} is neither a URL nor valid JSON`);
    }
    return checkWebhookUrl(typeof json.url === 'string' ? json.url.trim() : undefined, where, allowedHosts);
  }
  return checkWebhookUrl(text, where, allowedHosts);
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

/**
 * Posts one message; any answer but 2xx is a {@link SlackPostError} (the invocation retries). A
 * redirect is an error too, not followed: the host checked is the host posted to.
 */
export async function postToSlack(url: string, message: SlackMessage, timeoutMs = 10_000): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new SlackPostError(response.status, await response.text());
}
