/**
 * Reclaiming owned endpoints no longer needed (ENDPOINT_UNUSED, config
 * `remediation.reclaimUnusedOwnedEndpointsAfterDays`): which reconciles may count toward the grace
 * period, and how the clock moves. The clock itself lives in the deployed remediator's state table
 * (aws/reclaim.ts) and reaches core as `RegionSnapshot.reclaim`; the CLI keeps none, so it only reports.
 *
 * A view that may be partial never starts a clock and never deletes: only a reconcile of the whole
 * Region in one go (a sweep), or the reclaim unit of a split sweep whose units together saw every VPC
 * (core/units.ts), with no failed Region, no skipped read and no need whose endpoints cannot be known,
 * counts. Anything seeing an endpoint needed again stops its clock: that only ever delays a delete.
 */
import type { Config } from './config.ts';
import type { Plan } from './plan.ts';
import { isManaged } from './actions.ts';
import type { ReclaimClock, RegionSnapshot, SkippedRead, VpcEndpoint } from './model.ts';
import { isUnknownNeed } from './needs.ts';
import { vpcScope } from './scope.ts';
import type { ManagedService } from './services.ts';
import { isManagedService, parseServiceName } from './services.ts';
import type { VpcWorkload } from './workloads.ts';
import { analyseWorkloads, idleWorkload, requiredServices } from './workloads.ts';

export const DAY_MS = 24 * 3600 * 1000;

/**
 * The service of an endpoint that may be unneeded, or undefined when it is not one: an `available`
 * interface endpoint of this Region's managed services, carrying the managed tag, whose service is not
 * among `required` (the VPC's needs' services). A gateway endpoint costs nothing, and deleting it
 * takes routes from every subnet of its route tables. Whether it is also recorded as the remediator's
 * is the remedy's to judge (core/remedies.ts).
 */
export function unneededOwnedService(
  endpoint: VpcEndpoint,
  region: string,
  required: ReadonlyMap<ManagedService, unknown>,
): ManagedService | undefined {
  const parsed = parseServiceName(endpoint.serviceName);
  if (
    !isManaged(endpoint.tags) ||
    endpoint.type !== 'Interface' ||
    endpoint.state !== 'available' ||
    parsed?.region !== region ||
    !isManagedService(parsed.service) ||
    required.has(parsed.service)
  )
    return undefined;
  return parsed.service;
}

/**
 * The VPCs in scope without ECS work (none in `analysed`, the snapshot's workloads) that hold the
 * remediator's endpoints (`RegionSnapshot.idleVpcIds`), as workloads without work: examined for
 * those endpoints alone. Out of scope they are not listed (only VPCs with ECS work are).
 */
export function idleWorkloads(
  snapshot: RegionSnapshot,
  analysed: ReadonlyMap<string, VpcWorkload>,
  config: Config,
): VpcWorkload[] {
  const idle = new Set(snapshot.idleVpcIds ?? []);
  return snapshot.vpcs
    .filter((vpc) => idle.has(vpc.vpcId) && !analysed.has(vpc.vpcId) && vpcScope(vpc, config).inScope)
    .map(idleWorkload);
}

/**
 * The endpoints of a snapshot the unused check weighs (core/checks.ts): {@link unneededOwnedService}
 * in the VPCs in scope, with or without ECS work, that the account discovered owns (a VPC shared with
 * it is out of sight). Discovery reads what may keep them in use (zones pointing other VPCs at them,
 * subnets shared with other accounts) only when there are some.
 */
export function reclaimCandidates(
  snapshot: RegionSnapshot,
  config: Config,
  analysed: ReadonlyMap<string, VpcWorkload> = analyseWorkloads(snapshot),
): VpcEndpoint[] {
  const idle = new Map(idleWorkloads(snapshot, analysed, config).map((w) => [w.vpc.vpcId, w]));
  return snapshot.vpcs.flatMap((vpc) => {
    const workload = analysed.get(vpc.vpcId) ?? idle.get(vpc.vpcId);
    if (workload === undefined || !vpcScope(vpc, config).inScope) return [];
    if (vpc.ownerId !== undefined && snapshot.accountId !== undefined && vpc.ownerId !== snapshot.accountId)
      return [];
    const required = requiredServices(workload);
    return snapshot.endpoints.filter(
      (endpoint) =>
        endpoint.vpcId === vpc.vpcId &&
        unneededOwnedService(endpoint, snapshot.region, required) !== undefined,
    );
  });
}

/**
 * What a reconcile of one Region saw that bears on whether it may count: its skipped reads, the
 * Regions of the same run whose discovery failed, and its VPCs in scope with a need whose endpoints
 * cannot be known (NEED_UNKNOWN).
 */
export interface ReconcileView {
  readonly skippedReads: readonly SkippedRead[];
  readonly failedRegions: readonly string[];
  readonly unknownNeedVpcs: readonly string[];
}

/**
 * Why this Region's reconcile may neither count toward the grace period nor delete, by its `clock`
 * (absent: the CLI's) and its {@link ReconcileView}; undefined when it may.
 */
export function reclaimBlocker(clock: ReclaimClock | undefined, view: ReconcileView): string | undefined {
  if (clock === undefined)
    return 'no clock is kept here (the CLI keeps no state): only the deployed remediator deletes, after its grace period';
  if (!clock.wholeRegion)
    return (
      clock.partialView ??
      'this reconcile read part of the Region (an event, or a plan unit of a split sweep): only a whole-Region sweep, or the reclaim unit of a split one, counts'
    );
  return viewGap(view);
}

/**
 * What in a reconcile's own view keeps it from counting, whatever it read: a failed Region, a skipped
 * read, a need whose endpoints cannot be known. Undefined when none. A plan unit of a split sweep
 * records it for its run (aws/units/run-unit.ts): one unit's gap keeps the whole run from counting.
 */
export function viewGap(view: ReconcileView): string | undefined {
  if (view.failedRegions.length > 0)
    return `the discovery of ${view.failedRegions.join(', ')} failed in this run`;
  const skipped = view.skippedReads[0];
  if (skipped !== undefined) return skippedReadGap(skipped);
  if (view.unknownNeedVpcs.length > 0)
    return `what some work needs cannot be known (NEED_UNKNOWN in ${view.unknownNeedVpcs.join(', ')})`;
  return undefined;
}

/**
 * The {@link ReconcileView} of `region` in a plan, which carries all of it (skipped reads, failed
 * Regions, each VPC's needs marked `unknown`): the deployed reconcile judges its plan without
 * analysing the workloads again.
 */
export function planView(plan: Plan, region: string): ReconcileView {
  return {
    skippedReads: plan.skippedReads.filter((read) => read.region === region),
    failedRegions: plan.failedRegions.map((failed) => failed.region),
    unknownNeedVpcs: plan.vpcs
      .filter((vpc) => vpc.region === region && vpc.inScope && vpc.needs.some((need) => need.unknown))
      .map((vpc) => vpc.vpcId)
      .sort(),
  };
}

/** A skipped read, as the reason a reconcile does not count. */
export function skippedReadGap(skipped: SkippedRead): string {
  return `a read was skipped (${skipped.operation}${skipped.resourceId ? ` of ${skipped.resourceId}` : ''}: ${skipped.reason})`;
}

/** The VPCs in scope with a need whose endpoints cannot be known (NEED_UNKNOWN). */
export function unknownNeedVpcs(workloads: Iterable<VpcWorkload>, config: Config): string[] {
  return [...workloads]
    .filter(
      (workload) => vpcScope(workload.vpc, config).inScope && [...workload.needs.keys()].some(isUnknownNeed),
    )
    .map((workload) => workload.vpc.vpcId)
    .sort();
}

/** A clock entry: an owned endpoint a counting sweep saw serve no need, and since when. */
export interface UnusedEndpoint {
  readonly vpcEndpointId: string;
  readonly vpcId: string;
  /** ISO-8601. */
  readonly since: string;
}

export interface ClockChange {
  /** Clocks started by this reconcile (a counting sweep saw these unneeded for the first time). */
  readonly start: readonly UnusedEndpoint[];
  /** Clocks stopped: needed again, gone, deleted, no longer owned, or the reclaim turned off. */
  readonly stop: readonly UnusedEndpoint[];
}

/**
 * How one reconcile of `region` moves the clock. Endpoints it reports unneeded are
 * {@link reportedUnused}'s.
 *
 * - A counting reconcile (`counts`) starts a clock for each such endpoint without one and stops every
 *   other clock of the Region (a whole-Region sweep: `vpcIds` undefined) or of its VPCs (a step of a
 *   split sweep's reclaim unit: `vpcIds` the VPCs it examined; the unit's last step stops the clocks of
 *   the VPCs it did not read again, aws/units/run-unit.ts).
 * - Any other reconcile starts none; it stops the clocks of the VPCs it examined (`vpcIds`, see
 *   {@link examinedVpcIds}; undefined: every VPC) whose endpoint it did not report unneeded. A VPC it
 *   did not examine keeps its clocks: an event naming a VPC without ECS work examines nothing there,
 *   and a sweep whose read of the remediator's endpoints was refused does not see such VPCs.
 * - `deleted`: endpoints this reconcile deleted; `enabled` false stops every clock.
 */
export function nextClock(input: {
  readonly plan: Plan;
  readonly region: string;
  readonly previous: readonly UnusedEndpoint[];
  readonly counts: boolean;
  readonly vpcIds: readonly string[] | undefined;
  readonly deleted: ReadonlySet<string>;
  readonly enabled: boolean;
  readonly now: Date;
}): ClockChange {
  const { plan, region, previous, counts, vpcIds, deleted, enabled, now } = input;
  if (!enabled) return { start: [], stop: [...previous] };
  const unused = reportedUnused(plan, region, deleted);
  const covered = vpcIds === undefined ? undefined : new Set(vpcIds);
  const known = new Set(previous.map((entry) => entry.vpcEndpointId));
  const start = counts
    ? [...unused]
        .filter(([id]) => !known.has(id))
        .map(([vpcEndpointId, vpcId]) => ({ vpcEndpointId, vpcId, since: now.toISOString() }))
        .sort((a, b) => a.vpcEndpointId.localeCompare(b.vpcEndpointId))
    : [];
  const stop = previous.filter(
    (entry) =>
      deleted.has(entry.vpcEndpointId) ||
      (!unused.has(entry.vpcEndpointId) && (covered === undefined || covered.has(entry.vpcId))),
  );
  return { start, stop };
}

/**
 * The owned endpoints of `region` a plan reports unneeded, each with its VPC: its ENDPOINT_UNUSED
 * findings that are `drift`, not muted, of an endpoint not in `deleted`, with their fix planned,
 * waiting for its grace period or held back by `remediation.minSeverity` (not `manual`: an endpoint
 * not recorded as the remediator's; not `unknown`). The clock moves by them ({@link nextClock}); a plan
 * unit of a split sweep records their VPCs for the run's reclaim unit to read again.
 */
export function reportedUnused(
  plan: Plan,
  region: string,
  deleted: ReadonlySet<string> = new Set(),
): Map<string, string> {
  return new Map(
    plan.findings
      .filter(
        (finding) =>
          finding.code === 'ENDPOINT_UNUSED' &&
          finding.region === region &&
          finding.status === 'drift' &&
          finding.muted === undefined &&
          finding.resourceId !== undefined &&
          !deleted.has(finding.resourceId) &&
          // `disabled`: below remediation.minSeverity; `manual`: not recorded as the remediator's.
          ['planned', 'deferred', 'disabled'].includes(finding.remediation.status),
      )
      .map((finding) => [finding.resourceId ?? '', finding.vpcId]),
  );
}

/**
 * The VPCs of `region` a reconcile's plan examined (in scope, with or without ECS work): a reconcile
 * that does not count stops only their clocks ({@link nextClock}).
 */
export function examinedVpcIds(plan: Plan, region: string): string[] {
  return plan.vpcs
    .filter((vpc) => vpc.region === region && vpc.inScope)
    .map((vpc) => vpc.vpcId)
    .sort();
}

/** Whole days from `since` to `now`, rounded down. */
export function daysSince(since: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(since)) / DAY_MS);
}
