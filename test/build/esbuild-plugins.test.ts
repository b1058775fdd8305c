// The bundle-time rewrite of the SDK's schema tables: it must change nothing the SDK reads, and it
// must let esbuild drop the schemas of commands we never send.
import { createRequire } from 'node:module';
import path from 'node:path';
import { compileFunction } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundlePlugins, literalSchemaKeys } from '../../scripts/esbuild-plugins.ts';

const root = path.resolve(import.meta.dirname, '../..');
/** Every SDK client the handlers and the CLI import. */
const CLIENTS = ['ec2', 'ecs', 'ssm', 'route-53', 'iam', 'dynamodb', 'sns', 'sqs', 'secrets-manager'];

async function bundle(contents: string, plugins: typeof bundlePlugins, minify = true): Promise<string> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    mainFields: ['module', 'main'],
    minify,
    plugins,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

function evaluate(code: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  const run = compileFunction(code, ['module', 'exports', 'require']) as (
    m: typeof module,
    e: Record<string, unknown>,
    r: NodeJS.Require,
  ) => void;
  run(module, module.exports, createRequire(import.meta.url));
  return module.exports;
}

/**
 * A value as text, following the schemas' lazy references (`() => X$`) and numbering shared or
 * cyclic objects, so that two module instances print alike exactly when they hold the same schemas.
 */
function canonical(value: unknown, seen = new Map<object, number>()): string {
  if (typeof value === 'function') {
    // Arrow thunks have no prototype; classes (the error types) are named.
    return 'prototype' in value ? `class ${value.name}` : `=> ${canonical((value as () => unknown)(), seen)}`;
  }
  if (value === undefined) return 'undefined';
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const id = seen.get(value);
  if (id !== undefined) return `#${id}`;
  seen.set(value, seen.size);
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, seen)).join(',')}]`;
  if (value instanceof Map) return `Map${canonical([...value.entries()], seen)}`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key], seen)}`);
  return `{${entries.join(',')}}`;
}

describe('literalSchemaKeys', () => {
  it('turns computed keys naming the string table into literal keys', () => {
    const source = [
      'const _xN = "xmlName";',
      'const _eQN = "ec2QueryName";',
      'const _Fil = "Filter";',
      'export var R$ = [3, n0, _R, 0, [_Fi], [[() => L, { [_xN]: _Fil }], [0, { [_eQN]: `NextToken`,',
      '    [_xN]: _nTe }]]];',
    ].join('\n');
    expect(literalSchemaKeys(source)).toContain(
      '[[() => L, { "xmlName": _Fil }], [0, { "ec2QueryName": `NextToken`,\n    "xmlName": _nTe }]]',
    );
  });

  it('leaves a key whose constant the module does not declare computed', () => {
    const source = 'const _a = "a";\nexport var X$ = [{ [_a]: 1, [_b]: 2 }];';
    expect(literalSchemaKeys(source)).toBe('const _a = "a";\nexport var X$ = [{ "a": 1, [_b]: 2 }];');
  });
});

describe('the SDK schema plugin', () => {
  it.each(CLIENTS)('leaves @aws-sdk/client-%s schemas as they were', async (client) => {
    const entry = `module.exports = require('@aws-sdk/client-${client}/dist-es/schemas/schemas_0.js');`;
    // Unminified, so that the error classes keep their names in both.
    const original = evaluate(await bundle(entry, [], false));
    const rewritten = evaluate(await bundle(entry, bundlePlugins, false));
    const names = Object.keys(original).sort();
    expect(Object.keys(rewritten).sort()).toEqual(names);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => canonical(rewritten[name]) !== canonical(original[name]))).toEqual([]);
  });

  it('lets the schemas of unused commands tree-shake away', async () => {
    const entry = [
      "import { EC2Client, DescribeVpcsCommand } from '@aws-sdk/client-ec2';",
      'export const describe = () => new EC2Client({}).send(new DescribeVpcsCommand({}));',
    ].join('\n');
    const without = await bundle(entry, []);
    const withPlugin = await bundle(entry, bundlePlugins);
    // The schema of an unrelated command: in the bundle only while the table is kept whole.
    expect(without).toContain('UnmonitorInstancesRequest');
    expect(withPlugin).not.toContain('UnmonitorInstancesRequest');
    expect(withPlugin).toContain('DescribeVpcsRequest');
    expect(withPlugin.length).toBeLessThan(without.length / 2);
  });
});
