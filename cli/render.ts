/** The text form of a run report: per VPC, what is wrong and what will be (or was) done. */
import type { Finding } from '../core/findings.ts';
import type { ReportedAction, RunReport } from '../core/report.ts';

const ACTION_MARK: Readonly<Record<ReportedAction['kind'], string>> = {
  ENABLE_VPC_DNS: '~',
  CREATE_SECURITY_GROUP: '+',
  AUTHORIZE_SECURITY_GROUP_INGRESS: '~',
  CREATE_ENDPOINT: '+',
  CREATE_GATEWAY_ENDPOINT: '+',
  MODIFY_ENDPOINT: '~',
  DELETE_ENDPOINT: '-',
  UPDATE_AGENT: '~',
  RESTART_AGENT: '↻',
};

/** Lays rows out in columns padded to the widest cell; the last column is never padded. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  '),
  );
}

function findingRow(finding: Finding): string[] {
  const status =
    finding.status === 'unknown'
      ? 'unknown'
      : finding.remediation.status === 'planned'
        ? 'fix'
        : finding.remediation.status;
  return [finding.severity.toUpperCase(), finding.code, finding.service ?? '', status, finding.message];
}

function actionLine(action: ReportedAction): string {
  const state = action.result
    ? ` [${action.result.outcome}${action.result.outcome === 'failed' || action.result.outcome === 'skipped' ? `: ${action.result.message}` : ''}]`
    : action.status === 'deferred'
      ? ` [deferred: ${action.deferredReason ?? ''}]`
      : '';
  return `  ${ACTION_MARK[action.kind]} ${action.kind.padEnd(32)} ${action.summary}${state}`;
}

export function renderText(report: RunReport): string {
  const lines: string[] = [];
  for (const vpc of report.vpcs) {
    const title = `${vpc.region} ${vpc.vpcId}${vpc.name ? ` (${vpc.name})` : ''}`;
    if (!vpc.inScope) {
      lines.push(`${title}: out of scope (${vpc.outOfScopeReason ?? ''})`, '');
      continue;
    }
    const findings = report.findings.filter((f) => f.region === vpc.region && f.vpcId === vpc.vpcId);
    const actions = report.actions.filter((a) => a.region === vpc.region && a.vpcId === vpc.vpcId);
    const egress =
      vpc.exposure === 'high'
        ? 'some workload subnets have no internet egress'
        : 'workload subnets have egress';
    lines.push(
      `${title}: ${vpc.containerInstances} container instance(s), AZs ${vpc.availabilityZones.join(', ')}; ${egress}`,
    );
    lines.push(`  needs: ${vpc.needs.map((need) => need.need).join(', ') || 'nothing'}`);
    if (findings.length === 0) lines.push('  no drift');
    else lines.push(...table(findings.map(findingRow)));
    for (const finding of findings) {
      const label = `    ${finding.code}${finding.service ? ` ${finding.service}` : ''}`;
      if (finding.status === 'unknown') lines.push(`${label}: cannot verify: ${finding.statusReason ?? ''}`);
      else if (finding.remediation.status !== 'planned' && finding.remediation.reason)
        lines.push(`${label}: ${finding.remediation.status}: ${finding.remediation.reason}`);
      if (finding.exceptionExpired)
        lines.push(
          `${label}: exception expired on ${finding.exceptionExpired.expires} (mutelist rule ${finding.exceptionExpired.rule}: ${finding.exceptionExpired.reason}): it counts again`,
        );
    }
    for (const action of actions) {
      lines.push(actionLine(action));
      for (const instance of action.result?.instances ?? []) {
        lines.push(`      ${instance.ec2InstanceId} ${instance.outcome}: ${instance.message}`);
      }
    }
    lines.push('');
  }
  if (report.vpcs.length === 0 && report.failedRegions.length < report.regions.length)
    lines.push(`No VPC in ${report.regions.join(', ')} runs ECS work: nothing to check.`, '');
  for (const read of report.skippedReads) {
    lines.push(
      `skipped read: ${read.region} ${read.operation}${read.resourceId ? ` (${read.resourceId})` : ''}: ${read.reason}`,
    );
  }
  for (const failed of report.failedRegions) lines.push(`FAILED Region ${failed.region}: ${failed.error}`);
  if (report.skippedReads.length + report.failedRegions.length > 0) lines.push('');
  const { stats } = report;
  const unknown = report.findings.filter((finding) => finding.status === 'unknown').length;
  const bySeverity = `${stats.findingsBySeverity.high} high, ${stats.findingsBySeverity.medium} medium, ${stats.findingsBySeverity.low} low${unknown > 0 ? `; ${unknown} cannot be verified` : ''}`;
  const calls = Object.entries(stats.apiCalls.byService)
    .map(([service, count]) => `${service} ${count}`)
    .join(', ');
  lines.push(
    `${stats.findings} finding(s) (${bySeverity})${stats.mutedFindings > 0 ? `, ${stats.mutedFindings} muted` : ''}; ${stats.actions} action(s)${stats.deferredActions > 0 ? `, ${stats.deferredActions} deferred by caps` : ''}; ` +
      `${stats.endpointsToCreate} endpoint(s) to create, est. +$${stats.estimatedMonthlyCostUsd.toFixed(2)}/month; API calls ${stats.apiCalls.total}${calls ? ` (${calls})` : ''}`,
  );
  if (stats.applied) {
    const applied = stats.applied;
    lines.push(
      `applied: ${applied.succeeded} succeeded, ${applied['already-satisfied']} already satisfied, ${applied.failed} failed, ${applied.skipped} skipped`,
    );
  }
  return lines.join('\n') + '\n';
}
