import { describe, expect, it } from 'vitest';
import type { AlertInput, OpenFinding } from '../../core/alerts.ts';
import { decideAlerts } from '../../core/alerts.ts';
import {
  chatbotNotificationSchema,
  toChatbotNotification,
  MAX_LINES_PER_SECTION,
} from '../../core/chatbot.ts';
import { legacyFindingId } from '../../core/findings.ts';
import type { Finding } from '../../core/findings.ts';
import type { Plan, PlannedAction } from '../../core/plan.ts';
import type { ActionResult } from '../../core/report.ts';
import { toSlackMessage } from '../../core/slack.ts';

const region = 'us-east-1';
const vpcId = 'vpc-1';
const ACCOUNT = '123456789012';
const t0 = new Date('2026-11-28T10:00:00Z');
const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

function finding(
  service: string,
  remediation: Finding['remediation'] = { status: 'manual', actionIds: [] },
): Finding {
  return {
    id: `ENDPOINT_MISSING/${ACCOUNT}/${region}/${vpcId}/${service}`,
    accountId: ACCOUNT,
    code: 'ENDPOINT_MISSING',
    status: 'drift',
    severity: 'high',
    region,
    vpcId,
    service,
    message: `no ${service} endpoint`,
    remediation,
  };
}

function plan(findings: Finding[], actions: PlannedAction[] = []): Plan {
  return {
    findings,
    actions,
    vpcs: [{ region, vpcId, name: 'prod' }],
  } as unknown as Plan;
}

function action(service: string): PlannedAction {
  return {
    id: `CREATE_ENDPOINT/${region}/${vpcId}/${service}`,
    kind: 'CREATE_ENDPOINT',
    region,
    vpcId,
    fixes: [`ENDPOINT_MISSING/${ACCOUNT}/${region}/${vpcId}/${service}`],
    accountId: ACCOUNT,
    dependsOn: [],
    summary: `create ${service}`,
    status: 'planned',
  } as unknown as PlannedAction;
}

function result(service: string, outcome: ActionResult['outcome'], message = 'ok'): ActionResult {
  return {
    actionId: `CREATE_ENDPOINT/${region}/${vpcId}/${service}`,
    accountId: ACCOUNT,
    kind: 'CREATE_ENDPOINT',
    region,
    vpcId,
    outcome,
    ...(outcome === 'succeeded' ? { resourceId: 'vpce-9' } : {}),
    message,
  };
}

const base = (over: Partial<AlertInput>): AlertInput => ({
  mode: 'report',
  scope: { region },
  open: [],
  plan: plan([]),
  now: t0,
  ...over,
});

/** Runs reconciles in sequence, carrying the remembered findings like the state table does. */
function sequence(steps: Array<Omit<Partial<AlertInput>, 'open'>>) {
  let open: OpenFinding[] = [];
  return steps.map((step) => {
    const decision = decideAlerts(base({ ...step, open }));
    const removed = new Set(decision.remove.map((f) => f.id));
    const put = new Map(decision.put.map((f) => [f.id, f]));
    open = [...open.filter((f) => !removed.has(f.id) && !put.has(f.id)), ...put.values()];
    return { decision, open };
  });
}

describe('decideAlerts', () => {
  it('report mode: a new finding alerts once; unchanged it is quiet; after a day a digest; then resolved', () => {
    const f = finding('ecs-agent');
    const steps = sequence([
      { plan: plan([f]), now: t0 },
      { plan: plan([f]), now: later(15) },
      { plan: plan([f]), now: later(24 * 60 + 1) },
      { plan: plan([f]), now: later(24 * 60 + 16) },
      { plan: plan([]), now: later(24 * 60 + 31) },
      { plan: plan([]), now: later(24 * 60 + 46) },
    ]);
    expect(steps.map((s) => s.decision.alerts.map((a) => a.kind))).toEqual([
      ['drift-detected'],
      [],
      ['drift-digest'],
      [],
      ['drift-resolved'],
      [],
    ]);
    expect(steps[1]?.open[0]).toMatchObject({
      firstSeen: t0.toISOString(),
      lastSeen: later(15).toISOString(),
    });
    expect(steps[4]?.open).toEqual([]);
  });

  it('enforce mode: a finding fixed by this run is told as fixed with its action, and not remembered', () => {
    const f = finding('ecs-agent', { status: 'planned', actionIds: [action('ecs-agent').id] });
    const decision = decideAlerts(
      base({
        mode: 'enforce',
        plan: plan([f], [action('ecs-agent')]),
        results: [result('ecs-agent', 'succeeded')],
      }),
    );
    expect(decision.alerts).toHaveLength(1);
    expect(decision.alerts[0]).toMatchObject({ kind: 'drift-fixed', fixed: [f], newFindings: [] });
    expect(decision.alerts[0]?.actions).toEqual([
      expect.objectContaining({ outcome: 'succeeded', resourceId: 'vpce-9' }),
    ]);
    expect(decision.put).toEqual([]);
  });

  it('an action id two accounts share is judged per account: one fixed, the other failed (a plan over an organisation)', () => {
    const OTHER = '210987654321';
    const inOther = <T extends { accountId: string }>(item: T): T => ({ ...item, accountId: OTHER });
    const mine = finding('ecs-agent', { status: 'planned', actionIds: [action('ecs-agent').id] });
    const theirs = {
      ...inOther(mine),
      id: `ENDPOINT_MISSING/${OTHER}/${region}/${vpcId}/ecs-agent`,
    };
    const decision = decideAlerts(
      base({
        mode: 'enforce',
        plan: plan([mine, theirs], [action('ecs-agent'), inOther(action('ecs-agent'))]),
        // The other account's result last: keyed by action id alone, it would stand for both.
        results: [result('ecs-agent', 'succeeded'), inOther(result('ecs-agent', 'failed', 'AccessDenied'))],
      }),
    );
    const alert = decision.alerts[0];
    expect(alert?.fixed.map((f) => f.id)).toEqual([mine.id]);
    expect(alert?.newFindings.map((f) => f.id)).toEqual([theirs.id]);
    expect(decision.put.map((f) => [f.id, f.lastFailure?.message])).toEqual([
      [theirs.id, `${action('ecs-agent').id}: AccessDenied`],
    ]);
    expect(alert?.actions.map((a) => a.outcome).sort()).toEqual(['failed', 'succeeded']);
  });

  it('a failure is told when it happens, not again while unchanged, again when it changes', () => {
    const f = finding('ecs-agent', { status: 'planned', actionIds: [action('ecs-agent').id] });
    const run = (now: Date, message: string) => ({
      mode: 'enforce' as const,
      plan: plan([f], [action('ecs-agent')]),
      results: [result('ecs-agent', 'failed', message)],
      now,
    });
    const steps = sequence([
      run(t0, 'UnauthorizedOperation'),
      run(later(15), 'UnauthorizedOperation'),
      run(later(30), 'Throttling'),
    ]);
    expect(steps.map((s) => s.decision.alerts.map((a) => a.kind))).toEqual([
      ['remediation-failed'],
      [],
      ['remediation-failed'],
    ]);
  });

  it('a narrowed reconcile judges only the VPCs it read', () => {
    const other: OpenFinding = {
      ...finding('logs'),
      vpcId: 'vpc-2',
      id: `ENDPOINT_MISSING/${ACCOUNT}/us-east-1/vpc-2/logs`,
      firstSeen: t0.toISOString(),
      lastSeen: t0.toISOString(),
      lastAlerted: t0.toISOString(),
    };
    const decision = decideAlerts(
      base({ scope: { region, vpcIds: [vpcId] }, open: [other], now: later(60) }),
    );
    expect(decision.alerts).toEqual([]);
    expect(decision.remove).toEqual([]);
  });
});

describe('Chatbot and Slack rendering', () => {
  it('renders a valid custom notification, threaded per VPC, with long sections cut', () => {
    const findings = Array.from({ length: 40 }, (_, i) => finding(`svc-${String(i).padStart(2, '0')}`));
    const [alert] = decideAlerts(base({ plan: plan(findings) })).alerts;
    if (!alert) throw new Error('no alert');
    const notification = toChatbotNotification(alert, { accountId: '111122223333' });
    expect(chatbotNotificationSchema.safeParse(notification).success).toBe(true);
    expect(notification.metadata?.threadId).toBe(`ecs-endpoint-remediator/${region}/${vpcId}`);
    expect(notification.content.title).toBe(':warning: ECS endpoints in vpc-1 (prod): 40 new findings');
    expect(notification.content.description.split('\n').filter((l) => l.startsWith('• `'))).toHaveLength(
      MAX_LINES_PER_SECTION,
    );
    expect(notification.content.description).toContain('• … and 25 more');
    const slack = toSlackMessage(JSON.stringify(notification));
    expect(slack.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: notification.content.title },
    });
    for (const block of slack.blocks)
      if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('passes anything else to Slack as plain text', () => {
    expect(toSlackMessage('hello', 'subject')).toEqual({
      text: 'subject',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'subject' } },
        { type: 'section', text: { type: 'plain_text', text: 'hello' } },
      ],
    });
  });

  it('an open finding stored under its schema-1 id (no account) is the same finding: not alerted again, stored anew, its old record removed', () => {
    const f = finding('ecs-agent');
    const g = finding('logs');
    const stored = (id: string): OpenFinding => ({
      id,
      code: 'ENDPOINT_MISSING',
      severity: 'high',
      region,
      vpcId,
      message: 'no endpoint',
      firstSeen: t0.toISOString(),
      lastSeen: t0.toISOString(),
      lastAlerted: t0.toISOString(),
    });
    // As the deployed stack stored them before ids named the account.
    const oldF = stored(`ENDPOINT_MISSING/${region}/${vpcId}/ecs-agent`);
    const oldGone = stored(`ENDPOINT_MISSING/${region}/${vpcId}/ssm`);
    expect(legacyFindingId(f.id)).toBe(oldF.id);
    const decision = decideAlerts(base({ plan: plan([f, g]), open: [oldF, oldGone], now: later(15) }));
    // Only g is new; the ssm finding, gone, is resolved as before.
    expect(
      decision.alerts.map((a) => [a.kind, a.newFindings.map((n) => n.id), a.resolved.map((r) => r.id)]),
    ).toEqual([['drift-detected', [g.id], [oldGone.id]]]);
    const putF = decision.put.find((p) => p.id === f.id);
    expect(putF).toMatchObject({
      accountId: ACCOUNT,
      firstSeen: t0.toISOString(),
      lastAlerted: t0.toISOString(),
    });
    expect(decision.remove.map((r) => r.id).sort()).toEqual([oldF.id, oldGone.id].sort());
    // What was remembered, as judged: under the current id, with its first sighting (the Security Hub
    // export's CreatedAt of a finding it never sent).
    expect(decision.remembered.map((r) => [r.id, r.firstSeen]).sort()).toEqual(
      [
        [f.id, t0.toISOString()],
        [oldGone.id, t0.toISOString()],
      ].sort(),
    );
    // The next reconcile sees only the new records: quiet.
    const next = decideAlerts(base({ plan: plan([f, g]), open: decision.put, now: later(30) }));
    expect(next.alerts).toEqual([]);
    expect(next.remove).toEqual([]);
  });
});
