/**
 * Pure parts of the benchmark report: the remediator's findings against Cloud Custodian's, the
 * ratio to the lower bound, medians. No I/O (tested in test/bench/).
 */
import { FINDING_CODES } from '../core/findings.ts';
import type { FindingCode } from '../core/findings.ts';

/** The endpoint services the Custodian policies (bench/custodian/ecs-endpoints.yml) look for. */
export const CUSTODIAN_SERVICES = [
  'ecs-agent',
  'ecs-telemetry',
  'ecs',
  'ecr.api',
  'ecr.dkr',
  's3',
  'logs',
  'secretsmanager',
  'ssm',
] as const;

/**
 * The finding codes of the one detection both tools can express: a VPC lacks an available endpoint
 * of a service (Custodian's policies flag exactly that, for every VPC).
 */
export const SHARED_DETECTION_CODES: readonly FindingCode[] = ['ENDPOINT_MISSING', 'ENDPOINT_NOT_AVAILABLE'];

/** Whether a finding code belongs to the shared detection. */
function isSharedDetection(code: string): boolean {
  return (SHARED_DETECTION_CODES as readonly string[]).includes(code);
}

/** Our config for the shared subset: every other check disabled, with the reads only they need. */
export function sharedSubsetConfig(): { checks: { disabled: FindingCode[] } } {
  return { checks: { disabled: FINDING_CODES.filter((code) => !isSharedDetection(code)) } };
}

/**
 * The reads of the lower bound (bench/lower-bound.ts) that discovery skips under
 * {@link sharedSubsetConfig}: the VPC DNS attributes and DHCP options (only the DNS checks use them)
 * and the standalone tasks' ENIs (only ENDPOINT_SG_NO_HTTPS). The Route 53 and Resolver reads stay:
 * ENDPOINT_MISSING depends on how each VPC resolves service names.
 */
export const SHARED_SUBSET_SKIPPED_OPERATIONS: readonly string[] = [
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeNetworkInterfaces',
];

/** The Custodian policy that flags VPCs without `service`'s endpoint. */
export function custodianPolicyName(service: string): string {
  return `vpc-missing-${service.replace(/\./g, '-')}-endpoint`;
}

export interface FindingKey {
  readonly code: string;
  readonly vpcId: string;
  readonly service?: string;
}

export interface Comparison {
  /** Our findings of the shared detection for a service Custodian looks for: the shared subset. */
  readonly sharedFindings: number;
  /** Of those, the (VPC, service) pairs Custodian flags too. */
  readonly findingsReproduced: number;
  /** Pairs Custodian flags that we do not report missing (VPCs without ECS work or without that need). */
  readonly custodianOnly: number;
  readonly custodianFlagged: number;
}

/**
 * Compares per VPC and service, for the one detection both can express: a required endpoint missing.
 * `flagged` maps each Custodian policy name to the VPC ids it matched.
 */
export function compareFindings(
  ours: readonly FindingKey[],
  flagged: Readonly<Record<string, readonly string[]>>,
): Comparison {
  const wanted = new Set<string>(CUSTODIAN_SERVICES);
  const key = (vpcId: string, service: string): string => `${vpcId} ${service}`;
  const shared = new Set(
    ours
      .filter((f) => isSharedDetection(f.code) && f.service !== undefined && wanted.has(f.service))
      .map((f) => key(f.vpcId, f.service ?? '')),
  );
  const theirs = new Set<string>();
  for (const service of CUSTODIAN_SERVICES) {
    for (const vpcId of flagged[custodianPolicyName(service)] ?? []) theirs.add(key(vpcId, service));
  }
  let reproduced = 0;
  for (const pair of shared) if (theirs.has(pair)) reproduced += 1;
  return {
    sharedFindings: shared.size,
    findingsReproduced: reproduced,
    custodianOnly: [...theirs].filter((pair) => !shared.has(pair)).length,
    custodianFlagged: theirs.size,
  };
}

/** Whether two runs report the same findings of the shared detection (by code, VPC and service). */
export function sameSharedFindings(a: readonly FindingKey[], b: readonly FindingKey[]): boolean {
  const keys = (findings: readonly FindingKey[]): string[] =>
    findings
      .filter((f) => isSharedDetection(f.code))
      .map((f) => `${f.code} ${f.vpcId} ${f.service ?? ''}`)
      .sort();
  const [left, right] = [keys(a), keys(b)];
  return left.length === right.length && left.every((key, i) => key === right[i]);
}

/** measured / bound, rounded to 3 decimals; 1 when both are 0. */
export function ratio(measured: number, bound: number): number {
  if (bound === 0) return measured === 0 ? 1 : Number.POSITIVE_INFINITY;
  return Math.round((measured / bound) * 1000) / 1000;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** `after - before` per key (the server's counts are cumulative), zero entries dropped. */
export function countsDelta(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}
