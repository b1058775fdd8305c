// docs/deploy.md ("Failure handling") documents exactly the dead-letter reasons and the classes of
// events that may be ignored: nothing is dropped for a reason the docs do not name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IGNORED_CLASSES, TERMINAL_REASONS } from '../../core/errors.ts';

const deploy = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
const section = deploy.slice(deploy.indexOf('## Failure handling'), deploy.indexOf('## Multi-Region'));

describe('docs/deploy.md, Failure handling', () => {
  it('lists every eer-reason in its table, and no other', () => {
    const table = section.slice(section.indexOf('| `eer-reason`'));
    const rows = [...table.matchAll(/^\| `([a-z-]+)` /gm)].map((m) => m[1]);
    expect(rows.slice(1)).toEqual(Object.keys(TERMINAL_REASONS));
  });

  it('names every class of event that may be ignored', () => {
    for (const name of Object.keys(IGNORED_CLASSES)) expect(section).toContain(`\`${name}\``);
  });
});
