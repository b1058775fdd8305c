/** The oldest ECS container agent that supports the ECS interface endpoints. */
export const MINIMUM_AGENT_VERSION = '1.25.1';

function parts(version: string): number[] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? match.slice(1, 4).map(Number) : undefined;
}

/**
 * Compares two `major.minor.patch` versions (a leading `v` and any suffix are ignored).
 * Returns a negative number, 0 or a positive number; undefined when either is unparsable.
 */
export function compareVersions(a: string, b: string): number | undefined {
  const left = parts(a);
  const right = parts(b);
  if (!left || !right) return undefined;
  for (let index = 0; index < 3; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** True when the agent version is known and older than {@link MINIMUM_AGENT_VERSION}. */
export function isAgentOutdated(agentVersion: string | undefined): boolean {
  if (agentVersion === undefined) return false;
  const comparison = compareVersions(agentVersion, MINIMUM_AGENT_VERSION);
  return comparison !== undefined && comparison < 0;
}
