import { describe, expect, it } from 'vitest';
import { coalesceHints, judgeEventBody } from '../../core/events.ts';
import type { PlanUnit, ReclaimUnit } from '../../core/units.ts';
import {
  UNIT_MAX_VPCS,
  indexShards,
  needsSplit,
  nextStep,
  planUnits,
  reclaimUnit,
  unitId,
  workUnitBody,
} from '../../core/units.ts';

const arn = (name: string) => `arn:aws:ecs:us-east-1:123456789012:cluster/${name}`;
const sizes = { clustersPerShard: 2, vpcsPerUnit: 2, vpcsPerStep: 1 };

describe('work units', () => {
  it('splits when the clusters or the indexed VPCs exceed one unit, not before', () => {
    expect(needsSplit(2, 2, sizes)).toBe(false);
    expect(needsSplit(3, 0, sizes)).toBe(true);
    expect(needsSplit(1, 3, sizes)).toBe(true);
  });

  it('shards the sorted, distinct clusters in slices', () => {
    const shards = indexShards('run-1', [arn('c'), arn('a'), arn('b'), arn('a')], sizes);
    expect(shards.map((s) => s.clusterArns)).toEqual([[arn('a'), arn('b')], [arn('c')]]);
    expect(shards.map((s) => [s.part, s.parts])).toEqual([
      [0, 2],
      [1, 2],
    ]);
  });

  it('batches the index into plan units, each VPC with exactly the clusters that work there', () => {
    const index = {
      'vpc-3': [arn('c')],
      'vpc-1': [arn('a'), arn('shared')],
      'vpc-2': [arn('b'), arn('shared')],
    };
    const units = planUnits('run-1', index, { ...sizes, clustersPerShard: 3 });
    expect(units.map((u) => u.vpcIds)).toEqual([['vpc-1', 'vpc-2'], ['vpc-3']]);
    // A unit also closes before its clusters would pass a shard's: each unit reads all of them.
    expect(planUnits('run-1', index, sizes).map((u) => u.vpcIds)).toEqual([['vpc-1'], ['vpc-2'], ['vpc-3']]);
    const first = units[0] as PlanUnit;
    expect(first.clusterArns).toEqual([arn('a'), arn('b'), arn('shared')]);
    const step1 = nextStep(first, 1);
    expect(step1).toMatchObject({ vpcIds: ['vpc-1'], clusterArns: [arn('a'), arn('shared')] });
    const step2 = nextStep(step1.rest as PlanUnit, 1);
    expect(step2).toMatchObject({
      vpcIds: ['vpc-2'],
      clusterArns: [arn('b'), arn('shared')],
      rest: undefined,
    });
  });

  it('a unit body reads back as a hint of its own, never coalesced; a resumed unit is a new occurrence', () => {
    const [unit] = planUnits('run-1', { 'vpc-0a1': [arn('a')], 'vpc-0b2': [arn('a')] }, sizes);
    const body = workUnitBody('us-east-1', unit as PlanUnit, '2026-11-30T00:00:00Z', '123456789012');
    const judged = judgeEventBody(body);
    expect(judged.status).toBe('hint');
    if (judged.status !== 'hint') return;
    expect(judged.hint.scope).toEqual({ kind: 'unit', region: 'us-east-1', unit });
    const { work, units } = coalesceHints([judged.hint, judged.hint], ['us-east-1']);
    expect(work).toEqual([]);
    expect(units).toHaveLength(2);
    const resumed = nextStep(unit as PlanUnit, 1).rest as PlanUnit;
    expect(unitId('us-east-1', resumed)).not.toBe(unitId('us-east-1', unit as PlanUnit));
    expect(unitId('us-east-1', unit as PlanUnit)).toBe(judged.hint.eventId);
  });

  it('a unit whose detail does not fit is terminal, naming what', () => {
    const [unit] = planUnits('run-1', { 'vpc-0a1': [arn('a')] }, sizes);
    const bad = (detail: unknown) =>
      judgeEventBody(
        JSON.stringify({ ...JSON.parse(workUnitBody('us-east-1', unit as PlanUnit, 't')), detail }),
      );
    expect(bad({ ...unit, offset: 5 })).toMatchObject({ status: 'terminal', reason: 'malformed' });
    expect(bad({ ...unit, clustersOf: [[3]] })).toMatchObject({
      status: 'terminal',
      problems: ['detail.clustersOf: a position past clusterArns'],
    });
    expect(bad({ ...unit, extra: 1 })).toMatchObject({ status: 'terminal' });
    expect(bad({ ...unit, part: 1, parts: 1 })).toMatchObject({ status: 'terminal' });
  });

  it('the reclaim unit: every VPC to read again with its clusters and the clusters made since the split; one per run', () => {
    const unit = reclaimUnit('run-1', { 'vpc-2': [], 'vpc-1': [arn('a'), arn('b')] }, [
      arn('new'),
    ]) as ReclaimUnit;
    expect(unit).toMatchObject({
      phase: 'reclaim',
      part: 0,
      parts: 1,
      offset: 0,
      vpcIds: ['vpc-1', 'vpc-2'],
    });
    expect(nextStep(unit, 1)).toMatchObject({
      vpcIds: ['vpc-1'],
      clusterArns: [arn('a'), arn('b'), arn('new')],
    });
    // A VPC without ECS work (only the remediator's endpoints) is read with the new clusters alone.
    expect(nextStep(nextStep(unit, 1).rest as ReclaimUnit, 1)).toMatchObject({
      vpcIds: ['vpc-2'],
      clusterArns: [arn('new')],
      rest: undefined,
    });
    expect(unitId('us-east-1', unit)).toBe('unit:run-1:us-east-1:reclaim:0');
    expect(reclaimUnit('run-1', {}, [arn('new')])).toBeUndefined();
    // At most one message's worth of VPCs: the caller says what was left out.
    const many = Object.fromEntries(
      Array.from({ length: UNIT_MAX_VPCS + 5 }, (_, n) => [`vpc-${n.toString(16).padStart(5, '0')}`, []]),
    );
    expect(reclaimUnit('run-1', many, [])?.vpcIds).toHaveLength(UNIT_MAX_VPCS);
    // It reads back as a unit; a second reclaim unit of a run is terminal.
    const body = workUnitBody('us-east-1', unit, '2026-11-30T00:00:00Z');
    const judged = judgeEventBody(body);
    expect(judged).toMatchObject({ status: 'hint', hint: { scope: { kind: 'unit', unit } } });
    expect(
      judgeEventBody(JSON.stringify({ ...JSON.parse(body), detail: { ...unit, parts: 2 } })),
    ).toMatchObject({ status: 'terminal', problems: ['detail.parts: a run has one reclaim unit'] });
  });
});
