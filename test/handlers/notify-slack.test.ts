// The Slack webhook notifier, through its real handler code: the webhook URL read from moto's SSM
// Parameter Store (SecureString) or Secrets Manager, Block Kit posted to a local HTTP server standing
// in for Slack.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toChatbotNotification } from '../../core/chatbot.ts';
import type { SlackMessage } from '../../core/slack.ts';
import { SlackPostError } from '../../aws/slack-webhook.ts';
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

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
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
        id: 'ENDPOINT_MISSING/us-east-1/vpc-0a11110000000001/ecs-agent',
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

async function withParameter(acct: Account): Promise<string> {
  const name = '/ecs-endpoint-remediator/slack-webhook';
  await acct.ssm.send(new PutParameterCommand({ Name: name, Type: 'SecureString', Value: webhook }));
  return name;
}

describe('the Slack webhook notifier', () => {
  it('posts a Chatbot alert as Block Kit, the URL read from an SSM SecureString', async () => {
    const acct = newAccount();
    const name = await withParameter(acct);
    received.length = 0;
    const deps = notifierDeps({ ...acct.env, SLACK_WEBHOOK_PARAMETER: name }, options(acct));

    await runNotifier(snsEvent(JSON.stringify(alert)), deps);

    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe('/services/T000/B000/XXXX');
    expect(received[0]?.contentType).toBe('application/json');
    expect(received[0]?.body).toEqual({
      text: alert.metadata?.summary,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: alert.content.title } },
        { type: 'section', text: { type: 'mrkdwn', text: alert.content.description } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: `*Next steps*\n• ${alert.content.nextSteps?.[0] ?? ''}` },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
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
    const deps = notifierDeps({ ...acct.env, SLACK_WEBHOOK_SECRET_ID: 'slack-webhook' }, options(acct));
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
    const deps = notifierDeps({ ...acct.env, SLACK_WEBHOOK_PARAMETER: name }, options(acct));
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

  it('refuses to start without a webhook source, or with two', () => {
    expect(() => notifierDeps({})).toThrow(/no webhook/);
    expect(() => notifierDeps({ SLACK_WEBHOOK_PARAMETER: '/a', SLACK_WEBHOOK_SECRET_ID: 'b' })).toThrow(
      /not both/,
    );
  });
});
