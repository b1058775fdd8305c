// The reconciler's own sends (aws/event-queue.ts) against a stand-in SQS client: how a batch is split,
// how a refused entry and a failed request are reported; and the bounded event keys (aws/state.ts).
import type { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BATCH_BYTES, createEventQueues, sqsSafeText } from '../../aws/event-queue.ts';
import { EVENT_ID_MAX_BYTES, eventKeyId } from '../../aws/state.ts';

type Entries = NonNullable<SendMessageBatchCommand['input']['Entries']>;

/** A client that records each SendMessageBatch and answers with `answer`; `queues` sends through it. */
function fakeSqs(answer: (entries: Entries) => Promise<unknown>) {
  const requests: Array<{ url: string | undefined; entries: Entries }> = [];
  const client = {
    send: (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      requests.push({ url: command.input.QueueUrl, entries });
      return answer(entries);
    },
  } as unknown as SQSClient;
  const queues = (urls: Parameters<typeof createEventQueues>[1]) => createEventQueues(client, urls);
  return { queues, requests };
}

const allSent = (entries: Entries) => Promise.resolve({ Successful: entries.map((e) => ({ Id: e.Id })) });

describe('createEventQueues', () => {
  it('sends ten a request, and at most 256 KiB: a larger message alone', async () => {
    const sqs = fakeSqs(allSent);
    const queues = sqs.queues({ deadLetterQueueUrl: 'dlq', eventsQueueUrl: 'events' });
    const small = Array.from({ length: 23 }, (_, n) => ({ messageId: `s${n}`, body: 'x', attributes: {} }));
    const big = [100_000, 100_000, 100_000, 300_000].map((size, n) => ({
      messageId: `b${n}`,
      body: 'y'.repeat(size),
      attributes: { 'eer-reason': 'malformed' },
    }));
    const outcome = await queues.deadLetter([...small, ...big]);
    expect(outcome.failed).toEqual([]);
    expect(outcome.sent).toEqual([...small, ...big].map((m) => m.messageId));
    expect(sqs.requests.map((r) => r.entries.length)).toEqual([10, 10, 5, 1, 1]);
    for (const request of sqs.requests.slice(0, -1)) {
      const bytes = request.entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(BATCH_BYTES);
    }
    expect(new Set(sqs.requests.map((r) => r.url))).toEqual(new Set(['dlq']));
  });

  it('reports a refused entry and every entry of a failed request as not sent', async () => {
    let call = 0;
    const sqs = fakeSqs((entries) => {
      call += 1;
      if (call === 2)
        return Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
      return Promise.resolve({
        Successful: entries.slice(1).map((e) => ({ Id: e.Id })),
        Failed: [{ Id: entries[0]?.Id, Code: 'InvalidMessageContents', Message: 'bad', SenderFault: true }],
      });
    });
    const queues = sqs.queues({ eventsQueueUrl: 'events' });
    const messages = Array.from({ length: 12 }, (_, n) => ({
      messageId: `m${n}`,
      body: 'x',
      attributes: { 'eer-deferrals': 1 },
    }));
    const outcome = await queues.requeue(messages);
    expect(outcome.sent).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    expect(outcome.failed).toEqual([
      { messageId: 'm0', error: 'InvalidMessageContents: bad' },
      { messageId: 'm10', error: 'ThrottlingException: slow down' },
      { messageId: 'm11', error: 'ThrottlingException: slow down' },
    ]);
    expect(sqs.requests[0]?.entries[0]?.MessageAttributes).toEqual({
      'eer-deferrals': { DataType: 'Number', StringValue: '1' },
    });
  });

  it('without a queue URL sends nothing and fails each message', async () => {
    const sqs = fakeSqs(allSent);
    const queues = sqs.queues({});
    const outcome = await queues.deadLetter([{ messageId: 'm', body: 'x', attributes: {} }]);
    expect(outcome).toEqual({
      sent: [],
      failed: [{ messageId: 'm', error: 'no dead-letter queue configured' }],
    });
    expect(sqs.requests).toEqual([]);
  });

  it('makes attribute values text SQS accepts, and cuts them at 1,000 characters', async () => {
    expect(sqsSafeText('a\u0000b\ud800c\uffffd\u{1F600}\t')).toBe('a\uFFFDb\uFFFDc\uFFFDd\u{1F600}\t');
    const sqs = fakeSqs(allSent);
    await sqs
      .queues({ deadLetterQueueUrl: 'dlq' })
      .deadLetter([{ messageId: 'm', body: 'x', attributes: { 'eer-detail': `\u0007${'z'.repeat(5000)}` } }]);
    const value = sqs.requests[0]?.entries[0]?.MessageAttributes?.['eer-detail']?.StringValue ?? '';
    expect(value).toHaveLength(1000);
    expect(value.startsWith('\uFFFDz')).toBe(true);
  });
});

describe('eventKeyId', () => {
  it('keeps a CloudTrail eventID; hashes a long or ill-formed one, stably; is idempotent', () => {
    const uuid = '7b2d8e1f-3c4a-4d5b-8e6f-7a8b9c0d1e02';
    expect(eventKeyId(uuid)).toBe(uuid);
    const long = 'é'.repeat(1500);
    expect(eventKeyId(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(eventKeyId(long)).toBe(eventKeyId(`${'é'.repeat(1499)}é`));
    expect(eventKeyId(long)).not.toBe(eventKeyId(`${long}x`));
    expect(eventKeyId(eventKeyId(long))).toBe(eventKeyId(long));
    expect(eventKeyId('x'.repeat(EVENT_ID_MAX_BYTES))).toBe('x'.repeat(EVENT_ID_MAX_BYTES));
    expect(eventKeyId('x'.repeat(EVENT_ID_MAX_BYTES + 1))).toMatch(/^sha256:/);
    // Lone surrogates are kept apart (not both made U+FFFD before hashing).
    expect(eventKeyId('\ud800')).not.toBe(eventKeyId('\ud801'));
  });
});
