// The deployed stack's stateful parts, made in a moto account the way serverless.yml makes them: the
// state table, the events queue and its dead-letter queue, the alerts topic, and (standing in for the
// Chatbot channel) an SQS queue subscribed to the topic with raw delivery, so each received body is
// exactly the published Chatbot notification.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSMessageAttributes } from 'aws-lambda';
import type { ChatbotNotification } from '../../core/chatbot.ts';
import { legacyFindingId } from '../../core/findings.ts';
import { chatbotNotificationSchema } from '../../core/chatbot.ts';
import type { BatchDeps, BatchSummary } from '../../aws/event-batch.ts';
import { adoptTagged, createOwnershipStore } from '../../aws/ownership.ts';
import { reconcileSqsBatch, remediatorDeps } from '../../handlers/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { parseConfig } from '../../core/config.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../../aws/reconcile.ts';
import {
  addContainerInstance,
  createCluster,
  createNetwork,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import { createStateTable } from '../harness/state-table.ts';

export interface Stack {
  readonly tableName: string;
  readonly topicArn: string;
  /** The queue subscribed to the topic: where alerts land. */
  readonly alertsQueueUrl: string;
  /** The events queue (EventsQueue) and its dead-letter queue (EventsDeadLetterQueue). */
  readonly eventsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly sqs: SQSClient;
  /** The reconciler's environment (as serverless.yml sets it) plus the account's. */
  readonly env: Record<string, string>;
}

function clientConfig(acct: Account) {
  return { endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials, maxAttempts: 2 };
}

/** How serverless.yml's EventsQueue moves a message to the dead-letter queue: after five receives. */
export const MAX_RECEIVE_COUNT = 5;

/**
 * The stack, deployed in `acct` as it is now. With `adopt` (the default) the endpoints and groups the
 * account's resources already carry the managed tag on (a CLI run converged most tests' accounts) are
 * recorded as the deployment's, as an operator's one-time adoption would (docs/deploy.md, Ownership;
 * aws/ownership.ts `adoptTagged`), without its alert.
 */
export async function createStack(
  acct: Account,
  mode: 'report' | 'enforce',
  options: { maxReceiveCount?: number; adopt?: boolean } = {},
): Promise<Stack> {
  const dynamodb = new DynamoDBClient(clientConfig(acct));
  const sns = new SNSClient(clientConfig(acct));
  const sqs = new SQSClient(clientConfig(acct));
  const tableName = 'ecs-endpoint-remediator-test-state';
  await createStateTable(dynamodb, tableName);
  const topicArn =
    (await sns.send(new CreateTopicCommand({ Name: 'ecs-endpoint-remediator-test-alerts' }))).TopicArn ?? '';
  const alertsQueueUrl =
    (await sqs.send(new CreateQueueCommand({ QueueName: 'alerts-channel' }))).QueueUrl ?? '';
  const queueArn =
    (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: alertsQueueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.QueueArn ?? '';
  const deadLetterQueueUrl =
    (await sqs.send(new CreateQueueCommand({ QueueName: 'events-dlq' }))).QueueUrl ?? '';
  const deadLetterArn =
    (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.QueueArn ?? '';
  const eventsQueueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'events',
          Attributes: {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: deadLetterArn,
              maxReceiveCount: options.maxReceiveCount ?? MAX_RECEIVE_COUNT,
            }),
          },
        }),
      )
    ).QueueUrl ?? '';
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  if (options.adopt ?? true) {
    const store = createOwnershipStore(dynamodb, tableName);
    await adoptTagged(acct.ec2, store, acct.region, 'test-stack', new Set(), new Date());
  }
  return {
    tableName,
    topicArn,
    alertsQueueUrl,
    eventsQueueUrl,
    deadLetterQueueUrl,
    sqs,
    env: {
      ...acct.env,
      MODE: mode,
      REGIONS: acct.region,
      CONFIG: '{}',
      TABLE_NAME: tableName,
      TOPIC_ARN: topicArn,
      ACCOUNT_ID: acct.accountId,
      DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
      EVENTS_QUEUE_URL: eventsQueueUrl,
    },
  };
}

/**
 * A reconciler's clock for tests that span days (the reclaim's grace period): `day` days after
 * `start`, 11 minutes more at each look (each reconcile in a ClientToken window of its own, as in
 * {@link depsFor}). Pass its `now` to depsFor.
 */
export function clockFrom(start: number) {
  let calls = 0;
  const clock = {
    day: 0,
    now: () => new Date(start + clock.day * 24 * 3600_000 + (calls += 1) * 11 * 60_000),
  };
  return clock;
}

/** The reconciler's dependencies for this account, with its log lines collected in `logs`. */
export function depsFor(
  acct: Account,
  stack: Stack,
  overrides: Partial<BatchDeps> & { env?: Record<string, string> } = {},
): BatchDeps & { logs: Array<{ message: string; fields: Record<string, unknown> }> } {
  const logs: Array<{ message: string; fields: Record<string, unknown> }> = [];
  // Each reconcile runs in a 10-minute window of its own: CreateVpcEndpoint's ClientToken is derived
  // from the window, and AWS (patched moto) answers a replayed token with the endpoint it made then,
  // even if deleted since (docs/architecture.md). Real deployments see events minutes apart.
  let tick = Date.now() + 3600_000;
  const clock = () => new Date((tick += 11 * 60_000));
  const { env, ...rest } = overrides;
  const base = remediatorDeps({ ...stack.env, ...env }, undefined, {
    endpoint: acct.endpoint,
    credentials: acct.credentials,
    // moto does not throttle: no client-side pacing by the published buckets (at half of
    // CreateVpcEndpoint's, 0.15 a second, the samples' repairs alone would take minutes). Throttling
    // is still retried until the invocation's deadline (test/aws/rate-limit.test.ts tests the limiter).
    rateLimits: undefined,
  });
  return {
    ...base,
    log: (message, fields) => {
      logs.push({ message, fields });
    },
    now: clock,
    ...rest,
    logs,
  };
}

/** Every alert delivered so far (and removes them from the queue), each validated as a Chatbot notification. */
export async function drainAlerts(stack: Stack): Promise<ChatbotNotification[]> {
  const alerts: ChatbotNotification[] = [];
  for (;;) {
    const out = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.alertsQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return alerts;
    for (const message of messages)
      alerts.push(chatbotNotificationSchema.parse(JSON.parse(message.Body ?? '')));
    await stack.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: stack.alertsQueueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/** Every message in `queueUrl` (received with all attributes, then deleted). */
export async function drainQueue(stack: Stack, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return all;
    all.push(...messages);
    await stack.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/**
 * Lambda's SQS poller, by hand: receives up to ten messages of the events queue, runs the handler on
 * them (with `context`, if given), deletes what it reported done and makes its failures visible again.
 * Undefined when the queue was empty.
 */
export async function pollOnce(
  acct: Account,
  stack: Stack,
  deps: BatchDeps,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<BatchSummary | undefined> {
  const messages =
    (
      await stack.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.eventsQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      )
    ).Messages ?? [];
  if (messages.length === 0) return undefined;
  const event = sqsEvent(
    messages.map((m) => m.Body ?? ''),
    acct,
    messages.map((m) => m.MessageId ?? ''),
  );
  event.Records.forEach((record, n) => {
    const attributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(messages[n]?.MessageAttributes ?? {}))
      attributes[name] = {
        stringValue: value.StringValue,
        dataType: value.DataType ?? 'String',
        stringListValues: [],
        binaryListValues: [],
      };
    record.messageAttributes = attributes;
  });
  const { response, summary } = await reconcileSqsBatch(event, deps, undefined, context);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const entries = (keep: boolean) =>
    messages
      .filter((m) => failed.has(m.MessageId ?? '') === keep)
      .map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle ?? '' }));
  if (entries(false).length > 0)
    await stack.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: stack.eventsQueueUrl, Entries: entries(false) }),
    );
  if (entries(true).length > 0)
    await stack.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: stack.eventsQueueUrl,
        Entries: entries(true).map((e) => ({ ...e, VisibilityTimeout: 0 })),
      }),
    );
  return summary;
}

/** A message attribute's string value. */
export function attributeOf(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/** Placeholder ids of the events/ samples, replaced by an account's real ones. */
export const SAMPLE_IDS = {
  account: '111122223333',
  vpcId: 'vpc-0a11110000000001',
  endpointId: 'vpce-0b22220000000001',
  endpointId2: 'vpce-0b22220000000002',
  groupId: 'sg-0c33330000000001',
  subnetId1: 'subnet-0d44440000000001',
  subnetId2: 'subnet-0d44440000000002',
  instanceId: 'i-0e55550000000001',
} as const;

/** The text of events/<name>.json with the placeholder ids replaced. */
export function sampleText(name: string, ids: Partial<Record<keyof typeof SAMPLE_IDS, string>> = {}): string {
  let text = readFileSync(path.join(repoRoot, 'events', `${name}.json`), 'utf8');
  for (const [key, value] of Object.entries(ids)) {
    text = text.replaceAll(SAMPLE_IDS[key as keyof typeof SAMPLE_IDS], value);
  }
  return text;
}

/** An event with a fresh identity (a distinct occurrence of the same call). */
export function withEventId(text: string, eventId: string): string {
  const event = JSON.parse(text) as { id: string; detail: { eventID?: string } };
  event.id = `eb-${eventId}`;
  if (event.detail.eventID !== undefined) event.detail.eventID = eventId;
  return JSON.stringify(event);
}

/** An SQS event as Lambda's poller delivers it, one record per body (ids `m-<n>`, or `ids`). */
export function sqsEvent(bodies: readonly string[], acct: Account, ids?: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: ids?.[i] ?? `m-${i}`,
      receiptHandle: `rh-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'events',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${acct.region}:${acct.accountId}:events`,
      awsRegion: acct.region,
    })),
  };
}

// ---- a workload and its drift, made as a person would -------------------------------------------

export interface EcsVpc {
  vpcId: string;
  subnetIds: string[];
  instanceId: string;
}

/** A private VPC with two EC2 container instances running a service (awslogs): needs the ECS endpoints. */
export async function ecsVpc(
  acct: Account,
  cidr = '10.1.0.0/16',
  tags?: Record<string, string>,
): Promise<EcsVpc> {
  const network = await createNetwork(acct, { cidr, name: 'ec2-private', azs: ['a', 'b'] });
  if (tags) {
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [network.vpcId],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  const cluster = await createCluster(acct, `ec2-${cidr.split('.')[1] ?? ''}`);
  const instances = [];
  for (const subnetId of network.subnetIds)
    instances.push(await addContainerInstance(acct, { cluster, subnetId }));
  const taskDefinition = await registerTaskDefinition(acct, {
    family: 'api',
    images: ['public.ecr.aws/nginx/nginx:1'],
    logDriver: 'awslogs',
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  await createService(acct, { cluster, name: 'api', taskDefinition, launchType: 'EC2' });
  return { vpcId: network.vpcId, subnetIds: network.subnetIds, instanceId: instances[0]?.instanceId ?? '' };
}

/** Brings the account to no drift with the engine itself (the state a deployment starts from). */
export async function converge(acct: Account): Promise<void> {
  const pool = createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
  const config = parseConfig({});
  await applyAccountPlan(await planAccount({ regions: [acct.region], config, pool }), pool);
}

export async function liveEndpoints(acct: Account, vpcId: string): Promise<VpcEndpoint[]> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).filter((e) => (e.State ?? '').toLowerCase() !== 'deleted');
}

export async function endpointOf(
  acct: Account,
  vpcId: string,
  service: string,
): Promise<VpcEndpoint | undefined> {
  return (await liveEndpoints(acct, vpcId)).find(
    (e) => e.ServiceName === `com.amazonaws.${acct.region}.${service}`,
  );
}

/** Deletes the VPC's endpoint of `service` as a person would; returns its id. */
export async function deleteEndpoint(acct: Account, vpcId: string, service: string): Promise<string> {
  const endpoint = await endpointOf(acct, vpcId, service);
  const id = endpoint?.VpcEndpointId ?? '';
  await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
  return id;
}

/** The state table's open-finding items of the account's Region. */
export async function openFindingItems(
  acct: Account,
  stack: Stack,
): Promise<Array<Record<string, AttributeValue>>> {
  const out = await new DynamoDBClient(clientConfig(acct)).send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `FINDINGS#${acct.region}` } },
    }),
  );
  return out.Items ?? [];
}

/**
 * Rewrites the open findings stored in the account's Region in the shape the stack stored them before
 * finding ids named the account (report schema 1): id and sort key without the account, no
 * `accountId`. Returns the items as they were.
 */
export async function storeOpenFindingsInSchema1Shape(
  acct: Account,
  stack: Stack,
): Promise<Array<Record<string, AttributeValue>>> {
  const items = await openFindingItems(acct, stack);
  if (items.length === 0) throw new Error('no open findings stored to rewrite');
  const oldShape = items.map((item) => {
    const record = JSON.parse(item.record?.S ?? '{}') as Record<string, unknown>;
    const id = legacyFindingId(String(record.id));
    delete record.accountId;
    return {
      ...item,
      sk: { S: `${String(record.vpcId)}#${id}` },
      record: { S: JSON.stringify({ ...record, id }) },
    };
  });
  if (oldShape.some((item, n) => item.sk.S === items[n]?.sk?.S)) throw new Error('ids without an account?');
  await new DynamoDBClient(clientConfig(acct)).send(
    new BatchWriteItemCommand({
      RequestItems: {
        [stack.tableName]: [
          ...items.map((item) => ({
            DeleteRequest: { Key: { pk: item.pk ?? { S: '' }, sk: item.sk ?? { S: '' } } },
          })),
          ...oldShape.map((item) => ({ PutRequest: { Item: item } })),
        ],
      },
    }),
  );
  return items;
}
