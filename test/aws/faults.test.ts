// Faults survived (issue 10, item 9): enforce-mode applies of a realistic account through the fault
// proxy (test/harness/fault-proxy.ts) under throttling and 5xx, lost responses on every mutating call,
// three applies at once, a process killed between create and restart, and a Run Command that fails on
// one instance. Each ends, within three runs, with: one endpoint per service in the VPC, one group the
// remediator made, the resources someone else made unchanged, and no agent restarted twice.
//
// The code under test goes through the proxy (its own client pools, the stack's restart document and
// claims table); seeding and every assertion go straight to moto. Scenarios run concurrently, each in
// an account and behind a proxy of its own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateTagsCommand, DescribeSecurityGroupsCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
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
  readonly unowned: { readonly endpointId: string; readonly groupId: string; readonly defaultGroupId: string };
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
function runThrough(proxy: FaultProxy, e: Estate, config: Config): Promise<{ plan: Plan; results: ActionResult[] }> {
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
async function expectSafe(
  expect: ExpectStatic,
  e: Estate,
  before: unknown,
  broken?: string,
): Promise<void> {
  const endpoints = (
    await e.acct.ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [e.vpcId] }] }))
  ).VpcEndpoints?.filter((endpoint) => !['deleted', 'deleting'].includes((endpoint.State ?? '').toLowerCase()));
  const names = (endpoints ?? []).map((endpoint) => (endpoint.ServiceName ?? '').split('.').slice(3).join('.'));
  expect(names.sort(), 'one endpoint per service').toEqual(SERVICES);

  const groups =
    (
      await e.acct.ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [e.vpcId] }] }),
      )
    ).SecurityGroups ?? [];
  const managed = groups.filter((g) => g.Tags?.some((t) => t.Key === MANAGED_TAG.key && t.Value === MANAGED_TAG.value));
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

describe.concurrent('faults survived', () => {
  it('(a) throttling on ~10% and 5xx on ~2% of all calls (seeded)', async ({ expect }) => {
    const e = await seedEstate(newAccount());
    const before = await unownedState(e);
    const proxy = await startProxy(
      [
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
      expect([...services].sort()).toEqual(expect.arrayContaining(['dynamodb', 'ec2', 'ecs', 'ssm']));
      expect(proxy.faults('5xx').length).toBeGreaterThan(0);
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
      const { runs, left } = await converge(e, config, async () => { const { results } = await runThrough(proxy, e, config); console.log(JSON.stringify(results.map((r) => [r.kind, r.outcome, r.message, r.instances]), null, 1)); });
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      const mutating = new Set(proxy.requests.filter((r) => r.mutating).map((r) => `${r.service}:${r.operation}`));
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
      console.log(JSON.stringify(proxy.faults('lost').map((r) => [r.operation, r.upstreamStatus])));
      // Lost means applied: moto answered each of them.
      expect(proxy.faults('lost').every((r) => r.upstreamStatus === 200)).toBe(true);
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
      const { runs, left } = await converge(e, config, (n) =>
        n === 1
          ? Promise.all([1, 2, 3].map(() => runThrough(proxy, e, config)))
          : runThrough(proxy, e, config),
      );
      expect(runs, `still planned: ${left.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
      // All three did try to create: the token, the group name and the claims made them one.
      const creates = proxy.requests.filter((r) => r.operation === 'CreateVpcEndpoint');
      expect(creates.length).toBeGreaterThan(SERVICES.length - 1);
    } finally {
      await proxy.stop();
    }
    await expectSafe(expect, e, before);
  });

  it('(d) a process killed after a create, and one killed before the restart, then a re-run', async ({ expect }) => {
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
      const { runs, left } = await converge(e, config, async (n) => {
        if (n === 1) {
          expect(await killed('create')).toMatchObject({
            signal: 'SIGKILL',
            stdout: expect.stringMatching(/^KILLED after creating vpce-/) as unknown,
          });
          expect((await live()).sort()).toEqual(['ecs-agent', 'logs']);
        } else if (n === 2) {
          expect(await killed('restart')).toMatchObject({ signal: 'SIGKILL', stdout: 'KILLED before the restart\n' });
          expect((await live()).sort()).toEqual(SERVICES);
          expect(await allCommands(e.acct)).toEqual([]);
        } else {
          await runThrough(proxy, e, config);
        }
      }, (plan) => {
        afterRun.push(plan);
        return plan.actions.length === 0;
      });
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
            (restart?.instances ?? []).map((i) => `${i.ec2InstanceId === broken ? 'broken' : 'healthy'} ${i.outcome}`),
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
