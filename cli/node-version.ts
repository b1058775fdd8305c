/**
 * The Node.js versions the CLI runs on: the supported release lines, 22 and 24 (Node.js 20 reached
 * its end of life on 2026-04-30). Checked by cli/bin.ts before anything else loads, so an older Node
 * is refused at once with a message instead of failing halfway, or doing nothing and exiting 0.
 */

/** The oldest Node.js major version the CLI runs on. */
export const MINIMUM_NODE_MAJOR = 22;

/** Why the CLI cannot run on Node.js `version` (`process.versions.node`), or undefined when it can. */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (Number.isInteger(major) && major >= MINIMUM_NODE_MAJOR) return undefined;
  return (
    `Node.js ${version} is not supported: ecs-endpoint-remediator needs Node.js ${MINIMUM_NODE_MAJOR} or ` +
    'later (the supported lines are 22 and 24; Node.js 20 reached its end of life on 2026-04-30). ' +
    'Run it with a newer node, or from a clone with `npm run cli --`, which brings Node.js 24.'
  );
}
