// Restart steps at the executor (aws/restart.ts): the moto patch that makes commands take time (S8),
// the CLI's waits that still block until a restart is done, and the limits a stepped restart keeps
// across runs, counted from its claim (test/handlers/restart-steps.test.ts drives them through the
// deployed handler and its continuations).
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { ActionResult } from '../../core/report.ts';
import { applyPlan } from '../../aws/apply.ts';
import type { ClientPool } from '../../aws/reconcile.ts';
import { planAccount } from '../../aws/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { addContainerInstance, createCluster, createNetwork } from '../harness/seed.ts';
import type { Stack } from './restart-stack.ts';
import { applyWith, deployStack, guardedPool, stackGuard } from './restart-stack.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const fast = (agentRestart: Record<string, unknown> = {}): Config =>
  parseConfig({
    agentRestart: { waitSeconds: 2, verifySeconds: 1, waveSize: 10, wavePercent: 100, ...agentRestart },
  });

async function instance(acct: Account, cidr: string, tags: Record<string, string>) {
  const network = await createNetwork(acct, { cidr, azs: ['a'] });
  const cluster = await createCluster(acct, 'steps');
  const added = await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' });
  await acct.ec2.send(
    new CreateTagsCommand({
      Resources: [added.instanceId],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return added;
}

/** A plan and its apply in steps of `stepSeconds` (as the deployed reconciler applies). */
async function applyInSteps(
  acct: Account,
  config: Config,
  pool: ClientPool,
  stepSeconds: number,
): Promise<ActionResult | undefined> {
  const plan = await planAccount({ regions: [acct.region], config, pool });
  const results = await applyPlan(plan, pool.clientsFor, {
    agentRestart: config.agentRestart,
    restartStepSeconds: stepSeconds,
  });
  return results.find((r) => r.kind === 'RESTART_AGENT');
}

async function claimOf(stack: Stack, instanceId: string) {
  const out = await stack.dynamodb.send(new ScanCommand({ TableName: stack.tableName }));
  return out.Items?.find((item) => item.sk?.S?.startsWith(`CLAIM#${instanceId}#`));
}

describe('moto SSM patch S8', () => {
  it('a command runs for eer-test:command-seconds: InProgress until then, then its outcome', async () => {
    const acct = newAccount();
    const slow = await instance(acct, '10.70.0.0/16', { 'eer-test:command-seconds': '1' });
    const sent = await acct.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [slow.instanceId],
        Parameters: { commands: ['systemctl restart ecs'] },
      }),
    );
    const commandId = sent.Command?.CommandId;
    const look = async () => {
      const invocation = (
        await acct.ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }))
      ).CommandInvocations?.[0];
      const command = (await acct.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0];
      return [invocation?.Status, invocation?.CommandPlugins?.[0]?.Status, command?.Status];
    };
    expect(await look()).toEqual(['InProgress', 'InProgress', 'InProgress']);
    await sleep(1200);
    expect(await look()).toEqual(['Success', 'Success', 'Success']);
  });
});

describe('restart steps', () => {
  it('the CLI still waits a running command out and restarts in one run', async () => {
    const acct = newAccount();
    const slow = await instance(acct, '10.71.0.0/16', { 'eer-test:command-seconds': '2' });
    const stack = await deployStack(acct);
    const { results } = await applyWith(acct, fast(), guardedPool(acct, stackGuard(stack)));
    const restart = results.find((r) => r.kind === 'RESTART_AGENT');
    expect(restart?.outcome).toBe('succeeded');
    expect(restart?.instances?.map((i) => [i.ec2InstanceId, i.outcome])).toEqual([
      [slow.instanceId, 'restarted'],
    ]);
    expect(restart?.continueAfterSeconds).toBeUndefined();
    expect((await claimOf(stack, slow.instanceId))?.status?.S).toBe('done');
  });

  it('without a claims table to continue from, a stepped apply waits as the CLI does', async () => {
    const acct = newAccount();
    const slow = await instance(acct, '10.72.0.0/16', { 'eer-test:command-seconds': '2' });
    const stack = await deployStack(acct);
    const restart = await applyInSteps(
      acct,
      fast(),
      guardedPool(acct, stackGuard(stack, { claims: undefined })),
      1,
    );
    expect(restart?.outcome).toBe('succeeded');
    expect(restart?.instances?.map((i) => i.outcome)).toEqual(['restarted']);
    expect(restart?.continueAfterSeconds).toBeUndefined();
    expect(slow.instanceId).toBeTruthy();
  });

  it('an agent that does not reconnect is under way within verifySeconds of its command, then failed', async () => {
    const acct = newAccount();
    const broken = await instance(acct, '10.73.0.0/16', { 'eer-test:reconnect': 'false' });
    const stack = await deployStack(acct);
    const config = fast({ verifySeconds: 3 });

    const first = await applyInSteps(acct, config, guardedPool(acct, stackGuard(stack)), 1);
    expect(first?.outcome).toBe('skipped');
    expect(first?.instances?.[0]?.message).toMatch(/under way, .*the ECS agent has not reconnected yet/);
    expect(first?.continueAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(first?.continueAfterSeconds).toBeLessThanOrEqual(4);
    const claim = await claimOf(stack, broken.instanceId);
    expect(claim?.status?.S).toBe('sent');
    expect(claim?.finishedAt?.S).toBeDefined();

    // Its time counts from the command's end as recorded, not from the next run's own wait.
    await sleep(3000);
    const second = await applyInSteps(acct, config, guardedPool(acct, stackGuard(stack)), 1);
    expect(second?.outcome).toBe('failed');
    expect(second?.instances?.[0]?.message).toBe(
      "the agent did not reconnect to ECS within 3 s of its command's end",
    );
    expect(second?.continueAfterSeconds).toBeUndefined();
    expect((await claimOf(stack, broken.instanceId))?.status?.S).toBe('failed');
    const sent = (await acct.ssm.send(new ListCommandsCommand({}))).Commands ?? [];
    expect(sent).toHaveLength(1);
  });
});
