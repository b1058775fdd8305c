// 10,000 hostile queue messages through the pure judge of the batch handler (core/events.ts
// judgeEventBody): it never throws, and each message is judged as its kind requires. The same
// generator drives a representative 500 through the whole batch handler against moto in
// test/handlers/fuzz.test.ts: 10,000 there would spend minutes in the emulator on the reconciles of
// the valid events, which this pure run does not need to prove that no message can crash a batch.
import { describe, expect, it } from 'vitest';
import { IGNORED_CLASSES, TERMINAL_REASONS } from '../../core/errors.ts';
import { judgeEventBody } from '../../core/events.ts';
import { hostileMessages, judgedAs } from './hostile.ts';

const COUNT = 10_000;

describe('10,000 hostile messages through the judge', () => {
  it('never throws, and judges each as its kind requires', () => {
    const messages = hostileMessages(COUNT, {
      region: 'us-east-1',
      account: '111122223333',
      vpcId: 'vpc-0a11110000000001',
    });
    const wrong: Array<{ kind: string; got: string; expected: readonly string[]; body: string }> = [];
    const byKind = new Map<string, Map<string, number>>();
    for (const message of messages) {
      const judged = judgeEventBody(message.body);
      const got =
        judged.status === 'hint'
          ? 'hint'
          : judged.status === 'ignored'
            ? `ignored:${judged.code}`
            : `terminal:${judged.reason}`;
      const expected = message.expect.map(judgedAs);
      if (!expected.includes(got))
        wrong.push({ kind: message.kind, got, expected, body: message.body.slice(0, 300) });
      const counts = byKind.get(message.kind) ?? new Map<string, number>();
      counts.set(got, (counts.get(got) ?? 0) + 1);
      byKind.set(message.kind, counts);
      if (judged.status === 'terminal') expect(Object.keys(TERMINAL_REASONS)).toContain(judged.reason);
      if (judged.status === 'ignored') expect(Object.keys(IGNORED_CLASSES)).toContain(judged.code);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    // Every kind is in the mix, and no body needed the catch-all for errors other than parse errors.
    expect(byKind.size).toBe(15);
    expect([...byKind.values()].some((counts) => counts.has('terminal:unprocessable'))).toBe(false);
  }, 60_000);
});
