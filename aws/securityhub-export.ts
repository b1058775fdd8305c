/**
 * The deployed stack's opt-in export of findings to AWS Security Hub (param `securityHubExport`,
 * docs/deploy.md "Security Hub"). After each reconcile of a scope (a Region, or some of its VPCs) it
 * sends, with BatchImportFindings into the account's default product of the finding's Region:
 *
 * - every finding that is new or changed since it was last sent (ASFF, core/asff.ts: FAILED; WARNING
 *   for an unverifiable or muted one);
 * - `Compliance.Status` PASSED for a finding sent before that is no longer found in a VPC that was read
 *   (fixed, by this remediator or anyone), or that this reconcile fixed;
 * - `RecordState` ARCHIVED for one whose VPC is gone from the scope (deleted, no ECS work any more,
 *   ignored);
 * - an unchanged open finding again after {@link REFRESH_MS}, so that it is never left to expire.
 *
 * What was sent lives in the state table (`SECURITYHUB#<region>`, sort key `<vpcId>#<finding id>`, the
 * last finding sent as JSON): unchanged findings are not sent again, `CreatedAt` stays the first
 * export's (or the finding's `firstSeen`), and what is gone can be resolved with the content Security
 * Hub has. An archived record expires from the table after {@link ARCHIVED_RETAIN_SECONDS}.
 *
 * Never fails the reconcile: Security Hub not enabled (`InvalidAccessException`), a refused call, or any
 * other error is logged with what to do, the records stay as they were, and the next reconcile sends
 * again. A finding Security Hub refuses in `FailedFindings` is retried when its error is transient
 * (throttling, internal), else recorded on its item (`failure`) and logged; it is sent again next time.
 */
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { OpenFinding, ReconcileScope } from '../core/alerts.ts';
import type { AsffFinding } from '../core/asff.ts';
import { resolvedAsff, toAsffFinding } from '../core/asff.ts';
import { fixedFindingIds, knownAccount } from '../core/export.ts';
import type { Plan } from '../core/plan.ts';
import type { ActionResult } from '../core/report.ts';
import { actionKey } from '../core/actions.ts';
import { errorMessage, errorName } from './errors.ts';
import { chunk } from './pagination.ts';
import type { SecurityHubClient } from './securityhub-client.ts';
import { KEY, TTL_ATTRIBUTE, batchWriteItems, queryPartition, readRecord } from './state.ts';

/** BatchImportFindings takes at most 100 findings a call. */
export const MAX_FINDINGS_PER_IMPORT = 100;
/** How often a finding refused with a transient error is sent again within one export. */
export const TRANSIENT_ATTEMPTS = 3;
/**
 * An open finding unchanged this long is sent again all the same (only its times change): Security Hub
 * deletes a finding nobody updated for 90 days (its user guide, "OCSF findings in Security Hub"), and a
 * long-standing drift must not vanish from it.
 */
export const REFRESH_MS = 30 * 24 * 3600 * 1000;
/** An archived record is kept this long (Security Hub keeps a finding 90 days after its last update). */
export const ARCHIVED_RETAIN_SECONDS = 90 * 24 * 3600;

/** `FailedFindings[].ErrorCode`s worth sending again at once: throttling and internal errors. */
const TRANSIENT_CODE = /throttl|limitexceeded|internal|unavailable|timeout|toomanyrequests/i;

/** What was last sent of one finding. */
export interface ExportRecord {
  readonly region: string;
  readonly vpcId: string;
  /** The remediator's finding id (core/findings.ts). */
  readonly findingId: string;
  /** `active`: sent as found; `passed`: sent PASSED; `archived`: sent ARCHIVED. */
  readonly state: 'active' | 'passed' | 'archived';
  /** The ASFF finding as Security Hub last accepted it. */
  readonly finding: AsffFinding;
  /** The last refusal of an update, when the latest one was refused. */
  readonly failure?: { readonly code: string; readonly message: string; readonly at: string };
}

const recordSchema = z.object({
  region: z.string(),
  vpcId: z.string(),
  findingId: z.string(),
  state: z.enum(['active', 'passed', 'archived']),
  // What Security Hub accepted; only its identity is checked here (the rest is this version's output).
  finding: z.custom<AsffFinding>(
    (value: unknown) => typeof value === 'object' && value !== null && 'Id' in value && 'ProductArn' in value,
  ),
  failure: z.optional(z.object({ code: z.string(), message: z.string(), at: z.string() })),
});

/** The export's items in the state table. */
export interface SecurityHubExportStore {
  load(scope: ReconcileScope): Promise<ExportRecord[]>;
  save(records: readonly ExportRecord[]): Promise<void>;
}

const S = (value: string): AttributeValue => ({ S: value });

export function createSecurityHubExportStore(
  client: DynamoDBClient,
  tableName: string,
  now: () => Date = () => new Date(),
): SecurityHubExportStore {
  const query = (pk: string, prefix?: string) => queryPartition(client, tableName, pk, prefix);
  return {
    async load(scope) {
      const pk = `SECURITYHUB#${scope.region}`;
      const items =
        scope.vpcIds === undefined
          ? await query(pk)
          : (await Promise.all(scope.vpcIds.map((vpcId) => query(pk, `${vpcId}#`)))).flat();
      return items.map((item) => readRecord(recordSchema, item) as ExportRecord);
    },
    async save(records) {
      const expires = String(Math.floor(now().getTime() / 1000) + ARCHIVED_RETAIN_SECONDS);
      await batchWriteItems(
        client,
        tableName,
        records.map((record): WriteRequest => ({
          PutRequest: {
            Item: {
              [KEY.partition]: S(`SECURITYHUB#${record.region}`),
              [KEY.sort]: S(`${record.vpcId}#${record.findingId}`),
              record: S(JSON.stringify(record)),
              ...(record.state === 'archived' ? { [TTL_ATTRIBUTE]: { N: expires } } : {}),
            },
          },
        })),
      );
    },
  };
}

/** What the export needs: a Security Hub client per Region, its records, a log. */
export interface SecurityHubExportDeps {
  readonly client: (region: string) => SecurityHubClient;
  readonly store: SecurityHubExportStore;
  /** Waits before sending refused findings again (default: a short backoff). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What one export did. */
export interface SecurityHubExportOutcome {
  readonly region: string;
  /** Findings sent and accepted, by what they said. */
  readonly imported: number;
  readonly passed: number;
  readonly archived: number;
  /** Findings Security Hub refused (recorded; sent again next time). */
  readonly failed: number;
  /** Why nothing (more) was sent, when the export stopped: Security Hub not enabled, or an error. */
  readonly stopped?: { readonly reason: 'not-enabled' | 'access-denied' | 'error'; readonly message: string };
}

export interface ExportInput {
  readonly scope: ReconcileScope;
  readonly plan: Plan;
  readonly results?: readonly ActionResult[];
  /** The account discovered in the Region (the findings' AwsAccountId). */
  readonly accountId?: string;
  /**
   * The open findings remembered before this reconcile, under the findings' current ids (core/alerts.ts
   * `AlertDecision.remembered`: one stored under a schema-1 id is matched to its finding): their
   * `firstSeen` becomes `CreatedAt` and `FirstObservedAt` of a finding not sent before.
   */
  readonly open: readonly OpenFinding[];
  readonly now: Date;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

const inScope = (scope: ReconcileScope, item: { region: string; vpcId: string }) =>
  item.region === scope.region && (scope.vpcIds === undefined || scope.vpcIds.includes(item.vpcId));

/** Two ASFF findings say the same (their times aside). */
function sameContent(a: AsffFinding, b: AsffFinding): boolean {
  const strip = (finding: AsffFinding) =>
    JSON.stringify({ ...finding, UpdatedAt: undefined, LastObservedAt: undefined });
  return strip(a) === strip(b);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends the scope's new, changed, fixed and gone findings to Security Hub, and records what was
 * accepted. Never throws for Security Hub's sake (see the module comment); a failure to read or write
 * the records is logged the same way.
 */
export async function exportToSecurityHub(
  deps: SecurityHubExportDeps,
  input: ExportInput,
): Promise<SecurityHubExportOutcome> {
  const { scope, plan, now, log } = input;
  const region = scope.region;
  const at = now.toISOString();
  const counts = { imported: 0, passed: 0, archived: 0, failed: 0 };
  try {
    const records = new Map((await deps.store.load(scope)).map((record) => [record.findingId, record]));
    const firstSeen = new Map(input.open.map((finding) => [finding.id, finding.firstSeen]));
    const outcomes = new Map(
      (input.results ?? []).map((result) => [actionKey(result.accountId, result.actionId), result.outcome]),
    );
    const current = plan.findings.filter((finding) => inScope(scope, finding));
    const fixed = fixedFindingIds(
      current,
      plan.actions.map((action) => {
        const outcome = outcomes.get(actionKey(action.accountId, action.id));
        const { id, accountId } = action;
        return outcome === undefined ? { id, accountId } : { id, accountId, result: { outcome } };
      }),
    );
    const context = { accounts: input.accountId === undefined ? {} : { [region]: input.accountId } };
    const pending: ExportRecord[] = [];
    for (const finding of current) {
      if (knownAccount(finding, context) === undefined) {
        log('Security Hub export: finding skipped, its account is unknown', {
          region,
          findingId: finding.id,
        });
        continue;
      }
      const before = records.get(finding.id);
      const createdAt = before?.finding.CreatedAt ?? firstSeen.get(finding.id) ?? at;
      const found = toAsffFinding(finding, context, { createdAt, updatedAt: at });
      const passed = fixed.has(finding.id);
      const document = passed ? resolvedAsff(found, 'passed', at) : found;
      const state = passed ? 'passed' : 'active';
      const fresh = before !== undefined && now.getTime() - Date.parse(before.finding.UpdatedAt) < REFRESH_MS;
      if (
        before?.state === state &&
        before.failure === undefined &&
        fresh &&
        sameContent(before.finding, document)
      )
        continue;
      pending.push({ region, vpcId: finding.vpcId, findingId: finding.id, state, finding: document });
    }
    const currentIds = new Set(current.map((finding) => finding.id));
    const readVpcs = new Set(
      plan.vpcs.filter((vpc) => vpc.region === region && vpc.inScope).map((vpc) => vpc.vpcId),
    );
    for (const record of records.values()) {
      if (currentIds.has(record.findingId) || !inScope(scope, record) || record.state === 'archived')
        continue;
      // Its VPC was read and the finding is gone: it passes. Its VPC is gone from what is read: archived.
      const how = readVpcs.has(record.vpcId) ? 'passed' : 'archived';
      if (how === 'passed' && record.state === 'passed' && record.failure === undefined) continue;
      pending.push({ ...record, state: how, finding: resolvedAsff(record.finding, how, at) });
    }
    if (pending.length === 0) return { region, ...counts };

    const client = deps.client(region);
    const sleep = deps.sleep ?? defaultSleep;
    const accepted: ExportRecord[] = [];
    const refused: ExportRecord[] = [];
    for (const batch of chunk(pending, MAX_FINDINGS_PER_IMPORT)) {
      // Each batch's records are kept as soon as Security Hub answered it: a later batch failing (or
      // the invocation ending) must not lose what was accepted, or a finding fixed meanwhile would
      // never be sent as PASSED or ARCHIVED.
      const acceptedBefore = accepted.length;
      const refusedBefore = refused.length;
      let toSend = batch;
      for (let attempt = 1; toSend.length > 0; attempt += 1) {
        const out = await client.batchImportFindings(toSend.map((record) => record.finding));
        const failures = new Map((out.FailedFindings ?? []).map((failure) => [failure.Id, failure]));
        const retry: ExportRecord[] = [];
        for (const record of toSend) {
          const failure = failures.get(record.finding.Id);
          if (failure === undefined) accepted.push(record);
          else if (TRANSIENT_CODE.test(failure.ErrorCode) && attempt < TRANSIENT_ATTEMPTS) retry.push(record);
          else {
            const previous = records.get(record.findingId);
            // The last accepted content stays: the next reconcile sees the change again and resends.
            refused.push({
              ...(previous ?? { ...record, state: 'active' as const }),
              failure: { code: failure.ErrorCode, message: failure.ErrorMessage, at },
            });
            log('Security Hub refused a finding: it is sent again by the next reconcile', {
              region,
              findingId: record.findingId,
              errorCode: failure.ErrorCode,
              errorMessage: failure.ErrorMessage,
            });
          }
        }
        toSend = retry;
        if (retry.length > 0) await sleep(Math.random() * 200 * 2 ** attempt);
      }
      const answered = [...accepted.slice(acceptedBefore), ...refused.slice(refusedBefore)];
      if (answered.length > 0) await deps.store.save(answered);
    }
    for (const record of accepted) {
      if (record.state === 'archived') counts.archived += 1;
      else if (record.state === 'passed') counts.passed += 1;
      else counts.imported += 1;
    }
    counts.failed = refused.length;
    log('findings exported to Security Hub', { region, ...counts });
    return { region, ...counts };
  } catch (error) {
    const name = errorName(error);
    const stopped =
      name === 'InvalidAccessException'
        ? {
            reason: 'not-enabled' as const,
            message:
              `Security Hub is not enabled in ${region} for account ${input.accountId ?? '(unknown)'} ` +
              `(${errorMessage(error)}): no finding was exported. Enable Security Hub in that Region, ` +
              'or deploy with securityHubExport=false. The reconcile itself is not affected.',
          }
        : name === 'AccessDeniedException' || name === 'AccessDenied'
          ? {
              reason: 'access-denied' as const,
              message:
                `the reconciler's role may not call securityhub:BatchImportFindings in ${region} ` +
                `(${errorMessage(error)}): check the deployed role (securityHubExport=true adds the permission) ` +
                'and any SCP. The reconcile itself is not affected.',
            }
          : {
              reason: 'error' as const,
              message: `Security Hub export failed in ${region}: ${name}: ${errorMessage(error)}. The next reconcile sends again.`,
            };
    log(stopped.message, { region, error: name, ...counts });
    return { region, ...counts, stopped };
  }
}
