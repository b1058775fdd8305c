// The Slack webhook notifier, through its real handler code: the webhook URL read from moto's SSM
// Parameter Store (SecureString) or Secrets Manager, Block Kit posted to a local HTTP server standing
// in for Slack (a loopback host the tests allow with SLACK_WEBHOOK_ALLOWED_HOSTS: any other host than
// Slack's is refused by default).
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toChatbotNotification } from '../../core/chatbot.ts';
import type { SlackMessage } from '../../core/slack.ts';
import { SlackPostError, WebhookConfigError, checkWebhookUrl } from '../../aws/slack-webhook.ts';
import { notifierDeps, runNotifier } from '../../handlers/notify-slack.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { repoRoot } from '../harness/moto.ts';
import { readFileSync } from 'node:fs';

interface Received {
  path: string;
  contentType: string | undefined;
  body: SlackMessage;
}

const received: Received[] = [];
let answer = 200;
const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    received.push({
      path: request.url ?? '',
      contentType: request.headers['content-type'],
      body: JSON.parse(body) as SlackMessage,
    });
    response.writeHead(answer, { 'content-type': 'text/plain' });
    response.end(answer === 200 ? 'ok' : 'invalid_payload');
  });
});
let webhook = '';
/** The stand-in's host:port, allowed as the deployment's slackWebhookAllowedHosts would. */
let allowHost: Record<string, string> = {};

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  webhook = `http://${host}/services/T000/B000/XXXX`;
  allowHost = { SLACK_WEBHOOK_ALLOWED_HOSTS: host };
});
afterAll(() => {
  server.close();
});

const alert = toChatbotNotification(
  {
    kind: 'drift-fixed',
    mode: 'enforce',
    region: 'us-east-1',
    vpcId: 'vpc-0a11110000000001',
    vpcName: 'prod',
    newFindings: [],
    fixed: [
      {
        id: 'ENDPOINT_MISSING/123456789012/us-east-1/vpc-0a11110000000001/ecs-agent',
        accountId: '123456789012',
        code: 'ENDPOINT_MISSING',
        status: 'drift',
        severity: 'high',
        region: 'us-east-1',
        vpcId: 'vpc-0a11110000000001',
        service: 'ecs-agent',
        message: 'no ecs-agent endpoint: container instances reach ECS over the internet, or not at all',
        remediation: {
          status: 'planned',
          actionIds: ['CREATE_ENDPOINT/us-east-1/vpc-0a11110000000001/ecs-agent'],
        },
      },
    ],
    actions: [
      {
        id: 'CREATE_ENDPOINT/us-east-1/vpc-0a11110000000001/ecs-agent',
        kind: 'CREATE_ENDPOINT',
        summary: 'create the ecs-agent interface endpoint in 2 AZs',
        outcome: 'succeeded',
        resourceId: 'vpce-0b22220000000009',
        message: 'created',
      },
    ],
    resolved: [],
    stillOpen: [],
  },
  { accountId: '111122223333' },
);

function snsEvent(message: string, subject?: string): SNSEvent {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:111122223333:alerts:sub',
        Sns: {
          Type: 'Notification',
          MessageId: 'm-1',
          TopicArn: 'arn:aws:sns:us-east-1:111122223333:alerts',
          Subject: subject ?? '',
          Message: message,
          Timestamp: '2026-11-28T10:16:00.000Z',
          SignatureVersion: '1',
          Signature: '',
          SigningCertUrl: '',
          UnsubscribeUrl: '',
          MessageAttributes: {},
        },
      },
    ],
  };
}

function options(acct: Account) {
  return { endpoint: acct.endpoint, credentials: acct.credentials };
}

async function withParameter(acct: Account, value = webhook): Promise<string> {
  const name = '/ecs-endpoint-remediator/slack-webhook';
  await acct.ssm.send(new PutParameterCommand({ Name: name, Type: 'SecureString', Value: value }));
  return name;
}

describe('the Slack webhook notifier', () => {
  it('posts a Chatbot alert as Block Kit, the URL read from an SSM SecureString', async () => {
    const acct = newAccount();
    const name = await withParameter(acct);
    received.length = 0;
    const deps = notifierDeps({ ...acct.env, ...allowHost, SLACK_WEBHOOK_PARAMETER: name }, options(acct));

    await runNotifier(snsEvent(JSON.stringify(alert)), deps);

    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe('/services/T000/B000/XXXX');
    expect(received[0]?.contentType).toBe('application/json');
    expect(received[0]?.body).toEqual({
      text: alert.metadata?.summary,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: alert.content.title } },
        { type: 'section', text: { type: 'mrkdwn', verbatim: true, text: alert.content.description } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            verbatim: true,
            text: `*Next steps*\n• ${alert.content.nextSteps?.[0] ?? ''}`,
          },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              verbatim: true,
              text: ['drift-fixed', 'us-east-1', 'vpc-0a11110000000001', 'ENDPOINT_MISSING'].join(' · '),
            },
          ],
        },
      ],
    });
    expect(JSON.stringify(received[0]?.body.blocks[1])).toContain('vpce-0b22220000000009');
  });

  it('reads the URL from Secrets Manager (plain or JSON {"url"}) and renders CloudWatch alarms', async () => {
    const acct = newAccount();
    const secrets = new SecretsManagerClient({ ...options(acct), region: acct.region });
    await secrets.send(
      new CreateSecretCommand({ Name: 'slack-webhook', SecretString: JSON.stringify({ url: webhook }) }),
    );
    received.length = 0;
    const deps = notifierDeps(
      { ...acct.env, ...allowHost, SLACK_WEBHOOK_SECRET_ID: 'slack-webhook' },
      options(acct),
    );
    const alarm = {
      AlarmName: 'ecs-endpoint-remediator-dev-EventsDeadLetterAlarm',
      AlarmDescription: 'Events failed five times and were dead-lettered.',
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0).',
      StateChangeTime: '2026-11-28T10:20:00.000+0000',
      Region: 'US East (N. Virginia)',
    };

    await runNotifier(snsEvent(JSON.stringify(alarm), 'ALARM: dead letters'), deps);

    expect(received.map((r) => r.body)).toEqual([
      {
        text: ':rotating_light: ecs-endpoint-remediator-dev-EventsDeadLetterAlarm is ALARM',
        blocks: [
          {
            type: 'header',
            text: {
              type: 'plain_text',
              text: ':rotating_light: ecs-endpoint-remediator-dev-EventsDeadLetterAlarm is ALARM',
            },
          },
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              verbatim: true,
              text: `${alarm.AlarmDescription}\n${alarm.NewStateReason}\n_US East (N. Virginia), 2026-11-28T10:20:00.000+0000_`,
            },
          },
        ],
      },
    ]);
  });

  it('the events/ SNS sample is posted; a webhook refusal throws so that SNS retries', async () => {
    const acct = newAccount();
    const name = await withParameter(acct);
    const deps = notifierDeps({ ...acct.env, ...allowHost, SLACK_WEBHOOK_PARAMETER: name }, options(acct));
    const sample = JSON.parse(readFileSync(`${repoRoot}/events/sns-alert.json`, 'utf8')) as SNSEvent;
    received.length = 0;
    await runNotifier(sample, deps);
    expect(received).toHaveLength(1);
    expect(received[0]?.body.blocks[0]?.type).toBe('header');
    expect(JSON.stringify(received[0]?.body.blocks[0])).toContain('vpc-0a11110000000001');

    answer = 400;
    try {
      await expect(runNotifier(sample, deps)).rejects.toThrow(SlackPostError);
    } finally {
      answer = 200;
    }
  });

  it('posts an alert about a VPC named <!channel> that mentions no one and links nowhere', async () => {
    const acct = newAccount();
    const name = await withParameter(acct);
    const deps = notifierDeps({ ...acct.env, ...allowHost, SLACK_WEBHOOK_PARAMETER: name }, options(acct));
    const hostile = toChatbotNotification(
      {
        kind: 'remediation-failed',
        mode: 'enforce',
        region: 'us-east-1',
        vpcId: 'vpc-0a11110000000001',
        vpcName: '<!channel>\n*Fixed*',
        newFindings: [],
        fixed: [],
        actions: [
          {
            id: 'CREATE_ENDPOINT/us-east-1/vpc-0a11110000000001/ecs-agent',
            kind: 'CREATE_ENDPOINT',
            summary: 'create the ecs-agent endpoint for cluster <@U012ABC>',
            outcome: 'failed',
            message: 'AccessDenied: <https://example.com|fix here> <#C012ABC> <!here> &lt;!channel&gt;',
          },
        ],
        resolved: [],
        stillOpen: [],
      },
      { accountId: '111122223333' },
    );
    received.length = 0;

    await runNotifier(snsEvent(JSON.stringify(hostile)), deps);

    expect(received).toHaveLength(1);
    const body = JSON.stringify(received[0]?.body);
    expect(body).not.toMatch(/[<>]/);
    expect(received[0]?.body.text).toBe(
      'ECS endpoints in vpc-0a11110000000001 (&lt;!channel&gt; *Fixed*): 1 action failed',
    );
    expect(body).toContain(
      'AccessDenied: &lt;https://example.com|fix here&gt; &lt;#C012ABC&gt; &lt;!here&gt; &amp;lt;!channel&amp;gt;',
    );
  });

  it("refuses a URL that is not https:// on Slack's webhook host, naming the problem but not the URL", async () => {
    const acct = newAccount();
    const secret = 'https://example.com/services/T000/B000/SECRETTOKEN';
    const name = await withParameter(acct, secret);
    received.length = 0;
    // No SLACK_WEBHOOK_ALLOWED_HOSTS: the default, Slack's hosts only.
    const deps = notifierDeps({ ...acct.env, SLACK_WEBHOOK_PARAMETER: name }, options(acct));
    const refusal = await runNotifier(snsEvent(JSON.stringify(alert)), deps).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(WebhookConfigError);
    const message = (refusal as Error).message;
    expect(message).toMatch(/parameter \/ecs-endpoint-remediator\/slack-webhook/);
    expect(message).toMatch(/host is not Slack's \(hooks\.slack\.com, hooks\.slack-gov\.com\)/);
    expect(message).toMatch(/slackWebhookAllowedHosts/);
    expect(message).not.toMatch(/SECRETTOKEN|example\.com|services/);
    expect(received).toEqual([]);

    // The local stand-in too, unless its host:port is allowed (its host alone means the default port).
    const acct2 = newAccount();
    await withParameter(acct2, webhook);
    const refused = notifierDeps({ ...acct2.env, SLACK_WEBHOOK_PARAMETER: name }, options(acct2));
    await expect(refused.webhookUrl()).rejects.toThrow(/host is not Slack's/);
    const allowedNoPort = notifierDeps(
      { ...acct2.env, SLACK_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', SLACK_WEBHOOK_PARAMETER: name },
      options(acct2),
    );
    await expect(allowedNoPort.webhookUrl()).rejects.toThrow(/host is not Slack's/);
  });

  it("accepts Slack's webhook URLs, read from SSM or Secrets Manager", async () => {
    const acct = newAccount();
    const slack = 'https://hooks.slack.com/services/T000/B000/XXXX';
    const name = await withParameter(acct, `${slack}\n`);
    expect(
      await notifierDeps({ ...acct.env, SLACK_WEBHOOK_PARAMETER: name }, options(acct)).webhookUrl(),
    ).toBe(slack);
    const secrets = new SecretsManagerClient({ ...options(acct), region: acct.region });
    const gov = 'https://hooks.slack-gov.com/services/T000/B000/XXXX';
    await secrets.send(new CreateSecretCommand({ Name: 'gov', SecretString: JSON.stringify({ url: gov }) }));
    expect(
      await notifierDeps({ ...acct.env, SLACK_WEBHOOK_SECRET_ID: 'gov' }, options(acct)).webhookUrl(),
    ).toBe(gov);
    // A secret that is neither a URL nor JSON: the parse error would quote it, ours does not.
    await secrets.send(new CreateSecretCommand({ Name: 'broken', SecretString: `{${slack}` }));
    const broken = notifierDeps({ ...acct.env, SLACK_WEBHOOK_SECRET_ID: 'broken' }, options(acct));
    const error = await broken.webhookUrl().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe('secret broken is neither a URL nor valid JSON');
  });

  it('checks every webhook URL: scheme, host, port, credentials; the allowed hosts parameter', () => {
    const where = 'parameter /p';
    const ok = (url: string, hosts: string[] = []) => checkWebhookUrl(url, where, hosts);
    const refused = (url: string, hosts: string[] = []) => {
      try {
        checkWebhookUrl(url, where, hosts);
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookConfigError);
        const message = (error as Error).message;
        expect(message.startsWith(`${where} `)).toBe(true);
        expect(message).not.toContain('TOKEN');
        return message;
      }
      throw new Error(`accepted ${url}`);
    };
    expect(ok('https://hooks.slack.com/services/T/B/TOKEN')).toBe(
      'https://hooks.slack.com/services/T/B/TOKEN',
    );
    expect(ok('https://HOOKS.SLACK.COM:443/services/T/B/TOKEN')).toBe(
      'https://hooks.slack.com/services/T/B/TOKEN',
    );
    expect(ok('https://hooks.slack-gov.com/services/T/B/TOKEN')).toContain('hooks.slack-gov.com');
    expect(refused('http://hooks.slack.com/services/T/B/TOKEN')).toMatch(/not https:\/\//);
    expect(refused('ftp://hooks.slack.com/services/T/B/TOKEN')).toMatch(/not https:\/\//);
    expect(refused('hooks.slack.com/services/T/B/TOKEN')).toMatch(/does not hold a webhook URL/);
    expect(refused('')).toMatch(/does not hold a webhook URL/);
    for (const url of [
      'https://hooks.slack.com.example.com/services/T/B/TOKEN',
      'https://example.com/hooks.slack.com/TOKEN',
      'https://hooks.slack.com:8443/services/T/B/TOKEN',
      'https://xhooks.slack.com/services/T/B/TOKEN',
    ])
      expect(refused(url)).toMatch(/host is not Slack's.*slackWebhookAllowedHosts/);
    expect(refused('https://user:TOKEN@hooks.slack.com/services/T/B/X')).toMatch(/credentials/);
    expect(refused('https://hooks.slack.com@example.com/services/T/B/TOKEN')).toMatch(/credentials/);

    // The parameter allows a host (default port) or host:port; plain http only to a loopback host.
    expect(ok('https://relay.example.com/hook/TOKEN', ['relay.example.com'])).toContain('relay.example.com');
    expect(refused('https://relay.example.com:8443/hook/TOKEN', ['relay.example.com'])).toMatch(/host/);
    expect(ok('https://relay.example.com:8443/hook/TOKEN', ['relay.example.com:8443'])).toContain(':8443');
    expect(refused('http://relay.example.com/hook/TOKEN', ['relay.example.com'])).toMatch(/not https/);
    expect(ok('http://127.0.0.1:9000/TOKEN', ['127.0.0.1:9000'])).toContain('127.0.0.1:9000');
    expect(ok('http://[::1]:9000/TOKEN', ['[::1]:9000'])).toContain('[::1]:9000');
    expect(refused('https://other.example.com/TOKEN', ['relay.example.com'])).toMatch(/host/);
  });

  it('refuses an allowed-hosts entry that is not a host name', () => {
    for (const entry of ['https://relay.example.com', '*.example.com', 'relay.example.com/hook', 'a b']) {
      expect(() =>
        notifierDeps({
          SLACK_WEBHOOK_PARAMETER: '/a',
          SLACK_WEBHOOK_ALLOWED_HOSTS: `hooks.slack.com,${entry}`,
        }),
      ).toThrow(/SLACK_WEBHOOK_ALLOWED_HOSTS: .* is not a host name/);
    }
    expect(() =>
      notifierDeps({ SLACK_WEBHOOK_PARAMETER: '/a', SLACK_WEBHOOK_ALLOWED_HOSTS: ' relay.example.com , ' }),
    ).not.toThrow();
  });

  it('refuses to start without a webhook source, or with two', () => {
    expect(() => notifierDeps({})).toThrow(/no webhook/);
    expect(() => notifierDeps({ SLACK_WEBHOOK_PARAMETER: '/a', SLACK_WEBHOOK_SECRET_ID: 'b' })).toThrow(
      /not both/,
    );
  });
});
