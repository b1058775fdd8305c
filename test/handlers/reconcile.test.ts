// The deployed reconciler, through its real handler code, against moto: events (the events/ samples,
// with the account's ids) in, the VPC re-read and repaired, alerts out through SNS to a subscribed SQS
// queue in the Chatbot format, state in DynamoDB.
import { DescribeRouteTablesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { BatchSummary } from '../../aws/event-batch.ts';
import { TerminalError } from '../../core/errors.ts';
import { STATE_TABLE_KEY_SCHEMA, createStateStore } from '../../aws/state.ts';
import { reconcileSqsBatch, runReconcile, withAccountId } from '../../handlers/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { motoEndpoint, newAccount } from '../harness/aws.ts';
import { proxiedAccount, startFaultProxy } from '../harness/fault-proxy.ts';
import {
  createCluster,
  createEndpoint,
  createNetwork,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import type { EcsVpc, Stack } from './stack.ts';
import {
  attributeOf,
  converge,
  createStack,
  deleteEndpoint,
  ecsVpc,
  endpointOf,
  liveEndpoints,
  depsFor,
  drainAlerts,
  drainQueue,
  openFindingItems,
  pollOnce,
  sampleText,
  sqsEvent,
  storeOpenFindingsInSchema1Shape,
  withEventId,
} from './stack.ts';

async function ready(mode: 'report' | 'enforce' = 'enforce', acct = newAccount()) {
  const vpc = await ecsVpc(acct);
  await converge(acct);
  const stack = await createStack(acct, mode);
  return { acct, vpc, stack };
}

function direct(deps: ReturnType<typeof depsFor>, text: string): Promise<BatchSummary> {
  return runReconcile(JSON.parse(text) as Record<string, unknown>, deps) as Promise<BatchSummary>;
}

function batch(deps: ReturnType<typeof depsFor>, acct: Account, bodies: string[]): Promise<SQSBatchResponse> {
  return runReconcile(sqsEvent(bodies, acct), deps) as Promise<SQSBatchResponse>;
}

async function stackAlerts(stack: Stack) {
  return drainAlerts(stack);
}

describe('a CloudTrail DeleteVpcEndpoints event for an ECS endpoint', () => {
  it('leads to the endpoint being recreated and one well-formed Chatbot alert', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeUndefined();

    const deps = depsFor(acct, stack);
    const response = await batch(deps, acct, [
      sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
    ]);

    expect(response.batchItemFailures).toEqual([]);
    const recreated = await endpointOf(acct, vpc.vpcId, 'ecs-agent');
    expect(recreated?.VpcEndpointId).toBeDefined();
    expect(recreated?.VpcEndpointId).not.toBe(deleted);
    expect(recreated?.PrivateDnsEnabled).toBe(true);
    expect(recreated?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'ecs-endpoint-remediator/managed', Value: 'true' }]),
    );

    const alerts = await stackAlerts(stack);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown' },
      metadata: {
        threadId: `ecs-endpoint-remediator/${acct.region}/${vpc.vpcId}`,
        eventType: 'drift-fixed',
        additionalContext: {
          region: acct.region,
          vpcId: vpc.vpcId,
          mode: 'enforce',
          accountId: acct.accountId,
        },
      },
    });
    expect(alert?.content.title).toContain(vpc.vpcId);
    expect(alert?.content.title).toMatch(/fixed/);
    expect(alert?.content.description).toContain('ENDPOINT_MISSING');
    expect(alert?.content.description).toContain(recreated?.VpcEndpointId ?? '?');
    expect(alert?.content.keywords).toEqual(expect.arrayContaining(['ENDPOINT_MISSING', vpc.vpcId]));
    expect(alert?.metadata?.relatedResources).toEqual(
      expect.arrayContaining([vpc.vpcId, recreated?.VpcEndpointId]),
    );
    // Fixed in the same run: nothing remembered as open.
    const reconciled = deps.logs.find((l) => l.message === 'region reconciled')?.fields;
    expect(reconciled).toMatchObject({ region: acct.region, vpcIds: [vpc.vpcId] });
    // The run's own EC2/ECS/SSM calls, reads and the create alike.
    expect(reconciled?.apiCalls).toBeGreaterThan(5);
  });
});

describe('every events/ sample', () => {
  // What each sample must lead to: the VPC it names (resolved from endpoint, group or subnet ids),
  // the whole Region (work whose VPC the event does not name), or nothing (a failed call).
  const expected: Array<[string, 'vpc' | 'region' | 'ignored']> = [
    ['ec2-create-vpc-endpoint', 'vpc'],
    ['ec2-delete-vpc-endpoints', 'vpc'],
    ['ec2-delete-vpc-endpoints-several', 'vpc'],
    ['ec2-delete-vpc-endpoints-failed', 'ignored'],
    ['ec2-modify-vpc-endpoint', 'vpc'],
    ['ec2-revoke-security-group-ingress', 'vpc'],
    ['ec2-modify-security-group-rules', 'vpc'],
    ['ec2-modify-vpc-attribute', 'vpc'],
    ['ecs-create-service', 'vpc'],
    ['ecs-update-service', 'region'],
    ['ecs-run-task', 'vpc'],
    ['ecs-start-task', 'region'],
    ['ecs-register-container-instance', 'region'],
    ['ecs-container-instance-state-change', 'vpc'],
    ['scheduled-sweep', 'region'],
  ];

  it('reconciles what it names: the drift made before it is repaired, once, with one alert', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const group = (await liveEndpoints(acct, vpc.vpcId)).find((e) => e.VpcEndpointType === 'Interface')
      ?.Groups?.[0]?.GroupId;
    let drift = false;
    for (const [name, effect] of expected) {
      // Each event follows a drift: the ecs-agent endpoint deleted (a failed call leaves it deleted).
      const deleted = drift ? '' : await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
      const other = (await endpointOf(acct, vpc.vpcId, 'logs'))?.VpcEndpointId ?? '';
      const text = sampleText(name, {
        account: acct.accountId,
        vpcId: vpc.vpcId,
        endpointId: deleted || other,
        endpointId2: other,
        groupId: group ?? '',
        subnetId1: vpc.subnetIds[0] ?? '',
        subnetId2: vpc.subnetIds[1] ?? '',
        instanceId: vpc.instanceId,
      });
      const summary = await direct(deps, text);
      const outcome = summary.outcomes[0];
      if (effect === 'ignored') {
        expect(summary.ignored, name).toBe(1);
        expect(summary.outcomes, name).toEqual([]);
        expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent'), name).toBeUndefined();
        expect(await stackAlerts(stack), name).toEqual([]);
        drift = true;
        continue;
      }
      drift = false;
      expect(outcome?.vpcIds, name).toEqual(effect === 'vpc' ? [vpc.vpcId] : undefined);
      expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent'), name).toBeDefined();
      const alerts = await stackAlerts(stack);
      expect(
        alerts.map((a) => a.metadata?.eventType),
        name,
      ).toEqual(['drift-fixed']);
      expect(
        (await liveEndpoints(acct, vpc.vpcId)).filter((e) => e.ServiceName?.endsWith('.ecs-agent')),
        name,
      ).toHaveLength(1);
    }
  });
});

describe('duplicates, order and bursts', () => {
  it('a duplicate delivery (same CloudTrail event id) is reconciled once and alerted once', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const text = sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId });

    expect((await batch(deps, acct, [text, text])).batchItemFailures).toEqual([]);
    expect(await stackAlerts(stack)).toHaveLength(1);
    // A redelivery after the batch completed: recognised by its idempotency record, nothing re-read.
    const again = await direct(deps, text);
    expect(again.duplicates).toBe(1);
    expect(again.outcomes).toEqual([]);
    expect(await stackAlerts(stack)).toEqual([]);
    expect(
      (await liveEndpoints(acct, vpc.vpcId)).filter((e) => e.ServiceName?.endsWith('.ecs-agent')),
    ).toHaveLength(1);
  });

  it('an older event arriving after a newer one changes nothing: the truth is re-read, not the event', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    await batch(deps, acct, [
      sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
    ]);
    expect(await stackAlerts(stack)).toHaveLength(1);
    const before = (await liveEndpoints(acct, vpc.vpcId)).map((e) => e.VpcEndpointId).sort();

    // The CreateVpcEndpoint of the endpoint that was deleted later (10:02 < 10:15), delivered late.
    const stale = sampleText('ec2-create-vpc-endpoint', {
      vpcId: vpc.vpcId,
      endpointId: deleted,
      account: acct.accountId,
    });
    const response = await batch(deps, acct, [stale]);

    expect(response.batchItemFailures).toEqual([]);
    expect((await liveEndpoints(acct, vpc.vpcId)).map((e) => e.VpcEndpointId).sort()).toEqual(before);
    expect(await stackAlerts(stack)).toEqual([]);
  });

  it('a burst of events for one VPC becomes one reconcile of it and one alert', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const agent = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const telemetry = await deleteEndpoint(acct, vpc.vpcId, 'ecs-telemetry');
    const bodies: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const name =
        i % 3 === 0
          ? 'ec2-delete-vpc-endpoints-several'
          : i % 3 === 1
            ? 'ec2-modify-vpc-attribute'
            : 'ecs-container-instance-state-change';
      const text = sampleText(name, {
        endpointId: agent,
        endpointId2: telemetry,
        vpcId: vpc.vpcId,
        account: acct.accountId,
      });
      bodies.push(withEventId(text, `burst-${i}`));
    }

    const response = await batch(deps, acct, bodies);

    expect(response.batchItemFailures).toEqual([]);
    expect(deps.logs.filter((l) => l.message === 'region reconciled')).toHaveLength(1);
    expect(deps.logs.find((l) => l.message === 'region reconciled')?.fields).toMatchObject({
      events: 12,
      vpcIds: [vpc.vpcId],
    });
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-telemetry')).toBeDefined();
    const alerts = await stackAlerts(stack);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.metadata?.eventType).toBe('drift-fixed');
    expect(alerts[0]?.content.description).toMatch(
      /ecs-agent[\s\S]*ecs-telemetry|ecs-telemetry[\s\S]*ecs-agent/,
    );
  });
});

describe('events that must not change anything', () => {
  it('a malformed event goes to the dead-letter queue at once, with its reason and a clear log line; the rest of the batch goes on', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const good = sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId });
    const notJson = '{"detail-type": "AWS API Call via CloudTrail", ';
    const wrongShape = JSON.stringify({
      ...(JSON.parse(good) as Record<string, unknown>),
      detail: {
        eventSource: 'ec2.amazonaws.com',
        eventName: 'DeleteVpcEndpoints',
        requestParameters: { VpcEndpointId: deleted },
      },
    });

    const response = await batch(deps, acct, [notJson, good, wrongShape]);

    expect(response.batchItemFailures).toEqual([]);
    const malformed = deps.logs.filter((l) => l.message.startsWith('malformed event'));
    expect(malformed.map((l) => l.fields.problems)).toEqual([
      [expect.stringMatching(/^body: not JSON/)],
      [expect.stringMatching(/^detail\.requestParameters\.DeleteVpcEndpointsRequest: /)],
    ]);
    // In the dead-letter queue as received, each with why and the message it came as.
    const dead = await drainQueue(stack, stack.deadLetterQueueUrl);
    expect(
      dead.map((m) => [
        m.Body,
        attributeOf(m, 'eer-reason'),
        attributeOf(m, 'eer-source-message-id'),
        m.Attributes?.ApproximateReceiveCount,
      ]),
    ).toEqual([
      [notJson, 'not-json', 'm-0', '1'],
      [wrongShape, 'malformed', 'm-2', '1'],
    ]);
    expect(attributeOf(dead[1] ?? {}, 'eer-detail')).toMatch(
      /^detail\.requestParameters\.DeleteVpcEndpointsRequest: /,
    );
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect(await stackAlerts(stack)).toHaveLength(1);
  });

  it('a malformed event alone changes nothing; a direct invocation throws (it has no queue)', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    await expect(runReconcile({ 'detail-type': 'Something Else', source: 'aws.ec2' }, deps)).rejects.toThrow(
      /reconcile failed: malformed event/,
    );
    expect(await drainQueue(stack, stack.deadLetterQueueUrl)).toEqual([]);
    const response = await batch(deps, acct, ['[]']);
    expect(response.batchItemFailures).toEqual([]);
    expect((await drainQueue(stack, stack.deadLetterQueueUrl)).map((m) => m.Body)).toEqual(['[]']);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeUndefined();
    expect(await stackAlerts(stack)).toEqual([]);
  });

  it('inherited keys as event source or name are events the rules do not match, not crashes', async () => {
    const { acct, stack } = await ready('report');
    const deps = depsFor(acct, stack);
    const good = sampleText('ec2-modify-vpc-attribute', { account: acct.accountId });
    const hostile = ['constructor', '__proto__', 'toString'].map((key) => {
      const event = JSON.parse(good) as { detail: Record<string, unknown> };
      event.detail.eventSource = key;
      event.detail.eventName = key;
      return JSON.stringify(event);
    });
    const { response, summary } = await reconcileSqsBatch(sqsEvent([...hostile, good], acct), deps);
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.messages.map((m) => [m.status, m.status === 'dead-lettered' ? m.reason : ''])).toEqual([
      ['dead-lettered', 'unmatched'],
      ['dead-lettered', 'unmatched'],
      ['dead-lettered', 'unmatched'],
      ['processed', ''],
    ]);
    const dead = await drainQueue(stack, stack.deadLetterQueueUrl);
    expect(dead.map((m) => attributeOf(m, 'eer-detail'))).toEqual([
      'detail: constructor:constructor is not an event the rules match',
      'detail: __proto__:__proto__ is not an event the rules match',
      'detail: toString:toString is not an event the rules match',
    ]);
  });

  it('an event id too long for a DynamoDB key is claimed by its hash: processed once, its redelivery a duplicate', async () => {
    const { acct, stack } = await ready('report');
    const deps = depsFor(acct, stack);
    const longId = `${'é'.repeat(1500)}-3000-bytes`;
    const text = withEventId(sampleText('ec2-modify-vpc-attribute', { account: acct.accountId }), longId);
    expect(Buffer.byteLength(longId)).toBeGreaterThan(3000);

    const first = await reconcileSqsBatch(sqsEvent([text], acct), deps);
    expect(first.summary.messages).toEqual([{ messageId: 'm-0', status: 'processed' }]);
    const again = await reconcileSqsBatch(sqsEvent([text], acct), deps);
    expect(again.summary.messages).toEqual([
      { messageId: 'm-0', status: 'ignored', code: 'duplicate', reason: 'already processed' },
    ]);
    expect(again.summary.outcomes).toEqual([]);
  });

  it('a key DynamoDB refuses (ValidationException) dead-letters that event alone; its batch goes on', async () => {
    const { acct, stack } = await ready('report');
    const deps = depsFor(acct, stack);
    const real = deps.state;
    // As DynamoDB answers a key it will never take: a TerminalError from the state store.
    const refusing = depsFor(acct, stack, {
      state: {
        ...real,
        claimEvent: (eventId, lease) =>
          eventId === 'refused'
            ? Promise.reject(new TerminalError('invalid-key', 'state table refused the key of event refused'))
            : real.claimEvent(eventId, lease),
      },
    });
    const sample = sampleText('ec2-modify-vpc-attribute', { account: acct.accountId });
    const { response, summary } = await reconcileSqsBatch(
      sqsEvent([withEventId(sample, 'refused'), withEventId(sample, 'fine')], acct),
      refusing,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.messages.map((m) => m.status)).toEqual(['dead-lettered', 'processed']);
    const dead = await drainQueue(stack, stack.deadLetterQueueUrl);
    expect(dead.map((m) => attributeOf(m, 'eer-reason'))).toEqual(['invalid-key']);

    // The state store makes that TerminalError of DynamoDB's own ValidationException (moto's, for a
    // table whose key is a number: the only way left to refuse a key once long ids are hashed).
    const dynamodb = new DynamoDBClient({
      endpoint: acct.endpoint,
      region: acct.region,
      credentials: acct.credentials,
    });
    await dynamodb.send(
      new CreateTableCommand({
        TableName: 'numbered',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'N' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [...STATE_TABLE_KEY_SCHEMA],
      }),
    );
    const claim = createStateStore(dynamodb, 'numbered').claimEvent('x', 60);
    await expect(claim).rejects.toBeInstanceOf(TerminalError);
    await expect(claim).rejects.toMatchObject({
      reason: 'invalid-key',
      cause: { name: 'ValidationException' },
    });
  });

  it('an event for a VPC out of scope (ignore tag) or without ECS work changes nothing and alerts nothing', async () => {
    const acct = newAccount();
    const ignored = await ecsVpc(acct, '10.7.0.0/16', { 'ecs-endpoint-remediator/ignore': 'true' });
    const bare = await createNetwork(acct, { cidr: '10.8.0.0/16', azs: ['a'] });
    const stack = await createStack(acct, 'enforce');
    const deps = depsFor(acct, stack);

    const response = await batch(deps, acct, [
      withEventId(
        sampleText('ec2-modify-vpc-attribute', { vpcId: ignored.vpcId, account: acct.accountId }),
        'a',
      ),
      withEventId(
        sampleText('ec2-modify-vpc-attribute', { vpcId: bare.vpcId, account: acct.accountId }),
        'b',
      ),
    ]);

    expect(response.batchItemFailures).toEqual([]);
    expect(await liveEndpoints(acct, ignored.vpcId)).toEqual([]);
    expect(await liveEndpoints(acct, bare.vpcId)).toEqual([]);
    expect(await stackAlerts(stack)).toEqual([]);
  });

  it('an event of a Region this deployment does not reconcile is dropped', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const text = sampleText('ec2-modify-vpc-attribute', { vpcId: vpc.vpcId }).replaceAll(
      'us-east-1',
      'eu-west-1',
    );
    const summary = await direct(deps, text);
    expect(summary.outOfScope).toBe(1);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeUndefined();
  });

  it('a reconcile that fails (an AWS error) reports its messages for retry and releases their claims', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const text = sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId });
    // A real AWS error from moto: the SNS topic does not exist, so publishing the alert fails.
    const broken = depsFor(acct, stack, {
      env: { TOPIC_ARN: `arn:aws:sns:${acct.region}:${acct.accountId}:gone` },
    });
    expect((await batch(broken, acct, [text])).batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
    expect(broken.logs.find((l) => l.message.startsWith('region reconcile failed'))?.fields).toMatchObject({
      region: acct.region,
    });

    // The endpoint was recreated before the publish failed; the alert waited in the outbox. The retry
    // (with the topic back) is not mistaken for a duplicate, finds nothing left to fix, and sends it.
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    const deps = depsFor(acct, stack);
    expect((await batch(deps, acct, [text])).batchItemFailures).toEqual([]);
    expect(await stackAlerts(stack)).toHaveLength(1);
  });
});

describe('the events queue', () => {
  it('dead-letters a malformed event on its first receive, with its reason; good events are deleted; a failing one is retried until the redrive', async () => {
    const acct = newAccount();
    const vpc = await ecsVpc(acct);
    await converge(acct);
    // As serverless.yml makes it, with fewer receives so that the test is short.
    const stack = await createStack(acct, 'enforce', { maxReceiveCount: 2 });
    const deps = depsFor(acct, stack);
    const send = (body: string) =>
      stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.eventsQueueUrl, MessageBody: body }));
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    await send('{"detail-type": 42}');
    await send(sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }));

    const first = await pollOnce(acct, stack, deps);
    expect(first?.messages.map((m) => m.status)).toEqual(['dead-lettered', 'processed']);
    expect(await pollOnce(acct, stack, deps)).toBeUndefined();
    const dead = await drainQueue(stack, stack.deadLetterQueueUrl);
    expect(dead.map((m) => [m.Body, attributeOf(m, 'eer-reason')])).toEqual([
      ['{"detail-type": 42}', 'malformed'],
    ]);
    expect(attributeOf(dead[0] ?? {}, 'eer-detail')).toMatch(/detail-type: Invalid input: expected string/);
    expect(deps.logs.filter((l) => l.message.startsWith('malformed event'))).toHaveLength(1);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect(await stackAlerts(stack)).toHaveLength(1);

    // A transient failure (the topic is gone: publishing fails) is retried, and only the queue's
    // redrive policy moves it to the dead-letter queue, as received (no reason of ours).
    const broken = depsFor(acct, stack, {
      env: { TOPIC_ARN: `arn:aws:sns:${acct.region}:${acct.accountId}:gone` },
    });
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const failing = withEventId(sampleText('ec2-modify-vpc-attribute', { vpcId: vpc.vpcId }), 'failing');
    await send(failing);
    const statuses: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      const summary = await pollOnce(acct, stack, broken);
      if (!summary) break;
      statuses.push(...summary.messages.map((m) => m.status));
    }
    expect(statuses).toEqual(['retry', 'retry']);
    const redriven = await drainQueue(stack, stack.deadLetterQueueUrl);
    expect(redriven.map((m) => [m.Body, attributeOf(m, 'eer-reason')])).toEqual([[failing, undefined]]);
  });
});

describe('the time budget', () => {
  const OTHER = 'eu-west-1';
  /** A context whose remaining time is read from `times`, one value a call (the last one repeats). */
  const contextOf = (...times: number[]) => {
    let calls = 0;
    return {
      getRemainingTimeInMillis: () => times[Math.min((calls += 1) - 1, times.length - 1)] ?? 0,
    };
  };
  const twoRegions = async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack, { env: { REGIONS: `${acct.region},${OTHER}` } });
    return { acct, stack, deps };
  };

  it('does not start a Region with less than the safety margin left: its events go back to the queue, without a receive counted, and are processed later', async () => {
    const { acct, stack, deps } = await twoRegions();
    const sweep = withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), 'sweep-1');
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.eventsQueueUrl, MessageBody: sweep }));

    // At the start and before the first Region: 300 s and 290 s; before the second: 30 s (< 60 s).
    const short = await pollOnce(acct, stack, deps, contextOf(300_000, 290_000, 30_000));
    expect(short?.failedMessageIds).toEqual([]);
    expect(short?.messages.map((m) => m.status)).toEqual(['deferred']);
    expect(short?.outcomes.map((o) => o.region)).toEqual([acct.region]);
    expect(short?.deferredRegions).toEqual([OTHER]);
    expect(deps.logs.find((l) => l.message.startsWith('region not started'))?.fields).toMatchObject({
      region: OTHER,
      remainingMs: 30_000,
      safetyMarginMs: 60_000,
    });

    // A new message with the same body: first received, marked as deferred once; its claim was given
    // back, so it is no duplicate: the sweep runs whole.
    const [requeued] = await drainQueue(stack, stack.eventsQueueUrl);
    expect(requeued?.Body).toBe(sweep);
    expect(requeued?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(attributeOf(requeued ?? {}, 'eer-deferrals')).toBe('1');
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.eventsQueueUrl,
        MessageBody: requeued?.Body ?? '',
        MessageAttributes: { 'eer-deferrals': { DataType: 'Number', StringValue: '1' } },
      }),
    );
    const later = await pollOnce(acct, stack, deps, contextOf(300_000));
    expect(later?.messages.map((m) => m.status)).toEqual(['processed']);
    expect(later?.outcomes.map((o) => o.region)).toEqual([acct.region, OTHER]);
    expect(await drainQueue(stack, stack.eventsQueueUrl)).toEqual([]);
  });

  it('reconciles the Regions of deferred events first', async () => {
    const { acct, deps } = await twoRegions();
    const here = withEventId(
      sampleText('ecs-register-container-instance', { account: acct.accountId }),
      'here',
    );
    const there = withEventId(
      sampleText('ecs-register-container-instance', { account: acct.accountId }).replaceAll(
        acct.region,
        OTHER,
      ),
      'there',
    );
    const event = sqsEvent([here, there], acct);
    const deferred = event.Records[1];
    if (deferred)
      deferred.messageAttributes = {
        'eer-deferrals': { stringValue: '2', dataType: 'Number', stringListValues: [], binaryListValues: [] },
      };
    const { summary } = await reconcileSqsBatch(event, deps, undefined, contextOf(300_000));
    expect(summary.outcomes.map((o) => o.region)).toEqual([OTHER, acct.region]);
  });

  it('does not apply a margin that leaves no time at all (set at or above the function timeout)', async () => {
    const { acct, deps } = await twoRegions();
    const sweep = withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), 'sweep-2');
    const { summary } = await reconcileSqsBatch(sqsEvent([sweep], acct), deps, undefined, contextOf(50_000));
    expect(summary.messages.map((m) => m.status)).toEqual(['processed']);
    expect(summary.outcomes).toHaveLength(2);
    expect(deps.logs.map((l) => l.message)).toContain(
      'safety margin not below the time of the invocation: not applied',
    );
  });

  it('without a queue to send it back to (a direct invocation), deferred work fails the call', async () => {
    const { acct, deps } = await twoRegions();
    const sweep = JSON.parse(
      withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), 'sweep-3'),
    ) as Record<string, unknown>;
    await expect(runReconcile(sweep, deps, undefined, contextOf(300_000, 290_000, 1_000))).rejects.toThrow(
      `reconcile failed: ${OTHER}: not started, too little time left`,
    );
  });
});

describe('the account the stack runs in', () => {
  it("is the invoked function's ARN's when ACCOUNT_ID is not set: alerts name it", async () => {
    const { acct, vpc, stack } = await ready('report');
    const context = {
      invokedFunctionArn: `arn:aws:lambda:${acct.region}:${acct.accountId}:function:reconcile`,
    };
    expect(withAccountId({ TABLE_NAME: 't' }, context)).toEqual({
      TABLE_NAME: 't',
      ACCOUNT_ID: acct.accountId,
    });
    // Set (tests, invoke local): kept. No account in the ARN (an invoke-local stand-in): none made up.
    expect(withAccountId({ ACCOUNT_ID: '111122223333' }, context).ACCOUNT_ID).toBe('111122223333');
    expect(withAccountId({}, { invokedFunctionArn: 'arn:aws:lambda:us-east-1:account:function:x' })).toEqual(
      {},
    );
    expect(withAccountId({}, undefined)).toEqual({});

    const env = withAccountId({ ...stack.env, ACCOUNT_ID: '' }, context);
    const deps = depsFor(acct, stack, { env: { ...env } as Record<string, string> });
    expect(deps.accountId).toBe(acct.accountId);
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    await batch(deps, acct, [
      sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
    ]);
    const alerts = await stackAlerts(stack);
    expect(alerts.map((a) => [a.metadata?.eventType, a.metadata?.additionalContext?.accountId])).toEqual([
      ['drift-detected', acct.accountId],
    ]);
  });
});

describe('report mode', () => {
  it('alerts new drift once, stays quiet while unchanged, sends a digest a day later, then the resolution', async () => {
    const { acct, vpc, stack } = await ready('report');
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const sweep = (id: string) => withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), id);
    let now = new Date('2026-11-28T11:15:00Z');
    const deps = depsFor(acct, stack, { now: () => now });

    await batch(deps, acct, [
      sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
    ]);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeUndefined();
    const first = await stackAlerts(stack);
    expect(first.map((a) => a.metadata?.eventType)).toEqual(['drift-detected']);
    expect(first[0]?.content.description).toContain('ENDPOINT_MISSING');
    expect(first[0]?.content.nextSteps?.join(' ')).toMatch(/mode=enforce/);

    now = new Date('2026-11-28T11:30:00Z');
    await batch(deps, acct, [sweep('s1')]);
    expect(await stackAlerts(stack)).toEqual([]);

    now = new Date('2026-11-29T11:31:00Z');
    await batch(deps, acct, [sweep('s2')]);
    const digest = await stackAlerts(stack);
    expect(digest.map((a) => a.metadata?.eventType)).toEqual(['drift-digest']);
    expect(digest[0]?.content.title).toMatch(/still open/);

    // Someone puts the endpoint back by hand.
    now = new Date('2026-11-29T11:45:00Z');
    const group =
      (await liveEndpoints(acct, vpc.vpcId)).find((e) => e.VpcEndpointType === 'Interface')?.Groups?.[0]
        ?.GroupId ?? '';
    await createEndpoint(acct, {
      vpcId: vpc.vpcId,
      service: 'ecs-agent',
      subnetIds: vpc.subnetIds,
      securityGroupIds: [group],
    });
    await batch(deps, acct, [sweep('s3')]);
    const resolved = await stackAlerts(stack);
    expect(resolved.map((a) => a.metadata?.eventType)).toEqual(['drift-resolved']);
    expect(resolved[0]?.content.description).toContain('open since 2026-11-28T11:15:00.000Z');

    now = new Date('2026-11-29T12:00:00Z');
    await batch(deps, acct, [sweep('s4')]);
    expect(await stackAlerts(stack)).toEqual([]);
  });
});

describe('open findings stored before finding ids named the account', () => {
  it('are recognised as the same findings: not alerted again, stored anew under the new id, the old items gone', async () => {
    const { acct, vpc, stack } = await ready('report');
    const deleted = await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const sweep = (id: string) => withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), id);
    let now = new Date('2026-11-28T11:15:00Z');
    const deps = depsFor(acct, stack, { now: () => now });
    await batch(deps, acct, [
      sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
    ]);
    expect((await stackAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-detected']);

    // As a deployment upgraded from the version that stored them so finds its table.
    const items = await storeOpenFindingsInSchema1Shape(acct, stack);

    now = new Date('2026-11-28T11:30:00Z');
    await batch(deps, acct, [sweep('m1')]);
    expect(await stackAlerts(stack)).toEqual([]); // the same drift, already alerted: quiet
    const after = await openFindingItems(acct, stack);
    expect(after.map((item) => item.sk?.S).sort()).toEqual(items.map((item) => item.sk?.S).sort());
    for (const item of after) {
      const record = JSON.parse(item.record?.S ?? '{}') as Record<string, unknown>;
      expect(record).toMatchObject({ accountId: acct.accountId, firstSeen: '2026-11-28T11:15:00.000Z' });
      expect(String(record.id)).toContain(`/${acct.accountId}/`);
    }

    // A day after the first alert, the digest names it: it was kept, not forgotten.
    now = new Date('2026-11-29T11:31:00Z');
    await batch(deps, acct, [sweep('m2')]);
    expect((await stackAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-digest']);
  });
});

describe('event-scoped reconciles read the clusters of the cluster index', () => {
  const clusterArn = (acct: Account, name: string) =>
    `arn:aws:ecs:${acct.region}:${acct.accountId}:cluster/${name}`;
  const sweepText = (acct: Account, id: string) =>
    withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), id);
  /** The discovery reads of ECS (and the hosts' DescribeInstances) the pool sent since `before`. */
  const ecsReads = (deps: ReturnType<typeof depsFor>, before: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(deps.pool.apiCalls().byOperation)
        .map(([operation, count]): [string, number] => [operation, count - (before[operation] ?? 0)])
        .filter(
          ([operation, count]) =>
            count > 0 && (operation.startsWith('ecs:') || operation === 'ec2:DescribeInstances'),
        ),
    );

  it('without an index every cluster is read; after a sweep an event for one VPC reads only its cluster, to the same plan', async () => {
    const acct = newAccount();
    const a = await ecsVpc(acct, '10.1.0.0/16');
    const b = await ecsVpc(acct, '10.2.0.0/16');
    await converge(acct);
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack);
    const deleted = await deleteEndpoint(acct, a.vpcId, 'ecs-agent');
    const event = (id: string) =>
      withEventId(
        sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
        id,
      );

    // No index yet (first run): the full ECS discovery of today, and nothing is indexed from it.
    let before = deps.pool.apiCalls().byOperation;
    const unindexed = (await direct(deps, event('e1'))).outcomes[0];
    expect(unindexed?.vpcIds).toEqual([a.vpcId]);
    expect(unindexed?.clusterArns).toBeUndefined();
    expect(unindexed?.clusterIndex).toBe('kept');
    expect(ecsReads(deps, before)).toEqual({
      'ecs:ListClusters': 1,
      'ecs:ListContainerInstances': 2,
      'ecs:DescribeContainerInstances': 2,
      'ecs:ListServices': 2,
      'ecs:DescribeServices': 2,
      'ecs:ListTasks': 2,
      'ec2:DescribeInstances': 1, // all four hosts
      'ecs:DescribeTaskDefinition': 1,
    });
    expect(await deps.state.loadClusterIndex(acct.region)).toBeUndefined();

    // The sweep records the index; a sweep that finds nothing new does not write it again.
    const sweep = (await direct(deps, sweepText(acct, 's1'))).outcomes[0];
    expect(sweep?.clusterIndex).toBe('written');
    const index = await deps.state.loadClusterIndex(acct.region);
    expect(index?.vpcs).toEqual({
      [a.vpcId]: [clusterArn(acct, 'ec2-1')],
      [b.vpcId]: [clusterArn(acct, 'ec2-2')],
    });
    expect((await direct(deps, sweepText(acct, 's2'))).outcomes[0]?.clusterIndex).toBe('unchanged');
    expect((await deps.state.loadClusterIndex(acct.region))?.revision).toBe(index?.revision);
    // From the queue (work units possible), deciding against a split lists the clusters and reads the
    // index; the whole-Region reconcile reads neither again: one ListClusters.
    before = deps.pool.apiCalls().byOperation;
    expect((await batch(deps, acct, [sweepText(acct, 's3')])).batchItemFailures).toEqual([]);
    expect(ecsReads(deps, before)['ecs:ListClusters']).toBe(1);

    // The same event again: only VPC A's cluster, only A's two hosts, and the same findings.
    before = deps.pool.apiCalls().byOperation;
    const indexed = (await direct(deps, event('e2'))).outcomes[0];
    expect(indexed?.clusterArns).toEqual([clusterArn(acct, 'ec2-1')]);
    expect(indexed?.clusterIndex).toBe('unchanged');
    expect(ecsReads(deps, before)).toEqual({
      'ecs:ListContainerInstances': 1,
      'ecs:DescribeContainerInstances': 1,
      'ecs:ListServices': 1,
      'ecs:DescribeServices': 1,
      'ecs:ListTasks': 1,
      'ec2:DescribeInstances': 1, // A's two hosts
      // No DescribeTaskDefinition: the revision was read by the first event and is in the state
      // table's task definition cache (aws/task-definition-cache.ts).
    });
    expect(indexed?.plan.findings).toEqual(unindexed?.plan.findings);
    expect(indexed?.plan.findings.map((f) => [f.code, f.vpcId, f.service])).toContainEqual([
      'ENDPOINT_MISSING',
      a.vpcId,
      'ecs-agent',
    ]);
  });

  it('an ECS event naming a cluster the index does not know reads it, and the index learns it', async () => {
    const acct = newAccount();
    const a = await ecsVpc(acct, '10.1.0.0/16');
    await ecsVpc(acct, '10.2.0.0/16');
    await converge(acct);
    const stack = await createStack(acct, 'enforce');
    const deps = depsFor(acct, stack);
    await direct(deps, sweepText(acct, 's1'));
    await drainAlerts(stack);

    // A new cluster "prod" (the sample's) runs a Fargate service in VPC A that reads a Secrets Manager
    // secret: VPC A now needs a secretsmanager endpoint, and only cluster "prod" shows it.
    await createCluster(acct, 'prod');
    const taskDefinition = await registerTaskDefinition(acct, {
      family: 'api',
      images: ['public.ecr.aws/nginx/nginx:1'],
      secrets: [
        {
          name: 'DB_PASSWORD',
          valueFrom: `arn:aws:secretsmanager:${acct.region}:${acct.accountId}:secret:db-AbCdEf`,
        },
      ],
    });
    await createService(acct, {
      cluster: 'prod',
      name: 'api',
      taskDefinition,
      launchType: 'FARGATE',
      subnets: a.subnetIds,
    });
    expect(await endpointOf(acct, a.vpcId, 'secretsmanager')).toBeUndefined();

    let before = deps.pool.apiCalls().byOperation;
    const created = (
      await direct(
        deps,
        sampleText('ecs-create-service', {
          account: acct.accountId,
          subnetId1: a.subnetIds[0] ?? '',
          subnetId2: a.subnetIds[1] ?? '',
        }),
      )
    ).outcomes[0];
    expect(created?.vpcIds).toEqual([a.vpcId]);
    expect(created?.clusterArns).toEqual([clusterArn(acct, 'ec2-1'), clusterArn(acct, 'prod')]);
    const reads = ecsReads(deps, before);
    expect(reads['ecs:ListClusters']).toBeUndefined();
    expect(reads['ecs:ListServices']).toBe(2);
    expect(reads['ecs:ListContainerInstances']).toBe(2);
    expect(await endpointOf(acct, a.vpcId, 'secretsmanager')).toBeDefined();
    expect(created?.clusterIndex).toBe('written');
    expect((await deps.state.loadClusterIndex(acct.region))?.vpcs[a.vpcId]).toEqual([
      clusterArn(acct, 'ec2-1'),
      clusterArn(acct, 'prod'),
    ]);

    // An EC2 event for VPC A before the next sweep: the index alone now names "prod".
    const group = (await liveEndpoints(acct, a.vpcId)).find((e) => e.VpcEndpointType === 'Interface')
      ?.Groups?.[0]?.GroupId;
    before = deps.pool.apiCalls().byOperation;
    const later = (
      await direct(
        deps,
        sampleText('ec2-revoke-security-group-ingress', { account: acct.accountId, groupId: group ?? '' }),
      )
    ).outcomes[0];
    expect(later?.clusterArns).toEqual([clusterArn(acct, 'ec2-1'), clusterArn(acct, 'prod')]);
    expect(ecsReads(deps, before)['ecs:ListServices']).toBe(2);
  });
});

describe('drift events beyond the endpoints: routes, security groups by name, Route 53', () => {
  /** The route table the VPC's subnets use (ecsVpc's private subnets: the main one). */
  async function routeTableOf(acct: Account, vpc: EcsVpc): Promise<string> {
    const out = await acct.ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    );
    return out.RouteTables?.[0]?.RouteTableId ?? '';
  }

  it('DeleteRoute of the route table of a workload’s subnets: that VPC is re-read and repaired', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const other = await ecsVpc(acct, '10.9.0.0/16');
    const deps = depsFor(acct, stack);
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const text = sampleText('ec2-delete-route', { account: acct.accountId }).replaceAll(
      'rtb-0a77770000000001',
      await routeTableOf(acct, vpc),
    );

    const response = await batch(deps, acct, [text]);

    expect(response.batchItemFailures).toEqual([]);
    expect(deps.logs.find((l) => l.message === 'region reconciled')?.fields).toMatchObject({
      region: acct.region,
      vpcIds: [vpc.vpcId],
    });
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    // Only the route table's VPC was reconciled: the other one was not touched.
    expect(await liveEndpoints(acct, other.vpcId)).toEqual([]);
    expect(
      (await stackAlerts(stack)).map((a) => [a.metadata?.eventType, a.metadata?.additionalContext]),
    ).toEqual([['drift-fixed', expect.objectContaining({ vpcId: vpc.vpcId })]]);
  });

  it('RevokeSecurityGroupIngress by groupName is reconciled (its group’s VPC), not dead-lettered', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const groupId = (await liveEndpoints(acct, vpc.vpcId)).find((e) => e.VpcEndpointType === 'Interface')
      ?.Groups?.[0]?.GroupId;
    const groups = await acct.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId ?? ''] }));
    const groupName = groups.SecurityGroups?.[0]?.GroupName ?? '';
    expect(groupName).not.toBe('');
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const text = sampleText('ec2-revoke-security-group-ingress-by-name', { account: acct.accountId }).replace(
      '"groupName": "ecs-endpoints"',
      `"groupName": ${JSON.stringify(groupName)}`,
    );

    const { response, summary } = await reconcileSqsBatch(sqsEvent([text], acct), deps);

    expect(response.batchItemFailures).toEqual([]);
    expect(summary.messages).toEqual([{ messageId: 'm-0', status: 'processed' }]);
    expect(summary.deadLettered).toBe(0);
    expect(await drainQueue(stack, stack.deadLetterQueueUrl)).toEqual([]);
    expect(summary.outcomes.map((o) => [o.region, o.vpcIds, o.widened])).toEqual([
      [acct.region, [vpc.vpcId], undefined],
    ]);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect((await stackAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-fixed']);
  });

  it('Route 53: an association reconciles its VPC in the VPC’s Region; a record change, every Region; another Region’s VPC is dropped', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    const deps = depsFor(acct, stack);
    const route53 = (name: string, id: string) =>
      withEventId(
        sampleText(name, { account: acct.accountId, vpcId: vpc.vpcId }).replaceAll(
          '"vPCRegion": "us-east-1"',
          `"vPCRegion": "${acct.region}"`,
        ),
        id,
      );

    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const associated = await direct(deps, route53('route53-associate-vpc-with-hosted-zone', 'r53-a'));
    expect(associated.outcomes.map((o) => [o.region, o.vpcIds])).toEqual([[acct.region, [vpc.vpcId]]]);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect((await stackAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-fixed']);

    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const changed = await direct(deps, route53('route53-change-resource-record-sets', 'r53-c'));
    expect(changed.outcomes.map((o) => [o.region, o.vpcIds])).toEqual([[acct.region, undefined]]);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect((await stackAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-fixed']);

    const elsewhere = withEventId(
      sampleText('route53-disassociate-vpc-from-hosted-zone', { account: acct.accountId }).replaceAll(
        '"vPCRegion": "us-east-1"',
        '"vPCRegion": "ap-southeast-2"',
      ),
      'r53-d',
    );
    const dropped = await direct(deps, elsewhere);
    expect(dropped.outOfScope).toBe(1);
    expect(dropped.outcomes).toEqual([]);
  });
});

describe('one reconcile of a Region at a time, two batches at once (maximumConcurrency 2)', () => {
  /** A state store whose `loadClusterIndex` (the first thing a reconcile does under the lease) waits. */
  function gated(deps: ReturnType<typeof depsFor>) {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const state = {
      ...deps.state,
      loadClusterIndex: async (region: string) => {
        entered();
        await gate;
        return deps.state.loadClusterIndex(region);
      },
    };
    return { state, open, inside };
  }

  it('a second batch for a Region being reconciled sends its events back with a delay; the first alerts once; the requeued work runs later', async () => {
    const { acct, vpc, stack } = await ready('enforce');
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const sample = sampleText('ec2-delete-vpc-endpoints', { account: acct.accountId, vpcId: vpc.vpcId });
    const first = depsFor(acct, stack);
    const holding = gated(first);
    const second = depsFor(acct, stack);

    // Two invocations, as the event source runs them with maximumConcurrency 2: the first holds the
    // Region (paused inside its reconcile) while the second arrives.
    const running = reconcileSqsBatch(
      sqsEvent([withEventId(sample, 'burst-1')], acct),
      { ...first, state: holding.state },
      undefined,
      { getRemainingTimeInMillis: () => 290_000 },
    );
    await holding.inside;
    const { response, summary } = await reconcileSqsBatch(
      sqsEvent([withEventId(sample, 'burst-2')], acct),
      second,
      undefined,
      { getRemainingTimeInMillis: () => 290_000 },
    );
    holding.open();
    const done = await running;

    // The second reconciled nothing and returned nothing as a failure (no receive counted toward the
    // dead-letter queue): its event went back to the queue, to be delivered in 30 s.
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.messages.map((m) => m.status)).toEqual(['deferred']);
    expect(summary.busyRegions).toEqual([acct.region]);
    expect(summary.outcomes).toEqual([]);
    expect(second.logs.find((l) => l.message.startsWith('region being reconciled'))?.fields).toMatchObject({
      region: acct.region,
      delaySeconds: 30,
    });
    // The first repaired the VPC and alerted, once.
    expect(done.summary.messages.map((m) => m.status)).toEqual(['processed']);
    expect(await endpointOf(acct, vpc.vpcId, 'ecs-agent')).toBeDefined();
    expect((await stackAlerts(stack)).length).toBe(1);

    // The delay holds the requeued event back (SQS DelaySeconds); once delivered it runs, with the
    // lease free again, and finds nothing left to do.
    expect(await drainQueue(stack, stack.eventsQueueUrl)).toEqual([]);
    const queue = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.eventsQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    expect(queue.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
    const third = depsFor(acct, stack);
    const later = await reconcileSqsBatch(
      sqsEvent([withEventId(sample, 'burst-2')], acct),
      third,
      undefined,
      { getRemainingTimeInMillis: () => 290_000 },
    );
    expect(later.summary.messages.map((m) => m.status)).toEqual(['processed']);
    expect(later.summary.outcomes[0]?.results ?? []).toEqual([]);
    expect(await stackAlerts(stack)).toEqual([]);
  });

  it('batches of two Regions run at once, each under its own lease', async () => {
    const OTHER = 'eu-west-1';
    const { acct, vpc, stack } = await ready('report');
    const env = { REGIONS: `${acct.region},${OTHER}` };
    const first = depsFor(acct, stack, { env });
    const holding = gated(first);
    const here = withEventId(
      sampleText('ec2-delete-vpc-endpoints', { account: acct.accountId, vpcId: vpc.vpcId }),
      'here',
    );
    const there = withEventId(
      sampleText('ecs-register-container-instance', { account: acct.accountId }).replaceAll(
        acct.region,
        OTHER,
      ),
      'there',
    );
    const running = reconcileSqsBatch(sqsEvent([here], acct), { ...first, state: holding.state });
    await holding.inside;
    const other = await reconcileSqsBatch(sqsEvent([there], acct), depsFor(acct, stack, { env }));
    holding.open();
    expect(other.summary.busyRegions).toEqual([]);
    expect(other.summary.outcomes.map((o) => o.region)).toEqual([OTHER]);
    expect((await running).summary.outcomes.map((o) => o.region)).toEqual([acct.region]);
  });

  it('a lease is its holder’s until released or ended; one whose holder died is taken over when it ends', async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report');
    const dynamodb = new DynamoDBClient({
      endpoint: acct.endpoint,
      region: acct.region,
      credentials: acct.credentials,
    });
    let clock = Date.parse('2026-11-30T00:00:00Z');
    const store = createStateStore(dynamodb, stack.tableName, () => new Date(clock));
    expect(await store.acquireRegionLease('us-east-1', 'a', 300)).toEqual({ status: 'acquired' });
    expect(await store.acquireRegionLease('us-east-1', 'a', 300)).toEqual({ status: 'acquired' });
    expect(await store.acquireRegionLease('us-east-1', 'b', 300)).toEqual({
      status: 'held',
      holder: 'a',
      until: new Date(clock + 300_000),
    });
    // Another Region is another lease; b cannot end a's.
    expect(await store.acquireRegionLease('eu-west-1', 'b', 300)).toEqual({ status: 'acquired' });
    await store.releaseRegionLease('us-east-1', 'b');
    expect((await store.acquireRegionLease('us-east-1', 'b', 300)).status).toBe('held');
    await store.releaseRegionLease('us-east-1', 'a');
    expect(await store.acquireRegionLease('us-east-1', 'b', 300)).toEqual({ status: 'acquired' });
    // b dies holding it (a timeout, a crash): at the end of its invocation the lease is free.
    clock += 301_000;
    expect(await store.acquireRegionLease('us-east-1', 'c', 300)).toEqual({ status: 'acquired' });
  });
});

describe('event claims through lost responses', () => {
  it('a claim whose answer was lost is still this delivery’s (the SDK’s retry fails the condition its first attempt met); another delivery’s is busy', async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report');
    // The first PutItem is applied by moto, then its answer lost (test/harness/fault-proxy.ts).
    const proxy = await startFaultProxy({
      target: motoEndpoint(),
      rules: [{ service: 'dynamodb', operation: 'PutItem', times: 1, fault: { kind: 'lost' } }],
    });
    try {
      const through = proxiedAccount(acct, proxy);
      const dynamodb = (a: Account) =>
        new DynamoDBClient({ endpoint: a.endpoint, region: a.region, credentials: a.credentials });
      const store = createStateStore(dynamodb(through), stack.tableName);
      expect(await store.claimEvent('lost-answer', 900)).toBe('claimed');
      expect(proxy.faults('lost').map((r) => r.operation)).toEqual(['PutItem']);
      const other = createStateStore(dynamodb(acct), stack.tableName);
      expect(await other.claimEvent('lost-answer', 900)).toBe('busy');
      await store.completeEvent('lost-answer', 3600);
      expect(await other.claimEvent('lost-answer', 900)).toBe('done');
    } finally {
      await proxy.stop();
    }
  });
});
