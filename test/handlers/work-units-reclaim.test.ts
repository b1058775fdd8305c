// The reclaim in a split sweep (issue #12, item 6): a Region larger than one unit is swept by units, so
// no single reconcile reads it whole. The run's reclaim unit reads again the VPCs where plan units saw
// owned endpoints unneeded and the VPCs holding them without ECS work; it counts toward the grace
// period only when no unit of the run saw a gap. Through the stack's real handler code against moto,
// on an injected clock days apart.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeVpcEndpointsCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { BatchSummary } from '../../aws/event-batch.ts';
import { createReclaimStore } from '../../aws/reclaim.ts';
import type { Finding } from '../../core/findings.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { addContainerInstance, createCluster, createEndpoint, createNetwork } from '../harness/seed.ts';
import { UNITS, largeRegionWith, pollUntilEmpty, remembered, sendSweep } from './split-region.ts';
import type { Stack } from './stack.ts';
import { clockFrom, createStack, depsFor, pollOnce } from './stack.ts';

const MANAGED = { 'ecs-endpoint-remediator/managed': 'true' };
const GRACE_DAYS = 7;
const CONFIG = {
  workUnits: UNITS,
  remediation: { reclaimUnusedOwnedEndpointsAfterDays: GRACE_DAYS },
  // Caps above what the Region needs; no agent restarts (not about them).
  limits: { maxEndpointsCreatedPerRun: 100, maxActionsPerRun: 100 },
  agentRestart: { enabled: false },
};

/** A VPC whose ECS work all left, holding the remediator's `logs` endpoint (no plan unit reads it). */
async function emptiedVpc(acct: Account) {
  const emptied = await createNetwork(acct, { cidr: '10.9.0.0/16', name: 'emptied', azs: ['a'] });
  const logs = await createEndpoint(acct, {
    vpcId: emptied.vpcId,
    service: 'logs',
    subnetIds: emptied.subnetIds,
    tags: MANAGED,
  });
  return { emptied, logs };
}

/** The stack in enforce mode with CONFIG (adopting the endpoints tagged so far), on a clock of days. */
async function enforcingStack(acct: Account) {
  const stack = await createStack(acct, 'enforce');
  const clock = clockFrom(Date.now());
  return {
    stack,
    clock,
    deps: depsFor(acct, stack, { env: { CONFIG: JSON.stringify(CONFIG) }, now: clock.now }),
  };
}

async function clockOf(acct: Account, stack: Stack): Promise<Record<string, string>> {
  const store = createReclaimStore(
    new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
    stack.tableName,
  );
  return Object.fromEntries((await store.load(acct.region)).map((e) => [e.vpcEndpointId, e.since]));
}

const unitsOf = (summaries: readonly BatchSummary[], phase: string) =>
  summaries.flatMap((s) => s.units).filter((u) => u.unit.phase === phase);

/** The ENDPOINT_UNUSED finding of an endpoint in the reclaim unit's steps (the last one seen). */
const reclaimFinding = (summaries: readonly BatchSummary[], endpointId: string): Finding | undefined =>
  unitsOf(summaries, 'reclaim')
    .flatMap((u) => u.outcomes)
    .flatMap((o) => o.plan.findings)
    .findLast((f) => f.code === 'ENDPOINT_UNUSED' && f.resourceId === endpointId);

const deletedIn = (summaries: readonly BatchSummary[]) =>
  summaries
    // Every reconcile of the batches, units' steps included.
    .flatMap((s) => s.outcomes)
    .flatMap((o) => o.results ?? [])
    .filter((r) => r.kind === 'DELETE_ENDPOINT' && r.outcome === 'succeeded')
    .map((r) => r.resourceId)
    .sort();

async function liveEndpointIds(acct: Account): Promise<string[]> {
  const out = await acct.ec2.send(new DescribeVpcEndpointsCommand({}));
  return (out.VpcEndpoints ?? [])
    .filter((e) => !['deleted', 'deleting'].includes((e.State ?? '').toLowerCase()))
    .map((e) => e.VpcEndpointId ?? '');
}

describe('a split sweep and the reclaim', () => {
  it('its reclaim unit counts and, past the grace period, deletes; a run one of whose units skipped a read does not count', async () => {
    const acct = newAccount();
    const { own } = await largeRegionWith(acct);
    const [first, , third] = own;
    if (!first || !third) throw new Error('five VPCs expected');
    // Owned leftovers (recorded by the stack's adoption below): kms in the first VPC, whose work needs
    // no kms, and logs in a VPC whose ECS work all left (no plan unit reads it).
    const kms = await createEndpoint(acct, {
      vpcId: first.vpcId,
      service: 'kms',
      subnetIds: [first.subnetId],
      tags: MANAGED,
    });
    const { emptied, logs } = await emptiedVpc(acct);
    const { stack, clock, deps } = await enforcingStack(acct);

    // Day 0: the plan unit of the first VPC sees kms unneeded but does not count; the reclaim unit
    // reads that VPC and the emptied one again, counts, and starts both clocks. Nothing is deleted.
    await sendSweep(stack, 'split-day-0');
    const day0 = await pollUntilEmpty(acct, stack, deps);
    expect(unitsOf(day0, 'plan')).toHaveLength(3);
    expect(unitsOf(day0, 'reclaim').map((u) => u.unit)).toMatchObject([
      { vpcIds: [first.vpcId, emptied.vpcId].sort() },
    ]);
    const planned = unitsOf(day0, 'plan')
      .flatMap((u) => u.outcomes)
      .flatMap((o) => o.plan.findings)
      .find((f) => f.code === 'ENDPOINT_UNUSED' && f.resourceId === kms);
    expect(planned?.remediation.reason).toContain('the reclaim unit of a split one, counts');
    for (const id of [kms, logs])
      expect(reclaimFinding(day0, id)?.remediation.reason).toContain('first seen unneeded now');
    expect(Object.keys(await clockOf(acct, stack)).sort()).toEqual([kms, logs].sort());
    expect(deletedIn(day0)).toEqual([]);
    // The emptied VPC's finding is remembered: the run's end retires only VPCs nobody read.
    expect((await remembered(acct, stack)).some((id) => id.startsWith(`${emptied.vpcId}#`))).toBe(true);
    const started = await clockOf(acct, stack);

    // Day 8: the third VPC's hosted zones cannot be listed. Its plan unit notes the gap, so the run does
    // not count: the reclaim unit says why, deletes nothing, and the clocks stay.
    clock.day = GRACE_DAYS + 1;
    const route53 = deps.pool.clientsFor(acct.region).route53;
    let refuse = true;
    route53.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args as { input?: { VPCId?: string } }).input;
        if (refuse && context.commandName === 'ListHostedZonesByVPCCommand' && input?.VPCId === third.vpcId)
          // moto does not enforce IAM: the refusal AWS gives a caller without the permission.
          throw Object.assign(new Error('not authorized to perform: route53:ListHostedZonesByVPC'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
            $fault: 'client',
          });
        return next(args);
      },
      { step: 'initialize', name: 'testDenyThirdVpcZones' },
    );
    await sendSweep(stack, 'split-day-8');
    const day8 = await pollUntilEmpty(acct, stack, deps);
    expect(deletedIn(day8)).toEqual([]);
    const spoiled = reclaimFinding(day8, kms);
    expect(spoiled?.remediation.reason).toContain("this split sweep's units did not see the whole Region");
    expect(spoiled?.remediation.reason).toContain(`route53:ListHostedZonesByVPC of ${third.vpcId}`);
    expect(await clockOf(acct, stack)).toEqual(started);
    expect(deps.logs.some((l) => l.message === 'run done: it does not count toward the reclaim')).toBe(true);

    // Day 9, every read answered: the run counts, and both are past their grace period.
    clock.day = GRACE_DAYS + 2;
    refuse = false;
    await sendSweep(stack, 'split-day-9');
    const day9 = await pollUntilEmpty(acct, stack, deps);
    expect(deletedIn(day9)).toEqual([kms, logs].sort());
    expect(await clockOf(acct, stack)).toEqual({});
    const live = await liveEndpointIds(acct);
    expect(live).not.toContain(kms);
    expect(live).not.toContain(logs);
  });

  it('a reclaim step finding ECS work it did not read in its VPC does not count; an indexed VPC whose only host stopped is read again', async () => {
    const acct = newAccount();
    const { own } = await largeRegionWith(acct);
    const second = own[1];
    if (!second) throw new Error('five VPCs expected');
    // An owned logs endpoint in a VPC whose ECS work all left.
    const { emptied, logs } = await emptiedVpc(acct);
    // An owned kms endpoint in a VPC whose only container instance's host is stopped: the index
    // places its cluster there, but no live work is left, so its plan unit examines nothing.
    const parked = await createNetwork(acct, { cidr: '10.8.0.0/16', name: 'parked', azs: ['a'] });
    const parkedHost = await addContainerInstance(acct, {
      cluster: await createCluster(acct, 'parked'),
      subnetId: parked.subnetIds[0] ?? '',
    });
    await acct.ec2.send(new StopInstancesCommand({ InstanceIds: [parkedHost.instanceId] }));
    const kms = await createEndpoint(acct, {
      vpcId: parked.vpcId,
      service: 'kms',
      subnetIds: parked.subnetIds,
      tags: MANAGED,
    });
    const { stack, clock, deps } = await enforcingStack(acct);

    // Day 0: the reclaim unit reads both VPCs again (no plan unit examined either) and starts both clocks.
    await sendSweep(stack, 'split-events-day-0');
    const day0 = await pollUntilEmpty(acct, stack, deps);
    expect(unitsOf(day0, 'reclaim').map((u) => u.unit)).toMatchObject([
      { vpcIds: [emptied.vpcId, parked.vpcId].sort() },
    ]);
    const started = await clockOf(acct, stack);
    expect(Object.keys(started).sort()).toEqual([kms, logs].sort());

    // Day 9: once the index shards are done, a host of the second VPC's cluster registers in the
    // emptied VPC, and its event is late (EventBridge delivers at least once, with no bound on the
    // delay). The reclaim unit reads that VPC with the clusters the index placed there (none); before
    // deleting, its step finds the other cluster's container instance there and does not count. Its
    // other step, the parked VPC's, counts: kms is past its grace period and goes.
    clock.day = GRACE_DAYS + 2;
    await sendSweep(stack, 'split-unseen-day-9');
    const day9: BatchSummary[] = [];
    for (
      let n = 0;
      n < 10 && !day9.some((s) => s.units.some((u) => u.unit.phase === 'index' && u.sent > 0));
      n += 1
    ) {
      const summary = await pollOnce(acct, stack, deps);
      if (summary) day9.push(summary);
    }
    await addContainerInstance(acct, { cluster: second.cluster, subnetId: emptied.subnetIds[0] ?? '' });
    day9.push(...(await pollUntilEmpty(acct, stack, deps)));
    expect(deletedIn(day9)).toEqual([kms]);
    const guarded = reclaimFinding(day9, logs);
    expect(guarded?.remediation.reason).toContain('ECS work this reclaim step did not read');
    expect(guarded?.remediation.reason).toContain(`${second.cluster}, a cluster this step did not read`);
    expect(await clockOf(acct, stack)).toEqual({ [logs]: started[logs] });

    // Day 10: the new host is in the index now. The run counts, and logs serves the host's service:
    // its clock stops, nothing is deleted.
    clock.day = GRACE_DAYS + 3;
    await sendSweep(stack, 'split-events-day-10');
    const day10 = await pollUntilEmpty(acct, stack, deps);
    expect(deletedIn(day10)).toEqual([]);
    expect(await clockOf(acct, stack)).toEqual({});
    expect(await liveEndpointIds(acct)).toContain(logs);
  });
});
