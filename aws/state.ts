/**
 * The state table: what must outlive one invocation. One DynamoDB table, keys `pk` and `sk` (strings),
 * TTL attribute `expiresAt` (epoch seconds), the record itself as JSON in `record`:
 *
 * | item                  | pk                  | sk                     | expires            |
 * | --------------------- | ------------------- | ---------------------- | ------------------ |
 * | open finding          | `FINDINGS#<region>` | `<vpcId>#<findingId>`  | no                 |
 * | event claim           | `EVENT#<keyId>`     | `EVENT`                | 7 days after done  |
 * | alert not yet sent    | `OUTBOX`            | `<time>#<region>#<vpcId>#<n>` | 7 days      |
 * | VPC → clusters index  | `CLUSTERS#<region>` | `INDEX`                | no                 |
 * | owned resource        | `OWNED#<region>`    | `<vpce-… or sg-… id>`  | no                 |
 * | create intent         | `OWNED#<region>`    | `INTENT#<key>`         | 7 days             |
 * | adoption done         | `OWNED#<region>`    | `ADOPTION#<label>`     | no                 |
 * | endpoint unneeded since | `UNUSED#<region>` | `<vpce-… id>`          | no                 |
 * | agent restart claim   | `RESTART#<region>#<clusterArn>` | `CLAIM#<instanceId>#<cutoff>` | 30 days |
 * | agent restart failures| `RESTART#<region>#<clusterArn>` | `FAILURES#<instanceId>` | 30 days     |
 * | restart cutoff refresh| `RESTART#<region>#<vpcId>` | `CUTOFF`        | 30 days            |
 * | restart continuation  | `RESTART#<region>#<vpcId>` | `CONTINUATION`  | 1 day              |
 * | Region lease          | `LEASE#<region>`    | `LEASE`                | a day after its end |
 * | task definition       | `TASKDEF#<revision ARN>` | `TASKDEF`         | 90 days            |
 * | split sweep's run     | `RUN#<runId>#<region>` | `RUN`, `SHARD#<part>` | 1 day           |
 * | Region's run under way| `RUNS#<region>`     | `ACTIVE`               | 1 day              |
 * | run-wide caps ledger  | `RUN#<runId>`       | `LEDGER`               | 1 day              |
 * | Security Hub export  | `SECURITYHUB#<region>` | `<vpcId>#<findingId>` | 90 days once archived |
 *
 * An event's `keyId` is its id, or a SHA-256 of it when the id is longer than {@link EVENT_ID_MAX_BYTES}
 * (DynamoDB refuses a partition key over 2,048 bytes): {@link eventKeyId}.
 *
 * An open finding's id names its account since report schema 2; items stored before have the id without
 * it (and no `accountId`): core/alerts.ts `decideAlerts` matches them to the same findings, and they
 * are stored again under the new id, their old item deleted (a migration on read).
 *
 * Findings of a Region share a partition, so a Region sweep reads them with one query and an event's
 * VPC with a `begins_with` on the sort key. Whether an agent owes a restart lives in AWS (core/restarts.ts:
 * a cutoff tag on the endpoints, an attribute on each restarted instance); the restart items make each
 * restart happen once per instance and endpoint change (claimed before it is sent, concurrent runs
 * agreeing on one cutoff, failures counted for the rollout order). aws/restart-claims.ts owns them.
 *
 * A Region's lease makes "one reconcile of a Region at a time" hold while the event source runs
 * several invocations at once (serverless.yml `maximumConcurrency`): the cluster index, the open
 * findings and the alert outbox of a Region each have one writer. It lasts until the holding
 * invocation's own end (its remaining time), so a crashed or timed-out holder frees it by itself.
 *
 * The `SECURITYHUB#` items are aws/securityhub-export.ts's: what the opt-in export last sent of each
 * finding, so that only changes are sent and what is gone can be resolved.
 *
 * The `RUN#` items are aws/units/run-store.ts's: the records of a sweep split into work units, and the
 * ledger of a run's caps.
 *
 * Task definition revisions are aws/task-definition-cache.ts's: what discovery read of each, never
 * stale (a revision's content cannot change), so a sweep describes only revisions it has not seen.
 *
 * The `OWNED#` items are aws/ownership.ts's: the endpoints and groups the remediator made (the only
 * ones it changes or deletes), the intents written ahead of each create, and the one-time adoptions
 * done. Losing them loses ownership until an adoption: point-in-time recovery restores them.
 *
 * The `UNUSED#` items are aws/reclaim.ts's: the reclaim clock, when a counting sweep first saw each
 * owned endpoint serve no need (core/reclaim.ts); removed when it is needed again, gone or deleted.
 *
 * The cluster index is one item per Region (one GetItem per reconcile; an item holds one consistent
 * version): each cluster ARN once, each VPC with the positions of its clusters in that list. It is
 * written only when its content changes, conditionally on the revision it replaces; one that would
 * not fit an item is deleted instead (event-scoped reconciles then read every cluster, as without one).
 */
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { OpenFinding, ReconcileScope } from '../core/alerts.ts';
import { TerminalError } from '../core/errors.ts';
import type { ClusterIndexEntries } from './discover/cluster-index.ts';
import { normalise, sameEntries } from './discover/cluster-index.ts';

// zod/mini ships no messages ("Invalid input" for every issue): install zod's English ones, which
// a StateRecordError has always quoted.
z.config(en());

export const KEY = { partition: 'pk', sort: 'sk' } as const;
export const TTL_ATTRIBUTE = 'expiresAt';

/** A state record that is not what this version wrote (another version's, or edited by hand). */
export class StateRecordError extends Error {
  constructor(key: string, problem: string) {
    super(`state record ${key} is unreadable: ${problem}`);
    this.name = 'StateRecordError';
  }
}

const openFindingSchema = z.object({
  id: z.string(),
  // Records stored before finding ids named the account have neither it nor an account in their id:
  // core/alerts.ts decideAlerts matches them to the same findings and stores them again.
  accountId: z.optional(z.string()),
  code: z.string(),
  severity: z.enum(['high', 'medium', 'low']),
  region: z.string(),
  vpcId: z.string(),
  service: z.optional(z.string()),
  resourceId: z.optional(z.string()),
  message: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  lastAlerted: z.string(),
  lastFailure: z.optional(z.object({ message: z.string(), at: z.string() })),
});

/** An alert waiting to be published: `key` orders and identifies it, `body` is the SNS message. */
export interface OutboxMessage {
  readonly key: string;
  readonly body: string;
}

/** How long an alert that cannot be published is kept trying (then dropped by TTL). */
const OUTBOX_RETAIN_SECONDS = 7 * 24 * 3600;

/** The VPC → ECS clusters index of a Region, as stored (aws/discover/cluster-index.ts makes it). */
export interface StoredClusterIndex {
  readonly region: string;
  /** VPC id → cluster ARNs with work there. */
  readonly vpcs: ClusterIndexEntries;
  /** When the content last changed (it is not rewritten while unchanged). */
  readonly updatedAt: string;
  /** Incremented on every write; a write is conditional on the revision it read. */
  readonly revision: number;
}

/** What saving an index did: written, nothing to write, removed (too large), or lost a race. */
export type ClusterIndexWrite = 'written' | 'unchanged' | 'removed-too-large' | 'conflict';

const clusterIndexSchema = z.object({
  version: z.literal(1),
  region: z.string(),
  updatedAt: z.string(),
  clusters: z.array(z.string()),
  vpcs: z.record(z.string(), z.array(z.number().check(z.int(), z.gte(0)))),
});

/** Serialised index records above this are not stored (DynamoDB's item limit is 400 KB). */
export const CLUSTER_INDEX_MAX_BYTES = 350_000;

/** The outcome of claiming an event: ours to process, already processed, or being processed elsewhere. */
export type EventClaim = 'claimed' | 'done' | 'busy';

/** A Region lease asked for: taken (or renewed by its holder), or held by another until `until`. */
export type RegionLease =
  | { readonly status: 'acquired' }
  | { readonly status: 'held'; readonly holder: string; readonly until: Date };

export interface StateStore {
  /** Open findings of a Region, or of some of its VPCs. */
  loadOpenFindings(scope: ReconcileScope): Promise<OpenFinding[]>;
  /** Writes and deletes open findings (batched, unprocessed items retried). */
  saveOpenFindings(put: readonly OpenFinding[], remove: readonly OpenFinding[]): Promise<void>;
  /**
   * Claims an event for processing (idempotency): `done` when an earlier delivery completed it, `busy`
   * while another claim's lease runs; a lease past its time (a crashed invocation) is taken over.
   * Throws a TerminalError (`invalid-key`) when DynamoDB refuses the event's key, any other error
   * as it came (transient: the message is retried).
   */
  claimEvent(eventId: string, leaseSeconds: number): Promise<EventClaim>;
  /** Marks a claimed event done; the record expires after `retainSeconds`. */
  completeEvent(eventId: string, retainSeconds: number): Promise<void>;
  /** Gives a claim back (the processing failed): the next delivery may claim it. */
  releaseEvent(eventId: string): Promise<void>;
  /**
   * Takes the Region's lease for `holder` until `seconds` from now: a conditional put that succeeds
   * when no lease exists, the existing one has ended, or `holder` holds it already.
   */
  acquireRegionLease(region: string, holder: string, seconds: number): Promise<RegionLease>;
  /** Ends `holder`'s lease of the Region; a lease taken over by another holder is left alone. */
  releaseRegionLease(region: string, holder: string): Promise<void>;
  /**
   * The alert outbox: alerts are written here with the state they describe, then published and
   * deleted, so an alert whose publishing failed is sent by the next reconcile (at least once).
   */
  addToOutbox(messages: readonly OutboxMessage[]): Promise<void>;
  listOutbox(): Promise<OutboxMessage[]>;
  removeFromOutbox(message: OutboxMessage): Promise<void>;
  /** The Region's VPC → clusters index, or undefined when none is stored (first run, removed). */
  loadClusterIndex(region: string): Promise<StoredClusterIndex | undefined>;
  /**
   * Stores `vpcs` as the Region's index if it differs from `previous` (what {@link loadClusterIndex}
   * returned, or undefined for none): a conditional write on `previous`'s revision, so a concurrent
   * writer is never overwritten blindly (`conflict`: the next whole-Region reconcile rewrites it).
   */
  saveClusterIndex(
    region: string,
    vpcs: ClusterIndexEntries,
    previous: StoredClusterIndex | undefined,
  ): Promise<ClusterIndexWrite>;
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

const findingKey = (f: { region: string; vpcId: string; id: string }) => ({
  [KEY.partition]: S(`FINDINGS#${f.region}`),
  [KEY.sort]: S(`${f.vpcId}#${f.id}`),
});
const clusterIndexKey = (region: string) => ({
  [KEY.partition]: S(`CLUSTERS#${region}`),
  [KEY.sort]: S('INDEX'),
});

/** Event ids up to this many UTF-8 bytes are their own key; longer ones are hashed. */
export const EVENT_ID_MAX_BYTES = 512;

/**
 * The part of an event's key that names it: the id itself when it is at most
 * {@link EVENT_ID_MAX_BYTES} bytes of well-formed Unicode (a CloudTrail eventID is a UUID), else
 * `sha256:<hex>` of its JSON text (stable, so redeliveries of one occurrence still share a key; the
 * JSON text keeps lone surrogates apart). Idempotent: a key id is its own key id.
 */
export function eventKeyId(eventId: string): string {
  if (Buffer.byteLength(eventId) <= EVENT_ID_MAX_BYTES && eventId.isWellFormed()) return eventId;
  return `sha256:${createHash('sha256').update(JSON.stringify(eventId)).digest('hex')}`;
}

const leaseKey = (region: string) => ({
  [KEY.partition]: S(`LEASE#${region}`),
  [KEY.sort]: S('LEASE'),
});

const eventKey = (eventId: string) => ({
  [KEY.partition]: S(`EVENT#${eventKeyId(eventId)}`),
  [KEY.sort]: S('EVENT'),
});

/** DynamoDB's answer to a request it will never accept as sent (a key too large, a bad value). */
function isValidationError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException';
}

/**
 * The JSON an item holds in `attribute` (`record` by default), read with `schema`; a
 * {@link StateRecordError} naming the item when it is absent, not JSON or not of that shape.
 */
export function readRecord<T>(
  schema: z.ZodMiniType<T>,
  item: Record<string, AttributeValue>,
  attribute = 'record',
): T {
  const key = `${item[KEY.partition]?.S ?? '?'}/${item[KEY.sort]?.S ?? '?'}`;
  const text = item[attribute]?.S;
  if (text === undefined) throw new StateRecordError(key, `no ${attribute} attribute`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateRecordError(key, `${attribute} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new StateRecordError(key, parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** Most attempts at a BatchWriteItem's unprocessed items (DynamoDB returns them when throttled). */
const BATCH_ATTEMPTS = 8;

/** BatchWriteItem takes at most 25 requests. */
export const MAX_BATCH_WRITE_REQUESTS = 25;

/** The state table key a put or delete request writes. */
function requestKey(request: WriteRequest): string {
  const attributes = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return JSON.stringify([attributes[KEY.partition], attributes[KEY.sort]]);
}

/**
 * `requests` in order, as BatchWriteItem calls: at most {@link MAX_BATCH_WRITE_REQUESTS} each, and a
 * request on a key already in the batch starts the next one. DynamoDB refuses a whole batch with two
 * operations on one item (its API reference, BatchWriteItem); in separate batches, sent one after the
 * other, the later request wins, as it would written one by one.
 */
export function writeBatches(requests: readonly WriteRequest[]): WriteRequest[][] {
  const batches: WriteRequest[][] = [];
  let batch: WriteRequest[] = [];
  let keys = new Set<string>();
  for (const request of requests) {
    const key = requestKey(request);
    if (batch.length === MAX_BATCH_WRITE_REQUESTS || keys.has(key)) {
      batches.push(batch);
      batch = [];
      keys = new Set();
    }
    batch.push(request);
    keys.add(key);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Writes `requests` to `tableName` in order, in the batches of {@link writeBatches}, sending the items
 * DynamoDB leaves unprocessed (when throttled) again with a growing pause; throws once a batch still
 * has some after `attempts`. A batch is done before the next is sent.
 */
export async function batchWriteItems(
  client: DynamoDBClient,
  tableName: string,
  requests: readonly WriteRequest[],
  attempts = BATCH_ATTEMPTS,
): Promise<void> {
  for (const batch of writeBatches(requests)) {
    let pending: WriteRequest[] = batch;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > attempts)
        throw new Error(`state table: ${pending.length} writes still unprocessed after ${attempts} attempts`);
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
    }
  }
}

/**
 * Every item of the state table's partition `pk` (those whose sort key begins with `skPrefix`, if
 * given), all pages, read consistently.
 */
export async function queryPartition(
  client: DynamoDBClient,
  tableName: string,
  pk: string,
  skPrefix?: string,
): Promise<Array<Record<string, AttributeValue>>> {
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression:
          skPrefix === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: {
          '#pk': KEY.partition,
          ...(skPrefix === undefined ? {} : { '#sk': KEY.sort }),
        },
        ExpressionAttributeValues: {
          ':pk': S(pk),
          ...(skPrefix === undefined ? {} : { ':prefix': S(skPrefix) }),
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
        ConsistentRead: true,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export function createStateStore(
  client: DynamoDBClient,
  tableName: string,
  now: () => Date = () => new Date(),
): StateStore {
  const query = (pk: string, skPrefix?: string) => queryPartition(client, tableName, pk, skPrefix);

  const batchWrite = (requests: readonly WriteRequest[]) => batchWriteItems(client, tableName, requests);

  return {
    async loadOpenFindings(scope) {
      const pk = `FINDINGS#${scope.region}`;
      const items =
        scope.vpcIds === undefined
          ? await query(pk)
          : (await Promise.all(scope.vpcIds.map((vpcId) => query(pk, `${vpcId}#`)))).flat();
      return items.map((item) => readRecord(openFindingSchema, item));
    },

    async saveOpenFindings(put, remove) {
      const keyOf = (finding: OpenFinding) => JSON.stringify(findingKey(finding));
      const putKeys = new Set(put.map(keyOf));
      // The puts first, then the deletes (batchWriteItems keeps the order). A finding both put and
      // removed (decideAlerts makes none) is kept: its delete, sent after, would undo the put.
      await batchWrite([
        ...put.map((finding): WriteRequest => ({
          PutRequest: { Item: { ...findingKey(finding), record: S(JSON.stringify(finding)) } },
        })),
        ...remove
          .filter((finding) => !putKeys.has(keyOf(finding)))
          .map((finding): WriteRequest => ({ DeleteRequest: { Key: findingKey(finding) } })),
      ]);
    },

    async claimEvent(eventId, leaseSeconds) {
      const at = epochSeconds(now());
      // Names this attempt's write: when the SDK retries a put whose answer was lost, the retry fails
      // the condition the first attempt met, and the item DynamoDB returns with the refusal is ours.
      const claimId = randomUUID();
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...eventKey(eventId),
              status: S('IN_PROGRESS'),
              claimId: S(claimId),
              leaseUntil: N(at + leaseSeconds),
              // An abandoned claim still goes away by itself.
              [TTL_ATTRIBUTE]: N(at + leaseSeconds + 24 * 3600),
            },
            ConditionExpression: 'attribute_not_exists(#pk) OR (#status = :inProgress AND #lease < :now)',
            ExpressionAttributeNames: { '#pk': KEY.partition, '#status': 'status', '#lease': 'leaseUntil' },
            ExpressionAttributeValues: { ':inProgress': S('IN_PROGRESS'), ':now': N(at) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'claimed';
      } catch (error) {
        if (isValidationError(error))
          throw new TerminalError(
            'invalid-key',
            `state table refused the key of event ${eventKeyId(eventId).slice(0, 100)}: ${(error as Error).message}`,
            { cause: error },
          );
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const existing =
          error.Item ??
          (
            await client.send(
              new GetItemCommand({ TableName: tableName, Key: eventKey(eventId), ConsistentRead: true }),
            )
          ).Item;
        if (existing?.claimId?.S === claimId && existing.status?.S === 'IN_PROGRESS') return 'claimed';
        return existing?.status?.S === 'COMPLETED' ? 'done' : 'busy';
      }
    },

    async completeEvent(eventId, retainSeconds) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: eventKey(eventId),
          UpdateExpression: 'SET #status = :done, #ttl = :ttl REMOVE leaseUntil',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':done': S('COMPLETED'),
            ':ttl': N(epochSeconds(now()) + retainSeconds),
          },
        }),
      );
    },

    async releaseEvent(eventId) {
      await client.send(new DeleteItemCommand({ TableName: tableName, Key: eventKey(eventId) }));
    },

    async acquireRegionLease(region, holder, seconds) {
      const at = epochSeconds(now());
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...leaseKey(region),
              holder: S(holder),
              leaseUntil: N(at + seconds),
              [TTL_ATTRIBUTE]: N(at + seconds + 24 * 3600),
            },
            ConditionExpression: 'attribute_not_exists(#pk) OR #lease < :now OR #holder = :holder',
            ExpressionAttributeNames: { '#pk': KEY.partition, '#lease': 'leaseUntil', '#holder': 'holder' },
            ExpressionAttributeValues: { ':now': N(at), ':holder': S(holder) },
          }),
        );
        return { status: 'acquired' };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const existing = await client.send(
          new GetItemCommand({ TableName: tableName, Key: leaseKey(region), ConsistentRead: true }),
        );
        return {
          status: 'held',
          holder: existing.Item?.holder?.S ?? '?',
          until: new Date(Number(existing.Item?.leaseUntil?.N ?? at) * 1000),
        };
      }
    },

    async releaseRegionLease(region, holder) {
      try {
        await client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: leaseKey(region),
            ConditionExpression: '#holder = :holder',
            ExpressionAttributeNames: { '#holder': 'holder' },
            ExpressionAttributeValues: { ':holder': S(holder) },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

    async addToOutbox(messages) {
      const expires = epochSeconds(now()) + OUTBOX_RETAIN_SECONDS;
      await batchWrite(
        messages.map((message): WriteRequest => ({
          PutRequest: {
            Item: {
              [KEY.partition]: S('OUTBOX'),
              [KEY.sort]: S(message.key),
              body: S(message.body),
              [TTL_ATTRIBUTE]: N(expires),
            },
          },
        })),
      );
    },

    async listOutbox() {
      return (await query('OUTBOX')).map((item) => ({
        key: item[KEY.sort]?.S ?? '',
        body: item.body?.S ?? '',
      }));
    },

    async removeFromOutbox(message) {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: { [KEY.partition]: S('OUTBOX'), [KEY.sort]: S(message.key) },
        }),
      );
    },

    async loadClusterIndex(region) {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: clusterIndexKey(region), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      const record = readRecord(clusterIndexSchema, out.Item);
      const vpcs: Record<string, string[]> = {};
      for (const [vpcId, positions] of Object.entries(record.vpcs)) {
        vpcs[vpcId] = positions.map((n) => {
          const arn = record.clusters[n];
          if (arn === undefined)
            throw new StateRecordError(`CLUSTERS#${region}/INDEX`, `${vpcId}: no cluster at ${n}`);
          return arn;
        });
      }
      return {
        region,
        vpcs: normalise(vpcs),
        updatedAt: record.updatedAt,
        revision: Number(out.Item.revision?.N ?? '0'),
      };
    },

    async saveClusterIndex(region, entries, previous) {
      const vpcs = normalise(entries);
      if (previous && sameEntries(previous.vpcs, vpcs)) return 'unchanged';
      const clusters = [...new Set(Object.values(vpcs).flat())].sort();
      const position = new Map(clusters.map((arn, n) => [arn, n]));
      const record = JSON.stringify({
        version: 1,
        region,
        updatedAt: now().toISOString(),
        clusters,
        vpcs: Object.fromEntries(
          Object.entries(vpcs).map(([vpcId, arns]) => [vpcId, arns.map((arn) => position.get(arn) ?? -1)]),
        ),
      });
      const condition: {
        ConditionExpression: string;
        ExpressionAttributeNames: Record<string, string>;
        ExpressionAttributeValues?: Record<string, AttributeValue>;
      } =
        previous === undefined
          ? {
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': KEY.partition },
            }
          : {
              ConditionExpression: '#revision = :revision',
              ExpressionAttributeNames: { '#revision': 'revision' },
              ExpressionAttributeValues: { ':revision': N(previous.revision) },
            };
      try {
        if (Buffer.byteLength(record) > CLUSTER_INDEX_MAX_BYTES) {
          if (previous === undefined) return 'removed-too-large';
          await client.send(
            new DeleteItemCommand({ TableName: tableName, Key: clusterIndexKey(region), ...condition }),
          );
          return 'removed-too-large';
        }
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...clusterIndexKey(region),
              record: S(record),
              revision: N((previous?.revision ?? 0) + 1),
            },
            ...condition,
          }),
        );
        return 'written';
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return 'conflict';
        throw error;
      }
    },
  };
}

/** The table definition shared by serverless.yml's resource and the tests (which create it in moto). */
export const STATE_TABLE_KEY_SCHEMA = [
  { AttributeName: KEY.partition, KeyType: 'HASH' },
  { AttributeName: KEY.sort, KeyType: 'RANGE' },
] as const;
