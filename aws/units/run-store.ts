/**
 * The records of a split sweep in the state table (core/units.ts has the split itself). Per run and
 * Region, `pk` `RUN#<runId>#<region>`:
 *
 * | item          | sk              | holds                                                         |
 * | ------------- | --------------- | ------------------------------------------------------------- |
 * | run           | `RUN`           | the clusters split into shards (`record`), the shards done and the plan units done (string sets), how many plan units |
 * | shard's index | `SHARD#<part>`  | the VPC → clusters entries the shard found (`record`)         |
 *
 * and per run, `pk` `RUN#<runId>`, sk `LEDGER`: the run-wide caps left (`endpointsLeft`,
 * `actionsLeft`), taken with conditional decrements by every Region's units (`limits.*PerRun` are
 * "over all Regions"). Every item expires a day after it was written.
 *
 * Marking a part done adds it to a set: doing it twice (a retried message) counts it once, and
 * whoever sees the set complete moves the run on (doing that twice is harmless: the messages it sends
 * have ids of their own, core/units.ts `unitId`).
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { ClusterIndexEntries } from '../discover/cluster-index.ts';
import { collectPages } from '../pagination.ts';
import { KEY, StateRecordError, TTL_ATTRIBUTE, eventKeyId } from '../state.ts';

/** How long a run's records are kept: a sweep's units finish in minutes, the next sweep starts anew. */
export const RUN_RETAIN_SECONDS = 24 * 3600;

/** What a run-wide cap has left. */
export interface LedgerBalance {
  readonly endpoints: number;
  readonly actions: number;
}

/** A part marked done: how many parts of its phase are done, of how many. */
export interface PartsDone {
  readonly done: number;
  readonly parts: number;
}

export interface RunStore {
  /**
   * Records the run's split of `region` into index shards, unless recorded already (a retried split):
   * returns the clusters as recorded, which decide the shards.
   */
  startRun(runId: string, region: string, clusterArns: readonly string[], shards: number): Promise<string[]>;
  saveShard(runId: string, region: string, part: number, entries: ClusterIndexEntries): Promise<void>;
  /** Marks an index shard done (once, however often it is called). */
  markShardDone(runId: string, region: string, part: number): Promise<PartsDone>;
  /** Every shard's entries. */
  loadShards(runId: string, region: string): Promise<ClusterIndexEntries[]>;
  /** Records how many plan units the run has, and the VPCs they cover. */
  recordPlan(runId: string, region: string, units: number, vpcIds: readonly string[]): Promise<void>;
  /** Marks a plan unit done (once); `vpcIds`: every VPC of the run's plan units. */
  markUnitDone(
    runId: string,
    region: string,
    part: number,
  ): Promise<PartsDone & { readonly vpcIds: readonly string[] }>;
  /** Opens the run's ledger with `limits`, unless open already. */
  openLedger(runId: string, limits: LedgerBalance): Promise<void>;
  balance(runId: string): Promise<LedgerBalance>;
  /** Takes `amount` from the ledger: false (nothing taken) when it has less left. */
  take(runId: string, amount: LedgerBalance): Promise<boolean>;
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

const runKey = (runId: string, region: string, sort: string) => ({
  [KEY.partition]: S(`RUN#${eventKeyId(runId)}#${region}`),
  [KEY.sort]: S(sort),
});
const ledgerKey = (runId: string) => ({
  [KEY.partition]: S(`RUN#${eventKeyId(runId)}`),
  [KEY.sort]: S('LEDGER'),
});

const runRecord = z.object({ clusterArns: z.array(z.string()) });
const planRecord = z.object({ vpcIds: z.array(z.string()) });
const shardRecord = z.object({ entries: z.record(z.string(), z.array(z.string())) });

function read<T>(schema: z.ZodMiniType<T>, item: Record<string, AttributeValue>, attribute: string): T {
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

export function createRunStore(client: DynamoDBClient, tableName: string): RunStore {
  const expires = () => N(Math.floor(Date.now() / 1000) + RUN_RETAIN_SECONDS);
  const getRun = async (runId: string, region: string) =>
    (
      await client.send(
        new GetItemCommand({ TableName: tableName, Key: runKey(runId, region, 'RUN'), ConsistentRead: true }),
      )
    ).Item;
  const markDone = async (runId: string, region: string, set: string, part: number) =>
    (
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: runKey(runId, region, 'RUN'),
          UpdateExpression: 'ADD #set :part',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#set': set, '#pk': KEY.partition },
          ExpressionAttributeValues: { ':part': { SS: [String(part)] } },
          ReturnValues: 'ALL_NEW',
        }),
      )
    ).Attributes ?? {};
  return {
    async startRun(runId, region, clusterArns, shards) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...runKey(runId, region, 'RUN'),
              record: S(JSON.stringify({ clusterArns })),
              shards: N(shards),
              [TTL_ATTRIBUTE]: expires(),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': KEY.partition },
          }),
        );
        return [...clusterArns];
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const item = await getRun(runId, region);
        if (!item) throw error;
        return read(runRecord, item, 'record').clusterArns;
      }
    },
    async saveShard(runId, region, part, entries) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            ...runKey(runId, region, `SHARD#${part}`),
            record: S(JSON.stringify({ entries })),
            [TTL_ATTRIBUTE]: expires(),
          },
        }),
      );
    },
    async markShardDone(runId, region, part) {
      const item = await markDone(runId, region, 'shardsDone', part);
      return { done: item.shardsDone?.SS?.length ?? 0, parts: Number(item.shards?.N ?? 0) };
    },
    async loadShards(runId, region) {
      const key = runKey(runId, region, '');
      const items = await collectPages(async (nextToken?: string) => {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :shard)',
            ExpressionAttributeNames: { '#pk': KEY.partition, '#sk': KEY.sort },
            ExpressionAttributeValues: { ':pk': key[KEY.partition], ':shard': S('SHARD#') },
            ConsistentRead: true,
            ...(nextToken === undefined
              ? {}
              : { ExclusiveStartKey: JSON.parse(nextToken) as Record<string, AttributeValue> }),
          }),
        );
        return {
          items: out.Items ?? [],
          nextToken: out.LastEvaluatedKey ? JSON.stringify(out.LastEvaluatedKey) : undefined,
        };
      });
      return items.map((item) => read(shardRecord, item, 'record').entries);
    },
    async recordPlan(runId, region, units, vpcIds) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: runKey(runId, region, 'RUN'),
          UpdateExpression: 'SET #units = :units, #plan = :plan',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#units': 'units', '#plan': 'plan', '#pk': KEY.partition },
          ExpressionAttributeValues: { ':units': N(units), ':plan': S(JSON.stringify({ vpcIds })) },
        }),
      );
    },
    async markUnitDone(runId, region, part) {
      const item = await markDone(runId, region, 'unitsDone', part);
      return {
        done: item.unitsDone?.SS?.length ?? 0,
        parts: Number(item.units?.N ?? 0),
        vpcIds: item.plan ? read(planRecord, item, 'plan').vpcIds : [],
      };
    },
    async openLedger(runId, limits) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...ledgerKey(runId),
              endpointsLeft: N(limits.endpoints),
              actionsLeft: N(limits.actions),
              [TTL_ATTRIBUTE]: expires(),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': KEY.partition },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async balance(runId) {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: ledgerKey(runId), ConsistentRead: true }),
      );
      if (!out.Item) throw new StateRecordError(`RUN#${runId}/LEDGER`, 'no ledger');
      return {
        endpoints: Number(out.Item.endpointsLeft?.N ?? 0),
        actions: Number(out.Item.actionsLeft?.N ?? 0),
      };
    },
    async take(runId, amount) {
      if (amount.endpoints === 0 && amount.actions === 0) return true;
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: ledgerKey(runId),
            UpdateExpression: 'SET endpointsLeft = endpointsLeft - :e, actionsLeft = actionsLeft - :a',
            ConditionExpression: 'endpointsLeft >= :e AND actionsLeft >= :a',
            ExpressionAttributeValues: { ':e': N(amount.endpoints), ':a': N(amount.actions) },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
