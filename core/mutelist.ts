/**
 * Exceptions with reasons (config `mutelist`, docs/config.md): findings an operator accepts on purpose.
 * A muted finding is still reported, marked with its reason, but it is not drift, nothing is planned
 * for it, and it is not alerted. What depends on a muted finding's fix stays `blocked`, naming it: a
 * muted `VPC_DNS_DISABLED` does not make endpoints that need VPC DNS worth creating.
 *
 * A rule matches a finding when every selector it has matches (an empty rule is refused): accounts,
 * Regions, VPCs, finding codes, services, resource ids (any of the listed values), and tags (every
 * listed tag on the finding's VPC). A rule with `expires` (a date, UTC) holds through that day; after
 * it the rule mutes nothing, and the findings it matched say that their exception expired.
 */
import * as z from 'zod/mini';
import { FINDING_CODES } from './findings.ts';
import type { Finding } from './findings.ts';
import type { Action } from './actions.ts';

const date = z.string().check(
  z.regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date like 2026-12-31'),
  z.refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'expected a real date'),
);
const nonEmpty = <T extends z.ZodMiniType>(item: T) => z.optional(z.array(item).check(z.minLength(1)));

/** One exception: its selectors, why, and until when. */
export const muteRuleSchema = z
  .strictObject({
    /** Why the findings are accepted: shown with each one it mutes. Required. */
    reason: z.string().check(z.minLength(1), z.maxLength(500)),
    /** The last day (UTC) the rule holds; absent: no end. */
    expires: z.optional(date),
    accounts: nonEmpty(z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit account id'))),
    regions: nonEmpty(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a Region name'))),
    vpcIds: nonEmpty(z.string().check(z.regex(/^vpc-[0-9a-f]+$/, 'expected a VPC id like vpc-0abc123'))),
    codes: nonEmpty(z.enum(FINDING_CODES)),
    services: nonEmpty(z.string().check(z.minLength(1))),
    resourceIds: nonEmpty(z.string().check(z.minLength(1))),
    tags: z.optional(z.record(z.string().check(z.minLength(1)), z.string())),
  })
  .check(
    z.refine(
      (rule) => SELECTORS.some((key) => rule[key] !== undefined),
      `a rule needs at least one of ${['accounts', 'regions', 'vpcIds', 'codes', 'services', 'resourceIds', 'tags'].join(', ')}`,
    ),
  );

export type MuteRule = z.infer<typeof muteRuleSchema>;

const SELECTORS = ['accounts', 'regions', 'vpcIds', 'codes', 'services', 'resourceIds', 'tags'] as const;

/** A finding muted by rule `rule` (its position in `mutelist`). */
export interface Muted {
  readonly rule: number;
  readonly reason: string;
  readonly expires?: string;
}

/** What the mutelist says of one finding: muted, matched only by expired rules, or nothing. */
export type MuteVerdict =
  { readonly muted: Muted } | { readonly expired: Muted & { readonly expires: string } } | undefined;

/** Where a finding is: what its finding does not carry (the account, the VPC's tags). */
export interface FindingPlace {
  readonly accountId?: string;
  readonly vpcTags: Readonly<Record<string, string>>;
}

function matches(rule: MuteRule, finding: Finding, place: FindingPlace): boolean {
  const any = (values: readonly string[] | undefined, value: string | undefined) =>
    values === undefined || (value !== undefined && values.includes(value));
  return (
    any(rule.accounts, place.accountId) &&
    any(rule.regions, finding.region) &&
    any(rule.vpcIds, finding.vpcId) &&
    any(rule.codes, finding.code) &&
    any(rule.services, finding.service) &&
    any(rule.resourceIds, finding.resourceId) &&
    Object.entries(rule.tags ?? {}).every(([key, value]) => place.vpcTags[key] === value)
  );
}

/** Whether a rule expiring on `expires` (YYYY-MM-DD) still holds at `now`: through that whole UTC day. */
export function holds(expires: string | undefined, now: Date): boolean {
  return expires === undefined || now.getTime() < Date.parse(`${expires}T00:00:00Z`) + 24 * 3600_000;
}

/** The first rule that mutes `finding` at `now`; else the first expired one that matched it. */
export function muteVerdict(
  rules: readonly MuteRule[],
  finding: Finding,
  place: FindingPlace,
  now: Date,
): MuteVerdict {
  let expired: (Muted & { expires: string }) | undefined;
  for (const [rule, entry] of rules.entries()) {
    if (!matches(entry, finding, place)) continue;
    const muted = {
      rule,
      reason: entry.reason,
      ...(entry.expires === undefined ? {} : { expires: entry.expires }),
    };
    if (holds(entry.expires, now)) return { muted };
    expired ??= { ...muted, expires: entry.expires ?? '' };
  }
  return expired ? { expired } : undefined;
}

/**
 * The findings and actions of one VPC with the mutelist applied: muted findings marked (remediation
 * `muted`), actions that fix only muted findings dropped, and so is every action that depends on a
 * dropped one; a finding whose fix was dropped that way is `blocked`, naming the muted finding. A
 * finding matched only by expired rules says so and counts as usual.
 */
export function applyMutelist<A extends Action>(
  findings: readonly Finding[],
  actions: readonly A[],
  rules: readonly MuteRule[],
  place: FindingPlace,
  now: Date,
): { readonly findings: Finding[]; readonly actions: A[] } {
  if (rules.length === 0) return { findings: [...findings], actions: [...actions] };
  const verdicts = new Map(findings.map((finding) => [finding.id, muteVerdict(rules, finding, place, now)]));
  const mutedBy = (id: string) => {
    const verdict = verdicts.get(id);
    return verdict && 'muted' in verdict ? verdict.muted : undefined;
  };
  // Action id → the muted finding whose fix it is, or waits for.
  const dropped = new Map<string, string>();
  for (const action of actions) {
    if (action.fixes.length > 0 && action.fixes.every((id) => mutedBy(id) !== undefined))
      dropped.set(action.id, action.fixes[0] ?? '');
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const action of actions) {
      if (dropped.has(action.id)) continue;
      const waitsFor = action.dependsOn.find((id) => dropped.has(id));
      if (waitsFor === undefined) continue;
      dropped.set(action.id, dropped.get(waitsFor) ?? '');
      changed = true;
    }
  }
  const marked = findings.map((finding): Finding => {
    const verdict = verdicts.get(finding.id);
    if (verdict && 'muted' in verdict)
      return {
        ...finding,
        muted: verdict.muted,
        remediation: {
          status: 'muted',
          actionIds: [],
          reason: `${verdict.muted.reason}${verdict.muted.expires === undefined ? '' : ` (until ${verdict.muted.expires})`}`,
        },
      };
    const withExpiry: Finding =
      verdict && 'expired' in verdict ? { ...finding, exceptionExpired: verdict.expired } : finding;
    const { remediation } = withExpiry;
    const lost = remediation.actionIds.filter((id) => dropped.has(id));
    if (lost.length === 0) return withExpiry;
    const kept = remediation.actionIds.filter((id) => !dropped.has(id));
    if (kept.length > 0) return { ...withExpiry, remediation: { ...remediation, actionIds: kept } };
    const blocker = dropped.get(lost[0] ?? '') ?? '';
    return {
      ...withExpiry,
      remediation: {
        status: 'blocked',
        actionIds: [],
        reason: `needs ${blocker} fixed first, which is muted (${mutedBy(blocker)?.reason ?? ''})`,
      },
    };
  });
  return { findings: marked, actions: actions.filter((action) => !dropped.has(action.id)) };
}
