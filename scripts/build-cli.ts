/**
 * Bundles the CLI into dist/cli.mjs, the package's `ecs-endpoint-remediator` bin: one ESM file
 * that runs on Node.js 22 and 24 without TypeScript (Node does not strip types inside node_modules),
 * and on an older Node says which it needs and exits 1 (cli/bin.ts). Written for Node.js 20's parser
 * too, so that the refusal is what an old Node shows, not a syntax error.
 */
import { build } from 'esbuild';
import { bundlePlugins } from './esbuild-plugins.ts';

await build({
  entryPoints: ['cli/bin.ts'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // The SDK's ES module builds are about half the size of its CommonJS ones.
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: 'linked',
  // Some bundled CommonJS code calls require() for Node built-ins.
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  plugins: bundlePlugins,
  logLevel: 'warning',
});
process.stderr.write('built dist/cli.mjs\n');
