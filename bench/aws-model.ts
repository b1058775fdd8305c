/**
 * The bench's model of AWS (pure, no I/O; tested in test/bench/): the throttling buckets the bench
 * server puts in front of moto, the least time those buckets allow for a number of calls, the Lambda
 * CPU a run's client CPU becomes, and how large an account one invocation handles.
 *
 * The buckets are those of aws/rate-limit.ts (`RATE_LIMIT_FAMILIES`, with its sources), whole: AWS's
 * side holds the account's full bucket, of which the remediator's limiter takes only its `share`.
 */
import { RATE_LIMIT_FAMILIES, classifyOperation } from '../aws/rate-limit.ts';

/** A family's bucket as the bench server takes it (bench/throttle_model.py). */
export interface ServerFamily {
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** The actions the family names (ECS families, EC2's resource-intensive and unfiltered ones). */
  readonly actions?: readonly string[];
  readonly source: string;
}

/** Every family of aws/rate-limit.ts at its published size: the table POST /_bench/throttle takes. */
export function serverThrottleFamilies(): Record<string, ServerFamily> {
  return Object.fromEntries(
    Object.entries(RATE_LIMIT_FAMILIES).map(([name, family]) => [
      name,
      {
        capacity: family.size.capacity,
        refillPerSecond: family.size.refillPerSecond,
        ...(family.actions ? { actions: family.actions } : {}),
        source: family.source,
      },
    ]),
  );
}

export interface BucketFloor {
  readonly bucket: string;
  readonly family: string;
  readonly calls: number;
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** (calls − capacity) / refill rate, at least 0: the bucket full at the start, drained at its rate. */
  readonly seconds: number;
}

/**
 * The least time the account's buckets allow for `byOperation` calls (`service:Operation` → calls) of
 * one Region, each bucket full at the start and used by nothing else: per bucket, the calls beyond its
 * capacity at its refill rate; the buckets drain in parallel, so the floor is the slowest one's. `share`
 * scales capacity and rate alike (the remediator's limiter takes `rateLimits.share` of each). EC2 reads
 * are classified without their parameters, so the few actions with a smaller bucket for unfiltered
 * requests take it (the safe side). Operations of a service without buckets cost nothing here.
 */
export function throttleFloor(
  byOperation: Readonly<Record<string, number>>,
  share = 1,
): { seconds: number; buckets: BucketFloor[] } {
  const calls = new Map<string, { family: string; calls: number; capacity: number; rate: number }>();
  for (const [name, count] of Object.entries(byOperation)) {
    const [service = '', operation = ''] = name.split(':');
    const classified = classifyOperation(service, operation);
    if (!classified || count <= 0) continue;
    const entry = calls.get(classified.bucket) ?? {
      family: classified.family,
      calls: 0,
      capacity: classified.published.capacity * share,
      rate: classified.published.refillPerSecond * share,
    };
    entry.calls += count;
    calls.set(classified.bucket, entry);
  }
  const buckets = [...calls.entries()]
    .map(([bucket, e]) => ({
      bucket,
      family: e.family,
      calls: e.calls,
      capacity: e.capacity,
      refillPerSecond: e.rate,
      seconds: Math.max(0, (e.calls - e.capacity) / e.rate),
    }))
    .sort((a, b) => b.seconds - a.seconds || a.bucket.localeCompare(b.bucket));
  return { seconds: buckets[0]?.seconds ?? 0, buckets };
}

/** Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU (docs/benchmarks.md cites it). */
export const LAMBDA_MB_PER_VCPU = 1769;

/** The Lambda memory sizes projected: the stack's (serverless.yml: 512 MB for the reconciler) and 1,024 MB. */
export const LAMBDA_MEMORY_MB: readonly number[] = [512, 1024];

/** The reconciler's timeout (serverless.yml) and the headroom the largest account is sized with. */
export const LAMBDA_TIMEOUT_SECONDS = 300;
export const BUDGET_HEADROOM = 2;

/**
 * The vCPU a function of `memoryMb` gets, at most 1: discovery runs on one thread (the JavaScript
 * event loop), so more than one vCPU does not make it faster.
 */
export function lambdaVcpu(memoryMb: number): number {
  return Math.min(1, memoryMb / LAMBDA_MB_PER_VCPU);
}

/**
 * A run's duration on a Lambda of `memoryMb`: its wall time, measured with a full core, plus its CPU
 * time stretched to the function's share of a vCPU (cpu / vcpu − cpu more). This counts every CPU
 * second as lying on the run's critical path, none overlapped with waiting for AWS: an upper estimate
 * (the lower one is max(wall, cpu / vcpu)).
 */
export function lambdaSeconds(wallMs: number, cpuMs: number, memoryMb: number): number {
  const vcpu = lambdaVcpu(memoryMb);
  return (wallMs + cpuMs * (1 / vcpu - 1)) / 1000;
}

/** One measured size: how many VPCs the account has and how long its run would take. */
export interface SizePoint {
  readonly vpcs: number;
  readonly seconds: number;
}

/**
 * The most VPCs an account of the spec's shape can have for its run to take `budgetSeconds`: a
 * straight line through the points (least squares; through the origin when there is one point, or
 * when the fitted line does not rise), extrapolated. Undefined without a point of positive time.
 */
export function largestAccount(
  points: readonly SizePoint[],
  budgetSeconds = LAMBDA_TIMEOUT_SECONDS / BUDGET_HEADROOM,
): { vpcs: number; secondsPerVpc: number; fixedSeconds: number } | undefined {
  const usable = points.filter((p) => p.vpcs > 0 && p.seconds > 0);
  if (usable.length === 0) return undefined;
  const throughOrigin = () => {
    const slope =
      usable.reduce((sum, p) => sum + p.vpcs * p.seconds, 0) /
      usable.reduce((sum, p) => sum + p.vpcs ** 2, 0);
    return { slope, intercept: 0 };
  };
  let fit = throughOrigin();
  if (usable.length > 1) {
    const n = usable.length;
    const mx = usable.reduce((s, p) => s + p.vpcs, 0) / n;
    const my = usable.reduce((s, p) => s + p.seconds, 0) / n;
    const sxx = usable.reduce((s, p) => s + (p.vpcs - mx) ** 2, 0);
    const slope = sxx > 0 ? usable.reduce((s, p) => s + (p.vpcs - mx) * (p.seconds - my), 0) / sxx : 0;
    if (slope > 0) fit = { slope, intercept: my - slope * mx };
  }
  const vpcs = Math.max(0, Math.floor((budgetSeconds - fit.intercept) / fit.slope));
  return { vpcs, secondsPerVpc: fit.slope, fixedSeconds: fit.intercept };
}
