/**
 * The reconciler's own sends to its queues (docs/architecture.md, "Event flow"): a message that can
 * never be processed goes to the dead-letter queue at once, with its reason as a message attribute,
 * instead of being returned five times; a message whose work was not started before the invocation's
 * time ran short goes back to the events queue as a new message (its receive count starts over).
 *
 * SendMessageBatch: ten messages, and at most {@link BATCH_BYTES}, a request. A send that fails, as a
 * whole or for one entry, is reported per message: the batch handler then returns that message to SQS
 * for a retry (transient), so nothing is lost.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue, SQSClient, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { errorMessage, errorName } from './errors.ts';

/** The dead-lettered message's reason: a core/errors.ts TERMINAL_REASONS key. */
export const REASON_ATTRIBUTE = 'eer-reason';
/** What did not fit, for a person reading the dead-letter queue (at most {@link DETAIL_MAX_CHARS}). */
export const DETAIL_ATTRIBUTE = 'eer-detail';
/** The SQS message id the body arrived with. */
export const SOURCE_MESSAGE_ATTRIBUTE = 'eer-source-message-id';
/** On a message sent back to the events queue: how many times its work has been deferred. */
export const DEFERRALS_ATTRIBUTE = 'eer-deferrals';

/** Longest `eer-detail` value sent. */
export const DETAIL_MAX_CHARS = 1000;
/**
 * Most bytes (bodies and attributes) per SendMessageBatch: 256 KiB, the SQS limit before 2025 and
 * still that of a queue whose MaximumMessageSize was set to it. A larger message is sent alone.
 */
export const BATCH_BYTES = 262_144;

/** One message to send: the body as received, and our attributes. */
export interface OutgoingMessage {
  /** The id of the received message this one stands for (how outcomes are reported). */
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string | number>>;
  /** Seconds before SQS delivers it (0–900); absent: at once. */
  readonly delaySeconds?: number;
}

/** Which messages were sent, and which were not (with the error), by the id they were given. */
export interface SendOutcome {
  readonly sent: readonly string[];
  readonly failed: ReadonlyArray<{ readonly messageId: string; readonly error: string }>;
}

/** Sends to the dead-letter queue and back to the events queue. */
export interface EventQueues {
  /** Sends messages to the dead-letter queue; fails each when no dead-letter queue is configured. */
  deadLetter(messages: readonly OutgoingMessage[]): Promise<SendOutcome>;
  /** Sends messages to the events queue again; fails each when no events queue is configured. */
  requeue(messages: readonly OutgoingMessage[]): Promise<SendOutcome>;
}

/** The queues' URLs (serverless.yml sets both in the reconciler's environment). */
export interface EventQueueUrls {
  readonly deadLetterQueueUrl?: string | undefined;
  readonly eventsQueueUrl?: string | undefined;
}

/**
 * Characters SQS accepts in a body or attribute (#x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD,
 * #x10000–#x10FFFF); anything else, lone surrogates included, becomes U+FFFD.
 */
export function sqsSafeText(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  const safe = text
    .toWellFormed()
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
  return safe.length > maxChars ? `${safe.slice(0, maxChars - 1)}…` : safe;
}

function attributeValues(
  attributes: Readonly<Record<string, string | number>>,
): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]): [string, MessageAttributeValue] =>
      typeof value === 'number'
        ? [name, { DataType: 'Number', StringValue: String(value) }]
        : [name, { DataType: 'String', StringValue: sqsSafeText(value, DETAIL_MAX_CHARS) }],
    ),
  );
}

/** The bytes SQS counts for a message: its body, and each attribute's name, type and value. */
function sizeOf(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/** Splits entries into requests of at most ten and {@link BATCH_BYTES} (a larger one alone). */
function requests(entries: readonly SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const out: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = sizeOf(entry);
    if (current.length > 0 && (current.length === 10 || bytes + size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function sendAll(
  sqs: SQSClient,
  queueUrl: string | undefined,
  what: string,
  messages: readonly OutgoingMessage[],
): Promise<SendOutcome> {
  if (messages.length === 0) return { sent: [], failed: [] };
  if (!queueUrl) {
    return {
      sent: [],
      failed: messages.map((m) => ({ messageId: m.messageId, error: `no ${what} configured` })),
    };
  }
  // Entry ids are positions: SQS message ids fit the Id pattern, but the ids we are given need not.
  const entries = messages.map((message, n): SendMessageBatchRequestEntry => ({
    Id: String(n),
    MessageBody: message.body,
    MessageAttributes: attributeValues(message.attributes),
    ...(message.delaySeconds === undefined ? {} : { DelaySeconds: message.delaySeconds }),
  }));
  const byEntry = (id: string | undefined) => messages[Number(id)]?.messageId ?? '?';
  const sent: string[] = [];
  const failed: Array<{ messageId: string; error: string }> = [];
  for (const request of requests(entries)) {
    try {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: request }));
      const ok = new Set((out.Successful ?? []).map((s) => s.Id));
      const refused = new Map((out.Failed ?? []).map((f) => [f.Id, `${f.Code ?? '?'}: ${f.Message ?? ''}`]));
      for (const entry of request) {
        if (ok.has(entry.Id)) sent.push(byEntry(entry.Id));
        else
          failed.push({
            messageId: byEntry(entry.Id),
            error: refused.get(entry.Id) ?? 'not in the answer',
          });
      }
    } catch (error) {
      const reason = `${errorName(error)}: ${errorMessage(error)}`;
      for (const entry of request) failed.push({ messageId: byEntry(entry.Id), error: reason });
    }
  }
  return { sent, failed };
}

/** The {@link EventQueues} of a deployment: SendMessageBatch through `sqs` to the two URLs. */
export function createEventQueues(sqs: SQSClient, urls: EventQueueUrls): EventQueues {
  return {
    deadLetter: (messages) => sendAll(sqs, urls.deadLetterQueueUrl, 'dead-letter queue', messages),
    requeue: (messages) => sendAll(sqs, urls.eventsQueueUrl, 'events queue', messages),
  };
}
