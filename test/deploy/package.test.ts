// `osls package` offline (dummy credentials, no AWS reached) into a CloudFormation template that
// cfn-lint and checkov pass with no errors, holding what the deployment needs; then the bundled
// reconciler run by `osls invoke local` against moto. One file, in sequence: osls builds into .esbuild/.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeVpcEndpointsCommand, DeleteVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { RESTART_CUTOFF_TAG } from '../../core/restarts.ts';
import { STATE_TABLE_KEY_SCHEMA } from '../../aws/state.ts';
import { newAccount } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { addContainerInstance, createCluster, createEndpoint, createNetwork } from '../harness/seed.ts';
import { createStack, drainAlerts, sampleText } from '../handlers/stack.ts';
import { MANAGED_SERVICES } from '../../core/services.ts';

const run = promisify(execFile);
const osls = path.join(repoRoot, 'node_modules/.bin/osls');
const lintBin = path.join(repoRoot, '.tools/lint-venv/bin');
const OFFLINE = {
  AWS_ACCESS_KEY_ID: 'AKIAOFFLINEPACKAGE00',
  AWS_SECRET_ACCESS_KEY: 'offline',
  AWS_REGION: 'us-east-1',
};

type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Condition?: string }>;
  Conditions?: Record<string, unknown>;
};

/** Runs `osls package` into a fresh directory with extra `--param`s; returns the update template. */
async function packageStack(params: string[] = []): Promise<{ dir: string; template: Template }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'osls-package-'));
  await run(osls, ['package', '--stage', 'ci', '--package', dir, ...params.map((p) => `--param=${p}`)], {
    cwd: repoRoot,
    env: { ...process.env, ...OFFLINE, SLS_TELEMETRY_DISABLED: '1' },
    timeout: 180_000,
  });
  const template = JSON.parse(
    readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { dir, template };
}

async function lint(file: string): Promise<void> {
  if (!existsSync(path.join(lintBin, 'cfn-lint'))) {
    throw new Error(
      'cfn-lint and checkov are missing: run through `npm test` (scripts/env.sh --lint-tools installs them)',
    );
  }
  // Non-zero exit codes reject: cfn-lint for any error or warning, checkov for any failed check.
  await run(path.join(lintBin, 'cfn-lint'), [file], { timeout: 120_000 });
  const checkov = await run(
    path.join(lintBin, 'checkov'),
    ['-f', file, '--framework', 'cloudformation', '--compact', '--quiet', '--skip-download'],
    { timeout: 300_000, env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' } },
  );
  expect(checkov.stdout).toMatch(/Failed checks: 0/);
}

function byType(template: Template, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function statements(template: Template): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if ('Effect' in record && 'Action' in record) out.push(record);
      else Object.values(record).forEach(visit);
    }
  };
  for (const [, role] of byType(template, 'AWS::IAM::Role')) visit(role.Properties?.Policies);
  return out;
}

const actionsOf = (s: Record<string, unknown>) => [s.Action].flat() as string[];

describe('osls package', () => {
  it('builds offline into a lint-clean template with rules, schedule, queue and DLQ, table, topic, alarms, least-privilege roles', async () => {
    const { dir, template } = await packageStack();
    await lint(path.join(dir, 'cloudformation-template-update-stack.json'));

    const rules = byType(template, 'AWS::Events::Rule').map(([, r]) => r.Properties ?? {});
    const patterns = rules.map((r) => JSON.stringify(r.EventPattern ?? null));
    expect(patterns.some((p) => p.includes('DeleteVpcEndpoints') && p.includes('CreateVpcEndpoint'))).toBe(
      true,
    );
    expect(patterns.some((p) => p.includes('RegisterContainerInstance'))).toBe(true);
    expect(patterns.some((p) => p.includes('ECS Container Instance State Change'))).toBe(true);
    expect(rules.map((r) => r.ScheduleExpression)).toContain('rate(15 minutes)');
    expect(
      byType(template, 'AWS::SQS::Queue')
        .map(([id]) => id)
        .sort(),
    ).toEqual(['EventsDeadLetterQueue', 'EventsQueue', 'NotifierFailuresQueue'].sort());
    expect(template.Resources.EventsQueue?.Properties?.RedrivePolicy).toMatchObject({ maxReceiveCount: 5 });
    expect(template.Resources.StateTable?.Properties).toMatchObject({
      KeySchema: [...STATE_TABLE_KEY_SCHEMA],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(byType(template, 'AWS::SNS::Topic')).toHaveLength(1);
    // The topic under the stack's own key (rotated): CloudWatch alarms of this account may use it, the
    // reconciler through SNS only.
    expect(template.Resources.AlertsTopic?.Properties?.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': ['AlertsKey', 'Arn'],
    });
    const key = template.Resources.AlertsKey?.Properties ?? {};
    expect(key.EnableKeyRotation).toBe(true);
    const keyStatements = (key.KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(keyStatements.find((st) => st.Sid === 'CloudWatchAlarmsPublish')).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(statements(template).find((st) => st.Sid === 'AlertsKey')).toMatchObject({
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: { 'Fn::GetAtt': ['AlertsKey', 'Arn'] },
    });
    expect(byType(template, 'AWS::KMS::Alias')).toHaveLength(1);
    const alarms = byType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
    expect(alarms.map((a) => a.MetricName)).toEqual(
      expect.arrayContaining([
        'Errors',
        'Throttles',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateAgeOfOldestMessage',
      ]),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: 'AlertsTopic' }]);
    expect(byType(template, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    const reconcile = template.Resources.ReconcileLambdaFunction?.Properties ?? {};
    expect(reconcile).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
    });
    // The reconciler dead-letters and requeues itself: the two queues' URLs, and sqs:SendMessage on
    // exactly those two queues (and in no other statement).
    expect(reconcile.Environment).toMatchObject({
      Variables: {
        DEAD_LETTER_QUEUE_URL: { Ref: 'EventsDeadLetterQueue' },
        EVENTS_QUEUE_URL: { Ref: 'EventsQueue' },
        SAFETY_MARGIN_SECONDS: '60',
      },
    });
    const sends = statements(template).filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(sends.find((st) => st.Sid === 'DeadLetterAndRequeue')).toEqual({
      Sid: 'DeadLetterAndRequeue',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: [
        { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] },
        { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
      ],
    });
    expect(sends.map((st) => st.Sid).sort()).toEqual(['DeadLetterAndRequeue', 'FailedDeliveries']);
    const mapping = byType(template, 'AWS::Lambda::EventSourceMapping')[0]?.[1].Properties;
    expect(mapping).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: 30,
    });
    // The Slack notifier is subscribed only when a webhook is configured.
    expect(template.Resources.SlackSubscription?.Condition).toBe('SlackWebhook');

    // Least privilege: no wildcard actions; report mode's write statements are all behind Enforce.
    for (const s of statements(template)) {
      for (const action of actionsOf(s)) expect(action).not.toMatch(/(^\*$)|:\*$/);
    }
    const bundles = ['reconcile.zip', 'notifySlack.zip'].map((zip) => statSync(path.join(dir, zip)).size);
    // Zipped size, SDK included (docs/deploy.md, "Bundles"): far below Lambda's 50 MB limit for a
    // direct upload, and a guard against a dependency ballooning the bundle.
    for (const size of bundles) expect(size).toBeLessThan(600_000);
  });

  it('in enforce mode grants each write only under its condition, and lints clean too', async () => {
    const { dir, template } = await packageStack([
      'mode=enforce',
      'slackWebhookParameter=/ecs-endpoint-remediator/slack-webhook',
      'allowVpcDnsChanges=true',
    ]);
    await lint(path.join(dir, 'cloudformation-template-update-stack.json'));
    const all = statements(template);
    const find = (sid: string) => all.find((s) => s.Sid === sid);
    const createCondition = find('CreateManagedEndpointsOnly')?.Condition as {
      StringLike: Record<string, string[]>;
      StringEquals: Record<string, string>;
    };
    // Exactly the services the engine manages: a service added to core/services.ts must be allowed here.
    expect(createCondition.StringLike['ec2:VpceServiceName']).toEqual(
      MANAGED_SERVICES.map((service) => `com.amazonaws.*.${service}`),
    );
    expect(createCondition.StringEquals).toEqual({
      'aws:RequestTag/ecs-endpoint-remediator/managed': 'true',
    });
    expect(find('TagOnCreateOnly')?.Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': ['CreateVpcEndpoint', 'CreateSecurityGroup'] },
    });
    expect(find('RestartCutoffTagOnOwnedEndpoints')?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/ecs-endpoint-remediator/managed': 'true' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [RESTART_CUTOFF_TAG] },
    });
    expect(find('DeleteOwnedEndpointsOnly')?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/ecs-endpoint-remediator/managed': 'true' },
    });
    expect(JSON.stringify(find('RestartAgentsWithShellDocumentsOnly')?.Resource)).toMatch(
      /document\/AWS-RunShellScript.*document\/AWS-RunPowerShellScript/,
    );
    expect(JSON.stringify(find('WebhookParameter')?.Resource)).toContain(
      ':parameter/ecs-endpoint-remediator/slack-webhook',
    );
    // Slack's webhook hosts only, unless slackWebhookAllowedHosts names others (default: none).
    expect(template.Resources.NotifySlackLambdaFunction?.Properties?.Environment).toMatchObject({
      Variables: { SLACK_WEBHOOK_ALLOWED_HOSTS: '' },
    });
    expect(template.Conditions).toMatchObject({ Enforce: { 'Fn::Equals': ['enforce', 'enforce'] } });
  });
});

describe('osls invoke local', () => {
  it('runs the bundled reconciler on a DeleteVpcEndpoints sample: the endpoint is recreated, one alert', async () => {
    const acct = newAccount();
    // Container instances behind an internet gateway need the three ECS endpoints; the ecs-agent one
    // is made by hand (the remediator's own would replay its ClientToken within the same 10 minutes).
    const network = await createNetwork(acct, { cidr: '10.1.0.0/16', azs: ['a'], egress: 'igw' });
    const cluster = await createCluster(acct, 'ec2');
    await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' });
    await createEndpoint(acct, { vpcId: network.vpcId, service: 'ecs-agent', subnetIds: network.subnetIds });
    const stack = await createStack(acct, 'enforce');
    // The local stage's table name (serverless.yml: <service>-<stage>-state).
    await new DynamoDBClient({
      endpoint: acct.endpoint,
      region: acct.region,
      credentials: acct.credentials,
    }).send(
      new CreateTableCommand({
        TableName: 'ecs-endpoint-remediator-local-state',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [...STATE_TABLE_KEY_SCHEMA],
      }),
    );
    const endpoints = async () =>
      (
        (
          await acct.ec2.send(
            new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [network.vpcId] }] }),
          )
        ).VpcEndpoints ?? []
      ).filter((e) => e.State?.toLowerCase() !== 'deleted' && e.ServiceName?.endsWith('.ecs-agent'));
    const deleted = (await endpoints())[0]?.VpcEndpointId ?? '';
    await acct.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [deleted] }));
    const sample = path.join(mkdtempSync(path.join(tmpdir(), 'event-')), 'delete.json');
    writeFileSync(
      sample,
      sampleText('ec2-delete-vpc-endpoints', { endpointId: deleted, account: acct.accountId }),
    );

    const out = await run(
      osls,
      [
        'invoke',
        'local',
        '-f',
        'reconcile',
        '--stage',
        'local',
        '-p',
        sample,
        '--param=mode=enforce',
        `--param=topicArn=${stack.topicArn}`,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, ...acct.env, SLS_TELEMETRY_DISABLED: '1', POWERTOOLS_LOG_LEVEL: 'INFO' },
        timeout: 180_000,
      },
    );

    expect(out.stdout).toContain('region reconciled');
    const now = await endpoints();
    expect(now).toHaveLength(1);
    expect(now[0]?.VpcEndpointId).not.toBe(deleted);
    const alerts = await drainAlerts(stack);
    expect(alerts.map((a) => a.metadata?.eventType)).toEqual(['drift-fixed']);
  });
});
