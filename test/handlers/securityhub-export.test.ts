// The deployed reconciler's opt-in Security Hub export (aws/securityhub-export.ts), through the real
// handler code against moto: moto 5.2.5 implements BatchImportFindings (an import of an existing Id
// updates it) and GetFindings, so the findings are imported there and read back. Two cases moto cannot
// produce use a client-level stand-in for the Security Hub client only, as each test says: moto's
// BatchImportFindings never answers InvalidAccessException (it does not check that Security Hub is
// enabled), and answers FailedFindings only for a finding without Resources, which this code never sends.
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { AsffFinding } from '../../core/asff.ts';
import { asffId } from '../../core/asff.ts';
import { toReport } from '../../core/report.ts';
import type { SecurityHubClient } from '../../aws/securityhub-client.ts';
import { createSecurityHubClient } from '../../aws/securityhub-client.ts';
import type { ExportRecord, SecurityHubExportStore } from '../../aws/securityhub-export.ts';
import {
  MAX_FINDINGS_PER_IMPORT,
  createSecurityHubExportStore,
  exportToSecurityHub,
} from '../../aws/securityhub-export.ts';
import { createJsonClient } from '../../aws/signed-json-client.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { createEndpoint } from '../harness/seed.ts';
import { ACCOUNT_ID, account, must, planOf } from '../core/fixtures.ts';
import type { FindingCode } from '../../core/findings.ts';
import type { Plan } from '../../core/plan.ts';
import {
  converge,
  createStack,
  deleteEndpoint,
  depsFor,
  drainAlerts,
  ecsVpc,
  liveEndpoints,
  sampleText,
  sqsEvent,
  storeOpenFindingsInSchema1Shape,
  withEventId,
} from './stack.ts';
import { runReconcile } from '../../handlers/reconcile.ts';
import type { SQSBatchResponse } from 'aws-lambda';

/** Every finding moto's Security Hub holds for the account, as listed (GetFindings, paged). */
async function hubFindingList(acct: Account): Promise<AsffFinding[]> {
  const client = createJsonClient<'GetFindings'>(
    {
      service: 'securityhub',
      endpointVariable: 'SECURITYHUB',
      request: () => ({ method: 'POST', path: '/findings', headers: { 'content-type': 'application/json' } }),
    },
    { region: acct.region, credentials: acct.credentials, endpoint: acct.endpoint },
  );
  const found: AsffFinding[] = [];
  let token: string | undefined;
  do {
    const out = await client.send<{ Findings: AsffFinding[]; NextToken?: string }>('GetFindings', {
      MaxResults: 100,
      ...(token === undefined ? {} : { NextToken: token }),
    });
    found.push(...out.Findings);
    token = out.NextToken;
  } while (token);
  return found;
}

/** Every finding moto's Security Hub holds for the account, by Id; throws on an Id listed twice. */
async function hubFindings(acct: Account): Promise<Map<string, AsffFinding>> {
  const list = await hubFindingList(acct);
  const found = new Map(list.map((finding) => [finding.Id, finding]));
  if (found.size !== list.length)
    throw new Error(`Security Hub lists ${list.length - found.size} Id(s) twice`);
  return found;
}

/** A Security Hub client that counts the findings sent through the real one. */
function counting(real: SecurityHubClient, sent: AsffFinding[][]): SecurityHubClient {
  return {
    batchImportFindings: (findings) => {
      sent.push([...findings]);
      return real.batchImportFindings(findings);
    },
  };
}

const sweep = (acct: Account, id: string) =>
  withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), id);

async function exportingStack(mode: 'report' | 'enforce') {
  const acct = newAccount();
  const vpc = await ecsVpc(acct);
  await converge(acct);
  const stack = await createStack(acct, mode);
  let now = new Date('2026-11-28T11:15:00Z');
  const sent: AsffFinding[][] = [];
  const base = depsFor(acct, stack, { now: () => now, env: { SECURITY_HUB_EXPORT: 'true' } });
  if (!base.securityHub) throw new Error('SECURITY_HUB_EXPORT=true gave no export');
  const hub = base.securityHub;
  const deps = {
    ...base,
    securityHub: { ...hub, client: (region: string) => counting(hub.client(region), sent) },
  };
  const run = (bodies: string[]) => runReconcile(sqsEvent(bodies, acct), deps) as Promise<SQSBatchResponse>;
  return { acct, vpc, stack, deps, sent, run, at: (iso: string) => (now = new Date(iso)) };
}

describe('the Security Hub export (securityHubExport=true), against moto', () => {
  it('is off by default: nothing is sent', async () => {
    const acct = newAccount();
    await ecsVpc(acct);
    const stack = await createStack(acct, 'report');
    expect(depsFor(acct, stack).securityHub).toBeUndefined();
    expect(() => depsFor(acct, stack, { env: { SECURITY_HUB_EXPORT: 'yes' } })).toThrow(
      /SECURITY_HUB_EXPORT/,
    );
  });

  it('imports new drift FAILED with a stable id, sends nothing while unchanged, PASSED once fixed, ARCHIVED once its VPC is gone', async () => {
    const { acct, vpc, stack, sent, run, at } = await exportingStack('report');
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    expect(await run([sweep(acct, 's1')])).toEqual({ batchItemFailures: [] });
    expect(sent).toHaveLength(1);
    const id = asffId(
      `ENDPOINT_MISSING/${acct.accountId}/${acct.region}/${vpc.vpcId}/ecs-agent`,
      acct.accountId,
    );
    let hub = await hubFindings(acct);
    // The missing endpoint, and what follows from it (the agents owe a restart once it is back).
    expect([...hub.keys()].sort()).toEqual(sent[0]?.map((f) => f.Id).sort());
    expect([...hub.keys()]).toContain(id);
    expect(hub.get(id)).toMatchObject({
      ProductArn: `arn:aws:securityhub:${acct.region}:${acct.accountId}:product/${acct.accountId}/default`,
      GeneratorId: 'ecs-endpoint-remediator/ENDPOINT_MISSING',
      AwsAccountId: acct.accountId,
      CreatedAt: '2026-11-28T11:15:00.000Z',
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
    });
    expect(hub.get(id)).not.toHaveProperty('Workflow');
    expect((await drainAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-detected']);

    at('2026-11-28T11:30:00Z');
    await run([sweep(acct, 's2')]);
    expect(sent).toHaveLength(1); // unchanged: not sent again

    // Someone puts the endpoint back: the finding passes, same Id, first CreatedAt.
    const group = (await liveEndpoints(acct, vpc.vpcId)).find((e) => e.VpcEndpointType === 'Interface')
      ?.Groups?.[0]?.GroupId;
    await createEndpoint(acct, {
      vpcId: vpc.vpcId,
      service: 'ecs-agent',
      subnetIds: vpc.subnetIds,
      securityGroupIds: group === undefined ? [] : [group],
    });
    at('2026-11-28T11:45:00Z');
    await run([sweep(acct, 's3')]);
    hub = await hubFindings(acct);
    expect(hub.get(id)).toMatchObject({
      CreatedAt: '2026-11-28T11:15:00.000Z',
      UpdatedAt: '2026-11-28T11:45:00.000Z',
      Compliance: { Status: 'PASSED' },
      Severity: { Label: 'INFORMATIONAL' },
      RecordState: 'ACTIVE',
    });

    // The VPC leaves the remediator's sight (ignore tag): its findings are archived.
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-telemetry');
    at('2026-11-28T12:00:00Z');
    await run([sweep(acct, 's4')]);
    const telemetry = asffId(
      `ENDPOINT_MISSING/${acct.accountId}/${acct.region}/${vpc.vpcId}/ecs-telemetry`,
      acct.accountId,
    );
    expect((await hubFindings(acct)).get(telemetry)?.Compliance.Status).toBe('FAILED');
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [vpc.vpcId],
        Tags: [{ Key: 'ecs-endpoint-remediator/ignore', Value: 'true' }],
      }),
    );
    at('2026-11-28T12:15:00Z');
    await run([sweep(acct, 's5')]);
    hub = await hubFindings(acct);
    expect(hub.get(telemetry)).toMatchObject({
      RecordState: 'ARCHIVED',
      UpdatedAt: '2026-11-28T12:15:00.000Z',
    });
    expect(hub.get(id)).toMatchObject({ RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' } });
    expect([...hub.values()].filter((f) => f.RecordState !== 'ARCHIVED')).toEqual([]);
    const before = sent.length;
    at('2026-11-28T12:30:00Z');
    await run([sweep(acct, 's6')]);
    expect(sent).toHaveLength(before); // archived findings are not sent again
  });

  it('the same reconcile delivered twice (SQS redelivers a message), and a second sweep of the same state: the findings once, nothing sent again', async () => {
    const { acct, vpc, sent, run } = await exportingStack('enforce');
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    expect(await run([sweep(acct, 'd1')])).toEqual({ batchItemFailures: [] });
    const first = await hubFindings(acct);
    expect(first.size).toBeGreaterThan(0);
    const calls = sent.length;
    expect(await run([sweep(acct, 'd1')])).toEqual({ batchItemFailures: [] });
    expect(await run([sweep(acct, 'd2')])).toEqual({ batchItemFailures: [] });
    expect(sent.length).toBe(calls);
    const after = await hubFindings(acct);
    expect([...after.keys()].sort()).toEqual([...first.keys()].sort());
    expect([...after.values()].map((f) => [f.Id, f.Compliance.Status, f.RecordState])).toEqual(
      [...first.values()].map((f) => [f.Id, f.Compliance.Status, f.RecordState]),
    );
  });

  it('in enforce mode, a finding the reconcile fixes is imported PASSED', async () => {
    const { acct, vpc, sent, run } = await exportingStack('enforce');
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    await run([sweep(acct, 'e1')]);
    const id = asffId(
      `ENDPOINT_MISSING/${acct.accountId}/${acct.region}/${vpc.vpcId}/ecs-agent`,
      acct.accountId,
    );
    expect(sent.flat().map((f) => [f.Id, f.Compliance.Status])).toContainEqual([id, 'PASSED']);
    expect((await hubFindings(acct)).get(id)?.Compliance.Status).toBe('PASSED');
  });

  it('a finding remembered under its schema-1 id keeps its first sighting: CreatedAt and FirstObservedAt are its firstSeen', async () => {
    // A stack upgraded from the version that stored open findings under ids without the account, the
    // export turned on with the upgrade: the first export of a finding seen long before names then.
    const acct = newAccount();
    const vpc = await ecsVpc(acct);
    await converge(acct);
    const stack = await createStack(acct, 'report');
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const before = depsFor(acct, stack, { now: () => new Date('2026-11-01T08:00:00Z') });
    expect(await runReconcile(sqsEvent([sweep(acct, 'o1')], acct), before)).toEqual({
      batchItemFailures: [],
    });
    const stored = await storeOpenFindingsInSchema1Shape(acct, stack);

    const after = depsFor(acct, stack, {
      now: () => new Date('2026-11-28T11:15:00Z'),
      env: { SECURITY_HUB_EXPORT: 'true' },
    });
    expect(await runReconcile(sqsEvent([sweep(acct, 'o2')], acct), after)).toEqual({ batchItemFailures: [] });
    const hub = await hubFindings(acct);
    expect(hub.size).toBe(stored.length);
    const id = asffId(
      `ENDPOINT_MISSING/${acct.accountId}/${acct.region}/${vpc.vpcId}/ecs-agent`,
      acct.accountId,
    );
    expect(hub.get(id)).toMatchObject({
      CreatedAt: '2026-11-01T08:00:00.000Z',
      FirstObservedAt: '2026-11-01T08:00:00.000Z',
      UpdatedAt: '2026-11-28T11:15:00.000Z',
      Compliance: { Status: 'FAILED' },
    });
    for (const finding of hub.values()) expect(finding.CreatedAt).toBe('2026-11-01T08:00:00.000Z');
  });

  it('Security Hub not enabled (InvalidAccessException): a clear log line; the reconcile, its alerts and its state go on', async () => {
    // Client-level stand-in: moto's BatchImportFindings does not check that Security Hub is enabled.
    const { acct, vpc, stack, deps } = await exportingStack('report');
    const hub = deps.securityHub;
    const notEnabled: SecurityHubClient = {
      batchImportFindings: () =>
        Promise.reject(
          Object.assign(new Error('Account 123 is not subscribed to AWS Security Hub'), {
            name: 'InvalidAccessException',
          }),
        ),
    };
    const refused = { ...deps, securityHub: { ...hub, client: () => notEnabled } };
    await deleteEndpoint(acct, vpc.vpcId, 'ecs-agent');
    const out = (await runReconcile(sqsEvent([sweep(acct, 'n1')], acct), refused)) as SQSBatchResponse;
    expect(out).toEqual({ batchItemFailures: [] });
    expect((await drainAlerts(stack)).map((a) => a.metadata?.eventType)).toEqual(['drift-detected']);
    const line = deps.logs.find((l) => l.message.startsWith('Security Hub is not enabled'));
    expect(line?.message).toContain(`in ${acct.region} for account ${acct.accountId}`);
    expect(line?.message).toContain('securityHubExport=false');
    // Nothing was recorded as sent: once Security Hub answers, the finding goes.
    await runReconcile(sqsEvent([sweep(acct, 'n2')], acct), deps);
    const hubNow = await hubFindings(acct);
    expect(
      hubNow.get(
        asffId(`ENDPOINT_MISSING/${acct.accountId}/${acct.region}/${vpc.vpcId}/ecs-agent`, acct.accountId),
      )?.Compliance.Status,
    ).toBe('FAILED');
  });
});

describe('exportToSecurityHub', () => {
  /** The plan of 60 VPCs of EC2 work without endpoints: 60 × the ECS three (and more) findings. */
  function bigPlan() {
    const a = account();
    for (let n = 0; n < 60; n += 1) {
      const vpc = a.vpc({ egress: 'nat' });
      a.containerInstance(a.subnet(vpc, { az: 'a' }));
    }
    return planOf(a.snapshot());
  }
  const memoryStore = (): SecurityHubExportStore & { records: Map<string, ExportRecord> } => {
    const records = new Map<string, ExportRecord>();
    return {
      records,
      load: (scope) => Promise.resolve([...records.values()].filter((r) => r.region === scope.region)),
      save: (list) => {
        for (const record of list) records.set(record.findingId, record);
        return Promise.resolve();
      },
    };
  };

  it('sends at most 100 findings per call; a transiently refused finding is retried, a refused one recorded and resent next time', async () => {
    // Client-level stand-in: moto answers FailedFindings only for a finding without Resources.
    const plan = bigPlan();
    expect(plan.findings.length).toBeGreaterThan(MAX_FINDINGS_PER_IMPORT);
    const [flaky, bad] = plan.findings;
    const flakyId = asffId(flaky?.id ?? '', ACCOUNT_ID);
    const badId = asffId(bad?.id ?? '', ACCOUNT_ID);
    const calls: string[][] = [];
    let flakyRefusals = 0;
    const client: SecurityHubClient = {
      batchImportFindings: (findings) => {
        calls.push(findings.map((f) => f.Id));
        const failed = findings.flatMap((f) =>
          f.Id === badId
            ? [{ Id: f.Id, ErrorCode: 'InvalidInput', ErrorMessage: 'refused' }]
            : f.Id === flakyId && flakyRefusals++ === 0
              ? [{ Id: f.Id, ErrorCode: 'InternalException', ErrorMessage: 'try again' }]
              : [],
        );
        return Promise.resolve({
          FailedCount: failed.length,
          SuccessCount: findings.length - failed.length,
          FailedFindings: failed,
        });
      },
    };
    const store = memoryStore();
    const logs: string[] = [];
    const input = {
      scope: { region: 'us-east-1' },
      plan,
      accountId: ACCOUNT_ID,
      open: [],
      now: new Date('2026-11-28T11:15:00Z'),
      log: (message: string) => logs.push(message),
    };
    const outcome = await exportToSecurityHub(
      { client: () => client, store, sleep: () => Promise.resolve() },
      input,
    );
    expect(calls.every((call) => call.length <= MAX_FINDINGS_PER_IMPORT)).toBe(true);
    // The first hundred, the refused one again at once (transient), then the rest by hundreds.
    const rest = plan.findings.length - 100;
    expect(calls.map((call) => call.length)).toEqual([100, 1, ...(rest > 100 ? [100, rest - 100] : [rest])]);
    expect(calls[1]).toEqual([flakyId]);
    expect(outcome).toMatchObject({ imported: plan.findings.length - 1, failed: 1 });
    expect(store.records.get(bad?.id ?? '')?.failure).toMatchObject({ code: 'InvalidInput' });
    expect(logs.some((line) => line.startsWith('Security Hub refused a finding'))).toBe(true);

    calls.length = 0;
    await exportToSecurityHub({ client: () => client, store, sleep: () => Promise.resolve() }, input);
    expect(calls).toEqual([[badId]]);
  });

  it('sends an unchanged open finding again only once 30 days have passed (only its times change)', async () => {
    const plan = bigPlan();
    const sent: AsffFinding[] = [];
    const client: SecurityHubClient = {
      batchImportFindings: (findings) => {
        sent.push(...findings);
        return Promise.resolve({ FailedCount: 0, SuccessCount: findings.length });
      },
    };
    const store = memoryStore();
    const at = (iso: string) => ({
      scope: { region: 'us-east-1' },
      plan,
      accountId: ACCOUNT_ID,
      open: [],
      now: new Date(iso),
      log: () => undefined,
    });
    await exportToSecurityHub({ client: () => client, store }, at('2026-01-01T00:00:00Z'));
    expect(sent).toHaveLength(plan.findings.length);
    await exportToSecurityHub({ client: () => client, store }, at('2026-01-30T00:00:00Z'));
    expect(sent).toHaveLength(plan.findings.length);
    await exportToSecurityHub({ client: () => client, store }, at('2026-01-31T00:00:01Z'));
    expect(sent).toHaveLength(2 * plan.findings.length);
    const [first, again] = [sent[0], sent[plan.findings.length]];
    expect(again).toEqual({
      ...first,
      UpdatedAt: '2026-01-31T00:00:01.000Z',
      LastObservedAt: '2026-01-31T00:00:01.000Z',
    });
  });

  it('records what was sent in the state table (moto DynamoDB), read back by scope', async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report', { adopt: false });
    const store = createSecurityHubExportStore(
      new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
      stack.tableName,
    );
    const plan = bigPlan();
    const client = createSecurityHubClient({
      region: acct.region,
      credentials: acct.credentials,
      endpoint: acct.endpoint,
    });
    const vpcId = plan.findings[0]?.vpcId ?? '';
    const outcome = await exportToSecurityHub(
      { client: () => client, store },
      {
        scope: { region: 'us-east-1' },
        plan,
        accountId: acct.accountId,
        open: [],
        now: new Date(),
        log: () => undefined,
      },
    );
    expect(outcome.imported).toBe(plan.findings.length);
    expect((await store.load({ region: 'us-east-1' })).length).toBe(plan.findings.length);
    const one = await store.load({ region: 'us-east-1', vpcIds: [vpcId] });
    expect(one.map((r) => r.vpcId)).toEqual(one.map(() => vpcId));
    expect((await hubFindings(acct)).size).toBe(plan.findings.length);
    expect(toReport('plan', plan, { total: 0, byService: {}, byOperation: {} }).findings.length).toBe(
      plan.findings.length,
    );
  });
});

describe('exportToSecurityHub redelivered (against moto: Security Hub and the state table)', () => {
  /** `vpcs` VPCs of EC2 work without endpoints (the first ones keep their ids whatever `vpcs` is). */
  function planOfVpcs(vpcs: number, disabled: readonly FindingCode[] = []) {
    const a = account();
    for (let n = 0; n < vpcs; n += 1) {
      const vpc = a.vpc({ egress: 'nat' });
      a.containerInstance(a.subnet(vpc, { az: 'a' }));
    }
    return planOf(a.snapshot(), { checks: { disabled: [...disabled] } });
  }

  /**
   * moto's Security Hub, the findings of each call kept in `sent`; call number `failing` (1-based; 0:
   * none) ends as a lost invocation does, unanswered.
   */
  function recording(real: SecurityHubClient, sent: AsffFinding[][], failing = 0): SecurityHubClient {
    let calls = 0;
    return {
      batchImportFindings: (findings) => {
        calls += 1;
        if (calls === failing)
          return Promise.reject(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
        sent.push([...findings]);
        return real.batchImportFindings(findings);
      },
    };
  }

  it('the same export twice, and one interrupted between two batches: each finding once by Id, in its latest state, none lost', async () => {
    const acct = newAccount();
    const stack = await createStack(acct, 'report', { adopt: false });
    const store = createSecurityHubExportStore(
      new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
      stack.tableName,
    );
    const real = createSecurityHubClient({
      region: acct.region,
      credentials: acct.credentials,
      endpoint: acct.endpoint,
    });
    const input = (plan: Plan, iso: string) => ({
      scope: { region: 'us-east-1' },
      plan,
      accountId: acct.accountId,
      open: [],
      now: new Date(iso),
      log: () => undefined,
    });
    const sent: AsffFinding[][] = [];
    const idsOf = (plan: Plan) => plan.findings.map((finding) => asffId(finding.id, ACCOUNT_ID)).sort();

    // 1. Interrupted after the first batch: what Security Hub accepted is recorded, the rest is not.
    const plan = planOfVpcs(60);
    expect(plan.findings.length).toBeGreaterThan(MAX_FINDINGS_PER_IMPORT);
    const t1 = '2026-11-28T11:15:00Z';
    const cut = await exportToSecurityHub({ client: () => recording(real, sent, 2), store }, input(plan, t1));
    expect(cut.stopped?.reason).toBe('error');
    expect(sent.map((batch) => batch.length)).toEqual([MAX_FINDINGS_PER_IMPORT]);
    const accepted = new Set(sent.flat().map((f) => f.Id));
    expect((await store.load({ region: 'us-east-1' })).length).toBe(MAX_FINDINGS_PER_IMPORT);
    // 2. The same export delivered again: only what was not recorded is sent.
    sent.length = 0;
    await exportToSecurityHub({ client: () => recording(real, sent), store }, input(plan, t1));
    expect(sent.flat().length).toBe(plan.findings.length - MAX_FINDINGS_PER_IMPORT);
    expect(sent.flat().filter((f) => accepted.has(f.Id))).toEqual([]);
    let hub = await hubFindings(acct);
    expect([...hub.keys()].sort()).toEqual(idsOf(plan));
    expect(
      [...hub.values()].every((f) => f.Compliance.Status === 'FAILED' && f.RecordState === 'ACTIVE'),
    ).toBe(true);
    expect((await store.load({ region: 'us-east-1' })).length).toBe(plan.findings.length);
    // 3. And again: nothing to send.
    sent.length = 0;
    const again = await exportToSecurityHub(
      { client: () => recording(real, sent), store },
      input(plan, '2026-11-28T11:30:00Z'),
    );
    expect(again).toEqual({ region: 'us-east-1', imported: 0, passed: 0, archived: 0, failed: 0 });
    expect(sent).toEqual([]);

    // 4. Later: one check's findings gone from the VPCs read (PASSED), 20 VPCs gone (ARCHIVED); the
    // write of the first batch's records is lost after Security Hub accepted it (the invocation ended
    // between its answer and the write): the redelivery sends those again, by the same Ids.
    const code = must(plan.findings[0], 'a finding').code;
    const later = planOfVpcs(40, [code]);
    const t2 = '2026-11-29T08:00:00Z';
    let saves = 0;
    const losingStore: SecurityHubExportStore = {
      load: (scope) => store.load(scope),
      save: (records) =>
        (saves += 1) === 1 ? Promise.reject(new Error('invocation ended')) : store.save(records),
    };
    sent.length = 0;
    const lost = await exportToSecurityHub(
      { client: () => recording(real, sent), store: losingStore },
      input(later, t2),
    );
    expect(lost.stopped?.reason).toBe('error');
    expect(sent.map((batch) => batch.length)).toEqual([MAX_FINDINGS_PER_IMPORT]);
    const unrecorded = sent.flat().map((f) => f.Id);
    sent.length = 0;
    const redelivered = await exportToSecurityHub(
      { client: () => recording(real, sent), store },
      input(later, t2),
    );
    expect(redelivered.stopped).toBeUndefined();
    const resent = new Set(sent.flat().map((f) => f.Id));
    expect(unrecorded.filter((id) => !resent.has(id))).toEqual([]);

    hub = await hubFindings(acct);
    expect([...hub.keys()].sort()).toEqual(idsOf(plan)); // no Id twice, none new, none lost
    const stillFound = new Set(idsOf(later));
    const laterVpcs = new Set(later.vpcs.map((vpc) => vpc.vpcId));
    for (const finding of plan.findings) {
      const exported = must(hub.get(asffId(finding.id, ACCOUNT_ID)), finding.id);
      const expected = stillFound.has(exported.Id)
        ? ['FAILED', 'ACTIVE']
        : laterVpcs.has(finding.vpcId)
          ? ['PASSED', 'ACTIVE']
          : ['FAILED', 'ARCHIVED'];
      expect([finding.id, exported.Compliance.Status, exported.RecordState]).toEqual([
        finding.id,
        ...expected,
      ]);
      expect(exported.CreatedAt).toBe('2026-11-28T11:15:00.000Z');
    }
    // Each state is there.
    expect(plan.findings.some((f) => f.code === code && laterVpcs.has(f.vpcId))).toBe(true);
    expect(plan.findings.some((f) => !laterVpcs.has(f.vpcId))).toBe(true);
    // Once more: all recorded, nothing sent.
    sent.length = 0;
    await exportToSecurityHub({ client: () => recording(real, sent), store }, input(later, t2));
    expect(sent).toEqual([]);
  });
});
