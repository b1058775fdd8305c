// Hostile queue messages through the reconciler's batch handler against moto, ten a batch as SQS
// delivers them: the real state table (claims), the real dead-letter queue (SendMessageBatch), real
// reconciles of the valid events. A representative 500 (test/core/hostile.ts's mix, about 25 s on two
// busy cores); the 10,000 of the issue run through the pure judge in test/core/events-fuzz.test.ts
// (about 2 s). Here the emulator's cost grows faster than the count (2,000 took four minutes: moto
// scans a queue's messages on every receive, and the valid events reconcile), so 10,000 would take
// far more than the suite's budget. FUZZ_MESSAGES=<n> runs n here, FUZZ_BATCH=<n> with n messages a
// batch (the deployed event source's batchSize is 100), e.g.
// `FUZZ_MESSAGES=10000 FUZZ_BATCH=100 bash scripts/env.sh vitest run test/handlers/fuzz.test.ts`.
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { MessageOutcome } from '../../aws/event-batch.ts';
import { IGNORED_CLASSES, TERMINAL_REASONS } from '../../core/errors.ts';
import { reconcileSqsBatch } from '../../handlers/reconcile.ts';
import { newAccount } from '../harness/aws.ts';
import { hostileMessages } from '../core/hostile.ts';
import { attributeOf, createStack, depsFor, drainQueue, sqsEvent } from './stack.ts';

const COUNT = Number(process.env.FUZZ_MESSAGES ?? 500);
const BATCH = Number(process.env.FUZZ_BATCH ?? 10);

const outcomeOf = (m: MessageOutcome): string =>
  m.status === 'ignored'
    ? `ignored:${m.code}`
    : m.status === 'dead-lettered'
      ? `dead-lettered:${m.reason}`
      : m.status;

describe(`${COUNT} hostile messages through the batch handler`, () => {
  it('fail no batch and crash nothing; every message is processed, ignored for a listed class, or dead-lettered with its reason', async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report');
    const deps = depsFor(acct, stack);
    const vpcs = await acct.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    const vpcId = vpcs.Vpcs?.[0]?.VpcId ?? '';
    const messages = hostileMessages(COUNT, { region: acct.region, account: acct.accountId, vpcId });
    const idOf = (n: number) => `fuzz-${String(n).padStart(5, '0')}`;

    const started = performance.now();
    let wholeBatchFailures = 0;
    const crashes: string[] = [];
    const outcomes: MessageOutcome[] = [];
    for (let first = 0; first < messages.length; first += BATCH) {
      const batch = messages.slice(first, first + BATCH);
      try {
        const { response, summary } = await reconcileSqsBatch(
          sqsEvent(
            batch.map((m) => m.body),
            acct,
            batch.map((_, n) => idOf(first + n)),
          ),
          deps,
        );
        if (response.batchItemFailures.length === batch.length) wholeBatchFailures += 1;
        outcomes.push(...summary.messages);
      } catch (error) {
        crashes.push(String(error));
      }
    }
    const elapsed = performance.now() - started;

    expect(crashes).toEqual([]);
    expect(wholeBatchFailures).toBe(0);
    expect(outcomes.map((o) => o.messageId)).toEqual(messages.map((_, n) => idOf(n)));
    // Each message ended as its kind allows: nothing retried (moto has no transient errors), nothing
    // dropped for a reason outside the listed classes.
    const unexpected = outcomes
      .map((outcome, n) => ({ outcome: outcomeOf(outcome), message: messages[n] }))
      .filter(({ outcome, message }) => !message?.expect.includes(outcome))
      .map(({ outcome, message }) => ({ kind: message?.kind, outcome, body: message?.body.slice(0, 200) }));
    expect(unexpected.slice(0, 5)).toEqual([]);
    for (const outcome of outcomes) {
      if (outcome.status === 'ignored') expect(Object.keys(IGNORED_CLASSES)).toContain(outcome.code);
      if (outcome.status === 'dead-lettered') expect(Object.keys(TERMINAL_REASONS)).toContain(outcome.reason);
    }

    // The dead-letter queue holds each dead-lettered message once, as received, with its reason.
    const dead = await drainQueue(stack, stack.deadLetterQueueUrl);
    const deadLettered = outcomes.filter((o) => o.status === 'dead-lettered');
    expect(dead).toHaveLength(deadLettered.length);
    const bySource = new Map(dead.map((m) => [attributeOf(m, 'eer-source-message-id'), m]));
    for (const outcome of deadLettered) {
      const message = bySource.get(outcome.messageId);
      expect(attributeOf(message ?? {}, 'eer-reason')).toBe(outcome.reason);
      expect(message?.Body).toBe(messages[Number(outcome.messageId.slice('fuzz-'.length))]?.body);
    }

    // The valid events were processed (reconciled), and the mix had every kind in it.
    const tally = (pick: (o: MessageOutcome) => boolean) => outcomes.filter(pick).length;
    const counts = {
      messages: outcomes.length,
      processed: tally((o) => o.status === 'processed'),
      ignored: tally((o) => o.status === 'ignored'),
      deadLettered: deadLettered.length,
      retried: tally((o) => o.status === 'retry'),
      kinds: new Set(messages.map((m) => m.kind)).size,
      seconds: Math.round(elapsed / 100) / 10,
    };
    console.log(`fuzz through the batch handler: ${JSON.stringify(counts)}`);
    const mustProcess = messages.filter((m) => m.expect.length === 1 && m.expect[0] === 'processed').length;
    expect(mustProcess).toBeGreaterThan(0);
    expect(counts.processed).toBeGreaterThanOrEqual(mustProcess);
    expect(counts.retried).toBe(0);
    expect(counts.kinds).toBe(15);
    expect(deps.logs.filter((l) => l.message === 'region reconciled').length).toBeGreaterThan(0);
  }, Math.max(300_000, COUNT * 300));
});
