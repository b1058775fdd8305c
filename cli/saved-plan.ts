/**
 * Saved plans (`plan --out FILE`, then `apply --plan FILE`; docs/cli.md, "Saved plans"), as Terraform's
 * `plan -out` / `apply planfile`: the reviewed plan is the one applied, or nothing of it is.
 *
 * A plan file is untrusted input. It is bound to what it was made for (the accounts and Regions, the
 * config's hash, this tool's version) and refused past its age; it is read with a schema; and it is
 * never executed as written: `apply --plan` plans afresh with the current config (ownership, caps and
 * config gates all apply again) and runs only the fresh actions that equal a saved, planned one. A
 * saved action that is no longer needed, or whose content changed (its precondition moved), is
 * skipped and reported, never applied blindly; a fresh action the file does not hold is left for the
 * next plan.
 */
import * as z from 'zod/mini';
import type { Config } from '../core/config.ts';
import { fnv1a64 } from '../core/hash.ts';
import type { Plan, PlannedAction } from '../core/plan.ts';

export const PLAN_FILE_KIND = 'ecs-endpoint-remediator/plan';
/** 2: the plan is report schema 2 (each action names its account, finding ids the account). */
export const PLAN_FILE_VERSION = 2;

export interface PlanFile {
  readonly kind: typeof PLAN_FILE_KIND;
  readonly version: typeof PLAN_FILE_VERSION;
  readonly toolVersion: string;
  readonly createdAt: string;
  /**
   * The accounts the plan was made in: those the run named (`--accounts`, the organisation) and those
   * discovery saw (the ECS ARNs); empty when none showed. Each action names its own (`accountId`).
   */
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  /** {@link configHash} of the config the plan was made with. */
  readonly configHash: string;
  readonly plan: Plan;
}

/** A plan file refused: `problems` say each reason. Nothing is applied. */
export class PlanFileError extends Error {
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super(`${file}: not applied:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlanFileError';
    this.problems = problems;
  }
}

/** The config's fingerprint: the same document (after defaults) gives the same hash. */
export function configHash(config: Config): string {
  return fnv1a64(JSON.stringify(config));
}

export function toPlanFile(
  plan: Plan,
  binding: Omit<PlanFile, 'kind' | 'version' | 'plan' | 'createdAt'>,
): PlanFile {
  return { kind: PLAN_FILE_KIND, version: PLAN_FILE_VERSION, createdAt: plan.generatedAt, ...binding, plan };
}

/** What a plan file must look like: its envelope strictly, each action loosely (it is never run as read). */
const planFileSchema = z.strictObject({
  kind: z.literal(PLAN_FILE_KIND),
  version: z.literal(PLAN_FILE_VERSION),
  toolVersion: z.string(),
  createdAt: z.iso.datetime(),
  accounts: z.array(z.string().check(z.regex(/^\d{12}$/))),
  regions: z.array(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/))).check(z.minLength(1)),
  configHash: z.string().check(z.regex(/^[0-9a-f]{16}$/)),
  plan: z.looseObject({
    generatedAt: z.iso.datetime(),
    regions: z.array(z.string()),
    findings: z.array(z.looseObject({ id: z.string(), code: z.string() })),
    actions: z.array(
      z.looseObject({
        id: z.string().check(z.minLength(1)),
        accountId: z.string().check(z.regex(/^\d{12}$/)),
        kind: z.string(),
        region: z.string(),
        vpcId: z.string(),
        status: z.enum(['planned', 'deferred']),
        fixes: z.array(z.string()),
        dependsOn: z.array(z.string()),
      }),
    ),
  }),
});

/** What `apply --plan` checks the file against: the run it is about to make. */
export interface PlanFileExpectation {
  readonly toolVersion: string;
  readonly configHash: string;
  readonly regions: readonly string[];
  readonly maxAgeMinutes: number;
  readonly now: Date;
}

/** Reads and checks a plan file's text; throws {@link PlanFileError} naming every problem. */
export function readPlanFile(file: string, text: string, expected: PlanFileExpectation): PlanFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(file, [
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    ]);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (
    typeof json === 'object' &&
    json !== null &&
    (json as { kind?: unknown }).kind === PLAN_FILE_KIND &&
    typeof version === 'number' &&
    version !== PLAN_FILE_VERSION
  )
    throw new PlanFileError(file, [
      `a plan file of version ${version}, this tool reads version ${PLAN_FILE_VERSION} (actions name their account since 2): plan again`,
    ]);
  const parsed = planFileSchema.safeParse(json);
  if (!parsed.success)
    throw new PlanFileError(
      file,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  const saved = parsed.data as unknown as PlanFile;
  const problems: string[] = [];
  if (saved.toolVersion !== expected.toolVersion)
    problems.push(`made by version ${saved.toolVersion}, this is ${expected.toolVersion}: plan again`);
  if (saved.configHash !== expected.configHash)
    problems.push('made with another config (its hash differs): plan again with this one');
  const regions = (list: readonly string[]) => [...new Set(list)].sort().join(', ');
  if (regions(saved.regions) !== regions(expected.regions))
    problems.push(`made for ${regions(saved.regions)}, this run is for ${regions(expected.regions)}`);
  const ageMinutes = (expected.now.getTime() - Date.parse(saved.createdAt)) / 60_000;
  if (ageMinutes > expected.maxAgeMinutes)
    problems.push(
      `made ${Math.floor(ageMinutes)} minutes ago, more than --max-plan-age ${expected.maxAgeMinutes}: plan again`,
    );
  if (ageMinutes < -5) problems.push(`made in the future (${saved.createdAt})`);
  if (problems.length > 0) throw new PlanFileError(file, problems);
  return saved;
}

/** Checks the accounts the fresh discovery saw against the file's (when both are known). */
export function accountProblems(saved: PlanFile, accounts: readonly string[]): string[] {
  const list = (ids: readonly string[]) => [...new Set(ids)].sort().join(', ');
  if (saved.accounts.length === 0 || accounts.length === 0 || list(saved.accounts) === list(accounts))
    return [];
  return [`made in account ${list(saved.accounts)}, these credentials reach ${list(accounts)}`];
}

/** A saved action `apply --plan` does not run, and why. */
export interface SkippedSavedAction {
  readonly action: Pick<PlannedAction, 'id' | 'accountId' | 'kind' | 'region' | 'vpcId'>;
  /** `gone`: a fresh plan no longer needs it (fixed meanwhile); `changed`: needed, but not as saved. */
  readonly why: 'gone' | 'changed' | 'deferred';
  readonly message: string;
}

/** An action as compared: without its status and its time-windowed ClientToken. */
function comparable(action: object): string {
  const rest = Object.fromEntries(
    Object.entries(action).filter(([key]) => !['status', 'deferredReason', 'clientToken'].includes(key)),
  );
  return canonical(rest);
}

/** JSON with every object's keys sorted, at every depth. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * The fresh plan narrowed to the saved one: a fresh action runs only when the file holds the same
 * action, planned; every other fresh action is deferred ("not in the saved plan"). Returns it with the
 * saved actions that will not run.
 */
export function narrowToSaved(
  fresh: Plan,
  saved: Plan,
): { readonly plan: Plan; readonly skipped: readonly SkippedSavedAction[]; readonly notSaved: number } {
  // Action ids are unique within an account: keyed by both.
  const keyOf = (action: Pick<PlannedAction, 'accountId' | 'id'>) => `${action.accountId}/${action.id}`;
  const savedById = new Map(saved.actions.map((action) => [keyOf(action), action]));
  const freshById = new Map(fresh.actions.map((action) => [keyOf(action), action]));
  const skipped: SkippedSavedAction[] = [];
  for (const action of saved.actions) {
    if (action.status !== 'planned') continue;
    const now = freshById.get(keyOf(action));
    if (!now)
      skipped.push({ action, why: 'gone', message: 'no longer needed: a fresh plan does not have it' });
    else if (comparable(now) !== comparable(action))
      skipped.push({
        action,
        why: 'changed',
        message: 'changed since the plan was saved: plan again to review it',
      });
    else if (now.status !== 'planned')
      skipped.push({ action, why: 'deferred', message: `deferred now: ${now.deferredReason ?? ''}` });
  }
  const skippedIds = new Set(skipped.map((s) => keyOf(s.action)));
  let notSaved = 0;
  const actions = fresh.actions.map((action): PlannedAction => {
    if (action.status !== 'planned') return action;
    const was = savedById.get(keyOf(action));
    if (was?.status === 'planned' && !skippedIds.has(keyOf(action))) return action;
    notSaved += 1;
    return {
      ...action,
      status: 'deferred',
      deferredReason: skippedIds.has(keyOf(action))
        ? 'changed since the plan was saved'
        : 'not in the saved plan: plan again to review it',
    };
  });
  return { plan: { ...fresh, actions }, skipped, notSaved };
}
