/**
 * The client-side rate limiter (aws/rate-limit.ts) and the throttling retry strategy (aws/retry.ts),
 * without AWS: the classifier from operation to bucket, the buckets' sizes, the token bucket, its
 * cap on requests in flight and its back-pressure (AIMD), with a clock advanced by hand. Nothing
 * sleeps and nothing is timed: the clock only moves when a test moves it.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, parseConfig } from '../../core/config.ts';
import type { Clock, Permit, RateLimitSettings } from '../../aws/rate-limit.ts';
import {
  ASSUMED,
  EC2_THROTTLING_PAGE,
  ECS_THROTTLING_PAGE,
  RATE_LIMIT_FAMILIES,
  ROUTE53_THROTTLING_PAGE,
  RateLimitWaitError,
  classifyOperation,
  createRateLimiter,
  effectiveBucket,
} from '../../aws/rate-limit.ts';
import {
  ThrottledPastDeadlineError,
  budgetOf,
  isThrottlingError,
  throttleAwareRetries,
  throttleBudgetMiddleware,
} from '../../aws/retry.ts';

/** A clock that moves only when told to; `advance` runs the sleeps that fall due, in order. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): Promise<void>; pending(): number } {
  let now = start;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  // Lets the promise callbacks of what just happened run (no time passes on the clock).
  const settle = async () => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  };
  return {
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        timers.push({ at: now + ms, resolve });
      }),
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > target) break;
        timers.shift();
        now = next.at;
        next.resolve();
        await settle();
      }
      now = target;
      await settle();
    },
    pending: () => timers.length,
  };
}

const settings = (rateLimits: Record<string, unknown> = {}): RateLimitSettings =>
  parseConfig({ rateLimits }).rateLimits;

/** Starts `count` acquisitions; `granted` fills as they get their token. */
function acquireMany(
  limiter: ReturnType<typeof createRateLimiter>,
  count: number,
  request: { region?: string; service: string; operation: string; deadline?: number; input?: unknown },
): { granted: Permit[]; failed: unknown[] } {
  const granted: Permit[] = [];
  const failed: unknown[] = [];
  for (let i = 0; i < count; i += 1) {
    limiter.acquire({ region: 'us-east-1', ...request }).then(
      (permit) => {
        if (permit) granted.push(permit);
      },
      (error: unknown) => {
        failed.push(error);
      },
    );
  }
  return { granted, failed };
}

describe('classifier: which bucket a request takes its token from', () => {
  it('ECS: one bucket per family of actions, as the ECS throttling page groups them', () => {
    expect(classifyOperation('ecs', 'DescribeTaskDefinition')).toEqual({
      family: 'ecs:taskDefinitionRead',
      bucket: 'ecs:taskDefinitionRead',
      global: false,
      perAction: false,
      published: { capacity: 50, refillPerSecond: 20 },
      source: ECS_THROTTLING_PAGE,
    });
    for (const operation of [
      'ListTasks',
      'DescribeTasks',
      'ListContainerInstances',
      'DescribeContainerInstances',
    ])
      expect(classifyOperation('ecs', operation)?.bucket, operation).toBe('ecs:clusterResourceRead');
    expect(classifyOperation('ecs', 'ListClusters')?.published).toEqual({
      capacity: 50,
      refillPerSecond: 20,
    });
    expect(classifyOperation('ecs', 'DescribeServices')?.published).toEqual({
      capacity: 100,
      refillPerSecond: 20,
    });
    expect(classifyOperation('ecs', 'PutAttributes')?.family).toBe('ecs:clusterResourceModify');
    expect(classifyOperation('ecs', 'UpdateContainerAgent')?.published).toEqual({
      capacity: 100,
      refillPerSecond: 40,
    });
    // Not in the table: a bucket of its own, assumed.
    expect(classifyOperation('ecs', 'DescribeExpressGatewayService')).toMatchObject({
      family: 'ecs:unlisted',
      bucket: 'ecs:DescribeExpressGatewayService',
      source: ASSUMED,
    });
  });

  it('EC2: a bucket per action, sized by its category; unfiltered unpaginated describes apart', () => {
    const attribute = classifyOperation('ec2', 'DescribeVpcAttribute', { VpcId: 'vpc-1', Attribute: 'x' });
    expect(attribute).toEqual({
      family: 'ec2:nonMutating',
      bucket: 'ec2:DescribeVpcAttribute',
      global: false,
      perAction: true,
      published: { capacity: 100, refillPerSecond: 20 },
      source: EC2_THROTTLING_PAGE,
    });
    expect(classifyOperation('ec2', 'DescribeVpcs', { Filters: [{ Name: 'vpc-id' }] })?.bucket).toBe(
      'ec2:DescribeVpcs',
    );
    // DescribeInstances by ids alone: no filter, no pagination: the smaller bucket.
    expect(classifyOperation('ec2', 'DescribeInstances', { InstanceIds: ['i-1'] })).toMatchObject({
      family: 'ec2:unfilteredNonMutating',
      bucket: 'ec2:DescribeInstances (unfiltered)',
      published: { capacity: 50, refillPerSecond: 10 },
    });
    expect(
      classifyOperation('ec2', 'DescribeInstances', { InstanceIds: ['i-1'], Filters: [{ Name: 'x' }] })
        ?.family,
    ).toBe('ec2:nonMutating');
    expect(
      classifyOperation('ec2', 'DescribeSecurityGroups', { Filters: [], MaxResults: 1000 })?.family,
    ).toBe('ec2:nonMutating');
    expect(classifyOperation('ec2', 'DescribeSecurityGroups', { Filters: [] })?.family).toBe(
      'ec2:unfilteredNonMutating',
    );
    expect(classifyOperation('ec2', 'ModifyVpcAttribute')).toMatchObject({
      family: 'ec2:mutating',
      bucket: 'ec2:ModifyVpcAttribute',
      published: { capacity: 50, refillPerSecond: 5 },
    });
    expect(classifyOperation('ec2', 'AuthorizeSecurityGroupIngress')?.family).toBe('ec2:resourceIntensive');
    expect(classifyOperation('ec2', 'CreateVpcEndpoint')).toMatchObject({
      family: 'ec2:CreateVpcEndpoint',
      published: { capacity: 4, refillPerSecond: 0.3 },
    });
    expect(classifyOperation('ec2', 'CreateTags')?.published).toEqual({ capacity: 100, refillPerSecond: 10 });
    expect(classifyOperation('ec2', 'GetManagedPrefixListEntries')?.family).toBe('ec2:nonMutating');
  });

  it('Route 53 and IAM are global; SSM per Region; other services have no bucket here', () => {
    expect(classifyOperation('route53', 'ListHostedZonesByVPC')).toEqual({
      family: 'route53:account',
      bucket: 'route53:account',
      global: true,
      perAction: false,
      published: { capacity: 50, refillPerSecond: 10 },
      source: ROUTE53_THROTTLING_PAGE,
    });
    expect(classifyOperation('route53', 'ListResourceRecordSets')?.bucket).toBe('route53:account');
    expect(classifyOperation('iam', 'GetInstanceProfile')).toMatchObject({ global: true, source: ASSUMED });
    expect(classifyOperation('ssm', 'DescribeInstanceInformation')).toMatchObject({
      global: false,
      bucket: 'ssm:DescribeInstanceInformation',
      source: ASSUMED,
    });
    expect(classifyOperation('route53resolver', 'ListResolverRuleAssociations')).toMatchObject({
      global: false,
      bucket: 'route53resolver:ListResolverRuleAssociations',
      source: ASSUMED,
    });
    expect(classifyOperation('dynamodb', 'GetItem')).toBeUndefined();
  });

  it('every family has a positive size and says where it comes from', () => {
    for (const [name, family] of Object.entries(RATE_LIMIT_FAMILIES)) {
      expect(family.size.capacity, name).toBeGreaterThan(0);
      expect(family.size.refillPerSecond, name).toBeGreaterThan(0);
      expect([ASSUMED, EC2_THROTTLING_PAGE, ECS_THROTTLING_PAGE, ROUTE53_THROTTLING_PAGE], name).toContain(
        family.source,
      );
    }
  });
});

describe('bucket sizes: the configured share of the published ones', () => {
  it('by default half the capacity and half the refill rate; one second of the rate in flight', () => {
    expect(defaultConfig.rateLimits).toEqual({ share: 0.5, throttleBudgetSeconds: 300, buckets: {} });
    const taskDefinitions = classifyOperation('ecs', 'DescribeTaskDefinition');
    if (!taskDefinitions) throw new Error('unclassified');
    expect(effectiveBucket(taskDefinitions, 'DescribeTaskDefinition', defaultConfig.rateLimits)).toEqual({
      capacity: 25,
      refillPerSecond: 10,
      maxInFlight: 10,
    });
    const create = classifyOperation('ec2', 'CreateVpcEndpoint');
    if (!create) throw new Error('unclassified');
    // 4 and 0.3 a second: 2 and 0.15, one in flight.
    expect(effectiveBucket(create, 'CreateVpcEndpoint', defaultConfig.rateLimits)).toEqual({
      capacity: 2,
      refillPerSecond: 0.15,
      maxInFlight: 1,
    });
  });

  it('an entry of rateLimits.buckets replaces a family’s or an action’s size; the share still applies', () => {
    const custom = settings({
      share: 0.25,
      buckets: {
        'ec2:nonMutating': { capacity: 400, refillPerSecond: 80 },
        'ec2:DescribeVpcAttribute': { refillPerSecond: 200, maxInFlight: 3 },
      },
    });
    const vpcs = classifyOperation('ec2', 'DescribeVpcs');
    const attribute = classifyOperation('ec2', 'DescribeVpcAttribute');
    if (!vpcs || !attribute) throw new Error('unclassified');
    expect(effectiveBucket(vpcs, 'DescribeVpcs', custom)).toEqual({
      capacity: 100,
      refillPerSecond: 20,
      maxInFlight: 20,
    });
    // The action's entry wins over the family's; what it leaves out is the published size.
    expect(effectiveBucket(attribute, 'DescribeVpcAttribute', custom)).toEqual({
      capacity: 25,
      refillPerSecond: 50,
      maxInFlight: 3,
    });
  });

  it('the config rejects a share out of (0, 1], a malformed key, and an unknown family', () => {
    const problems = (input: unknown): string => {
      try {
        parseConfig(input);
        return '';
      } catch (error) {
        return error instanceof ConfigError ? error.problems.join('\n') : String(error);
      }
    };
    expect(problems({ rateLimits: { share: 0 } })).toMatch(/^rateLimits\.share: Too small/);
    expect(problems({ rateLimits: { share: 1.5 } })).toMatch(/^rateLimits\.share: Too big/);
    expect(problems({ rateLimits: { throttleBudgetSeconds: 0 } })).toMatch(
      /^rateLimits\.throttleBudgetSeconds: Too small/,
    );
    expect(problems({ rateLimits: { buckets: { DescribeVpcs: {} } } })).toBe(
      'rateLimits.buckets.DescribeVpcs: expected `service:family` or `service:Action` (ec2, ecs, ssm, route53, route53resolver, iam)',
    );
    expect(problems({ rateLimits: { buckets: { 'ecs:taskDefinitionRead': { burst: 5 } } } })).toContain(
      'burst',
    );
    // Well formed, but no such family: refused when the clients are made (nothing runs).
    expect(() => createRateLimiter(settings({ buckets: { 'ecs:taskDefinitionReads': {} } }))).toThrow(
      /rateLimits\.buckets\.ecs:taskDefinitionReads: no such family/,
    );
    expect(() => createRateLimiter(settings({ buckets: { 'ecs:SomeNewAction': {} } }))).not.toThrow();
    // An action that shares its family's bucket is sized by its family.
    expect(() => createRateLimiter(settings({ buckets: { 'ecs:DescribeTaskDefinition': {} } }))).toThrow(
      'rateLimits.buckets.ecs:DescribeTaskDefinition: DescribeTaskDefinition shares the bucket of its family: size ecs:taskDefinitionRead',
    );
    expect(() => createRateLimiter(settings({ buckets: { 'route53:ListHostedZonesByVPC': {} } }))).toThrow(
      /size route53:account/,
    );
  });
});

describe('token bucket', () => {
  const one = (bucket: Record<string, unknown>) =>
    settings({ share: 1, buckets: { 'ecs:taskDefinitionRead': bucket } });
  const taskDefinitions = { service: 'ecs', operation: 'DescribeTaskDefinition' };

  it('grants its capacity at once, then one token per 1/rate, first come first served', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter(one({ capacity: 3, refillPerSecond: 2, maxInFlight: 100 }), clock);
    const { granted } = acquireMany(limiter, 6, taskDefinitions);
    await clock.advance(0);
    expect(granted).toHaveLength(3);
    await clock.advance(499);
    expect(granted).toHaveLength(3);
    await clock.advance(1);
    expect(granted).toHaveLength(4);
    await clock.advance(1000);
    expect(granted).toHaveLength(6);
    expect(granted.map((permit) => permit.waitedMs)).toEqual([0, 0, 0, 500, 1000, 1500]);
    expect(limiter.stats()).toMatchObject([
      { key: 'us-east-1/ecs:taskDefinitionRead', capacity: 3, refillPerSecond: 2, granted: 6 },
    ]);
  });

  it('never has more requests in flight than its cap: a release lets the next one go', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter(one({ capacity: 100, refillPerSecond: 100, maxInFlight: 2 }), clock);
    const { granted } = acquireMany(limiter, 5, taskDefinitions);
    await clock.advance(0);
    expect(granted).toHaveLength(2);
    await clock.advance(60_000);
    expect(granted).toHaveLength(2);
    granted[0]?.release('success');
    await clock.advance(0);
    expect(granted).toHaveLength(3);
    granted[1]?.release('failed');
    granted[2]?.release('success');
    await clock.advance(0);
    expect(granted).toHaveLength(5);
    expect(limiter.stats()[0]).toMatchObject({ peakInFlight: 2, maxInFlight: 2 });
  });

  it('throttling halves the rate and the cap once per round, empties the bucket; successes add back', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter(one({ capacity: 10, refillPerSecond: 8, maxInFlight: 8 }), clock);
    const round = acquireMany(limiter, 8, taskDefinitions);
    await clock.advance(0);
    expect(round.granted).toHaveLength(8);
    // Eight requests of one round throttled: one halving, not eight.
    for (const permit of round.granted) permit.release('throttled');
    expect(limiter.stats()[0]).toMatchObject({
      throttled: 8,
      backoffs: 1,
      currentRate: 4,
      currentMaxInFlight: 4,
    });
    // Empty: the next token comes after 1/4 s.
    const next = acquireMany(limiter, 1, taskDefinitions);
    await clock.advance(249);
    expect(next.granted).toHaveLength(0);
    await clock.advance(1);
    expect(next.granted).toHaveLength(1);
    // A request of the new round throttled: halves again.
    next.granted[0]?.release('throttled');
    expect(limiter.stats()[0]).toMatchObject({ backoffs: 2, currentRate: 2, currentMaxInFlight: 2 });
    // Additive increase: 8 / (2 × 10) = 0.4 a second per success, up to the configured 8.
    await clock.advance(10_000);
    const successes = acquireMany(limiter, 10, taskDefinitions);
    for (let released = 0; released < 10;) {
      await clock.advance(0);
      const answered = successes.granted.slice(released);
      for (const permit of answered) permit.release('success');
      released += answered.length;
    }
    const stats = limiter.stats()[0];
    expect(stats?.currentRate).toBeCloseTo(6, 5);
    // The cap grows by 1/cap a success: 2 → 4.99 after ten.
    expect(stats?.currentMaxInFlight).toBe(4);
    // Never below 1/16 of the configured rate, never below one in flight.
    for (let i = 0; i < 10; i += 1) {
      const permit = acquireMany(limiter, 1, taskDefinitions);
      await clock.advance(60_000);
      permit.granted[0]?.release('throttled');
    }
    expect(limiter.stats()[0]).toMatchObject({ currentRate: 0.5, currentMaxInFlight: 1 });
  });

  it('a request still waiting at its deadline is refused, and was never granted', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter(one({ capacity: 1, refillPerSecond: 0.1, maxInFlight: 5 }), clock);
    const first = acquireMany(limiter, 1, taskDefinitions);
    const late = acquireMany(limiter, 1, { ...taskDefinitions, deadline: clock.now() + 2000 });
    await clock.advance(1999);
    expect(first.granted).toHaveLength(1);
    expect(late.failed).toHaveLength(0);
    await clock.advance(1);
    expect(late.granted).toHaveLength(0);
    expect(late.failed).toHaveLength(1);
    expect(late.failed[0]).toBeInstanceOf(RateLimitWaitError);
    expect(late.failed[0]).toMatchObject({ bucket: 'us-east-1/ecs:taskDefinitionRead', waitedMs: 2000 });
  });

  it('buckets are per Region, but Route 53 and IAM have one for every Region', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter(settings(), clock);
    for (const region of ['us-east-1', 'eu-west-1']) {
      for (const [service, operation] of [
        ['ecs', 'ListClusters'],
        ['route53', 'ListHostedZonesByVPC'],
        ['iam', 'GetInstanceProfile'],
        ['ec2', 'DescribeVpcs'],
      ] as const)
        (await limiter.acquire({ region, service, operation }))?.release('success');
    }
    expect(
      await limiter.acquire({ region: 'us-east-1', service: 'dynamodb', operation: 'GetItem' }),
    ).toBeUndefined();
    expect(
      limiter
        .stats()
        .map((bucket) => `${bucket.key} ${bucket.granted}`)
        .sort(),
    ).toEqual([
      'eu-west-1/ec2:DescribeVpcs 1',
      'eu-west-1/ecs:clusterRead 1',
      'iam:GetInstanceProfile 2',
      'route53:account 2',
      'us-east-1/ec2:DescribeVpcs 1',
      'us-east-1/ecs:clusterRead 1',
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// The retry strategy
// ------------------------------------------------------------------------------------------------

/** What the retry middleware hands the strategy as `error` (the SDK's error type). */
type InfoError = NonNullable<RetryErrorInfo['error']>;

class ServiceError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, status: number) {
    super('Rate exceeded');
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

/** A stand-in for the SDK's standard strategy: counts, and refuses after `maxAttempts`. */
function fakeStandard(maxAttempts: number): RetryStrategyV2 & { refreshed: number; successes: number } {
  const token = (count: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => 7 });
  const strategy = {
    refreshed: 0,
    successes: 0,
    acquireInitialRetryToken: () => Promise.resolve(token(0)),
    refreshRetryTokenForRetry: (previous: RetryToken) => {
      strategy.refreshed += 1;
      const count = previous.getRetryCount() + 1;
      return count < maxAttempts
        ? Promise.resolve(token(count))
        : Promise.reject(new Error('No retry token available'));
    },
    recordSuccess: () => {
      strategy.successes += 1;
    },
  };
  return strategy;
}

const throttled = (error: Error): RetryErrorInfo => ({ error: error as InfoError, errorType: 'THROTTLING' });

describe('retry strategy: throttling until the budget, everything else standard', () => {
  it('knows throttling answers by code or status, not quotas', () => {
    for (const [code, status] of [
      ['RequestLimitExceeded', 503],
      ['ThrottlingException', 400],
      ['Throttling', 400],
      ['TooManyRequestsException', 429],
      ['ProvisionedThroughputExceededException', 400],
      ['SomethingElse', 429],
    ] as const)
      expect(isThrottlingError(new ServiceError(code, status)), code).toBe(true);
    expect(isThrottlingError(new ServiceError('LimitExceededException', 400))).toBe(false);
    expect(isThrottlingError(new ServiceError('InternalError', 500))).toBe(false);
    expect(isThrottlingError('ThrottlingException')).toBe(false);
  });

  it('retries a throttled request far past maxAttempts while the deadline allows, with jittered backoff', async () => {
    const clock = manualClock();
    const inner = fakeStandard(5);
    const deadline = clock.now() + 600_000;
    const strategy = throttleAwareRetries(inner, {
      budgetOf: budgetOf(() => deadline, 300),
      clock,
      random: () => 0.999_999,
    });
    let token = await strategy.acquireInitialRetryToken('');
    const delays: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      token = await strategy.refreshRetryTokenForRetry(
        token,
        throttled(new ServiceError('RequestLimitExceeded', 503)),
      );
      delays.push(Math.round(token.getRetryDelay()));
      await clock.advance(token.getRetryDelay());
    }
    expect(token.getRetryCount()).toBe(12);
    // Full jitter over 0.5 s × 2^(n−1), capped at 20 s (the draw pinned near its top).
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000, 20000, 20000, 20000]);
    // Throttles never reached the standard strategy (its attempts and retry quota).
    expect(inner.refreshed).toBe(0);
    strategy.recordSuccess(token);
    expect(inner.successes).toBe(1);
  });

  it('other errors are the standard strategy’s: refused after its attempts, throttles not counted', async () => {
    const clock = manualClock();
    const inner = fakeStandard(3);
    const strategy = throttleAwareRetries(inner, { budgetOf: budgetOf(undefined, 300), clock });
    let token = await strategy.acquireInitialRetryToken('');
    for (let i = 0; i < 6; i += 1)
      token = await strategy.refreshRetryTokenForRetry(
        token,
        throttled(new ServiceError('ThrottlingException', 400)),
      );
    const serverError: RetryErrorInfo = {
      error: new ServiceError('InternalError', 500) as InfoError,
      errorType: 'SERVER_ERROR',
    };
    token = await strategy.refreshRetryTokenForRetry(token, serverError);
    expect(token.getRetryDelay()).toBe(7);
    token = await strategy.refreshRetryTokenForRetry(token, serverError);
    expect(token.getRetryCount()).toBe(8);
    await expect(strategy.refreshRetryTokenForRetry(token, serverError)).rejects.toThrow('No retry token');
    // A quota the SDK calls throttling is not retried past the standard attempts either.
    const quota: RetryErrorInfo = {
      error: new ServiceError('LimitExceededException', 400) as InfoError,
      errorType: 'THROTTLING',
    };
    const fresh = await strategy.acquireInitialRetryToken('');
    await strategy.refreshRetryTokenForRetry(fresh, quota);
    expect(inner.refreshed).toBe(4);
  });

  it('never sleeps past the deadline, honours Retry-After, and stops once the deadline has passed', async () => {
    const clock = manualClock();
    const deadline = clock.now() + 3_000;
    const strategy = throttleAwareRetries(fakeStandard(5), {
      budgetOf: budgetOf(() => deadline, 300),
      clock,
      random: () => 0.5,
    });
    let token = await strategy.acquireInitialRetryToken('');
    token = await strategy.refreshRetryTokenForRetry(token, {
      ...throttled(new ServiceError('ThrottlingException', 400)),
      retryAfterHint: new Date(clock.now() + 1_500),
    });
    expect(token.getRetryDelay()).toBe(1_500);
    await clock.advance(2_900);
    token = await strategy.refreshRetryTokenForRetry(
      token,
      throttled(new ServiceError('ThrottlingException', 400)),
    );
    expect(token.getRetryDelay()).toBe(100);
    await clock.advance(100);
    const last = new ServiceError('ThrottlingException', 400);
    await expect(strategy.refreshRetryTokenForRetry(token, throttled(last))).rejects.toBe(last);
  });

  it('a request given up on is reported naming the service, the operation and how long it was throttled', async () => {
    const clock = manualClock();
    const started = clock.now();
    const budget = budgetOf(() => started + 45_000, 300);
    const strategy = throttleAwareRetries(fakeStandard(5), { budgetOf: budget, clock, random: () => 0.5 });
    let token = await strategy.acquireInitialRetryToken('');
    const last = new ServiceError('ThrottlingException', 400);
    let given: unknown;
    for (;;) {
      try {
        token = await strategy.refreshRetryTokenForRetry(token, throttled(last));
        await clock.advance(token.getRetryDelay());
      } catch (error) {
        given = error;
        break;
      }
    }
    expect(given).toBe(last);
    // The middleware outside the retry loop sees the last error and names what happened.
    const middleware = throttleBudgetMiddleware('ecs', 'us-east-1', budget, clock);
    const run = middleware(() => Promise.reject(given as Error), {
      commandName: 'DescribeTaskDefinitionCommand',
    });
    const error: unknown = await run({}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottledPastDeadlineError);
    expect(error).toMatchObject({
      name: 'ThrottledPastDeadline',
      service: 'ecs',
      region: 'us-east-1',
      operation: 'DescribeTaskDefinition',
      code: 'ThrottlingException',
      attempts: token.getRetryCount() + 1,
      seconds: 45,
      cause: last,
    });
    expect((error as Error).message).toBe(
      `ecs.us-east-1: DescribeTaskDefinition still throttled (ThrottlingException) after 45 s and ${token.getRetryCount() + 1} attempts: no time left before its deadline`,
    );
    // Without a deadline: rateLimits.throttleBudgetSeconds from the first throttled answer (time spent
    // before it, waiting for a token, say, does not count), and the message says so.
    const cli = throttleAwareRetries(fakeStandard(5), {
      budgetOf: budgetOf(undefined, 2),
      clock,
      random: () => 0.5,
    });
    const first = await cli.acquireInitialRetryToken('');
    await clock.advance(60_000);
    const again = new ServiceError('RequestLimitExceeded', 503);
    const second = await cli.refreshRetryTokenForRetry(first, throttled(again));
    await clock.advance(1_999);
    const third = await cli.refreshRetryTokenForRetry(second, throttled(again));
    expect(third.getRetryDelay()).toBe(1);
    await clock.advance(1);
    await expect(cli.refreshRetryTokenForRetry(third, throttled(again))).rejects.toBe(again);
    const reported: unknown = await throttleBudgetMiddleware(
      'ec2',
      'eu-west-1',
      budgetOf(undefined, 2),
      clock,
    )(() => Promise.reject(again), { commandName: 'DescribeVpcAttributeCommand' })({}).catch(
      (caught: unknown) => caught,
    );
    expect((reported as Error).message).toBe(
      'ec2.eu-west-1: DescribeVpcAttribute still throttled (RequestLimitExceeded) after 2 s and 3 attempts: ' +
        'its throttling budget (rateLimits.throttleBudgetSeconds, 2 s) is spent',
    );
    // A request that waited for a token of the limiter until the work's deadline is named too.
    const waited: unknown = await middleware(
      () => Promise.reject(new RateLimitWaitError('us-east-1/ecs:taskDefinitionRead', 31_400)),
      { commandName: 'DescribeTaskDefinitionCommand' },
    )({}).catch((caught: unknown) => caught);
    expect(waited).toBeInstanceOf(ThrottledPastDeadlineError);
    expect((waited as Error).message).toBe(
      'ecs.us-east-1: DescribeTaskDefinition waited 31 s for a token of its rate limit ' +
        '(us-east-1/ecs:taskDefinitionRead): no time left before its deadline',
    );
    // Any other error passes through untouched.
    const other = new ServiceError('InternalError', 500);
    await expect(middleware(() => Promise.reject(other), {})({})).rejects.toBe(other);
  });
});
