/**
 * `npm run demo`: the main job on an emulated account. Starts moto, seeds a realistically broken
 * account, then runs the real CLI: plan → apply → plan. Stops the emulator at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMoto } from '../test/harness/moto.ts';
import type { Account } from '../test/harness/seed.ts';
import {
  accountFor,
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  createVpc,
  registerTaskDefinition,
} from '../test/harness/seed.ts';

const REGION = 'us-east-1';
const ACCOUNT_ID = '123456789012';

function banner(text: string): void {
  process.stdout.write(`\n\x1b[1m=== ${text}\x1b[0m\n`);
}

async function seed(acct: Account): Promise<void> {
  const ecr = `${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com`;
  const secret = `arn:aws:secretsmanager:${acct.region}:${acct.accountId}:secret:prod/db-AbCdEf`;

  // 1. EC2 capacity in private subnets (no egress): needs the ECS trio, SSM for restarts, ECR, logs, secrets.
  //    Someone started by hand: ecs-agent exists in one AZ with private DNS off and no 443 rule; a
  //    template copied from us-west-2 left an ecs endpoint of the wrong Region.
  const prod = await createNetwork(acct, { cidr: '10.10.0.0/16', name: 'prod-ec2', azs: ['a', 'b'] });
  const cluster = await createCluster(acct, 'prod');
  await addContainerInstance(acct, { cluster, subnetId: prod.subnetIds[0] ?? '' });
  await addContainerInstance(acct, { cluster, subnetId: prod.subnetIds[1] ?? '' });
  await addContainerInstance(acct, { cluster, subnetId: prod.subnetIds[1] ?? '', agentVersion: '1.20.0' });
  const api = await registerTaskDefinition(acct, {
    family: 'orders-api',
    images: [`${ecr}/orders-api:1.4.2`],
    logDriver: 'awslogs',
    secrets: [{ name: 'DB_PASSWORD', valueFrom: secret }],
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  await createService(acct, {
    cluster,
    name: 'orders-api',
    taskDefinition: api,
    launchType: 'EC2',
    desiredCount: 3,
  });
  const closed = await createSecurityGroup(acct, { vpcId: prod.vpcId, name: 'endpoints-closed' });
  await createEndpoint(acct, {
    vpcId: prod.vpcId,
    service: 'ecs-agent',
    subnetIds: [prod.subnetIds[0] ?? ''],
    securityGroupIds: [closed],
    privateDns: false,
  });
  await createEndpoint(acct, { vpcId: prod.vpcId, service: 'ecs', region: 'us-west-2', privateDns: false });

  // 2. Fargate in private subnets: private ECR image and a Parameter Store secret; no ECS trio needed.
  const payments = await createNetwork(acct, {
    cidr: '10.20.0.0/16',
    name: 'payments-fargate',
    azs: ['a', 'b', 'c'],
  });
  const fargateCluster = await createCluster(acct, 'payments');
  const worker = await registerTaskDefinition(acct, {
    family: 'payments-worker',
    images: [`${ecr}/payments-worker:7`],
    logDriver: 'awslogs',
    secrets: [
      {
        name: 'API_KEY',
        valueFrom: `arn:aws:ssm:${acct.region}:${acct.accountId}:parameter/payments/api-key`,
      },
    ],
  });
  await createService(acct, {
    cluster: fargateCluster,
    name: 'payments-worker',
    taskDefinition: worker,
    launchType: 'FARGATE',
    subnets: payments.subnetIds,
    desiredCount: 2,
  });

  // 3. Fargate behind a NAT gateway with a public image: works, but logs leave the AWS network.
  const web = await createNetwork(acct, {
    cidr: '10.30.0.0/16',
    name: 'web-egress',
    azs: ['a', 'b'],
    egress: 'nat',
  });
  const webTask = await registerTaskDefinition(acct, {
    family: 'web',
    images: ['public.ecr.aws/nginx/nginx:1.27'],
    logDriver: 'awslogs',
  });
  await createService(acct, {
    cluster: fargateCluster,
    name: 'web',
    taskDefinition: webTask,
    launchType: 'FARGATE',
    subnets: web.subnetIds,
  });

  // 4. A VPC without ECS work: no findings at all.
  await createVpc(acct, { cidr: '10.40.0.0/16', name: 'sandbox' });
}

/**
 * The demo's config: the emulator does not throttle, so endpoint creation is not paced at AWS's
 * published bucket (CreateVpcEndpoint: 4, then 0.3 a second; half of it by default, `rateLimits` in
 * docs/config.md), which would make this demo wait about a minute and a half. Against AWS, keep the
 * defaults.
 */
function demoConfig(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'eer-demo-')), 'config.json');
  const unpaced = { capacity: 1000, refillPerSecond: 1000 };
  writeFileSync(
    file,
    JSON.stringify({
      rateLimits: {
        buckets: { 'ec2:CreateVpcEndpoint': unpaced, 'ec2:ModifyVpcEndpoint': unpaced },
      },
    }),
  );
  return file;
}

function cli(acct: Account, args: string[]): number {
  process.stdout.write(`\n$ ecs-endpoint-remediator ${args.join(' ')}\n`);
  const run = spawnSync(process.execPath, ['cli/bin.ts', ...args], {
    stdio: 'inherit',
    env: { ...process.env, ...acct.env },
  });
  return run.status ?? 1;
}

async function main(): Promise<void> {
  const started = Date.now();
  banner('starting the AWS emulator (moto) on a loopback port');
  const moto = await startMoto();
  try {
    const acct = accountFor(moto.endpoint, ACCOUNT_ID, REGION);
    banner(`seeding account ${ACCOUNT_ID} in ${REGION}: 4 VPCs, EC2 and Fargate, broken endpoints`);
    await seed(acct);

    const config = demoConfig();
    banner('1. plan: what is wrong and how it will be fixed (exit 2 = drift)');
    const first = cli(acct, ['plan', '--region', REGION, '--quiet']);
    banner('2. apply --yes: fix it (--config lifts endpoint-creation pacing: moto does not throttle)');
    const applied = cli(acct, ['apply', '--region', REGION, '--config', config, '--yes', '--quiet']);
    banner('3. plan again: only what is not auto-fixed by default remains');
    const second = cli(acct, ['plan', '--region', REGION, '--quiet']);
    banner('4. apply again: nothing to do');
    const again = cli(acct, ['apply', '--region', REGION, '--config', config, '--yes', '--quiet']);

    banner(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s — exit codes: plan ${first}, apply ${applied}, plan ${second}, apply ${again}`,
    );
    process.stdout.write(
      [
        '',
        'Next, on a real account (read-only first; credentials from the AWS SDK chain):',
        '  npm run cli -- plan --region <region> --out plan.json    # what is wrong, and the fix, saved',
        '  npm run cli -- apply --region <region> --plan plan.json  # exactly that fix, re-checked',
        'Exceptions: a "mutelist" in --config (docs/config.md). Deploy it: docs/deploy.md (report mode first).',
        '',
      ].join('\n'),
    );
    if (first !== 2 || applied !== 0 || again !== 0) process.exitCode = 1;
  } finally {
    await moto.stop();
  }
}

await main();
