/**
 * Restart claims: the state-table items that make an agent restart happen once per instance and ECS
 * endpoint change, whatever runs at the same time, crashes or loses a response (aws/state.ts's header
 * table lists the item kinds; docs/architecture.md, "Agent restarts", argues the design).
 *
 * | item            | pk                                 | sk                          | expires |
 * | --------------- | ---------------------------------- | --------------------------- | ------- |
 * | restart claim   | `RESTART#<region>#<clusterArn>`    | `CLAIM#<instanceId>#<cutoff>` | 30 days |
 * | restart failures| `RESTART#<region>#<clusterArn>`    | `FAILURES#<instanceId>`     | 30 days |
 * | cutoff refresh  | `RESTART#<region>#<vpcId>`         | `CUTOFF`                    | 30 days |
 * | continuation    | `RESTART#<region>#<vpcId>`         | `CONTINUATION`              | 1 day   |
 *
 * A claim is written (conditionally) before the command is sent and moves `claimed` → `sent` (with
 * the command id) → `done` (agent reconnected and the restart recorded) or `failed`. Every write is
 * conditional on the version it read, so two runs never both take one claim. The cutoff refresh makes
 * concurrent runs agree on one cutoff (the change's identity) instead of each setting its own.
 *
 * The claim is also the state of a restart that spans invocations (the deployed reconciler's steps,
 * aws/restart.ts): `claimedAt` starts the command's time limit, and `finishedAt`, set on a `sent`
 * claim when its command is first seen succeeded while its agent has not reconnected yet, starts the
 * reconnection's, whichever invocation looks next. The continuation item names the delayed message on
 * its way to continue a VPC's restarts (aws/event-batch.ts), so that a reconcile made by another
 * event meanwhile does not start a second chain of continuations.
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

export type ClaimStatus = 'claimed' | 'sent' | 'done' | 'failed';

/** One instance's claim for one endpoint change. */
export interface RestartClaim {
  readonly ec2InstanceId: string;
  readonly cutoff: string;
  readonly status: ClaimStatus;
  /** The id carried in the SSM command's Comment (`#<sendId>`): shared by the instances of one send. */
  readonly sendId: string;
  /** The run that holds the claim. */
  readonly owner: string;
  /** Epoch seconds until which a `claimed` claim is its owner's to send. */
  readonly leaseUntil: number;
  readonly claimedAt: string;
  readonly documentName: string;
  readonly commandId?: string;
  /** When the command was first seen succeeded, while the agent had not reconnected yet (a `sent` claim). */
  readonly finishedAt?: string;
  readonly message?: string;
  /** Incremented by every write; writes are conditional on it. */
  readonly version: number;
}

/** What the table holds for the instances of one cluster. */
export interface ClusterClaims {
  /** Claims of this change (cutoff), by instance id. */
  readonly claims: ReadonlyMap<string, RestartClaim>;
  /** Failed restarts in a row, by instance id (any change). */
  readonly failures: ReadonlyMap<string, number>;
}

export interface RestartClaims {
  /** The table, for messages. */
  readonly tableName: string;
  load(region: string, clusterArn: string, cutoff: string): Promise<ClusterClaims>;
  /**
   * Takes the claim if the table still holds `expected` (undefined: no claim yet). False when another
   * run wrote first.
   */
  claim(
    region: string,
    clusterArn: string,
    claim: Omit<RestartClaim, 'version'>,
    expected: RestartClaim | undefined,
  ): Promise<RestartClaim | undefined>;
  /** Moves a claim on; false when it is no longer the one given (another run took it over). */
  update(
    region: string,
    clusterArn: string,
    claim: RestartClaim,
    change: Partial<
      Pick<RestartClaim, 'status' | 'commandId' | 'finishedAt' | 'message' | 'owner' | 'leaseUntil'>
    >,
  ): Promise<RestartClaim | undefined>;
  /** Counts a failed restart of the instance (what sorts it last next time). */
  addFailure(region: string, clusterArn: string, ec2InstanceId: string, message: string): Promise<void>;
  clearFailures(region: string, clusterArn: string, ec2InstanceId: string): Promise<void>;
  /**
   * The cutoff that identifies the change being restarted for, agreed between concurrent runs: the
   * first run to refresh `current` (the endpoints' cutoff tag, or none) within `reuseSeconds` stores
   * `proposed`; the others get its value.
   */
  refreshCutoff(
    region: string,
    vpcId: string,
    current: string | undefined,
    proposed: string,
    reuseSeconds: number,
  ): Promise<string>;
  /** The continuation last sent for the VPC's restarts: its event id and when (epoch ms) it is due. */
  continuation(region: string, vpcId: string): Promise<ScheduledContinuation | undefined>;
  /** Records the continuation just sent for the VPC's restarts (the reconciles of a Region are serial). */
  recordContinuation(region: string, vpcId: string, continuation: ScheduledContinuation): Promise<void>;
}

/** A restart continuation sent: its event id, and when it is delivered (epoch ms). */
export interface ScheduledContinuation {
  readonly id: string;
  readonly dueAt: number;
}

const RETAIN_SECONDS = 30 * 24 * 3600;
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

const clusterKey = (region: string, clusterArn: string) => `RESTART#${region}#${clusterArn}`;
const claimKey = (region: string, clusterArn: string, instanceId: string, cutoff: string) => ({
  pk: S(clusterKey(region, clusterArn)),
  sk: S(`CLAIM#${instanceId}#${cutoff}`),
});
const failuresKey = (region: string, clusterArn: string, instanceId: string) => ({
  pk: S(clusterKey(region, clusterArn)),
  sk: S(`FAILURES#${instanceId}`),
});
const cutoffKey = (region: string, vpcId: string) => ({
  pk: S(`RESTART#${region}#${vpcId}`),
  sk: S('CUTOFF'),
});
const continuationKey = (region: string, vpcId: string) => ({
  pk: S(`RESTART#${region}#${vpcId}`),
  sk: S('CONTINUATION'),
});
const CONTINUATION_RETAIN_SECONDS = 24 * 3600;

const STATUSES: readonly ClaimStatus[] = ['claimed', 'sent', 'done', 'failed'];

function readClaim(item: Record<string, AttributeValue>): RestartClaim | undefined {
  const status = item.status?.S as ClaimStatus | undefined;
  const instanceId = item.instanceId?.S;
  const cutoff = item.cutoff?.S;
  if (!status || !STATUSES.includes(status) || !instanceId || !cutoff) return undefined;
  return {
    ec2InstanceId: instanceId,
    cutoff,
    status,
    sendId: item.sendId?.S ?? '',
    owner: item.owner?.S ?? '',
    leaseUntil: Number(item.leaseUntil?.N ?? '0'),
    claimedAt: item.claimedAt?.S ?? '',
    documentName: item.documentName?.S ?? '',
    ...(item.commandId?.S ? { commandId: item.commandId.S } : {}),
    ...(item.finishedAt?.S ? { finishedAt: item.finishedAt.S } : {}),
    ...(item.message?.S ? { message: item.message.S } : {}),
    version: Number(item.version?.N ?? '0'),
  };
}

function claimItem(region: string, clusterArn: string, claim: RestartClaim, now: Date) {
  return {
    ...claimKey(region, clusterArn, claim.ec2InstanceId, claim.cutoff),
    instanceId: S(claim.ec2InstanceId),
    cutoff: S(claim.cutoff),
    status: S(claim.status),
    sendId: S(claim.sendId),
    owner: S(claim.owner),
    leaseUntil: N(claim.leaseUntil),
    claimedAt: S(claim.claimedAt),
    documentName: S(claim.documentName),
    ...(claim.commandId ? { commandId: S(claim.commandId) } : {}),
    ...(claim.finishedAt ? { finishedAt: S(claim.finishedAt) } : {}),
    ...(claim.message ? { message: S(claim.message.slice(0, 1000)) } : {}),
    version: N(claim.version),
    expiresAt: N(epochSeconds(now) + RETAIN_SECONDS),
  };
}

/** Whether two items hold the same attributes and values. */
function sameItem(a: Record<string, AttributeValue>, b: Record<string, AttributeValue>): boolean {
  const canonical = (item: Record<string, AttributeValue>) =>
    JSON.stringify(Object.entries(item).sort(([x], [y]) => x.localeCompare(y)));
  return canonical(a) === canonical(b);
}

/**
 * Writes conditionally on `expected`'s version (or on nothing being there); false if that lost.
 *
 * A write whose response was lost is retried by the SDK, and the retry fails the condition the first
 * attempt met: the item the table holds then is exactly the one written (every write carries a new
 * version and its run's owner and claim id), so that is a win, not another run's write. Without this,
 * a run gives up the claim it holds, and every run skips the instance until the lease runs out.
 */
async function conditionalPut(
  client: DynamoDBClient,
  tableName: string,
  item: Record<string, AttributeValue>,
  expectedVersion: number | undefined,
): Promise<boolean> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: item,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...(expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': N(expectedVersion) },
            }),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      return error.Item !== undefined && sameItem(error.Item, item);
    throw error;
  }
}

export function createRestartClaims(
  client: DynamoDBClient,
  tableName: string,
  now: () => Date = () => new Date(),
): RestartClaims {
  return {
    tableName,

    async load(region, clusterArn, cutoff) {
      const claims = new Map<string, RestartClaim>();
      const failures = new Map<string, number>();
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': S(clusterKey(region, clusterArn)) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          const sk = item.sk?.S ?? '';
          if (sk.startsWith('FAILURES#')) {
            failures.set(sk.slice('FAILURES#'.length), Number(item.failures?.N ?? '0'));
            continue;
          }
          const claim = readClaim(item);
          if (claim?.cutoff === cutoff) claims.set(claim.ec2InstanceId, claim);
        }
        start = out.LastEvaluatedKey;
      } while (start);
      return { claims, failures };
    },

    async claim(region, clusterArn, claim, expected) {
      const next: RestartClaim = { ...claim, version: (expected?.version ?? 0) + 1 };
      const won = await conditionalPut(
        client,
        tableName,
        claimItem(region, clusterArn, next, now()),
        expected?.version,
      );
      return won ? next : undefined;
    },

    async update(region, clusterArn, claim, change) {
      const next: RestartClaim = { ...claim, ...change, version: claim.version + 1 };
      const won = await conditionalPut(
        client,
        tableName,
        claimItem(region, clusterArn, next, now()),
        claim.version,
      );
      return won ? next : undefined;
    },

    async addFailure(region, clusterArn, instanceId, message) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: failuresKey(region, clusterArn, instanceId),
          UpdateExpression: 'ADD failures :one SET lastError = :message, lastAt = :at, expiresAt = :expires',
          ExpressionAttributeValues: {
            ':one': N(1),
            ':message': S(message.slice(0, 1000) || '-'),
            ':at': S(now().toISOString()),
            ':expires': N(epochSeconds(now()) + RETAIN_SECONDS),
          },
        }),
      );
    },

    async clearFailures(region, clusterArn, instanceId) {
      await client.send(
        new DeleteItemCommand({ TableName: tableName, Key: failuresKey(region, clusterArn, instanceId) }),
      );
    },

    async refreshCutoff(region, vpcId, current, proposed, reuseSeconds) {
      const from = current ?? '-';
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const out = await client.send(
          new GetItemCommand({ TableName: tableName, Key: cutoffKey(region, vpcId), ConsistentRead: true }),
        );
        const item = out.Item;
        const stored = {
          from: item?.from?.S,
          to: item?.to?.S,
          at: Number(item?.at?.N ?? '0'),
          version: item ? Number(item.version?.N ?? '0') : undefined,
        };
        const recent = epochSeconds(now()) - stored.at <= reuseSeconds;
        if (stored.to !== undefined && recent && (stored.from === from || stored.to === current))
          return stored.to;
        const written = await conditionalPut(
          client,
          tableName,
          {
            ...cutoffKey(region, vpcId),
            from: S(from),
            to: S(proposed),
            at: N(epochSeconds(now())),
            version: N((stored.version ?? 0) + 1),
            expiresAt: N(epochSeconds(now()) + RETAIN_SECONDS),
          },
          stored.version,
        );
        if (written) return proposed;
      }
      throw new Error(`restart cutoff of ${vpcId}: the state table kept changing under five attempts`);
    },

    async continuation(region, vpcId) {
      const out = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: continuationKey(region, vpcId),
          ConsistentRead: true,
        }),
      );
      const id = out.Item?.id?.S;
      const dueAt = Number(out.Item?.dueAt?.N ?? 'NaN');
      return id && Number.isFinite(dueAt) ? { id, dueAt } : undefined;
    },

    async recordContinuation(region, vpcId, continuation) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            ...continuationKey(region, vpcId),
            id: S(continuation.id),
            dueAt: N(continuation.dueAt),
            expiresAt: N(epochSeconds(now()) + CONTINUATION_RETAIN_SECONDS),
          },
        }),
      );
    },
  };
}
