/**
 * A small client for Security Hub's BatchImportFindings (restJson1, `POST /findings/import`): the signed
 * JSON client of aws/signed-json-client.ts (which says why the SDK's own client is not used).
 */
import type { AsffFinding } from '../core/asff.ts';
import type { JsonClient, JsonClientOptions } from './signed-json-client.ts';
import { createJsonClient } from './signed-json-client.ts';

/** The operations the export sends. */
export type SecurityHubOperation = 'BatchImportFindings';

/** BatchImportFindings's answer (the API model's BatchImportFindingsResponse). */
export interface BatchImportFindingsOutput {
  readonly FailedCount: number;
  readonly SuccessCount: number;
  readonly FailedFindings?: ReadonlyArray<{
    readonly Id: string;
    readonly ErrorCode: string;
    readonly ErrorMessage: string;
  }>;
}

/** What the export needs of Security Hub: one import of at most 100 findings. */
export interface SecurityHubClient {
  batchImportFindings(findings: readonly AsffFinding[]): Promise<BatchImportFindingsOutput>;
}

export function createSecurityHubClient(options: JsonClientOptions<SecurityHubOperation>): SecurityHubClient {
  const client: JsonClient<SecurityHubOperation> = createJsonClient<SecurityHubOperation>(
    {
      service: 'securityhub',
      endpointVariable: 'SECURITYHUB',
      request: () => ({
        method: 'POST',
        path: '/findings/import',
        headers: { 'content-type': 'application/json' },
      }),
    },
    options,
  );
  return {
    batchImportFindings: (findings) =>
      client.send<BatchImportFindingsOutput>('BatchImportFindings', { Findings: findings }),
  };
}
