/**
 * What every discovery step shares: the clients, the Region, progress reporting and error wrapping.
 */
import type { SkippedRead } from '../../core/model.ts';
import type { AwsClients } from '../clients.ts';

/** Concurrent ECS clusters examined at once. */
export const CLUSTER_CONCURRENCY = 4;
/** Concurrent requests of one kind fanned out at once (task definitions, VPC attributes, chunks). */
export const REQUEST_CONCURRENCY = 8;

/** A read that failed during discovery; `operation` is like `ec2:DescribeVpcEndpoints`. */
export class DiscoveryError extends Error {
  readonly region: string;
  readonly operation: string;
  /** The AWS error code (`UnauthorizedOperation`, `ThrottlingException`, …) when there is one. */
  readonly code: string | undefined;
  constructor(region: string, operation: string, cause: unknown) {
    super(`${region}: ${operation} failed: ${messageOf(cause)}`, { cause });
    this.name = 'DiscoveryError';
    this.region = region;
    this.operation = operation;
    this.code = codeOf(cause);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = codeOf(error);
    return code !== undefined && code !== 'Error' && !error.message.includes(code)
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}

/** The SDK puts the AWS error code in `name` of a ServiceException. */
export function codeOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { Code?: unknown }).Code;
  if (typeof code === 'string') return code;
  return error.name === 'Error' ? undefined : error.name;
}

/**
 * Error codes that say "this read will not work here" (permission, an operation the endpoint does not
 * offer) rather than "this Region is unreachable": for reads only some checks need, they skip the
 * read instead of failing the Region.
 */
const DEGRADABLE = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'UnsupportedOperation',
  'InvalidAction',
  'OptInRequired',
  'NotImplemented',
]);

/** Whether a failed read is one AWS refuses here for good (permission, unsupported), not a failure. */
export function isDegradable(error: unknown): boolean {
  const code = error instanceof DiscoveryError ? error.code : codeOf(error);
  return code !== undefined && DEGRADABLE.has(code);
}

export interface DiscoveryContext {
  readonly region: string;
  readonly clients: AwsClients;
  /** Runs one API read, wrapping a failure in a {@link DiscoveryError} naming `operation`. */
  call<T>(operation: string, send: () => Promise<T>): Promise<T>;
  /**
   * A read only some checks need: if AWS refuses it (access denied, not supported), it is recorded
   * as skipped (see `RegionSnapshot.skippedReads`) and `fallback` is returned; other errors fail.
   */
  optional<T>(
    operation: string,
    resourceId: string | undefined,
    read: () => Promise<T>,
    fallback: T,
  ): Promise<T>;
  /** Records a read refused with a {@link isDegradable} error as skipped. */
  skip(operation: string, error: unknown, resourceId?: string): void;
  /** The reads skipped so far. */
  readonly skipped: readonly SkippedRead[];
  /** A step's outcome (counts), for the caller's log; the caller knows the Region it asked for. */
  progress(message: string): void;
}

export function createContext(
  clients: AwsClients,
  region: string,
  onProgress?: (message: string) => void,
): DiscoveryContext {
  const skipped: SkippedRead[] = [];
  const skip = (operation: string, error: unknown, resourceId?: string): void => {
    const message = error instanceof DiscoveryError ? messageOf(error.cause) : messageOf(error);
    skipped.push({ operation, reason: message, ...(resourceId === undefined ? {} : { resourceId }) });
    onProgress?.(`${operation} skipped${resourceId ? ` for ${resourceId}` : ''}: ${message}`);
  };
  return {
    region,
    clients,
    skipped,
    skip,
    async optional(operation, resourceId, read, fallback) {
      try {
        return await read();
      } catch (error) {
        if (!isDegradable(error)) throw error;
        skip(operation, error, resourceId);
        return fallback;
      }
    },
    async call(operation, send) {
      try {
        return await send();
      } catch (error) {
        if (error instanceof DiscoveryError) throw error;
        throw new DiscoveryError(region, operation, error);
      }
    },
    progress(message) {
      onProgress?.(message);
    },
  };
}
