/** Command-line arguments of `ecs-endpoint-remediator`. Documented in docs/cli.md. */
import { parseArgs } from 'node:util';
import { ROLE_NAME } from '../aws/organization.ts';

/** Accounts entered and read at once by default (`--parallel-accounts`). */
export const DEFAULT_PARALLEL_ACCOUNTS = 4;

/** The values of --output: text for people, the others for machines (docs/cli.md). */
export const OUTPUT_FORMATS = ['text', 'json', 'asff', 'ocsf', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const isOutputFormat = (value: string): value is OutputFormat =>
  (OUTPUT_FORMATS as readonly string[]).includes(value);

export const USAGE = `Usage: ecs-endpoint-remediator <plan|apply> [options]

  plan    Show the PrivateLink drift of every VPC that runs ECS, and the fix. Changes nothing.
  apply   Plan, then make the fix (asks for confirmation unless --yes).

Options:
  --region R        Region to sweep (repeatable). Default: config "regions", else the SDK's default Region.
  --regions all|R,R every Region enabled for the account (ec2:DescribeRegions), or a comma-separated list.
  --profile NAME    the shared config/credentials profile to use (as AWS_PROFILE does).
  --role-name ROLE  several accounts: assume ROLE in each (with --accounts or --organization).
  --accounts A…     with --role-name: account ids (12 digits; separated by spaces or commas) or a file of them.
  --organization    with --role-name: every ACTIVE account of the organization (management account or a
                    delegated administrator only).
  --parallel-accounts N  accounts entered and read at once (default 4).
  --config FILE     JSON config file (see docs/config.md). Default: built-in safe defaults.
  --output FORMAT   text (default); json, the whole report (schema/plan-output.schema.json); or the
                    findings only: asff (Security Hub's BatchImportFindings body,
                    schema/asff-output.schema.json), ocsf (OCSF 1.6.0 Compliance Finding events,
                    schema/ocsf-output.schema.json), csv (a header row, then a row per finding,
                    schema/findings-csv.schema.json). docs/cli.md describes each.
  --yes             apply without asking.
  --out FILE        plan: also save the plan to FILE, for apply --plan.
  --plan FILE       apply: run exactly that saved plan's actions still needed as saved (no question).
  --max-plan-age M  apply --plan: refuse a plan older than M minutes (default 60).
  --quiet           no progress on stderr.
  --no-color        no colours in text output (also NO_COLOR=1; only a terminal gets them anyway).
  --version         the tool's version.
  --list-checks     every finding code with its meaning.
  -h, --help        this help.

Exit codes: plan 0 no drift, 2 drift found; apply 0 every action done, 3 some action failed or was
skipped; 1 error (bad arguments or config, AWS error during discovery, apply cancelled).`;

export interface CliArgs {
  readonly command: 'plan' | 'apply';
  readonly regions: readonly string[];
  /** --regions all: every Region enabled for the account (opt-in Regions only when opted in). */
  readonly allRegions: boolean;
  /** --profile: the shared config and credentials files' profile, for credentials and the default Region. */
  readonly profile?: string;
  /** --role-name: a run over several accounts, entered by assuming this role in each. */
  readonly roleName?: string;
  /** --accounts values (ids, lists of ids, or files of ids: aws/organization.ts readAccountIds). */
  readonly accounts?: readonly string[];
  /** --organization: the organization's ACTIVE accounts. */
  readonly organization: boolean;
  /** --parallel-accounts: accounts entered and discovered at once. */
  readonly parallelAccounts: number;
  readonly configFile?: string;
  readonly output: OutputFormat;
  readonly yes: boolean;
  readonly quiet: boolean;
  /** plan: where to save the plan. */
  readonly outFile?: string;
  /** apply: the saved plan to run. */
  readonly planFile?: string;
  readonly maxPlanAgeMinutes: number;
  /** --no-color: no ANSI colours even on a terminal. */
  readonly noColor: boolean;
}

/** A Region name as AWS spells them: `us-east-1`, `ap-southeast-4`, `us-gov-west-1`. */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** A usage mistake: reported with the usage text and exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * `--accounts A B C`: the ids that follow `--accounts` (or its value) are more of its values, as
 * `--accounts A --accounts B --accounts C`; only 12-digit ids (or comma-separated lists of them) are
 * taken so, never a command or a file.
 */
function expandAccounts(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    out.push(arg);
    if (arg !== '--accounts' && !arg.startsWith('--accounts=')) continue;
    if (arg === '--accounts' && index + 1 < argv.length) out.push(argv[++index] ?? '');
    while (index + 1 < argv.length && /^\d{12}(,\d{12})*$/.test(argv[index + 1] ?? ''))
      out.push('--accounts', argv[++index] ?? '');
  }
  return out;
}

/**
 * Parses argv (without node and script); `undefined` means help was asked for, `version` the version,
 * `list-checks` the finding codes.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs | 'version' | 'list-checks' | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: expandAccounts(argv),
      allowPositionals: true,
      strict: true,
      options: {
        region: { type: 'string', multiple: true },
        regions: { type: 'string' },
        profile: { type: 'string' },
        'role-name': { type: 'string' },
        accounts: { type: 'string', multiple: true },
        organization: { type: 'boolean', default: false },
        'parallel-accounts': { type: 'string' },
        config: { type: 'string' },
        output: { type: 'string', default: 'text' },
        yes: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        out: { type: 'string' },
        plan: { type: 'string' },
        'max-plan-age': { type: 'string' },
        version: { type: 'boolean', default: false },
        'no-color': { type: 'boolean', default: false },
        'list-checks': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (values.version) return 'version';
  if (values['list-checks']) return 'list-checks';
  const [command, ...extra] = positionals;
  if (command !== 'plan' && command !== 'apply') {
    throw new UsageError(
      command === undefined
        ? 'a command is required: plan or apply'
        : `unknown command "${command}": expected plan or apply`,
    );
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(' ')}"`);
  const output = values.output;
  if (!isOutputFormat(output)) {
    throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, not "${output}"`);
  }
  const allRegions = values.regions?.trim() === 'all';
  const listed = allRegions
    ? []
    : (values.regions ?? '')
        .split(',')
        .map((region) => region.trim())
        .filter((region) => region !== '');
  if (values.regions !== undefined && !allRegions && listed.length === 0)
    throw new UsageError('--regions takes all or a comma-separated list of Regions');
  if (allRegions && values.region !== undefined)
    throw new UsageError('--regions all sweeps every enabled Region: leave out --region');
  for (const [flag, region] of [
    ...(values.region ?? []).map((region) => ['--region', region] as const),
    ...listed.map((region) => ['--regions', region] as const),
  ]) {
    if (!REGION_NAME.test(region))
      throw new UsageError(`${flag} "${region}" is not a Region name like us-east-1`);
  }
  const profile = values.profile?.trim();
  if (profile === '') throw new UsageError('--profile needs a profile name');
  const roleName = values['role-name']?.trim();
  if (roleName !== undefined && !ROLE_NAME.test(roleName))
    throw new UsageError(`--role-name "${roleName}" is not an IAM role name (or path/name)`);
  if (values.accounts !== undefined && values.organization)
    throw new UsageError(
      '--accounts and --organization exclude each other: name the accounts, or list the organization',
    );
  if (roleName !== undefined && values.accounts === undefined && !values.organization)
    throw new UsageError('--role-name needs the accounts: --accounts FILE|ID… or --organization');
  if (roleName === undefined && (values.accounts !== undefined || values.organization))
    throw new UsageError(
      `${values.organization ? '--organization' : '--accounts'} needs --role-name: the role to assume in each account`,
    );
  const parallelAccounts =
    values['parallel-accounts'] === undefined
      ? DEFAULT_PARALLEL_ACCOUNTS
      : Number(values['parallel-accounts']);
  if (!Number.isInteger(parallelAccounts) || parallelAccounts < 1 || parallelAccounts > 32)
    throw new UsageError(
      `--parallel-accounts takes a whole number from 1 to 32, not "${values['parallel-accounts']}"`,
    );
  if (values.out !== undefined && command !== 'plan') throw new UsageError('--out goes with plan');
  if (values.plan !== undefined && command !== 'apply') throw new UsageError('--plan goes with apply');
  const maxAge = values['max-plan-age'] === undefined ? 60 : Number(values['max-plan-age']);
  if (!Number.isInteger(maxAge) || maxAge < 1)
    throw new UsageError(`--max-plan-age takes whole minutes (1 or more), not "${values['max-plan-age']}"`);
  return {
    command,
    ...(values.out === undefined ? {} : { outFile: values.out }),
    ...(values.plan === undefined ? {} : { planFile: values.plan }),
    maxPlanAgeMinutes: maxAge,
    noColor: values['no-color'],
    regions: [...(values.region ?? []), ...listed],
    allRegions,
    ...(profile === undefined ? {} : { profile }),
    ...(roleName === undefined ? {} : { roleName }),
    ...(values.accounts === undefined ? {} : { accounts: values.accounts }),
    organization: values.organization,
    parallelAccounts,
    ...(values.config === undefined ? {} : { configFile: values.config }),
    output,
    yes: values.yes,
    quiet: values.quiet,
  };
}
