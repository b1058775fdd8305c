/**
 * The CLI's agent restarts: before an apply that restarts agents, each such Region is searched for a
 * deployed stack by its well-known names (its state table `ecs-endpoint-remediator-<stage>-state` and
 * its document `ecs-endpoint-remediator-<stage>-restart-agent-<hash>`, aws/restart-document.ts).
 * What is found is bound to the Region's clients (aws/restart-guard.ts): the stack's document (never
 * a shell) and its table for claims, so the CLI and the deployed reconciler never restart one agent
 * twice. Where there is no stack, restarts use the AWS shell documents with the operator's own
 * credentials, and concurrent runs are not guarded: each is said on stderr.
 *
 * Only the CLI imports this module: the deployed function knows its stack from its environment and
 * needs no `dynamodb:ListTables`.
 */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { Plan } from '../core/plan.ts';
import type { ClientPool } from './reconcile.ts';
import { errorMessage } from './errors.ts';
import { createRestartClaims } from './restart-claims.ts';
import { SERVICE, restartDocumentName, verifyRestartDocument } from './restart-document.ts';
import type { RestartGuard } from './restart-guard.ts';
import { bindRestartGuard, dynamoDbClientBeside } from './restart-guard.ts';

const TABLE = new RegExp(`^${SERVICE}-(.+)-state$`);

/** What was found in one Region, and the line that says so. */
export interface RestartSetup {
  readonly region: string;
  readonly guard: RestartGuard;
  readonly stage?: string;
  readonly note: string;
}

/**
 * Finds and binds each restarting Region's stack (see the module comment); returns one note per
 * Region, for stderr. Regions without a RESTART_AGENT action are not looked at.
 */
export async function prepareRestarts(plan: Plan, pool: ClientPool): Promise<RestartSetup[]> {
  const regions = [
    ...new Set(
      plan.actions
        .filter((action) => action.kind === 'RESTART_AGENT' && action.status === 'planned')
        .map((action) => action.region),
    ),
  ];
  const setups: RestartSetup[] = [];
  for (const region of regions) {
    const clients = pool.clientsFor(region);
    const dynamodb = dynamoDbClientBeside(clients);
    let stages: string[] = [];
    let lookupError: string | undefined;
    try {
      let start: string | undefined;
      do {
        const out = await dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
        for (const name of out.TableNames ?? []) {
          const stage = TABLE.exec(name)?.[1];
          if (stage) stages.push(stage);
        }
        start = out.LastEvaluatedTableName;
      } while (start);
      stages = stages.sort();
    } catch (error) {
      lookupError = errorMessage(error);
    }
    let documentStage: string | undefined;
    for (const stage of stages) {
      try {
        if ((await verifyRestartDocument(clients.ssm, restartDocumentName(stage))).status === 'verified') {
          documentStage = stage;
          break;
        }
      } catch (error) {
        lookupError ??= errorMessage(error);
      }
    }
    const stage = documentStage ?? stages[0];
    const guard: RestartGuard = {
      ...(documentStage ? { documentName: restartDocumentName(documentStage) } : {}),
      ...(stage ? { claims: createRestartClaims(dynamodb, `${SERVICE}-${stage}-state`) } : {}),
      shellFallback: true,
    };
    bindRestartGuard(clients, guard);
    const parts = [
      guard.documentName
        ? `agent restarts use the stack's document ${guard.documentName}`
        : 'agent restarts use AWS-RunShellScript / AWS-RunPowerShellScript with your own credentials (no deployed restart document found)',
      guard.claims
        ? `claimed in ${guard.claims.tableName}: concurrent runs are guarded`
        : 'concurrent runs are not guarded (no deployed state table found)',
    ];
    const others = stages.filter((s) => s !== stage);
    setups.push({
      region,
      guard,
      ...(stage ? { stage } : {}),
      note: `[${region}] ${parts.join('; ')}${others.length > 0 ? ` (other stages ignored: ${others.join(', ')})` : ''}${lookupError ? ` (lookup: ${lookupError})` : ''}`,
    });
  }
  return setups;
}
