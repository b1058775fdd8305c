// What a deployed stack gives agent restarts, made in a moto account as CloudFormation would: the
// state table and the restart document (serverless.yml's StateTable and RestartAgentDocument). No
// vitest import: test/aws/restart-crash.fixture.ts (a child process) uses this too.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateDocumentCommand } from '@aws-sdk/client-ssm';
import type { Config } from '../../core/config.ts';
import type { Plan } from '../../core/plan.ts';
import type { ActionResult } from '../../core/report.ts';
import type { ClientPool } from '../../aws/reconcile.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../../aws/reconcile.ts';
import { createRestartClaims } from '../../aws/restart-claims.ts';
import { RESTART_DOCUMENT_CONTENT, restartDocumentName } from '../../aws/restart-document.ts';
import type { RestartGuard } from '../../aws/restart-guard.ts';
import { bindRestartGuard } from '../../aws/restart-guard.ts';
import type { Account } from '../harness/seed.ts';
import { createStateTable } from '../harness/state-table.ts';

export interface Stack {
  readonly stage: string;
  readonly tableName: string;
  readonly documentName: string;
  readonly dynamodb: DynamoDBClient;
}

export const dynamoDbOf = (acct: Pick<Account, 'endpoint' | 'region' | 'credentials'>): DynamoDBClient =>
  new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials });

/** The stack's table and document in `acct`; `content` overrides the document's (a tampered one). */
export async function deployStack(
  acct: Account,
  stage = 'test',
  content: unknown = RESTART_DOCUMENT_CONTENT,
): Promise<Stack> {
  const dynamodb = dynamoDbOf(acct);
  const tableName = `ecs-endpoint-remediator-${stage}-state`;
  await createStateTable(dynamodb, tableName);
  const documentName = restartDocumentName(stage);
  await acct.ssm.send(
    new CreateDocumentCommand({
      Name: documentName,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: JSON.stringify(content, null, 1),
    }),
  );
  return { stage, tableName, documentName, dynamodb };
}

/** The guard the deployed reconciler has (no shell fallback), on `stack`. */
export function stackGuard(stack: Stack, overrides: Partial<RestartGuard> = {}): RestartGuard {
  return {
    documentName: stack.documentName,
    claims: createRestartClaims(stack.dynamodb, stack.tableName),
    shellFallback: false,
    ...overrides,
  };
}

/** A client pool of its own (one per concurrent run, as separate processes have), restarts bound to `guard`. */
export function guardedPool(acct: Account, guard: RestartGuard | undefined): ClientPool {
  const pool = createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
  if (guard) bindRestartGuard(pool.clientsFor(acct.region), guard);
  return pool;
}

export async function applyWith(
  acct: Account,
  config: Config,
  pool: ClientPool,
): Promise<{ plan: Plan; results: ActionResult[] }> {
  const plan = await planAccount({ regions: [acct.region], config, pool });
  return { plan, results: await applyAccountPlan(plan, pool, undefined, config) };
}
