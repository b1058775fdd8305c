/**
 * Client-side rate limits: token buckets in front of the AWS clients, sized from the throttling
 * quotas AWS publishes, so that a large account slows discovery and apply down instead of failing
 * them (docs/architecture.md, "Rate limits"; the config's `rateLimits`, docs/config.md).
 *
 * - One bucket per (Region, service, bucket): AWS's buckets are per account and Region, so every
 *   client of one Region in a ClientPool shares them; Route 53 and IAM are global (one bucket for
 *   every Region).
 * - {@link classifyOperation} names the bucket of a request: ECS shares one bucket per family of
 *   actions ("Task definition read actions"); EC2 gives each action a bucket of its own, sized by its
 *   category (non-mutating, unfiltered and unpaginated non-mutating, mutating, resource-intensive) or
 *   by its own row (CreateVpcEndpoint).
 * - By default a bucket is `rateLimits.share` (½) of the published one, capacity and refill rate
 *   alike: other tools of the account draw from the same buckets. `rateLimits.buckets` overrides
 *   the published size of a family or of one action.
 * - Back-pressure (AIMD): a throttled answer halves the bucket's rate and its cap on requests in
 *   flight (once per round of requests), and empties it; each success adds back a little, up to
 *   the configured rate and cap. A throttled Region thus sends fewer requests and waits longer.
 *
 * No AWS SDK here: aws/clients.ts puts {@link RateLimiter.acquire} in each client's middleware stack,
 * and the clock is injected (tests advance it by hand).
 */
import type { Config } from '../core/config.ts';
import { ConfigError, defaultConfig } from '../core/config.ts';

export type RateLimitSettings = Config['rateLimits'];

/** A token bucket: its maximum capacity (the burst) and its refill rate (the sustained rate). */
export interface BucketSize {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export const EC2_THROTTLING_PAGE = 'https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html';
export const ECS_THROTTLING_PAGE =
  'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html';
export const ROUTE53_THROTTLING_PAGE =
  'https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html';
/** A size AWS does not publish (that we could find): chosen here, documented as assumed. */
export const ASSUMED = 'assumed';

interface FamilyDefinition {
  /** The family's published size. */
  readonly size: BucketSize;
  /** Where the size comes from ({@link ASSUMED}: not published). */
  readonly source: string;
  /**
   * Each action has a bucket of this size of its own (EC2: "each API is evaluated individually"),
   * rather than one bucket shared by the family's actions (ECS, Route 53's account bucket).
   */
  readonly perAction: boolean;
  /** The actions it covers, when it names them (the EC2 categories other than the catch-alls do). */
  readonly actions?: readonly string[];
}

const ecs = (capacity: number, refillPerSecond: number, actions: readonly string[]): FamilyDefinition => ({
  size: { capacity, refillPerSecond },
  source: ECS_THROTTLING_PAGE,
  perAction: false,
  actions,
});

/**
 * ECS: one bucket per family of actions, per account and Region (the table "Request token bucket
 * sizes and refill rates" of {@link ECS_THROTTLING_PAGE}).
 */
const ECS_FAMILIES: Readonly<Record<string, FamilyDefinition>> = {
  clusterModify: ecs(20, 1, [
    'CreateCluster',
    'DeleteCluster',
    'PutClusterCapacityProviders',
    'UpdateCluster',
    'UpdateClusterSettings',
  ]),
  clusterRead: ecs(50, 20, ['DescribeClusters', 'ListClusters']),
  taskDefinitionModify: ecs(20, 1, ['DeregisterTaskDefinition', 'RegisterTaskDefinition']),
  taskDefinitionRead: ecs(50, 20, [
    'DescribeTaskDefinition',
    'ListTaskDefinitions',
    'ListTaskDefinitionFamilies',
  ]),
  taskDefinitionDelete: ecs(5, 1, ['DeleteTaskDefinitions']),
  capacityProviderModify: ecs(10, 1, [
    'CreateCapacityProvider',
    'DeleteCapacityProvider',
    'UpdateCapacityProvider',
  ]),
  capacityProviderRead: ecs(50, 20, ['DescribeCapacityProviders']),
  tagModify: ecs(20, 10, ['TagResource', 'UntagResource']),
  tagRead: ecs(50, 20, ['ListTagsForResource']),
  settingModify: ecs(10, 1, ['DeleteAccountSetting', 'PutAccountSetting', 'PutAccountSettingDefault']),
  settingRead: ecs(50, 20, ['ListAccountSettings']),
  clusterResourceModify: ecs(100, 40, [
    'DeleteAttributes',
    'DeregisterContainerInstance',
    'ExecuteCommand',
    'PutAttributes',
    'RunTask',
    'StartTask',
    'StopTask',
    'UpdateContainerAgent',
    'UpdateContainerInstancesStates',
  ]),
  clusterResourceRead: ecs(100, 20, [
    'DescribeContainerInstances',
    'DescribeTasks',
    'ListAttributes',
    'ListContainerInstances',
    'ListTasks',
  ]),
  agentModify: ecs(200, 120, [
    'RegisterContainerInstance',
    'SubmitAttachmentStateChanges',
    'SubmitContainerStateChange',
    'SubmitTaskStateChange',
  ]),
  serviceModify: ecs(50, 5, ['CreateService', 'DeleteService', 'UpdateService']),
  serviceRead: ecs(100, 20, ['DescribeServices', 'ListServices']),
  serviceDeployment: ecs(50, 20, ['DescribeServiceDeployments', 'ListServiceDeployments']),
  serviceRevision: ecs(50, 20, ['DescribeServiceRevisions']),
  taskProtection: ecs(200, 80, ['UpdateTaskProtection', 'GetTaskProtection']),
  clusterServiceResourceRead: ecs(10, 1, ['ListServicesByNamespace']),
  /** An action the table does not list: its own bucket, the table's smallest read bucket (assumed). */
  unlisted: { size: { capacity: 10, refillPerSecond: 1 }, source: ASSUMED, perAction: true },
};

const ec2 = (capacity: number, refillPerSecond: number, actions?: readonly string[]): FamilyDefinition => ({
  size: { capacity, refillPerSecond },
  source: EC2_THROTTLING_PAGE,
  perAction: true,
  ...(actions ? { actions } : {}),
});

/** The EC2 actions whose unfiltered and unpaginated requests take tokens from a smaller bucket. */
const EC2_UNFILTERED_ACTIONS: readonly string[] = [
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
];

/**
 * EC2: a bucket per action, per account and Region, sized by the action's category (the tables
 * "Request token bucket sizes and refill rates" of {@link EC2_THROTTLING_PAGE}). Of the page's
 * uncategorized actions (each sized on its own), the ones this tool sends and the other VPC endpoint
 * and security group ones; any other action falls in its category.
 */
const EC2_FAMILIES: Readonly<Record<string, FamilyDefinition>> = {
  nonMutating: ec2(100, 20),
  unfilteredNonMutating: ec2(50, 10, EC2_UNFILTERED_ACTIONS),
  mutating: ec2(50, 5),
  resourceIntensive: ec2(50, 5, [
    'AcceptVpcPeeringConnection',
    'AuthorizeSecurityGroupIngress',
    'CancelSpotInstanceRequests',
    'CreateKeyPair',
    'CreateVpcPeeringConnection',
    'DeleteVpcPeeringConnection',
    'RejectVpcPeeringConnection',
    'RevokeSecurityGroupIngress',
    'RequestSpotInstances',
  ]),
  CreateVpcEndpoint: ec2(4, 0.3),
  ModifyVpcEndpoint: ec2(4, 0.3),
  DeleteVpcEndpoints: ec2(4, 0.3),
  AcceptVpcEndpointConnections: ec2(10, 1),
  RejectVpcEndpointConnections: ec2(10, 1),
  CreateVpcEndpointServiceConfiguration: ec2(10, 1),
  ModifyVpcEndpointServiceConfiguration: ec2(10, 1),
  DeleteVpcEndpointServiceConfigurations: ec2(10, 1),
  CreateTags: ec2(100, 10),
  DeleteTags: ec2(100, 10),
  DescribeSecurityGroupReferences: ec2(20, 5),
  DescribeStaleSecurityGroups: ec2(20, 5),
};

/** One bucket per action, of a size not published (assumed). */
const assumedPerAction = (capacity: number, refillPerSecond: number): FamilyDefinition => ({
  size: { capacity, refillPerSecond },
  source: ASSUMED,
  perAction: true,
});

/** Every family, by its config name (`service:family`; EC2's uncategorized actions by their name). */
export const RATE_LIMIT_FAMILIES: Readonly<Record<string, FamilyDefinition>> = {
  ...Object.fromEntries(Object.entries(ECS_FAMILIES).map(([name, family]) => [`ecs:${name}`, family])),
  ...Object.fromEntries(Object.entries(EC2_FAMILIES).map(([name, family]) => [`ec2:${name}`, family])),
  /**
   * Route 53: "all Route 53 API actions combined (account level)", 50 and 10 a second, for every
   * caller of the account (each action also has a bucket, by default as large).
   */
  'route53:account': {
    size: { capacity: 50, refillPerSecond: 10 },
    source: ROUTE53_THROTTLING_PAGE,
    perAction: false,
  },
  // Not published (that we could find): assumed, a bucket per action.
  'ssm:action': assumedPerAction(20, 5),
  'iam:action': assumedPerAction(20, 5),
  'route53resolver:action': assumedPerAction(20, 5),
};

/** Services whose buckets are per account, not per Region. */
const GLOBAL_SERVICES: ReadonlySet<string> = new Set(['route53', 'iam']);

/** Where a request takes its token from. */
export interface Classification {
  /** The family's config name (`ecs:taskDefinitionRead`, `ec2:nonMutating`, `ec2:CreateVpcEndpoint`). */
  readonly family: string;
  /** The bucket's name: the family's, or `service:Action` (with ` (unfiltered)` for EC2's smaller one). */
  readonly bucket: string;
  /** One bucket for every Region (Route 53, IAM). */
  readonly global: boolean;
  /** The bucket is the action's own (EC2, SSM, IAM, an unlisted ECS action), not its family's. */
  readonly perAction: boolean;
  readonly published: BucketSize;
  readonly source: string;
}

const ECS_FAMILY_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(ECS_FAMILIES).flatMap(([name, family]) =>
    (family.actions ?? []).map((action): [string, string] => [action, name]),
  ),
);

/** EC2's non-mutating actions: "all Describe*, List*, Search*, and Get* API actions". */
export function isEc2NonMutating(action: string): boolean {
  return /^(Describe|List|Search|Get)[A-Z]/.test(action);
}

function nonEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null && value !== '';
}

/**
 * Whether an EC2 request is "requested without specifying either pagination or a filter": no
 * `Filters` (`Filter` for a few actions), no `MaxResults` and no `NextToken`. An id list is not a
 * filter: a describe by ids alone is counted here as unfiltered (the smaller bucket, the safe side).
 */
export function isUnfilteredUnpaginated(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return true;
  const fields = input as Record<string, unknown>;
  return !['Filters', 'Filter', 'MaxResults', 'NextToken'].some((field) => nonEmpty(fields[field]));
}

function classification(service: string, family: string, bucket: string): Classification {
  const name = `${service}:${family}`;
  const definition = RATE_LIMIT_FAMILIES[name];
  if (!definition) throw new Error(`no rate limit family ${name}`);
  return {
    family: name,
    bucket,
    global: GLOBAL_SERVICES.has(service),
    perAction: definition.perAction,
    published: definition.size,
    source: definition.source,
  };
}

/**
 * The bucket of one request: `service` is the endpoint prefix (`ec2`, `ecs`, `ssm`, `route53`,
 * `iam`), `operation` the API action, `input` its parameters (EC2's unfiltered describes). Undefined
 * for a service without buckets here.
 */
export function classifyOperation(
  service: string,
  operation: string,
  input?: unknown,
): Classification | undefined {
  switch (service) {
    case 'ecs': {
      const family = ECS_FAMILY_OF.get(operation);
      return family
        ? classification('ecs', family, `ecs:${family}`)
        : classification('ecs', 'unlisted', `ecs:${operation}`);
    }
    case 'ec2': {
      const bucket = `ec2:${operation}`;
      if (Object.hasOwn(EC2_FAMILIES, operation) && EC2_FAMILIES[operation]?.actions === undefined)
        return classification('ec2', operation, bucket);
      if (EC2_FAMILIES.resourceIntensive?.actions?.includes(operation))
        return classification('ec2', 'resourceIntensive', bucket);
      if (!isEc2NonMutating(operation)) return classification('ec2', 'mutating', bucket);
      if (EC2_UNFILTERED_ACTIONS.includes(operation) && isUnfilteredUnpaginated(input))
        return classification('ec2', 'unfilteredNonMutating', `${bucket} (unfiltered)`);
      return classification('ec2', 'nonMutating', bucket);
    }
    case 'route53':
      return classification('route53', 'account', 'route53:account');
    case 'ssm':
    case 'iam':
    case 'route53resolver':
      return classification(service, 'action', `${service}:${operation}`);
    default:
      return undefined;
  }
}

/** A bucket as this process uses it: the configured share of the account's. */
export interface EffectiveBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Most requests of the bucket in flight at once. */
  readonly maxInFlight: number;
}

/**
 * The bucket this process uses for `classified`: the published size (or `rateLimits.buckets`' entry
 * for the action when the bucket is the action's own, else for the family) times `share`; at least
 * one token of capacity. Its cap on requests in flight: one second of its rate (at least 1), unless
 * the entry sets `maxInFlight`.
 */
export function effectiveBucket(
  classified: Classification,
  operation: string,
  settings: RateLimitSettings,
): EffectiveBucket {
  const service = classified.family.slice(0, classified.family.indexOf(':'));
  const entry =
    (classified.perAction ? settings.buckets[`${service}:${operation}`] : undefined) ??
    settings.buckets[classified.family];
  const capacity = (entry?.capacity ?? classified.published.capacity) * settings.share;
  const refillPerSecond = (entry?.refillPerSecond ?? classified.published.refillPerSecond) * settings.share;
  return {
    capacity: Math.max(1, capacity),
    refillPerSecond,
    maxInFlight: entry?.maxInFlight ?? Math.max(1, Math.ceil(refillPerSecond)),
  };
}

/**
 * What is wrong with the `rateLimits.buckets` entries, one problem each: a lower-case name after the
 * colon must be a family (`ecs:taskDefinitionRead`); an upper-case one is an action
 * (`ec2:DescribeVpcAttribute`, any), except where actions share their family's bucket (ECS's listed
 * actions, Route 53): there the family is what can be sized.
 */
export function bucketEntryProblems(settings: RateLimitSettings): string[] {
  return Object.keys(settings.buckets).flatMap((key) => {
    const colon = key.indexOf(':');
    const service = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (/^[a-z]/.test(name))
      return Object.hasOwn(RATE_LIMIT_FAMILIES, key)
        ? []
        : [`rateLimits.buckets.${key}: no such family (${Object.keys(RATE_LIMIT_FAMILIES).join(', ')})`];
    const classified = classifyOperation(service, name);
    return classified && !classified.perAction
      ? [`rateLimits.buckets.${key}: ${name} shares the bucket of its family: size ${classified.family}`]
      : [];
  });
}

// ------------------------------------------------------------------------------------------------
// The limiter
// ------------------------------------------------------------------------------------------------

/** Time, injected: tests advance it by hand. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    }),
};

/** How a request that held a token ended: the answer decides the bucket's rate (AIMD). */
export type Outcome = 'success' | 'throttled' | 'failed';

/** A token taken: release it with the request's outcome, once. */
export interface Permit {
  readonly bucket: string;
  /** How long the request waited for its token, in milliseconds. */
  readonly waitedMs: number;
  release(outcome: Outcome): void;
}

/** A request that waited for a token past its deadline: it was not sent. */
export class RateLimitWaitError extends Error {
  readonly bucket: string;
  readonly waitedMs: number;
  constructor(bucket: string, waitedMs: number) {
    super(`waited ${Math.round(waitedMs / 1000)} s for a token of ${bucket} and reached the deadline`);
    this.name = 'RateLimitWaitError';
    this.bucket = bucket;
    this.waitedMs = waitedMs;
  }
}

export interface AcquireRequest {
  readonly region: string;
  readonly service: string;
  readonly operation: string;
  /** The request's parameters (EC2's unfiltered describes take their token elsewhere). */
  readonly input?: unknown;
  /** Epoch ms: still without a token then, the request fails with {@link RateLimitWaitError}. */
  readonly deadline?: number;
}

/** One bucket's state, for tests and logs. */
export interface BucketStats {
  /** `bucket` for a global one, `region/bucket` otherwise. */
  readonly key: string;
  readonly family: string;
  readonly capacity: number;
  /** The configured rate and the current one (lower after throttling). */
  readonly refillPerSecond: number;
  readonly currentRate: number;
  /** The configured cap on requests in flight, the current one, and the most seen at once. */
  readonly maxInFlight: number;
  readonly currentMaxInFlight: number;
  readonly peakInFlight: number;
  readonly granted: number;
  readonly throttled: number;
  /** Times the bucket halved its rate (at most once per round of requests). */
  readonly backoffs: number;
}

export interface RateLimiter {
  /** Waits for a token of the request's bucket (none for a service without buckets). */
  acquire(request: AcquireRequest): Promise<Permit | undefined>;
  stats(): BucketStats[];
}

/** The lowest rate back-pressure brings a bucket to, as a fraction of its configured rate. */
export const MIN_RATE_FRACTION = 1 / 16;

interface Waiter {
  readonly since: number;
  readonly deadline: number | undefined;
  readonly resolve: (permit: Permit) => void;
  readonly reject: (error: Error) => void;
}

class Bucket {
  readonly key: string;
  readonly family: string;
  readonly capacity: number;
  readonly baseRate: number;
  readonly maxInFlight: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  #rate: number;
  /** The cap on requests in flight, fractional while it grows back (1/cap a success). */
  #cap: number;
  #inFlight = 0;
  /** Bumped by each halving: a throttle of a request granted before it does not halve again. */
  #epoch = 0;
  readonly #waiters: Waiter[] = [];
  #wakeAt: number | undefined;
  #peak = 0;
  #granted = 0;
  #throttled = 0;
  #backoffs = 0;

  constructor(key: string, family: string, size: EffectiveBucket, clock: Clock) {
    this.key = key;
    this.family = family;
    this.capacity = size.capacity;
    this.baseRate = size.refillPerSecond;
    this.maxInFlight = size.maxInFlight;
    this.#clock = clock;
    this.#tokens = size.capacity;
    this.#last = clock.now();
    this.#rate = size.refillPerSecond;
    this.#cap = size.maxInFlight;
  }

  acquire(deadline: number | undefined): Promise<Permit> {
    return new Promise<Permit>((resolve, reject) => {
      this.#waiters.push({ since: this.#clock.now(), deadline, resolve, reject });
      this.#pump();
    });
  }

  #refill(now: number): void {
    if (now > this.#last) {
      this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
      this.#last = now;
    }
  }

  #pump(): void {
    const now = this.#clock.now();
    this.#refill(now);
    // First come, first served: the head waits for a token and a place in flight.
    while (this.#waiters.length > 0 && this.#inFlight < Math.floor(this.#cap) && this.#tokens >= 1) {
      const waiter = this.#waiters.shift();
      if (!waiter) break;
      this.#tokens -= 1;
      this.#inFlight += 1;
      this.#granted += 1;
      this.#peak = Math.max(this.#peak, this.#inFlight);
      waiter.resolve(this.#permit(now - waiter.since));
    }
    // Whoever still waits at its deadline is not sent.
    for (let index = this.#waiters.length - 1; index >= 0; index -= 1) {
      const waiter = this.#waiters[index];
      if (waiter?.deadline !== undefined && waiter.deadline <= now) {
        this.#waiters.splice(index, 1);
        waiter.reject(new RateLimitWaitError(this.key, now - waiter.since));
      }
    }
    if (this.#waiters.length === 0) return;
    // Wake up when the next token is in (a place in flight frees on a release), or at a deadline.
    const times = this.#waiters.flatMap((waiter) => (waiter.deadline === undefined ? [] : [waiter.deadline]));
    if (this.#inFlight < Math.floor(this.#cap)) times.push(now + ((1 - this.#tokens) / this.#rate) * 1000);
    if (times.length === 0) return;
    const at = Math.min(...times);
    if (this.#wakeAt !== undefined && this.#wakeAt <= at) return;
    this.#wakeAt = at;
    void this.#clock.sleep(Math.max(1, Math.ceil(at - now))).then(() => {
      if (this.#wakeAt === at) this.#wakeAt = undefined;
      this.#pump();
    });
  }

  #permit(waitedMs: number): Permit {
    const epoch = this.#epoch;
    let released = false;
    return {
      bucket: this.key,
      waitedMs,
      release: (outcome) => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
        if (outcome === 'throttled') this.#onThrottled(epoch);
        else if (outcome === 'success') this.#onSuccess();
        this.#pump();
      },
    };
  }

  /** Multiplicative decrease, once per round: the requests granted before it knew nothing of it. */
  #onThrottled(epoch: number): void {
    this.#throttled += 1;
    if (epoch !== this.#epoch) return;
    this.#epoch += 1;
    this.#backoffs += 1;
    this.#refill(this.#clock.now());
    this.#rate = Math.max(this.baseRate * MIN_RATE_FRACTION, this.#rate / 2);
    this.#cap = Math.max(1, Math.floor(this.#cap / 2));
    // The account's bucket is empty: ours too.
    this.#tokens = Math.min(this.#tokens, 0);
  }

  /** Additive increase: the rate regains its configured value over two buckets' worth of successes. */
  #onSuccess(): void {
    this.#refill(this.#clock.now());
    this.#rate = Math.min(this.baseRate, this.#rate + this.baseRate / (2 * this.capacity));
    this.#cap = Math.min(this.maxInFlight, this.#cap + 1 / this.#cap);
  }

  stats(): BucketStats {
    return {
      key: this.key,
      family: this.family,
      capacity: this.capacity,
      refillPerSecond: this.baseRate,
      currentRate: this.#rate,
      maxInFlight: this.maxInFlight,
      currentMaxInFlight: Math.floor(this.#cap),
      peakInFlight: this.#peak,
      granted: this.#granted,
      throttled: this.#throttled,
      backoffs: this.#backoffs,
    };
  }
}

/**
 * A limiter for the clients of a pool (every Region): its buckets are made on first use. Throws
 * {@link ConfigError} for a `rateLimits.buckets` entry that names no family or sizes an action that
 * shares its family's bucket.
 */
export function createRateLimiter(
  settings: RateLimitSettings = defaultConfig.rateLimits,
  clock: Clock = systemClock,
): RateLimiter {
  const problems = bucketEntryProblems(settings);
  if (problems.length > 0) throw new ConfigError(problems);
  const buckets = new Map<string, Bucket>();
  return {
    async acquire(request) {
      const classified = classifyOperation(request.service, request.operation, request.input);
      if (!classified) return undefined;
      const key = classified.global ? classified.bucket : `${request.region}/${classified.bucket}`;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = new Bucket(
          key,
          classified.family,
          effectiveBucket(classified, request.operation, settings),
          clock,
        );
        buckets.set(key, bucket);
      }
      return bucket.acquire(request.deadline);
    },
    stats: () => [...buckets.values()].map((bucket) => bucket.stats()),
  };
}
