/**
 * Which VPCs are examined and changed.
 */
import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../core/config.ts';
import { IGNORE_TAG, vpcScope } from '../../core/scope.ts';
import { IGNORE_TAGS, account, planOf } from './fixtures.ts';

describe('vpcScope', () => {
  const vpc = (tags: Record<string, string> = {}) => ({ vpcId: 'vpc-0a1', tags });

  it('a VPC with ECS work is in scope by default', () => {
    expect(vpcScope(vpc(), parseConfig({}))).toEqual({ inScope: true });
  });

  it('the ignore tag takes a VPC out, whatever the case of its value', () => {
    expect(IGNORE_TAG).toEqual({ key: 'ecs-endpoint-remediator/ignore', value: 'true' });
    for (const value of ['true', 'TRUE', 'True']) {
      expect(vpcScope(vpc({ [IGNORE_TAG.key]: value }), parseConfig({}))).toEqual({
        inScope: false,
        reason: 'ignore-tag',
      });
    }
    expect(vpcScope(vpc({ [IGNORE_TAG.key]: 'false' }), parseConfig({})).inScope).toBe(true);
  });

  it('excludeVpcIds takes a VPC out', () => {
    expect(vpcScope(vpc(), parseConfig({ scope: { excludeVpcIds: ['vpc-0a1'] } }))).toEqual({
      inScope: false,
      reason: 'excluded-by-config',
    });
  });

  it('a non-empty includeVpcIds keeps only those', () => {
    expect(vpcScope(vpc(), parseConfig({ scope: { includeVpcIds: ['vpc-0b2'] } }))).toEqual({
      inScope: false,
      reason: 'not-included-by-config',
    });
    expect(vpcScope(vpc(), parseConfig({ scope: { includeVpcIds: ['vpc-0a1'] } })).inScope).toBe(true);
  });

  it('exclusion wins over inclusion, and the tag wins over both', () => {
    const both = parseConfig({ scope: { includeVpcIds: ['vpc-0a1'], excludeVpcIds: ['vpc-0a1'] } });
    expect(vpcScope(vpc(), both)).toMatchObject({ inScope: false, reason: 'excluded-by-config' });
    expect(vpcScope(vpc(IGNORE_TAGS), both)).toMatchObject({ inScope: false, reason: 'ignore-tag' });
  });
});

describe('out-of-scope VPCs in a plan', () => {
  function twoVpcs(firstTags: Record<string, string> = {}) {
    const a = account();
    const first = a.vpc({ tags: firstTags, name: 'first' });
    a.containerInstance(a.subnet(first));
    const second = a.vpc();
    a.containerInstance(a.subnet(second));
    return { a, first, second };
  }

  it('a VPC tagged ignore gets no findings and no actions, and is reported with the reason', () => {
    const { a, first, second } = twoVpcs(IGNORE_TAGS);
    const plan = planOf(a.snapshot());
    expect(plan.findings.every((finding) => finding.vpcId === second)).toBe(true);
    expect(plan.actions.every((action) => action.vpcId === second)).toBe(true);
    expect(plan.vpcs.find((report) => report.vpcId === first)).toMatchObject({
      inScope: false,
      outOfScopeReason: 'ignore-tag',
      name: 'first',
    });
    expect(plan.vpcs.find((report) => report.vpcId === second)?.inScope).toBe(true);
  });

  it('config include and exclude lists apply to the plan', () => {
    const { a, first, second } = twoVpcs();
    const excluded = planOf(a.snapshot(), { scope: { excludeVpcIds: [first] } });
    expect(new Set(excluded.findings.map((finding) => finding.vpcId))).toEqual(new Set([second]));
    const included = planOf(a.snapshot(), { scope: { includeVpcIds: [first] } });
    expect(new Set(included.findings.map((finding) => finding.vpcId))).toEqual(new Set([first]));
    expect(included.actions.every((action) => action.vpcId === first)).toBe(true);
  });
});
