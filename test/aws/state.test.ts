// The state table's batched writes (aws/state.ts batchWriteItems, saveOpenFindings) against moto, which
// refuses a BatchWriteItem as DynamoDB does (moto patch P19): more than 25 requests, or two on one key.
// The writes of a reconcile cross batches of 25 and, migrating open findings stored under schema-1 ids,
// put and delete items of one VPC together: nothing is refused, lost or left behind.
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { OpenFinding } from '../../core/alerts.ts';
import { decideAlerts } from '../../core/alerts.ts';
import { legacyFindingId } from '../../core/findings.ts';
import {
  MAX_BATCH_WRITE_REQUESTS,
  batchWriteItems,
  createStateStore,
  writeBatches,
} from '../../aws/state.ts';
import { newAccount } from '../harness/aws.ts';
import { ACCOUNT_ID, NO_CAPS, account, planOf } from '../core/fixtures.ts';
import { createStateTable } from '../harness/state-table.ts';

const TABLE = 'eer-test-state';

async function stateTable() {
  const acct = newAccount();
  const client = new DynamoDBClient({
    endpoint: acct.endpoint,
    region: acct.region,
    credentials: acct.credentials,
  });
  await createStateTable(client, TABLE);
  const items = async (): Promise<string[]> => {
    const found: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({
          TableName: TABLE,
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      for (const item of out.Items ?? [])
        found.push(`${item.pk?.S ?? ''}|${item.sk?.S ?? ''}|${item.v?.S ?? item.record?.S ?? ''}`);
      start = out.LastEvaluatedKey;
    } while (start);
    return found.sort();
  };
  return { client, items, store: createStateStore(client, TABLE) };
}

const put = (sk: string, v: string): WriteRequest => ({
  PutRequest: { Item: { pk: { S: 'P' }, sk: { S: sk }, v: { S: v } } },
});
const del = (sk: string): WriteRequest => ({ DeleteRequest: { Key: { pk: { S: 'P' }, sk: { S: sk } } } });

describe('batchWriteItems', () => {
  it('writes any number of requests in order, a key named twice never in one batch: the later request wins', async () => {
    const { client, items } = await stateTable();
    const keys = Array.from({ length: 40 }, (_, n) => `k${String(n).padStart(2, '0')}`);
    const requests = [
      ...keys.map((key) => put(key, 'first')),
      // Within the first 25 of what follows: a put and a delete of one key, and a key put twice.
      del('k00'),
      put('k01', 'second'),
      put('k01', 'third'),
      del('k02'),
      put('k02', 'back'),
      ...keys.slice(30).map((key) => del(key)),
    ];
    const batches = writeBatches(requests);
    expect(batches.flat()).toEqual(requests);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_WRITE_REQUESTS);
      const named = batch.map((request) =>
        JSON.stringify(request.PutRequest?.Item?.sk ?? request.DeleteRequest?.Key?.sk),
      );
      expect(new Set(named).size).toBe(named.length);
    }
    await batchWriteItems(client, TABLE, requests);
    expect(await items()).toEqual(
      keys
        .slice(1, 30)
        .map((key) => `P|${key}|${key === 'k01' ? 'third' : key === 'k02' ? 'back' : 'first'}`),
    );
  });
});

describe('saveOpenFindings', () => {
  /** A Region of 30 VPCs with findings: more open findings than one batch holds. */
  function bigPlan() {
    const a = account();
    for (let n = 0; n < 30; n += 1) {
      const vpc = a.vpc({ egress: 'nat' });
      a.containerInstance(a.subnet(vpc, { az: 'a' }));
    }
    return planOf(a.snapshot(), NO_CAPS);
  }

  it('migrates open findings stored under schema-1 ids across many batches: each stored once under its new id, none left under the old', async () => {
    const { store, items } = await stateTable();
    const plan = bigPlan();
    const t0 = new Date('2026-11-01T08:00:00Z');
    const first = decideAlerts({ mode: 'report', scope: { region: 'us-east-1' }, open: [], plan, now: t0 });
    expect(first.put.length).toBeGreaterThan(2 * MAX_BATCH_WRITE_REQUESTS);
    // As the stack stored them before ids named the account.
    const legacy = first.put.map((finding): OpenFinding => {
      const { accountId, ...withoutAccount } = finding;
      expect(accountId).toBe(ACCOUNT_ID);
      return { ...withoutAccount, id: legacyFindingId(finding.id) };
    });
    await store.saveOpenFindings(legacy, []);
    expect(await store.loadOpenFindings({ region: 'us-east-1' })).toHaveLength(legacy.length);

    const migrated = decideAlerts({
      mode: 'report',
      scope: { region: 'us-east-1' },
      open: await store.loadOpenFindings({ region: 'us-east-1' }),
      plan,
      now: new Date('2026-11-01T09:00:00Z'),
    });
    expect(migrated.alerts).toEqual([]);
    expect(migrated.put.length + migrated.remove.length).toBeGreaterThan(4 * MAX_BATCH_WRITE_REQUESTS);
    await store.saveOpenFindings(migrated.put, migrated.remove);
    const after = await store.loadOpenFindings({ region: 'us-east-1' });
    expect(after.map((finding) => finding.id).sort()).toEqual(
      plan.findings.map((finding) => finding.id).sort(),
    );
    expect(
      after.every((finding) => finding.accountId === ACCOUNT_ID && finding.firstSeen === t0.toISOString()),
    ).toBe(true);
    expect((await items()).every((item) => item.includes(`/${ACCOUNT_ID}/`))).toBe(true);
  });

  it('a finding both put and removed is kept (its put, not its delete), the rest written', async () => {
    const { store } = await stateTable();
    const plan = bigPlan();
    const { put } = decideAlerts({
      mode: 'report',
      scope: { region: 'us-east-1' },
      open: [],
      plan,
      now: new Date('2026-11-01T08:00:00Z'),
    });
    const [kept, ...others] = put;
    if (kept === undefined) throw new Error('no finding');
    await store.saveOpenFindings(others.slice(0, 10), []);
    await store.saveOpenFindings([kept, ...others.slice(10)], [kept, ...others.slice(0, 10)]);
    expect(
      (await store.loadOpenFindings({ region: 'us-east-1' })).map((finding) => finding.id).sort(),
    ).toEqual([kept, ...others.slice(10)].map((finding) => finding.id).sort());
  });
});
