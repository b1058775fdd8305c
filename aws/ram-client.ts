/**
 * A small client for AWS RAM's ListResources (restJson1, `POST /listresources`): the signed JSON
 * client of aws/signed-json-client.ts (which says why the SDK's own clients are not used; a whole
 * `@aws-sdk/client-ram` for one read would add to the Lambda bundle what this reuses).
 */
import type { JsonClient, JsonClientOptions } from './signed-json-client.ts';
import { createJsonClient } from './signed-json-client.ts';

/** The operations discovery sends. */
export type RamOperation = 'ListResources';

/** ListResources's input, as discovery asks (the API model's ListResourcesRequest, in part). */
export interface ListResourcesInput {
  /** `SELF`: resources this account shares with others; `OTHER-ACCOUNTS`: shared with it. */
  readonly resourceOwner: 'SELF' | 'OTHER-ACCOUNTS';
  /** e.g. `ec2:Subnet`. */
  readonly resourceType?: string;
  readonly maxResults?: number;
  readonly nextToken?: string;
}

/** ListResources's answer (the API model's ListResourcesResponse, in part). */
export interface ListResourcesOutput {
  readonly resources?: ReadonlyArray<{
    readonly arn?: string;
    readonly type?: string;
    readonly resourceShareArn?: string;
    readonly status?: string;
  }>;
  readonly nextToken?: string;
}

/** What discovery needs of AWS RAM. */
export interface RamClient {
  listResources(input: ListResourcesInput): Promise<ListResourcesOutput>;
}

export function createRamClient(options: JsonClientOptions<RamOperation>): RamClient {
  const client: JsonClient<RamOperation> = createJsonClient<RamOperation>(
    {
      service: 'ram',
      endpointVariable: 'RAM',
      request: () => ({
        method: 'POST',
        path: '/listresources',
        headers: { 'content-type': 'application/json' },
      }),
    },
    options,
  );
  return {
    listResources: (input) => client.send<ListResourcesOutput>('ListResources', { ...input }),
  };
}
