// `osls package` offline (dummy credentials, no AWS reached) into a CloudFormation template that
// cfn-lint and checkov pass with no errors, holding what the deployment needs; then the bundled
// reconciler run by `osls invoke local` against moto. One file, in sequence: osls builds into .esbuild/.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeVpcEndpointsCommand, DeleteVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { RESTART_CUTOFF_TAG } from '../../core/restarts.ts';
import { RESTART_DOCUMENT_CONTENT, RESTART_DOCUMENT_HASH } from '../../aws/restart-document.ts';
import { STATE_TABLE_KEY_SCHEMA } from '../../aws/state.ts';
import { newAccount } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { createStateTable } from '../harness/state-table.ts';
import { addContainerInstance, createCluster, createEndpoint, createNetwork } from '../harness/seed.ts';
import { createStack, drainAlerts, sampleText } from '../handlers/stack.ts';
import { MANAGED_SERVICES } from '../../core/services.ts';
import { CLOUDTRAIL_EVENTS } from '../../core/events.ts';

const run = promisify(execFile);
const osls = path.join(repoRoot, 'node_modules/.bin/osls');
const lintBin = path.join(repoRoot, '.tools/lint-venv/bin');
/**
 * The PATH with the toolchain's Node.js and packages left out, so `node` is the system's (20 on this
 * machine and in CI): what a user of a fresh clone has.
 */
function systemFirstPath(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(
      (dir) =>
        !dir.includes(`${path.sep}.tools${path.sep}`) &&
        !dir.endsWith(`${path.sep}node_modules${path.sep}.bin`),
    )
    .join(path.delimiter);
}

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
      // Above the event source's maximum concurrency (AWS: reserved ≥ maximum, or the poller is
      // throttled and a throttled batch counts a receive toward the dead-letter queue).
      ReservedConcurrentExecutions: 3,
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
      ScalingConfig: { MaximumConcurrency: 2 },
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
    // osls package, cfn-lint and checkov: each given minutes above (packageStack, lint).
  }, 300_000);

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
    // Agent restarts: the stack's own document (its content hash in its name; no shell document),
    // on instances (scoped by tag only with restartInstanceTag: not set here).
    const document = template.Resources.RestartAgentDocument?.Properties ?? {};
    expect(document).toEqual({
      Name: `ecs-endpoint-remediator-ci-restart-agent-${RESTART_DOCUMENT_HASH}`,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: RESTART_DOCUMENT_CONTENT,
    });
    expect(find('RestartAgentsWithStackDocumentOnly')).toMatchObject({
      Action: ['ssm:SendCommand', 'ssm:GetDocument'],
      Resource: {
        'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:document/${RestartAgentDocument}',
      },
    });
    expect(find('RestartAgentsOnInstances')?.Condition).toEqual({
      'Fn::If': ['RestartInstancesTagged', { StringEquals: {} }, { Ref: 'AWS::NoValue' }],
    });
    expect(JSON.stringify(all)).not.toMatch(/AWS-Run(Shell|PowerShell)Script/);
    expect(template.Resources.ReconcileLambdaFunction?.Properties?.Environment).toMatchObject({
      Variables: { RESTART_DOCUMENT: { Ref: 'RestartAgentDocument' } },
    });
    expect(JSON.stringify(find('WebhookParameter')?.Resource)).toContain(
      ':parameter/ecs-endpoint-remediator/slack-webhook',
    );
    // Slack's webhook hosts only, unless slackWebhookAllowedHosts names others (default: none).
    expect(template.Resources.NotifySlackLambdaFunction?.Properties?.Environment).toMatchObject({
      Variables: { SLACK_WEBHOOK_ALLOWED_HOSTS: '' },
    });
    expect(template.Conditions).toMatchObject({ Enforce: { 'Fn::Equals': ['enforce', 'enforce'] } });
    // osls package, cfn-lint and checkov: each given minutes above (packageStack, lint).
  }, 300_000);
});

/**
 * Whether `event` matches an EventBridge `pattern`, for the operators the rules use: values, `exists`,
 * `suffix` (`equals-ignore-case`), `$or`. As EventBridge does, a field inside an array of objects
 * matches when it matches in any element.
 */
function matches(pattern: Record<string, unknown>, event: unknown): boolean {
  const values = (node: unknown, key: string): unknown[] =>
    Array.isArray(node)
      ? node.flatMap((n) => values(n, key))
      : node !== null && typeof node === 'object' && Object.hasOwn(node, key)
        ? [(node as Record<string, unknown>)[key]].flat()
        : [];
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or')
      return (expected as Record<string, unknown>[]).some((branch) => matches(branch, event));
    const found = values(event, key);
    if (!Array.isArray(expected)) return found.some((f) => matches(expected as Record<string, unknown>, f));
    return expected.some((want) => {
      if (want === null || typeof want !== 'object') return found.includes(want);
      const operator = want as { exists?: boolean; suffix?: { 'equals-ignore-case': string } };
      if (operator.exists !== undefined) return found.length > 0 === operator.exists;
      const suffix = operator.suffix?.['equals-ignore-case'].toLowerCase() ?? '\u0000';
      return found.some((f) => typeof f === 'string' && f.toLowerCase().endsWith(suffix));
    });
  });
}

describe('the EventBridge rules', () => {
  const forwarderFile = path.join(repoRoot, 'deploy/route53-forwarder.yml');
  const sampleEvent = (name: string) => JSON.parse(sampleText(name)) as Record<string, unknown>;

  it('match exactly the CloudTrail calls core/events.ts reads, each sample; the us-east-1 Route 53 forwarder lints clean and repeats its rule', async () => {
    const { template } = await packageStack();
    // The rules with an event pattern (not the schedule's).
    const rules = Object.fromEntries(
      byType(template, 'AWS::Events::Rule')
        .filter(([, r]) => r.Properties?.EventPattern !== undefined)
        .map(([id, r]) => [id, r.Properties?.EventPattern as Record<string, unknown>]),
    );
    // Every event name a rule matches, per event source, and the names the parser reads: the same.
    const named = new Map<string, Set<string>>();
    const collect = (node: unknown, source: string): void => {
      if (Array.isArray(node)) for (const n of node) collect(n, source);
      else if (node !== null && typeof node === 'object')
        for (const [key, value] of Object.entries(node)) {
          if (key === 'eventName')
            named.set(source, new Set([...(named.get(source) ?? []), ...(value as string[])]));
          else collect(value, source);
        }
    };
    for (const pattern of Object.values(rules)) {
      const detail = pattern.detail as { eventSource?: string[] } | undefined;
      for (const source of detail?.eventSource ?? []) collect(detail, source);
    }
    expect(Object.fromEntries([...named].map(([source, names]) => [source, [...names].sort()]))).toEqual(
      Object.fromEntries(
        Object.entries(CLOUDTRAIL_EVENTS).map(([source, names]) => [source, [...names].sort()]),
      ),
    );

    // Each CloudTrail sample of events/ is matched by its rule; what a rule leaves out, it does not match.
    const ruleOf: Record<string, string> = {
      'ec2-revoke-security-group-egress': 'Ec2ApiCallsRule',
      'ec2-revoke-security-group-ingress-by-name': 'Ec2ApiCallsRule',
      'ec2-create-route': 'Ec2NetworkCallsRule',
      'ec2-replace-route': 'Ec2NetworkCallsRule',
      'ec2-delete-route': 'Ec2NetworkCallsRule',
      'ec2-associate-route-table': 'Ec2NetworkCallsRule',
      'ec2-replace-route-table-association': 'Ec2NetworkCallsRule',
      'ec2-disassociate-route-table': 'Ec2NetworkCallsRule',
      'ec2-detach-internet-gateway': 'Ec2NetworkCallsRule',
      'ec2-delete-nat-gateway': 'Ec2NetworkCallsRule',
      'ec2-associate-dhcp-options': 'Ec2NetworkCallsRule',
      'ec2-modify-network-interface-attribute': 'Ec2NetworkCallsRule',
      'route53-associate-vpc-with-hosted-zone': 'Route53ApiCallsRule',
      'route53-disassociate-vpc-from-hosted-zone': 'Route53ApiCallsRule',
      'route53-create-hosted-zone': 'Route53ApiCallsRule',
      'route53-change-resource-record-sets': 'Route53ApiCallsRule',
    };
    for (const [name, rule] of Object.entries(ruleOf)) {
      const matching = Object.entries(rules).filter(([, pattern]) => matches(pattern, sampleEvent(name)));
      expect(
        matching.map(([id]) => id),
        name,
      ).toEqual([rule]);
    }
    const variant = (name: string, change: (requestParameters: Record<string, unknown>) => void) => {
      const event = sampleEvent(name);
      change((event.detail as { requestParameters: Record<string, unknown> }).requestParameters);
      return event;
    };
    const route53 = rules.Route53ApiCallsRule ?? {};
    const network = rules.Ec2NetworkCallsRule ?? {};
    // An interface's description or source/dest check: not its groups.
    expect(
      matches(
        network,
        variant('ec2-modify-network-interface-attribute', (r) => {
          delete r.groupSet;
          r.sourceDestCheck = { value: false };
        }),
      ),
    ).toBe(false);
    // A record of another name than an AWS service's; a public zone.
    const renamed = (name: string) =>
      variant('route53-change-resource-record-sets', (r) => {
        (r.changeBatch as { changes: Array<{ resourceRecordSet: { name: string } }> }).changes.forEach(
          (c) => {
            c.resourceRecordSet.name = name;
          },
        );
      });
    expect(matches(route53, renamed('www.example.com.'))).toBe(false);
    expect(matches(route53, renamed('ECS.eu-west-1.AmazonAWS.com.'))).toBe(true);
    expect(
      matches(
        route53,
        variant('route53-create-hosted-zone', (r) => {
          delete r.vPC;
        }),
      ),
    ).toBe(false);

    // The forwarder: deployable in us-east-1 only, to another Region's default bus, with a role that
    // may put events there only; its pattern is the stack's rule's.
    await lint(forwarderFile);
    const decoded = await run(path.join(lintBin, 'python'), [
      '-c',
      'import json, sys; from cfnlint.decode import decode; t, m = decode(sys.argv[1]); print(json.dumps(t))',
      forwarderFile,
    ]);
    const forwarder = JSON.parse(decoded.stdout) as Template & { Rules: Record<string, unknown> };
    const forward = forwarder.Resources.Route53ApiCallsForwardRule?.Properties ?? {};
    expect(forward.EventPattern).toEqual(route53);
    expect(forward.Targets).toEqual([
      {
        Id: 'remediator-region-bus',
        Arn: {
          'Fn::Sub': 'arn:${AWS::Partition}:events:${TargetRegion}:${AWS::AccountId}:event-bus/default',
        },
        RoleArn: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
      },
    ]);
    expect(statements(forwarder)).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:events:${TargetRegion}:${AWS::AccountId}:event-bus/default',
        },
      },
    ]);
    expect(JSON.stringify(forwarder.Rules)).toContain('us-east-1');
    // The stack's queue takes the events of every rule, the Route 53 one included.
    const sources = JSON.stringify(template.Resources.EventsQueuePolicy?.Properties ?? {});
    for (const [id] of byType(template, 'AWS::Events::Rule')) expect(sources, id).toContain(`"${id}"`);
  }, 300_000);
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
    await createStateTable(
      new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
      'ecs-endpoint-remediator-local-state',
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

    // As docs/deploy.md shows it, with the system's Node first on the PATH (20 here): the script
    // brings the toolchain's.
    const out = await run(
      'npm',
      [
        'run',
        'invoke-local',
        '--',
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
        env: {
          ...process.env,
          PATH: systemFirstPath(),
          ...acct.env,
          SLS_TELEMETRY_DISABLED: '1',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
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

  it('without the stage’s state table, says so and how to make it; the stack names the TypeScript', async () => {
    const acct = newAccount();
    const failed = await run(
      'npm',
      [
        'run',
        'invoke-local',
        '--',
        '-f',
        'reconcile',
        '--stage',
        'local',
        '-p',
        path.join(repoRoot, 'events/scheduled-sweep.json'),
        `--param=topicArn=arn:aws:sns:${acct.region}:${acct.accountId}:none`,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, PATH: systemFirstPath(), ...acct.env, SLS_TELEMETRY_DISABLED: '1' },
        timeout: 180_000,
      },
    ).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failed, 'invoke-local without a state table must fail').toBeDefined();
    const output = `${failed?.stdout ?? ''}${failed?.stderr ?? ''}`;
    expect(output).toContain('The state table ecs-endpoint-remediator-local-state does not exist');
    expect(output).toContain('docs/deploy.md');
    expect(output).toMatch(/handlers\/reconcile\.ts:\d+/);
  });
});

describe('osls package after invoke local', () => {
  it('zips no source map: invoke local builds into a folder of its own', async () => {
    // The invoke-local tests above ran first (one file, in sequence) and left their build, with its
    // 6 MB map, in .esbuild/. Before each mode had its own build folder, this package zipped that map.
    const { dir } = await packageStack();
    for (const zip of ['reconcile.zip', 'notifySlack.zip']) {
      const bytes = readFileSync(path.join(dir, zip));
      // Entry names are stored uncompressed in a zip's headers.
      expect(bytes.includes('.map'), `${zip} holds a source map`).toBe(false);
      expect(bytes.length).toBeLessThan(600_000);
    }
  });
});
