/**
 * The records of a split sweep in the state table (core/units.ts has the split itself). Per run and
 * Region, `pk` `RUN#<runId>#<region>`:
 *
 * | item  | sk             | holds                                                                          |
 * | ----- | -------------- | ------------------------------------------------------------------------------ |
 * | run   | `RUN`          | when it was split, how many shards and plan units, the parts done (string sets), what its steps noted for the reclaim unit (`unusedVpcs`, `unexaminedVpcs`, `zoneUses`, `gap`: run-store `StepNote`) |
 * | shard | `SHARD#<part>` | its clusters (`record`), then the VPC → clusters entries it found (`entries`)   |
 *
 * per Region, `pk` `RUNS#<region>`, sk `ACTIVE`: the run under way (a sweep while it runs leaves the
 * Region to it; a claim older than an hour is taken over);
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
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { ClusterIndexEntries } from '../discover/cluster-index.ts';
import { collectPages } from '../pagination.ts';
import { KEY, StateRecordError, TTL_ATTRIBUTE, eventKeyId, readRecord } from '../state.ts';

/** How long a run's records are kept: a sweep's units finish in minutes, the next sweep starts anew. */
export const RUN_RETAIN_SECONDS = 24 * 3600;

/** What a run-wide cap has left. */
export interface LedgerBalance {
  readonly endpoints: number;
  readonly actions: number;
  /** The monthly cost (cents) fixes may still add (`limits.maxAddedMonthlyCostUsdPerRun`); absent: no budget. */
  readonly costCents?: number;
}

/**
 * What one step of a plan unit (or anything else run-wide) notes for the run's reclaim unit
 * (aws/units/reclaim-unit.ts). Sets are added to, so a step done twice notes once.
 */
export interface StepNote {
  /** VPCs where owned endpoints serve no need (core/reclaim.ts `reportedUnused`). */
  readonly unusedVpcIds?: readonly string[];
  /** VPCs of the step it did not examine (no live ECS work left): they may hold owned endpoints. */
  readonly unexaminedVpcIds?: readonly string[];
  /** The remediator's endpoints of other VPCs the step's VPCs reach through a zone (hub-and-spoke). */
  readonly zoneUses?: readonly string[];
  /** A gap in what the run saw (a skipped read, a need that cannot be known): the run does not count. */
  readonly gap?: string;
}

/** What the steps of a run's units noted for its reclaim unit, and when the run was split. */
export interface RunNotes {
  readonly startedAt: string;
  readonly unusedVpcIds: readonly string[];
  readonly unexaminedVpcIds: readonly string[];
  /** Endpoints other VPCs of the run reach through a zone. */
  readonly zoneUses: readonly string[];
  /** The first gap noted. */
  readonly gap?: string;
}

/** Longest gap kept: the reason a finding gives, not a log. */
const GAP_MAX_CHARS = 500;

/** A part marked done: how many parts of its phase are done, of how many. */
export interface PartsDone {
  readonly done: number;
  readonly parts: number;
}

export interface RunStore {
  /**
   * Claims the Region for a run: refused (returns the run under way) while another run has not
   * finished and made progress ({@link RunStore.progress}, or began) less than `staleSeconds` before
   * `startedAt`; a run's own claim is granted again (a retried split).
   */
  claimRegion(
    runId: string,
    region: string,
    startedAt: Date,
    staleSeconds: number,
  ): Promise<
    | { readonly granted: true }
    | { readonly granted: false; readonly runId: string; readonly startedAt: string }
  >;
  /** Ends the run's claim on the Region (a claim another run took over is left alone). */
  releaseRegion(runId: string, region: string): Promise<void>;
  /**
   * Records that the run made progress at `at` (a unit done, a checkpoint sent): its claim on the
   * Region stays fresh however long the run takes (a claim another run took over is left alone).
   */
  progress(runId: string, region: string, at: Date): Promise<void>;
  /**
   * Records the run's split of `region` into index shards, unless recorded already (a retried split):
   * returns each shard's clusters as recorded (the first writer of each wins).
   */
  startRun(
    runId: string,
    region: string,
    shards: ReadonlyArray<readonly string[]>,
    startedAt: Date,
  ): Promise<string[][]>;
  /** Records what an index shard found, unless recorded already (a retried shard keeps the first). */
  saveShard(runId: string, region: string, part: number, entries: ClusterIndexEntries): Promise<void>;
  /** Marks an index shard done (once, however often it is called); `startedAt`: when the run was split. */
  markShardDone(
    runId: string,
    region: string,
    part: number,
  ): Promise<PartsDone & { readonly startedAt: string }>;
  /** Every shard's entries (all shards are done when this is called). */
  loadShards(runId: string, region: string): Promise<ClusterIndexEntries[]>;
  /** Records how many plan units the run has. */
  recordPlan(runId: string, region: string, units: number): Promise<void>;
  /** Marks a plan unit done (once); `startedAt`: when the run was split. */
  markUnitDone(
    runId: string,
    region: string,
    part: number,
  ): Promise<PartsDone & { readonly startedAt: string }>;
  /**
   * Notes what a step saw (sets added to; the first gap noted stays). A run not recorded (yet, or any
   * more: its records expired) notes nothing.
   */
  noteStep(runId: string, region: string, note: StepNote): Promise<void>;
  /** The run under way in `region` (its claim), if any. */
  activeRun(region: string): Promise<string | undefined>;
  /** What the run's steps noted, and when it was split. */
  loadNotes(runId: string, region: string): Promise<RunNotes>;
  /** Every cluster the run's index shards read (the clusters listed at the split). */
  loadShardClusters(runId: string, region: string): Promise<string[]>;
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

const activeKey = (region: string) => ({
  [KEY.partition]: S(`RUNS#${region}`),
  [KEY.sort]: S('ACTIVE'),
});

const shardClusters = z.object({ clusterArns: z.array(z.string()) });
const shardEntries = z.record(z.string(), z.array(z.string()));

/** The part number of a `SHARD#<part>` item. */
function partOf(item: Record<string, AttributeValue>): number {
  return Number(item[KEY.sort]?.S?.slice('SHARD#'.length) ?? -1);
}

export function createRunStore(client: DynamoDBClient, tableName: string): RunStore {
  const expires = () => N(Math.floor(Date.now() / 1000) + RUN_RETAIN_SECONDS);
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
  const putIfAbsent = async (item: Record<string, AttributeValue>): Promise<boolean> => {
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...item, [TTL_ATTRIBUTE]: expires() },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': KEY.partition },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };
  const shardItems = async (runId: string, region: string) => {
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
    return items.sort((a, b) => partOf(a) - partOf(b));
  };
  return {
    async claimRegion(runId, region, startedAt, staleSeconds) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...activeKey(region),
              runId: S(runId),
              startedAt: S(startedAt.toISOString()),
              progressAt: S(startedAt.toISOString()),
              [TTL_ATTRIBUTE]: expires(),
            },
            // Stale: no progress for `staleSeconds` (a claim written before progress was kept: since
            // it began).
            ConditionExpression:
              'attribute_not_exists(#pk) OR runId = :run OR progressAt < :stale OR ' +
              '(attribute_not_exists(progressAt) AND startedAt < :stale)',
            ExpressionAttributeNames: { '#pk': KEY.partition },
            ExpressionAttributeValues: {
              ':run': S(runId),
              ':stale': S(new Date(startedAt.getTime() - staleSeconds * 1000).toISOString()),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { granted: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return {
          granted: false,
          runId: error.Item?.runId?.S ?? '?',
          startedAt: error.Item?.startedAt?.S ?? '?',
        };
      }
    },
    async releaseRegion(runId, region) {
      try {
        await client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: activeKey(region),
            ConditionExpression: 'runId = :run',
            ExpressionAttributeValues: { ':run': S(runId) },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async progress(runId, region, at) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: activeKey(region),
            UpdateExpression: 'SET progressAt = :at',
            ConditionExpression: 'runId = :run AND progressAt < :at',
            ExpressionAttributeValues: { ':run': S(runId), ':at': S(at.toISOString()) },
          }),
        );
      } catch (error) {
        // Taken over, finished, or a later progress recorded already.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async startRun(runId, region, shards, startedAt) {
      await putIfAbsent({
        ...runKey(runId, region, 'RUN'),
        shards: N(shards.length),
        startedAt: S(startedAt.toISOString()),
      });
      const recorded = await shardItems(runId, region);
      const parts = Number(
        (
          await client.send(
            new GetItemCommand({
              TableName: tableName,
              Key: runKey(runId, region, 'RUN'),
              ConsistentRead: true,
            }),
          )
        ).Item?.shards?.N ?? shards.length,
      );
      // Each shard's clusters in an item of its own (the run's record stays small): the first writer
      // of each wins, so a retried split sends the shards the first attempt recorded.
      const have = new Set(recorded.map(partOf));
      for (let part = 0; part < parts; part += 1) {
        if (have.has(part)) continue;
        await putIfAbsent({
          ...runKey(runId, region, `SHARD#${part}`),
          record: S(JSON.stringify({ clusterArns: shards[part] ?? [] })),
        });
      }
      const all = have.size === parts ? recorded : await shardItems(runId, region);
      return all.map((item) => readRecord(shardClusters, item).clusterArns);
    },
    async saveShard(runId, region, part, entries) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: runKey(runId, region, `SHARD#${part}`),
            UpdateExpression: 'SET entries = :entries',
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(entries)',
            ExpressionAttributeNames: { '#pk': KEY.partition },
            ExpressionAttributeValues: { ':entries': S(JSON.stringify(entries)) },
          }),
        );
      } catch (error) {
        // Recorded by an earlier delivery of this shard: the first result stands.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async markShardDone(runId, region, part) {
      const item = await markDone(runId, region, 'shardsDone', part);
      return {
        done: item.shardsDone?.SS?.length ?? 0,
        parts: Number(item.shards?.N ?? 0),
        startedAt: item.startedAt?.S ?? new Date(0).toISOString(),
      };
    },
    async loadShards(runId, region) {
      return (await shardItems(runId, region)).map((item) => readRecord(shardEntries, item, 'entries'));
    },
    async recordPlan(runId, region, units) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: runKey(runId, region, 'RUN'),
          UpdateExpression: 'SET #units = :units',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#units': 'units', '#pk': KEY.partition },
          ExpressionAttributeValues: { ':units': N(units) },
        }),
      );
    },
    async markUnitDone(runId, region, part) {
      const item = await markDone(runId, region, 'unitsDone', part);
      return {
        done: item.unitsDone?.SS?.length ?? 0,
        parts: Number(item.units?.N ?? 0),
        startedAt: item.startedAt?.S ?? new Date(0).toISOString(),
      };
    },
    async noteStep(runId, region, note) {
      const adds: string[] = [];
      const values: Record<string, AttributeValue> = {};
      const add = (attribute: string, items: readonly string[]) => {
        if (items.length === 0) return;
        adds.push(`${attribute} :${attribute}`);
        values[`:${attribute}`] = { SS: [...new Set(items)] };
      };
      add('unusedVpcs', note.unusedVpcIds ?? []);
      add('unexaminedVpcs', note.unexaminedVpcIds ?? []);
      add('zoneUses', note.zoneUses ?? []);
      const updates = adds.length > 0 ? [`ADD ${adds.join(', ')}`] : [];
      if (note.gap !== undefined) {
        updates.push('SET gap = if_not_exists(gap, :gap)');
        values[':gap'] = S(note.gap.slice(0, GAP_MAX_CHARS));
      }
      if (updates.length === 0) return;
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: runKey(runId, region, 'RUN'),
            UpdateExpression: updates.join(' '),
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': KEY.partition },
            ExpressionAttributeValues: values,
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async activeRun(region) {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: activeKey(region), ConsistentRead: true }),
      );
      return out.Item?.runId?.S;
    },
    async loadNotes(runId, region) {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: runKey(runId, region, 'RUN'), ConsistentRead: true }),
      );
      if (!out.Item) throw new StateRecordError(`RUN#${runId}#${region}/RUN`, 'no run record');
      return {
        startedAt: out.Item.startedAt?.S ?? new Date(0).toISOString(),
        unusedVpcIds: [...(out.Item.unusedVpcs?.SS ?? [])].sort(),
        unexaminedVpcIds: [...(out.Item.unexaminedVpcs?.SS ?? [])].sort(),
        zoneUses: [...(out.Item.zoneUses?.SS ?? [])].sort(),
        ...(out.Item.gap?.S === undefined ? {} : { gap: out.Item.gap.S }),
      };
    },
    async loadShardClusters(runId, region) {
      return (await shardItems(runId, region)).flatMap((item) => readRecord(shardClusters, item).clusterArns);
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
              ...(limits.costCents === undefined ? {} : { costCentsLeft: N(limits.costCents) }),
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
        ...(out.Item.costCentsLeft?.N === undefined ? {} : { costCents: Number(out.Item.costCentsLeft.N) }),
      };
    },
    async take(runId, amount) {
      if (amount.endpoints === 0 && amount.actions === 0 && !amount.costCents) return true;
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: ledgerKey(runId),
            // The cost is taken only under a budget (the ledger was opened with costCentsLeft then).
            UpdateExpression:
              'SET endpointsLeft = endpointsLeft - :e, actionsLeft = actionsLeft - :a' +
              (amount.costCents === undefined ? '' : ', costCentsLeft = costCentsLeft - :c'),
            ConditionExpression:
              'endpointsLeft >= :e AND actionsLeft >= :a' +
              (amount.costCents === undefined ? '' : ' AND costCentsLeft >= :c'),
            ExpressionAttributeValues: {
              ':e': N(amount.endpoints),
              ':a': N(amount.actions),
              ...(amount.costCents === undefined ? {} : { ':c': N(amount.costCents) }),
            },
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
