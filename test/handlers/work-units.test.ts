// Split sweeps (issue #11, work units): a Region larger than one unit is swept by index shards and plan
// units through the events queue, with the run-wide caps as a ledger; a plan unit short of time
// checkpoints and resumes; a failing unit returns only its own message.
import { DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { DeleteServiceCommand, DeregisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { judgeEventBody } from '../../core/events.ts';
import { planUnits, workUnitBody } from '../../core/units.ts';
import type { BatchSummary } from '../../aws/event-batch.ts';
import { createStateStore } from '../../aws/state.ts';
import type { UnitOutcome } from '../../aws/units/run-unit.ts';
import { RUN_STALE_SECONDS, runUnit } from '../../aws/units/run-unit.ts';
import { createRunStore } from '../../aws/units/run-store.ts';
import { reconcileSqsBatch } from '../../handlers/reconcile.ts';
import { newAccount } from '../harness/aws.ts';
import {
  UNITS,
  largeRegion,
  largeRegionWith,
  pollUntilEmpty,
  remembered,
  sendSweep,
  wholePlan,
} from './split-region.ts';
import { createStack, depsFor, drainQueue, pollOnce, sampleText, sqsEvent, withEventId } from './stack.ts';

describe('a sweep of a Region larger than one unit', () => {
  it('splits into index shards and plan units whose findings and index equal one whole-Region reconcile', async () => {
    const acct = newAccount();
    const vpcIds = await largeRegion(acct);
    const config = { workUnits: UNITS };
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(config) } });
    await sendSweep(stack, 'sweep-split');
    const summaries = await pollUntilEmpty(acct, stack, deps);

    const splits = summaries.flatMap((s) => s.splits);
    expect(splits).toEqual([{ region: acct.region, runId: 'eb-sweep-split', shards: 2 }]);
    const units = summaries.flatMap((s) => s.units);
    expect(units.filter((u) => u.unit.phase === 'index')).toHaveLength(2);
    expect(
      units
        .filter((u) => u.unit.phase === 'plan')
        .map((u) => u.unit.part)
        .sort(),
    ).toEqual([0, 1, 2]);
    // No message failed, none was dead-lettered; each plan step read only its own VPC.
    expect(summaries.flatMap((s) => s.failedMessageIds)).toEqual([]);
    expect(summaries.reduce((n, s) => n + s.deadLettered, 0)).toBe(0);
    const steps = summaries.flatMap((s) => s.outcomes);
    expect(steps.map((o) => o.vpcIds)).toEqual(expect.arrayContaining(vpcIds.map((id) => [id])));
    expect(steps).toHaveLength(5);

    const whole = await wholePlan(acct, config);
    expect(whole.findings.length).toBeGreaterThan(0);
    expect(await remembered(acct, stack)).toEqual(whole.findings);
    const index = await createStateStore(
      new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
      stack.tableName,
    ).loadClusterIndex(acct.region);
    expect(index?.vpcs).toEqual(whole.index);
  });

  it('a plan unit interrupted at its time budget resumes from its checkpoint; the findings equal an uninterrupted run', async () => {
    const acct = newAccount();
    await largeRegion(acct);
    // Two plan units: VPCs 1–4 (five clusters) and VPC 5.
    const config = { workUnits: { clustersPerShard: 5, vpcsPerUnit: 5, vpcsPerStep: 2 } };
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(config) } });
    await sendSweep(stack, 'sweep-interrupted');
    // The poller, by hand: the plan unit's first delivery runs with no time after its first step.
    const interrupted: UnitOutcome[] = [];
    for (let n = 0; n < 40; n += 1) {
      const messages = await drainQueue(stack, stack.eventsQueueUrl);
      if (messages.length === 0) break;
      for (const message of messages) {
        const judged = judgeEventBody(message.Body ?? '');
        const scope = judged.status === 'hint' ? judged.hint.scope : undefined;
        if (scope?.kind === 'unit' && scope.unit.phase === 'plan' && scope.unit.offset === 0) {
          const work = {
            region: scope.region,
            unit: scope.unit,
            eventIds: [judged.status === 'hint' ? judged.hint.eventId : ''],
          };
          interrupted.push(await runUnit(work, deps, () => false));
          continue;
        }
        const { response } = await reconcileSqsBatch(sqsEvent([message.Body ?? ''], acct), deps);
        expect(response.batchItemFailures).toEqual([]);
      }
    }
    // The unit of four VPCs, two per step: stopped after its first step, resumed at VPC 2 (its rest
    // ran to its end in the next delivery); the unit of one VPC had no step to stop before.
    expect(interrupted.map((u) => [u.unit.part, u.checkpoint, u.outcomes.length]).sort()).toEqual([
      [0, 2, 1],
      [1, undefined, 1],
    ]);
    expect(await remembered(acct, stack)).toEqual((await wholePlan(acct, config)).findings);
  });

  it.each([
    [
      'four endpoints',
      { maxEndpointsCreatedPerRun: 4, maxActionsPerRun: 100 },
      'limits.maxEndpointsCreatedPerRun',
    ],
    // Each endpoint in one AZ: $0.01 x 730 h = $7.30 a month; four fit in $30.
    [
      '$30 a month',
      { maxEndpointsCreatedPerRun: 100, maxActionsPerRun: 100, maxAddedMonthlyCostUsdPerRun: 30 },
      'limits.maxAddedMonthlyCostUsdPerRun',
    ],
  ])(
    'keeps a run-wide cap of %s over every unit: one ledger, not a cap per unit',
    async (_name, limits, reason) => {
      const acct = newAccount();
      await largeRegion(acct);
      const config = {
        workUnits: UNITS,
        limits,
        agentRestart: { enabled: false },
      };
      const stack = await createStack(acct, 'enforce');
      const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(config) } });
      await sendSweep(stack, `sweep-capped-${reason}`);
      const summaries = await pollUntilEmpty(acct, stack, deps);
      const results = summaries.flatMap((s) => s.outcomes).flatMap((o) => o.results ?? []);
      const created = results.filter((r) => r.kind === 'CREATE_ENDPOINT' && r.outcome === 'succeeded');
      expect(created).toHaveLength(4);
      const live = (await acct.ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? [];
      expect(live.filter((e) => e.VpcEndpointType === 'Interface')).toHaveLength(4);
      // The rest waits, deferred by the cap, in the units after the ledger ran dry.
      const deferred = summaries
        .flatMap((s) => s.outcomes)
        .flatMap((o) => o.plan.actions)
        .filter((a) => a.status === 'deferred');
      expect(deferred.length).toBeGreaterThan(0);
      expect(deferred.some((a) => a.deferredReason?.startsWith(reason))).toBe(true);
      expect(
        deferred.every((a) => /^(limits\.|waits for deferred action)/.test(a.deferredReason ?? '')),
      ).toBe(true);
    },
  );

  it('at least once: every message delivered twice, and a shard killed before it marks itself done, make one clean run', async () => {
    const acct = newAccount();
    await largeRegion(acct);
    // Caps above what the Region needs: the run fixes everything, so the sweep after it has nothing to do.
    const config = {
      workUnits: UNITS,
      agentRestart: { enabled: false },
      limits: { maxEndpointsCreatedPerRun: 100, maxActionsPerRun: 100 },
    };
    const stack = await createStack(acct, 'enforce');
    const base = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(config) } });
    const runs = base.runs;
    if (!runs) throw new Error('the run store expected');
    // The crash, injected at our own store (no AWS call fails): the first index shard has stored its
    // entries when its invocation dies, before its part is marked done.
    let killed = false;
    const deps = {
      ...base,
      runs: {
        ...runs,
        markShardDone: (runId: string, region: string, part: number) => {
          if (!killed && part === 0) {
            killed = true;
            return Promise.reject(new Error('invocation killed'));
          }
          return runs.markShardDone(runId, region, part);
        },
      },
    };
    await sendSweep(stack, 'sweep-twice');
    const summaries: BatchSummary[] = [];
    for (let n = 0; n < 40; n += 1) {
      const messages = await drainQueue(stack, stack.eventsQueueUrl);
      if (messages.length === 0) break;
      const event = () =>
        sqsEvent(
          messages.map((m) => m.Body ?? ''),
          acct,
          messages.map((m) => m.MessageId ?? ''),
        );
      // Delivered, then delivered again whole: its deletes lost, its failures retried (SQS after the
      // visibility timeout).
      for (let delivery = 0; delivery < 2; delivery += 1)
        summaries.push((await reconcileSqsBatch(event(), deps)).summary);
    }
    expect(killed).toBe(true);

    // The killed shard failed alone and was done on its redelivery; every other second delivery was
    // recognised as the occurrence already processed.
    const statuses = summaries.flatMap((s) => s.messages.map((m) => m.status));
    expect(statuses.filter((status) => status === 'retry')).toHaveLength(1);
    const units = summaries.flatMap((s) => s.units);
    const ids = units.map((u) => `${u.unit.phase}:${u.unit.part}`).sort();
    // Each unit completed once: the killed shard on its redelivery, the others on their first.
    expect(ids).toEqual(['index:0', 'index:1', 'plan:0', 'plan:1', 'plan:2']);
    expect(summaries.flatMap((s) => s.splits)).toHaveLength(1);
    expect(summaries.reduce((n, s) => n + s.deadLettered, 0)).toBe(0);

    // Side effects once: one endpoint per VPC and service; a clean sweep after it creates nothing.
    const live = (await acct.ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? [];
    const keys = live.map((e) => `${e.VpcId} ${e.ServiceName}`);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
    const created = summaries
      .flatMap((s) => s.outcomes)
      .flatMap((o) => o.results ?? [])
      .filter((r) => r.kind === 'CREATE_ENDPOINT' && r.outcome === 'succeeded');
    expect(created).toHaveLength(live.length);
    await sendSweep(stack, 'sweep-after');
    const after = await pollUntilEmpty(acct, stack, base);
    const again = after
      .flatMap((s) => s.outcomes)
      .flatMap((o) => o.results ?? [])
      .filter((r) => r.kind === 'CREATE_ENDPOINT');
    expect(again).toEqual([]);
    expect(((await acct.ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? []).length).toBe(
      live.length,
    );
    // Two deliveries of every batch and a clean sweep after: three sweeps' work.
  }, 180_000);

  it('a run keeps its Region while it makes progress, however long it takes; an hour without progress and a sweep takes over', async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report');
    const runs = createRunStore(
      new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
      stack.tableName,
    );
    const began = Date.parse('2026-11-30T00:00:00Z');
    const at = (minutes: number) => new Date(began + minutes * 60_000);
    const claim = (runId: string, minutes: number) =>
      runs.claimRegion(runId, acct.region, at(minutes), RUN_STALE_SECONDS);
    expect(await claim('run-a', 0)).toEqual({ granted: true });
    // Three hours of units, one done every 40 minutes: the run is never stale.
    for (let minutes = 40; minutes <= 160; minutes += 40) {
      await runs.progress('run-a', acct.region, at(minutes));
      expect(await claim('run-b', minutes + 30)).toMatchObject({ granted: false, runId: 'run-a' });
    }
    // An hour after its last progress: taken over; the old run's progress no longer counts.
    expect(await claim('run-b', 221)).toEqual({ granted: true });
    await runs.progress('run-a', acct.region, at(222));
    expect(await claim('run-c', 230)).toMatchObject({ granted: false, runId: 'run-b' });
  });

  it('a failing unit returns only its own message', async () => {
    const acct = newAccount();
    await largeRegion(acct);
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify({ workUnits: UNITS }) } });
    const arn = `arn:aws:ecs:${acct.region}:${acct.accountId}:cluster/team-1`;
    const [unit] = planUnits('no-such-run', { 'vpc-0123456789abcdef0': [arn] }, UNITS);
    if (!unit) throw new Error('no unit');
    const time = new Date().toISOString();
    // A unit of a run without records (expired, deleted): it fails where it marks itself done.
    const orphan = workUnitBody(acct.region, unit, time);
    const sweep = withEventId(sampleText('scheduled-sweep'), 'sweep-beside-a-failure');
    const { response, summary } = await reconcileSqsBatch(
      sqsEvent([orphan, sweep], acct, ['orphan', 'sweep']),
      deps,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'orphan' }]);
    expect(summary.messages.find((m) => m.messageId === 'sweep')?.status).toBe('processed');
    expect(summary.splits).toHaveLength(1);
  });

  it('a sweep while a run is under way leaves the Region to it; the run retires the findings of a VPC whose work is gone', async () => {
    const acct = newAccount();
    const { own } = await largeRegionWith(acct);
    const config = { workUnits: UNITS };
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(config) } });
    await sendSweep(stack, 'sweep-first');
    await pollUntilEmpty(acct, stack, deps);
    const third = own[2];
    if (!third) throw new Error('no third VPC');
    expect((await remembered(acct, stack)).some((id) => id.startsWith(`${third.vpcId}#`))).toBe(true);

    // The third VPC's work goes away: its service deleted, its host deregistered.
    await acct.ecs.send(new DeleteServiceCommand({ cluster: third.cluster, service: 'api', force: true }));
    await acct.ecs.send(
      new DeregisterContainerInstanceCommand({
        cluster: third.cluster,
        containerInstance: third.containerInstanceArn,
        force: true,
      }),
    );
    await sendSweep(stack, 'sweep-second');
    const first = await pollOnce(acct, stack, deps);
    expect(first?.splits.map((s) => s.runId)).toEqual(['eb-sweep-second']);
    // Another sweep while that run is under way: left to it, not split again. An event naming a VPC
    // that came in the same batch is reconciled as its own: the run's units may have read that VPC.
    await sendSweep(stack, 'sweep-third');
    const named = own[0];
    if (!named) throw new Error('no first VPC');
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.eventsQueueUrl,
        MessageBody: withEventId(
          sampleText('ec2-modify-vpc-attribute', { account: acct.accountId, vpcId: named.vpcId }),
          'modify-during-run',
        ),
      }),
    );
    const rest = await pollUntilEmpty(acct, stack, deps);
    expect(rest.flatMap((s) => s.splits)).toEqual([
      { region: acct.region, runId: 'eb-sweep-second', shards: 0, leftTo: 'eb-sweep-second' },
    ]);
    const left = rest.find((s) => s.splits.length > 0);
    expect(left?.outcomes.map((o) => o.vpcIds)).toContainEqual([named.vpcId]);
    // The run is done: the third VPC's findings retired (as a whole-Region reconcile would), the
    // others kept; and the Region is free for the next sweep's run.
    expect((await remembered(acct, stack)).some((id) => id.startsWith(`${third.vpcId}#`))).toBe(false);
    const retired = deps.logs.filter((l) => l.message.startsWith('run done: findings of VPCs without'));
    expect(retired.map((l) => [l.fields.runId, l.fields.vpcs])).toEqual([['eb-sweep-second', 1]]);
    expect(await remembered(acct, stack)).toEqual((await wholePlan(acct, config)).findings);
    await sendSweep(stack, 'sweep-fourth');
    const next = await pollUntilEmpty(acct, stack, deps);
    expect(next.flatMap((s) => s.splits).map((s) => [s.runId, s.leftTo])).toEqual([
      ['eb-sweep-fourth', undefined],
    ]);
  });
});
