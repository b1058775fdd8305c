/**
 * For teams without AWS Chatbot: the topic's messages as a Slack incoming-webhook payload (Block Kit).
 * The topic carries our Chatbot custom notifications and CloudWatch alarm state changes; both are
 * rendered, anything else is passed on as plain text so that nothing is silently dropped.
 *
 * No text reaches Slack unescaped: a Chatbot notification's fields are markup escaped by
 * core/chatbot.ts, and any `&`, `<`, `>` in them that is not one of Slack's three entities is escaped
 * here again (a message another publisher put on the topic cannot carry a control sequence either);
 * alarm fields and anything else are plain strings, escaped whole. Every mrkdwn text object is
 * `verbatim`, so Slack does not turn bare URLs, channel names or mentions in it into links or pings.
 */
import * as z from 'zod/mini';
import type { ChatbotNotification } from './chatbot.ts';
import { chatbotNotificationSchema, clipEscaped, escapeSlackText, singleLine } from './chatbot.ts';

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  /**
   * mrkdwn only. True: Slack keeps the markup (`*bold*`, entities) but does not auto-link URLs or
   * channel names nor parse mentions in the text
   * (https://docs.slack.dev/reference/block-kit/composition-objects/text-object).
   */
  readonly verbatim?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text: SlackText }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'divider' };

/** An incoming-webhook message: `text` is the notification fallback, `blocks` what Slack shows. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** Block Kit limits: header text 150 characters, section text 3000; the fallback text we keep as short. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const TEXT_MAX = 3000;
const DEFAULT_TITLE = 'ecs-endpoint-remediator';

/**
 * Markup read from the topic, made inert: Slack's three entities stay as they are (core/chatbot.ts
 * escaped the text they stand for), any other `&` and every `<` and `>` is escaped. Idempotent, so
 * our own notifications pass unchanged; a raw `<!channel>` from elsewhere shows as text.
 */
export function neutralizeMarkup(markup: string): string {
  return markup
    .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

/** A plain string (an alarm's name, a subject) as one escaped line of at most `max` characters. */
const line = (text: string, max: number) => clipEscaped(escapeSlackText(singleLine(text)), max);
/** Markup from the topic as one inert line of at most `max` characters. */
const markupLine = (markup: string, max: number) => clipEscaped(neutralizeMarkup(singleLine(markup)), max);

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text, verbatim: true });
const plain = (text: string): SlackText => ({ type: 'plain_text', text });
/** A header block; Slack refuses an empty one. */
const header = (text: string): SlackBlock => ({ type: 'header', text: plain(text || DEFAULT_TITLE) });

const alarmSchema = z.object({
  AlarmName: z.string(),
  AlarmDescription: z.nullish(z.string()),
  NewStateValue: z.string(),
  NewStateReason: z.string(),
  Region: z.optional(z.string()),
  StateChangeTime: z.optional(z.string()),
});

function fromChatbot(notification: ChatbotNotification): SlackMessage {
  const { content, metadata } = notification;
  const blocks: SlackBlock[] = [header(markupLine(content.title, HEADER_MAX))];
  // The description's lines are ours (core/chatbot.ts puts every untrusted text on one line); section
  // texts are cut at line boundaries into blocks of at most 3000 characters.
  let chunk = '';
  for (const raw of neutralizeMarkup(content.description).split('\n')) {
    const text = clipEscaped(raw, SECTION_MAX);
    if (chunk.length + text.length + 1 > SECTION_MAX && chunk.length > 0) {
      blocks.push({ type: 'section', text: mrkdwn(chunk) });
      chunk = '';
    }
    chunk = chunk ? `${chunk}\n${text}` : text;
  }
  if (chunk.trim()) blocks.push({ type: 'section', text: mrkdwn(chunk) });
  if (content.nextSteps && content.nextSteps.length > 0) {
    const steps = content.nextSteps.map((step) => `• ${markupLine(step, SECTION_MAX)}`);
    blocks.push({
      type: 'section',
      text: mrkdwn(clipEscaped(`*Next steps*\n${steps.join('\n')}`, SECTION_MAX)),
    });
  }
  const context = [metadata?.eventType, ...(content.keywords ?? [])]
    .filter((word): word is string => word !== undefined)
    .map((word) => markupLine(word, SECTION_MAX))
    .filter((word, index, all) => word !== '' && all.indexOf(word) === index);
  if (context.length > 0) {
    blocks.push({ type: 'context', elements: [mrkdwn(clipEscaped(context.join(' · '), SECTION_MAX))] });
  }
  return {
    text: markupLine(metadata?.summary ?? content.title, TEXT_MAX) || DEFAULT_TITLE,
    blocks,
  };
}

function fromAlarm(alarm: z.infer<typeof alarmSchema>): SlackMessage {
  const icon = alarm.NewStateValue === 'ALARM' ? ':rotating_light:' : ':white_check_mark:';
  const title = `${icon} ${line(alarm.AlarmName, HEADER_MAX)} is ${line(alarm.NewStateValue, 20)}`;
  const when = [alarm.Region, alarm.StateChangeTime]
    .filter((part): part is string => part !== undefined && part !== '')
    .map((part) => line(part, 64));
  const lines = [
    ...(alarm.AlarmDescription ? [line(alarm.AlarmDescription, 1024)] : []),
    line(alarm.NewStateReason, 1024),
    ...(when.length > 0 ? [`_${when.join(', ')}_`] : []),
  ];
  return {
    text: clipEscaped(title, TEXT_MAX),
    blocks: [
      header(clipEscaped(title, HEADER_MAX)),
      { type: 'section', text: mrkdwn(clipEscaped(lines.join('\n'), SECTION_MAX)) },
    ],
  };
}

/** Renders one SNS message (its `Message` text) for a Slack incoming webhook. */
export function toSlackMessage(snsMessage: string, subject?: string): SlackMessage {
  let json: unknown;
  try {
    json = JSON.parse(snsMessage);
  } catch {
    json = undefined;
  }
  const chatbot = chatbotNotificationSchema.safeParse(json);
  if (chatbot.success) return fromChatbot(chatbot.data);
  const alarm = alarmSchema.safeParse(json);
  if (alarm.success) return fromAlarm(alarm.data);
  // Neither ours nor an alarm: the subject as the title, the message as plain text (its lines kept),
  // both escaped whole.
  const title = line(subject ?? '', TEXT_MAX) || DEFAULT_TITLE;
  const body = clipEscaped(escapeSlackText(snsMessage.trim()), SECTION_MAX) || '(empty message)';
  return {
    text: title,
    blocks: [header(clipEscaped(title, HEADER_MAX)), { type: 'section', text: plain(body) }],
  };
}
