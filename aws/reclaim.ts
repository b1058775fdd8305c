/**
 * The reclaim clock in the state table (core/reclaim.ts decides how it moves): one small item per
 * owned endpoint a counting sweep saw serve no need, pk `UNUSED#<region>`, sk `<vpce-… id>`, the
 * record `{vpcEndpointId, vpcId, since}` as JSON in `record`. aws/state.ts's header lists every item
 * kind of the table.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { UnusedEndpoint } from '../core/reclaim.ts';
import { KEY, queryPartition, readRecord } from './state.ts';

export interface ReclaimStore {
  /** The Region's clock entries (a consistent read). */
  load(region: string): Promise<UnusedEndpoint[]>;
  /** Starts the clocks of `start` and stops those of `stop`. */
  save(region: string, start: readonly UnusedEndpoint[], stop: readonly UnusedEndpoint[]): Promise<void>;
}

const unusedSchema = z.object({
  vpcEndpointId: z.string().check(z.regex(/^vpce-[0-9a-f]+$/)),
  vpcId: z.string(),
  since: z.iso.datetime(),
});

const S = (value: string): AttributeValue => ({ S: value });
const partition = (region: string) => `UNUSED#${region}`;

export function createReclaimStore(client: DynamoDBClient, tableName: string): ReclaimStore {
  return {
    async load(region) {
      const items = await queryPartition(client, tableName, partition(region));
      return items.map((item) => readRecord(unusedSchema, item));
    },
    async save(region, start, stop) {
      // Stops first: an endpoint both stopped and started (never, as core/reclaim.ts moves the clock)
      // would keep the later start.
      for (const entry of stop)
        await client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: { [KEY.partition]: S(partition(region)), [KEY.sort]: S(entry.vpcEndpointId) },
          }),
        );
      for (const entry of start)
        await client
          .send(
            new PutItemCommand({
              TableName: tableName,
              Item: {
                [KEY.partition]: S(partition(region)),
                [KEY.sort]: S(entry.vpcEndpointId),
                record: S(JSON.stringify(entry)),
              },
              // A clock already running keeps its start: a retried sweep must not restart it.
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': KEY.partition },
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
          });
    },
  };
}
