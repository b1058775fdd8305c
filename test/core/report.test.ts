// Whose a run's findings and actions are: each snapshot's account, never made up; and an apply's
// results, which meet their actions by account and id. Action ids (`<kind>/<region>/<vpcId>/<subject>`)
// are unique only within an account: a VPC shared through AWS RAM has one id in its owner's and its
// participants' views, so two accounts of one run can plan actions of one id.
//
// Why fixtures, not two moto accounts: moto gives every VPC a random id, as AWS does, and a
// participant of a shared VPC plans no action there today (its fixes are the owner's: manual), so no
// emulated run yields two accounts with one action id. Two snapshots built alike (one VPC id, one
// subject) and named by different accounts are exactly the collision the plan's caps already key by
// account for; the apply side is checked here against it.
import { describe, expect, it } from 'vitest';
import { fixedFindingIds } from '../../core/export.ts';
import type { RegionSnapshot } from '../../core/model.ts';
import type { Plan } from '../../core/plan.ts';
import { UnknownSnapshotAccountError } from '../../core/plan.ts';
import type { ActionOutcome, ActionResult } from '../../core/report.ts';
import { applySucceeded, toReport } from '../../core/report.ts';
import { ACCOUNT_ID, NO_CAPS, account, ecrImage, planOf } from './fixtures.ts';

const OTHER_ACCOUNT = '210987654321';
const NO_CALLS = { total: 0, byService: {}, byOperation: {} };

/** One isolated VPC with a Fargate service logging with awslogs: a group and endpoints to make. */
function snapshotOf(accountId: string): RegionSnapshot & { accountId: string } {
  const a = account();
  const vpc = a.vpc({ egress: 'none', ownerId: accountId });
  a.fargateService([a.subnet(vpc, { az: 'a' })], {
    taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
  });
  return { ...a.snapshot(), accountId };
}

/** A plan of two accounts, in one Region, whose actions have the same ids. */
function collidingPlan(): Plan {
  const plan = planOf([snapshotOf(ACCOUNT_ID), snapshotOf(OTHER_ACCOUNT)], NO_CAPS);
  const ids = (accountId: string) =>
    plan.actions.filter((action) => action.accountId === accountId).map((action) => action.id);
  // The premise: every action id of one account is an action id of the other.
  expect(ids(ACCOUNT_ID).length).toBeGreaterThan(0);
  expect(ids(OTHER_ACCOUNT)).toEqual(ids(ACCOUNT_ID));
  return plan;
}

/** What applying `accountId`'s part of `plan` returns when every action ends in `outcome`. */
function resultsOf(plan: Plan, accountId: string, outcome: ActionOutcome): ActionResult[] {
  return plan.actions
    .filter((action) => action.accountId === accountId)
    .map((action) => ({
      actionId: action.id,
      accountId: action.accountId,
      kind: action.kind,
      region: action.region,
      vpcId: action.vpcId,
      outcome,
      message: outcome,
    }));
}

describe('results of a run over several accounts whose action ids collide', () => {
  it("each account's actions get that account's results, whatever order the accounts were applied in", () => {
    const plan = collidingPlan();
    for (const results of [
      [...resultsOf(plan, ACCOUNT_ID, 'succeeded'), ...resultsOf(plan, OTHER_ACCOUNT, 'failed')],
      [...resultsOf(plan, OTHER_ACCOUNT, 'failed'), ...resultsOf(plan, ACCOUNT_ID, 'succeeded')],
    ]) {
      const report = toReport('apply', plan, NO_CALLS, results);
      for (const action of report.actions)
        expect([action.accountId, action.result?.outcome]).toEqual([
          action.accountId,
          action.accountId === ACCOUNT_ID ? 'succeeded' : 'failed',
        ]);
      expect(report.stats.applied).toMatchObject({
        succeeded: plan.actions.length / 2,
        failed: plan.actions.length / 2,
      });
      expect(applySucceeded(results)).toBe(false);
    }
  });

  it("an account whose apply did not run has no results: another account's do not stand in for them", () => {
    const plan = collidingPlan();
    const report = toReport('apply', plan, NO_CALLS, resultsOf(plan, ACCOUNT_ID, 'succeeded'));
    expect(
      report.actions.filter((action) => action.accountId === OTHER_ACCOUNT && action.result !== undefined),
    ).toEqual([]);
    expect(
      report.actions.every((action) => action.accountId !== ACCOUNT_ID || action.result !== undefined),
    ).toBe(true);
  });

  it("only the findings of the account whose fixes succeeded are fixed (the CLI's formats, the Security Hub export's PASSED)", () => {
    const plan = collidingPlan();
    const report = toReport('apply', plan, NO_CALLS, resultsOf(plan, ACCOUNT_ID, 'succeeded'));
    const planned = report.findings.filter((finding) => finding.remediation.status === 'planned');
    expect(new Set(planned.map((finding) => finding.accountId))).toEqual(
      new Set([ACCOUNT_ID, OTHER_ACCOUNT]),
    );
    const fixed = fixedFindingIds(report.findings, report.actions);
    expect([...fixed].sort()).toEqual(
      planned
        .filter((finding) => finding.accountId === ACCOUNT_ID)
        .map((finding) => finding.id)
        .sort(),
    );
  });
});

describe('the account of a snapshot', () => {
  /** A snapshot with ECS work (a Fargate service in an isolated VPC) that discovery named no account. */
  function unnamed(): RegionSnapshot {
    const snapshot: { -readonly [K in keyof RegionSnapshot]: RegionSnapshot[K] } = snapshotOf(ACCOUNT_ID);
    delete snapshot.accountId;
    return snapshot;
  }

  it('without one from discovery, is the account its ECS ARNs name', () => {
    const plan = planOf(unnamed(), NO_CAPS);
    expect(plan.findings.length).toBeGreaterThan(0);
    expect(new Set([...plan.vpcs, ...plan.findings, ...plan.actions].map((item) => item.accountId))).toEqual(
      new Set([ACCOUNT_ID]),
    );
  });

  it('is never made up, nor taken from a VPC owner: ECS work whose account cannot be known is not planned', () => {
    // ARNs without the account (AWS's never are): only the VPC's owner would be left to guess from.
    const snapshot = JSON.parse(
      JSON.stringify(unnamed()).replaceAll(`:${ACCOUNT_ID}:`, '::'),
    ) as RegionSnapshot;
    expect(snapshot.vpcs.map((vpc) => vpc.ownerId)).toEqual([ACCOUNT_ID]);
    expect(() => planOf(snapshot, NO_CAPS)).toThrow(UnknownSnapshotAccountError);
    expect(() => planOf(snapshot, NO_CAPS)).toThrow(/account of the snapshot of us-east-1 is not known/);
  });

  it('a snapshot without ECS work and without an account plans nothing and names no account', () => {
    const plan = planOf({ ...unnamed(), containerInstances: [], services: [], tasks: [] }, NO_CAPS);
    expect([plan.accounts, plan.vpcs, plan.findings, plan.actions]).toEqual([[], [], [], []]);
  });
});
