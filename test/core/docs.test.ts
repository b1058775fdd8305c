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
import { USAGE } from '../../cli/args.ts';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

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
});
