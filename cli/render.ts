/**
 * The text form of a run report (per VPC, what is wrong and what will be or was done), and its machine
 * formats ({@link renderMachine}).
 */
import { toAsffReport } from '../core/asff.ts';
import { toCsv } from '../core/csv.ts';
import type { ExportContext } from '../core/export.ts';
import { fixedFindingIds } from '../core/export.ts';
import { toOcsfReport } from '../core/ocsf.ts';
import type { Finding } from '../core/findings.ts';
import { SEVERITY_RANK } from '../core/findings.ts';
import type { ReportedAction, RunReport } from '../core/report.ts';
import type { OutputFormat } from './args.ts';

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

/** How the text is laid out: its width, and whether severities and failures are coloured. */
export interface RenderOptions {
  /** Lines are wrapped to fit (default {@link TEXT_WIDTH}). */
  readonly width?: number;
  /** ANSI colours (a terminal, without NO_COLOR or --no-color). */
  readonly color?: boolean;
}

/** The width text output fits. */
export const TEXT_WIDTH = 120;

const ANSI = { red: '\x1b[31m', yellow: '\x1b[33m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };

/** Severity order of a VPC: its worst finding that counts (muted ones do not); 3 without any. */
function worstRank(findings: readonly Finding[]): number {
  return Math.min(3, ...findings.filter((f) => f.muted === undefined).map((f) => SEVERITY_RANK[f.severity]));
}

/** Cuts `line` into lines of at most `width`, at spaces where it can; continuations get `indent`. */
export function wrap(line: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > indent.length + 10 ? cut : width;
    out.push(rest.slice(0, at).trimEnd());
    rest = indent + rest.slice(at).trimStart();
  }
  out.push(rest);
  return out;
}

export function renderText(report: RunReport, options: RenderOptions = {}): string {
  const width = options.width ?? TEXT_WIDTH;
  const paint = (code: keyof typeof ANSI, text: string) =>
    options.color ? `${ANSI[code]}${text}${ANSI.reset}` : text;
  const severityWord = (finding: Finding) => {
    const word = finding.severity.toUpperCase();
    if (finding.muted) return paint('dim', word);
    return finding.severity === 'high'
      ? paint('red', word)
      : finding.severity === 'medium'
        ? paint('yellow', word)
        : word;
  };
  const lines: string[] = [];
  const push = (line: string, indent = '      ') => lines.push(...wrap(line, width, indent));
  const applied = report.command === 'apply' && report.stats.applied !== undefined;

  // The summary first: per account and Region (the account named once a run covers several), what is
  // in scope, what is broken, and what the fix costs.
  const several = report.accounts.length > 1 || report.failedAccounts.length > 0;
  const where = (accountId: string | undefined, region: string) =>
    several && accountId !== undefined ? `${accountId} ${region}` : region;
  const sameAccount = (a: string | undefined, b: string | undefined) =>
    a === undefined || b === undefined || a === b;
  const places = new Map<string, { accountId?: string; region: string }>();
  const addPlace = (accountId: string | undefined, region: string) => {
    const key = `${accountId ?? ''}/${region}`;
    if (!places.has(key)) places.set(key, { ...(accountId === undefined ? {} : { accountId }), region });
  };
  for (const vpc of report.vpcs) addPlace(vpc.accountId, vpc.region);
  for (const failed of report.failedRegions) addPlace(failed.accountId, failed.region);
  // Regions read without any ECS work: once per account read (or once, without accounts).
  const readAccounts = report.accounts.filter((id) => !report.failedAccounts.some((f) => f.accountId === id));
  for (const region of report.regions)
    if (![...places.values()].some((place) => place.region === region)) {
      if (several) for (const accountId of readAccounts) addPlace(accountId, region);
      else addPlace(undefined, region);
    }
  const orderedPlaces = [...places.values()].sort(
    (a, b) => (a.accountId ?? '').localeCompare(b.accountId ?? '') || a.region.localeCompare(b.region),
  );
  if (orderedPlaces.length + report.failedAccounts.length > 0) {
    lines.push(paint('bold', applied ? 'Summary (after apply)' : 'Summary'));
    for (const failed of report.failedAccounts)
      push(`  ${failed.accountId}  ${paint('red', 'FAILED')}: ${failed.error}`);
    for (const { accountId, region } of orderedPlaces) {
      const label = where(accountId, region);
      const here = (item: { accountId?: string; region: string }) =>
        item.region === region && sameAccount(item.accountId, accountId);
      const failed = report.failedRegions.find(here);
      if (failed) {
        push(`  ${label}  ${paint('red', 'FAILED')}: ${failed.error}`);
        continue;
      }
      const vpcs = report.vpcs.filter((v) => here(v) && v.inScope);
      const findings = report.findings.filter(here);
      const counting = findings.filter((f) => f.muted === undefined);
      const broken = new Set(counting.map((f) => f.vpcId)).size;
      const count = (severity: string) => counting.filter((f) => f.severity === severity).length;
      const muted = findings.length - counting.length;
      const fixes = report.actions.filter((a) => here(a) && a.status === 'planned');
      const cost = fixes.reduce((sum, a) => sum + ('monthlyCostUsd' in a ? a.monthlyCostUsd : 0), 0);
      push(
        `  ${label}  ${vpcs.length} VPC(s) in scope, ${broken} with findings: ${count('high')} high, ` +
          `${count('medium')} medium, ${count('low')} low${muted > 0 ? `, ${muted} muted` : ''}; ` +
          `${applied ? 'actions run' : 'fix'}: ${fixes.length} action(s), +$${cost.toFixed(2)}/month`,
      );
    }
    lines.push('');
  }

  // Then the VPCs, worst first.
  // A VPC is the account's view of it: a shared VPC is listed once per account that sees it.
  const ofVpc =
    (vpc: RunReport['vpcs'][number]) => (item: { accountId?: string; region: string; vpcId: string }) =>
      item.region === vpc.region && item.vpcId === vpc.vpcId && sameAccount(item.accountId, vpc.accountId);
  const ordered = [...report.vpcs].sort((a, b) => {
    const rank = (vpc: typeof a) => (vpc.inScope ? worstRank(report.findings.filter(ofVpc(vpc))) : 4);
    return (
      rank(a) - rank(b) ||
      a.accountId.localeCompare(b.accountId) ||
      a.region.localeCompare(b.region) ||
      a.vpcId.localeCompare(b.vpcId)
    );
  });
  for (const vpc of ordered) {
    const title = `${where(vpc.accountId, vpc.region)} ${vpc.vpcId}${vpc.name ? ` (${vpc.name})` : ''}${vpc.shared ? ` (shared by ${vpc.ownerId ?? 'another account'})` : ''}`;
    if (!vpc.inScope) {
      push(`${title}: out of scope (${vpc.outOfScopeReason ?? ''})`);
      lines.push('');
      continue;
    }
    const findings = report.findings.filter(ofVpc(vpc));
    const actions = report.actions.filter(ofVpc(vpc));
    const egress =
      vpc.exposure === 'high'
        ? 'some workload subnets have no internet egress'
        : 'workload subnets have egress';
    push(
      `${title}: ${vpc.containerInstances} container instance(s), AZs ${vpc.availabilityZones.join(', ')}; ${egress}`,
    );
    push(`  needs: ${vpc.needs.map((need) => need.need).join(', ') || 'nothing'}`);
    if (findings.length === 0) lines.push('  no drift');
    else {
      const rows = table(findings.map(findingRow));
      // The message column wraps under itself.
      const messageAt = (rows[0]?.length ?? 0) - (findings[0]?.message.length ?? 0);
      rows.forEach((row, n) => {
        const finding = findings[n];
        const colored = finding ? row.replace(finding.severity.toUpperCase(), severityWord(finding)) : row;
        const extra = colored.length - row.length;
        lines.push(...wrap(colored, width + extra, ' '.repeat(Math.max(4, Math.min(messageAt, width - 40)))));
      });
    }
    // Each reason once: findings that share a reason are listed together.
    const reasons = new Map<string, string[]>();
    const reasonOf = (finding: Finding): string | undefined => {
      if (finding.status === 'unknown') return `cannot verify: ${finding.statusReason ?? ''}`;
      if (finding.remediation.status !== 'planned' && finding.remediation.reason)
        return `${finding.remediation.status}: ${finding.remediation.reason}`;
      return undefined;
    };
    for (const finding of findings) {
      const label = `${finding.code}${finding.service ? ` ${finding.service}` : ''}`;
      const reason = reasonOf(finding);
      if (reason !== undefined) reasons.set(reason, [...(reasons.get(reason) ?? []), label]);
      if (finding.exceptionExpired)
        reasons.set(
          `exception expired on ${finding.exceptionExpired.expires} (mutelist rule ${finding.exceptionExpired.rule}: ${finding.exceptionExpired.reason}): it counts again`,
          [label],
        );
    }
    for (const [reason, labels] of reasons)
      push(`    ${[...new Set(labels)].join(', ')}: ${reason}`, '        ');
    for (const action of actions) {
      push(actionLine(action), '        ');
      for (const instance of action.result?.instances ?? []) {
        push(`      ${instance.ec2InstanceId} ${instance.outcome}: ${instance.message}`, '          ');
      }
    }
    lines.push('');
  }
  if (report.vpcs.length === 0 && report.failedRegions.length < report.regions.length)
    lines.push(`No VPC in ${report.regions.join(', ')} runs ECS work: nothing to check.`, '');
  for (const read of report.skippedReads) {
    push(
      `skipped read: ${where(read.accountId, read.region)} ${read.operation}${read.resourceId ? ` (${read.resourceId})` : ''}: ${read.reason}`,
    );
  }
  for (const failed of report.failedAccounts)
    push(`${paint('red', 'FAILED')} account ${failed.accountId}: ${failed.error}`);
  for (const failed of report.failedRegions)
    push(`${paint('red', 'FAILED')} Region ${where(failed.accountId, failed.region)}: ${failed.error}`);
  if (report.skippedReads.length + report.failedRegions.length + report.failedAccounts.length > 0)
    lines.push('');
  const { stats } = report;
  const unknown = report.findings.filter((finding) => finding.status === 'unknown').length;
  const bySeverity = `${stats.findingsBySeverity.high} high, ${stats.findingsBySeverity.medium} medium, ${stats.findingsBySeverity.low} low${unknown > 0 ? `; ${unknown} cannot be verified` : ''}`;
  const calls = Object.entries(stats.apiCalls.byService)
    .map(([service, count]) => `${service} ${count}`)
    .join(', ');
  push(
    `${stats.findings} finding(s) (${bySeverity})${stats.mutedFindings > 0 ? `, ${stats.mutedFindings} muted` : ''}; ` +
      (stats.applied
        ? `${stats.actions} action(s) attempted`
        : `${stats.actions} action(s)${stats.deferredActions > 0 ? `, ${stats.deferredActions} deferred by caps` : ''}; ` +
          `${stats.endpointsToCreate} endpoint(s) to create, est. +$${stats.estimatedMonthlyCostUsd.toFixed(2)}/month` +
          (stats.estimatedMonthlySavingUsd > 0
            ? `, -$${stats.estimatedMonthlySavingUsd.toFixed(2)}/month deleting unneeded endpoints`
            : '')) +
      `; API calls ${stats.apiCalls.total}${calls ? ` (${calls})` : ''}`,
    '  ',
  );
  if (stats.applied) {
    const done = stats.applied;
    push(
      `Done: ${done.succeeded} action(s) succeeded, ${done['already-satisfied']} were already in place, ` +
        `${done.failed} failed, ${done.skipped} skipped.` +
        (done.failed + done.skipped > 0 ? ' Run plan again to see what is left.' : ''),
      '  ',
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * A run report in a machine format (`--output`, docs/cli.md): `json` the whole report; `asff`,
 * `ocsf` and `csv` its findings (muted ones included, marked as such). Throws UnknownAccountError
 * when ASFF or OCSF would need an account discovery did not see.
 */
export function renderMachine(
  format: Exclude<OutputFormat, 'text'>,
  report: RunReport,
  context: ExportContext,
): string {
  // After an apply, the findings its actions fixed read as passed (resolved).
  const fixed = fixedFindingIds(report.findings, report.actions);
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'asff':
      return `${JSON.stringify(toAsffReport(report.findings, context, fixed), null, 2)}\n`;
    case 'ocsf':
      return `${JSON.stringify(toOcsfReport(report.findings, context, fixed), null, 2)}\n`;
    case 'csv':
      return toCsv(report.findings, context, fixed);
  }
}
