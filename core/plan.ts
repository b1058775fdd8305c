/**
 * The plan: findings and actions for every VPC that hosts ECS work, in every Region swept.
 * `buildPlan` is the whole decision: a pure function of the discovered state, the config and the time.
 */
import type { Action, ActionKind } from './actions.ts';
import { actionKey, createsEndpoint } from './actions.ts';
import { runChecks, runIdleChecks, vpcContext } from './checks.ts';
import type { DraftFinding, VpcContext } from './context.ts';
import type { Config } from './config.ts';
import { isChecked } from './config.ts';
import type { Finding, FindingCode, Remediation, Severity } from './findings.ts';
import { SEVERITY_RANK, findingId, qualifiedFindingId } from './findings.ts';
import type { RegionSnapshot, SkippedRead } from './model.ts';
import type { Egress } from './network.ts';
import type { ReclaimInput } from './planner.ts';
import { draftId, planVpc } from './planner.ts';
import { idleWorkloads, reclaimBlocker, unknownNeedVpcs } from './reclaim.ts';
import { planRestarts } from './restarts.ts';
import { vpcScope } from './scope.ts';
import { applyMutelist } from './mutelist.ts';
import type { OwnerEndpoints } from './shared-vpcs.ts';
import { joinSharedVpc } from './shared-vpcs.ts';
import type { ManagedService } from './services.ts';
import type { Need } from './workloads.ts';
import { isUnknownNeed } from './needs.ts';
import { isManagedService } from './services.ts';
import { NEED_SERVICES, analyseWorkloads, callersOf } from './workloads.ts';

/**
 * The JSON report's schema version (schema/plan-output.schema.json). 2: every VPC, finding and action
 * carries its `accountId`, finding ids name the account, and a run covers several accounts (`accounts`,
 * `failedAccounts`).
 */
export const PLAN_SCHEMA_VERSION = 2;

export interface VpcReport {
  /** The account whose view this is (the account discovered; `ownerId` owns the VPC). */
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly name?: string;
  readonly inScope: boolean;
  /** Why a VPC with ECS work is not examined. */
  readonly outOfScopeReason?: string;
  /** `high`: some workload subnet has no internet egress; `medium`: all have egress. */
  readonly exposure: 'high' | 'medium';
  readonly availabilityZones: readonly string[];
  readonly workloadSubnets: ReadonlyArray<{
    readonly subnetId: string;
    readonly availabilityZone: string;
    readonly egress: Egress;
  }>;
  readonly needs: ReadonlyArray<{
    readonly need: Need;
    readonly services: readonly ManagedService[];
    readonly reasons: readonly string[];
    /** The need's endpoints cannot be known (a FireLens config file): see finding NEED_UNKNOWN. */
    readonly unknown?: true;
  }>;
  readonly containerInstances: number;
  /**
   * The account that owns the VPC, when known. A VPC shared with the account discovered (AWS RAM) has
   * another owner: its needs are reported here so that a run over the owner's account can meet them
   * with the owner's endpoints.
   */
  readonly ownerId?: string;
  /** True when the VPC is owned by another account and shared with this one. */
  readonly shared?: true;
  /**
   * True when the VPC hosts no ECS work but holds endpoints tagged as the remediator's: it is
   * examined for those alone (ENDPOINT_UNUSED), by a whole-Region reconcile only.
   */
  readonly noEcsWork?: true;
}

/**
 * An action with its account (whose credentials run it) and its place in this run: `deferred` when a
 * blast-radius cap held it back.
 */
export type PlannedAction = Action & {
  readonly accountId: string;
  readonly status: 'planned' | 'deferred';
  readonly deferredReason?: string;
};

export interface PlanStats {
  /** Findings that are drift or unknown: muted ones are not counted (`mutedFindings`). */
  readonly findings: number;
  /** Findings the config's mutelist accepts. */
  readonly mutedFindings: number;
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
  readonly findingsByCode: Readonly<Partial<Record<FindingCode, number>>>;
  readonly actions: number;
  readonly actionsByKind: Readonly<Partial<Record<ActionKind, number>>>;
  readonly deferredActions: number;
  readonly endpointsToCreate: number;
  /** Endpoint-hours of the endpoints and AZs the plan adds, at the configured price. */
  readonly estimatedMonthlyCostUsd: number;
  /** Endpoint-hours of the unneeded owned endpoints the plan deletes (ENDPOINT_UNUSED), at that price. */
  readonly estimatedMonthlySavingUsd: number;
}

/** A read that failed without failing its Region; the checks that needed it report `unknown`. */
export interface SkippedReadReport extends SkippedRead {
  readonly accountId?: string;
  readonly region: string;
}

/** A Region of an account whose discovery failed (`accountId` when the run named accounts). */
export interface FailedRegion {
  readonly accountId?: string;
  readonly region: string;
  readonly error: string;
}

/** An account a run could not enter (its role could not be assumed): none of its Regions was read. */
export interface FailedAccount {
  readonly accountId: string;
  readonly error: string;
}

export interface Plan {
  readonly schemaVersion: typeof PLAN_SCHEMA_VERSION;
  readonly generatedAt: string;
  readonly regions: readonly string[];
  /** The accounts read (discovered, or named by the run), sorted. */
  readonly accounts: readonly string[];
  /** Accounts the run could not enter: nothing of them is planned; the other accounts are. */
  readonly failedAccounts: readonly FailedAccount[];
  /** Reads that failed (access denied, not supported) without failing their Region. */
  readonly skippedReads: readonly SkippedReadReport[];
  /** Regions whose discovery failed: nothing of them is planned; the other Regions are. */
  readonly failedRegions: readonly FailedRegion[];
  readonly vpcs: readonly VpcReport[];
  readonly findings: readonly Finding[];
  readonly actions: readonly PlannedAction[];
  readonly stats: PlanStats;
}

interface VpcResult {
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly findings: Finding[];
  readonly actions: ReadonlyArray<Action & { readonly accountId: string }>;
  /** Where the VPC's fixes go in the caps' order: what is broken now for running work first. */
  readonly rank: number;
}

/**
 * The account a snapshot is of: discovery's (the ECS ARNs, or the account the run entered), else the
 * account its ECS work's ARNs name, else (no ECS work) the owner of the endpoints it lists, which are
 * the caller's own; undefined when none of these is known. Never a VPC's owner: a VPC shared with the
 * account is another account's.
 */
export function accountOfSnapshot(snapshot: RegionSnapshot): string | undefined {
  if (snapshot.accountId !== undefined) return snapshot.accountId;
  const arn = [...snapshot.containerInstances, ...snapshot.services, ...snapshot.tasks][0]?.clusterArn;
  if (arn !== undefined) return /^arn:[^:]+:ecs:[^:]*:(\d{12}):/.exec(arn)?.[1];
  // No ECS work, only VPCs holding our endpoints (reclaim): DescribeVpcEndpoints lists the caller's
  // own endpoints, so their owner is the account read.
  return snapshot.endpoints.find((endpoint) => endpoint.ownerId !== undefined)?.ownerId;
}

/**
 * A snapshot with ECS work whose account is not known: its findings, actions and ids would name no
 * account (or a made-up one), so it is not planned.
 */
export class UnknownSnapshotAccountError extends Error {
  constructor(region: string) {
    super(
      `the account of the snapshot of ${region} is not known: discovery named none and its ECS work's ARNs ` +
        'name no 12-digit account; findings and actions cannot be attributed',
    );
    this.name = 'UnknownSnapshotAccountError';
  }
}

/** What a run over several accounts adds to the snapshots: who it read, and whom it could not enter. */
export interface RunScope {
  readonly failedRegions?: readonly FailedRegion[];
  /** Accounts named by the run (`--accounts`, the organisation), read or not. */
  readonly accounts?: readonly string[];
  readonly failedAccounts?: readonly FailedAccount[];
  /**
   * The owners' endpoints of VPCs shared with other accounts of the run (read with the owners'
   * credentials): the participants' needs meet them (core/shared-vpcs.ts).
   */
  readonly ownerEndpoints?: readonly OwnerEndpoints[];
}

/** Plans every Region's snapshot: findings, actions within the config's caps, and stats. */
export function buildPlan(
  snapshots: readonly RegionSnapshot[],
  config: Config,
  now: Date,
  failedRegionsOrScope: readonly FailedRegion[] | RunScope = [],
): Plan {
  const run: RunScope = Array.isArray(failedRegionsOrScope)
    ? { failedRegions: failedRegionsOrScope as readonly FailedRegion[] }
    : (failedRegionsOrScope as RunScope);
  const failedRegions = run.failedRegions ?? [];
  const failedAccounts = run.failedAccounts ?? [];
  const vpcs: VpcReport[] = [];
  const results: VpcResult[] = [];
  for (const snapshot of snapshots) {
    const containerInstances = new Map(
      snapshot.containerInstances.map((ci) => [ci.containerInstanceArn, ci]),
    );
    const clusterSizes = new Map<string, number>();
    for (const ci of snapshot.containerInstances) {
      clusterSizes.set(ci.clusterArn, (clusterSizes.get(ci.clusterArn) ?? 0) + 1);
    }
    // The deployed remediator's records of what it made: with them, ownership needs tag and record.
    const recorded = snapshot.ownedResourceIds ? new Set(snapshot.ownedResourceIds) : undefined;
    const analysed = analyseWorkloads(snapshot);
    const workloads = [...analysed.values()].sort((a, b) => a.vpc.vpcId.localeCompare(b.vpc.vpcId));
    // VPCs without ECS work that hold the remediator's endpoints: examined for those alone.
    const idleOnes = idleWorkloads(snapshot, analysed, config);
    const idle = new Set(idleOnes.map((workload) => workload.vpc.vpcId));
    const examined = [...workloads, ...idleOnes].sort((a, b) => a.vpc.vpcId.localeCompare(b.vpc.vpcId));
    // A snapshot with nothing to examine has nothing to report; one with work names its account everywhere.
    if (examined.length === 0) continue;
    const accountId = accountOfSnapshot(snapshot);
    if (accountId === undefined) throw new UnknownSnapshotAccountError(snapshot.region);
    // Whether this Region's reconcile may count toward the reclaim's grace period, or delete.
    const reclaim: ReclaimInput = {
      ...(snapshot.reclaim ? { unusedSince: snapshot.reclaim.unusedSince } : {}),
      ...optional(
        'blocker',
        reclaimBlocker(snapshot.reclaim, {
          skippedReads: snapshot.skippedReads ?? [],
          failedRegions: failedRegions.map((failed) => failed.region),
          unknownNeedVpcs: unknownNeedVpcs(workloads, config),
        }),
      ),
    };
    for (const workload of examined) {
      const noEcsWork = idle.has(workload.vpc.vpcId);
      const scope = vpcScope(workload.vpc, config);
      vpcs.push({
        accountId,
        region: snapshot.region,
        vpcId: workload.vpc.vpcId,
        ...(workload.vpc.tags.Name ? { name: workload.vpc.tags.Name } : {}),
        inScope: scope.inScope,
        ...(scope.inScope ? {} : { outOfScopeReason: scope.reason }),
        exposure: workload.isolated ? 'high' : 'medium',
        availabilityZones: workload.availabilityZones,
        workloadSubnets: workload.subnets.map((subnet) => ({
          subnetId: subnet.subnetId,
          availabilityZone: subnet.availabilityZone,
          egress: workload.egressBySubnet.get(subnet.subnetId) ?? 'none',
        })),
        needs: scope.inScope
          ? [...workload.needs].map(([need, reasons]) => ({
              need,
              services: NEED_SERVICES[need],
              reasons,
              ...(isUnknownNeed(need) ? { unknown: true as const } : {}),
            }))
          : [], // not examined: discovery reads no task definitions of out-of-scope work
        containerInstances: workload.containerInstances.length,
        ...(workload.vpc.ownerId === undefined ? {} : { ownerId: workload.vpc.ownerId }),
        ...(workload.vpc.ownerId !== undefined &&
        snapshot.accountId !== undefined &&
        workload.vpc.ownerId !== snapshot.accountId
          ? { shared: true as const }
          : {}),
        ...(noEcsWork ? { noEcsWork: true as const } : {}),
      });
      if (!scope.inScope) continue;
      const context = vpcContext(snapshot, workload);
      // Disabled checks: their findings are neither reported nor remedied (config `checks.disabled`).
      // A VPC shared with this account whose owner is in the run: its needs meet the owner's endpoints.
      const owner =
        context.sharedBy === undefined
          ? undefined
          : run.ownerEndpoints?.find(
              (o) =>
                o.ownerId === context.sharedBy &&
                o.region === snapshot.region &&
                o.vpcId === workload.vpc.vpcId,
            );
      const drafts = (
        noEcsWork ? runIdleChecks(context) : joinSharedVpc(context, runChecks(context), owner)
      ).filter((draft) => isChecked(config, draft.code));
      const vpcPlan = planVpc({ context, drafts, config, now, reclaim, ...(recorded ? { recorded } : {}) });
      // Agent restarts follow from the truth and from this plan's own ECS endpoint changes.
      const restarts = planRestarts({
        context,
        actions: vpcPlan.actions,
        containerInstances,
        ssm: context.ssm,
        clusterSizes,
        config,
      });
      const unplanned: Remediation = { status: 'manual', actionIds: [] };
      const findingsBefore = [
        ...drafts.map((draft) =>
          toFinding(
            accountId,
            snapshot.region,
            draft,
            vpcPlan.remediation.get(draftId(snapshot.region, draft)) ?? unplanned,
          ),
        ),
        ...restarts.findings
          .filter((finding) => isChecked(config, finding.code))
          .map((finding) => toFinding(accountId, snapshot.region, finding, finding.remediation)),
      ];
      // The planner names the findings an action fixes by their key within the account.
      const accountActions = [...vpcPlan.actions, ...restarts.actions].map((action) => ({
        ...action,
        accountId,
        fixes: action.fixes.map((key) => qualifiedFindingId(key, accountId)),
      }));
      // The mutelist: accepted findings marked, their fixes (and what waits for them) left out.
      const { findings: accepted, actions: actionsMuted } = applyMutelist(
        findingsBefore,
        accountActions,
        config.mutelist,
        {
          ...(snapshot.accountId === undefined ? {} : { accountId: snapshot.accountId }),
          vpcTags: workload.vpc.tags,
        },
        now,
      );
      // Below remediation.minSeverity: reported, not fixed (unless a kept fix needs the action).
      const { findings, actions } = belowMinSeverity(accepted, actionsMuted, config.remediation.minSeverity);
      const rank = Math.min(
        RANKS,
        ...drafts.map((draft) => SEVERITY_RANK[draft.severity] + (isLive(context, draft) ? 0 : LIVE_OFFSET)),
        ...restarts.findings.map((finding) => SEVERITY_RANK[finding.severity]),
      );
      results.push({
        accountId,
        region: snapshot.region,
        vpcId: workload.vpc.vpcId,
        findings,
        actions,
        rank,
      });
    }
  }
  const actions = applyCaps(results, config);
  const findings = markDeferred(
    results.flatMap((result) => result.findings),
    actions,
  );
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    regions: [
      ...new Set([
        ...snapshots.map((snapshot) => snapshot.region),
        ...failedRegions.map((failed) => failed.region),
      ]),
    ],
    accounts: [
      ...new Set([
        ...(run.accounts ?? []),
        ...snapshots.flatMap((snapshot) => snapshot.accountId ?? []),
        ...vpcs.map((vpc) => vpc.accountId),
      ]),
    ].sort(),
    failedAccounts,
    failedRegions,
    skippedReads: snapshots.flatMap((snapshot) =>
      (snapshot.skippedReads ?? []).map((read) => ({
        ...(snapshot.accountId === undefined ? {} : { accountId: snapshot.accountId }),
        region: snapshot.region,
        ...read,
      })),
    ),
    vpcs,
    findings,
    actions,
    stats: statsOf(findings, actions),
  };
}

/**
 * `remediation.minSeverity`: actions that fix only findings below it are left out, unless an action
 * kept depends on them; a finding left without its fix is `disabled`, saying why.
 */
function belowMinSeverity<A extends Action>(
  findings: readonly Finding[],
  actions: readonly A[],
  minSeverity: Severity,
): { findings: Finding[]; actions: A[] } {
  if (minSeverity === 'low') return { findings: [...findings], actions: [...actions] };
  const fixed = (finding: Finding) => SEVERITY_RANK[finding.severity] <= SEVERITY_RANK[minSeverity];
  const byId = new Map(findings.map((finding) => [finding.id, finding]));
  const kept = new Set(
    actions
      .filter(
        (action) =>
          action.fixes.length === 0 ||
          action.fixes.some((id) => byId.get(id) === undefined || fixed(byId.get(id) as Finding)),
      )
      .map((action) => action.id),
  );
  const byAction = new Map(actions.map((action) => [action.id, action]));
  const pending = [...kept];
  while (pending.length > 0) {
    for (const dependency of byAction.get(pending.pop() ?? '')?.dependsOn ?? [])
      if (!kept.has(dependency)) {
        kept.add(dependency);
        pending.push(dependency);
      }
  }
  return {
    findings: findings.map((finding) => {
      const { remediation } = finding;
      if (remediation.status !== 'planned' || remediation.actionIds.some((id) => kept.has(id)))
        return finding;
      return {
        ...finding,
        remediation: {
          status: 'disabled',
          actionIds: [],
          reason: `remediation.minSeverity is ${minSeverity}: a ${finding.severity} finding is reported, not fixed`,
        },
      };
    }),
    actions: actions.filter((action) => kept.has(action.id)),
  };
}

/** What a check or the restart planner reports, before its remediation is known. */
type FindingDraft = Omit<DraftFinding, 'remedy'>;

/** Severity ranks 0-2 for running work, 3-5 for work scaled to zero; 6 sorts after both. */
const LIVE_OFFSET = 3;
const RANKS = 6;

/** Whether running work stands behind a finding: callers of its service, else any in the VPC. */
function isLive(context: VpcContext, draft: DraftFinding): boolean {
  const callers =
    draft.service !== undefined && isManagedService(draft.service)
      ? callersOf(context.workload, draft.service)
      : context.workload.callers;
  return callers.some((caller) => caller.live);
}

function toFinding(
  accountId: string,
  region: string,
  draft: FindingDraft,
  remediation: Remediation,
): Finding {
  return {
    id: findingId(draft.code, accountId, region, draft.vpcId, draft.subject),
    accountId,
    code: draft.code,
    status: draft.unknown === undefined ? 'drift' : 'unknown',
    ...(draft.unknown === undefined ? {} : { statusReason: draft.unknown }),
    severity: draft.severity,
    region,
    vpcId: draft.vpcId,
    ...(draft.service === undefined ? {} : { service: draft.service }),
    ...(draft.resourceId === undefined ? {} : { resourceId: draft.resourceId }),
    message: draft.message,
    remediation,
  };
}

/**
 * Applies the blast-radius caps: VPCs with what is broken now go first (the worst severity of findings
 * that running work stands behind; a service scaled to zero ranks below all running work), Region
 * and VPC id break ties; an action past a cap, or waiting for a deferred action, is deferred to a
 * later run.
 */
function applyCaps(results: readonly VpcResult[], config: Config): PlannedAction[] {
  const ordered = [...results].sort(
    (a, b) =>
      a.rank - b.rank ||
      a.accountId.localeCompare(b.accountId) ||
      a.region.localeCompare(b.region) ||
      a.vpcId.localeCompare(b.vpcId),
  );
  const { maxActionsPerRun, maxEndpointsCreatedPerRun } = config.limits;
  const { maxAddedMonthlyCostUsdPerRun: runBudget, maxAddedMonthlyCostUsdPerVpc: vpcBudget } = config.limits;
  const admitted = new Set<string>();
  let endpointsCreated = 0;
  // The monthly cost the admitted fixes add, in the run and per VPC (cents, to add exactly).
  let runCents = 0;
  const vpcCents = new Map<string, number>();
  const costOf = (action: Action) =>
    Math.round(('monthlyCostUsd' in action ? action.monthlyCostUsd : 0) * 100);
  const planned: PlannedAction[] = [];
  const all = ordered.flatMap((result) => result.actions);
  // Action ids are unique within an account (a VPC shared with another account has the same id in
  // both): the caps key them by account.
  const usersOf = (action: Action & { readonly accountId: string }): Action[] =>
    all.filter((user) => user.accountId === action.accountId && user.dependsOn.includes(action.id));
  for (const action of all) {
    const waitingFor = action.dependsOn.find((id) => !admitted.has(actionKey(action.accountId, id)));
    let deferredReason: string | undefined;
    if (waitingFor !== undefined) deferredReason = `waits for deferred action ${waitingFor}`;
    else if (admitted.size >= maxActionsPerRun)
      deferredReason = `limits.maxActionsPerRun (${maxActionsPerRun}) reached`;
    else if (createsEndpoint(action) && endpointsCreated >= maxEndpointsCreatedPerRun) {
      deferredReason = `limits.maxEndpointsCreatedPerRun (${maxEndpointsCreatedPerRun}) reached`;
    } else if (
      GROUP_KINDS.has(action.kind) &&
      endpointsCreated >= maxEndpointsCreatedPerRun &&
      usersOf(action).every(createsEndpoint)
    ) {
      // A group made only for endpoints the cap holds back would serve nothing this run.
      deferredReason = `limits.maxEndpointsCreatedPerRun (${maxEndpointsCreatedPerRun}) reached: its endpoints wait`;
    }
    const cents = costOf(action);
    const vpcKey = `${action.accountId}/${action.region}/${action.vpcId}`;
    if (deferredReason === undefined && cents > 0) {
      if (runBudget !== undefined && runCents + cents > Math.round(runBudget * 100))
        deferredReason = `limits.maxAddedMonthlyCostUsdPerRun ($${runBudget.toFixed(2)}) reached`;
      else if (vpcBudget !== undefined && (vpcCents.get(vpcKey) ?? 0) + cents > Math.round(vpcBudget * 100))
        deferredReason = `limits.maxAddedMonthlyCostUsdPerVpc ($${vpcBudget.toFixed(2)}) reached`;
    }
    if (deferredReason === undefined) {
      admitted.add(actionKey(action.accountId, action.id));
      runCents += cents;
      vpcCents.set(vpcKey, (vpcCents.get(vpcKey) ?? 0) + cents);
      if (createsEndpoint(action)) endpointsCreated += 1;
      planned.push({ ...action, status: 'planned' });
    } else {
      planned.push({ ...action, status: 'deferred', deferredReason });
    }
  }
  return planned;
}

const GROUP_KINDS: ReadonlySet<ActionKind> = new Set([
  'CREATE_SECURITY_GROUP',
  'AUTHORIZE_SECURITY_GROUP_INGRESS',
]);

/** A finding whose every fixing action was deferred is itself deferred. */
function markDeferred(findings: readonly Finding[], actions: readonly PlannedAction[]): Finding[] {
  const byId = new Map(actions.map((action) => [actionKey(action.accountId, action.id), action]));
  return findings.map((finding) => {
    const { remediation } = finding;
    if (remediation.status !== 'planned') return finding;
    const deferred = remediation.actionIds
      .map((id) => byId.get(actionKey(finding.accountId, id)))
      .filter((action) => action?.status === 'deferred');
    if (deferred.length === 0 || deferred.length < remediation.actionIds.length) return finding;
    return {
      ...finding,
      remediation: { ...remediation, status: 'deferred', reason: deferred[0]?.deferredReason ?? '' },
    };
  });
}

/** `{ [key]: value }`, or nothing for an undefined value (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function countBy<K extends string>(keys: readonly K[]): Partial<Record<K, number>> {
  const counts: Partial<Record<K, number>> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

function statsOf(all: readonly Finding[], actions: readonly PlannedAction[]): PlanStats {
  // Muted findings are reported, not counted: they are not drift.
  const findings = all.filter((finding) => finding.muted === undefined);
  const planned = actions.filter((action) => action.status === 'planned');
  const cost = planned.reduce(
    (sum, action) => sum + ('monthlyCostUsd' in action ? action.monthlyCostUsd : 0),
    0,
  );
  const bySeverity = countBy(findings.map((finding) => finding.severity));
  return {
    findings: findings.length,
    mutedFindings: all.length - findings.length,
    findingsBySeverity: {
      high: bySeverity.high ?? 0,
      medium: bySeverity.medium ?? 0,
      low: bySeverity.low ?? 0,
    },
    findingsByCode: countBy(findings.map((finding) => finding.code)),
    actions: planned.length,
    actionsByKind: countBy(planned.map((action) => action.kind)),
    deferredActions: actions.length - planned.length,
    endpointsToCreate: planned.filter(createsEndpoint).length,
    estimatedMonthlyCostUsd: Math.round(cost * 100) / 100,
    estimatedMonthlySavingUsd:
      Math.round(
        planned.reduce(
          (sum, action) => sum + ('monthlySavingUsd' in action ? (action.monthlySavingUsd ?? 0) : 0),
          0,
        ) * 100,
      ) / 100,
  };
}
