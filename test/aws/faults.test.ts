// Faults survived (issue 10, item 9): enforce-mode applies of a realistic account through the fault
// proxy (test/harness/fault-proxy.ts) under throttling and 5xx, lost responses on every mutating call,
// three applies at once, a process killed between create and restart, and a Run Command that fails on
// one instance. Each ends, within three runs, with: one endpoint per service in the VPC, one group the
// remediator made, the resources someone else made unchanged, and no agent restarted twice.
//
// The code under test goes through the proxy (its own client pools, the stack's restart document and
// claims table); seeding and every assertion go straight to moto. Each scenario has an account and a
// proxy of its own. They run one after another: on two cores, running them at once saved little and
// doubled each one's time.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateTagsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { ListCommandInvocationsCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { Command } from '@aws-sdk/client-ssm';
import type { ExpectStatic } from 'vitest';
import { describe, it } from 'vitest';
import type { RestartAgentAction } from '../../core/actions.ts';
import { MANAGED_TAG } from '../../core/actions.ts';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { Plan } from '../../core/plan.ts';
import type { ActionResult } from '../../core/report.ts';
import { RESTARTED_AT_ATTRIBUTE } from '../../core/restarts.ts';
import { createClientPool, planAccount } from '../../aws/reconcile.ts';
import type { RestartClaim } from '../../aws/restart-claims.ts';
import { createRestartClaims } from '../../aws/restart-claims.ts';
import type { Account } from '../harness/aws.ts';
import { motoEndpoint, newAccount } from '../harness/aws.ts';
import type { FaultProxy, FaultRule } from '../harness/fault-proxy.ts';
import { proxiedAccount, startFaultProxy } from '../harness/fault-proxy.ts';
import { repoRoot } from '../harness/moto.ts';
import type { ContainerInstance } from '../harness/seed.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  registerTaskDefinition,
  runStandaloneTask,
} from '../harness/seed.ts';
import type { Stack } from './restart-stack.ts';
import { applyWith, deployStack, dynamoDbOf, guardedPool, stackGuard } from './restart-stack.ts';

const exec = promisify(execFile);

/** Short restart waits (moto answers at once): the pattern of restart-once.test.ts. */
const fast = (agentRestart: Record<string, unknown> = {}): Config =>
  parseConfig({
    agentRestart: { waitSeconds: 2, verifySeconds: 1, waveSize: 10, wavePercent: 100, ...agentRestart },
  });

/** What the estate's VPC needs, one endpoint each (`logs` is someone else's and stays theirs). */
const SERVICES = [
  'ec2messages',
  'ecr.api',
  'ecr.dkr',
  'ecs',
  'ecs-agent',
  'ecs-telemetry',
  'logs',
  's3',
  'ssm',
  'ssmmessages',
];

const MAX_RUNS = 3;

// ------------------------------------------------------------------------------------------------
// The estate
// ------------------------------------------------------------------------------------------------

interface Estate {
  readonly acct: Account;
  readonly vpcId: string;
  readonly cluster: string;
  /** Three container instances, two in the first AZ, each running tasks. */
  readonly instances: readonly ContainerInstance[];
  readonly stack: Stack;
  /** Made by "someone else": never to change. */
  readonly unowned: {
    readonly endpointId: string;
    readonly groupId: string;
    readonly defaultGroupId: string;
  };
}

/**
 * A private VPC (two AZs, no route out) with an EC2 cluster whose three container instances run an
 * awslogs service and standalone tasks from a private ECR image: it needs the ECS, ECR, S3, logs and
 * Run Command endpoints, and its agents a restart. The platform team's `logs` endpoint (its own
 * group, a policy of its own, tags) already serves the VPC. The stack's table and restart document
 * are deployed.
 */
async function seedEstate(acct: Account): Promise<Estate> {
  const cidr = '10.60.0.0/16';
  const network = await createNetwork(acct, { cidr, azs: ['a', 'b'], name: 'private' });
  const [a = '', b = ''] = network.subnetIds;
  const [cluster, taskDefinition, groupId, stack, defaultGroup] = await Promise.all([
    createCluster(acct, 'orders'),
    registerTaskDefinition(acct, {
      family: 'orders',
      images: [`${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com/orders:1`],
      logDriver: 'awslogs',
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    }),
    createSecurityGroup(acct, {
      vpcId: network.vpcId,
      name: 'platform-endpoints',
      description: 'HTTPS to the platform team endpoints',
      ingress: [{ port: 443, cidr }],
    }),
    deployStack(acct),
    acct.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [network.vpcId] },
          { Name: 'group-name', Values: ['default'] },
        ],
      }),
    ),
  ]);
  await acct.ec2.send(
    new CreateTagsCommand({
      Resources: [groupId],
      Tags: [
        { Key: 'owner', Value: 'platform-team' },
        { Key: 'cost-center', Value: '4711' },
      ],
    }),
  );
  const endpointId = await createEndpoint(acct, {
    vpcId: network.vpcId,
    service: 'logs',
    subnetIds: network.subnetIds,
    securityGroupIds: [groupId],
    privateDns: true,
    name: 'platform-logs',
    tags: { owner: 'platform-team' },
    policyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'PlatformLogs', Effect: 'Allow', Principal: '*', Action: 'logs:*', Resource: '*' }],
    }),
  });
  const instances: ContainerInstance[] = [];
  for (const subnetId of [a, b, a]) instances.push(await addContainerInstance(acct, { cluster, subnetId }));
  await createService(acct, { cluster, name: 'orders', taskDefinition, launchType: 'EC2', desiredCount: 2 });
  await runStandaloneTask(acct, { cluster, taskDefinition, launchType: 'EC2', count: 2, group: 'batch' });
  return {
    acct,
    vpcId: network.vpcId,
    cluster,
    instances,
    stack,
    unowned: { endpointId, groupId, defaultGroupId: defaultGroup.SecurityGroups?.[0]?.GroupId ?? '' },
  };
}

/** Arrays sorted and object keys ordered, so two reads of the same state compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value))
    return value.map(canonical).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, v]) => [k, canonical(v)]),
    );
  return value;
}

/** Everything AWS says of the unowned endpoint and groups (tags, policy, groups, subnets, rules, ENIs, DNS). */
async function unownedState(e: Estate): Promise<unknown> {
  const endpoint = (
    await e.acct.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [e.unowned.endpointId] }))
  ).VpcEndpoints?.[0];
  const groups = (
    await e.acct.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [e.unowned.groupId, e.unowned.defaultGroupId] }),
    )
  ).SecurityGroups;
  return canonical({
    endpoint: endpoint && {
      ...endpoint,
      PolicyDocument: JSON.parse(endpoint.PolicyDocument ?? 'null') as unknown,
    },
    groups,
  });
}

// ------------------------------------------------------------------------------------------------
// Runs
// ------------------------------------------------------------------------------------------------

/** One enforce-mode run (plan, then apply) through the proxy, with client pools of its own. */
function runThrough(
  proxy: FaultProxy,
  e: Estate,
  config: Config,
): Promise<{ plan: Plan; results: ActionResult[] }> {
  const via = proxiedAccount(e.acct, proxy);
  const pool = guardedPool(via, stackGuard({ ...e.stack, dynamodb: dynamoDbOf(via) }));
  return applyWith(via, config, pool);
}

/** The plan of the account as it is now, read straight from moto. */
function planNow(e: Estate, config: Config): Promise<Plan> {
  const pool = createClientPool({ endpoint: e.acct.endpoint, credentials: e.acct.credentials });
  return planAccount({ regions: [e.acct.region], config, pool });
}

const describeActions = (plan: Plan): string[] =>
  plan.actions.map((a) =>
    a.kind === 'RESTART_AGENT' ? `${a.id} [${a.instances.map((i) => i.ec2InstanceId).join(', ')}]` : a.id,
  );

/**
 * Runs `run` (the nth run) until the plan read from moto afterwards is `done` (default: nothing left
 * to do), at most {@link MAX_RUNS} times. Returns the runs it took (MAX_RUNS + 1: not converged).
 */
async function converge(
  e: Estate,
  config: Config,
  run: (n: number) => Promise<unknown>,
  done: (plan: Plan) => boolean = (plan) => plan.actions.length === 0,
): Promise<{ runs: number; left: string[] }> {
  let plan: Plan | undefined;
  for (let n = 1; n <= MAX_RUNS; n += 1) {
    await run(n);
    plan = await planNow(e, config);
    if (plan.failedRegions.length === 0 && done(plan)) return { runs: n, left: describeActions(plan) };
  }
  return { runs: MAX_RUNS + 1, left: plan ? describeActions(plan) : [] };
}

async function startProxy(rules: readonly FaultRule[] = [], seed = 1): Promise<FaultProxy> {
  return startFaultProxy({ target: motoEndpoint(), rules, seed });
}

// ------------------------------------------------------------------------------------------------
// What every scenario must end with
// ------------------------------------------------------------------------------------------------

async function allCommands(acct: Account): Promise<Command[]> {
  const out: Command[] = [];
  let token: string | undefined;
  do {
    const page = await acct.ssm.send(new ListCommandsCommand({ NextToken: token }));
    out.push(...(page.Commands ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/** Per instance: restart commands sent to it, and how many of them succeeded on it. */
async function restartsPerInstance(acct: Account): Promise<Map<string, { sent: number; succeeded: number }>> {
  const counts = new Map<string, { sent: number; succeeded: number }>();
  for (const command of await allCommands(acct)) {
    const invocations = await acct.ssm.send(
      new ListCommandInvocationsCommand({ CommandId: command.CommandId }),
    );
    for (const id of command.InstanceIds ?? []) {
      const status = invocations.CommandInvocations?.find((i) => i.InstanceId === id)?.Status;
      const count = counts.get(id) ?? { sent: 0, succeeded: 0 };
      counts.set(id, { sent: count.sent + 1, succeeded: count.succeeded + (status === 'Success' ? 1 : 0) });
    }
  }
  return counts;
}

async function restartedAt(e: Estate): Promise<Map<string, string | undefined>> {
  const out = await e.acct.ecs.send(
    new DescribeContainerInstancesCommand({
      cluster: e.cluster,
      containerInstances: e.instances.map((i) => i.containerInstanceArn),
    }),
  );
  return new Map(
    e.instances.map((i) => [
      i.instanceId,
      out.containerInstances
        ?.find((ci) => ci.containerInstanceArn === i.containerInstanceArn)
        ?.attributes?.find((attribute) => attribute.name === RESTARTED_AT_ATTRIBUTE)?.value,
    ]),
  );
}

/**
 * The invariants: one live endpoint per service (the expected ones, no duplicate), one group the
 * remediator made and no other new group, the unowned endpoint and groups exactly as before, and
 * every agent restarted once (its one command succeeded, the restart recorded), except `broken`,
 * which is never restarted (its commands all failed).
 */
async function expectSafe(expect: ExpectStatic, e: Estate, before: unknown, broken?: string): Promise<void> {
  const endpoints = (
    await e.acct.ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [e.vpcId] }] }),
    )
  ).VpcEndpoints?.filter(
    (endpoint) => !['deleted', 'deleting'].includes((endpoint.State ?? '').toLowerCase()),
  );
  const names = (endpoints ?? []).map((endpoint) =>
    (endpoint.ServiceName ?? '').split('.').slice(3).join('.'),
  );
  expect(names.sort(), 'one endpoint per service').toEqual(SERVICES);

  const groups =
    (
      await e.acct.ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [e.vpcId] }] }),
      )
    ).SecurityGroups ?? [];
  const managed = groups.filter((g) =>
    g.Tags?.some((t) => t.Key === MANAGED_TAG.key && t.Value === MANAGED_TAG.value),
  );
  expect(managed, 'one group of the remediator').toHaveLength(1);
  expect(groups.map((g) => g.GroupId).sort()).toEqual(
    [e.unowned.defaultGroupId, e.unowned.groupId, managed[0]?.GroupId].sort(),
  );

  expect(await unownedState(e), 'unowned resources unchanged').toEqual(before);

  const restarts = await restartsPerInstance(e.acct);
  const recorded = await restartedAt(e);
  for (const { instanceId } of e.instances) {
    const count = restarts.get(instanceId) ?? { sent: 0, succeeded: 0 };
    if (instanceId === broken) {
      expect(count.succeeded, `${instanceId} (failing) never restarted`).toBe(0);
      expect(count.sent, `${instanceId} (failing) tried at most once a run`).toBeLessThanOrEqual(MAX_RUNS);
      expect(recorded.get(instanceId)).toBeUndefined();
    } else {
      expect(count, `${instanceId} restarted exactly once`).toEqual({ sent: 1, succeeded: 1 });
      expect(recorded.get(instanceId), `${instanceId} restart recorded`).toBeDefined();
    }
  }
}

// ------------------------------------------------------------------------------------------------
// The scenarios
// ------------------------------------------------------------------------------------------------

describe('faults survived', () => {
  it('(a) throttling on ~10% and 5xx on ~2% of all calls (seeded)', async ({ expect }) => {
    const e = await seedEstate(newAccount());
    const before = await unownedState(e);
    const proxy = await startProxy(
      [
        // For sure, whatever the draws: SendCommand (sent without SDK retries) throttled, the first
        // claim write throttled, and the first endpoint create answered 503.
        { service: 'ssm', operation: 'SendCommand', nth: 1, fault: { kind: 'throttle' } },
        { service: 'dynamodb', operation: 'PutItem', nth: 1, fault: { kind: 'throttle' } },
        { service: 'ec2', operation: 'CreateVpcEndpoint', nth: 1, fault: { kind: '5xx', status: 503 } },
        { name: 'throttle', rate: 0.1, fault: { kind: 'throttle' } },
        { name: '500', rate: 0.01, fault: { kind: '5xx', status: 500 } },
        { name: '503', rate: 0.01, fault: { kind: '5xx', status: 503 } },
      ],
      2025,
    );
    try {
      const config = fast();
      const { runs, left } = await converge(e, config, () => runThrough(proxy, e, config));
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      const services = new Set(proxy.faults('throttle').map((r) => r.service));
      expect([...services]).toEqual(expect.arrayContaining(['dynamodb', 'ec2', 'ssm']));
      expect(proxy.faults('5xx').length).toBeGreaterThan(0);
      // About the rates asked for.
      const share = (kind: 'throttle' | '5xx') => proxy.faults(kind).length / proxy.requests.length;
      expect(share('throttle')).toBeGreaterThan(0.05);
      expect(share('throttle')).toBeLessThan(0.2);
    } finally {
      await proxy.stop();
    }
    await expectSafe(expect, e, before);
  });

  it('(b) every mutating call applied and its response lost, then retried', async ({ expect }) => {
    const e = await seedEstate(newAccount());
    const before = await unownedState(e);
    // Each distinct mutating request loses its first answer (the SDK's retry is the same request and
    // goes through): EC2 and SSM as a reset connection, ECS and DynamoDB as a 504.
    const proxy = await startProxy([
      { service: ['ec2', 'ssm'], mutating: true, per: 'request', times: 1, fault: { kind: 'lost' } },
      {
        service: ['ecs', 'dynamodb'],
        mutating: true,
        per: 'request',
        times: 1,
        fault: { kind: 'lost', as: 504 },
      },
    ]);
    try {
      const config = fast();
      const { runs, left } = await converge(e, config, () => runThrough(proxy, e, config));
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      const mutating = new Set(
        proxy.requests.filter((r) => r.mutating).map((r) => `${r.service}:${r.operation}`),
      );
      const lost = new Set(proxy.faults('lost').map((r) => `${r.service}:${r.operation}`));
      expect([...lost].sort(), 'every mutating operation lost a response').toEqual([...mutating].sort());
      expect([...lost]).toEqual(
        expect.arrayContaining([
          'ec2:CreateSecurityGroup',
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:CreateVpcEndpoint',
          'ec2:CreateTags',
          'ssm:SendCommand',
          'ecs:PutAttributes',
          'dynamodb:PutItem',
        ]),
      );
      // Lost means applied: moto took each (and for each operation, at least one succeeded there; a
      // lost refusal, such as a rule that exists already, is retried and refused again).
      expect(proxy.faults('lost').every((r) => r.upstreamStatus !== undefined)).toBe(true);
      const applied = new Set(
        proxy
          .faults('lost')
          .filter((r) => r.upstreamStatus === 200)
          .map((r) => `${r.service}:${r.operation}`),
      );
      expect([...applied].sort()).toEqual([...lost].sort());
    } finally {
      await proxy.stop();
    }
    await expectSafe(expect, e, before);
  });

  it('(c) three applies at once, each with its own clients', async ({ expect }) => {
    const e = await seedEstate(newAccount());
    const before = await unownedState(e);
    // Latency on half the requests (deterministically chosen) shuffles how the three runs interleave.
    const proxy = await startProxy([{ rate: 0.5, fault: { kind: 'latency', ms: 25 } }], 3);
    try {
      const config = fast();
      const trio: ActionResult[][] = [];
      const { runs, left } = await converge(e, config, async (n) => {
        if (n > 1) return runThrough(proxy, e, config);
        const all = await Promise.all([1, 2, 3].map(() => runThrough(proxy, e, config)));
        trio.push(...all.map((r) => r.results));
      });
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      // Each of the three planned the whole fix and none failed: what another made first is theirs.
      for (const results of trio) {
        expect(
          results.filter((r) => r.kind === 'CREATE_ENDPOINT' || r.kind === 'CREATE_GATEWAY_ENDPOINT'),
        ).toHaveLength(SERVICES.length - 1);
        expect(results.filter((r) => r.outcome === 'failed')).toEqual([]);
      }
      // Each agent's command sent by exactly one of them; the others verified it or left it to its sender.
      const outcomes = (instanceId: string) =>
        trio.flatMap((results) =>
          results.flatMap((r) => r.instances?.filter((i) => i.ec2InstanceId === instanceId) ?? []),
        );
      for (const { instanceId } of e.instances) {
        const sentBy = outcomes(instanceId).filter(
          (i) => i.outcome === 'restarted' && !i.message.startsWith('verified the restart of'),
        );
        expect(sentBy, `${instanceId}: one sender`).toHaveLength(1);
        for (const other of outcomes(instanceId).filter((i) => !sentBy.includes(i)))
          expect(other.message).toMatch(
            /^verified the restart of an earlier run's command|another run|already restarted for this endpoint change/,
          );
      }
    } finally {
      await proxy.stop();
    }
    await expectSafe(expect, e, before);
  });

  it('(d) a process killed after a create, and one killed before the restart, then a re-run', async ({
    expect,
  }) => {
    const e = await seedEstate(newAccount());
    const before = await unownedState(e);
    const config = fast();
    const killed = (at: 'create' | 'restart') =>
      exec(process.execPath, ['test/aws/faults-kill.fixture.ts'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...e.acct.env,
          EER_TABLE: e.stack.tableName,
          EER_DOCUMENT: e.stack.documentName,
          EER_CONFIG: JSON.stringify({ agentRestart: { waitSeconds: 2, verifySeconds: 1 } }),
          EER_KILL_AT: at,
        },
        timeout: 60_000,
      }).then(
        ({ stdout }) => ({ signal: null, stdout }),
        (error: unknown) => {
          const failed = error as { signal?: string | null; stdout?: string; stderr?: string };
          return { signal: failed.signal ?? null, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
        },
      );
    const live = async () =>
      (
        (
          await e.acct.ec2.send(
            new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [e.vpcId] }] }),
          )
        ).VpcEndpoints ?? []
      ).map((endpoint) => endpoint.ServiceName?.split('.').slice(3).join('.'));
    const proxy = await startProxy();
    try {
      const afterRun: Plan[] = [];
      const { runs, left } = await converge(
        e,
        config,
        async (n) => {
          if (n === 1) {
            expect(await killed('create')).toMatchObject({
              signal: 'SIGKILL',
              stdout: expect.stringMatching(/^KILLED after creating vpce-/) as unknown,
            });
            expect((await live()).sort()).toEqual(['ecs-agent', 'logs']);
          } else if (n === 2) {
            expect(await killed('restart')).toMatchObject({
              signal: 'SIGKILL',
              stdout: 'KILLED before the restart\n',
            });
            expect((await live()).sort()).toEqual(SERVICES);
            expect(await allCommands(e.acct)).toEqual([]);
          } else {
            await runThrough(proxy, e, config);
          }
        },
        (plan) => {
          afterRun.push(plan);
          return plan.actions.length === 0;
        },
      );
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      // The restart the killed runs owed survived them: the next plan had it, and nothing to create.
      const owed = afterRun[1]?.actions ?? [];
      expect(owed.map((a) => a.kind)).toEqual(['RESTART_AGENT']);
      expect(
        (owed[0] as RestartAgentAction | undefined)?.instances.map((i) => i.ec2InstanceId).sort(),
      ).toEqual(e.instances.map((i) => i.instanceId).sort());
    } finally {
      await proxy.stop();
    }
    await expectSafe(expect, e, before);
  });

  it('(e) Run Command fails on one instance: the others are restarted once, it is never restarted twice', async ({
    expect,
  }) => {
    const e = await seedEstate(newAccount());
    const before = await unownedState(e);
    const config = fast({ waveSize: 1 });
    // The instance first in the rollout: its failure halts the cluster's first run (moto_ssm.py's
    // eer-test:command=fail makes every command on it end Failed, as a broken agent host would).
    const first = (await planNow(e, config)).actions.find(
      (a): a is RestartAgentAction & typeof a => a.kind === 'RESTART_AGENT',
    );
    const broken = first?.instances[0]?.ec2InstanceId ?? '';
    await e.acct.ec2.send(
      new CreateTagsCommand({ Resources: [broken], Tags: [{ Key: 'eer-test:command', Value: 'fail' }] }),
    );
    const proxy = await startProxy();
    try {
      const outcomes: string[][] = [];
      const { runs, left } = await converge(
        e,
        config,
        async () => {
          const { results } = await runThrough(proxy, e, config);
          const restart = results.find((r) => r.kind === 'RESTART_AGENT');
          outcomes.push(
            (restart?.instances ?? []).map(
              (i) => `${i.ec2InstanceId === broken ? 'broken' : 'healthy'} ${i.outcome}`,
            ),
          );
        },
        // Converged: nothing to create; only the broken instance still owes its restart.
        (plan) =>
          plan.actions.every(
            (a) => a.kind === 'RESTART_AGENT' && a.instances.every((i) => i.ec2InstanceId === broken),
          ),
      );
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      expect(left).toEqual([expect.stringContaining(`[${broken}]`)]);
      // The restart policy: the failure halts the cluster, the failing instance goes last next run.
      expect(outcomes).toEqual([
        ['broken failed', 'healthy skipped', 'healthy skipped'],
        ['healthy restarted', 'healthy restarted', 'broken failed'],
      ]);
    } finally {
      await proxy.stop();
    }
    await expectSafe(expect, e, before, broken);
  });
});

describe('restart claims through lost responses', () => {
  it("a claim write whose response was lost is still the run's; a rival's or a stale write is not", async ({
    expect,
  }) => {
    const acct = newAccount();
    const stack = await deployStack(acct);
    // Each distinct PutItem loses its first answer; the SDK's retry then fails the condition the
    // first attempt met (aws/restart-claims.ts reads the item DynamoDB returns with the refusal).
    const proxy = await startProxy([
      { service: 'dynamodb', operation: 'PutItem', per: 'request', times: 1, fault: { kind: 'lost' } },
    ]);
    try {
      const claims = createRestartClaims(dynamoDbOf(proxiedAccount(acct, proxy)), stack.tableName);
      const cluster = `arn:aws:ecs:${acct.region}:${acct.accountId}:cluster/orders`;
      const mine: Omit<RestartClaim, 'version'> = {
        ec2InstanceId: 'i-0123456789abcdef0',
        cutoff: '2025-01-01T00:00:00.000Z',
        status: 'claimed',
        sendId: '0123456789ab',
        owner: 'run-a',
        leaseUntil: Math.floor(Date.now() / 1000) + 600,
        claimedAt: new Date().toISOString(),
        documentName: stack.documentName,
      };
      const won = await claims.claim(acct.region, cluster, mine, undefined);
      expect(won).toMatchObject({ owner: 'run-a', version: 1 });
      if (!won) return;
      expect(
        await claims.claim(
          acct.region,
          cluster,
          { ...mine, owner: 'run-b', sendId: 'ba9876543210' },
          undefined,
        ),
      ).toBeUndefined();
      const sent = await claims.update(acct.region, cluster, won, { status: 'sent', commandId: 'cmd-1' });
      expect(sent).toMatchObject({ status: 'sent', commandId: 'cmd-1', version: 2 });
      expect(await claims.update(acct.region, cluster, won, { status: 'failed' })).toBeUndefined();
      const held = await claims.load(acct.region, cluster, mine.cutoff);
      expect(held.claims.get(mine.ec2InstanceId)).toMatchObject({
        owner: 'run-a',
        status: 'sent',
        version: 2,
      });
      expect(proxy.faults('lost').map((r) => r.upstreamStatus)).toEqual([200, 400, 200, 400]);
    } finally {
      await proxy.stop();
    }
  });
});
