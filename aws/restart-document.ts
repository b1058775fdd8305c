/**
 * The stack's SSM Command document that restarts the ECS agent (aws/restart-document.json; serverless.yml
 * creates it as `RestartAgentDocument`). It takes one parameter, `method`, limited by `allowedValues` to
 * systemctl, docker and powershell, and no command text: whoever may send it can restart the agent and
 * do nothing else. One step per platform (precondition `platformType`): the Linux step runs the
 * systemctl or docker method, the Windows step the PowerShell one; a method on the wrong platform fails.
 *
 * Pinning. IAM has no condition key or ARN form for the version of a document sent with
 * `ssm:SendCommand` (`ssm:DocumentVersion` applies to Automation and Change Manager only; the document
 * ARN is `document/<name>` with no version), so the version is pinned in three ways instead:
 * - the document's name ends with a hash of its content ({@link restartDocumentName}): the role may
 *   send that name only, and changed content is a new name (CloudFormation replaces the document);
 * - the code sends version {@link RESTART_DOCUMENT_VERSION} explicitly, never `$DEFAULT`;
 * - before sending, it reads that version with GetDocument and refuses it unless its content is
 *   exactly this file's ({@link verifyRestartDocument}).
 */
import { GetDocumentCommand } from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { isDeepStrictEqual } from 'node:util';
import { createHash } from 'node:crypto';
import content from './restart-document.json' with { type: 'json' };
import type { RestartMethod } from '../core/actions.ts';
import { errorName } from './errors.ts';

export const RESTART_DOCUMENT_CONTENT: unknown = content;

/** The version the code sends: the stack creates the document once per name, as version 1. */
export const RESTART_DOCUMENT_VERSION = '1';

/** JSON with sorted keys: the same content hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The first 12 hex digits of the SHA-256 of the document's canonical JSON. */
export const RESTART_DOCUMENT_HASH = createHash('sha256')
  .update(canonical(content))
  .digest('hex')
  .slice(0, 12);

/** The service name every stack resource starts with (serverless.yml `service`). */
export const SERVICE = 'ecs-endpoint-remediator';

/** The well-known name of the document of a stack's stage: `ecs-endpoint-remediator-<stage>-restart-agent-<hash>`. */
export function restartDocumentName(stage: string): string {
  return `${SERVICE}-${stage}-restart-agent-${RESTART_DOCUMENT_HASH}`;
}

/** The step of the document that runs each method (its plugin name in the invocation's CommandPlugins). */
export const RESTART_DOCUMENT_STEP: Readonly<Record<RestartMethod, string>> = {
  systemctl: 'restartLinuxAgent',
  docker: 'restartLinuxAgent',
  powershell: 'restartWindowsAgent',
};

/** What the document's pinned version turned out to be. */
export type DocumentCheck =
  | { readonly status: 'verified' }
  | { readonly status: 'missing' }
  | { readonly status: 'different'; readonly reason: string };

/**
 * Reads the pinned version of `name` and checks it is this document, content for content (parsed
 * JSON, so CloudFormation's serialisation does not matter). `missing` when the account has no such
 * document (or version) in the client's Region.
 */
export async function verifyRestartDocument(ssm: SSMClient, name: string): Promise<DocumentCheck> {
  let out;
  try {
    out = await ssm.send(
      new GetDocumentCommand({
        Name: name,
        DocumentVersion: RESTART_DOCUMENT_VERSION,
        DocumentFormat: 'JSON',
      }),
    );
  } catch (error) {
    const code = errorName(error);
    if (code === 'InvalidDocument' || code === 'InvalidDocumentVersion') return { status: 'missing' };
    throw error;
  }
  if (out.DocumentType !== undefined && out.DocumentType !== 'Command')
    return { status: 'different', reason: `it is a ${out.DocumentType} document` };
  if (out.Status !== undefined && out.Status !== 'Active')
    return { status: 'different', reason: `its status is ${out.Status}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.Content ?? '');
  } catch {
    return { status: 'different', reason: 'its content is not JSON' };
  }
  return isDeepStrictEqual(parsed, content)
    ? { status: 'verified' }
    : {
        status: 'different',
        reason: `version ${RESTART_DOCUMENT_VERSION} is not the content this code ships`,
      };
}
