/** Command-line arguments of `ecs-endpoint-remediator`. Documented in docs/cli.md. */
import { parseArgs } from 'node:util';

export const USAGE = `Usage: ecs-endpoint-remediator <plan|apply> [options]

  plan    Show the PrivateLink drift of every VPC that runs ECS, and the fix. Changes nothing.
  apply   Plan, then make the fix (asks for confirmation unless --yes).

Options:
  --region R        Region to sweep (repeatable). Default: config "regions", else the SDK's default Region.
  --config FILE     JSON config file (see docs/config.md). Default: built-in safe defaults.
  --output FORMAT   text (default) or json (schema: schema/plan-output.schema.json).
  --yes             apply without asking.
  --quiet           no progress on stderr.
  -h, --help        this help.

Exit codes: plan 0 no drift, 2 drift found; apply 0 every action done, 3 some action failed or was
skipped; 1 error (bad arguments or config, AWS error during discovery, apply cancelled).`;

export interface CliArgs {
  readonly command: 'plan' | 'apply';
  readonly regions: readonly string[];
  readonly configFile?: string;
  readonly output: 'text' | 'json';
  readonly yes: boolean;
  readonly quiet: boolean;
}

/** A usage mistake: reported with the usage text and exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses argv (without node and script); `undefined` means help was asked for. */
export function parseCliArgs(argv: readonly string[]): CliArgs | undefined {
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
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const [command, ...extra] = positionals;
  if (command !== 'plan' && command !== 'apply') {
    throw new UsageError(
      command === undefined
        ? 'a command is required: plan or apply'
        : `unknown command "${command}": expected plan or apply`,
    );
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(' ')}"`);
  if (values.output !== 'text' && values.output !== 'json') {
    throw new UsageError(`--output must be text or json, not "${values.output}"`);
  }
  for (const region of values.region ?? []) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
      throw new UsageError(`--region "${region}" is not a Region name like us-east-1`);
  }
  return {
    command,
    regions: values.region ?? [],
    ...(values.config === undefined ? {} : { configFile: values.config }),
    output: values.output,
    yes: values.yes,
    quiet: values.quiet,
  };
}
