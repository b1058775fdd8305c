/**
 * Hostile queue messages for the fuzz tests (test/core/events-fuzz.test.ts through the pure judge,
 * test/handlers/fuzz.test.ts through the batch handler against moto): random JSON and text, event
 * sources and keys every object inherits (`constructor`, `__proto__`, `toString`), 3,000-byte event
 * ids, wrong types, truncated and huge bodies, control characters, with valid events mixed in.
 *
 * Each message says which outcomes are acceptable (`processed`, `ignored:<class>`,
 * `dead-lettered:<reason>`): nothing may be retried, and nothing may be dropped for another reason.
 * Deterministic for a seed. Every body is text SQS can carry (what the handler can ever receive).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

export type HostileKind =
  | 'random-json'
  | 'random-text'
  | 'truncated'
  | 'inherited-source'
  | 'inherited-keys'
  | 'wrong-type'
  | 'control-chars'
  | 'huge'
  | 'long-event-id'
  | 'huge-valid'
  | 'valid'
  | 'failed-call'
  | 'inactive-instance'
  | 'other-region'
  | 'duplicate';

export interface HostileMessage {
  readonly kind: HostileKind;
  readonly body: string;
  /** The acceptable outcomes: `processed`, `ignored:<IgnoredClass>`, `dead-lettered:<TerminalReason>`. */
  readonly expect: readonly string[];
}

/** What the account of the run provides: its Region, and a VPC id that exists there. */
export interface HostileTarget {
  readonly region: string;
  readonly account: string;
  readonly vpcId: string;
}

const eventsDir = new URL('../../events/', import.meta.url);
const sampleText = (name: string) => readFileSync(new URL(`${name}.json`, eventsDir), 'utf8');

/** Keys every object has through its prototype chain. */
export const INHERITED_KEYS = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
] as const;

/** Characters SQS refuses (control characters, U+FFFE/U+FFFF, lone surrogates) become U+FFFD. */
export function sqsText(text: string): string {
  return text.toWellFormed().replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
}

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TERMINAL_PARSE = ['dead-lettered:not-json', 'dead-lettered:malformed', 'dead-lettered:unmatched'];

/** The kinds and their weights (out of 100). */
const WEIGHTS: ReadonlyArray<[HostileKind, number]> = [
  ['random-json', 16],
  ['random-text', 8],
  ['truncated', 8],
  ['inherited-source', 12],
  ['inherited-keys', 8],
  ['wrong-type', 10],
  ['control-chars', 5],
  ['huge', 1],
  ['long-event-id', 6],
  ['huge-valid', 1],
  ['valid', 10],
  ['failed-call', 4],
  ['inactive-instance', 3],
  ['other-region', 4],
  ['duplicate', 4],
];

/**
 * `count` hostile messages for `target`, the same for the same seed. Valid events are fresh
 * occurrences (unique ids) naming `target.vpcId` or the whole Region; `duplicate` repeats an earlier
 * valid body exactly.
 */
export function hostileMessages(count: number, target: HostileTarget, seed = 20261128): HostileMessage[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (max: number) => Math.floor(random() * max);
  // Drawn in blocks as needed: sampling fast-check's arbitraries costs more than all the rest.
  const drawn = <T>(arbitrary: fc.Arbitrary<T>, offset: number) => {
    let pool: T[] = [];
    let block = 0;
    return (): T => {
      if (pool.length === 0) {
        block += 1;
        pool = fc.sample(arbitrary, { seed: seed + offset + block * 7919, numRuns: 256 });
      }
      return pool.pop() as T;
    };
  };
  const jsonValue = drawn(fc.jsonValue({ maxDepth: 4 }), 1);
  const text = drawn(fc.string({ unit: 'binary', maxLength: 200 }), 2);
  let serial = 0;
  const uid = () => `fuzz-${seed}-${String((serial += 1)).padStart(6, '0')}`;

  const withIds = (name: string) =>
    sampleText(name)
      .replaceAll('111122223333', target.account)
      .replaceAll('vpc-0a11110000000001', target.vpcId)
      .replaceAll('us-east-1', target.region);
  const base = {
    modify: JSON.parse(withIds('ec2-modify-vpc-attribute')) as Record<string, unknown>,
    sweep: JSON.parse(withIds('scheduled-sweep')) as Record<string, unknown>,
    delete: JSON.parse(withIds('ec2-delete-vpc-endpoints')) as Record<string, unknown>,
    instance: JSON.parse(withIds('ecs-container-instance-state-change')) as Record<string, unknown>,
    failed: JSON.parse(withIds('ec2-delete-vpc-endpoints-failed')) as Record<string, unknown>,
  };
  const fresh = (event: Record<string, unknown>, eventId = uid()): Record<string, unknown> => {
    const copy = structuredClone(event);
    copy.id = `eb-${eventId}`;
    const detail = copy.detail as Record<string, unknown> | undefined;
    if (detail && typeof detail.eventID === 'string') detail.eventID = eventId;
    return copy;
  };
  const detailOf = (event: Record<string, unknown>) => event.detail as Record<string, unknown>;
  const validBodies: string[] = [];

  const make = (kind: HostileKind): HostileMessage => {
    switch (kind) {
      case 'random-json':
        return { kind, body: sqsText(JSON.stringify(jsonValue())), expect: TERMINAL_PARSE };
      case 'random-text':
        return { kind, body: sqsText(text()), expect: TERMINAL_PARSE };
      case 'truncated': {
        const text = JSON.stringify(fresh(pick(Object.values(base))));
        return { kind, body: text.slice(0, int(text.length - 1)), expect: ['dead-lettered:not-json'] };
      }
      case 'inherited-source': {
        const event = fresh(base.modify);
        const detail = detailOf(event);
        detail.eventSource = pick(INHERITED_KEYS);
        if (random() < 0.5) detail.eventName = pick(INHERITED_KEYS);
        return { kind, body: JSON.stringify(event), expect: ['dead-lettered:unmatched'] };
      }
      case 'inherited-keys': {
        const key = pick(INHERITED_KEYS);
        const variants: Array<() => string> = [
          // Hand-written JSON: JSON.stringify would not write a __proto__ key of a literal.
          () => `{"detail":{"eventSource":"${key}"}}`,
          () => `{"${key}":{"id":"x","detail-type":"Scheduled Event"},"detail-type":"Scheduled Event"}`,
          () => JSON.stringify({ ...fresh(base.sweep), 'detail-type': key }),
          () => JSON.stringify({ ...fresh(base.modify), source: key, detail: key }),
          () => {
            const event = fresh(base.modify);
            const text = JSON.stringify(event);
            return text.replace('"requestParameters":{', `"requestParameters":{"${key}":{"vpcId":1},`);
          },
          () => {
            const event = fresh(base.instance);
            detailOf(event).status = key;
            return JSON.stringify(event);
          },
        ];
        const variant = int(variants.length);
        const body = (variants[variant] ?? variants[0] ?? (() => ''))();
        // An inherited key beside a valid requestParameters is merely extra: the event is valid. A
        // container instance whose status is an inherited key is not ACTIVE: ignored.
        const expect =
          variant === 4
            ? ['processed', ...TERMINAL_PARSE]
            : variant === 5
              ? ['ignored:instance-inactive']
              : TERMINAL_PARSE;
        return { kind, body, expect };
      }
      case 'wrong-type': {
        const event = fresh(base.modify);
        const wrong = pick([42, -1.5, true, null, [], [1, 2], {}, { content: 'x' }]);
        const field = pick([
          'id',
          'detail-type',
          'region',
          'time',
          'source',
          'detail',
          'eventSource',
          'eventName',
          'eventID',
          'awsRegion',
          'requestParameters',
          'vpcId',
        ]);
        const detail = detailOf(event);
        if (['eventSource', 'eventName', 'eventID', 'awsRegion', 'requestParameters'].includes(field))
          detail[field] = wrong;
        else if (field === 'vpcId') (detail.requestParameters as Record<string, unknown>).vpcId = wrong;
        else event[field] = wrong;
        return { kind, body: JSON.stringify(event), expect: TERMINAL_PARSE };
      }
      case 'control-chars': {
        const nasty = pick(['\u0000', '\u0007', '\ud800', '\udfff', '\uffff', '\ufffe', '\u001b[31m']);
        const event = fresh(base.modify);
        if (random() < 0.5) event['detail-type'] = `AWS API Call${nasty}via CloudTrail`;
        else detailOf(event).eventSource = `ec2.amazonaws.com${nasty}`;
        return { kind, body: sqsText(JSON.stringify(event)), expect: ['dead-lettered:unmatched'] };
      }
      case 'huge': {
        const filler = 'x'.repeat(150_000 + int(60_000));
        const body = random() < 0.5 ? JSON.stringify({ 'detail-type': 'Nope', filler }) : `{"${filler}`;
        return { kind, body, expect: TERMINAL_PARSE };
      }
      case 'long-event-id': {
        const id = `${uid()}-${'é'.repeat(1500)}`; // 3,000-odd bytes: over DynamoDB's 2,048-byte key limit
        const body = JSON.stringify(fresh(base.modify, id));
        validBodies.push(body);
        return { kind, body, expect: ['processed'] };
      }
      case 'huge-valid': {
        const event = fresh(base.modify);
        detailOf(event).responseElements = { padding: 'y'.repeat(150_000 + int(60_000)) };
        const body = JSON.stringify(event);
        validBodies.push(body);
        return { kind, body, expect: ['processed'] };
      }
      case 'valid': {
        const body = JSON.stringify(
          fresh(pick([base.modify, base.modify, base.sweep, base.delete, base.instance])),
        );
        validBodies.push(body);
        return { kind, body, expect: ['processed'] };
      }
      case 'failed-call':
        return { kind, body: JSON.stringify(fresh(base.failed)), expect: ['ignored:call-failed'] };
      case 'inactive-instance': {
        const event = fresh(base.instance);
        detailOf(event).status = pick(['INACTIVE', 'DEREGISTERING', 'REGISTERING']);
        return { kind, body: JSON.stringify(event), expect: ['ignored:instance-inactive'] };
      }
      case 'other-region': {
        const text = JSON.stringify(fresh(base.modify)).replaceAll(target.region, 'eu-north-1');
        return { kind, body: text, expect: ['ignored:other-region'] };
      }
      case 'duplicate': {
        const body = validBodies.length > 0 ? pick(validBodies) : JSON.stringify(fresh(base.failed));
        return {
          kind,
          body,
          expect: validBodies.length > 0 ? ['ignored:duplicate'] : ['ignored:call-failed'],
        };
      }
    }
  };

  const total = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  const messages: HostileMessage[] = [];
  for (let n = 0; n < count; n += 1) {
    let draw = random() * total;
    const kind = WEIGHTS.find(([, weight]) => (draw -= weight) < 0)?.[0] ?? 'valid';
    messages.push(make(kind));
  }
  return messages;
}

/** How the pure judge (core/events.ts judgeEventBody) should see an acceptable batch outcome. */
export function judgedAs(outcome: string): string {
  if (outcome === 'processed' || outcome === 'ignored:other-region' || outcome === 'ignored:duplicate')
    return 'hint';
  if (outcome.startsWith('dead-lettered:')) return `terminal:${outcome.slice('dead-lettered:'.length)}`;
  return outcome;
}
