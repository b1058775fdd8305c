/**
 * The deployed remediator's task definition cache (aws/discover/task-definitions.ts
 * `TaskDefinitionCache`) in the state table: one item per revision, `pk` `TASKDEF#<revision ARN>`,
 * `sk` `TASKDEF`, the definition as discovery keeps it (images, log drivers, secret references, roles:
 * no environment values) as JSON in `record`. Read with BatchGetItem (100 keys a request), written
 * with BatchWriteItem (25 a request, aws/state.ts `batchWriteItems`). An item expires 90 days after it was written: a revision still in
 * use is then described once more and written again.
 *
 * A revision's content cannot change, so an item is never stale; one that does not read back as a
 * definition (an older layout, a hand edit) is a miss, described and overwritten.
 */
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import type {
  AttributeValue,
  BatchGetItemCommandOutput,
  DynamoDBClient,
  KeysAndAttributes,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { TaskDefinition } from '../core/model.ts';
import type { TaskDefinitionCache } from './discover/task-definitions.ts';
import { chunk } from './pagination.ts';
import { KEY, TTL_ATTRIBUTE, batchWriteItems } from './state.ts';

/** How long a cached revision is kept after it was written. */
export const TASK_DEFINITION_RETAIN_SECONDS = 90 * 24 * 3600;
/** Most attempts at a batch's unprocessed keys or items (DynamoDB returns them when throttled). */
const ATTEMPTS = 6;
/** BatchGetItem takes 100 keys a request (writes: aws/state.ts batchWriteItems, 25 a request). */
const GET_BATCH = 100;

const tags = z.record(z.string(), z.string());
const containerSchema = z.object({
  name: z.string(),
  image: z.string(),
  logDriver: z.optional(z.string()),
  logOptions: z.optional(tags),
  firelens: z.optional(z.object({ type: z.string(), options: z.optional(tags) })),
  secretRefs: z.array(z.string()),
  repositoryCredentials: z.optional(z.string()),
});
const definitionSchema = z.object({
  taskDefinitionArn: z.string(),
  containers: z.array(containerSchema),
  executionRoleArn: z.optional(z.string()),
  taskRoleArn: z.optional(z.string()),
});

const S = (value: string): AttributeValue => ({ S: value });
const keyOf = (arn: string): Record<string, AttributeValue> => ({
  [KEY.partition]: S(`TASKDEF#${arn}`),
  [KEY.sort]: S('TASKDEF'),
});

/** The definition an item holds, or undefined when it holds none that reads back. */
function definitionOf(item: Record<string, AttributeValue>): TaskDefinition | undefined {
  try {
    const parsed = definitionSchema.safeParse(JSON.parse(item.record?.S ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));

/** The {@link TaskDefinitionCache} of the state table `tableName`. */
export function createTaskDefinitionCache(
  client: DynamoDBClient,
  tableName: string,
  now: () => Date = () => new Date(),
): TaskDefinitionCache {
  return {
    async get(arns) {
      const found = new Map<string, TaskDefinition>();
      for (const batch of chunk([...new Set(arns)], GET_BATCH)) {
        let pending: KeysAndAttributes | undefined = { Keys: batch.map(keyOf), ConsistentRead: false };
        for (let attempt = 1; pending?.Keys && pending.Keys.length > 0; attempt += 1) {
          if (attempt > ATTEMPTS)
            throw new Error(`${pending.Keys.length} keys still unprocessed after ${ATTEMPTS} attempts`);
          if (attempt > 1) await pause(attempt);
          const out: BatchGetItemCommandOutput = await client.send(
            new BatchGetItemCommand({ RequestItems: { [tableName]: pending } }),
          );
          for (const item of out.Responses?.[tableName] ?? []) {
            const definition = definitionOf(item);
            const arn = item[KEY.partition]?.S?.slice('TASKDEF#'.length);
            if (definition && definition.taskDefinitionArn === arn) found.set(arn, definition);
          }
          pending = out.UnprocessedKeys?.[tableName];
        }
      }
      return found;
    },

    async put(definitions) {
      const expires = String(Math.floor(now().getTime() / 1000) + TASK_DEFINITION_RETAIN_SECONDS);
      const requests = definitions.map((definition): WriteRequest => ({
        PutRequest: {
          Item: {
            ...keyOf(definition.taskDefinitionArn),
            record: S(JSON.stringify(definition)),
            [TTL_ATTRIBUTE]: { N: expires },
          },
        },
      }));
      await batchWriteItems(client, tableName, requests, ATTEMPTS);
    },
  };
}
