/**
 * The run report: the plan, with each action's result after an apply and the API calls made.
 * Its JSON form is the CLI's `--output json` (a public contract: schema/plan-output.schema.json).
 */
import type { ActionKind } from './actions.ts';
import { actionKey } from './actions.ts';
import type { Plan, PlanStats, PlannedAction } from './plan.ts';

/**
 * - `succeeded`: the change was made;
 * - `already-satisfied`: AWS already had what the action wanted (another run made it);
 * - `failed`: AWS refused or erred (`message` says why);
 * - `skipped`: not attempted: it was deferred, or an action it waits for did not succeed.
 */
export type ActionOutcome = 'succeeded' | 'already-satisfied' | 'failed' | 'skipped';

export const ACTION_OUTCOMES: readonly ActionOutcome[] = [
  'succeeded',
  'already-satisfied',
  'failed',
  'skipped',
];

/** What a RESTART_AGENT did to one instance. */
export interface InstanceOutcome {
  readonly ec2InstanceId: string;
  readonly outcome: 'restarted' | 'failed' | 'skipped';
  /** What ran, why it failed (with the command output's last lines), or why it was skipped. */
  readonly message: string;
}

export interface ActionResult {
  readonly actionId: string;
  /**
   * The account whose action it is: action ids are unique only within an account (a VPC shared through
   * AWS RAM has the same id in its owner's and its participants' plans), so a result is matched to its
   * action by both ({@link actionKey}).
   */
  readonly accountId: string;
  readonly kind: ActionKind;
  readonly region: string;
  readonly vpcId: string;
  readonly outcome: ActionOutcome;
  /** The resource made or found (endpoint or security group id). */
  readonly resourceId?: string;
  readonly message: string;
  /** RESTART_AGENT: the outcome of each instance. */
  readonly instances?: readonly InstanceOutcome[];
  /**
   * RESTART_AGENT in the deployed reconciler's steps (aws/restart.ts): some instances' restarts are
   * under way (`skipped` as such); a later invocation continues them after this many seconds. Not in
   * the CLI's JSON output: the CLI waits its restarts out.
   */
  readonly continueAfterSeconds?: number;
}

/** API calls sent, in total and per service (`ec2`, `ecs`) and operation (`ec2:DescribeVpcEndpoints`). */
export interface ApiCallCounts {
  readonly total: number;
  readonly byService: Readonly<Record<string, number>>;
  readonly byOperation: Readonly<Record<string, number>>;
}

/** Several counts of API calls as one: totals, and per service and per operation. */
export function sumApiCallCounts(all: readonly ApiCallCounts[]): ApiCallCounts {
  const byService: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  let total = 0;
  for (const counts of all) {
    total += counts.total;
    for (const [key, count] of Object.entries(counts.byService))
      byService[key] = (byService[key] ?? 0) + count;
    for (const [key, count] of Object.entries(counts.byOperation))
      byOperation[key] = (byOperation[key] ?? 0) + count;
  }
  return { total, byService, byOperation };
}

export type ReportedAction = PlannedAction & {
  readonly result?: Pick<ActionResult, 'outcome' | 'resourceId' | 'message' | 'instances'>;
};

export interface RunReport extends Omit<Plan, 'actions' | 'stats'> {
  readonly command: 'plan' | 'apply';
  readonly actions: readonly ReportedAction[];
  readonly stats: PlanStats & {
    readonly apiCalls: ApiCallCounts;
    /** After an apply: how many actions ended in each outcome. */
    readonly applied?: Readonly<Record<ActionOutcome, number>>;
  };
}

export function toReport(
  command: RunReport['command'],
  plan: Plan,
  apiCalls: ApiCallCounts,
  results?: readonly ActionResult[],
): RunReport {
  const byAction = new Map(
    (results ?? []).map((result) => [actionKey(result.accountId, result.actionId), result]),
  );
  const actions = plan.actions.map((action): ReportedAction => {
    const result = byAction.get(actionKey(action.accountId, action.id));
    if (!result) return action;
    return {
      ...action,
      result: {
        outcome: result.outcome,
        message: result.message,
        ...(result.resourceId === undefined ? {} : { resourceId: result.resourceId }),
        ...(result.instances === undefined ? {} : { instances: result.instances }),
      },
    };
  });
  const applied = results
    ? (Object.fromEntries(
        ACTION_OUTCOMES.map((outcome) => [
          outcome,
          results.filter((result) => result.outcome === outcome).length,
        ]),
      ) as Record<ActionOutcome, number>)
    : undefined;
  return { ...plan, command, actions, stats: { ...plan.stats, apiCalls, ...(applied ? { applied } : {}) } };
}

/** True when every action of an apply succeeded or was already satisfied. */
export function applySucceeded(results: readonly ActionResult[]): boolean {
  return results.every((result) => result.outcome === 'succeeded' || result.outcome === 'already-satisfied');
}
