// The CLI as an operator runs it: a child process against moto, reading its stdout, stderr and exit code.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import asffSchema from '../../schema/asff-output.schema.json' with { type: 'json' };
import ocsfSchema from '../../schema/ocsf-output.schema.json' with { type: 'json' };
import type { AsffReport } from '../../core/asff.ts';
import { CSV_COLUMNS } from '../../core/csv.ts';
import type { RunReport } from '../../core/report.ts';
import { repoRoot } from '../harness/moto.ts';
import { MINIMUM_NODE_MAJOR, nodeVersionProblem } from '../../cli/node-version.ts';
import { cli, driftedAccount, endpointCount } from './cli-harness.ts';

/** Every `node` on the PATH other than this one, with its major version (the system's Node, here 20). */
function otherNodes(): Array<{ bin: string; major: number }> {
  const found = new Map<string, number>();
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const bin = path.join(dir, 'node');
    if (!dir || found.has(bin) || !existsSync(bin) || bin === process.execPath) continue;
    const version = spawnSync(bin, ['-p', 'process.versions.node']).stdout.toString().trim();
    const major = Number(version.split('.')[0]);
    if (Number.isInteger(major) && major > 0) found.set(bin, major);
  }
  return [...found].map(([bin, major]) => ({ bin, major }));
}

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
const validateAsff = new Ajv2020({ allErrors: true, strict: false }).compile(asffSchema);
const validateOcsf = new Ajv2020({ allErrors: true, strict: false }).compile(ocsfSchema);

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
    expect(report).toMatchObject({ schemaVersion: 2, command: 'plan', regions: ['us-east-1'] });
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

  it('plan --output asff, ocsf and csv print the findings in their published schemas; apply --output asff says PASSED', async () => {
    const { acct, vpcId } = await driftedAccount();
    const asff = await cli(acct, ['plan', '--output', 'asff', '--quiet']);
    expect(asff.code).toBe(2);
    const asffReport = JSON.parse(asff.stdout) as AsffReport;
    expect(validateAsff(asffReport), JSON.stringify(validateAsff.errors)).toBe(true);
    expect(asffReport.Findings.map((f) => [f.GeneratorId, f.Compliance.Status, f.AwsAccountId])).toEqual([
      ['ecs-endpoint-remediator/ENDPOINT_MISSING', 'FAILED', acct.accountId],
    ]);
    expect(asffReport.Findings[0]?.ProductArn).toBe(
      `arn:aws:securityhub:us-east-1:${acct.accountId}:product/${acct.accountId}/default`,
    );
    const ocsf = await cli(acct, ['plan', '--output', 'ocsf', '--quiet']);
    expect(ocsf.code).toBe(2);
    const events = JSON.parse(ocsf.stdout) as unknown;
    expect(validateOcsf(events), JSON.stringify(validateOcsf.errors)).toBe(true);
    const csv = await cli(acct, ['plan', '--output', 'csv', '--quiet']);
    expect(csv.code).toBe(2);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[1]).toContain(vpcId);
    expect(lines).toHaveLength(3); // header, one finding, and the empty string after the last CRLF

    const applied = await cli(acct, ['apply', '--yes', '--output', 'asff', '--quiet']);
    expect(applied.code).toBe(0);
    const after = JSON.parse(applied.stdout) as AsffReport;
    expect(validateAsff(after), JSON.stringify(validateAsff.errors)).toBe(true);
    expect(after.Findings.map((f) => [f.Id, f.Compliance.Status])).toEqual([
      [asffReport.Findings[0]?.Id, 'PASSED'],
    ]);
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

  it('a finding the mutelist accepts is shown with its reason; plan exits 0 and apply changes nothing', async () => {
    const { acct, vpcId } = await driftedAccount();
    const dir = await mkdtemp(path.join(tmpdir(), 'eer-'));
    const config = path.join(dir, 'config.json');
    const reason = 'CHG-42: logs through the NAT for now';
    await writeFile(
      config,
      JSON.stringify({ mutelist: [{ vpcIds: [vpcId], reason, expires: '2999-12-31' }] }),
    );
    const run = await cli(acct, ['plan', '--config', config, '--region', acct.region]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`ENDPOINT_MISSING logs: muted: ${reason} (until 2999-12-31)`);
    expect(run.stdout).toContain('0 finding(s) (0 high, 0 medium, 0 low), 1 muted');
    // Summary first; piped output has no colours, and every line fits 120 columns.
    expect(run.stdout.split('\n')[0]).toBe('Summary');
    expect(run.stdout).toContain('1 VPC(s) in scope, 0 with findings: 0 high, 0 medium, 0 low, 1 muted');
    expect(run.stdout).not.toContain('\x1b[');
    expect(run.stdout.split('\n').filter((line) => line.length > 120)).toEqual([]);
    const apply = await cli(acct, ['apply', '--yes', '--config', config, '--region', acct.region]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(await endpointCount(acct, vpcId)).toBe(0);
  });

  it('bad arguments print the usage and exit 1; --help exits 0', async () => {
    const unknown = await cli(undefined, ['destroy']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "destroy"');
    expect(unknown.stderr).toContain('Usage:');
    const output = await cli(undefined, ['plan', '--output', 'yaml']);
    expect(output.code).toBe(1);
    expect(output.stderr).toContain('--output must be one of text, json, asff, ocsf, csv');
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

  it('the packaged bin refuses a Node.js older than 22 at once, naming the versions it needs', () => {
    expect(nodeVersionProblem('24.11.1')).toBeUndefined();
    expect(nodeVersionProblem('22.12.0')).toBeUndefined();
    expect(nodeVersionProblem('20.20.2')).toContain('Node.js 20.20.2 is not supported');
    expect(nodeVersionProblem('18.0.0')).toContain(`Node.js ${MINIMUM_NODE_MAJOR} or later`);
    // The system's Node of this machine and of CI is 20 (the toolchain brings 24): the bundle built by
    // the previous test must fail loudly there, never print nothing and exit 0.
    const old = otherNodes().filter(({ major }) => major < MINIMUM_NODE_MAJOR);
    expect(old.length, 'a Node.js older than 22 on the PATH').toBeGreaterThan(0);
    for (const { bin } of old) {
      const run = spawnSync(bin, [path.join(repoRoot, 'dist/cli.mjs'), 'plan', '--region', 'us-east-1'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      });
      expect(run.status, bin).toBe(1);
      expect(run.stdout.toString()).toBe('');
      expect(run.stderr.toString()).toMatch(/^error: Node\.js 20\.[0-9.]+ is not supported: .*22 or later/);
    }
  });

  it("the README's JSON command (npm run -s cli -- plan --output json) prints JSON alone on stdout", async () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain('npm run -s cli -- plan --region us-east-1 --output json');
    const { acct, vpcId } = await driftedAccount();
    const run = spawnSync(
      'npm',
      ['run', '-s', 'cli', '--', 'plan', '--region', acct.region, '--output', 'json'],
      {
        cwd: repoRoot,
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
