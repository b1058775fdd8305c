/**
 * Findings in the AWS Security Finding Format (ASFF), for Security Hub's `BatchImportFindings`: the
 * CLI's `--output asff` and the deployed stack's opt-in export (aws/securityhub-export.ts). The shape
 * is the Security Hub API model's `AwsSecurityFinding` (test/core/finding-formats.test.ts validates it
 * against the model); its contract is schema/asff-output.schema.json. docs/cli.md documents the
 * mapping.
 *
 * What the provider owns and what the customer owns: `Workflow`, `Note`, `UserDefinedFields` and
 * `VerificationState` are the customer's (BatchImportFindings cannot change them once a finding
 * exists), so none is ever sent. Severity and Types go in `FindingProviderFields`, where a provider
 * may keep updating them (the top-level copies are filled on creation, as Security Hub does).
 */
import type { ExportContext, ExportState, ExportedResource } from './export.ts';
import {
  PRODUCT_NAME,
  exportStateOf,
  findingAccount,
  findingResources,
  mutedReason,
  partitionOf,
  truncate,
} from './export.ts';
import type { Finding, Severity } from './findings.ts';

/** The ASFF version Security Hub takes. */
export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** The API model's enumerations this mapping draws from (schema/asff-output.schema.json holds them). */
export const ASFF_SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH'] as const;
export const ASFF_COMPLIANCE_STATUSES = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'] as const;
export const ASFF_RECORD_STATES = ['ACTIVE', 'ARCHIVED'] as const;
export const ASFF_RESOURCE_TYPES = [
  'AwsEc2Vpc',
  'AwsEc2Instance',
  'AwsEc2SecurityGroup',
  'AwsEc2Subnet',
  'AwsEc2RouteTable',
  'Other',
] as const;

export type AsffSeverityLabel = (typeof ASFF_SEVERITY_LABELS)[number];
export type AsffComplianceStatus = (typeof ASFF_COMPLIANCE_STATUSES)[number];
export type AsffRecordState = (typeof ASFF_RECORD_STATES)[number];
export type AsffResourceType = (typeof ASFF_RESOURCE_TYPES)[number];

/** The finding type (`namespace/category/classifier`) of every finding of this tool. */
export const ASFF_FINDING_TYPE =
  'Software and Configuration Checks/AWS Security Best Practices/ECS interface VPC endpoints';

/** `StatusReasons[].ReasonCode` of a muted and of an unverifiable finding. */
export const ASFF_REASON_CODES = { muted: 'MUTED', unverifiable: 'UNVERIFIABLE' } as const;

/** The members of `AwsSecurityFinding` this tool sends. */
export interface AsffFinding {
  readonly SchemaVersion: typeof ASFF_SCHEMA_VERSION;
  readonly Id: string;
  readonly ProductArn: string;
  readonly ProductName: string;
  readonly GeneratorId: string;
  readonly AwsAccountId: string;
  readonly Region: string;
  readonly Types: readonly string[];
  readonly FirstObservedAt: string;
  readonly LastObservedAt: string;
  readonly CreatedAt: string;
  readonly UpdatedAt: string;
  readonly Severity: { readonly Label: AsffSeverityLabel; readonly Original: string };
  readonly FindingProviderFields: {
    readonly Severity: { readonly Label: AsffSeverityLabel; readonly Original: string };
    readonly Types: readonly string[];
  };
  readonly Title: string;
  readonly Description: string;
  readonly Remediation: { readonly Recommendation: { readonly Text: string } };
  readonly ProductFields: Readonly<Record<string, string>>;
  readonly Resources: ReadonlyArray<{
    readonly Type: AsffResourceType;
    readonly Id: string;
    readonly Partition: ReturnType<typeof partitionOf>;
    readonly Region: string;
  }>;
  readonly Compliance: {
    readonly Status: AsffComplianceStatus;
    readonly StatusReasons?: ReadonlyArray<{ readonly ReasonCode: string; readonly Description: string }>;
  };
  readonly RecordState: AsffRecordState;
}

/** The `--output asff` document: the request body of BatchImportFindings (at most 100 per call). */
export interface AsffReport {
  readonly Findings: readonly AsffFinding[];
}

const LABELS: Readonly<Record<Severity, AsffSeverityLabel>> = { high: 'HIGH', medium: 'MEDIUM', low: 'LOW' };

const COMPLIANCE: Readonly<Record<Exclude<ExportState, 'passed'>, AsffComplianceStatus>> = {
  failed: 'FAILED',
  // The check could not establish the truth: "some information is missing" (ASFF's WARNING is for
  // that; NOT_AVAILABLE is for a check that could not run at all).
  unverifiable: 'WARNING',
  // Accepted on purpose: not a failure. WARNING with the reason, not PASSED (the problem is there).
  muted: 'WARNING',
};

const RESOURCE_TYPES: Readonly<Record<ExportedResource['kind'], AsffResourceType>> = {
  vpc: 'AwsEc2Vpc',
  instance: 'AwsEc2Instance',
  'security-group': 'AwsEc2SecurityGroup',
  subnet: 'AwsEc2Subnet',
  'route-table': 'AwsEc2RouteTable',
  // ASFF has no type for an interface or gateway endpoint (AwsEc2VpcEndpointService is a provider's).
  'vpc-endpoint': 'Other',
  other: 'Other',
};

/** The account's default product ARN in a Region: findings of a custom integration go there. */
export function defaultProductArn(region: string, account: string): string {
  return `arn:${partitionOf(region)}:securityhub:${region}:${account}:product/${account}/default`;
}

/** The ASFF `Id` of a finding: stable while the finding is (its id is), unique across accounts. */
export function asffId(findingId: string, account: string): string {
  return `${PRODUCT_NAME}/${account}/${findingId}`;
}

/** ASFF's limits on the text members (the Security Hub user guide's ASFF attribute table). */
const LIMITS = { title: 256, description: 1024, recommendation: 512 } as const;

function recommendation(finding: Finding): string {
  const { remediation } = finding;
  if (finding.muted !== undefined) return truncate(mutedReason(finding.muted), LIMITS.recommendation);
  const reason = remediation.reason === undefined ? '' : `: ${remediation.reason}`;
  const text =
    remediation.status === 'manual'
      ? `Manual fix${reason}`
      : `Fix ${remediation.status}${reason}. ecs-endpoint-remediator apply (or the deployed stack in enforce mode) makes it${
          remediation.actionIds.length > 0 ? ` (actions ${remediation.actionIds.join(', ')})` : ''
        }.`;
  return truncate(text, LIMITS.recommendation);
}

/** When a finding was first and last seen, for the ASFF timestamps. */
export interface AsffTimes {
  /** `CreatedAt` and `FirstObservedAt`: the first time the finding was seen (else this run's). */
  readonly createdAt: string;
  /** `UpdatedAt` and `LastObservedAt`: this run. */
  readonly updatedAt: string;
}

/**
 * A finding as ASFF: failing (`FAILED`), unverifiable or muted (`WARNING`, with a reason), always
 * `ACTIVE`. See {@link resolvedAsff} for one fixed or gone.
 */
export function toAsffFinding(
  finding: Finding & { readonly accountId?: string },
  context: Pick<ExportContext, 'accounts'>,
  times: AsffTimes,
): AsffFinding {
  const account = findingAccount(finding, context);
  const state = exportStateOf(finding);
  const label = state === 'muted' ? 'INFORMATIONAL' : LABELS[finding.severity];
  const severity = { Label: label, Original: finding.severity };
  const reasons =
    state === 'muted' && finding.muted !== undefined
      ? [{ ReasonCode: ASFF_REASON_CODES.muted, Description: truncate(mutedReason(finding.muted), 1024) }]
      : state === 'unverifiable'
        ? [
            {
              ReasonCode: ASFF_REASON_CODES.unverifiable,
              Description: truncate(finding.statusReason ?? 'the check could not establish the truth', 1024),
            },
          ]
        : undefined;
  const productFields: Record<string, string> = {
    [`${PRODUCT_NAME}/findingId`]: finding.id,
    [`${PRODUCT_NAME}/code`]: finding.code,
    [`${PRODUCT_NAME}/status`]: finding.status,
    [`${PRODUCT_NAME}/remediation`]: finding.remediation.status,
    [`${PRODUCT_NAME}/vpcId`]: finding.vpcId,
    ...(finding.service === undefined ? {} : { [`${PRODUCT_NAME}/service`]: finding.service }),
  };
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: asffId(finding.id, account),
    ProductArn: defaultProductArn(finding.region, account),
    ProductName: PRODUCT_NAME,
    GeneratorId: `${PRODUCT_NAME}/${finding.code}`,
    AwsAccountId: account,
    Region: finding.region,
    Types: [ASFF_FINDING_TYPE],
    FirstObservedAt: times.createdAt,
    LastObservedAt: times.updatedAt,
    CreatedAt: times.createdAt,
    UpdatedAt: times.updatedAt,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: [ASFF_FINDING_TYPE] },
    Title: truncate(
      `${finding.code} in ${finding.vpcId}${finding.service === undefined ? '' : ` (${finding.service})`}`,
      LIMITS.title,
    ),
    Description: truncate(finding.message, LIMITS.description),
    Remediation: { Recommendation: { Text: recommendation(finding) } },
    ProductFields: productFields,
    Resources: findingResources(finding, account).map((resource) => ({
      Type: RESOURCE_TYPES[resource.kind],
      Id: resource.arn,
      Partition: partitionOf(finding.region),
      Region: finding.region,
    })),
    Compliance: { Status: COMPLIANCE[state], ...(reasons === undefined ? {} : { StatusReasons: reasons }) },
    RecordState: 'ACTIVE',
  };
}

/**
 * An exported finding that is no longer found, as its update: `passed` (its VPC was read and the
 * problem is gone: `Compliance.Status` PASSED, severity INFORMATIONAL, still ACTIVE, as Security Hub's
 * own controls do) or `archived` (its VPC is gone or has no ECS work any more: `RecordState` ARCHIVED).
 */
export function resolvedAsff(exported: AsffFinding, how: 'passed' | 'archived', at: string): AsffFinding {
  const base = { ...exported, UpdatedAt: at };
  if (how === 'archived') return { ...base, RecordState: 'ARCHIVED' };
  const severity = {
    Label: 'INFORMATIONAL' as const,
    Original: exported.FindingProviderFields.Severity.Original,
  };
  return {
    ...base,
    LastObservedAt: at,
    Severity: severity,
    FindingProviderFields: { ...exported.FindingProviderFields, Severity: severity },
    Compliance: { Status: 'PASSED' },
    RecordState: 'ACTIVE',
  };
}

/**
 * The `--output asff` document of a run's findings: every one, muted ones as WARNING, those the apply
 * fixed (`fixed`, their ids) as PASSED.
 */
export function toAsffReport(
  findings: readonly Finding[],
  context: ExportContext,
  fixed: ReadonlySet<string> = new Set(),
): AsffReport {
  const at = context.generatedAt;
  const times = { createdAt: at, updatedAt: at };
  return {
    Findings: findings.map((finding) => {
      const exported = toAsffFinding(finding, context, times);
      return fixed.has(finding.id) ? resolvedAsff(exported, 'passed', at) : exported;
    }),
  };
}
