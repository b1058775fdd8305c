// Rate-aware calls (issue 11, item 1) against moto, through the fault proxy (test/harness/fault-proxy.ts),
// which answers the chosen requests with each protocol's throttling error (ECS ThrottlingException,
// EC2 RequestLimitExceeded) before moto sees them:
// - a plan whose DescribeTaskDefinition and DescribeVpcAttribute are throttled 7 times in a row each
//   (the SDK's standard mode gave up after 5) completes its Region with the plan of an unthrottled run;
// - a request still throttled at the work's deadline fails the Region with a message naming the
//   service, the operation and how long it was throttled (and so when the CLI's budget is spent);
// - the limiter bounds the requests of a bucket in flight, read by a recorder around each HTTP request
//   (concurrency, not time);
// - the Lambda's deadline is its invocation's remaining time less the safety margin, read per
//   invocation although its client pool lives as long as the container.
// Backoff is shortened (ClientOptions.throttleBackoff) and the buckets made large: the test is about
// what happens, not how long the published rates take.
import type { MiddlewareStack } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { parseConfig } from '../../core/config.ts';
import { sendCommandClient } from '../../aws/restart-guard.ts';
import type { Plan } from '../../core/plan.ts';
import type { ClientOptions } from '../../aws/clients.ts';
import type { ClientPool } from '../../aws/reconcile.ts';
import { createClientPool, planAccount } from '../../aws/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { motoEndpoint, newAccount } from '../harness/aws.ts';
import type { FaultProxy, FaultRule } from '../harness/fault-proxy.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { createCluster, createNetwork, createService, registerTaskDefinition } from '../harness/seed.ts';
import { reconcileSqsBatch, remediatorDeps } from '../../handlers/reconcile.ts';
import { createStack, sampleText, sqsEvent, withEventId } from '../handlers/stack.ts';

const config = parseConfig({});
const NOW = new Date('2026-12-01T10:00:00Z');
/** Throttled requests retried after 2 to 20 ms instead of 0.5 to 20 s. */
const FAST_BACKOFF = { baseMs: 2, maxMs: 20 } as const;
/** Buckets that never make a request wait for a token here: only their caps in flight bind. */
const roomy = (buckets: Record<string, Record<string, number>> = {}) =>
  parseConfig({
    rateLimits: {
      share: 1,
      buckets: {
        'ecs:taskDefinitionRead': { capacity: 1000, refillPerSecond: 1000 },
        'ec2:nonMutating': { capacity: 1000, refillPerSecond: 1000 },
        ...buckets,
      },
    },
  }).rateLimits;

const VPCS = 2;
const TASK_DEFINITIONS_PER_VPC = 2;

let proxy: FaultProxy;
let acct: Account;
beforeAll(async () => {
  proxy = await startFaultProxy({ target: motoEndpoint() });
  // Two VPCs, each running two Fargate services of task definitions of their own: 4
  // DescribeTaskDefinition and 4 DescribeVpcAttribute (2 a VPC) requests per plan.
  acct = newAccount();
  const cluster = await createCluster(acct, 'shop');
  await Promise.all(
    Array.from({ length: VPCS }, async (_, v) => {
      const network = await createNetwork(acct, {
        cidr: `10.${70 + v}.0.0/16`,
        azs: ['a'],
        name: `vpc-${v}`,
      });
      for (let t = 0; t < TASK_DEFINITIONS_PER_VPC; t += 1) {
        const taskDefinition = await registerTaskDefinition(acct, {
          family: `app-${v}-${t}`,
          images: [`${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com/app-${v}-${t}:1`],
          logDriver: 'awslogs',
        });
        await createService(acct, {
          cluster,
          name: `app-${v}-${t}`,
          taskDefinition,
          launchType: 'FARGATE',
          subnets: network.subnetIds,
        });
      }
    }),
  );
});
afterAll(async () => {
  await proxy.stop();
});

/** A pool whose clients go through the proxy. */
function proxied(options: ClientOptions = {}): ClientPool {
  return createClientPool({
    endpoint: proxy.endpoint,
    credentials: acct.credentials,
    throttleBackoff: FAST_BACKOFF,
    ...options,
  });
}

const plan = (pool: ClientPool): Promise<Plan> =>
  planAccount({ regions: [acct.region], config, pool, now: NOW });

/** What a plan decides (its stats count the requests, retries included, and differ by design). */
const decided = (p: Plan) => ({
  failedRegions: p.failedRegions,
  skippedReads: p.skippedReads,
  vpcs: p.vpcs,
  findings: p.findings,
  actions: p.actions,
});

/** Runs `work` with `rules` on the proxy, for this test's account only. */
async function withRules<T>(rules: readonly FaultRule[], work: () => Promise<T>): Promise<T> {
  proxy.setRules(rules.map((rule) => ({ ...rule, account: acct.accountId })));
  try {
    return await work();
  } finally {
    proxy.setRules([]);
  }
}

const throttledOf = (operation: string) =>
  proxy.requests.filter(
    (r) => r.account === acct.accountId && r.operation === operation && r.fault === 'throttle',
  );

/**
 * The most requests of each operation in flight at once, recorded around the HTTP request itself (the
 * deserialize step: inside the retry loop, the limiter and signing).
 */
function recordConcurrency(pool: ClientPool): Map<string, number> {
  const peaks = new Map<string, number>();
  const current = new Map<string, number>();
  const recorder =
    <Args, Output>(next: (args: Args) => Promise<Output>, context: { readonly commandName?: string }) =>
    async (args: Args): Promise<Output> => {
      const operation = context.commandName?.replace(/Command$/, '') ?? '?';
      const now = (current.get(operation) ?? 0) + 1;
      current.set(operation, now);
      peaks.set(operation, Math.max(peaks.get(operation) ?? 0, now));
      try {
        return await next(args);
      } finally {
        current.set(operation, (current.get(operation) ?? 1) - 1);
      }
    };
  const add = <Input extends object, Output extends object>(stack: MiddlewareStack<Input, Output>): void => {
    stack.add(recorder, { step: 'deserialize', priority: 'low', name: 'testConcurrencyRecorder' });
  };
  const clients = pool.clientsFor(acct.region);
  add(clients.ec2.middlewareStack);
  add(clients.ecs.middlewareStack);
  return peaks;
}

describe('rate-aware calls', () => {
  it('throttled 7 times in a row, DescribeTaskDefinition and DescribeVpcAttribute still complete the Region: same plan', async () => {
    const unthrottled = await plan(proxied({ rateLimits: roomy() }));
    expect(unthrottled.failedRegions).toEqual([]);
    expect(unthrottled.findings.length).toBeGreaterThan(0);

    const pool = proxied({ rateLimits: roomy() });
    const before = proxy.requests.length;
    const throttled = await withRules(
      [
        // Each distinct request (its body: an SDK retry resends the same) refused 7 times, then let through.
        {
          name: 'task definitions',
          service: 'ecs',
          operation: 'DescribeTaskDefinition',
          fault: { kind: 'throttle' },
          per: 'request',
          times: 7,
        },
        {
          name: 'vpc attributes',
          service: 'ec2',
          operation: 'DescribeVpcAttribute',
          fault: { kind: 'throttle' },
          per: 'request',
          times: 7,
        },
      ],
      () => plan(pool),
    );
    expect(decided(throttled)).toEqual(decided(unthrottled));
    const fresh = proxy.requests.slice(before).filter((r) => r.account === acct.accountId);
    const taskDefinitions = fresh.filter((r) => r.operation === 'DescribeTaskDefinition');
    const attributes = fresh.filter((r) => r.operation === 'DescribeVpcAttribute');
    // 8 attempts for each request: 7 refused, the 8th answered by moto.
    expect(taskDefinitions.filter((r) => r.fault === 'throttle')).toHaveLength(
      7 * VPCS * TASK_DEFINITIONS_PER_VPC,
    );
    expect(taskDefinitions.filter((r) => r.upstreamStatus === 200)).toHaveLength(
      VPCS * TASK_DEFINITIONS_PER_VPC,
    );
    expect(attributes.filter((r) => r.fault === 'throttle')).toHaveLength(7 * 2 * VPCS);
    expect(attributes.filter((r) => r.upstreamStatus === 200)).toHaveLength(2 * VPCS);
    // Every attempt was counted; the limiter slowed the throttled buckets down (AIMD).
    expect(pool.apiCalls().byOperation['ecs:DescribeTaskDefinition']).toBe(
      8 * VPCS * TASK_DEFINITIONS_PER_VPC,
    );
    const stats = pool.limiter?.stats() ?? [];
    expect(stats.find((b) => b.key === `${acct.region}/ecs:taskDefinitionRead`)).toMatchObject({
      throttled: 7 * VPCS * TASK_DEFINITIONS_PER_VPC,
    });
    expect(stats.find((b) => b.key === `${acct.region}/ec2:DescribeVpcAttribute`)?.backoffs).toBeGreaterThan(
      0,
    );
  });

  it('still throttled at the deadline, a request fails its Region naming the service, the operation and the time', async () => {
    const forever: FaultRule[] = [
      { service: 'ecs', operation: 'DescribeTaskDefinition', fault: { kind: 'throttle' } },
    ];
    const throttledBefore = throttledOf('DescribeTaskDefinition').length;
    // The Lambda's way (a deadline: 1.2 s from now) and the CLI's (no deadline:
    // rateLimits.throttleBudgetSeconds from the request's first throttled answer), side by side.
    const deadline = Date.now() + 1_200;
    const budget = parseConfig({ rateLimits: { throttleBudgetSeconds: 1 } }).rateLimits;
    const [failed, spent] = await withRules(forever, () =>
      Promise.all([plan(proxied({ deadline: () => deadline })), plan(proxied({ rateLimits: budget }))]),
    );
    expect(failed.findings).toEqual([]);
    expect(failed.failedRegions).toHaveLength(1);
    expect(failed.failedRegions[0]?.error).toMatch(
      new RegExp(
        `^ecs:DescribeTaskDefinition failed: ThrottledPastDeadline: ecs\\.${acct.region}: DescribeTaskDefinition ` +
          'still throttled \\(ThrottlingException\\) after \\d+ s and \\d+ attempts: no time left before its deadline$',
      ),
    );
    // Retried far past the standard mode's 5 attempts before giving up.
    const attempts = Number(/ s and (\d+) attempts/.exec(failed.failedRegions[0]?.error ?? '')?.[1]);
    expect(attempts).toBeGreaterThan(5);
    expect(throttledOf('DescribeTaskDefinition').length - throttledBefore).toBeGreaterThan(5);
    expect(spent.failedRegions[0]?.error).toMatch(
      /DescribeTaskDefinition still throttled \(ThrottlingException\) after \d+ s and \d+ attempts: its throttling budget \(rateLimits\.throttleBudgetSeconds, 1 s\) is spent$/,
    );
  });

  it('the limiter bounds each bucket’s requests in flight, throttled or not', async () => {
    // Every request held 40 ms by the proxy: discovery's fan-out (8 task definitions at once, two
    // attributes for each of 8 VPCs at once: here all 4 of each) overlaps them.
    const slow: FaultRule[] = [
      {
        service: ['ecs', 'ec2'],
        operation: ['DescribeTaskDefinition', 'DescribeVpcAttribute'],
        fault: { kind: 'latency', ms: 40 },
      },
    ];
    const unlimited = proxied();
    const unlimitedPeaks = recordConcurrency(unlimited);
    await withRules(slow, () => plan(unlimited));
    expect(unlimitedPeaks.get('DescribeTaskDefinition')).toBeGreaterThan(2);
    expect(unlimitedPeaks.get('DescribeVpcAttribute')).toBeGreaterThan(3);

    const limited = proxied({
      rateLimits: roomy({
        'ecs:taskDefinitionRead': { capacity: 1000, refillPerSecond: 1000, maxInFlight: 2 },
        'ec2:DescribeVpcAttribute': { maxInFlight: 3 },
      }),
    });
    const peaks = recordConcurrency(limited);
    const limitedPlan = await withRules(
      [
        ...slow,
        {
          service: 'ecs',
          operation: 'DescribeTaskDefinition',
          fault: { kind: 'throttle' },
          per: 'request',
          times: 2,
        },
      ],
      () => plan(limited),
    );
    expect(limitedPlan.failedRegions).toEqual([]);
    expect(peaks.get('DescribeTaskDefinition')).toBeLessThanOrEqual(2);
    expect(peaks.get('DescribeVpcAttribute')).toBeLessThanOrEqual(3);
    const stats = limited.limiter?.stats() ?? [];
    expect(stats.find((b) => b.key === `${acct.region}/ecs:taskDefinitionRead`)).toMatchObject({
      maxInFlight: 2,
    });
    for (const bucket of stats)
      expect(bucket.peakInFlight, bucket.key).toBeLessThanOrEqual(bucket.maxInFlight);
    // The Route 53 Resolver client (our own, not the SDK's) draws on the limiter too.
    expect(stats.map((b) => b.key)).toContain(`${acct.region}/route53resolver:ListResolverRuleAssociations`);
  });

  it('the Lambda retries throttling until its invocation’s end less the safety margin, read per invocation', async () => {
    const stack = await createStack(acct, 'report', { adopt: false });
    // One pool for every invocation, as in a container: the deadline comes from each invocation.
    const deps = remediatorDeps({ ...stack.env, SAFETY_MARGIN_SECONDS: '60' }, undefined, {
      endpoint: proxy.endpoint,
      credentials: acct.credentials,
      throttleBackoff: FAST_BACKOFF,
    });
    const invocation = (remainingMs: number) => {
      const end = Date.now() + remainingMs;
      return { getRemainingTimeInMillis: () => end - Date.now() };
    };
    const sweep = (id: string) =>
      sqsEvent([withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), id)], acct);
    const forever: FaultRule[] = [
      { service: 'ecs', operation: 'DescribeTaskDefinition', fault: { kind: 'throttle' } },
    ];
    // 61.2 s left, 60 s of margin: a Region is started, and its throttled reads stop 1.2 s later.
    const { summary, response } = await withRules(forever, () =>
      reconcileSqsBatch(sweep('rate-limit-1'), deps, undefined, invocation(61_200)),
    );
    expect(summary.failedRegions.map((f) => f.region)).toEqual([acct.region]);
    expect(summary.failedRegions[0]?.error).toMatch(
      /ecs:DescribeTaskDefinition failed: ThrottledPastDeadline: ecs\.[a-z0-9-]+: DescribeTaskDefinition (still throttled \(ThrottlingException\) after \d+ s and \d+ attempts?|waited \d+ s for a token of its rate limit \([^)]+\)): no time left before its deadline$/,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
    // The next invocation of the same container, with time and without throttling, reconciles.
    const next = await reconcileSqsBatch(sweep('rate-limit-2'), deps, undefined, invocation(900_000));
    expect(next.summary.failedRegions).toEqual([]);
    expect(next.summary.outcomes.map((o) => o.region)).toEqual([acct.region]);
  });

  it('SendCommand, through a client of its own, takes a token of SSM’s bucket from the same limiter', async () => {
    const pool = proxied({ rateLimits: parseConfig({}).rateLimits });
    const clients = pool.clientsFor(acct.region);
    // No such instance: moto refuses the command, after the token was taken (the attempt was made).
    await expect(
      sendCommandClient(clients).send(
        new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-0123456789abcdef0'] }),
      ),
    ).rejects.toThrow();
    const bucket = clients.limiter?.stats().find((b) => b.key === `${acct.region}/ssm:SendCommand`);
    expect(bucket).toMatchObject({ family: 'ssm:action', granted: 1 });
  });
});
