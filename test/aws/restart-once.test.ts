// Agent restarts without a shell and exactly once: the stack's restart document, claims in the state
// table, concurrent applies, lost responses, crashes, failing instances and errors midway. The real
// SDK against the patched moto (test/harness/moto_ssm.py: S6 documents, S7 ListCommands). Where moto
// cannot produce a fault (a lost response, an error at a chosen moment), a client middleware does,
// and says why.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateTagsCommand,
  CreateVpcEndpointCommand,
  DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import type { DescribeVpcEndpointsCommandInput } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import type { Command, CommandFilter } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import type { CreateEndpointAction } from '../../core/actions.ts';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { ActionResult } from '../../core/report.ts';
import { RESTARTED_AT_ATTRIBUTE } from '../../core/restarts.ts';
import { applyAccountPlan, planAccount } from '../../aws/reconcile.ts';
import { prepareRestarts } from '../../aws/restart-discovery.ts';
import {
  RESTART_DOCUMENT_CONTENT,
  RESTART_DOCUMENT_VERSION,
  restartDocumentName,
} from '../../aws/restart-document.ts';
import { restartGuardFromEnvironment, sendCommandClient } from '../../aws/restart-guard.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { addContainerInstance, createCluster, createNetwork } from '../harness/seed.ts';
import { applyWith, deployStack, guardedPool, stackGuard } from './restart-stack.ts';

const run = promisify(execFile);

const fast = (agentRestart: Record<string, unknown> = {}): Config =>
  parseConfig({
    agentRestart: { waitSeconds: 2, verifySeconds: 1, waveSize: 10, wavePercent: 100, ...agentRestart },
  });

async function commands(acct: Account): Promise<Command[]> {
  const out: Command[] = [];
  let token: string | undefined;
  do {
    const page = await acct.ssm.send(new ListCommandsCommand({ NextToken: token }));
    out.push(...(page.Commands ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/** How many commands each instance was sent. */
async function sendsPerInstance(acct: Account): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const command of await commands(acct))
    for (const id of command.InstanceIds ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function fleet(acct: Account, name: string, subnetId: string, count: number) {
  const cluster = await createCluster(acct, name);
  const instances = [];
  for (let index = 0; index < count; index += 1)
    instances.push(await addContainerInstance(acct, { cluster, subnetId }));
  return { cluster, instances: instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId)) };
}

async function restartedAt(acct: Account, cluster: string, arns: string[]): Promise<(string | undefined)[]> {
  const out = await acct.ecs.send(
    new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }),
  );
  return arns.map(
    (arn) =>
      out.containerInstances
        ?.find((ci) => ci.containerInstanceArn === arn)
        ?.attributes?.find((attribute) => attribute.name === RESTARTED_AT_ATTRIBUTE)?.value,
  );
}

const restartResults = (results: readonly ActionResult[]): ActionResult[] =>
  results.filter((r) => r.kind === 'RESTART_AGENT');

describe('moto SSM patches S6 and S7', () => {
  it('S6: SendCommand checks the account document, its version and parameters, and reports each step', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.40.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 's6');
    const linux = await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' });
    const stack = await deployStack(acct);
    const send = (input: Partial<ConstructorParameters<typeof SendCommandCommand>[0]>) =>
      acct.ssm.send(
        new SendCommandCommand({
          DocumentName: stack.documentName,
          InstanceIds: [linux.instanceId],
          Parameters: { method: ['systemctl'] },
          ...input,
        }),
      );
    const refusal = async (input: Partial<ConstructorParameters<typeof SendCommandCommand>[0]>) =>
      send(input).then(
        () => 'sent',
        (error: unknown) => (error as Error).name,
      );
    expect(await refusal({ Parameters: { method: ['reboot'] } })).toBe('InvalidParameters');
    expect(await refusal({ Parameters: { commands: ['id'] } })).toBe('InvalidParameters');
    expect(await refusal({ Parameters: {} })).toBe('InvalidParameters');
    expect(await refusal({ DocumentVersion: '2' })).toBe('InvalidDocumentVersion');
    expect(await refusal({ DocumentName: 'no-such-document' })).toBe('InvalidDocument');

    const sent = await send({ DocumentVersion: RESTART_DOCUMENT_VERSION });
    const invocation = (
      await acct.ssm.send(
        new ListCommandInvocationsCommand({ CommandId: sent.Command?.CommandId, Details: true }),
      )
    ).CommandInvocations?.[0];
    expect(invocation?.Status).toBe('Success');
    expect(invocation?.CommandPlugins?.map((p) => [p.Name, p.Status])).toEqual([
      ['restartLinuxAgent', 'Success'],
      ['restartWindowsAgent', 'Skipped'],
    ]);
    expect(invocation?.CommandPlugins?.[0]?.Output).toContain("case 'systemctl' in");
  });

  it('S7: ListCommands filters by document and time, pages, and refuses unknown filter keys', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.41.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 's7');
    const instance = await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' });
    const stack = await deployStack(acct);
    const before = new Date(Date.now() - 60_000).toISOString();
    for (const comment of ['one', 'two', 'three'])
      await acct.ssm.send(
        new SendCommandCommand({
          DocumentName: stack.documentName,
          InstanceIds: [instance.instanceId],
          Parameters: { method: ['docker'] },
          Comment: comment,
        }),
      );
    await acct.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instance.instanceId],
        Parameters: { commands: ['true'] },
      }),
    );
    const list = (filters: CommandFilter[], extra = {}) =>
      acct.ssm.send(new ListCommandsCommand({ Filters: filters, ...extra }));
    const ours = await list([{ key: 'DocumentName', value: stack.documentName }]);
    expect(ours.Commands?.map((c) => c.Comment)).toEqual(['three', 'two', 'one']);
    expect(
      (await list([{ key: 'InvokedAfter', value: new Date(Date.now() + 60_000).toISOString() }])).Commands,
    ).toEqual([]);
    expect((await list([{ key: 'InvokedAfter', value: before }])).Commands).toHaveLength(4);
    const first = await list([{ key: 'DocumentName', value: stack.documentName }], { MaxResults: 2 });
    expect(first.Commands).toHaveLength(2);
    const second = await list([{ key: 'DocumentName', value: stack.documentName }], {
      MaxResults: 2,
      NextToken: first.NextToken,
    });
    expect(second.Commands?.map((c) => c.Comment)).toEqual(['one']);
    await expect(list([{ key: 'Comment' as CommandFilter['key'], value: 'one' }])).rejects.toMatchObject({
      name: 'InvalidFilterKey',
    });
  });
});

describe("restarts through the stack's document", () => {
  it('sends only the document, at its pinned version, with the method as its one parameter, and verifies the step ran', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.42.0.0/16', azs: ['a'] });
    const subnetId = network.subnetIds[0] ?? '';
    const cluster = await createCluster(acct, 'doc');
    const linux = await addContainerInstance(acct, { cluster, subnetId });
    const windows = await addContainerInstance(acct, { cluster, subnetId, osType: 'windows' });
    const stack = await deployStack(acct);
    const { results } = await applyWith(acct, fast(), guardedPool(acct, stackGuard(stack)));
    const [restart] = restartResults(results);
    expect(restart?.outcome).toBe('succeeded');
    const sent = await commands(acct);
    expect(sent.map((c) => c.DocumentName)).toEqual([stack.documentName, stack.documentName]);
    expect(sent.every((c) => c.DocumentVersion === RESTART_DOCUMENT_VERSION)).toBe(true);
    const byInstance = new Map(sent.map((c) => [c.InstanceIds?.[0], c.Parameters]));
    expect(byInstance.get(linux.instanceId)).toEqual({ method: ['systemctl'] });
    expect(byInstance.get(windows.instanceId)).toEqual({ method: ['powershell'] });
    for (const command of sent) {
      expect(command.Comment).toMatch(new RegExp(`${network.vpcId} #[0-9a-f]{12}$`));
      expect(command.Comment?.length).toBeLessThanOrEqual(100);
    }
    const messages = Object.fromEntries(restart?.instances?.map((i) => [i.ec2InstanceId, i.message]) ?? []);
    expect(messages[windows.instanceId]).toContain('(method powershell)');
  });

  it('refuses a document whose pinned version is not this content; only the CLI falls back to the shell documents', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.43.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'tampered', network.subnetIds[0] ?? '', 1);
    const tampered = {
      ...(RESTART_DOCUMENT_CONTENT as Record<string, unknown>),
      description: 'anything goes',
    };
    const stack = await deployStack(acct, 'test', tampered);
    // The deployed reconciler: no shell, the restart fails with the reason, nothing is sent.
    const { results } = await applyWith(acct, fast(), guardedPool(acct, stackGuard(stack)));
    expect(restartResults(results)[0]?.outcome).toBe('failed');
    expect(restartResults(results)[0]?.message).toMatch(/is not this version's/);
    expect(await commands(acct)).toEqual([]);
    // The CLI (its operator's credentials): the AWS shell document instead.
    const notes: string[] = [];
    const pool = guardedPool(acct, stackGuard(stack, { shellFallback: true }));
    const plan = await planAccount({ regions: [acct.region], config: fast(), pool });
    await applyAccountPlan(plan, pool, (line) => notes.push(line), fast());
    expect(notes.some((n) => n.includes('falling back to the AWS shell documents'))).toBe(true);
    expect((await commands(acct)).map((c) => [c.DocumentName, c.InstanceIds])).toEqual([
      ['AWS-RunShellScript', [instances[0]?.instanceId]],
    ]);
  });

  it("the deployed reconciler's guard comes from its environment and never uses a shell; a Region without the document fails", async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.44.0.0/16', azs: ['a'] });
    await fleet(acct, 'envguard', network.subnetIds[0] ?? '', 1);
    const stack = await deployStack(acct);
    const guard = restartGuardFromEnvironment(
      {
        RESTART_DOCUMENT: 'ecs-endpoint-remediator-elsewhere-restart-agent-000000000000',
        TABLE_NAME: stack.tableName,
      },
      stack.dynamodb,
    );
    expect(guard?.shellFallback).toBe(false);
    expect(guard?.claims?.tableName).toBe(stack.tableName);
    expect(restartGuardFromEnvironment({ TABLE_NAME: stack.tableName })).toBeUndefined();
    const { results } = await applyWith(acct, fast(), guardedPool(acct, guard));
    expect(restartResults(results)[0]?.message).toMatch(
      /does not exist in us-east-1 \(deploy the stack there\)/,
    );
    expect(await commands(acct)).toEqual([]);
  });

  it('the CLI finds the deployed stack by its well-known names, and says when there is none', async () => {
    const bare = newAccount();
    const network = await createNetwork(bare, { cidr: '10.45.0.0/16', azs: ['a'] });
    await fleet(bare, 'cli', network.subnetIds[0] ?? '', 1);
    const pool = guardedPool(bare, undefined);
    const plan = await planAccount({ regions: [bare.region], config: fast(), pool });
    const [none] = await prepareRestarts(plan, pool);
    expect(none?.note).toMatch(/AWS-RunShellScript .* with your own credentials/);
    expect(none?.note).toMatch(/concurrent runs are not guarded/);
    expect(none?.guard.shellFallback).toBe(true);

    const deployed = newAccount();
    const net2 = await createNetwork(deployed, { cidr: '10.46.0.0/16', azs: ['a'] });
    await fleet(deployed, 'cli', net2.subnetIds[0] ?? '', 1);
    const stack = await deployStack(deployed, 'prod');
    const pool2 = guardedPool(deployed, undefined);
    const plan2 = await planAccount({ regions: [deployed.region], config: fast(), pool: pool2 });
    const [found] = await prepareRestarts(plan2, pool2);
    expect(found?.guard.documentName).toBe(restartDocumentName('prod'));
    expect(found?.guard.claims?.tableName).toBe(stack.tableName);
    expect(found?.note).toMatch(/concurrent runs are guarded/);
    await applyAccountPlan(plan2, pool2, undefined, fast());
    expect((await commands(deployed)).map((c) => c.DocumentName)).toEqual([stack.documentName]);
  });
});

describe('restarts exactly once', () => {
  it('three applies at once restart each agent once', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.50.0.0/16', azs: ['a'] });
    const { cluster, instances } = await fleet(acct, 'trio', network.subnetIds[0] ?? '', 4);
    const stack = await deployStack(acct);
    const config = fast({ waveSize: 2 });
    const runs = await Promise.all(
      [1, 2, 3].map(() => applyWith(acct, config, guardedPool(acct, stackGuard(stack)))),
    );
    const counts = await sendsPerInstance(acct);
    expect(instances.map((i) => counts.get(i.instanceId))).toEqual([1, 1, 1, 1]);
    expect(
      (
        await restartedAt(
          acct,
          cluster,
          instances.map((i) => i.containerInstanceArn),
        )
      ).every(Boolean),
    ).toBe(true);
    // Every run reports every instance: restarted (by it), or skipped with whose work it was.
    for (const { results } of runs) {
      for (const instance of restartResults(results).flatMap((r) => r.instances ?? [])) {
        if (instance.outcome !== 'restarted')
          expect(instance.message).toMatch(/another run|already restarted for this endpoint change/);
      }
    }
    const restartedBy = runs.map(
      ({ results }) =>
        restartResults(results)
          .flatMap((r) => r.instances ?? [])
          .filter((i) => i.outcome === 'restarted').length,
    );
    expect(restartedBy.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
    // The three runs agreed on one cutoff: one more apply owes nothing.
    const again = await applyWith(acct, config, guardedPool(acct, stackGuard(stack)));
    expect(again.plan.actions).toEqual([]);
  });

  it('a lost SendCommand response leads to no second restart', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.51.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'lost', network.subnetIds[0] ?? '', 2);
    const stack = await deployStack(acct);
    const pool = guardedPool(acct, stackGuard(stack));
    // Client-level: moto always answers; a response lost after SSM ran the command (a dropped
    // connection, a timeout while reading) cannot be made there. The request goes through, then the
    // client sees a network error with no response.
    let lost = 0;
    sendCommandClient(pool.clientsFor(acct.region)).middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        lost += 1;
        if (lost === 1)
          throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
        return out;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'loseFirstResponse' },
    );
    const { results } = await applyWith(acct, fast(), pool);
    expect(lost).toBe(1);
    const counts = await sendsPerInstance(acct);
    expect(instances.map((i) => counts.get(i.instanceId))).toEqual([1, 1]);
    expect(restartResults(results)[0]?.outcome).toBe('succeeded');
    const calls = pool.apiCalls().byOperation;
    expect(calls['ssm:SendCommand']).toBe(1);
    expect(calls['ssm:ListCommands']).toBeGreaterThanOrEqual(1);
  });

  it('a crash between SendCommand and the restart record: the re-run verifies the restart and sends nothing', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.52.0.0/16', azs: ['a'] });
    const { cluster, instances } = await fleet(acct, 'crash', network.subnetIds[0] ?? '', 1);
    const stack = await deployStack(acct);
    const child = await run(process.execPath, ['test/aws/restart-crash.fixture.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...acct.env,
        EER_TABLE: stack.tableName,
        EER_DOCUMENT: stack.documentName,
        EER_CONFIG: JSON.stringify({ agentRestart: { waitSeconds: 2, verifySeconds: 1 } }),
      },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: unknown) => {
        const failed = error as { code?: number; stdout?: string };
        return { code: failed.code, stdout: failed.stdout ?? '' };
      },
    );
    expect(child).toMatchObject({ code: 75, stdout: 'SENT\n' });
    expect(await commands(acct)).toHaveLength(1);
    expect(await restartedAt(acct, cluster, [instances[0]?.containerInstanceArn ?? ''])).toEqual([undefined]);

    const { results } = await applyWith(acct, fast(), guardedPool(acct, stackGuard(stack)));
    const [restart] = restartResults(results);
    expect(restart?.outcome).toBe('succeeded');
    expect(restart?.instances?.[0]?.message).toMatch(/verified the restart of an earlier run's command/);
    expect(await commands(acct)).toHaveLength(1);
    expect((await restartedAt(acct, cluster, [instances[0]?.containerInstanceArn ?? '']))[0]).toBeDefined();
  });

  it('an instance whose command always fails holds back only its own cluster, and goes last next run', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.53.0.0/16', azs: ['a'] });
    const subnetId = network.subnetIds[0] ?? '';
    const alpha = await fleet(acct, 'alpha', subnetId, 3);
    const beta = await fleet(acct, 'beta', subnetId, 2);
    const [broken, ...healthy] = alpha.instances;
    if (!broken) throw new Error('three instances expected');
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [broken.instanceId],
        Tags: [{ Key: 'eer-test:command', Value: 'fail' }],
      }),
    );
    const stack = await deployStack(acct);
    const config = fast({ waveSize: 1 });
    const byCluster = (results: readonly ActionResult[], name: string) =>
      restartResults(results).find((r) => r.actionId.endsWith(`/${name}`));

    const first = await applyWith(acct, config, guardedPool(acct, stackGuard(stack)));
    expect(byCluster(first.results, 'alpha')?.instances?.map((i) => [i.ec2InstanceId, i.outcome])).toEqual([
      [broken.instanceId, 'failed'],
      [healthy[0]?.instanceId, 'skipped'],
      [healthy[1]?.instanceId, 'skipped'],
    ]);
    expect(byCluster(first.results, 'beta')?.outcome).toBe('succeeded');

    const second = await applyWith(acct, config, guardedPool(acct, stackGuard(stack)));
    expect(byCluster(second.results, 'alpha')?.instances?.map((i) => [i.ec2InstanceId, i.outcome])).toEqual([
      [healthy[0]?.instanceId, 'restarted'],
      [healthy[1]?.instanceId, 'restarted'],
      [broken.instanceId, 'failed'],
    ]);
    expect(
      beta.instances.map((i) =>
        second.plan.findings.some((f) => f.resourceId === i.instanceId) ? 'owes' : 'done',
      ),
    ).toEqual(['done', 'done']);
  });

  it('per-instance outcomes reach the report when an error stops the rollout midway; the next run resumes', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.54.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'midway', network.subnetIds[0] ?? '', 3);
    const stack = await deployStack(acct);
    const pool = guardedPool(acct, stackGuard(stack));
    // Client-level: moto cannot be told to fail one call at a chosen moment of a run. The second
    // wave's PutAttributes (the restart record) fails as an ECS outage would.
    let records = 0;
    pool.clientsFor(acct.region).ecs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutAttributesCommand' && ++records === 2)
          throw Object.assign(new Error('ECS is unavailable'), { name: 'ServerException' });
        return next(args);
      },
      { step: 'initialize', name: 'failSecondRecord' },
    );
    const { results } = await applyWith(acct, fast({ waveSize: 1 }), pool);
    const restart = restartResults(results)[0];
    expect(restart?.outcome).toBe('failed');
    expect(restart?.instances?.map((i) => i.outcome)).toEqual(['restarted', 'failed', 'skipped']);
    expect(restart?.instances?.[1]?.message).toMatch(
      /stopped by an error: ServerException: ECS is unavailable/,
    );
    expect(restart?.instances?.[2]?.message).toMatch(/not attempted: the rollout stopped by an error/);

    // The second instance was restarted but not recorded: verified next run, not restarted again.
    const next = await applyWith(acct, fast({ waveSize: 1 }), guardedPool(acct, stackGuard(stack)));
    const resumed = restartResults(next.results)[0];
    expect(resumed?.instances?.map((i) => i.ec2InstanceId)).toEqual(
      instances.slice(1).map((i) => i.instanceId),
    );
    expect(resumed?.instances?.[0]?.message).toMatch(/verified the restart of an earlier run's command/);
    const counts = await sendsPerInstance(acct);
    expect(instances.map((i) => counts.get(i.instanceId))).toEqual([1, 1, 1]);
  });
});

describe('concurrent endpoint creates', () => {
  it('an endpoint another run created first (replayed client token, or IdempotentParameterMismatch) is already satisfied', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.55.0.0/16', azs: ['a'] });
    await fleet(acct, 'race', network.subnetIds[0] ?? '', 1);
    const config = parseConfig({ agentRestart: { enabled: false } });
    const pool = guardedPool(acct, undefined);
    const plan = await planAccount({ regions: [acct.region], config, pool });
    const creates = new Map(
      plan.actions
        .filter((a): a is CreateEndpointAction & { accountId: string; status: 'planned' } => a.kind === 'CREATE_ENDPOINT')
        .map((a) => [a.service as string, a]),
    );
    const replayed = creates.get('ecs-agent');
    const mismatched = creates.get('ecs-telemetry');
    if (!replayed || !mismatched) throw new Error('ECS endpoints expected in the plan');
    // Client-level: the race (another apply creates the endpoint between this one's check and its
    // create) has no moto trigger. Right after the check finds nothing, "the other run" creates it:
    // with the same token and parameters (AWS replays the token), or, for the second, with another
    // token while the token is used with other parameters (moto's P1 compares VPC, service and type,
    // AWS every parameter: either way AWS answers IdempotentParameterMismatch).
    const groupOf = async () =>
      (
        await acct.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [network.vpcId] },
              { Name: 'tag:ecs-endpoint-remediator/managed', Values: ['true'] },
            ],
          }),
        )
      ).SecurityGroups?.[0]?.GroupId ?? '';
    const competing = async (action: CreateEndpointAction, token: string, service = action.serviceName) =>
      acct.ec2.send(
        new CreateVpcEndpointCommand({
          VpcEndpointType: 'Interface',
          VpcId: action.vpcId,
          ServiceName: service,
          ClientToken: token,
          SubnetIds: [...action.subnetIds],
          SecurityGroupIds: [await groupOf()],
          PrivateDnsEnabled: service === action.serviceName,
          TagSpecifications: [
            {
              ResourceType: 'vpc-endpoint',
              Tags: Object.entries(action.tags).map(([Key, Value]) => ({ Key, Value })),
            },
          ],
        }),
      );
    const raced = new Set<string>();
    pool.clientsFor(acct.region).ec2.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const input = args.input as DescribeVpcEndpointsCommandInput;
        const service = input.Filters?.find((f) => f.Name === 'service-name')?.Values?.[0];
        const typed = input.Filters?.some((f) => f.Name === 'vpc-endpoint-type');
        if (
          context.commandName === 'DescribeVpcEndpointsCommand' &&
          typed &&
          service &&
          !raced.has(service)
        ) {
          raced.add(service);
          if (service === replayed.serviceName) {
            await competing(replayed, replayed.clientToken);
            // Older than the replay margin of aws/apply.ts (creation times may be in whole seconds).
            await new Promise((resolve) => setTimeout(resolve, 2100));
          }
          if (service === mismatched.serviceName) {
            await competing(mismatched, `other-${mismatched.clientToken}`);
            await competing(mismatched, mismatched.clientToken, `com.amazonaws.${acct.region}.logs`);
          }
        }
        return out;
      },
      { step: 'initialize', name: 'raceCreates' },
    );
    const results = await applyAccountPlan(plan, pool, undefined, config);
    const resultOf = (id: string) => results.find((r) => r.actionId === id);
    expect(resultOf(replayed.id)).toMatchObject({
      outcome: 'already-satisfied',
      message: expect.stringMatching(/created by another run \(its client token was replayed\)/) as unknown,
    });
    expect(resultOf(mismatched.id)).toMatchObject({
      outcome: 'already-satisfied',
      message: expect.stringMatching(/IdempotentParameterMismatch/) as unknown,
    });
  });
});
