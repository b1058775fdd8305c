// The CLI as an operator runs it, shared by the CLI's test files: a child process against moto.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { createCluster, createNetwork, createService, registerTaskDefinition } from '../harness/seed.ts';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cli/bin.ts` with `args` in an environment of exactly `env`, `input` on its stdin. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'cli/bin.ts'), ...args], {
      cwd: repoRoot,
      env,
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

/** Runs the CLI against `acct` (none: no credentials at all). */
export function cli(acct: Account | undefined, args: readonly string[], input = ''): Promise<Run> {
  return runCli(
    args,
    { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(acct?.env ?? {}) },
    input,
  );
}

/** A Fargate service logging with awslogs in one private subnet: one finding, a group and an endpoint to make. */
export async function driftedAccount(): Promise<{ acct: Account; vpcId: string }> {
  const acct = newAccount();
  return { acct, ...(await seedDrift(acct)) };
}

/** Seeds {@link driftedAccount}'s drift in `acct` (a network at `cidr`). */
export async function seedDrift(acct: Account, cidr = '10.11.0.0/16'): Promise<{ vpcId: string }> {
  const network = await createNetwork(acct, { cidr, azs: ['a'] });
  const cluster = await createCluster(acct, 'c');
  const td = await registerTaskDefinition(acct, { family: 'app', images: ['nginx:1'], logDriver: 'awslogs' });
  await createService(acct, {
    cluster,
    name: 'app',
    taskDefinition: td,
    launchType: 'FARGATE',
    subnets: network.subnetIds,
  });
  return { vpcId: network.vpcId };
}

export async function endpointCount(acct: Account, vpcId: string): Promise<number> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).length;
}
