// Several accounts and Regions in one run: --profile, --regions all, and (below) --role-name with
// --accounts or --organization. Each test seeds accounts of its own on the shared moto server.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import type { RunReport } from '../../core/report.ts';
import { motoEndpoint } from '../harness/aws.ts';
import type { Account } from '../harness/aws.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import {
  accountFor,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import { shareSubnets } from '../harness/seed-network.ts';
import { newAccount } from '../harness/aws.ts';
import { createOrganization } from '../harness/organization.ts';
import { cli, driftedAccount, endpointCount, runCli, seedDrift } from './cli-harness.ts';

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

describe('several accounts: --role-name with --accounts or --organization', () => {
  it('--accounts: one report over every account and Region, accountId on every VPC, finding and action; a failing Region keeps the rest', async () => {
    const { acct: caller } = await driftedAccount();
    const { acct: b, vpcId: vpcB } = await driftedAccount();
    const { acct: c, vpcId: vpcC } = await driftedAccount();
    const json = await cli(caller, [
      'plan',
      '--role-name',
      'EcsEndpointReadOnly',
      '--accounts',
      `${b.accountId},${c.accountId}`,
      '--region',
      'us-east-1',
      '--region',
      'zz-nowhere-9',
      '--output',
      'json',
      '--quiet',
    ]);
    expect(json.code, json.stderr).toBe(1); // a Region failed: an error, after the report
    const report = reportOf(json.stdout);
    expect(report.accounts).toEqual([b.accountId, c.accountId].sort());
    expect(report.failedAccounts).toEqual([]);
    expect(report.failedRegions.map((f) => [f.accountId, f.region]).sort()).toEqual(
      [
        [b.accountId, 'zz-nowhere-9'],
        [c.accountId, 'zz-nowhere-9'],
      ].sort(),
    );
    expect(report.vpcs.map((vpc) => [vpc.accountId, vpc.vpcId]).sort()).toEqual(
      [
        [b.accountId, vpcB],
        [c.accountId, vpcC],
      ].sort(),
    );
    expect(report.findings.map((f) => [f.accountId, f.vpcId, f.code]).sort()).toEqual(
      [
        [b.accountId, vpcB, 'ENDPOINT_MISSING'],
        [c.accountId, vpcC, 'ENDPOINT_MISSING'],
      ].sort(),
    );
    for (const finding of report.findings) expect(finding.id).toContain(`/${finding.accountId}/us-east-1/`);
    expect(report.actions.length).toBeGreaterThan(0);
    for (const action of report.actions)
      expect(action.accountId).toBe(action.vpcId === vpcB ? b.accountId : c.accountId);
    expect(report.stats.apiCalls.byOperation['sts:AssumeRole']).toBe(2);
    expect(json.stderr).toContain(`error: ${b.accountId} zz-nowhere-9:`);

    // The text summary: a line per account and Region.
    const text = await cli(caller, [
      'plan',
      '--role-name',
      'EcsEndpointReadOnly',
      '--accounts',
      b.accountId,
      c.accountId,
    ]);
    expect(text.code).toBe(2);
    const summary = text.stdout.split('\n\n')[0] ?? '';
    expect(summary).toMatch(
      new RegExp(`^  ${b.accountId} us-east-1  1 VPC\\(s\\) in scope, 1 with findings`, 'm'),
    );
    expect(summary).toMatch(
      new RegExp(`^  ${c.accountId} us-east-1  1 VPC\\(s\\) in scope, 1 with findings`, 'm'),
    );
    expect(text.stderr).toContain(`[${b.accountId} us-east-1]`);
  });

  it("apply with --accounts makes each account's fix with that account's role", async () => {
    const { acct: caller } = await driftedAccount();
    const { acct: b, vpcId: vpcB } = await driftedAccount();
    const run = await cli(caller, [
      'apply',
      '--yes',
      '--quiet',
      '--role-name',
      'Remediator',
      '--accounts',
      b.accountId,
      '--output',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = reportOf(run.stdout);
    expect(
      report.actions.every(
        (action) => action.accountId === b.accountId && action.result?.outcome === 'succeeded',
      ),
    ).toBe(true);
    expect(await endpointCount(b, vpcB)).toBeGreaterThan(0);
    // The caller's own account was not touched.
    const again = await cli(caller, ['plan', '--quiet', '--output', 'json']);
    expect(reportOf(again.stdout).findings.map((f) => f.accountId)).toEqual([caller.accountId]);
  });

  it('--organization: every ACTIVE account; one whose role is refused is reported with the others intact; the management account is read with its own credentials', async () => {
    const { acct: management, vpcId: managementVpc } = await driftedAccount();
    const { memberIds } = await createOrganization(management, 2);
    const [reachable = '', refused = ''] = memberIds;
    const member: Account = accountFor(management.endpoint, reachable, management.region);
    const { vpcId: memberVpc } = await seedDrift(member, '10.21.0.0/16');
    // The refused member's role trusts someone else: AWS answers AccessDenied (moto assumes any role).
    const proxy = await startFaultProxy({
      target: management.endpoint,
      rules: [
        {
          service: 'sts',
          operation: 'AssumeRole',
          when: (request) => request.body.includes(refused),
          fault: {
            kind: 'denied',
            message: `not authorized to perform: sts:AssumeRole on arn:aws:iam::${refused}:role/EcsEndpointReadOnly`,
          },
        },
      ],
    });
    try {
      const run = await runCli(
        ['plan', '--role-name', 'EcsEndpointReadOnly', '--organization', '--output', 'json', '--quiet'],
        bareEnv({ ...management.env, AWS_ENDPOINT_URL: proxy.endpoint }),
      );
      expect(run.code, run.stderr).toBe(1);
      const report = reportOf(run.stdout);
      expect(report.accounts).toEqual([management.accountId, ...memberIds].sort());
      expect(report.failedAccounts.map((failed) => failed.accountId)).toEqual([refused]);
      expect(report.failedAccounts[0]?.error).toMatch(
        new RegExp(`^sts:AssumeRole arn:aws:iam::${refused}:role/EcsEndpointReadOnly failed: not authorized`),
      );
      expect(report.findings.map((f) => [f.accountId, f.vpcId]).sort()).toEqual(
        [
          [management.accountId, managementVpc],
          [reachable, memberVpc],
        ].sort(),
      );
      expect(run.stderr).toContain(`error: account ${refused}: sts:AssumeRole`);
      // One AssumeRole per member (the refused one once: AccessDenied is not retried), none for itself.
      expect(report.stats.apiCalls.byOperation['sts:AssumeRole']).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it('--organization from an account that may not list it says it needs the management account or a delegated administrator; bad account lists are refused', async () => {
    const { acct } = await driftedAccount();
    const run = await cli(acct, ['plan', '--role-name', 'EcsEndpointReadOnly', '--organization']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/AWSOrganizationsNotInUseException/);
    expect(run.stderr).toMatch(
      /management account or from a member account that is a delegated administrator/,
    );
    for (const [args, message] of [
      [['--role-name', 'R', '--accounts', '12345'], /"12345" is not a 12-digit account id/],
      [['--role-name', 'R'], /--role-name needs the accounts/],
      [['--accounts', '123456789012'], /--accounts needs --role-name/],
      [['--role-name', 'R', '--organization', '--accounts', '123456789012'], /exclude each other/],
      [['--role-name', 'no spaces', '--organization'], /is not an IAM role name/],
      [['--role-name', 'R', '--organization', '--parallel-accounts', '0'], /--parallel-accounts takes/],
    ] as const) {
      const bad = await cli(acct, ['plan', ...args]);
      expect(bad.code, args.join(' ')).toBe(1);
      expect(bad.stderr).toMatch(message);
      expect(bad.stdout).toBe('');
    }
  });
});

/** A participant's Fargate service `api` (cluster `apps`) logging with awslogs, in `subnets` of a shared VPC. */
async function loggingService(
  participant: Account,
  subnets: string[],
  securityGroups?: string[],
): Promise<void> {
  const cluster = await createCluster(participant, 'apps');
  const taskDefinition = await registerTaskDefinition(participant, {
    family: 'api',
    images: ['nginx:1'],
    logDriver: 'awslogs',
  });
  await createService(participant, {
    cluster,
    name: 'api',
    taskDefinition,
    launchType: 'FARGATE',
    subnets,
    ...(securityGroups ? { securityGroups } : {}),
  });
}

describe('shared VPCs in a run over several accounts', () => {
  it("a participant's needs meet the owner's endpoints: unverifiable alone, ENDPOINT_MISSING (manual) while the owner lacks it, nothing once it has one that serves the work", async () => {
    // The owner shares a subnet of its VPC (AWS RAM, moto_network.py N12); the participant runs a
    // Fargate service logging with awslogs there. The owner runs no ECS work of its own.
    const owner = newAccount();
    const participant = newAccount();
    const net = await createNetwork(owner, { cidr: '10.29.0.0/16', azs: ['a'], name: 'shared' });
    await shareSubnets(owner, participant, { subnetIds: net.subnetIds });
    await loggingService(participant, net.subnetIds);

    const alone = await cli(participant, ['plan', '--output', 'json', '--quiet']);
    expect(reportOf(alone.stdout).findings.map((f) => [f.code, f.status])).toEqual([
      ['SHARED_VPC_UNVERIFIABLE', 'unknown'],
    ]);

    const together = [
      'plan',
      '--role-name',
      'EcsEndpointReadOnly',
      '--accounts',
      owner.accountId,
      participant.accountId,
      '--output',
      'json',
      '--quiet',
    ];
    const missing = reportOf((await cli(owner, together)).stdout);
    expect(
      missing.findings.map((f) => [f.accountId, f.code, f.service, f.status, f.remediation.status]),
    ).toEqual([[participant.accountId, 'ENDPOINT_MISSING', 'logs', 'drift', 'manual']]);
    expect(missing.findings[0]?.message).toContain(`shared by account ${owner.accountId}`);
    expect(missing.findings[0]?.remediation.reason).toContain(`account ${owner.accountId}`);
    expect(missing.actions).toEqual([]); // only the owner can create it, and its own plan has no need of it

    const group = await createSecurityGroup(owner, {
      vpcId: net.vpcId,
      name: 'endpoints',
      ingress: [{ port: 443, cidr: '10.29.0.0/16' }],
    });
    await createEndpoint(owner, {
      vpcId: net.vpcId,
      service: 'logs',
      subnetIds: net.subnetIds,
      securityGroupIds: [group],
    });
    const met = await cli(owner, together);
    expect(met.code, met.stderr).toBe(0);
    const report = reportOf(met.stdout);
    expect(report.findings).toEqual([]);
    expect(report.vpcs.map((vpc) => [vpc.accountId, vpc.vpcId, vpc.ownerId, vpc.shared])).toEqual([
      [participant.accountId, net.vpcId, owner.accountId, true],
    ]);
  });

  it("the owner's endpoint is judged for the participant's work by AZ ID and security group: ENDPOINT_AZ_GAP and ENDPOINT_SG_NO_HTTPS in the participant's view, the owner's to fix", async () => {
    // Two subnets of the owner's, both shared. moto's us-east-1a and us-east-1b are use1-az6 and use1-az1;
    // the participant names them us-east-1f and us-east-1a (each account has its own names: P17).
    const owner = newAccount();
    const participant = newAccount();
    const covered = newAccount(); // a second participant, whose work the endpoint serves
    const net = await createNetwork(owner, { cidr: '10.31.0.0/16', azs: ['a', 'b'], name: 'shared' });
    const [inA = '', inB = ''] = net.subnetIds;
    await shareSubnets(owner, participant, { subnetIds: net.subnetIds });
    await shareSubnets(owner, covered, { subnetIds: [inA] });
    // The owner's endpoint: one subnet, in the owner's us-east-1a (use1-az6); its group admits only the
    // owner's own hosts' group.
    const hosts = await createSecurityGroup(owner, { vpcId: net.vpcId, name: 'hosts' });
    const endpointGroup = await createSecurityGroup(owner, {
      vpcId: net.vpcId,
      name: 'endpoints',
      // The owner's hosts, and the subnet the endpoint is in (10.31.0.0/24): not the participant's.
      ingress: [
        { port: 443, groupId: hosts },
        { port: 443, cidr: '10.31.0.0/24' },
      ],
    });
    const endpointId = await createEndpoint(owner, {
      vpcId: net.vpcId,
      service: 'logs',
      subnetIds: [inA],
      securityGroupIds: [endpointGroup],
    });
    // The participant's work: a Fargate service with its own group, in the subnet it calls us-east-1a
    // (use1-az1), which a comparison of names would take for the endpoint's zone.
    const app = await createSecurityGroup(participant, { vpcId: net.vpcId, name: 'app' });
    await loggingService(participant, [inB], [app]);
    // The second participant runs its work in the endpoint's own subnet: covered and admitted.
    await createCluster(covered, 'jobs');
    await createService(covered, {
      cluster: 'jobs',
      name: 'worker',
      taskDefinition: await registerTaskDefinition(covered, {
        family: 'worker',
        images: ['nginx:1'],
        logDriver: 'awslogs',
      }),
      launchType: 'FARGATE',
      subnets: [inA],
      securityGroups: [await createSecurityGroup(covered, { vpcId: net.vpcId, name: 'worker' })],
    });
    const together = [
      'plan',
      '--role-name',
      'EcsEndpointReadOnly',
      '--accounts',
      owner.accountId,
      participant.accountId,
      covered.accountId,
      '--output',
      'json',
      '--quiet',
    ];

    const run = await cli(owner, together);
    expect(run.code, run.stderr).toBe(2);
    const report = reportOf(run.stdout);
    expect(report.vpcs.map((vpc) => [vpc.accountId, vpc.availabilityZones]).sort()).toEqual(
      [
        [participant.accountId, ['us-east-1a']],
        [covered.accountId, ['us-east-1f']],
      ].sort(),
    );
    expect(
      report.findings.map((f) => [f.accountId, f.code, f.service, f.status, f.remediation.status]),
    ).toEqual([
      [participant.accountId, 'ENDPOINT_AZ_GAP', 'logs', 'drift', 'manual'],
      [participant.accountId, 'ENDPOINT_SG_NO_HTTPS', 'logs', 'drift', 'manual'],
    ]);
    const [gap, refused] = report.findings;
    expect(gap?.id).toBe(`ENDPOINT_AZ_GAP/${participant.accountId}/us-east-1/${net.vpcId}/logs`);
    expect(gap?.resourceId).toBe(endpointId);
    expect(gap?.message).toContain('use1-az1 (us-east-1a in this account)');
    expect(gap?.remediation.reason).toContain(`only the VPC's owner, account ${owner.accountId}`);
    expect(refused?.id).toBe(`ENDPOINT_SG_NO_HTTPS/${participant.accountId}/us-east-1/${net.vpcId}/logs`);
    expect(refused?.remediation.reason).toContain(endpointGroup);
    expect(report.actions).toEqual([]); // the participant cannot change the owner's endpoint

    // The owner's role may not read the endpoint's group: admission cannot be verified (unknown), the
    // AZ gap stands.
    const proxy = await startFaultProxy({
      target: owner.endpoint,
      rules: [
        {
          service: 'ec2',
          operation: 'DescribeSecurityGroups',
          when: (request) => request.body.includes(endpointGroup),
          fault: { kind: 'denied', code: 'UnauthorizedOperation', message: 'You are not authorized.' },
        },
      ],
    });
    try {
      const denied = await runCli(together, bareEnv({ ...owner.env, AWS_ENDPOINT_URL: proxy.endpoint }));
      const unsure = reportOf(denied.stdout);
      // Neither participant's admission can be verified then; the AZ gap is a fact.
      expect(unsure.findings.map((f) => [f.accountId, f.code, f.status]).sort()).toEqual(
        [
          [participant.accountId, 'ENDPOINT_AZ_GAP', 'drift'],
          [participant.accountId, 'ENDPOINT_SG_NO_HTTPS', 'unknown'],
          [covered.accountId, 'ENDPOINT_SG_NO_HTTPS', 'unknown'],
        ].sort(),
      );
      expect(unsure.findings[1]?.statusReason).toContain(endpointGroup);
      expect(unsure.findings[1]?.statusReason).toContain('UnauthorizedOperation');
    } finally {
      await proxy.stop();
    }

    // The owner admits the participant's subnet and adds a subnet in use1-az1: nothing left. (A rule
    // naming the participant's group admits it too, test/core/shared-vpcs.test.ts; moto refuses a rule
    // naming another account's group.)
    await owner.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: endpointGroup,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.31.1.0/24' }] },
        ],
      }),
    );
    await owner.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpointId, AddSubnetIds: [inB] }));
    const fixed = await cli(owner, together);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(reportOf(fixed.stdout).findings).toEqual([]);
  });
});
