/**
 * Names that anyone with tagging or ECS permissions sets (a VPC's Name tag, a cluster's name, the AWS
 * error text that echoes them) through the real rendering path: a plan built from a snapshot, the
 * alert decided from it, the Chatbot custom notification, and the Slack webhook's Block Kit. No name
 * may ping, link or restructure the message; each must show literally (Slack decodes only `&amp;`,
 * `&lt;`, `&gt;`).
 */
import { describe, expect, it } from 'vitest';
import type { VpcAlert } from '../../core/alerts.ts';
import { decideAlerts } from '../../core/alerts.ts';
import type { ChatbotNotification } from '../../core/chatbot.ts';
import {
  chatbotNotificationSchema,
  clipEscaped,
  escapeSlackText,
  singleLine,
  toChatbotNotification,
} from '../../core/chatbot.ts';
import type { ActionResult } from '../../core/report.ts';
import type { SlackMessage, SlackText } from '../../core/slack.ts';
import { neutralizeMarkup, toSlackMessage } from '../../core/slack.ts';
import { NO_CAPS, NOW, account, planOf } from './fixtures.ts';

const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<@U012ABC>',
  '<#C012ABC>',
  '<https://example.com|fix here>',
  'prod\n*Fixed*\n• `ENDPOINT_MISSING` (high) all good\r\n> quoted\u2028<!everyone>',
  '&lt;!channel&gt;',
  '<!channel>'.repeat(310),
] as const;

/** Slack's control sequences: `<!…>` (special mentions, user groups, dates), `<@…>`, `<#…>`, `<url|…>`. */
const CONTROL = /<[^>]*>?/g;
/** What Slack shows for text: its three entities decoded, once. */
const shown = (text: string) =>
  text.replace(/&(amp|lt|gt);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>' })[entity] ?? '');

function chatbotTexts(notification: ChatbotNotification): string[] {
  const { content, metadata } = notification;
  return [
    content.title,
    content.description,
    ...(content.nextSteps ?? []),
    ...(content.keywords ?? []),
    metadata?.summary ?? '',
    ...(metadata?.relatedResources ?? []),
    ...Object.values(metadata?.additionalContext ?? {}),
  ];
}

function slackTexts(message: SlackMessage): SlackText[] {
  return message.blocks.flatMap((block) =>
    block.type === 'context' ? block.elements : block.type === 'divider' ? [] : [block.text],
  );
}

/** How many lines the section blocks hold, all told. */
const sectionLines = (message: SlackMessage) =>
  message.blocks.flatMap((block) => (block.type === 'section' ? block.text.text.split('\n') : [])).length;

/** The alert of one VPC named `name`, on cluster `name`: findings, a failed action echoing the name. */
function alertFor(name: string): VpcAlert {
  const a = account();
  const vpc = a.vpc({ name });
  const subnet = a.subnet(vpc, { az: 'a' });
  a.containerInstance(subnet, { cluster: name });
  const plan = planOf(a.snapshot(), NO_CAPS);
  const create = plan.actions.find((action) => action.kind === 'CREATE_ENDPOINT');
  if (!create) throw new Error('no CREATE_ENDPOINT planned');
  const failed: ActionResult = {
    actionId: create.id,
    accountId: create.accountId,
    kind: create.kind,
    region: create.region,
    vpcId: create.vpcId,
    outcome: 'failed',
    message: `InvalidParameter: the tag value ${name} is not allowed`,
  };
  const [alert, ...rest] = decideAlerts({
    mode: 'enforce',
    scope: { region: a.region },
    open: [],
    plan,
    results: [failed],
    now: NOW,
  }).alerts;
  if (!alert || rest.length > 0) throw new Error('expected one alert');
  return alert;
}

function render(name: string) {
  const notification = toChatbotNotification(alertFor(name), { accountId: '111122223333' });
  return { notification, slack: toSlackMessage(JSON.stringify(notification)) };
}

const benign = render('prod');

describe('hostile names through the Chatbot and Slack renderers', () => {
  for (const name of HOSTILE) {
    it(`${JSON.stringify(name.slice(0, 40))}${name.length > 40 ? ` (${name.length} characters)` : ''}`, () => {
      const { notification, slack } = render(name);
      expect(chatbotNotificationSchema.safeParse(notification).success).toBe(true);

      // No control sequence at all: the renderers add none of their own, so any `<` would be input's.
      for (const text of chatbotTexts(notification)) {
        expect(text.match(CONTROL)).toBeNull();
        expect(text).not.toContain('>');
      }
      for (const text of [slack.text, ...slackTexts(slack).map((t) => t.text)]) {
        expect(text.match(CONTROL)).toBeNull();
        expect(text).not.toContain('>');
      }
      expect(JSON.stringify(slack)).not.toMatch(/[<>]/);
      // Slack's automatic parsing (bare URLs, #channels, mentions) is off in every mrkdwn text.
      for (const text of slackTexts(slack)) if (text.type === 'mrkdwn') expect(text.verbatim).toBe(true);

      // The name's newlines inject no structure: same lines and blocks as a VPC named "prod".
      expect(notification.content.title).not.toMatch(/[\n\r\u2028]/);
      expect(notification.content.description.split('\n').length).toBe(
        benign.notification.content.description.split('\n').length,
      );
      // (Long lines may split a section in two at a line boundary; the lines stay the same.)
      expect(sectionLines(slack)).toEqual(sectionLines(benign.slack));
      expect(new Set(slack.blocks.map((block) => block.type))).toEqual(
        new Set(benign.slack.blocks.map((block) => block.type)),
      );

      // Within limits, the counts kept: Chatbot's title (ours: 200), Block Kit's header 150 and
      // section 3000 characters.
      expect(notification.content.title.length).toBeLessThanOrEqual(200);
      expect(notification.content.title).toMatch(/: 1 action failed, \d+ new findings$/);
      const [header, ...sections] = slack.blocks;
      expect(header?.type === 'header' && header.text.text.length).toBeLessThanOrEqual(150);
      for (const block of sections)
        if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(3000);

      // Shown literally: the name (one line) appears as typed, `&lt;` included.
      const line = singleLine(name);
      if (line.length <= 80) {
        expect(shown(notification.content.title)).toContain(`(${line})`);
        expect(shown(notification.content.description)).toContain(line);
        expect(shown(slack.text)).toContain(`(${line})`);
      } else {
        expect(notification.content.title).toContain('…');
        expect(shown(notification.content.title)).toContain(`(${line.slice(0, 20)}`);
      }
    });
  }

  it('a VPC named <!channel> produces an alert that mentions no one', () => {
    const { notification, slack } = render('<!channel>');
    const everything = [...chatbotTexts(notification), slack.text, ...slackTexts(slack).map((t) => t.text)];
    const mentions = everything.flatMap((text) => text.match(/<[!@#][^>]*>/g) ?? []);
    expect(mentions).toEqual([]);
    expect(notification.content.title).toMatch(
      /^:x: ECS endpoints in vpc-[0-9a-f]+ \(&lt;!channel&gt;\): 1 action failed, \d+ new findings$/,
    );
    expect(shown(notification.content.title)).toContain('(<!channel>)');
  });

  it('text already escaped is escaped again and shows literally, never decoded into a mention', () => {
    const { notification, slack } = render('&lt;!channel&gt;');
    expect(notification.content.title).toContain('(&amp;lt;!channel&amp;gt;)');
    expect(slack.blocks[0]).toMatchObject({ text: { text: notification.content.title } });
    expect(shown(notification.content.title)).toContain('(&lt;!channel&gt;)');
  });
});

describe('messages from elsewhere on the topic', () => {
  it('a CloudWatch alarm with hostile fields is escaped whole', () => {
    const slack = toSlackMessage(
      JSON.stringify({
        AlarmName: '<!here> alarm',
        AlarmDescription: 'see <https://example.com|the runbook>\n<!channel>',
        NewStateValue: 'ALARM',
        NewStateReason: 'Threshold Crossed: 1 > 0 & rising',
        Region: '<#C012ABC>',
        StateChangeTime: '2026-11-28T10:20:00.000+0000',
      }),
    );
    expect(JSON.stringify(slack)).not.toMatch(/[<>]/);
    expect(slack.text).toBe(':rotating_light: &lt;!here&gt; alarm is ALARM');
    expect(slack.blocks[1]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        verbatim: true,
        text: 'see &lt;https://example.com|the runbook&gt; &lt;!channel&gt;\nThreshold Crossed: 1 &gt; 0 &amp; rising\n_&lt;#C012ABC&gt;, 2026-11-28T10:20:00.000+0000_',
      },
    });
  });

  it('a Chatbot-shaped message another publisher wrote cannot carry a control sequence', () => {
    const foreign = {
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        title: '<!channel> urgent',
        description: '*Fix now*\n<https://example.com|click> &lt;kept&gt; & more',
        nextSteps: ['<@U012ABC> look'],
        keywords: ['<#C012ABC>'],
      },
      metadata: { summary: '<!here>' },
    };
    const slack = toSlackMessage(JSON.stringify(foreign));
    expect(JSON.stringify(slack)).not.toMatch(/[<>]/);
    expect(slack.text).toBe('&lt;!here&gt;');
    expect(slack.blocks[1]).toMatchObject({
      text: { text: '*Fix now*\n&lt;https://example.com|click&gt; &lt;kept&gt; &amp; more' },
    });
  });

  it('anything else: subject and message escaped, an empty subject gets a title', () => {
    expect(toSlackMessage('<!channel> & co', '')).toEqual({
      text: 'ecs-endpoint-remediator',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'ecs-endpoint-remediator' } },
        { type: 'section', text: { type: 'plain_text', text: '&lt;!channel&gt; &amp; co' } },
      ],
    });
    expect(toSlackMessage('x', '<!here>\nsecond').text).toBe('&lt;!here&gt; second');
  });
});

describe('the escaping helpers', () => {
  it("escape Slack's three control characters, & first", () => {
    expect(escapeSlackText('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(escapeSlackText('&lt;!channel&gt;')).toBe('&amp;lt;!channel&amp;gt;');
  });

  it('neutralizing markup keeps our escaping as it is and escapes everything else', () => {
    for (const name of HOSTILE) expect(neutralizeMarkup(escapeSlackText(name))).toBe(escapeSlackText(name));
    expect(neutralizeMarkup('<!channel> &amp; & &#60;')).toBe('&lt;!channel&gt; &amp; &amp; &amp;#60;');
  });

  it('clip never cuts an entity or a surrogate pair', () => {
    const text = escapeSlackText('<&>'.repeat(50));
    for (let max = 2; max <= text.length + 1; max++) {
      const clipped = clipEscaped(text, max);
      expect(clipped.length).toBeLessThanOrEqual(max);
      expect(clipped.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    }
    expect(clipEscaped('ab😀cd', 4)).toBe('ab…');
  });

  it('one line: newlines, separators, control and bidirectional characters become one space', () => {
    expect(singleLine(' a\nb\r\n\tc\u2028d\u0000e\u202ef ')).toBe('a b c d e f');
  });
});
