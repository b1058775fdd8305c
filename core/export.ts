/**
 * What the machine formats of findings (ASFF, OCSF, CSV: core/asff.ts, core/ocsf.ts, core/csv.ts) share:
 * the account and partition of a finding, the ARN of what it concerns, and how its state reads
 * (failing, unverifiable, muted, passing). docs/cli.md documents each format.
 */
import type { Finding, Severity } from './findings.ts';
import type { ActionOutcome } from './report.ts';
import { actionKey } from './actions.ts';

/** The tool's name as the formats give it (product, generator, vendor). */
export const PRODUCT_NAME = 'ecs-endpoint-remediator';

/** What a run knows beyond its findings: when it ran, who it is, and which account each Region is. */
export interface ExportContext {
  /** ISO time of the run (the report's `generatedAt`). */
  readonly generatedAt: string;
  /** The tool's version (package.json). */
  readonly toolVersion: string;
  /**
   * The account discovered in each Region (from its ECS ARNs: a Region without ECS work has no
   * findings). Keyed by Region name.
   */
  readonly accounts: Readonly<Record<string, string>>;
}

/** A finding's account could not be known: the formats that need one (ASFF, OCSF) cannot be written. */
export class UnknownAccountError extends Error {
  constructor(finding: Pick<Finding, 'id' | 'region'>) {
    super(
      `the account of finding ${finding.id} is not known (no ECS ARN was read in ${finding.region}): ` +
        'ASFF and OCSF need it',
    );
    this.name = 'UnknownAccountError';
  }
}

/**
 * The account a finding belongs to. The one place this is decided, so that findings carrying their
 * own `accountId` (an organisation-wide run) need a change here only.
 */
export function knownAccount(
  finding: Pick<Finding, 'region'> & { readonly accountId?: string },
  context: Pick<ExportContext, 'accounts'>,
): string | undefined {
  return finding.accountId ?? context.accounts[finding.region];
}

/** {@link knownAccount}, for the formats that need one: throws {@link UnknownAccountError} without. */
export function findingAccount(
  finding: Pick<Finding, 'id' | 'region'> & { readonly accountId?: string },
  context: Pick<ExportContext, 'accounts'>,
): string {
  const account = knownAccount(finding, context);
  if (account === undefined) throw new UnknownAccountError(finding);
  return account;
}

/** The partition of a Region's ARNs. */
export function partitionOf(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** What a resource id names, by its prefix: the types the formats distinguish. */
export type ResourceKind = 'vpc' | 'vpc-endpoint' | 'instance' | 'security-group' | 'subnet' | 'route-table';

const PREFIXES: ReadonlyArray<readonly [string, ResourceKind]> = [
  ['vpce-', 'vpc-endpoint'],
  ['vpc-', 'vpc'],
  ['i-', 'instance'],
  ['sg-', 'security-group'],
  ['subnet-', 'subnet'],
  ['rtb-', 'route-table'],
];

/** An EC2 resource a finding names, with its ARN; undefined for other ids (an ARN is kept as given). */
export interface ExportedResource {
  readonly kind: ResourceKind | 'other';
  readonly id: string;
  readonly arn: string;
}

/** The EC2 resource of an id (`vpc-…`, `vpce-…`, `i-…`, …) in a Region and account. */
export function resourceOf(id: string, region: string, account: string): ExportedResource {
  if (id.startsWith('arn:')) return { kind: 'other', id, arn: id };
  const kind = PREFIXES.find(([prefix]) => id.startsWith(prefix))?.[1];
  if (kind === undefined) return { kind: 'other', id, arn: id };
  return { kind, id, arn: `arn:${partitionOf(region)}:ec2:${region}:${account}:${kind}/${id}` };
}

/**
 * The resources of a finding, subject first: the resource it names (an endpoint, an instance, …) when
 * it names one other than its VPC, then the VPC.
 */
export function findingResources(finding: Finding, account: string): ExportedResource[] {
  const vpc = resourceOf(finding.vpcId, finding.region, account);
  if (finding.resourceId === undefined || finding.resourceId === finding.vpcId) return [vpc];
  return [resourceOf(finding.resourceId, finding.region, account), vpc];
}

/**
 * How a finding reads in a compliance format:
 * - `failed`: drift, not muted;
 * - `unverifiable`: status `unknown`, not muted (the check could not tell);
 * - `muted`: the config's mutelist accepts it (reported, not a failure);
 * - `passed`: no longer found in a scope that was read (the deployed export only: a CLI run reports
 *   what it found).
 */
export type ExportState = 'failed' | 'unverifiable' | 'muted' | 'passed';

export function exportStateOf(finding: Finding): Exclude<ExportState, 'passed'> {
  if (finding.muted !== undefined) return 'muted';
  return finding.status === 'unknown' ? 'unverifiable' : 'failed';
}

/** One line on a muted finding: the rule, its reason and its end. */
export function mutedReason(muted: NonNullable<Finding['muted']>): string {
  return `muted by mutelist rule ${muted.rule}: ${muted.reason}${muted.expires ? ` (until ${muted.expires})` : ''}`;
}

/** The severity as a word the formats map from. */
export const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low'];

/** Cuts `text` to at most `max` characters (an ellipsis marks the cut). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const DONE: ReadonlySet<ActionOutcome> = new Set(['succeeded', 'already-satisfied']);

/**
 * The findings an apply fixed: planned, with every action of the fix done (succeeded or already
 * satisfied). The same rule as the deployed alerts' "fixed" (core/alerts.ts). A finding's fix is
 * looked up among its own account's actions: action ids are unique only within an account.
 */
export function fixedFindingIds(
  findings: readonly Finding[],
  actions: ReadonlyArray<{
    readonly id: string;
    readonly accountId: string;
    readonly result?: { readonly outcome: ActionOutcome };
  }>,
): Set<string> {
  const outcomes = new Map(
    actions.map((action) => [actionKey(action.accountId, action.id), action.result?.outcome]),
  );
  return new Set(
    findings
      .filter(
        (finding) =>
          finding.remediation.status === 'planned' &&
          finding.remediation.actionIds.length > 0 &&
          finding.remediation.actionIds.every((id) => {
            const outcome = outcomes.get(actionKey(finding.accountId, id));
            return outcome !== undefined && DONE.has(outcome);
          }),
      )
      .map((finding) => finding.id),
  );
}
