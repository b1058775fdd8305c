// Agent restarts that do not block: the deployed reconciler, through its real handler code against
// moto, cuts each restart into steps; a restart whose command is still running when the step ends is
// continued by a delayed message to its own events queue, and each later delivery resumes it from its
// claim in the state table. Commands take time here as on AWS (test/harness/moto_ssm.py S8:
// eer-test:command-seconds keeps an invocation InProgress that long).
import { CreateTagsCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  CreateDocumentCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
} from '@aws-sdk/client-ssm';
import type { Command } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import type { BatchDeps, BatchSummary } from '../../aws/event-batch.ts';
import type { OutgoingMessage } from '../../aws/event-queue.ts';
import { RESTART_DOCUMENT_CONTENT, restartDocumentName } from '../../aws/restart-document.ts';
import { bindRestartGuard, restartGuardFromEnvironment } from '../../aws/restart-guard.ts';
import { parseEventBody } from '../../core/events.ts';
import type { ActionResult } from '../../core/report.ts';
import { RESTARTED_AT_ATTRIBUTE } from '../../core/restarts.ts';
import { reconcileSqsBatch, runReconcile } from '../../handlers/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import type { ContainerInstance } from '../harness/seed.ts';
import { addContainerInstance, createCluster, createNetwork } from '../harness/seed.ts';
import type { Stack } from './stack.ts';
import { createStack, depsFor, drainAlerts, sampleText, sqsEvent, withEventId } from './stack.ts';

/** A private VPC (no egress) with `count` container instances whose restart commands take `seconds`. */
async function fleet(acct: Account, cidr: string, count: number, seconds: number) {
  const network = await createNetwork(acct, { cidr, azs: ['a'] });
  const cluster = await createCluster(acct, 'steps');
  const instances: ContainerInstance[] = [];
  for (let n = 0; n < count; n += 1)
    instances.push(await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' }));
  await acct.ec2.send(
    new CreateTagsCommand({
      Resources: instances.map((i) => i.instanceId),
      Tags: [{ Key: 'eer-test:command-seconds', Value: String(seconds) }],
    }),
  );
  instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  return { vpcId: network.vpcId, cluster, instances };
}

interface Deployed {
  readonly stack: Stack;
  readonly dynamodb: DynamoDBClient;
  readonly deps: BatchDeps;
  /** Every message the reconciler sent to its events queue (and sent on to it). */
  readonly requeued: OutgoingMessage[];
}

/**
 * The stack in enforce mode, with its restart document, and the reconciler's dependencies: restarts
 * guarded as the deployed function's are (its RESTART_DOCUMENT and TABLE_NAME), steps of 1 s.
 */
async function deploy(acct: Account): Promise<Deployed> {
  const stack = await createStack(acct, 'enforce');
  const documentName = restartDocumentName('test');
  await acct.ssm.send(
    new CreateDocumentCommand({
      Name: documentName,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: JSON.stringify(RESTART_DOCUMENT_CONTENT),
    }),
  );
  const dynamodb = new DynamoDBClient({
    endpoint: acct.endpoint,
    region: acct.region,
    credentials: acct.credentials,
  });
  const base = depsFor(acct, stack, { restartStepSeconds: 1 });
  const guard = restartGuardFromEnvironment(
    { RESTART_DOCUMENT: documentName, TABLE_NAME: stack.tableName, AWS_REGION: acct.region },
    dynamodb,
  );
  if (!guard) throw new Error('the deployed guard expected');
  bindRestartGuard(base.pool.clientsFor(acct.region), guard);
  const requeued: OutgoingMessage[] = [];
  const queues = base.queues;
  if (!queues) throw new Error('queues expected');
  const deps: BatchDeps = {
    ...base,
    queues: {
      deadLetter: (messages) => queues.deadLetter(messages),
      requeue: (messages) => {
        requeued.push(...messages);
        return queues.requeue(messages);
      },
    },
  };
  return { stack, dynamodb, deps, requeued };
}

/** One delivery of `bodies` to the handler, as Lambda's poller makes it. */
async function deliver(
  acct: Account,
  deps: BatchDeps,
  bodies: string[],
  ids: string[],
): Promise<BatchSummary> {
  return (await reconcileSqsBatch(sqsEvent(bodies, acct, ids), deps)).summary;
}

const restartResults = (summary: BatchSummary): ActionResult[] =>
  summary.outcomes.flatMap((o) => o.results ?? []).filter((r) => r.kind === 'RESTART_AGENT');

const outcomesOf = (summary: BatchSummary) =>
  restartResults(summary)
    .flatMap((r) => r.instances ?? [])
    .map((i) => [i.ec2InstanceId, i.outcome]);

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

/** How many SendCommand each instance was sent. */
async function sendsPerInstance(acct: Account, instances: readonly ContainerInstance[]): Promise<number[]> {
  const counts = new Map<string, number>();
  for (const command of await commands(acct))
    for (const id of command.InstanceIds ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
  return instances.map((i) => counts.get(i.instanceId) ?? 0);
}

/** Until every invocation of the account's commands has ended (S8: after its command-seconds). */
async function commandsEnded(acct: Account): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const statuses: string[] = [];
    for (const command of await commands(acct)) {
      const out = await acct.ssm.send(new ListCommandInvocationsCommand({ CommandId: command.CommandId }));
      statuses.push(...(out.CommandInvocations ?? []).map((i) => i.Status ?? ''));
    }
    if (statuses.every((status) => status !== 'InProgress')) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('commands still running');
}

/** The restart claims in the state table, by instance id. */
async function claims(deployed: Deployed): Promise<Map<string, Record<string, AttributeValue>>> {
  const out = await deployed.dynamodb.send(new ScanCommand({ TableName: deployed.stack.tableName }));
  const items = (out.Items ?? []).filter((item) => item.sk?.S?.startsWith('CLAIM#'));
  return new Map(items.map((item) => [item.instanceId?.S ?? '', item]));
}

async function restartedAt(acct: Account, cluster: string, instances: readonly ContainerInstance[]) {
  const out = await acct.ecs.send(
    new DescribeContainerInstancesCommand({
      cluster,
      containerInstances: instances.map((i) => i.containerInstanceArn),
    }),
  );
  return instances.map(
    (i) =>
      out.containerInstances
        ?.find((ci) => ci.containerInstanceArn === i.containerInstanceArn)
        ?.attributes?.find((a) => a.name === RESTARTED_AT_ATTRIBUTE)?.value,
  );
}

async function delayedInQueue(stack: Stack): Promise<{ visible: number; delayed: number }> {
  const out = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.eventsQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? '0'),
    delayed: Number(out.Attributes?.ApproximateNumberOfMessagesDelayed ?? '0'),
  };
}

describe('agent restarts across invocations (steps and continuations)', () => {
  it('a restart spanning several invocations restarts each agent once', async () => {
    const acct = newAccount();
    // Two instances: waves of one (the default wavePercent 25 of a cluster of two), 2 s commands.
    const { vpcId, cluster, instances } = await fleet(acct, '10.61.0.0/16', 2, 2);
    const [first, second] = instances;
    if (!first || !second) throw new Error('two instances expected');
    const deployed = await deploy(acct);
    const { deps, requeued, stack } = deployed;

    // 1. The sweep: endpoints created, the first wave's command sent, still running when the step ends.
    const one = await deliver(acct, deps, [sampleText('scheduled-sweep')], ['sweep-1']);
    expect(one.messages.map((m) => m.status)).toEqual(['processed']);
    expect(outcomesOf(one)).toEqual([
      [first.instanceId, 'skipped'],
      [second.instanceId, 'skipped'],
    ]);
    const [restart] = restartResults(one);
    expect(restart?.outcome).toBe('skipped');
    expect(restart?.instances?.[0]?.message).toMatch(
      /^under way, continued by a later invocation: SSM command .* is InProgress/,
    );
    expect(restart?.instances?.[1]?.message).toMatch(/^under way, .*: waits for wave 1/);
    expect(restart?.continueAfterSeconds).toBeGreaterThan(0);
    expect(await sendsPerInstance(acct, instances)).toEqual([1, 0]);
    expect((await claims(deployed)).get(first.instanceId)?.status?.S).toBe('sent');

    // The continuation: one delayed message for the VPC, in the events queue, read as a hint for it.
    expect(one.continuations).toEqual([
      expect.objectContaining({ region: acct.region, vpcId, delaySeconds: restart?.continueAfterSeconds }),
    ]);
    expect(requeued).toHaveLength(1);
    const continuation = requeued[0];
    expect(continuation?.delaySeconds).toBeGreaterThan(0);
    expect(await delayedInQueue(stack)).toEqual({ visible: 0, delayed: 1 });
    const hint = parseEventBody(continuation?.body ?? '');
    expect(hint).toMatchObject({
      status: 'hint',
      hint: {
        trigger: 'remediator:RestartContinuation',
        scope: { kind: 'targets', region: acct.region, targets: { vpcIds: [vpcId] } },
      },
    });

    // 2. Delivered once the command ended: the first wave verified and recorded, the second sent.
    await commandsEnded(acct);
    const two = await deliver(acct, deps, [continuation?.body ?? ''], ['continuation-1']);
    expect(two.messages.map((m) => m.status)).toEqual(['processed']);
    expect(outcomesOf(two)).toEqual([
      [first.instanceId, 'restarted'],
      [second.instanceId, 'skipped'],
    ]);
    expect(restartResults(two)[0]?.instances?.[0]?.message).toMatch(
      /verified the restart of an earlier run's command/,
    );
    expect(await sendsPerInstance(acct, instances)).toEqual([1, 1]);
    expect(requeued).toHaveLength(2);
    const next = requeued[1];
    // Each continuation is an occurrence of its own.
    const eventId = (body: string | undefined) => (JSON.parse(body ?? '{}') as { id?: string }).id;
    expect(eventId(next?.body)).not.toBe(eventId(continuation?.body));

    // 3. The second wave, verified: no more continuation.
    await commandsEnded(acct);
    const three = await deliver(acct, deps, [next?.body ?? ''], ['continuation-2']);
    expect(outcomesOf(three)).toEqual([[second.instanceId, 'restarted']]);
    expect(three.continuations).toEqual([]);
    expect(requeued).toHaveLength(2);

    // 4. A third delivery changes nothing: the same continuation again (a duplicate), and a new one.
    const again = await deliver(
      acct,
      deps,
      [next?.body ?? '', withEventId(next?.body ?? '', 'one-more')],
      ['continuation-2-again', 'continuation-3'],
    );
    expect(again.messages.map((m) => m.status)).toEqual(['ignored', 'processed']);
    expect(restartResults(again)).toEqual([]);
    expect(again.continuations).toEqual([]);

    expect(await sendsPerInstance(acct, instances)).toEqual([1, 1]);
    const table = await claims(deployed);
    expect(instances.map((i) => table.get(i.instanceId)?.status?.S)).toEqual(['done', 'done']);
    expect((await restartedAt(acct, cluster, instances)).every(Boolean)).toBe(true);
    const alerts = await drainAlerts(stack);
    expect(alerts.some((a) => a.content.title.includes('failed'))).toBe(false);
  });

  it('endpoints still pending when the step ends: a later invocation restarts once they are available', async () => {
    const acct = newAccount();
    // Commands finish at once; the endpoints the sweep creates stay pending (moto patch P16) until
    // the test lets their time pass by lowering the VPC's tag.
    const { vpcId, instances } = await fleet(acct, '10.65.0.0/16', 1, 0);
    const pendingFor = (seconds: number) =>
      acct.ec2.send(
        new CreateTagsCommand({
          Resources: [vpcId],
          Tags: [{ Key: 'eer-test:endpoint-pending-seconds', Value: String(seconds) }],
        }),
      );
    await pendingFor(3600);
    const deployed = await deploy(acct);
    const { deps, requeued } = deployed;

    // 1. The sweep creates the endpoints; they are pending when the step ends: nothing sent, and
    //    the restart continues by a delayed message for the VPC.
    const one = await deliver(acct, deps, [sampleText('scheduled-sweep')], ['sweep-1']);
    expect(one.messages.map((m) => m.status)).toEqual(['processed']);
    const [waiting] = restartResults(one);
    expect(waiting?.outcome).toBe('skipped');
    expect(waiting?.message).toMatch(/the ECS endpoints are not available yet; a later invocation continues/);
    expect(waiting?.continueAfterSeconds).toBeGreaterThan(0);
    expect(one.continuations).toEqual([expect.objectContaining({ region: acct.region, vpcId })]);
    expect(requeued).toHaveLength(1);
    expect(await sendsPerInstance(acct, instances)).toEqual([0]);
    expect(await claims(deployed)).toEqual(new Map());

    // 2. Delivered once they are available: the agent restarted and verified in that invocation.
    const endpointsPending = async () =>
      (
        await acct.ec2.send(
          new DescribeVpcEndpointsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [vpcId] },
              { Name: 'vpc-endpoint-state', Values: ['pending'] },
            ],
          }),
        )
      ).VpcEndpoints?.length ?? 0;
    expect(await endpointsPending()).toBeGreaterThan(0);
    await pendingFor(0);
    expect(await endpointsPending()).toBe(0);
    const two = await deliver(acct, deps, [requeued[0]?.body ?? ''], ['continuation-1']);
    expect(outcomesOf(two)).toEqual([[instances[0]?.instanceId, 'restarted']]);
    expect(two.continuations).toEqual([]);
    expect(await sendsPerInstance(acct, instances)).toEqual([1]);

    // 3. The continuation delivered again (SQS at least once) and the next sweep restart nothing more.
    const again = await deliver(
      acct,
      deps,
      [requeued[0]?.body ?? '', withEventId(sampleText('scheduled-sweep'), 'sweep-2')],
      ['continuation-1-again', 'sweep-2'],
    );
    expect(again.messages.map((m) => m.status)).toEqual(['ignored', 'processed']);
    // The sweep still sees agents registered before the cutoff; their claims answer for them.
    expect(
      restartResults(again)
        .flatMap((r) => r.instances ?? [])
        .map((i) => [i.outcome, i.message]),
    ).toEqual([['skipped', expect.stringMatching(/^already restarted for this endpoint change/)]]);
    expect(await sendsPerInstance(acct, instances)).toEqual([1]);
    expect((await claims(deployed)).get(instances[0]?.instanceId ?? '')?.status?.S).toBe('done');
  });

  it('a command that never finishes is failed once its time is up, and no further continuation is sent', async () => {
    const acct = newAccount();
    const { instances } = await fleet(acct, '10.62.0.0/16', 1, 86_400);
    const [only] = instances;
    if (!only) throw new Error('one instance expected');
    const deployed = await deploy(acct);
    const { deps, requeued, stack } = deployed;

    const one = await deliver(acct, deps, [sampleText('scheduled-sweep')], ['sweep-1']);
    expect(outcomesOf(one)).toEqual([[only.instanceId, 'skipped']]);
    expect(requeued).toHaveLength(1);
    await drainAlerts(stack);

    // Within its time a continuation keeps it under way (the command is still running)...
    const two = await deliver(acct, deps, [requeued[0]?.body ?? ''], ['continuation-1']);
    expect(outcomesOf(two)).toEqual([[only.instanceId, 'skipped']]);
    expect(requeued).toHaveLength(2);

    // ...until its claim is older than commandTimeoutSeconds + 30 s (time passing, as the record
    // shows it: the claim was made ten minutes ago).
    const claim = (await claims(deployed)).get(only.instanceId);
    await deployed.dynamodb.send(
      new UpdateItemCommand({
        TableName: stack.tableName,
        Key: { pk: claim?.pk ?? { S: '' }, sk: claim?.sk ?? { S: '' } },
        UpdateExpression: 'SET claimedAt = :then',
        ExpressionAttributeValues: { ':then': { S: new Date(Date.now() - 600_000).toISOString() } },
      }),
    );
    const three = await deliver(acct, deps, [requeued[1]?.body ?? ''], ['continuation-2']);
    const [restart] = restartResults(three);
    expect(restart?.outcome).toBe('failed');
    expect(restart?.instances?.[0]).toMatchObject({
      ec2InstanceId: only.instanceId,
      outcome: 'failed',
      message: expect.stringMatching(
        /^command InProgress: not finished within 330 s of its claim/,
      ) as unknown,
    });
    expect(restart?.continueAfterSeconds).toBeUndefined();
    expect(three.continuations).toEqual([]);
    expect(requeued).toHaveLength(2);
    expect((await claims(deployed)).get(only.instanceId)?.status?.S).toBe('failed');
    expect(await sendsPerInstance(acct, instances)).toEqual([1]);
    // The failure is alerted.
    const alerts = await drainAlerts(stack);
    expect(alerts.map((a) => a.content.title).join(' ')).toMatch(/fail/i);
  });

  it('one chain of continuations per VPC: another event meanwhile reconciles it but sends none', async () => {
    const acct = newAccount();
    const { vpcId, instances } = await fleet(acct, '10.64.0.0/16', 1, 86_400);
    const deployed = await deploy(acct);
    const logs: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const deps: BatchDeps = {
      ...deployed.deps,
      log: (message, fields) => {
        logs.push({ message, fields });
      },
    };
    const { requeued } = deployed;
    await deliver(acct, deps, [sampleText('scheduled-sweep')], ['sweep-1']);
    expect(requeued).toHaveLength(1);

    // An agent's state change, a CloudTrail call, the next sweep: the restart is still under way and
    // its continuation on its way, so none is added.
    const other = await deliver(
      acct,
      deps,
      [withEventId(sampleText('scheduled-sweep'), 'sweep-2')],
      ['sweep-2'],
    );
    expect(outcomesOf(other)).toEqual([[instances[0]?.instanceId, 'skipped']]);
    expect(other.continuations).toEqual([]);
    expect(requeued).toHaveLength(1);
    expect(logs.find((l) => l.message.includes('continuation is on its way already'))?.fields).toMatchObject({
      vpcId,
      continuation: (JSON.parse(requeued[0]?.body ?? '{}') as { id?: string }).id,
    });

    // The continuation itself, delivered, sends the next one.
    const next = await deliver(acct, deps, [requeued[0]?.body ?? ''], ['continuation-1']);
    expect(next.continuations).toHaveLength(1);
    expect(requeued).toHaveLength(2);
  });

  it('a direct invocation (no queue) sends no continuation and logs that the sweep continues', async () => {
    const acct = newAccount();
    const { vpcId, instances } = await fleet(acct, '10.63.0.0/16', 1, 86_400);
    const deployed = await deploy(acct);
    const logs: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const deps: BatchDeps = {
      ...deployed.deps,
      log: (message, fields) => {
        logs.push({ message, fields });
      },
    };
    const summary = (await runReconcile(
      JSON.parse(sampleText('scheduled-sweep')) as Record<string, unknown>,
      deps,
    )) as BatchSummary;
    expect(outcomesOf(summary)).toEqual([[instances[0]?.instanceId, 'skipped']]);
    expect(summary.continuations).toEqual([]);
    expect(deployed.requeued).toEqual([]);
    expect(logs.find((l) => l.message.startsWith('restarts under way: no queue'))?.fields).toEqual({
      restarts: [{ region: acct.region, vpcId, delaySeconds: expect.any(Number) as unknown }],
    });
  });
});
