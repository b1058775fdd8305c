/**
 * For teams without AWS Chatbot: the topic's messages as a Slack incoming-webhook payload (Block Kit).
 * The topic carries our Chatbot custom notifications and CloudWatch alarm state changes; both are
 * rendered, anything else is passed on as plain text so that nothing is silently dropped.
 */
import * as z from 'zod/mini';
import type { ChatbotNotification } from './chatbot.ts';
import { chatbotNotificationSchema } from './chatbot.ts';

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
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

/** Block Kit limits: header text 150 characters, section text 3000. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

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
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(content.title, HEADER_MAX) } },
  ];
  // Section texts are cut at line boundaries into blocks of at most 3000 characters.
  let chunk = '';
  for (const line of content.description.split('\n')) {
    if (chunk.length + line.length + 1 > SECTION_MAX && chunk.length > 0) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
      chunk = '';
    }
    chunk = chunk ? `${chunk}\n${clip(line, SECTION_MAX)}` : clip(line, SECTION_MAX);
  }
  if (chunk.trim()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  if (content.nextSteps && content.nextSteps.length > 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`*Next steps*\n${content.nextSteps.map((step) => `• ${step}`).join('\n')}`, SECTION_MAX),
      },
    });
  }
  const context = [metadata?.eventType, ...(content.keywords ?? [])].filter(
    (word, index, all): word is string => word !== undefined && all.indexOf(word) === index,
  );
  if (context.length > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(context.join(' · '), SECTION_MAX) }],
    });
  }
  return { text: metadata?.summary ?? content.title, blocks };
}

function fromAlarm(alarm: z.infer<typeof alarmSchema>): SlackMessage {
  const icon = alarm.NewStateValue === 'ALARM' ? ':rotating_light:' : ':white_check_mark:';
  const title = `${icon} ${alarm.AlarmName} is ${alarm.NewStateValue}`;
  const lines = [
    ...(alarm.AlarmDescription ? [alarm.AlarmDescription] : []),
    alarm.NewStateReason,
    ...(alarm.Region || alarm.StateChangeTime
      ? [`_${[alarm.Region, alarm.StateChangeTime].filter(Boolean).join(', ')}_`]
      : []),
  ];
  return {
    text: title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, HEADER_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), SECTION_MAX) } },
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
  const title = subject ?? 'ecs-endpoint-remediator';
  return {
    text: title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, HEADER_MAX) } },
      { type: 'section', text: { type: 'plain_text', text: clip(snsMessage, SECTION_MAX) } },
    ],
  };
}
