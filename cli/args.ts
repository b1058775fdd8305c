/** Command-line arguments of `ecs-endpoint-remediator`. Documented in docs/cli.md. */
import { parseArgs } from 'node:util';

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

/** A usage mistake: reported with the usage text and exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses argv (without node and script); `undefined` means help was asked for, `version` the version,
 * `list-checks` the finding codes.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs | 'version' | 'list-checks' | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        region: { type: 'string', multiple: true },
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
  for (const region of values.region ?? []) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
      throw new UsageError(`--region "${region}" is not a Region name like us-east-1`);
  }
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
    regions: values.region ?? [],
    ...(values.config === undefined ? {} : { configFile: values.config }),
    output,
    yes: values.yes,
    quiet: values.quiet,
  };
}
