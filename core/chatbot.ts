/**
 * Alerts as AWS Chatbot (Amazon Q Developer in chat applications) custom notifications: the JSON an
 * SNS message must carry for a Slack or Teams channel mapped to the topic to render it with no code.
 * The format is a public contract (docs/deploy.md, "Alert format"); the Slack webhook notifier reads it back.
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
  return `\`${finding.code}\` (${finding.severity}) ${finding.message}`;
}

function openFindingLine(finding: Finding): string {
  const { status, reason } = finding.remediation;
  const how =
    status === 'planned'
      ? 'fix planned'
      : status === 'manual'
        ? 'needs a person'
        : `fix ${status}${reason ? `: ${reason}` : ''}`;
  return `${findingLine(finding)} — _${how}_`;
}

function actionLine(action: AlertedAction): string {
  const resource = action.resourceId ? ` → \`${action.resourceId}\`` : '';
  return `${action.outcome === 'failed' ? 'FAILED' : 'done'}: ${action.summary}${resource}${
    action.outcome === 'failed' ? ` — ${action.message}` : ''
  }`;
}

function titleOf(alert: VpcAlert, vpc: string): string {
  const failed = alert.actions.filter((a) => a.outcome === 'failed').length;
  const parts: string[] = [];
  if (failed > 0) parts.push(`${plural(failed, 'action')} failed`);
  if (alert.newFindings.length > 0) parts.push(plural(alert.newFindings.length, 'new finding'));
  if (alert.fixed.length > 0) parts.push(`${alert.fixed.length} fixed`);
  if (alert.resolved.length > 0) parts.push(`${alert.resolved.length} resolved`);
  if (alert.stillOpen.length > 0) parts.push(`${alert.stillOpen.length} still open`);
  const title = `${ICON[alert.kind]} ECS endpoints in ${vpc}: ${parts.join(', ')}`;
  return title.length > MAX_TITLE ? `${title.slice(0, MAX_TITLE - 1)}…` : title;
}

function nextStepsOf(alert: VpcAlert): string[] {
  const steps: string[] = [];
  const planCommand = `npm run cli -- plan --region ${alert.region}`;
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
  const vpc = alert.vpcName ? `${alert.vpcId} (${alert.vpcName})` : alert.vpcId;
  const where = `${context.accountId ? `account ${context.accountId}, ` : ''}${alert.region}, mode ${alert.mode}`;
  const description = [
    `_${where}_`,
    '',
    ...section('New findings', alert.newFindings.map(openFindingLine)),
    ...section('Fixed', alert.fixed.map(findingLine)),
    ...section('Actions', alert.actions.map(actionLine)),
    ...section(
      'Resolved',
      alert.resolved.map((f) => `${findingLine(f)} (open since ${f.firstSeen})`),
    ),
    ...section(
      'Still open',
      alert.stillOpen.map((f) => `${findingLine(f)} (since ${f.firstSeen})`),
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
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: titleOf(alert, vpc),
      description,
      ...(nextSteps.length > 0 ? { nextSteps } : {}),
      keywords: [...new Set([alert.region, alert.vpcId, alert.kind, ...codes])],
    },
    metadata: {
      threadId: `ecs-endpoint-remediator/${alert.region}/${alert.vpcId}`,
      summary: titleOf(alert, vpc).replace(/^:[a-z_]+: /, ''),
      eventType: alert.kind,
      relatedResources: [...new Set(relatedResources)],
      additionalContext: {
        region: alert.region,
        vpcId: alert.vpcId,
        mode: alert.mode,
        ...(context.accountId ? { accountId: context.accountId } : {}),
      },
    },
  };
}
