#!/usr/bin/env node
/**
 * The `ecs-endpoint-remediator` command (bundled as dist/cli.mjs; `npm run cli` runs it from source).
 * An unsupported Node.js is refused here, before the CLI and the AWS SDK load (cli/node-version.ts).
 */
import { nodeVersionProblem } from './node-version.ts';

const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`error: ${problem}\n`);
  process.exitCode = 1;
} else {
  const { main } = await import('./main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
