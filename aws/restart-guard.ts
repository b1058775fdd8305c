/**
 * What agent restarts in one Region run with: the stack's document or the AWS shell documents, and
 * the claims table that keeps concurrent runs from restarting an agent twice (or none).
 *
 * - The deployed reconciler: serverless.yml sets `RESTART_DOCUMENT` (the stack's document) and
 *   `TABLE_NAME` (its state table, in the function's Region): {@link restartGuardFromEnvironment}.
 *   It never falls back to the shell documents (its role could not send them anyway).
 * - The CLI: aws/restart-discovery.ts looks the deployed stack up by its well-known names and binds
 *   what it found with {@link bindRestartGuard}; where there is none, the AWS shell documents with
 *   the operator's own credentials, unguarded (it says so on stderr).
 * - Anything else (a library caller, a test that binds nothing): {@link UNGUARDED}.
 *
 * Also the SSM client that sends SendCommand with the SDK's retries off ({@link sendCommandClient}):
 * a retried SendCommand whose first response was lost runs the command twice.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClients } from './clients.ts';
import { paceBeside, requestHandlerOptions } from './clients.ts';
import type { RestartClaims } from './restart-claims.ts';
import { createRestartClaims } from './restart-claims.ts';

export interface RestartGuard {
  /** The stack's restart document (its name); undefined: the AWS shell documents. */
  readonly documentName?: string;
  /** Where restarts are claimed; undefined: concurrent runs are not guarded. */
  readonly claims?: RestartClaims;
  /** Whether a missing document may fall back to the AWS shell documents (the CLI's own credentials). */
  readonly shellFallback: boolean;
  /** Overrides for tests: lease of a claim before its command is known to be sent, and the reuse window of a cutoff refresh. */
  readonly leaseSeconds?: number;
  readonly cutoffReuseSeconds?: number;
}

export const UNGUARDED: RestartGuard = { shellFallback: true };

const bound = new WeakMap<AwsClients, RestartGuard>();

/** Makes `clients`' restarts use `guard` (the CLI binds what it discovered, tests what they set up). */
export function bindRestartGuard(clients: AwsClients, guard: RestartGuard): void {
  bound.set(clients, guard);
}

let fromEnvironment: RestartGuard | undefined;

/**
 * The deployed reconciler's guard, from its environment: `RESTART_DOCUMENT` (the stack's document)
 * and `TABLE_NAME` in `AWS_REGION` (the state table). Undefined outside the deployed function.
 */
export function restartGuardFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  dynamodb?: DynamoDBClient,
): RestartGuard | undefined {
  const documentName = env.RESTART_DOCUMENT?.trim();
  const tableName = env.TABLE_NAME?.trim();
  if (!documentName) return undefined;
  const client =
    dynamodb ??
    new DynamoDBClient({
      ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
      requestHandler: requestHandlerOptions(),
    });
  return {
    documentName,
    ...(tableName ? { claims: createRestartClaims(client, tableName) } : {}),
    shellFallback: false,
  };
}

/** The guard of `clients`: bound, else the deployed function's, else {@link UNGUARDED}. */
export function restartGuardOf(clients: AwsClients): RestartGuard {
  const guard = bound.get(clients);
  if (guard) return guard;
  fromEnvironment ??= restartGuardFromEnvironment(process.env) ?? UNGUARDED;
  return fromEnvironment;
}

const senders = new WeakMap<AwsClients, SSMClient>();

/**
 * The SSM client of `clients` for SendCommand only: the same Region, credentials, endpoint and
 * timeouts, `maxAttempts` 1 (aws/restart.ts recovers an ambiguous failure by looking the command up
 * before sending again). Its requests are counted with the other SSM calls and paced by their limiter.
 */
export function sendCommandClient(clients: AwsClients): SSMClient {
  let client = senders.get(clients);
  if (client) return client;
  const { config } = clients.ssm;
  client = new SSMClient({
    region: clients.region,
    credentials: config.credentials,
    ...(config.isCustomEndpoint && config.endpoint ? { endpoint: config.endpoint } : {}),
    requestHandler: config.requestHandler,
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      clients.calls.record('ssm', context.commandName?.replace(/Command$/, '') ?? 'unknown');
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'ecsEndpointRemediatorSendCounter' },
  );
  // SSM's bucket (an assumed one: aws/rate-limit.ts), shared with the other SSM calls of the Region.
  paceBeside(client.middlewareStack, clients, 'ssm');
  senders.set(clients, client);
  return client;
}

/** A DynamoDB client beside `clients` (same credentials and endpoint), for the CLI's claims table. */
export function dynamoDbClientBeside(clients: AwsClients): DynamoDBClient {
  const { config } = clients.ssm;
  return new DynamoDBClient({
    region: clients.region,
    credentials: config.credentials,
    ...(config.isCustomEndpoint && config.endpoint ? { endpoint: config.endpoint } : {}),
    requestHandler: config.requestHandler,
  });
}
