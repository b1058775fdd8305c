/**
 * esbuild plugins shared by every bundle we ship: the Lambda handlers (serverless.yml's
 * `custom.esbuild.plugins` loads this file), the CLI (scripts/build-cli.ts) and the benchmark's
 * handler bundles (bench/run.ts).
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/** A generated AWS SDK client's schema module (`@aws-sdk/client-*`, ES module build). */
const SDK_SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** `const _xN = "xmlName";`: the string table a schema module starts with. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\]|\\.)*");$/gm;

/** A computed object key naming one of those constants: `{ [_xN]: …`. */
const COMPUTED_KEY = /([{,]\s*)\[(_\w+)\]:/g;

/**
 * Rewrites the computed keys of an SDK schema module (`{ [_xN]: _Fil }`) into the literal keys they
 * stand for (`{ "xmlName": _Fil }`); the module's values are unchanged.
 *
 * Why: esbuild keeps every statement holding a computed key (evaluating the key could have side
 * effects), so since SDK 3.930 each client's whole schema table stays in the bundle even when one
 * command is used: 547 KiB of `@aws-sdk/client-ec2` for our dozen EC2 calls. With literal keys the
 * unused schemas tree-shake away. This is the upstream fix proposed in smithy-typescript#1889 for
 * aws-sdk-js-v3#7607, applied at bundle time until it is released.
 *
 * A key whose constant the module does not declare is left computed (kept, never broken).
 */
export function literalSchemaKeys(source: string): string {
  const strings = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) {
    if (name !== undefined && literal !== undefined) strings.set(name, literal);
  }
  return source.replace(COMPUTED_KEY, (whole, before: string, name: string) => {
    const literal = strings.get(name);
    return literal === undefined ? whole : `${before}${literal}:`;
  });
}

/** The esbuild plugin applying {@link literalSchemaKeys} to every SDK client schema module. */
export const sdkSchemaTreeShaking: Plugin = {
  name: 'sdk-schema-tree-shaking',
  setup(build) {
    build.onLoad({ filter: SDK_SCHEMA_MODULE }, async (args) => ({
      contents: literalSchemaKeys(await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** Every plugin of our bundles, in order (the form serverless-esbuild's `plugins` file takes). */
export const bundlePlugins: Plugin[] = [sdkSchemaTreeShaking];

export default bundlePlugins;
