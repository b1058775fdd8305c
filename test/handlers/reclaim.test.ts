// Reclaiming owned endpoints no longer needed (ENDPOINT_UNUSED), through the deployed reconciler's
// real handler code against moto: the clock in the state table, sweeps days apart (the reconciler's
// clock is injected, never slept on), an endpoint needed again inside its grace period, endpoints not
// the remediator's, reconciles that must not count, report mode, and the CLI's plan.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteTagsCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import { DeleteServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../aws/apply.ts';
import { ServiceError } from '../../aws/signed-json-client.ts';
import type { BatchSummary } from '../../aws/event-batch.ts';
import type { ReclaimStore } from '../../aws/reclaim.ts';
import { createReclaimStore } from '../../aws/reclaim.ts';
import { createClientPool, planAccount } from '../../aws/reconcile.ts';
import { parseConfig } from '../../core/config.ts';
import type { Finding } from '../../core/findings.ts';
import type { Plan } from '../../core/plan.ts';
import { runReconcile } from '../../handlers/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { motoEndpoint, newAccount } from '../harness/aws.ts';
import { proxiedAccount, startFaultProxy } from '../harness/fault-proxy.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import {
  addAliasRecord,
  associateResourceToProfile,
  createPrivateHostedZone,
  createProfile,
  createResolverEndpoint,
  endpointAliasTarget,
  hostedZoneArn,
  shareSubnets,
  vpcEndpointArn,
} from '../harness/seed-network.ts';
import type { Stack } from './stack.ts';
import { clockFrom, createStack, depsFor, endpointOf, sampleText, withEventId } from './stack.ts';

const MANAGED = { 'ecs-endpoint-remediator/managed': 'true' };
const GRACE_DAYS = 7;
const CONFIG = {
  remediation: { reclaimUnusedOwnedEndpointsAfterDays: GRACE_DAYS },
  // Not about agent restarts: the ECS endpoints the first sweep creates owe none here.
  agentRestart: { enabled: false },
};

/**
 * A private VPC (no egress) with two EC2 container instances running a service that needs nothing but
 * the ECS and Run Command endpoints, and endpoints left over from work gone: `logs` and `kms` tagged
 * as the remediator's (recorded by the stack's adoption), `secretsmanager` someone else's.
 */
async function leftovers(acct: Account) {
  const network = await createNetwork(acct, { cidr: '10.9.0.0/16', name: 'reclaim', azs: ['a', 'b'] });
  const cluster = await createCluster(acct, 'reclaim');
  for (const subnetId of network.subnetIds) await addContainerInstance(acct, { cluster, subnetId });
  const plain = await registerTaskDefinition(acct, {
    family: 'plain',
    images: ['public.ecr.aws/nginx/nginx:1'],
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  await createService(acct, { cluster, name: 'plain', taskDefinition: plain, launchType: 'EC2' });
  const endpoint = (service: string, tags?: Record<string, string>) =>
    createEndpoint(acct, {
      vpcId: network.vpcId,
      service,
      subnetIds: network.subnetIds,
      ...(tags ? { tags } : {}),
    });
  return {
    network,
    cluster,
    logs: await endpoint('logs', MANAGED),
    kms: await endpoint('kms', MANAGED),
    foreign: await endpoint('secretsmanager'),
  };
}

/**
 * A hub VPC without ECS work holding the remediator's `logs` and `kms` endpoints with private DNS off
 * (hub-and-spoke: spokes reach them through zones).
 */
async function hubWithEndpoints(acct: Account, cidr: string) {
  const hub = await createNetwork(acct, { cidr, name: 'hub', azs: ['a', 'b'] });
  const hubEndpoint = (service: string) =>
    createEndpoint(acct, {
      vpcId: hub.vpcId,
      service,
      subnetIds: hub.subnetIds,
      privateDns: false,
      tags: MANAGED,
    });
  return { hub, logs: await hubEndpoint('logs'), kms: await hubEndpoint('kms') };
}

/** A private hosted zone for the logs service's name, associated with `vpcId`, aliased to the hub's logs endpoint. */
async function logsZoneToHub(acct: Account, hubVpcId: string, vpcId: string): Promise<string> {
  const zoneId = await createPrivateHostedZone(acct, { name: `logs.${acct.region}.amazonaws.com`, vpcId });
  const described = await endpointOf(acct, hubVpcId, 'logs');
  if (!described) throw new Error('no hub logs endpoint');
  await addAliasRecord(acct, {
    zoneId,
    name: `logs.${acct.region}.amazonaws.com`,
    ...endpointAliasTarget(described),
  });
  return zoneId;
}

/** A stack in enforce mode with the reclaim on (CONFIG), run on a clock of its own; its clock store. */
async function enforcingStack(acct: Account) {
  const stack = await createStack(acct, 'enforce');
  const clock = clockFrom(Date.now());
  const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(CONFIG) }, now: clock.now });
  return { stack, clock, deps, store: clockStore(acct, stack) };
}

type EnforcingStack = Awaited<ReturnType<typeof enforcingStack>>;

/**
 * Sweeps on day 0 and on day 30, past the grace period: each of `ids` stays `unknown`, its reason
 * naming each of `reasons`; no delete is planned or made, and no clock starts (an unknown finding is
 * never a candidate).
 */
async function sweepsKeepUnknown(
  acct: Account,
  { clock, deps, store }: EnforcingStack,
  ids: readonly string[],
  reasons: readonly string[],
): Promise<void> {
  for (const day of [0, 30]) {
    clock.day = day;
    const summary = await sweep(deps, acct);
    const plan = planOf(summary);
    for (const id of ids) {
      expect(unusedOf(plan, id)).toMatchObject({ status: 'unknown' });
      for (const reason of reasons) expect(unusedOf(plan, id)?.statusReason).toContain(reason);
    }
    expect(plan.actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(summary.outcomes[0]?.results?.filter((r) => r.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(await clockOf(store, acct)).toEqual({});
  }
}

/**
 * Sweeps on day 0 and once the grace period is over: `kept` stays `unknown`, its reason naming each of
 * `reasons`; `other`, unneeded, has its clock started on day 0 and is deleted after the grace period.
 */
async function sweepsKeepUnknownReclaimOther(
  acct: Account,
  { clock, deps, store }: EnforcingStack,
  { kept, other }: { readonly kept: string; readonly other: string },
  reasons: readonly string[],
): Promise<void> {
  for (const day of [0, GRACE_DAYS]) {
    clock.day = day;
    const summary = await sweep(deps, acct);
    const plan = planOf(summary);
    expect(unusedOf(plan, kept)).toMatchObject({ status: 'unknown' });
    for (const reason of reasons) expect(unusedOf(plan, kept)?.statusReason).toContain(reason);
    expect(unusedOf(plan, other)).toMatchObject({ status: 'drift' });
    expect(Object.keys(await clockOf(store, acct))).toEqual(day === 0 ? [other] : []);
    expect(summary.outcomes[0]?.results?.filter((r) => r.kind === 'DELETE_ENDPOINT')).toMatchObject(
      day === 0 ? [] : [{ outcome: 'succeeded', resourceId: other }],
    );
  }
}

let occurrences = 0;

async function invoke(deps: ReturnType<typeof depsFor>, text: string): Promise<BatchSummary> {
  occurrences += 1;
  const event = JSON.parse(withEventId(text, `reclaim-${occurrences}`)) as Record<string, unknown>;
  const summary = (await runReconcile(event, deps)) as BatchSummary;
  expect(summary.failedMessageIds).toEqual([]);
  return summary;
}

const sweep = (deps: ReturnType<typeof depsFor>, acct: Account) =>
  invoke(deps, sampleText('scheduled-sweep', { account: acct.accountId }));

const planOf = (summary: BatchSummary): Plan => {
  const plan = summary.outcomes[0]?.plan;
  if (!plan) throw new Error('no Region reconciled');
  return plan;
};

const unusedOf = (plan: Plan, endpointId: string): Finding | undefined =>
  plan.findings.find((f) => f.code === 'ENDPOINT_UNUSED' && f.resourceId === endpointId);

async function liveEndpointIds(acct: Account, vpcId: string): Promise<string[]> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? [])
    .filter((e) => !['deleted', 'deleting'].includes((e.State ?? '').toLowerCase()))
    .map((e) => e.VpcEndpointId ?? '');
}

function clockStore(acct: Account, stack: Stack): ReclaimStore {
  return createReclaimStore(
    new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
    stack.tableName,
  );
}

async function clockOf(store: ReclaimStore, acct: Account): Promise<Record<string, string>> {
  return Object.fromEntries((await store.load(acct.region)).map((e) => [e.vpcEndpointId, e.since]));
}

describe('the deployed remediator reclaims what it owns and no longer needs', () => {
  it('deletes an owned endpoint unneeded past the grace period; keeps one needed again inside it (its clock reset) and any not its own', async () => {
    const acct = newAccount();
    const { network, cluster, logs, kms, foreign } = await leftovers(acct);
    const stack = await createStack(acct, 'enforce');
    // Tagged as the remediator's after the adoption: no record, so never its own.
    const copied = await createEndpoint(acct, {
      vpcId: network.vpcId,
      service: 'kinesis-firehose',
      subnetIds: network.subnetIds,
      tags: MANAGED,
    });
    const clock = clockFrom(Date.now());
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(CONFIG) }, now: clock.now });
    const store = clockStore(acct, stack);

    // Day 0: both owned leftovers are seen unneeded; their clocks start. Nothing is deleted.
    const first = planOf(await sweep(deps, acct));
    for (const id of [logs, kms]) {
      expect(unusedOf(first, id)).toMatchObject({ severity: 'low', status: 'drift' });
      expect(unusedOf(first, id)?.remediation.status).toBe('deferred');
      expect(unusedOf(first, id)?.remediation.reason).toContain('first seen unneeded now');
      expect(unusedOf(first, id)?.remediation.reason).toContain('saves $14.60 a month');
    }
    expect(unusedOf(first, foreign)).toBeUndefined();
    expect(unusedOf(first, copied)?.remediation.status).toBe('manual');
    const started = await clockOf(store, acct);
    expect(Object.keys(started).sort()).toEqual([kms, logs].sort());

    // Day 3: work that logs with awslogs arrives: logs is needed again, its clock stops.
    clock.day = 3;
    const logging = await registerTaskDefinition(acct, {
      family: 'logging',
      images: ['public.ecr.aws/nginx/nginx:1'],
      logDriver: 'awslogs',
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    });
    await createService(acct, { cluster, name: 'logging', taskDefinition: logging, launchType: 'EC2' });
    const third = planOf(await sweep(deps, acct));
    expect(unusedOf(third, logs)).toBeUndefined();
    expect(unusedOf(third, kms)?.remediation.reason).toContain('(3 of 7 day(s))');
    expect(await clockOf(store, acct)).toEqual({ [kms]: started[kms] });

    // Day 7: kms has been unneeded for the whole grace period: deleted, with its saving in the plan.
    clock.day = GRACE_DAYS;
    const seventh = await sweep(deps, acct);
    const plan = planOf(seventh);
    const deletes = plan.actions.filter((a) => a.kind === 'DELETE_ENDPOINT');
    expect(deletes).toMatchObject([{ vpcEndpointId: kms, reclaim: true, monthlySavingUsd: 14.6 }]);
    expect(plan.stats.estimatedMonthlySavingUsd).toBe(14.6);
    expect(seventh.outcomes[0]?.results?.find((r) => r.kind === 'DELETE_ENDPOINT')).toMatchObject({
      outcome: 'succeeded',
      resourceId: kms,
    });
    const live = await liveEndpointIds(acct, network.vpcId);
    expect(live).not.toContain(kms);
    expect(live).toEqual(expect.arrayContaining([logs, foreign, copied]));
    expect(await clockOf(store, acct)).toEqual({});

    // Long after, nothing else goes: logs is needed, the rest is not the remediator's.
    clock.day = 60;
    const later = await sweep(deps, acct);
    expect((later.outcomes[0]?.results ?? []).filter((r) => r.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(await liveEndpointIds(acct, network.vpcId)).toEqual(
      expect.arrayContaining([logs, foreign, copied]),
    );
  });

  it('an event-scoped reconcile and a sweep with a need that cannot be known do not count, and delete nothing', async () => {
    const acct = newAccount();
    const { network, cluster, logs } = await leftovers(acct);
    const { clock, deps, store } = await enforcingStack(acct);

    // An event naming the endpoint's VPC sees it unneeded, but starts no clock.
    const event = sampleText('ec2-modify-vpc-endpoint', {
      account: acct.accountId,
      vpcId: network.vpcId,
      endpointId: logs,
    });
    const scoped = planOf(await invoke(deps, event));
    expect(scoped.vpcs.map((v) => v.vpcId)).toEqual([network.vpcId]);
    expect(unusedOf(scoped, logs)?.remediation.reason).toContain('read part of the Region');
    expect(await clockOf(store, acct)).toEqual({});

    // A sweep starts it; then a FireLens router whose config file cannot be read joins another VPC.
    await sweep(deps, acct);
    const since = (await clockOf(store, acct))[logs];
    expect(since).toBeDefined();
    const other = await createNetwork(acct, { cidr: '10.10.0.0/16', name: 'firelens', azs: ['a'] });
    const router = await acct.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'router',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'router',
            image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
            essential: true,
            firelensConfiguration: {
              type: 'fluentbit',
              options: { 'config-file-type': 'file', 'config-file-value': '/extra.conf' },
            },
          },
        ],
      }),
    );
    await createService(acct, {
      cluster,
      name: 'router',
      taskDefinition: router.taskDefinition?.taskDefinitionArn ?? '',
      launchType: 'FARGATE',
      subnets: other.subnetIds,
    });
    clock.day = 30;
    const spoiled = await sweep(deps, acct);
    const plan = planOf(spoiled);
    expect(plan.findings.some((f) => f.code === 'NEED_UNKNOWN')).toBe(true);
    expect(plan.actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(unusedOf(plan, logs)?.remediation.reason).toContain('NEED_UNKNOWN');
    expect(await liveEndpointIds(acct, network.vpcId)).toContain(logs);
    // The clock keeps its start: the sweep neither counted nor saw the endpoint needed.
    expect((await clockOf(store, acct))[logs]).toBe(since);
  });

  it('a sweep with a skipped read does not count, one of a failed Region changes nothing; a clear sweep then deletes', async () => {
    const acct = newAccount();
    const { network, logs, kms } = await leftovers(acct);
    const { clock, deps, store } = await enforcingStack(acct);
    // moto does not enforce IAM, so refusals are made on the client (as test/aws/real-networks.test.ts
    // does): a middleware answers as AWS answers a caller without the permission.
    let refuse: { client: 'route53' | 'ec2'; command: string } | undefined;
    const denial = (client: 'route53' | 'ec2', command: string): Error =>
      Object.assign(new Error(`not authorized to perform: ${command}`), {
        name: client === 'ec2' ? 'UnauthorizedOperation' : 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
        $fault: 'client',
      });
    const clients = deps.pool.clientsFor(acct.region);
    clients.route53.middlewareStack.add(
      (next, context) => async (args) => {
        if (refuse?.client === 'route53' && context.commandName === refuse.command)
          throw denial('route53', refuse.command);
        return next(args);
      },
      { step: 'initialize', name: 'testDenyRoute53' },
    );
    clients.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        if (refuse?.client === 'ec2' && context.commandName === refuse.command)
          throw denial('ec2', refuse.command);
        return next(args);
      },
      { step: 'initialize', name: 'testDenyEc2' },
    );

    await sweep(deps, acct);
    const started = await clockOf(store, acct);
    expect(Object.keys(started).sort()).toEqual([kms, logs].sort());

    clock.day = 30;
    refuse = { client: 'route53', command: 'ListHostedZonesByVPCCommand' };
    const skipped = planOf(await sweep(deps, acct));
    expect(skipped.skippedReads.map((read) => read.operation)).toContain('route53:ListHostedZonesByVPC');
    expect(skipped.actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(unusedOf(skipped, kms)?.remediation.reason).toContain('a read was skipped');
    expect(await clockOf(store, acct)).toEqual(started);

    // The Region's discovery fails: the reconcile fails before planning; the clock stays as it was.
    refuse = { client: 'ec2', command: 'DescribeVpcsCommand' };
    occurrences += 1;
    const failing = JSON.parse(
      withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), `reclaim-${occurrences}`),
    ) as Record<string, unknown>;
    await expect(runReconcile(failing, deps)).rejects.toThrow(/DescribeVpcs|not authorized/);
    expect(await clockOf(store, acct)).toEqual(started);
    expect(await liveEndpointIds(acct, network.vpcId)).toEqual(expect.arrayContaining([kms, logs]));

    // A clear whole sweep: both are past their grace period.
    refuse = undefined;
    const clear = await sweep(deps, acct);
    expect(
      (clear.outcomes[0]?.results ?? [])
        .filter((r) => r.kind === 'DELETE_ENDPOINT')
        .map((r) => r.resourceId)
        .sort(),
    ).toEqual([kms, logs].sort());
    expect(await clockOf(store, acct)).toEqual({});
  });

  it('report mode plans the delete and makes none; the CLI reports with the saving and never deletes', async () => {
    const acct = newAccount();
    const { network, logs, kms } = await leftovers(acct);
    const stack = await createStack(acct, 'report');
    const clock = clockFrom(Date.now());
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(CONFIG) }, now: clock.now });
    await sweep(deps, acct);
    clock.day = GRACE_DAYS + 1;
    const report = await sweep(deps, acct);
    const deletes = planOf(report).actions.flatMap((a) =>
      a.kind === 'DELETE_ENDPOINT' && a.reclaim ? [a.vpcEndpointId] : [],
    );
    expect(deletes.sort()).toEqual([kms, logs].sort());
    expect(report.outcomes[0]?.results).toBeUndefined();
    expect(await liveEndpointIds(acct, network.vpcId)).toEqual(expect.arrayContaining([kms, logs]));

    // The CLI's engine: no state, so no clock: reported, never planned.
    const cli = await planAccount({
      regions: [acct.region],
      config: parseConfig(CONFIG),
      pool: createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials }),
    });
    const finding = unusedOf(cli, logs);
    expect(finding?.remediation.status).toBe('manual');
    expect(finding?.remediation.reason).toContain('never deletes');
    expect(finding?.remediation.reason).toContain('saves $14.60 a month');
    expect(cli.actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toEqual([]);

    // Ownership is read again right before each delete: someone took logs over (removed the managed
    // tag) after the plan was made. Applied as planned, kms goes and logs stays.
    await acct.ec2.send(
      new DeleteTagsCommand({ Resources: [logs], Tags: [{ Key: 'ecs-endpoint-remediator/managed' }] }),
    );
    const results = await applyPlan(planOf(report), deps.pool.clientsFor);
    const outcome = (id: string) =>
      results.find((r) => r.kind === 'DELETE_ENDPOINT' && r.actionId.endsWith(id));
    expect(outcome(kms)?.outcome).toBe('succeeded');
    expect(outcome(logs)).toMatchObject({ outcome: 'failed' });
    expect(outcome(logs)?.message).toContain("no longer the remediator's");
    expect(await liveEndpointIds(acct, network.vpcId)).toContain(logs);
    expect(await liveEndpointIds(acct, network.vpcId)).not.toContain(kms);
  });

  it('examines a VPC whose ECS work all left: its owned endpoints are reclaimed after the grace period, never one not its own', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.11.0.0/16', name: 'moved-out', azs: ['a', 'b'] });
    const cluster = await createCluster(acct, 'moved-out');
    const logging = await registerTaskDefinition(acct, {
      family: 'logging',
      images: ['public.ecr.aws/nginx/nginx:1'],
      logDriver: 'awslogs',
      networkMode: 'awsvpc',
      compatibilities: ['FARGATE'],
    });
    const service = await createService(acct, {
      cluster,
      name: 'logging',
      taskDefinition: logging,
      launchType: 'FARGATE',
      subnets: network.subnetIds,
    });
    const endpoint = (name: string, tags?: Record<string, string>) =>
      createEndpoint(acct, {
        vpcId: network.vpcId,
        service: name,
        subnetIds: network.subnetIds,
        ...(tags ? { tags } : {}),
      });
    const logs = await endpoint('logs', MANAGED);
    const agent = await endpoint('ecs-agent', MANAGED);
    const foreign = await endpoint('secretsmanager');
    const stack = await createStack(acct, 'enforce');
    // Tagged as the remediator's after the adoption: no record, so never its own.
    const copied = await endpoint('kms', MANAGED);
    const clock = clockFrom(Date.now());
    const deps = depsFor(acct, stack, { env: { CONFIG: JSON.stringify(CONFIG) }, now: clock.now });
    const store = clockStore(acct, stack);

    // While the service runs there, logs is needed.
    const before = planOf(await sweep(deps, acct));
    expect(unusedOf(before, logs)).toBeUndefined();
    expect(before.vpcs.find((v) => v.vpcId === network.vpcId)?.noEcsWork).toBeUndefined();

    // The work moves out: the VPC hosts no ECS work, but holds the remediator's endpoints.
    await acct.ecs.send(new DeleteServiceCommand({ cluster, service, force: true }));
    clock.day = 1;
    const first = planOf(await sweep(deps, acct));
    expect(first.vpcs.find((v) => v.vpcId === network.vpcId)).toMatchObject({
      inScope: true,
      noEcsWork: true,
      needs: [],
      containerInstances: 0,
    });
    // Only ENDPOINT_UNUSED: nothing is judged as if work ran there.
    const here = first.findings.filter((f) => f.vpcId === network.vpcId);
    expect([...new Set(here.map((f) => f.code))]).toEqual(['ENDPOINT_UNUSED']);
    expect(unusedOf(first, logs)?.remediation).toMatchObject({ status: 'deferred' });
    expect(unusedOf(first, logs)?.remediation.reason).toContain('first seen unneeded now');
    expect(unusedOf(first, agent)).toMatchObject({ status: 'unknown' });
    expect(unusedOf(first, copied)?.remediation.status).toBe('manual');
    expect(unusedOf(first, foreign)).toBeUndefined();
    const started = await clockOf(store, acct);
    expect(Object.keys(started)).toEqual([logs]);

    // The CLI reads the same VPC, and only reports.
    const cli = await planAccount({
      regions: [acct.region],
      config: parseConfig(CONFIG),
      pool: createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials }),
    });
    expect(cli.vpcs.find((v) => v.vpcId === network.vpcId)?.noEcsWork).toBe(true);
    expect(unusedOf(cli, logs)?.remediation.reason).toContain('never deletes');
    expect(cli.actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toEqual([]);

    // An event naming the VPC examines nothing there (no work): the clock keeps running.
    clock.day = 4;
    const scoped = planOf(
      await invoke(
        deps,
        sampleText('ec2-modify-vpc-endpoint', {
          account: acct.accountId,
          vpcId: network.vpcId,
          endpointId: logs,
        }),
      ),
    );
    expect(scoped.findings.filter((f) => f.vpcId === network.vpcId)).toEqual([]);
    expect(await clockOf(store, acct)).toEqual(started);

    // Past the grace period: logs is deleted; the rest stays.
    clock.day = 1 + GRACE_DAYS;
    const last = await sweep(deps, acct);
    expect(planOf(last).actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toMatchObject([
      { vpcEndpointId: logs, reclaim: true },
    ]);
    expect(last.outcomes[0]?.results?.filter((r) => r.kind === 'DELETE_ENDPOINT')).toMatchObject([
      { outcome: 'succeeded', resourceId: logs },
    ]);
    const live = await liveEndpointIds(acct, network.vpcId);
    expect(live).not.toContain(logs);
    expect(live.sort()).toEqual([agent, copied, foreign].sort());
    expect(await clockOf(store, acct)).toEqual({});
  });

  it('never takes an owned hub endpoint a private hosted zone of another VPC points at (hub-and-spoke); unknown while those zones cannot be read', async () => {
    const acct = newAccount();
    // The hub: no ECS work, the remediator's endpoints with private DNS off.
    const { hub, logs, kms } = await hubWithEndpoints(acct, '10.20.0.0/16');
    // A spoke (any work, ECS or not) resolves logs through a zone aliased to the hub's endpoint.
    const spoke = await createNetwork(acct, { cidr: '10.21.0.0/16', name: 'spoke', azs: ['a'] });
    await logsZoneToHub(acct, hub.vpcId, spoke.vpcId);
    const { clock, deps, store } = await enforcingStack(acct);
    let refuseZones = false;
    deps.pool.clientsFor(acct.region).route53.middlewareStack.add(
      (next, context) => async (args) => {
        // moto does not enforce IAM: a role without route53:ListHostedZones, as AWS answers it.
        if (refuseZones && context.commandName === 'ListHostedZonesCommand')
          throw Object.assign(new Error('not authorized to perform: route53:ListHostedZones'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
            $fault: 'client',
          });
        return next(args);
      },
      { step: 'initialize', name: 'testDenyListHostedZones' },
    );

    // The spoke uses logs through the zone: not unused. kms serves nobody: its clock starts.
    const first = planOf(await sweep(deps, acct));
    expect(first.vpcs.find((v) => v.vpcId === hub.vpcId)?.noEcsWork).toBe(true);
    expect(unusedOf(first, logs)).toBeUndefined();
    expect(unusedOf(first, kms)?.remediation.reason).toContain('first seen unneeded now');
    expect(Object.keys(await clockOf(store, acct))).toEqual([kms]);

    // The zones cannot be listed: either may serve other VPCs, so unknown (kms's clock stops: a
    // possible need resets the grace period); nothing counts or goes.
    refuseZones = true;
    clock.day = 30;
    const blind = planOf(await sweep(deps, acct));
    for (const id of [logs, kms]) {
      expect(unusedOf(blind, id)).toMatchObject({ status: 'unknown' });
      expect(unusedOf(blind, id)?.statusReason).toContain('private hosted zone');
    }
    expect(blind.skippedReads.map((read) => read.operation)).toContain('route53:ListHostedZones');
    expect(blind.actions.filter((a) => a.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(await clockOf(store, acct)).toEqual({});

    // Read again: kms's clock starts afresh; past its grace period kms goes, the hub's logs stays.
    refuseZones = false;
    clock.day = 31;
    await sweep(deps, acct);
    expect(Object.keys(await clockOf(store, acct))).toEqual([kms]);
    clock.day = 31 + GRACE_DAYS;
    const last = await sweep(deps, acct);
    expect(last.outcomes[0]?.results?.filter((r) => r.kind === 'DELETE_ENDPOINT')).toMatchObject([
      { outcome: 'succeeded', resourceId: kms },
    ]);
    expect(await liveEndpointIds(acct, hub.vpcId)).toEqual([logs]);
  });

  it('never weighs an owned endpoint of a VPC whose subnets the account shares with others (AWS RAM): unknown, its participants out of sight', async () => {
    const acct = newAccount();
    const { network, logs, kms } = await leftovers(acct);
    // A participant runs its work in one of the owner's subnets: the owner cannot see it.
    const [sharedSubnet = ''] = network.subnetIds;
    const share = await shareSubnets(acct, '210987654321', { subnetIds: [sharedSubnet] });
    await sweepsKeepUnknown(acct, await enforcingStack(acct), [logs, kms], ['AWS RAM', sharedSubnet, share]);
    expect(await liveEndpointIds(acct, network.vpcId)).toEqual(expect.arrayContaining([logs, kms]));
  });

  it('never weighs an owned endpoint of a VPC hosting a Route 53 Resolver inbound endpoint (spokes forward there): unknown', async () => {
    const acct = newAccount();
    const { network, logs, kms } = await leftovers(acct);
    // The Resolver form of hub-and-spoke: other networks forward the service names to this VPC and
    // get its endpoints' private addresses; no zone names the endpoints.
    const group = await createSecurityGroup(acct, {
      vpcId: network.vpcId,
      name: 'dns-in',
      ingress: [{ port: 53, protocol: 'udp', cidr: '10.0.0.0/8' }],
    });
    const inbound = await createResolverEndpoint(acct, {
      direction: 'INBOUND',
      subnetIds: network.subnetIds,
      securityGroupIds: [group],
    });
    await sweepsKeepUnknown(acct, await enforcingStack(acct), [logs, kms], [inbound]);
    expect(await liveEndpointIds(acct, network.vpcId)).toEqual(expect.arrayContaining([logs, kms]));
  });

  it('never weighs an owned endpoint that is a resource of a Route 53 Profile (it reaches the VPCs the Profile is associated with): unknown, naming the Profile', async () => {
    const acct = newAccount();
    const { network, logs, kms } = await leftovers(acct);
    // The Profile carries logs to every VPC it is associated with, other accounts' too: none is in
    // sight here. kms is no Profile's: it goes past the grace period.
    const profile = await createProfile(acct, { name: 'shared-endpoints' });
    await associateResourceToProfile(acct, {
      profileId: profile.id,
      resourceArn: vpcEndpointArn(acct, logs),
    });
    await sweepsKeepUnknownReclaimOther(acct, await enforcingStack(acct), { kept: logs, other: kms }, [
      `Route 53 Profile ${profile.id} (shared-endpoints)`,
    ]);
    expect(await liveEndpointIds(acct, network.vpcId)).toContain(logs);
    expect(await liveEndpointIds(acct, network.vpcId)).not.toContain(kms);
  });

  it("never takes an owned hub endpoint a Route 53 Profile's private hosted zone points at (the zone reaches the Profile's VPCs; GetHostedZone lists none): unknown", async () => {
    const acct = newAccount();
    // The hub: no ECS work, the remediator's endpoints with private DNS off; a zone associated with
    // the hub alone aliases logs, and a Profile carries the zone to its VPCs.
    const { hub, logs, kms } = await hubWithEndpoints(acct, '10.22.0.0/16');
    const zoneId = await logsZoneToHub(acct, hub.vpcId, hub.vpcId);
    const profile = await createProfile(acct, { name: 'spokes-dns' });
    await associateResourceToProfile(acct, { profileId: profile.id, resourceArn: hostedZoneArn(zoneId) });
    await sweepsKeepUnknownReclaimOther(acct, await enforcingStack(acct), { kept: logs, other: kms }, [
      profile.id,
      `private hosted zone ${zoneId}`,
    ]);
    expect(await liveEndpointIds(acct, hub.vpcId)).toEqual([logs]);
  });

  it('a Route 53 Profile deleted between the two listings carries nothing: the sweep goes on, and counts', async () => {
    const acct = newAccount();
    const { logs, kms } = await leftovers(acct);
    const gone = await createProfile(acct, { name: 'gone' });
    const keeps = await createProfile(acct, { name: 'keeps' });
    await associateResourceToProfile(acct, { profileId: keeps.id, resourceArn: vpcEndpointArn(acct, logs) });
    const { deps, store } = await enforcingStack(acct);
    // The emulator cannot delete a Profile between a sweep's ListProfiles and its
    // ListProfileResourceAssociations: the client answers for `gone` as AWS answers for a Profile
    // deleted in between.
    const profiles = deps.pool.clientsFor(acct.region).route53profiles;
    const list = profiles.listProfileResourceAssociations.bind(profiles);
    profiles.listProfileResourceAssociations = (input) =>
      input.profileId === gone.id
        ? Promise.reject(
            new ServiceError('ResourceNotFoundException', `The profile ${gone.id} does not exist.`, 404),
          )
        : list(input);

    const plan = planOf(await sweep(deps, acct));
    expect(plan.failedRegions).toEqual([]);
    expect(plan.skippedReads).toEqual([]);
    expect(unusedOf(plan, logs)).toMatchObject({ status: 'unknown' });
    expect(unusedOf(plan, logs)?.statusReason).toContain(keeps.id);
    expect(unusedOf(plan, kms)).toMatchObject({ status: 'drift' });
    expect(Object.keys(await clockOf(store, acct))).toEqual([kms]);
  });

  it('the Route 53 Profiles listing refused: every owned endpoint weighed is unknown and the sweep does not count', async () => {
    const acct = newAccount();
    const { network, logs, kms } = await leftovers(acct);
    // moto does not enforce IAM: the proxy answers the reconciler's Route 53 Profiles reads as AWS
    // answers a role without route53profiles:ListProfiles (403 AccessDeniedException), while refusing.
    let refusing = false;
    const proxy = await startFaultProxy({
      target: motoEndpoint(),
      rules: [
        {
          service: 'route53profiles',
          when: () => refusing,
          fault: {
            kind: 'denied',
            code: 'AccessDeniedException',
            message: 'User is not authorized to perform: route53profiles:ListProfiles',
          },
        },
      ],
    });
    try {
      const stack = await createStack(acct, 'enforce');
      const clock = clockFrom(Date.now());
      const via = proxiedAccount(acct, proxy);
      const deps = depsFor(via, stack, { env: { CONFIG: JSON.stringify(CONFIG) }, now: clock.now });
      const store = clockStore(acct, stack);

      // Read: nothing carries them; their clocks start.
      await sweep(deps, acct);
      expect(Object.keys(await clockOf(store, acct)).sort()).toEqual([kms, logs].sort());

      // Refused past the grace period: a Profile may carry either; nothing counts or goes.
      refusing = true;
      clock.day = 30;
      const blind = await sweep(deps, acct);
      const plan = planOf(blind);
      for (const id of [logs, kms]) {
        expect(unusedOf(plan, id)).toMatchObject({ status: 'unknown' });
        expect(unusedOf(plan, id)?.statusReason).toContain('route53profiles:ListProfiles');
      }
      expect(plan.skippedReads.map((read) => read.operation)).toContain('route53profiles:ListProfiles');
      expect(proxy.faults('denied').length).toBeGreaterThan(0);
      expect(blind.outcomes[0]?.results?.filter((r) => r.kind === 'DELETE_ENDPOINT')).toEqual([]);
      expect(await clockOf(store, acct)).toEqual({});

      // Read again: the clocks start afresh, and past the grace period both go.
      refusing = false;
      clock.day = 31;
      await sweep(deps, acct);
      clock.day = 31 + GRACE_DAYS;
      const last = await sweep(deps, acct);
      expect(
        last.outcomes[0]?.results
          ?.filter((r) => r.kind === 'DELETE_ENDPOINT')
          .map((r) => [r.resourceId, r.outcome])
          .sort(),
      ).toEqual(
        [
          [kms, 'succeeded'],
          [logs, 'succeeded'],
        ].sort(),
      );
      expect(await liveEndpointIds(acct, network.vpcId)).not.toContain(logs);
    } finally {
      await proxy.stop();
    }
  });

  it('a delete another attempt already made is already-satisfied: its clock goes, nothing fails', async () => {
    const acct = newAccount();
    const { network, logs, kms, foreign } = await leftovers(acct);
    const { clock, deps, store } = await enforcingStack(acct);
    await sweep(deps, acct);
    expect(Object.keys(await clockOf(store, acct)).sort()).toEqual([kms, logs].sort());

    // A first (retried, or concurrent) attempt deletes kms between this one's plan and its delete:
    // when the apply reads kms again right before deleting it, that attempt has just done so.
    let raced = false;
    deps.pool.clientsFor(acct.region).ec2.middlewareStack.add(
      (next, context) => async (args) => {
        const filters = (args.input as { Filters?: Array<{ Name?: string; Values?: string[] }> }).Filters;
        if (
          !raced &&
          context.commandName === 'DescribeVpcEndpointsCommand' &&
          filters?.some((f) => f.Name === 'vpc-endpoint-id' && f.Values?.includes(kms))
        ) {
          raced = true;
          await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [kms] }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'testConcurrentDelete' },
    );
    clock.day = GRACE_DAYS;
    const summary = await sweep(deps, acct);
    expect(raced).toBe(true);
    const deletes = summary.outcomes[0]?.results?.filter((r) => r.kind === 'DELETE_ENDPOINT') ?? [];
    expect(deletes.map((r) => [r.resourceId, r.outcome]).sort()).toEqual(
      [
        [kms, 'already-satisfied'],
        [logs, 'succeeded'],
      ].sort(),
    );
    expect(await clockOf(store, acct)).toEqual({});
    const live = await liveEndpointIds(acct, network.vpcId);
    expect(live).toContain(foreign);
    expect(live).not.toContain(kms);
    expect(live).not.toContain(logs);
  });

  it('a reconcile interrupted after its deletes, before the clock moved, resumes on redelivery: no error, nothing else deleted', async () => {
    const acct = newAccount();
    const { network, logs, kms, foreign } = await leftovers(acct);
    const stack = await createStack(acct, 'enforce');
    const clock = clockFrom(Date.now());
    const real = clockStore(acct, stack);
    // moto cannot stop a process: the clock's store fails its first write after the deletes, where a
    // killed invocation would stop. What is left is the same: endpoints deleted, clock not moved,
    // findings not remembered, the message not completed (so SQS delivers it again).
    let interrupt = false;
    const store: ReclaimStore = {
      load: (region) => real.load(region),
      save: async (region, start, stop) => {
        if (interrupt) {
          interrupt = false;
          throw new Error('interrupted: the invocation stopped here');
        }
        await real.save(region, start, stop);
      },
    };
    const deps = depsFor(acct, stack, {
      env: { CONFIG: JSON.stringify(CONFIG) },
      now: clock.now,
      reclaim: store,
    });
    await sweep(deps, acct);
    const started = await clockOf(real, acct);
    expect(Object.keys(started).sort()).toEqual([kms, logs].sort());

    clock.day = GRACE_DAYS;
    interrupt = true;
    occurrences += 1;
    const event = JSON.parse(
      withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), `reclaim-${occurrences}`),
    ) as Record<string, unknown>;
    // The scheduled sweep's invocation fails (EventBridge retries it), as a killed one would.
    await expect(runReconcile(event, deps)).rejects.toThrow(/interrupted/);
    const left = await liveEndpointIds(acct, network.vpcId);
    expect(left).toContain(foreign);
    expect(left).not.toContain(kms);
    expect(left).not.toContain(logs);
    // The clock still holds both: the reconcile stopped before moving it.
    expect(await clockOf(real, acct)).toEqual(started);

    // The same message, delivered again.
    const redelivered = (await runReconcile(event, deps)) as BatchSummary;
    expect(redelivered.failedMessageIds).toEqual([]);
    const results = redelivered.outcomes[0]?.results ?? [];
    expect(results.filter((r) => r.outcome === 'failed')).toEqual([]);
    expect(results.filter((r) => r.kind === 'DELETE_ENDPOINT')).toEqual([]);
    expect(await clockOf(real, acct)).toEqual({});
    expect((await liveEndpointIds(acct, network.vpcId)).sort()).toEqual(left.sort());
    expect(unusedOf(planOf(redelivered), kms)).toBeUndefined();
  });
});
