/**
 * What to tell the team after a reconcile, and what to remember until the next one: a pure diff of
 * the findings remembered as open against the findings of this plan and the results of its apply.
 *
 * Alerted: findings first seen now, actions that changed something, failures (again only when the
 * failure changes, or once a digest interval), findings that went away (resolved), and at most once a
 * digest interval the findings that are still open. An unchanged finding is not re-sent every sweep.
 */
import { actionKey } from './actions.ts';
import type { Finding, Severity } from './findings.ts';
import { SEVERITY_RANK, legacyFindingId } from './findings.ts';
import type { Plan } from './plan.ts';
import type { ActionOutcome, ActionResult } from './report.ts';

/** `report` only plans and alerts; `enforce` also applies. Chosen at deploy time. */
export type Mode = 'report' | 'enforce';

/** A finding remembered as open between reconciles (the state table's record). */
export interface OpenFinding {
  /** The finding's id; a record stored before ids named the account has the old id (no account). */
  readonly id: string;
  /** The finding's account (absent in records stored before ids named it). */
  readonly accountId?: string;
  readonly code: string;
  readonly severity: Severity;
  readonly region: string;
  readonly vpcId: string;
  readonly service?: string;
  readonly resourceId?: string;
  readonly message: string;
  /** ISO times: first and last reconcile that saw it, last alert that named it. */
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly lastAlerted: string;
  /** The last failure to fix it that was alerted, so that the same failure is not re-sent every run. */
  readonly lastFailure?: { readonly message: string; readonly at: string };
}

/** The part of the account a reconcile read: one Region, whole or narrowed to some VPCs. */
export interface ReconcileScope {
  readonly region: string;
  /** Absent: the whole Region was read, so every open finding of it is judged. */
  readonly vpcIds?: readonly string[];
}

export interface AlertInput {
  readonly mode: Mode;
  readonly scope: ReconcileScope;
  /** The findings remembered as open (those outside `scope` are left alone). */
  readonly open: readonly OpenFinding[];
  /** The plan of this scope. */
  readonly plan: Plan;
  /** The apply's results (enforce mode). */
  readonly results?: readonly ActionResult[];
  readonly now: Date;
  /** How long an open finding goes unmentioned before a digest names it again (default one day). */
  readonly digestIntervalMs?: number;
}

export const DEFAULT_DIGEST_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** An action as an alert tells it. */
export interface AlertedAction {
  readonly id: string;
  readonly kind: string;
  readonly summary: string;
  readonly outcome: ActionOutcome;
  readonly resourceId?: string;
  readonly message: string;
}

/** Worst first: a failure, new drift, a fix, a resolution, a reminder. */
export type AlertKind =
  'remediation-failed' | 'drift-detected' | 'drift-fixed' | 'drift-resolved' | 'drift-digest';

/** One alert: everything worth saying about one VPC after one reconcile. */
export interface VpcAlert {
  readonly kind: AlertKind;
  readonly mode: Mode;
  readonly region: string;
  readonly vpcId: string;
  readonly vpcName?: string;
  /** Found now and still open (not fixed in this run). */
  readonly newFindings: readonly Finding[];
  /** Found (now or before) and fixed by this run's actions. */
  readonly fixed: readonly Finding[];
  /** Actions that changed something, and failures worth telling. */
  readonly actions: readonly AlertedAction[];
  /** Remembered as open, gone now without an action of this run. */
  readonly resolved: readonly OpenFinding[];
  /** Remembered as open, still there, not mentioned for a digest interval. */
  readonly stillOpen: readonly OpenFinding[];
}

export interface AlertDecision {
  readonly alerts: readonly VpcAlert[];
  /** Findings to remember as open (new or updated records). */
  readonly put: readonly OpenFinding[];
  /** Findings to forget (fixed or resolved). */
  readonly remove: readonly OpenFinding[];
  /**
   * The open findings remembered, as this reconcile judged them: a record stored under a schema-1 id
   * under the id of the finding it was matched to, with its `firstSeen` (the Security Hub export's
   * `CreatedAt` of a finding it never sent).
   */
  readonly remembered: readonly OpenFinding[];
}

const DONE: ReadonlySet<ActionOutcome> = new Set(['succeeded', 'already-satisfied']);

function inScope(scope: ReconcileScope, finding: { region: string; vpcId: string }): boolean {
  return (
    finding.region === scope.region && (scope.vpcIds === undefined || scope.vpcIds.includes(finding.vpcId))
  );
}

function alertedAction(result: ActionResult, summary: string): AlertedAction {
  return {
    id: result.actionId,
    kind: result.kind,
    summary,
    outcome: result.outcome,
    ...(result.resourceId === undefined ? {} : { resourceId: result.resourceId }),
    message: result.message,
  };
}

function kindOf(alert: Omit<VpcAlert, 'kind'>): AlertKind {
  if (alert.actions.some((action) => action.outcome === 'failed')) return 'remediation-failed';
  if (alert.newFindings.length > 0) return 'drift-detected';
  if (alert.fixed.length > 0) return 'drift-fixed';
  if (alert.resolved.length > 0) return 'drift-resolved';
  return 'drift-digest';
}

function bySeverity<T extends { severity: Severity; id: string }>(items: readonly T[]): T[] {
  return [...items].sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.id.localeCompare(b.id),
  );
}

/**
 * Diffs one reconcile against what was remembered: the alerts to send (one per VPC with anything to
 * say) and the open-finding records to write and delete.
 */
export function decideAlerts(input: AlertInput): AlertDecision {
  const { scope, plan, now } = input;
  const nowIso = now.toISOString();
  const digestMs = input.digestIntervalMs ?? DEFAULT_DIGEST_INTERVAL_MS;
  const due = (iso: string | undefined) => iso === undefined || now.getTime() - Date.parse(iso) >= digestMs;
  // Open findings stored before finding ids named the account (report schema 1) are the same findings
  // under their old ids: matched to this plan's by the id without the account, judged as remembered
  // (not alerted as new), and stored again under the new id, their old record removed.
  const currentByLegacyId = new Map(
    plan.findings.filter((f) => inScope(scope, f)).map((f) => [legacyFindingId(f.id), f.id]),
  );
  const legacyRecords: OpenFinding[] = [];
  const open = new Map<string, OpenFinding>();
  for (const record of input.open.filter((f) => inScope(scope, f))) {
    const renamed = legacyFindingId(record.id) === record.id ? currentByLegacyId.get(record.id) : undefined;
    if (renamed === undefined || renamed === record.id) {
      if (!open.has(record.id)) open.set(record.id, record);
      continue;
    }
    legacyRecords.push(record);
    if (!open.has(renamed)) open.set(renamed, { ...record, id: renamed });
  }
  // Results and actions by account and action id: action ids are unique only within an account.
  const results = new Map((input.results ?? []).map((r) => [actionKey(r.accountId, r.actionId), r]));
  const actionsByKey = new Map(plan.actions.map((a) => [actionKey(a.accountId, a.id), a]));
  // A muted finding is accepted: never alerted, and one muted since it was alerted closes quietly.
  const current = plan.findings.filter((f) => inScope(scope, f) && f.muted === undefined);
  const currentIds = new Set(current.map((f) => f.id));
  const mutedIds = new Set(
    plan.findings.filter((f) => inScope(scope, f) && f.muted !== undefined).map((f) => f.id),
  );

  const put: OpenFinding[] = [];
  const remove: OpenFinding[] = [];
  interface Draft {
    newFindings: Finding[];
    fixed: Finding[];
    /** Action keys (core/actions.ts `actionKey`). */
    actionKeys: Set<string>;
    resolved: OpenFinding[];
    stillOpen: OpenFinding[];
  }
  const drafts = new Map<string, Draft>();
  const draftOf = (vpcId: string): Draft => {
    let draft = drafts.get(vpcId);
    if (!draft) {
      draft = { newFindings: [], fixed: [], actionKeys: new Set(), resolved: [], stillOpen: [] };
      drafts.set(vpcId, draft);
    }
    return draft;
  };
  // Failed actions that fix no remembered finding are told each time they fail.
  const failedActionsTold = new Set<string>();

  for (const finding of current) {
    const before = open.get(finding.id);
    const draft = draftOf(finding.vpcId);
    const fixResults = finding.remediation.actionIds.map((id) =>
      results.get(actionKey(finding.accountId, id)),
    );
    const fixed =
      input.mode === 'enforce' &&
      finding.remediation.status === 'planned' &&
      fixResults.length > 0 &&
      fixResults.every((r) => r !== undefined && DONE.has(r.outcome));
    for (const r of fixResults)
      if (r?.outcome === 'succeeded') draft.actionKeys.add(actionKey(r.accountId, r.actionId));
    if (fixed) {
      draft.fixed.push(finding);
      if (before) remove.push(before);
      continue;
    }
    const failures = fixResults.filter((r) => r !== undefined && !DONE.has(r.outcome));
    const failureMessage = failures.map((r) => `${r?.actionId ?? ''}: ${r?.message ?? ''}`).join('; ');
    const tellFailure =
      failures.some((r) => r?.outcome === 'failed') &&
      (before?.lastFailure?.message !== failureMessage || due(before.lastFailure.at));
    if (tellFailure) {
      for (const r of failures)
        if (r?.outcome === 'failed') failedActionsTold.add(actionKey(r.accountId, r.actionId));
    }
    const isNew = before === undefined;
    const digest = !isNew && !tellFailure && due(before.lastAlerted);
    if (isNew) draft.newFindings.push(finding);
    else if (digest) draft.stillOpen.push(before);
    const alerted = isNew || digest || tellFailure;
    put.push({
      id: finding.id,
      accountId: finding.accountId,
      code: finding.code,
      severity: finding.severity,
      region: finding.region,
      vpcId: finding.vpcId,
      ...(finding.service === undefined ? {} : { service: finding.service }),
      ...(finding.resourceId === undefined ? {} : { resourceId: finding.resourceId }),
      message: finding.message,
      firstSeen: before?.firstSeen ?? nowIso,
      lastSeen: nowIso,
      lastAlerted: alerted ? nowIso : before.lastAlerted,
      ...(failures.length === 0
        ? {}
        : tellFailure
          ? { lastFailure: { message: failureMessage, at: nowIso } }
          : before?.lastFailure
            ? { lastFailure: before.lastFailure }
            : {}),
    });
  }

  for (const before of open.values()) {
    if (currentIds.has(before.id)) continue;
    if (!mutedIds.has(before.id)) draftOf(before.vpcId).resolved.push(before);
    remove.push(before);
  }
  remove.push(...legacyRecords);

  // Actions that fix no finding (a wrong-Region delete) are told when they change or fail.
  for (const [key, result] of results) {
    const action = actionsByKey.get(key);
    if (!action || !inScope(scope, action)) continue;
    if (action.fixes.length === 0 && result.outcome === 'succeeded')
      draftOf(action.vpcId).actionKeys.add(key);
    if (result.outcome === 'failed' && (action.fixes.length === 0 || failedActionsTold.has(key))) {
      draftOf(action.vpcId).actionKeys.add(key);
    }
  }
  for (const key of failedActionsTold) {
    const result = results.get(key);
    if (result) draftOf(result.vpcId).actionKeys.add(key);
  }

  const names = new Map(plan.vpcs.map((vpc) => [`${vpc.region}/${vpc.vpcId}`, vpc.name]));
  const alerts: VpcAlert[] = [];
  for (const [vpcId, draft] of [...drafts].sort(([a], [b]) => a.localeCompare(b))) {
    const actions = [...draft.actionKeys]
      .map((key) => results.get(key))
      .filter((r): r is ActionResult => r !== undefined)
      .map((r) =>
        alertedAction(r, actionsByKey.get(actionKey(r.accountId, r.actionId))?.summary ?? r.actionId),
      );
    const body = {
      mode: input.mode,
      region: scope.region,
      vpcId,
      newFindings: bySeverity(draft.newFindings),
      fixed: bySeverity(draft.fixed),
      actions,
      resolved: bySeverity(draft.resolved),
      stillOpen: bySeverity(draft.stillOpen),
    };
    const empty =
      body.newFindings.length +
        body.fixed.length +
        actions.length +
        body.resolved.length +
        body.stillOpen.length ===
      0;
    if (empty) continue;
    const vpcName = names.get(`${scope.region}/${vpcId}`);
    alerts.push({ kind: kindOf(body), ...body, ...(vpcName === undefined ? {} : { vpcName }) });
  }
  return { alerts, put, remove, remembered: [...open.values()] };
}
