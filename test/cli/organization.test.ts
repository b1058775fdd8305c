// Several accounts and Regions in one run: --profile, --regions all, and (below) --role-name with
// --accounts or --organization. Each test seeds accounts of its own on the shared moto server.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import type { RunReport } from '../../core/report.ts';
import { motoEndpoint } from '../harness/aws.ts';
import { driftedAccount, runCli } from './cli-harness.ts';

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

function reportOf(stdout: string): RunReport {
  const report = JSON.parse(stdout) as RunReport;
  expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  return report;
}

/** An environment without credentials or Region: only the moto endpoint, and what `extra` adds. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AWS_ENDPOINT_URL: motoEndpoint(),
    // No ~/.aws of the machine's: the files are the test's own (or none).
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    ...extra,
  };
}

/** Shared config and credentials files with `profile` holding `accountId`'s (moto) keys. */
async function profileFiles(
  profile: string,
  accountId: string,
  region: string,
): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'eer-profile-'));
  const config = path.join(dir, 'config');
  const credentials = path.join(dir, 'credentials');
  await writeFile(config, `[profile ${profile}]\nregion = ${region}\n`);
  await writeFile(
    credentials,
    `[${profile}]\naws_access_key_id = ${accountId}\naws_secret_access_key = test\n`,
  );
  return { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };
}

describe('--profile and --regions all', () => {
  it('--profile takes the credentials and the default Region from the shared files; an unknown profile is an error', async () => {
    const { acct, vpcId } = await driftedAccount();
    const files = await profileFiles('team', acct.accountId, 'us-east-1');
    const run = await runCli(['plan', '--profile', 'team', '--output', 'json', '--quiet'], bareEnv(files));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(2);
    const report = reportOf(run.stdout);
    expect(report.regions).toEqual(['us-east-1']);
    expect(report.vpcs.map((vpc) => vpc.vpcId)).toEqual([vpcId]);

    const unknown = await runCli(
      ['plan', '--profile', 'nobody', '--region', 'us-east-1', '--quiet'],
      bareEnv(files),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nobody/);
    expect(unknown.stdout).toBe('');
  });

  it('--regions all sweeps the Regions enabled for the account (not an opt-in one it did not opt in to, nor another partition)', async () => {
    const { acct, vpcId } = await driftedAccount();
    const run = await runCli(['plan', '--regions', 'all', '--output', 'json', '--quiet'], {
      ...bareEnv(acct.env),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(2);
    const report = reportOf(run.stdout);
    expect(report.regions).toContain('us-east-1');
    expect(report.regions).toContain('eu-west-1');
    // ap-east-1 is an opt-in Region (moto: not opted in); cn-north-1 is another partition's.
    expect(report.regions).not.toContain('ap-east-1');
    expect(report.regions).not.toContain('cn-north-1');
    expect(report.failedRegions).toEqual([]);
    expect(report.findings.map((finding) => [finding.region, finding.vpcId])).toEqual([['us-east-1', vpcId]]);
  });

  it('--regions takes a list too; all with --region, or an empty list, is a usage error', async () => {
    const { acct } = await driftedAccount();
    const listed = await runCli(
      ['plan', '--regions', 'us-east-1,eu-west-1', '--output', 'json', '--quiet'],
      bareEnv(acct.env),
    );
    expect(reportOf(listed.stdout).regions).toEqual(['us-east-1', 'eu-west-1']);
    for (const args of [
      ['--regions', 'all', '--region', 'us-east-1'],
      ['--regions', ','],
      ['--regions', 'us-east-1,nowhere'],
      ['--profile', ''],
    ]) {
      const run = await runCli(['plan', ...args], bareEnv(acct.env));
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(/^error: .*(--regions|--profile)/);
    }
  });
});
