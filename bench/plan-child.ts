/**
 * One plan in a process of its own, so that its CPU time and peak RSS are the plan's (what a Lambda
 * invocation of a fresh container would use). The code path is the CLI's: createClientPool() with the
 * SDK's own configuration (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_REGION from the environment), then
 * planAccount. Prints one JSON line (PlanChildResult) on stdout.
 *
 * Environment: BENCH_REGION (default us-east-1), BENCH_VPC_IDS (comma-separated: event-scoped),
 * BENCH_CLUSTER_ARNS (comma-separated, with BENCH_VPC_IDS: the cluster hint a stored index gives),
 * BENCH_CONFIG (the remediator's JSON config; default `{}`).
 * `clusterIndex` in the result is what the deployed reconciler would record from this plan's snapshot.
 */
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../core/config.ts';
import { clustersByVpc } from '../aws/discover/cluster-index.ts';
import type { ClusterIndexEntries } from '../aws/discover/cluster-index.ts';
import { createClientPool, discoverAndPlanAccount } from '../aws/reconcile.ts';

export interface PlanChildResult {
  readonly apiCalls: number;
  readonly byService: Record<string, number>;
  readonly byOperation: Record<string, number>;
  /** planAccount alone. */
  readonly wallMs: number;
  /** User + system CPU of the plan (planAccount alone). */
  readonly cpuMs: number;
  /** Peak resident set of the whole process (Node, SDK, discovery, plan). */
  readonly peakRssMb: number;
  /** Process start (as Node reports it) to the end of the plan: imports included. */
  readonly processMs: number;
  readonly vpcsInScope: number;
  readonly findings: ReadonlyArray<{ code: string; vpcId: string; service?: string }>;
  /** VPC → clusters of the snapshot (computed after the plan, outside the timings). */
  readonly clusterIndex: ClusterIndexEntries;
}

const region = process.env.BENCH_REGION ?? 'us-east-1';
const vpcIds = (process.env.BENCH_VPC_IDS ?? '').split(',').filter(Boolean);
const clusterArns = process.env.BENCH_CLUSTER_ARNS?.split(',').filter(Boolean);
const pool = createClientPool();
const cpuBefore = process.cpuUsage();
const started = performance.now();
const { plan, snapshots } = await discoverAndPlanAccount({
  regions: [region],
  config: parseConfig(JSON.parse(process.env.BENCH_CONFIG ?? '{}')),
  pool,
  ...(vpcIds.length > 0 ? { vpcIds } : {}),
  ...(vpcIds.length > 0 && clusterArns ? { clusterArns } : {}),
});
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const calls = pool.apiCalls();
const result: PlanChildResult = {
  apiCalls: calls.total,
  byService: calls.byService,
  byOperation: calls.byOperation,
  wallMs: Math.round(wallMs),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
  processMs: Math.round(performance.now()),
  vpcsInScope: plan.vpcs.filter((vpc) => vpc.inScope).length,
  findings: plan.findings.map((finding) => ({
    code: finding.code,
    vpcId: finding.vpcId,
    ...(finding.service === undefined ? {} : { service: finding.service }),
  })),
  clusterIndex: snapshots[0] ? clustersByVpc(snapshots[0]) : {},
};
process.stdout.write(`${JSON.stringify(result)}\n`);
