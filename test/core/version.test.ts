/**
 * ECS agent versions.
 */
import { describe, expect, it } from 'vitest';

import { MINIMUM_AGENT_VERSION, compareVersions, isAgentOutdated } from '../../core/version.ts';

describe('compareVersions', () => {
  it.each([
    ['1.25.1', '1.25.1', 0],
    ['1.25.0', '1.25.1', -1],
    ['1.26.0', '1.25.9', 1],
    ['2.0.0', '1.99.99', 1],
    ['1.9.0', '1.10.0', -1], // numeric, not lexicographic
    ['v1.25.1', '1.25.1', 0],
    ['1.25.1-beta', '1.25.1', 0],
    [' 1.30.0 ', '1.25.1', 1],
  ])('%s vs %s → sign %i', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b) ?? Number.NaN)).toBe(sign);
  });

  it.each(['', 'latest', '1.25', 'x.y.z'])('%j is unparsable', (version) => {
    expect(compareVersions(version, '1.0.0')).toBeUndefined();
  });
});

describe('isAgentOutdated', () => {
  it('the minimum is 1.25.1', () => {
    expect(MINIMUM_AGENT_VERSION).toBe('1.25.1');
  });

  it.each([
    ['1.25.0', true],
    ['1.0.0', true],
    ['v1.17.3', true],
    ['1.25.1', false],
    ['1.25.2', false],
    ['1.89.0', false],
  ])('%s → %s', (version, outdated) => {
    expect(isAgentOutdated(version)).toBe(outdated);
  });

  it('an unknown or unparsable version is not reported as outdated', () => {
    expect(isAgentOutdated(undefined)).toBe(false);
    expect(isAgentOutdated('unknown')).toBe(false);
  });
});
