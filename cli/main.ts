/**
 * `ecs-endpoint-remediator plan|apply`: a thin shell over aws/reconcile.ts. Usage in cli/args.ts; the
 * command itself is cli/bin.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Config } from '../core/config.ts';
import { ConfigError, parseConfig } from '../core/config.ts';
import type { ExportContext } from '../core/export.ts';
import type { RunReport } from '../core/report.ts';
import { applySucceeded, toReport } from '../core/report.ts';
import type { ActionResult } from '../core/report.ts';
import type { Plan } from '../core/plan.ts';
import { buildPlan } from '../core/plan.ts';
import { readAccountIds } from '../aws/organization.ts';
import { discoverAccounts, enterAccounts, readOwnerEndpoints } from '../aws/organization-run.ts';
import { errorMessage } from '../aws/errors.ts';
import { applyAccountPlan, createClientPool, discoverAndPlanAccount } from '../aws/reconcile.ts';
import packageJson from '../package.json' with { type: 'json' };
import {
  PlanFileError,
  accountProblems,
  configHash,
  narrowToSaved,
  readPlanFile,
  toPlanFile,
} from './saved-plan.ts';
import { prepareRestarts } from '../aws/restart-discovery.ts';
import { enabledRegions } from '../aws/regions.ts';
import type { CliArgs } from './args.ts';
import { USAGE, UsageError, parseCliArgs } from './args.ts';
import { TEXT_WIDTH, renderMachine, renderText, table, wrap } from './render.ts';
import { FINDING_CODES, FINDING_SUMMARIES } from '../core/findings.ts';

export const EXIT = { ok: 0, error: 1, drift: 2, applyIncomplete: 3 } as const;

/** A progress line at least this often while the run works: silence reads as a hang. */
export const HEARTBEAT_SECONDS = 10;

/**
 * Progress on stderr, with a heartbeat: while the run works (`start` … `stop`) and nothing was written
 * for {@link HEARTBEAT_SECONDS}, a line says it is still running, for how long, and the last thing it
 * reported. Stopped while a question waits for the operator.
 */
function progressWriter(write: (line: string) => void) {
  const started = Date.now();
  let lastMessage = '';
  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    if (!running) return;
    timer = setTimeout(beat, HEARTBEAT_SECONDS * 1000);
    timer.unref(); // never what keeps the process alive
  };
  function beat(): void {
    const elapsed = Math.round((Date.now() - started) / 1000);
    write(`… still running (${elapsed} s)${lastMessage ? `; last: ${lastMessage.trim()}` : ''}`);
    arm();
  }
  return {
    progress: (message: string): void => {
      lastMessage = message;
      write(message);
      arm();
    },
    start(): void {
      running = true;
      arm();
    },
    stop(): void {
      running = false;
      clearTimeout(timer);
    },
  };
}

/** This tool's version (package.json): printed by --version, and bound into saved plans. */
export const TOOL_VERSION: string = packageJson.version;

async function readPlanText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new PlanFileError(file, [`cannot be read (${errorMessage(error)})`]);
  }
}

async function loadConfig(file: string | undefined): Promise<Config> {
  if (file === undefined) return parseConfig({});
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot be read (${errorMessage(error)})`]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${file}: not valid JSON (${errorMessage(error)})`]);
  }
  return parseConfig(document);
}

/** Resolves the credentials of `--profile` once (any Region's clients share the chain's answer). */
async function profileCredentials(profile: string, pool: ReturnType<typeof createClientPool>): Promise<void> {
  try {
    await pool.clientsFor((await defaultRegion(profile)) ?? 'us-east-1').ec2.config.credentials();
  } catch (error) {
    throw new UsageError(`--profile ${profile}: no credentials (${errorMessage(error)})`);
  }
}

/** The SDK's default Region (AWS_REGION, the profile's `region`, …), if any. */
async function defaultRegion(profile: string | undefined): Promise<string | undefined> {
  try {
    return await new EC2Client(profile === undefined ? {} : { profile }).config.region();
  } catch {
    return undefined;
  }
}

/**
 * --region / --regions, else the config's regions, else the SDK's default Region (AWS_REGION,
 * profile, …). `--regions all` asks EC2 (in the default Region, else us-east-1) which Regions the
 * account has enabled: `ec2` gives the client of a Region.
 */
async function resolveRegions(
  args: CliArgs,
  config: Config,
  ec2Of: (region: string) => EC2Client,
): Promise<string[]> {
  if (args.allRegions) {
    const home = (await defaultRegion(args.profile)) ?? config.regions[0] ?? 'us-east-1';
    let regions: string[];
    try {
      regions = await enabledRegions(ec2Of(home));
    } catch (error) {
      throw new Error(`--regions all: ec2:DescribeRegions in ${home} failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (regions.length === 0)
      throw new Error(`--regions all: ec2:DescribeRegions in ${home} listed no Region`);
    return regions;
  }
  if (args.regions.length > 0) return [...new Set(args.regions)];
  if (config.regions.length > 0) return [...new Set(config.regions)];
  const region = await defaultRegion(args.profile);
  if (region === undefined)
    throw new UsageError(
      'no Region: pass --region or --regions, list "regions" in the config, or set AWS_REGION (or the profile\'s region)',
    );
  return [region];
}

async function confirm(question: string): Promise<boolean> {
  process.stderr.write(question);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim() === 'yes';
  }
  return false; // stdin closed: no answer is no
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs | 'version' | 'list-checks' | undefined;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`error: ${errorMessage(error)}\n\n${USAGE}\n`);
    return EXIT.error;
  }
  if (args === 'list-checks') {
    const rows = table(
      FINDING_CODES.map((code) => [code, FINDING_SUMMARIES[code]]),
      '',
    );
    const indent = ' '.repeat(Math.max(...FINDING_CODES.map((code) => code.length)) + 2);
    const lines = rows.flatMap((row) => wrap(row, TEXT_WIDTH, indent));
    process.stdout.write(`${lines.join('\n')}\n\nThe full text of each: docs/findings.md.\n`);
    return EXIT.ok;
  }
  if (args === 'version') {
    process.stdout.write(`ecs-endpoint-remediator ${TOOL_VERSION}\n`);
    return EXIT.ok;
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const writer = args.quiet ? undefined : progressWriter((line) => process.stderr.write(`${line}\n`));
  const progress = writer?.progress;
  const print = (text: string) => process.stdout.write(text);
  // Colours only on a terminal, and never with NO_COLOR (https://no-color.org) or --no-color.
  const color = process.stdout.isTTY && !args.noColor && !process.env.NO_COLOR;
  const text = (report: Parameters<typeof renderText>[0]) => renderText(report, { color });
  try {
    const config = await loadConfig(args.configFile);
    // Paced by the config's rate limits; a throttled request is retried for throttleBudgetSeconds.
    const pool = createClientPool({
      timeouts: config.timeouts,
      rateLimits: config.rateLimits,
      ...(args.profile === undefined ? {} : { profile: args.profile }),
    });
    // A profile that yields no credentials stops here, named, before any Region is read.
    if (args.profile !== undefined) await profileCredentials(args.profile, pool);
    // Several accounts: each entered with the role (its Regions its own with --regions all).
    const accountIds = args.accounts === undefined ? undefined : await readAccountIds(args.accounts);
    const organizationRun =
      args.roleName === undefined
        ? undefined
        : await enterAccounts({
            roleName: args.roleName,
            ...(accountIds === undefined ? {} : { accountIds }),
            regions: args.allRegions
              ? 'all'
              : await resolveRegions(args, config, (region) => pool.clientsFor(region).ec2),
            homeRegion:
              (await defaultRegion(args.profile)) ?? args.regions[0] ?? config.regions[0] ?? 'us-east-1',
            ...(args.profile === undefined ? {} : { profile: args.profile }),
            config,
            parallel: args.parallelAccounts,
            ...(progress ? { onProgress: progress } : {}),
          });
    const regions = organizationRun
      ? [...new Set(organizationRun.entered.flatMap((account) => account.regions))].sort()
      : await resolveRegions(args, config, (region) => pool.clientsFor(region).ec2);
    const apiCalls = organizationRun ? organizationRun.apiCalls : pool.apiCalls;
    // A saved plan is checked before anything is read: a stale or foreign file stops here.
    const saved =
      args.planFile === undefined
        ? undefined
        : readPlanFile(args.planFile, await readPlanText(args.planFile), {
            toolVersion: TOOL_VERSION,
            configHash: configHash(config),
            regions,
            maxAgeMinutes: args.maxPlanAgeMinutes,
            now: new Date(),
          });
    writer?.start();
    let plan: Plan;
    if (organizationRun) {
      const { snapshots, failedRegions } = await discoverAccounts(
        organizationRun,
        config,
        args.parallelAccounts,
        progress,
      );
      // A VPC shared between accounts of the run: the owner's endpoints meet the participants' needs.
      const ownerEndpoints = await readOwnerEndpoints(
        organizationRun,
        snapshots,
        args.parallelAccounts,
        progress,
      );
      plan = buildPlan(snapshots, config, new Date(), {
        accounts: organizationRun.accounts,
        failedAccounts: organizationRun.failedAccounts,
        failedRegions,
        ownerEndpoints,
      });
    } else
      plan = (
        await discoverAndPlanAccount({
          regions,
          config,
          pool,
          ...(progress ? { onProgress: progress } : {}),
        })
      ).plan;
    writer?.stop();
    // The accounts of the run (named, or seen by discovery): a saved plan is bound to them.
    const accounts = plan.accounts;
    let savedSkipped: ReturnType<typeof narrowToSaved>['skipped'] = [];
    if (saved && args.planFile !== undefined) {
      const foreign = accountProblems(saved, accounts);
      if (foreign.length > 0) throw new PlanFileError(args.planFile, foreign);
      const narrowed = narrowToSaved(plan, saved.plan);
      plan = narrowed.plan;
      savedSkipped = narrowed.skipped;
      for (const { action, message } of narrowed.skipped)
        process.stderr.write(`saved ${action.kind} ${action.id} not applied: ${message}\n`);
      if (narrowed.notSaved > 0)
        process.stderr.write(
          `${narrowed.notSaved} action(s) a fresh plan adds are not in the saved plan: not applied\n`,
        );
    }
    if (args.outFile !== undefined) {
      const file = toPlanFile(plan, {
        toolVersion: TOOL_VERSION,
        accounts,
        regions,
        configHash: configHash(config),
      });
      await writeFile(args.outFile, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      process.stderr.write(
        `plan saved to ${args.outFile}: apply exactly it with \`apply --plan ${args.outFile}\` (within ${args.maxPlanAgeMinutes} minutes, same config)\n`,
      );
    }
    const runnable = plan.actions.filter((action) => action.status === 'planned').length;
    // An account or a Region that could not be read is an error whatever the others show (exit 1),
    // after the report.
    const failed = (): boolean => {
      for (const { accountId, error } of plan.failedAccounts)
        process.stderr.write(`error: account ${accountId}: ${error}\n`);
      for (const { accountId, region, error } of plan.failedRegions)
        process.stderr.write(`error: ${accountId === undefined ? '' : `${accountId} `}${region}: ${error}\n`);
      return plan.failedRegions.length + plan.failedAccounts.length > 0;
    };
    // The machine formats of findings (ASFF, OCSF) name each finding's account: every finding carries
    // it (report schema 2), so no Region's account is needed besides (core/export.ts knownAccount).
    const exportContext: ExportContext = {
      generatedAt: plan.generatedAt,
      toolVersion: TOOL_VERSION,
      accounts: {},
    };
    const render = (report: RunReport): string =>
      args.output === 'text' ? text(report) : renderMachine(args.output, report, exportContext);
    if (args.command === 'plan' || runnable === 0) {
      const report = toReport(args.command, plan, apiCalls(), args.command === 'apply' ? [] : undefined);
      print(render(report));
      if (failed()) return EXIT.error;
      // Nothing runnable: an apply whose every action a cap held back has still left the fix undone.
      if (args.command === 'apply')
        return plan.actions.some((action) => action.status === 'deferred') ? EXIT.applyIncomplete : EXIT.ok;
      // Muted findings are accepted: only the others are drift.
      return plan.findings.some((finding) => finding.muted === undefined) ? EXIT.drift : EXIT.ok;
    }
    // A saved plan was reviewed when it was made: it is not asked about again.
    if (!args.yes && saved === undefined) {
      if (args.output === 'text') print(text(toReport('plan', plan, apiCalls())));
      if (!(await confirm(`Apply ${runnable} action(s)? Only 'yes' is accepted: `))) {
        process.stderr.write('Apply cancelled: nothing changed.\n');
        return EXIT.error;
      }
    }
    // Each account's actions run with its own clients, one account after the other. Agent restarts
    // use the deployed stack's document and claims table where the account has them; say which, and
    // whether concurrent runs are guarded (aws/restart-discovery.ts).
    const parts = organizationRun
      ? organizationRun.entered.map((account) => ({
          pool: account.pool,
          plan: { ...plan, actions: plan.actions.filter((action) => action.accountId === account.accountId) },
        }))
      : [{ pool, plan }];
    const results: ActionResult[] = [];
    for (const part of parts) {
      if (!part.plan.actions.some((action) => action.status === 'planned')) continue;
      for (const { note } of await prepareRestarts(part.plan, part.pool)) process.stderr.write(`${note}\n`);
      writer?.start();
      results.push(...(await applyAccountPlan(part.plan, part.pool, progress, config)));
      writer?.stop();
    }
    const report = toReport('apply', plan, apiCalls(), results);
    print(render(report));
    if (failed()) return EXIT.error;
    // A saved action that changed or is held back now leaves the saved plan undone.
    const savedUndone = savedSkipped.some((skip) => skip.why !== 'gone');
    return applySucceeded(results) && !savedUndone ? EXIT.ok : EXIT.applyIncomplete;
  } catch (error) {
    process.stderr.write(`error: ${errorMessage(error)}\n`);
    return EXIT.error;
  } finally {
    writer?.stop();
  }
}
