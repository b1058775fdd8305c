/**
 * Findings as CSV, the CLI's `--output csv`: a header row, then one row per finding (muted ones too,
 * marked). The header is a contract (schema/findings-csv.schema.json describes one row; docs/cli.md
 * each column): columns keep their names and order once published; new ones are added at the end.
 *
 * RFC 4180: rows end with CRLF; a field with a comma, a double quote, CR or LF is quoted, its quotes
 * doubled. Spreadsheet formula injection (OWASP "CSV Injection"): a cell that would start with
 * `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'`, so a spreadsheet shows it as text instead of
 * evaluating it. Names come from AWS tags and other accounts' resources: any of them can be hostile.
 */
import type { ExportContext } from './export.ts';
import { knownAccount, mutedReason } from './export.ts';
import type { Finding } from './findings.ts';

/** The columns, in order: the header row. */
export const CSV_COLUMNS = [
  'id',
  'account',
  'region',
  'vpcId',
  'code',
  'status',
  'severity',
  'muted',
  'service',
  'resourceId',
  'remediation',
  'actionIds',
  'message',
  'statusReason',
  'muteReason',
  'fixed',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Characters that make a spreadsheet read a cell as a formula when they come first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: formula-safe, then quoted when RFC 4180 requires it. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A finding's row, by column (the account may be unknown in CSV: then empty). */
export function csvRow(
  finding: Finding & { readonly accountId?: string },
  context: Pick<ExportContext, 'accounts'>,
  fixed = false,
): Record<CsvColumn, string> {
  return {
    id: finding.id,
    // The same account ASFF and OCSF give, but CSV tolerates none.
    account: knownAccount(finding, context) ?? '',
    region: finding.region,
    vpcId: finding.vpcId,
    code: finding.code,
    status: finding.status,
    severity: finding.severity,
    muted: finding.muted === undefined ? 'false' : 'true',
    service: finding.service ?? '',
    resourceId: finding.resourceId ?? '',
    remediation: finding.remediation.status,
    actionIds: finding.remediation.actionIds.join(' '),
    message: finding.message,
    statusReason: finding.statusReason ?? '',
    muteReason: finding.muted === undefined ? '' : mutedReason(finding.muted),
    fixed: fixed ? 'true' : 'false',
  };
}

/**
 * The whole CSV document: header, then a row per finding, each line ending in CRLF; `fixed`: the ids of
 * the findings the apply fixed.
 */
export function toCsv(
  findings: readonly Finding[],
  context: Pick<ExportContext, 'accounts'>,
  fixed: ReadonlySet<string> = new Set(),
): string {
  const lines = [
    CSV_COLUMNS.join(','),
    ...findings.map((finding) => {
      const row = csvRow(finding, context, fixed.has(finding.id));
      return CSV_COLUMNS.map((column) => csvCell(row[column])).join(',');
    }),
  ];
  return lines.map((line) => `${line}\r\n`).join('');
}
