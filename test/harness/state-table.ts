// The remediator's state table as the stack creates it (serverless.yml): a string partition key `pk`
// and sort key `sk`, on demand.
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE_KEY_SCHEMA } from '../../aws/state.ts';

/** Creates the state table `tableName` with `client` (the emulator's). */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [...STATE_TABLE_KEY_SCHEMA],
    }),
  );
}
