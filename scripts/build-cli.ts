/**
 * Bundles the CLI into dist/cli.mjs, the package's `ecs-endpoint-remediator` bin: one ESM file
 * that runs on Node.js 24 without TypeScript (Node does not strip types inside node_modules).
 */
import { build } from 'esbuild';
import { bundlePlugins } from './esbuild-plugins.ts';

await build({
  entryPoints: ['cli/main.ts'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  platform: 'node',
  target: 'node24',
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
