// A reconciler process that dies right after SSM accepted its restart command, before anything records
// it (test/aws/restart-once.test.ts runs it with `node`): the process stops, as a Lambda timeout or an
// out-of-memory kill would stop it. Account, table and document come from the environment.
import { parseConfig } from '../../core/config.ts';
import { sendCommandClient } from '../../aws/restart-guard.ts';
import { accountFor } from '../harness/seed.ts';
import { applyWith, dynamoDbOf, guardedPool, stackGuard } from './restart-stack.ts';

const env = process.env;
const acct = accountFor(
  env.AWS_ENDPOINT_URL ?? '',
  env.AWS_ACCESS_KEY_ID ?? '',
  env.AWS_REGION ?? 'us-east-1',
);
const pool = guardedPool(
  acct,
  stackGuard({
    stage: 'test',
    tableName: env.EER_TABLE ?? '',
    documentName: env.EER_DOCUMENT ?? '',
    dynamodb: dynamoDbOf(acct),
  }),
);
sendCommandClient(pool.clientsFor(acct.region)).middlewareStack.add(
  (next) => async (args) => {
    const out = await next(args);
    process.stdout.write('SENT\n');
    process.exit(75);
    return out;
  },
  { step: 'finalizeRequest', priority: 'low', name: 'crashAfterSend' },
);
await applyWith(acct, parseConfig(JSON.parse(env.EER_CONFIG ?? '{}')), pool);
process.stdout.write('NOT CRASHED\n');
