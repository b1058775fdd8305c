// A reconciler process killed midway through an enforce-mode apply (test/aws/faults.test.ts runs it
// with `node`): SIGKILL, as the Lambda runtime's timeout or an out-of-memory kill stops a process, so
// nothing after the chosen moment runs (no finally, no exit handler, no buffered write).
//   EER_KILL_AT=create   right after the first CreateVpcEndpoint response (the endpoint exists, the
//                        rest of the plan and the restart do not happen)
//   EER_KILL_AT=restart  when the restart begins (every create done, no agent restarted yet): at its
//                        first call, the GetDocument that checks the restart document
// Account, table and document come from the environment, as in restart-crash.fixture.ts.
import { parseConfig } from '../../core/config.ts';
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
const kill = (line: string): void => {
  // Writes to a pipe are synchronous on Linux: the line is out before the signal.
  process.stdout.write(`${line}\n`);
  process.kill(process.pid, 'SIGKILL');
};
const clients = pool.clientsFor(acct.region);
if (env.EER_KILL_AT === 'create') {
  clients.ec2.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'CreateVpcEndpointCommand') {
        const output = out.output as { VpcEndpoint?: { VpcEndpointId?: string } };
        kill(`KILLED after creating ${output.VpcEndpoint?.VpcEndpointId ?? '?'}`);
      }
      return out;
    },
    { step: 'initialize', name: 'killAfterCreate' },
  );
} else {
  clients.ssm.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetDocumentCommand') kill('KILLED before the restart');
      return next(args);
    },
    { step: 'initialize', name: 'killBeforeRestart' },
  );
}
await applyWith(acct, parseConfig(JSON.parse(env.EER_CONFIG ?? '{}')), pool);
process.stdout.write('NOT KILLED\n');
