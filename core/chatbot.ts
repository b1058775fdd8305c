/**
 * Alerts as AWS Chatbot (Amazon Q Developer in chat applications) custom notifications: the JSON an
 * SNS message must carry for a Slack or Teams channel mapped to the topic to render it with no code.
 * The format is a public contract (docs/deploy.md, "Alert format"); the Slack webhook notifier reads it back.
 *
 * `textType: client-markdown` makes Chatbot render title, description and next steps as Slack markup
 * (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html). What goes into them
 * from outside (a VPC's Name tag, service and task-definition names, AWS error messages: anyone
 * with tagging or ECS permissions sets them) is escaped where it enters the markup, so that a VPC
 * named `<!channel>` or `<https://example.com|fix here>` shows as that text and pings or links nothing.
 */
import * as z from 'zod/mini';
import type { AlertKind, AlertedAction, OpenFinding, VpcAlert } from './alerts.ts';
import type { Finding } from './findings.ts';

export const chatbotNotificationSchema = z.object({
  version: z.literal('1.0'),
  source: z.literal('custom'),
  id: z.optional(z.string()),
  content: z.object({
    textType: z.literal('client-markdown'),
    title: z.string().check(z.minLength(1)),
    description: z.string(),
    nextSteps: z.optional(z.array(z.string())),
    keywords: z.optional(z.array(z.string())),
  }),
  metadata: z.optional(
    z.object({
      threadId: z.optional(z.string()),
      summary: z.optional(z.string()),
      eventType: z.optional(z.string()),
      relatedResources: z.optional(z.array(z.string())),
      additionalContext: z.optional(z.record(z.string(), z.string())),
    }),
  ),
});

/** An AWS Chatbot custom notification. */
export type ChatbotNotification = z.infer<typeof chatbotNotificationSchema>;

/** Lines per section before "… and N more": keeps a message readable and far under SNS's 256 KB. */
export const MAX_LINES_PER_SECTION = 15;
/** Chatbot truncates long titles; ours stay well under. */
const MAX_TITLE = 200;

// ---------------------------------------------------------------------------------------------
// Untrusted text in Slack markup (also used by core/slack.ts, the webhook renderer)
// ---------------------------------------------------------------------------------------------

/**
 * Escapes text for Slack markup. Slack uses `&`, `<` and `>` as control characters (`<!channel>`,
 * `<@U…>`, `<#C…>`, `<url|label>`), so text not meant as a control sequence must carry them as the
 * entities `&amp;`, `&lt;`, `&gt;` — and only those three, which Slack decodes for display (Slack,
 * "Formatting text for app surfaces", Escaping text:
 * https://docs.slack.dev/messaging/formatting-message-text#escaping, formerly
 * https://api.slack.com/reference/surfaces/formatting#escaping). `&` goes first, so text that is
 * already escaped (`&lt;!channel&gt;`) is escaped again and shows literally, never decoded into a
 * control sequence.
 */
export function escapeSlackText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Whitespace (newlines, line and paragraph separators), control characters, bidirectional overrides. */
const BREAKS = /[\s\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/gu;

/** One line: a run of whitespace or control characters (a newline in a name) becomes one space. */
export function singleLine(text: string): string {
  return text.replace(BREAKS, ' ').trim();
}

const ENTITY = /^&(?:amp|lt|gt);/;

/**
 * Cuts escaped text to at most `max` characters, the last an ellipsis; never inside an entity (a
 * dangling `&am`) nor between the halves of a surrogate pair.
 */
export function clipEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  const amp = text.lastIndexOf('&', cut - 1);
  const entity = amp === -1 ? null : ENTITY.exec(text.slice(amp, amp + 5));
  if (entity && amp + entity[0].length > cut) cut = amp;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}…`;
}

/** Untrusted text as inline markup: one line, escaped, at most `max` characters once escaped. */
export function inlineText(text: string, max: number): string {
  return clipEscaped(escapeSlackText(singleLine(text)), max);
}

/**
 * Caps on untrusted text, counted escaped: a VPC's Name tag may hold 256 characters of any kind, an
 * AWS error message more. A capped name leaves the title its counts; a capped message keeps a line
 * readable and a section of 15 lines far below what Chatbot and SNS carry. (A Slack text object holds
 * 3,000 characters: https://docs.slack.dev/reference/block-kit/composition-objects/text-object; the
 * webhook renderer cuts sections at line boundaries below that.)
 */
const MAX_NAME = 100;
const MAX_ID = 256;
const MAX_SUMMARY = 300;
const MAX_MESSAGE = 500;

const ICON: Readonly<Record<AlertKind, string>> = {
  'remediation-failed': ':x:',
  'drift-detected': ':warning:',
  'drift-fixed': ':white_check_mark:',
  'drift-resolved': ':white_check_mark:',
  'drift-digest': ':hourglass:',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function section(heading: string, lines: readonly string[]): string[] {
  if (lines.length === 0) return [];
  const shown = lines.slice(0, MAX_LINES_PER_SECTION);
  const more = lines.length - shown.length;
  return [
    `*${heading}*`,
    ...shown.map((line) => `• ${line}`),
    ...(more > 0 ? [`• … and ${more} more`] : []),
    '',
  ];
}

function findingLine(finding: Finding | OpenFinding): string {
  return `\`${inlineText(finding.code, MAX_ID)}\` (${inlineText(finding.severity, MAX_ID)}) ${inlineText(
    finding.message,
    MAX_MESSAGE,
  )}`;
}

function openFindingLine(finding: Finding): string {
  const { status, reason } = finding.remediation;
  const how =
    status === 'planned'
      ? 'fix planned'
      : status === 'manual'
        ? 'needs a person'
        : `fix ${status}${reason ? `: ${inlineText(reason, MAX_MESSAGE)}` : ''}`;
  return `${findingLine(finding)} — _${how}_`;
}

function actionLine(action: AlertedAction): string {
  const resource = action.resourceId ? ` → \`${inlineText(action.resourceId, MAX_ID)}\`` : '';
  return `${action.outcome === 'failed' ? 'FAILED' : 'done'}: ${inlineText(action.summary, MAX_SUMMARY)}${resource}${
    action.outcome === 'failed' ? ` — ${inlineText(action.message, MAX_MESSAGE)}` : ''
  }`;
}

/** `vpc` is markup already (escaped). */
function titleOf(alert: VpcAlert, vpc: string): string {
  const failed = alert.actions.filter((a) => a.outcome === 'failed').length;
  const parts: string[] = [];
  if (failed > 0) parts.push(`${plural(failed, 'action')} failed`);
  if (alert.newFindings.length > 0) parts.push(plural(alert.newFindings.length, 'new finding'));
  if (alert.fixed.length > 0) parts.push(`${alert.fixed.length} fixed`);
  if (alert.resolved.length > 0) parts.push(`${alert.resolved.length} resolved`);
  if (alert.stillOpen.length > 0) parts.push(`${alert.stillOpen.length} still open`);
  return clipEscaped(`${ICON[alert.kind]} ECS endpoints in ${vpc}: ${parts.join(', ')}`, MAX_TITLE);
}

function nextStepsOf(alert: VpcAlert): string[] {
  const steps: string[] = [];
  const planCommand = `npm run cli -- plan --region ${inlineText(alert.region, MAX_ID)}`;
  if (alert.actions.some((a) => a.outcome === 'failed')) {
    steps.push(
      'Read the failure above; an AccessDenied/UnauthorizedOperation means the deployed role does not allow it (docs/deploy.md, IAM).',
    );
  }
  const open = [...alert.newFindings, ...alert.stillOpen];
  if (open.length > 0) {
    steps.push(
      alert.mode === 'report'
        ? `Review the drift with \`${planCommand}\`; fix it with \`apply\`, or deploy with mode=enforce.`
        : `Findings the remediator does not fix need a person: see \`${planCommand}\` and docs/findings.md.`,
    );
  }
  if (alert.fixed.length > 0 && open.length === 0 && steps.length === 0) {
    steps.push(
      'Nothing to do. If someone deleted these endpoints on purpose, tag the VPC ecs-endpoint-remediator/ignore=true.',
    );
  }
  return steps;
}

/**
 * Renders one VPC's alert. `threadId` is per VPC, so a chat client threads every alert of a VPC together.
 */
export function toChatbotNotification(
  alert: VpcAlert,
  context: { readonly accountId?: string } = {},
): ChatbotNotification {
  const vpcId = inlineText(alert.vpcId, MAX_ID);
  const name = alert.vpcName === undefined ? '' : inlineText(alert.vpcName, MAX_NAME);
  const vpc = name ? `${vpcId} (${name})` : vpcId;
  const accountId = context.accountId === undefined ? undefined : inlineText(context.accountId, MAX_ID);
  const region = inlineText(alert.region, MAX_ID);
  const where = `${accountId ? `account ${accountId}, ` : ''}${region}, mode ${inlineText(alert.mode, MAX_ID)}`;
  const description = [
    `_${where}_`,
    '',
    ...section('New findings', alert.newFindings.map(openFindingLine)),
    ...section('Fixed', alert.fixed.map(findingLine)),
    ...section('Actions', alert.actions.map(actionLine)),
    ...section(
      'Resolved',
      alert.resolved.map((f) => `${findingLine(f)} (open since ${inlineText(f.firstSeen, MAX_ID)})`),
    ),
    ...section(
      'Still open',
      alert.stillOpen.map((f) => `${findingLine(f)} (since ${inlineText(f.firstSeen, MAX_ID)})`),
    ),
  ]
    .join('\n')
    .trimEnd();
  const relatedResources = [
    alert.vpcId,
    ...alert.actions.flatMap((a) => (a.resourceId ? [a.resourceId] : [])),
    ...[...alert.newFindings, ...alert.fixed, ...alert.resolved, ...alert.stillOpen].flatMap((f) =>
      f.resourceId ? [f.resourceId] : [],
    ),
  ];
  const codes = [...alert.newFindings, ...alert.fixed, ...alert.resolved, ...alert.stillOpen].map(
    (f) => f.code,
  );
  const nextSteps = nextStepsOf(alert);
  const title = titleOf(alert, vpc);
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title,
      description,
      ...(nextSteps.length > 0 ? { nextSteps } : {}),
      keywords: [
        ...new Set([alert.region, alert.vpcId, alert.kind, ...codes].map((k) => inlineText(k, MAX_ID))),
      ],
    },
    metadata: {
      threadId: `ecs-endpoint-remediator/${alert.region}/${alert.vpcId}`,
      summary: title.replace(/^:[a-z_]+: /, ''),
      eventType: alert.kind,
      relatedResources: [...new Set(relatedResources.map((r) => inlineText(r, MAX_ID)))],
      additionalContext: {
        region,
        vpcId,
        mode: alert.mode,
        ...(accountId ? { accountId } : {}),
      },
    },
  };
}
