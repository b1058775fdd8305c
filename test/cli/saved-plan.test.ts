// Saved plans: `plan --out FILE`, then `apply --plan FILE` runs exactly that plan, re-checked; a plan
// file is untrusted input, bound to its accounts, Regions, config and tool version, and refused stale.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanFile } from '../../cli/saved-plan.ts';
import { FINDING_CODES } from '../../core/findings.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { cli, driftedAccount, endpointCount } from './cli-harness.ts';

async function savedPlan() {
  const { acct, vpcId } = await driftedAccount();
  const dir = await mkdtemp(path.join(tmpdir(), 'eer-plan-'));
  const file = path.join(dir, 'plan.json');
  const run = await cli(acct, ['plan', '--region', acct.region, '--out', file, '--quiet']);
  expect(run.code, run.stderr).toBe(2);
  const saved = JSON.parse(await readFile(file, 'utf8')) as PlanFile;
  return { acct, vpcId, dir, file, saved };
}

type Editable = { -readonly [K in keyof PlanFile]: PlanFile[K] } & Record<string, unknown>;

/** Rewrites the plan file through `edit`. */
async function tamper(file: string, edit: (saved: Editable) => void): Promise<void> {
  const saved = JSON.parse(await readFile(file, 'utf8')) as Editable;
  edit(saved);
  await writeFile(file, JSON.stringify(saved));
}

describe('saved plans', () => {
  it('plan --out saves the plan, bound to its account, Region, config and version; apply --plan runs exactly it', async () => {
    const { acct, vpcId, file, saved } = await savedPlan();
    expect(saved).toMatchObject({
      kind: 'ecs-endpoint-remediator/plan',
      version: 2,
      toolVersion: packageJson.version,
      accounts: [acct.accountId],
      regions: [acct.region],
    });
    expect(saved.plan.actions.map((a) => a.kind).sort()).toEqual([
      'CREATE_ENDPOINT',
      'CREATE_SECURITY_GROUP',
    ]);
    const apply = await cli(acct, ['apply', '--region', acct.region, '--plan', file, '--output', 'json']);
    expect(apply.code, apply.stderr).toBe(0);
    const report = JSON.parse(apply.stdout) as {
      actions: Array<{ id: string; result?: { outcome: string } }>;
    };
    expect(report.actions.map((a) => [a.id, a.result?.outcome]).sort()).toEqual(
      saved.plan.actions.map((a) => [a.id, 'succeeded']).sort(),
    );
    expect(await endpointCount(acct, vpcId)).toBe(1);
    // Applied again: every saved action is no longer needed; nothing is made twice.
    const again = await cli(acct, ['apply', '--region', acct.region, '--plan', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('not applied: no longer needed');
    expect(await endpointCount(acct, vpcId)).toBe(1);
  });

  it('a saved action whose content changed is skipped and reported, never applied as written', async () => {
    const { acct, vpcId, file } = await savedPlan();
    await tamper(file, (saved) => {
      const create = saved.plan.actions.find((a) => a.kind === 'CREATE_ENDPOINT') as unknown as Record<
        string,
        unknown
      >;
      create.subnetIds = ['subnet-0123456789abcdef0'];
    });
    const apply = await cli(acct, ['apply', '--region', acct.region, '--plan', file]);
    expect(apply.code, apply.stderr).toBe(3);
    expect(apply.stderr).toMatch(/saved CREATE_ENDPOINT \S+ not applied: changed since the plan was saved/);
    expect(await endpointCount(acct, vpcId)).toBe(0);
  });

  it('refuses a stale plan, another config, other Regions, another account and a malformed file; nothing changes', async () => {
    const { acct, vpcId, dir, file } = await savedPlan();
    const refused = async (args: string[], expected: RegExp) => {
      const run = await cli(acct, ['apply', '--region', acct.region, '--plan', file, ...args]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(expected);
    };
    const config = path.join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ limits: { maxActionsPerRun: 5 } }));
    await refused(['--config', config], /made with another config/);
    await refused(['--region', 'eu-west-1'], /made for us-east-1, this run is for eu-west-1, us-east-1/);
    await refused(['--max-plan-age', '0'], /--max-plan-age takes whole minutes/);
    await tamper(file, (saved) => {
      saved.createdAt = new Date(Date.now() - 2 * 3600_000).toISOString();
    });
    await refused([], /made 1[12]\d minutes ago, more than --max-plan-age 60: plan again/);
    await tamper(file, (saved) => {
      saved.createdAt = new Date().toISOString();
      saved.accounts = ['999999999999'];
    });
    await refused([], /made in account 999999999999, these credentials reach \d{12}/);
    await tamper(file, (saved) => {
      saved.toolVersion = '0.0.1';
      saved.extra = true;
    });
    await refused([], /\(root\): Unrecognized key: "extra"/);
    await writeFile(file, '{ half');
    await refused([], /not valid JSON/);
    expect(await endpointCount(acct, vpcId)).toBe(0);
  });

  it('refuses a plan file of version 1, or one whose actions do not name their account', async () => {
    const { acct, file } = await savedPlan();
    const refused = async (expected: RegExp) => {
      const run = await cli(acct, ['apply', '--region', acct.region, '--plan', file]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(expected);
    };
    await tamper(file, (saved) => {
      (saved.plan as unknown as { actions: Array<Record<string, unknown>> }).actions.forEach((action) => {
        delete action.accountId;
      });
    });
    await refused(/plan\.actions\.0\.accountId/);
    await tamper(file, (saved) => {
      (saved as Record<string, unknown>).version = 1;
    });
    await refused(/a plan file of version 1, this tool reads version 2 .*: plan again/);
  });

  it('--out goes with plan, --plan with apply; --version prints the version, --list-checks the codes', async () => {
    expect((await cli(undefined, ['apply', '--out', 'x.json'])).stderr).toContain('--out goes with plan');
    expect((await cli(undefined, ['plan', '--plan', 'x.json'])).stderr).toContain('--plan goes with apply');
    const checks = await cli(undefined, ['--list-checks']);
    expect(checks.code).toBe(0);
    for (const code of FINDING_CODES) expect(checks.stdout).toMatch(new RegExp(`^${code} +\\S`, 'm'));
    expect(checks.stdout.split('\n').filter((line) => line.length > 120)).toEqual([]);
    const version = await cli(undefined, ['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `ecs-endpoint-remediator ${packageJson.version}\n` });
  });
});
