// The CLI as an operator runs it: a child process against moto, reading its stdout, stderr and exit code.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import type { RunReport } from '../../core/report.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { createCluster, createNetwork, createService, registerTaskDefinition } from '../harness/seed.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(acct: Account | undefined, args: readonly string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'cli/main.ts'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(acct?.env ?? {}) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A Fargate service logging with awslogs in one private subnet: one finding, a group and an endpoint to make. */
async function driftedAccount(): Promise<{ acct: Account; vpcId: string }> {
  const acct = newAccount();
  const network = await createNetwork(acct, { cidr: '10.11.0.0/16', azs: ['a'] });
  const cluster = await createCluster(acct, 'c');
  const td = await registerTaskDefinition(acct, { family: 'app', images: ['nginx:1'], logDriver: 'awslogs' });
  await createService(acct, {
    cluster,
    name: 'app',
    taskDefinition: td,
    launchType: 'FARGATE',
    subnets: network.subnetIds,
  });
  return { acct, vpcId: network.vpcId };
}

async function endpointCount(acct: Account, vpcId: string): Promise<number> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).length;
}

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

describe('ecs-endpoint-remediator CLI', () => {
  it('plan exits 2 on drift and prints a per-VPC table; JSON output matches the published schema', async () => {
    const { acct, vpcId } = await driftedAccount();
    const text = await cli(acct, ['plan']);
    expect(text.code).toBe(2);
    expect(text.stdout).toContain(vpcId);
    expect(text.stdout).toMatch(/HIGH\s+ENDPOINT_MISSING\s+logs\s+fix/);
    expect(text.stdout).toMatch(/\+ CREATE_ENDPOINT\s+create com\.amazonaws\.us-east-1\.logs/);
    expect(text.stderr).toContain('[us-east-1]'); // progress goes to stderr

    const json = await cli(acct, ['plan', '--output', 'json', '--quiet']);
    expect(json.code).toBe(2);
    expect(json.stderr).toBe('');
    const report = JSON.parse(json.stdout) as RunReport;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report).toMatchObject({ schemaVersion: 1, command: 'plan', regions: ['us-east-1'] });
    expect(report.findings.map((f) => f.code)).toEqual(['ENDPOINT_MISSING']);
    expect(report.stats.apiCalls.total).toBeGreaterThan(0);
    expect(report.stats.apiCalls.byService.ec2).toBeGreaterThan(0);
  });

  it('apply asks first: anything but yes changes nothing and exits 1', async () => {
    const { acct, vpcId } = await driftedAccount();
    const declined = await cli(acct, ['apply', '--quiet'], 'no\n');
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('Apply cancelled');
    const closed = await cli(acct, ['apply', '--quiet']);
    expect(closed.code).toBe(1);
    expect(await endpointCount(acct, vpcId)).toBe(0);

    const accepted = await cli(acct, ['apply', '--quiet'], 'yes\n');
    expect(accepted.code).toBe(0);
    expect(await endpointCount(acct, vpcId)).toBe(1);
  });

  it('apply --yes --output json reports each outcome; the next plan exits 0 and the next apply does nothing', async () => {
    const { acct } = await driftedAccount();
    const applied = await cli(acct, ['apply', '--yes', '--output', 'json', '--quiet']);
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout) as RunReport;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.actions.map((a) => [a.kind, a.result?.outcome])).toEqual([
      ['CREATE_SECURITY_GROUP', 'succeeded'],
      ['CREATE_ENDPOINT', 'succeeded'],
    ]);
    expect(report.stats.applied).toEqual({ succeeded: 2, 'already-satisfied': 0, failed: 0, skipped: 0 });

    expect((await cli(acct, ['plan', '--quiet'])).code).toBe(0);
    const again = await cli(acct, ['apply', '--yes', '--output', 'json', '--quiet']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as RunReport).actions).toEqual([]);
  });

  it('apply exits 3 when a cap defers part of the fix', async () => {
    const { acct, vpcId } = await driftedAccount();
    const dir = await mkdtemp(path.join(tmpdir(), 'eer-'));
    const config = path.join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ limits: { maxEndpointsCreatedPerRun: 0 } }));
    const run = await cli(acct, ['apply', '--yes', '--config', config, '--quiet']);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('deferred');
    expect(await endpointCount(acct, vpcId)).toBe(0);
  });

  it('one Region failing hides none of the others: their report is printed, the failure named, exit 1', async () => {
    const { acct, vpcId } = await driftedAccount();
    // moto serves no Region of that name: its discovery fails as an unreachable Region's would.
    const run = await cli(acct, [
      'plan',
      '--region',
      acct.region,
      '--region',
      'zz-nowhere-9',
      '--output',
      'json',
      '--quiet',
    ]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as RunReport;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.regions).toEqual([acct.region, 'zz-nowhere-9']);
    expect(report.failedRegions.map((failed) => failed.region)).toEqual(['zz-nowhere-9']);
    expect(report.findings.map((finding) => [finding.vpcId, finding.code])).toEqual([
      [vpcId, 'ENDPOINT_MISSING'],
    ]);
    expect(run.stderr).toContain('error: zz-nowhere-9:');
  });

  it('a broken config is an error naming the field, and nothing runs', async () => {
    const { acct, vpcId } = await driftedAccount();
    const dir = await mkdtemp(path.join(tmpdir(), 'eer-'));
    const config = path.join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ limits: { maxEndpointsCreatedPerRun: 'many' } }));
    const run = await cli(acct, ['apply', '--yes', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('limits.maxEndpointsCreatedPerRun');
    expect(run.stdout).toBe('');
    await writeFile(config, '{ not json');
    const unparsable = await cli(acct, ['plan', '--config', config]);
    expect(unparsable.code).toBe(1);
    expect(unparsable.stderr).toMatch(/not valid JSON/);
    expect(await endpointCount(acct, vpcId)).toBe(0);
  });

  it('bad arguments print the usage and exit 1; --help exits 0', async () => {
    const unknown = await cli(undefined, ['destroy']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "destroy"');
    expect(unknown.stderr).toContain('Usage:');
    const output = await cli(undefined, ['plan', '--output', 'yaml']);
    expect(output.code).toBe(1);
    expect(output.stderr).toContain('--output must be text or json');
    const region = await cli(undefined, ['plan', '--region', 'mars']);
    expect(region.code).toBe(1);
    const help = await cli(undefined, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });

  it('the packaged bin (dist/cli.mjs, bundled by npm run build) runs a plan on its own', async () => {
    const build = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-cli.ts')], {
      cwd: repoRoot,
    });
    expect(build.status, build.stderr.toString()).toBe(0);
    const { acct, vpcId } = await driftedAccount();
    const run = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'dist/cli.mjs'), 'plan', '--output', 'json', '--quiet'],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...acct.env },
      },
    );
    expect(run.status, run.stderr.toString()).toBe(2);
    const report = JSON.parse(run.stdout.toString()) as RunReport;
    expect(report.findings.map((f) => [f.code, f.vpcId])).toEqual([['ENDPOINT_MISSING', vpcId]]);
  });

  it('without any Region it says how to give one', async () => {
    const run = await cli(undefined, ['plan']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no Region');
  });
});
