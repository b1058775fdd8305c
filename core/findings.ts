/**
 * Findings: what is wrong, as a public contract. Codes keep their meaning once published
 * (docs/findings.md documents each); new codes may be added.
 */

export const FINDING_CODES = [
  'ENDPOINT_MISSING',
  'ENDPOINT_NOT_AVAILABLE',
  'ENDPOINT_PRIVATE_DNS_DISABLED',
  'ENDPOINT_AZ_GAP',
  'ENDPOINT_AZ_NOT_OFFERED',
  'ENDPOINT_SERVICE_NOT_OFFERED',
  'ENDPOINT_SG_NO_HTTPS',
  'ENDPOINT_WRONG_REGION',
  'S3_GATEWAY_ROUTE_MISSING',
  'VPC_DNS_DISABLED',
  'VPC_CUSTOM_DNS',
  'AGENT_OUTDATED',
  'AGENT_RESTART_REQUIRED',
  'SSM_UNREACHABLE',
  'ENDPOINT_IP_TYPE_MISMATCH',
  'ENDPOINT_POLICY_DENIES',
  'CENTRAL_DNS_RECORD_MISSING',
  'CENTRAL_ENDPOINT_UNREACHABLE',
  'SHARED_VPC_UNVERIFIABLE',
  'NEED_UNKNOWN',
  'WORKLOAD_SG_NO_HTTPS_EGRESS',
  'ENDPOINT_UNUSED',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

/** What each code means, in one line (`--list-checks`; docs/findings.md has the full text). */
export const FINDING_SUMMARIES: Readonly<Record<FindingCode, string>> = {
  ENDPOINT_MISSING:
    "an endpoint the VPC's ECS work needs does not exist, and no private hosted zone serves its name",
  ENDPOINT_NOT_AVAILABLE:
    'the endpoint exists but is not available (pending, failed, rejected): it carries no traffic',
  ENDPOINT_PRIVATE_DNS_DISABLED:
    'the interface endpoint has private DNS off: callers still resolve the public name',
  ENDPOINT_AZ_GAP: 'the endpoint has no subnet in an Availability Zone where its callers run',
  ENDPOINT_AZ_NOT_OFFERED: 'the endpoint service is not offered in an Availability Zone where ECS runs',
  ENDPOINT_SERVICE_NOT_OFFERED: 'the Region does not offer the endpoint service the work needs',
  ENDPOINT_SG_NO_HTTPS: 'no security group of the endpoint admits TCP 443 from an interface that calls it',
  ENDPOINT_WRONG_REGION: "an endpoint names another Region's service: it carries none of this Region's calls",
  S3_GATEWAY_ROUTE_MISSING:
    "a workload subnet's route table has no route to the S3 gateway endpoint (image layers)",
  VPC_DNS_DISABLED: 'enableDnsSupport or enableDnsHostnames is off: private DNS of endpoints cannot work',
  VPC_CUSTOM_DNS: "the VPC's DHCP options use other DNS servers: endpoint names may not resolve privately",
  AGENT_OUTDATED: 'the ECS agent is older than the version that supports the ECS interface endpoints',
  AGENT_RESTART_REQUIRED:
    "the agent started before the VPC's ECS endpoints changed: it still uses the old path",
  SSM_UNREACHABLE: 'SSM cannot reach the instance, so its agent cannot be restarted through Run Command',
  ENDPOINT_IP_TYPE_MISMATCH:
    "the endpoint's IP address type does not serve the IPv6 (or IPv4) callers that need it",
  ENDPOINT_POLICY_DENIES: 'the endpoint policy denies a call the work makes through it',
  CENTRAL_DNS_RECORD_MISSING:
    "the central (hub) zone has no record for the service's name: calls miss the hub endpoint",
  CENTRAL_ENDPOINT_UNREACHABLE:
    'the hub endpoint the VPC resolves to cannot be reached from its workload subnets',
  SHARED_VPC_UNVERIFIABLE:
    "the VPC is shared by another account: its endpoints are out of this account's sight",
  NEED_UNKNOWN: 'what a need calls cannot be known (a FireLens config file): its endpoints cannot be checked',
  WORKLOAD_SG_NO_HTTPS_EGRESS: "a workload's security groups do not allow outbound TCP 443 to the endpoints",
  ENDPOINT_UNUSED:
    "an endpoint the remediator owns serves no need of the VPC's ECS work: it costs money for nothing",
};

/** `high`: the workload breaks (no internet egress); `medium`: traffic leaves the AWS network; `low`: advisory. */
export type Severity = 'high' | 'medium' | 'low';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { high: 0, medium: 1, low: 2 };

/**
 * What the plan does about a finding:
 * - `planned`: actions in this plan fix it (`actionIds`);
 * - `deferred`: a fix exists but a blast-radius cap held it back this run;
 * - `blocked`: a fix exists but another finding must be fixed first (`reason` names it);
 * - `disabled`: a fix exists but the config leaves it off;
 * - `manual`: the remediator does not fix this; the message says what to do;
 * - `muted`: the config's mutelist accepts it (`reason` says why): nothing is planned for it.
 */
export const REMEDIATION_STATUSES = [
  'planned',
  'deferred',
  'blocked',
  'disabled',
  'manual',
  'muted',
] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];

export interface Remediation {
  readonly status: RemediationStatus;
  readonly actionIds: readonly string[];
  readonly reason?: string;
}

/**
 * - `drift`: the check established the problem;
 * - `unknown`: the check could not establish whether the problem exists (a read it needs was refused,
 *   or the truth is out of this account's sight); `statusReason` says why. Nothing is planned for it.
 */
export const FINDING_STATUSES = ['drift', 'unknown'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export interface Finding {
  /**
   * Stable across runs while the same problem persists: `<code>/<accountId>/<region>/<vpcId>/<subject>`.
   * The account is part of it since report schema 2: a VPC shared through AWS RAM is seen from its owner
   * and from each participant, and each sees findings of its own there. Schema 1's ids had no account
   * ({@link legacyFindingId}).
   */
  readonly id: string;
  /** The account whose view the finding is (the account discovered, not the VPC's owner). */
  readonly accountId: string;
  readonly code: FindingCode;
  readonly status: FindingStatus;
  /** With status `unknown`: what could not be verified, and why. */
  readonly statusReason?: string;
  readonly severity: Severity;
  readonly region: string;
  readonly vpcId: string;
  /** Short service name after the Region (`ecs-agent`, `ecr.dkr`, `s3`) where it concerns an endpoint. */
  readonly service?: string;
  /** The endpoint, instance or other resource concerned, where one exists. */
  readonly resourceId?: string;
  /** One line: what is wrong and what breaks because of it. */
  readonly message: string;
  readonly remediation: Remediation;
  /**
   * Accepted by the config's mutelist (rule `rule`, its position): reported, but not drift, not
   * remedied, not alerted.
   */
  readonly muted?: { readonly rule: number; readonly reason: string; readonly expires?: string };
  /** Matched only by mutelist rules that expired (`expires`, the rule's last day): it counts again. */
  readonly exceptionExpired?: { readonly rule: number; readonly reason: string; readonly expires: string };
}

/**
 * A finding's key within its account: `<code>/<region>/<vpcId>/<subject>`. The planner links findings
 * and actions by it; {@link qualifiedFindingId} makes it the finding's id. It is also what report
 * schema 1 called the id.
 */
export function findingKey(
  code: FindingCode,
  region: string,
  vpcId: string,
  subject: string | undefined,
): string {
  return [code, region, vpcId, subject ?? '-'].join('/');
}

/** The stable id of a finding: `<code>/<accountId>/<region>/<vpcId>/<subject>`. */
export function findingId(
  code: FindingCode,
  accountId: string,
  region: string,
  vpcId: string,
  subject: string | undefined,
): string {
  return qualifiedFindingId(findingKey(code, region, vpcId, subject), accountId);
}

/** A {@link findingKey} with the account after the code: the finding's id. */
export function qualifiedFindingId(key: string, accountId: string): string {
  const slash = key.indexOf('/');
  return `${key.slice(0, slash)}/${accountId}${key.slice(slash)}`;
}

/**
 * The id the same finding had before ids named the account (report schema 1, and the open findings the
 * deployed stack stored then): the id without its account. An id without an account is returned as is.
 */
export function legacyFindingId(id: string): string {
  return id.replace(/^([A-Z0-9_]+)\/\d{12}\//, '$1/');
}
