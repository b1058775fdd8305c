/**
 * Restarts that span invocations, in core: the continuation event the reconciler sends itself is read
 * as strictly as the rules' events (a hint for its VPCs, never more), and a restart a later
 * invocation continues still refreshes the cutoff of the endpoints it waited for.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONTINUATION_MAX_VPCS,
  coalesceHints,
  judgeEventBody,
  parseEventBody,
  restartContinuationBody,
} from '../../core/events.ts';
import type { ReconcileHint } from '../../core/events.ts';
import { RESTART_CUTOFF_TAG } from '../../core/restarts.ts';
import { MANAGED_TAGS, NOW, account, actionOf, planOf } from './fixtures.ts';

const VPC = 'vpc-0a11110000000001';
const continuation = (patch: (event: Record<string, unknown>) => void = () => undefined): string => {
  const event = JSON.parse(
    restartContinuationBody({
      id: 'continuation-1',
      time: '2026-03-14T09:31:05.000Z',
      region: 'us-east-1',
      account: '111122223333',
      vpcIds: [VPC],
      reason: 'SSM command running',
    }),
  ) as Record<string, unknown>;
  patch(event);
  return JSON.stringify(event);
};
const detailOf = (event: Record<string, unknown>) => event.detail as Record<string, unknown>;

describe('restart continuation events', () => {
  it('reads back as a hint for its VPCs in its Region, with its own occurrence id', () => {
    expect(parseEventBody(continuation())).toEqual({
      status: 'hint',
      hint: {
        eventId: 'continuation-1',
        trigger: 'remediator:RestartContinuation',
        time: '2026-03-14T09:31:05.000Z',
        scope: {
          kind: 'targets',
          region: 'us-east-1',
          targets: { vpcIds: [VPC], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] },
        },
      },
    });
  });

  it('is the shape of the sample in events/', () => {
    const sample = readFileSync(
      new URL('../../events/remediator-restart-continuation.json', import.meta.url),
      'utf8',
    );
    const keys = (text: string) => Object.keys(JSON.parse(text) as object).sort();
    expect(keys(sample)).toEqual(keys(continuation()));
    expect(judgeEventBody(sample).status).toBe('hint');
  });

  it('is terminal when malformed, like any event: another source, extra or missing fields, bad ids', () => {
    const judged = (patch: (event: Record<string, unknown>) => void) => judgeEventBody(continuation(patch));
    expect(
      judged((e) => {
        e.source = 'aws.events';
      }),
    ).toMatchObject({ status: 'terminal', reason: 'unmatched' });
    expect(
      judged((e) => {
        detailOf(e).restart = true;
      }),
    ).toMatchObject({ status: 'terminal', reason: 'malformed' });
    expect(
      judged((e) => {
        detailOf(e).vpcIds = [];
      }),
    ).toMatchObject({ status: 'terminal', reason: 'malformed' });
    expect(
      judged((e) => {
        detailOf(e).vpcIds = ['vpc-nothex!'];
      }),
    ).toMatchObject({ status: 'terminal', reason: 'malformed' });
    expect(
      judged((e) => {
        detailOf(e).vpcIds = Array.from(
          { length: CONTINUATION_MAX_VPCS + 1 },
          (_, n) => `vpc-${n.toString(16)}`,
        );
      }),
    ).toMatchObject({ status: 'terminal', reason: 'malformed' });
    expect(
      judged((e) => {
        delete e.id;
      }),
    ).toMatchObject({ status: 'terminal', reason: 'malformed' });
  });

  it('coalesces with the other events of its VPC into one reconcile', () => {
    const hint = (body: string): ReconcileHint => {
      const parsed = parseEventBody(body);
      if (parsed.status !== 'hint') throw new Error('hint expected');
      return parsed.hint;
    };
    const { work } = coalesceHints(
      [
        hint(continuation()),
        hint(
          continuation((e) => {
            e.id = 'continuation-2';
          }),
        ),
      ],
      ['us-east-1'],
    );
    expect(work).toEqual([
      {
        region: 'us-east-1',
        whole: false,
        eventIds: ['continuation-1', 'continuation-2'],
        targets: { vpcIds: [VPC], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] },
      },
    ]);
  });
});

describe('a restart continued by a later run', () => {
  /** EC2 capacity registered before the remediator's ECS endpoints, made at `cutoff`, in `state`. */
  function owing(state: 'pending' | 'available') {
    const a = account();
    const vpc = a.vpc();
    const sub = a.subnet(vpc, { az: 'a' });
    a.containerInstance(sub, { registeredAt: new Date(NOW.getTime() - 3600_000).toISOString() });
    const cutoff = new Date(NOW.getTime() - 60_000).toISOString();
    for (const service of ['ecs-agent', 'ecs-telemetry', 'ecs'] as const)
      a.endpoint(vpc, service, { state, tags: { ...MANAGED_TAGS, [RESTART_CUTOFF_TAG]: cutoff } });
    return a.snapshot();
  }

  it('refreshes the cutoff of its own ECS endpoints still pending, once it sees them available', () => {
    expect(actionOf(planOf(owing('pending')), 'RESTART_AGENT').refreshCutoff).toBe(true);
    expect(actionOf(planOf(owing('available')), 'RESTART_AGENT').refreshCutoff).toBe(false);
  });
});
