/**
 * The public contracts documented in docs/ are checked against the code: every finding code, action
 * kind and config field the code knows is documented, and the docs name none the code does not know.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { ACTION_KINDS } from '../../core/actions.ts';
import { defaultConfig } from '../../core/config.ts';
import { FINDING_CODES } from '../../core/findings.ts';
import { NEEDS } from '../../core/needs.ts';
import { OUTPUT_FORMATS, USAGE } from '../../cli/args.ts';
import { CSV_COLUMNS } from '../../core/csv.ts';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** The deploy params serverless.yml declares (`params.default`), but those that name the stack's own resources. */
function deployParams(): string[] {
  const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
  const block = /\nparams:\n {2}default:\n((?: {4}.*\n| *#.*\n|\n)+)/.exec(yml)?.[1] ?? '';
  return [...block.matchAll(/^ {4}(\w+): (.*)$/gm)]
    .filter(([, , value]) => !/^(!Ref|\$\{)/.test(value ?? ''))
    .map(([, name]) => name ?? '');
}

/** The first-column entries of the Markdown table rows that start with a backquoted name. */
function tableKeys(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1] ?? '');
}

/** Dotted paths of every leaf of an object (`limits.maxActionsPerRun`). */
function leaves(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, prefix ? `${prefix}.${key}` : key));
}

describe('docs', () => {
  it('findings.md documents exactly the finding codes and action kinds', () => {
    const keys = tableKeys(doc('findings.md'));
    const codes = keys.filter((key) => /^[A-Z][A-Z0-9_]+$/.test(key));
    expect(new Set(codes)).toEqual(new Set([...FINDING_CODES, ...ACTION_KINDS]));
  });

  it('config.md documents every config field', () => {
    const keys = new Set(tableKeys(doc('config.md')));
    expect(leaves(defaultConfig).filter((path) => !keys.has(path))).toEqual([]);
  });

  it('cli.md has a row for every flag of the usage text', () => {
    const rows = new Set(tableKeys(doc('cli.md')).map((key) => key.split(' ')[0]));
    const flags = [...new Set([...USAGE.matchAll(/^\s+(--[a-z-]+)/gm)].map((match) => match[1] ?? ''))];
    expect(flags.length).toBeGreaterThan(10);
    expect(flags.filter((flag) => !rows.has(flag))).toEqual([]);
  });

  it('architecture.md lists every need', () => {
    const architecture = doc('architecture.md');
    expect(Object.keys(NEEDS).filter((need) => !architecture.includes(`\`${need}\``))).toEqual([]);
  });

  it('cli.md documents every flag of the usage, every --output format and every CSV column', () => {
    const cli = doc('cli.md');
    const flags = [...USAGE.matchAll(/^ {2}(--[a-z-]+)/gm)].map((match) => match[1] ?? '');
    expect(flags.length).toBeGreaterThan(10);
    expect(flags.filter((flag) => !cli.includes(`\`${flag}`))).toEqual([]);
    const keys = new Set(tableKeys(cli));
    // The formats table has a row for each machine format; the --output row says text is the default.
    expect(cli).toContain('`text` (default)');
    expect(OUTPUT_FORMATS.filter((format) => format !== 'text' && !keys.has(format))).toEqual([]);
    expect(CSV_COLUMNS.filter((column) => !keys.has(column))).toEqual([]);
  });

  it('deploy.md documents every deploy param', () => {
    const params = deployParams();
    expect(params).toEqual(expect.arrayContaining(['mode', 'securityHubExport', 'restartInstanceTag']));
    const keys = new Set(tableKeys(doc('deploy.md')));
    expect(params.filter((param) => !keys.has(param))).toEqual([]);
  });
});
