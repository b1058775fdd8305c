/**
 * Findings as OCSF 1.6.0 Compliance Finding events (class_uid 2003, category Findings), the CLI's
 * `--output ocsf`: one event per finding, a JSON array. Contract: schema/ocsf-output.schema.json;
 * test/core/finding-formats.test.ts validates the events against the published OCSF 1.6.0 schema
 * (test/fixtures/ocsf-1.6.0-compliance-finding.json, derived by scripts/ocsf-fixture.ts).
 *
 * Why this version and class: 1.6.0 is the version AWS Security Hub reads its findings in (its user
 * guide, "Security Hub and OCSF"), and Compliance Finding is the class for "results of evaluations
 * performed against resources, to check compliance" with a standard, which is what every check of
 * this tool is (a posture check, not a detection of activity). docs/cli.md documents the mapping.
 */
import type { ExportContext } from './export.ts';
import {
  PRODUCT_NAME,
  exportStateOf,
  findingAccount,
  findingResources,
  mutedReason,
  partitionOf,
} from './export.ts';
import type { Finding, Severity } from './findings.ts';
import { asffId } from './asff.ts';

export const OCSF_VERSION = '1.6.0';
export const OCSF_CATEGORY = { uid: 2, name: 'Findings' } as const;
export const OCSF_CLASS = { uid: 2003, name: 'Compliance Finding' } as const;
/** Every event says a finding was seen now: activity Create (a CLI run is a snapshot, not a stream). */
export const OCSF_ACTIVITY = { id: 1, name: 'Create' } as const;

/** severity_id of each severity (OCSF: 2 Low, 3 Medium, 4 High). */
export const OCSF_SEVERITY: Readonly<Record<Severity, { readonly id: number; readonly name: string }>> = {
  high: { id: 4, name: 'High' },
  medium: { id: 3, name: 'Medium' },
  low: { id: 2, name: 'Low' },
};

/**
 * The finding's status_id: New; Suppressed for a muted finding (the mutelist accepts it); Resolved for
 * one the apply fixed.
 */
export const OCSF_FINDING_STATUS = {
  new: { id: 1, name: 'New' },
  suppressed: { id: 3, name: 'Suppressed' },
  resolved: { id: 4, name: 'Resolved' },
} as const;

/**
 * compliance.status_id: Fail (drift), Warning (status `unknown`: "did not yield a result due to missing
 * information"), Pass (fixed by the apply).
 */
export const OCSF_COMPLIANCE_STATUS = {
  pass: { id: 1, name: 'Pass' },
  warning: { id: 2, name: 'Warning' },
  fail: { id: 3, name: 'Fail' },
} as const;

/** resources[].type of each resource kind: the CloudFormation type names, as AWS sources use. */
const RESOURCE_TYPES: Readonly<Record<string, string>> = {
  vpc: 'AWS::EC2::VPC',
  'vpc-endpoint': 'AWS::EC2::VPCEndpoint',
  instance: 'AWS::EC2::Instance',
  'security-group': 'AWS::EC2::SecurityGroup',
  subnet: 'AWS::EC2::Subnet',
  'route-table': 'AWS::EC2::RouteTable',
  other: 'Other',
};

export interface OcsfComplianceFinding {
  readonly activity_id: number;
  readonly activity_name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly class_uid: number;
  readonly class_name: string;
  readonly type_uid: number;
  readonly type_name: string;
  /** Epoch milliseconds (OCSF timestamp_t). */
  readonly time: number;
  readonly severity_id: number;
  readonly severity: string;
  readonly status_id: number;
  readonly status: string;
  readonly message: string;
  readonly metadata: {
    readonly version: typeof OCSF_VERSION;
    readonly profiles: readonly string[];
    readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string };
  };
  readonly cloud: {
    readonly provider: 'AWS';
    readonly region: string;
    readonly cloud_partition: string;
    readonly account: { readonly uid: string; readonly type_id: 10; readonly type: 'AWS Account' };
  };
  readonly finding_info: {
    readonly uid: string;
    readonly title: string;
    readonly desc: string;
    readonly types: readonly string[];
  };
  readonly compliance: {
    readonly control: string;
    readonly standards: readonly string[];
    readonly status_id: number;
    readonly status: string;
    readonly status_details?: readonly string[];
  };
  readonly remediation: { readonly desc: string };
  readonly resources: ReadonlyArray<{
    readonly uid: string;
    readonly name: string;
    readonly type: string;
    readonly region: string;
    readonly cloud_partition: string;
  }>;
}

function remediationText(finding: Finding): string {
  const { remediation } = finding;
  if (finding.muted !== undefined) return mutedReason(finding.muted);
  const reason = remediation.reason === undefined ? '' : `: ${remediation.reason}`;
  return remediation.status === 'manual'
    ? `Manual fix${reason}`
    : `Fix ${remediation.status}${reason} (ecs-endpoint-remediator apply, or the deployed stack in enforce mode)`;
}

/** One finding as an OCSF Compliance Finding event; `fixed`: the apply fixed it. */
export function toOcsfFinding(
  finding: Finding & { readonly accountId?: string },
  context: ExportContext,
  fixed = false,
): OcsfComplianceFinding {
  const account = findingAccount(finding, context);
  const state = exportStateOf(finding);
  const severity = OCSF_SEVERITY[finding.severity];
  const status = fixed
    ? OCSF_FINDING_STATUS.resolved
    : state === 'muted'
      ? OCSF_FINDING_STATUS.suppressed
      : OCSF_FINDING_STATUS.new;
  const compliance = fixed
    ? OCSF_COMPLIANCE_STATUS.pass
    : finding.status === 'unknown'
      ? OCSF_COMPLIANCE_STATUS.warning
      : OCSF_COMPLIANCE_STATUS.fail;
  const details = [
    ...(finding.statusReason === undefined ? [] : [finding.statusReason]),
    ...(finding.muted === undefined ? [] : [mutedReason(finding.muted)]),
    ...(finding.exceptionExpired === undefined
      ? []
      : [`mutelist rule ${finding.exceptionExpired.rule} expired on ${finding.exceptionExpired.expires}`]),
  ];
  const partition = partitionOf(finding.region);
  return {
    activity_id: OCSF_ACTIVITY.id,
    activity_name: OCSF_ACTIVITY.name,
    category_uid: OCSF_CATEGORY.uid,
    category_name: OCSF_CATEGORY.name,
    class_uid: OCSF_CLASS.uid,
    class_name: OCSF_CLASS.name,
    type_uid: OCSF_CLASS.uid * 100 + OCSF_ACTIVITY.id,
    type_name: `${OCSF_CLASS.name}: ${OCSF_ACTIVITY.name}`,
    time: Date.parse(context.generatedAt),
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    message: finding.message,
    metadata: {
      version: OCSF_VERSION,
      profiles: ['cloud'],
      product: { name: PRODUCT_NAME, vendor_name: PRODUCT_NAME, version: context.toolVersion },
    },
    cloud: {
      provider: 'AWS',
      region: finding.region,
      cloud_partition: partition,
      account: { uid: account, type_id: 10, type: 'AWS Account' },
    },
    finding_info: {
      uid: asffId(finding.id, account),
      title: `${finding.code} in ${finding.vpcId}${finding.service === undefined ? '' : ` (${finding.service})`}`,
      desc: finding.message,
      types: [finding.code],
    },
    compliance: {
      control: finding.code,
      standards: [PRODUCT_NAME],
      status_id: compliance.id,
      status: compliance.name,
      ...(details.length === 0 ? {} : { status_details: details }),
    },
    remediation: { desc: remediationText(finding) },
    resources: findingResources(finding, account).map((resource) => ({
      uid: resource.arn,
      name: resource.id,
      type: RESOURCE_TYPES[resource.kind] ?? 'Other',
      region: finding.region,
      cloud_partition: partition,
    })),
  };
}

/**
 * The `--output ocsf` document: every finding of the run as an event (muted ones Suppressed, those
 * the apply fixed, `fixed` by id, Resolved and Pass).
 */
export function toOcsfReport(
  findings: readonly Finding[],
  context: ExportContext,
  fixed: ReadonlySet<string> = new Set(),
): OcsfComplianceFinding[] {
  return findings.map((finding) => toOcsfFinding(finding, context, fixed.has(finding.id)));
}
