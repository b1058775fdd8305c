/**
 * What every discovery step shares: the clients, the Region, progress reporting and error wrapping.
 */
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

export interface DiscoveryContext {
  readonly region: string;
  readonly clients: AwsClients;
  /** Runs one API read, wrapping a failure in a {@link DiscoveryError} naming `operation`. */
  call<T>(operation: string, send: () => Promise<T>): Promise<T>;
  /** A step's outcome (counts), for the caller's log; the caller knows the Region it asked for. */
  progress(message: string): void;
}

export function createContext(
  clients: AwsClients,
  region: string,
  onProgress?: (message: string) => void,
): DiscoveryContext {
  return {
    region,
    clients,
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
