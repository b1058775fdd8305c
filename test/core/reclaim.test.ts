// Reclaiming owned endpoints no longer needed (ENDPOINT_UNUSED, core/reclaim.ts): which endpoints are
// candidates, what the plan does with them with and without the deployed remediator's clock, which
// reconciles count toward the grace period, and how the clock moves.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import { toReport } from '../../core/report.ts';
import type { RegionSnapshot } from '../../core/model.ts';
import { buildPlan } from '../../core/plan.ts';
import type { UnusedEndpoint } from '../../core/reclaim.ts';
import { DAY_MS, examinedVpcIds, nextClock, planView, reclaimBlocker } from '../../core/reclaim.ts';
import { NOW, account, actionsOf, config, findingsOf, planOf } from './fixtures.ts';

const DAYS = 7;
const ON = { remediation: { reclaimUnusedOwnedEndpointsAfterDays: DAYS } } as const;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

/**
 * EC2 capacity in two AZs behind a NAT (it needs the ECS three and nothing else), with the three
 * endpoints in place, an owned `logs` endpoint nothing needs any more, and someone else's `kms` one.
 */
function vpcWithLeftovers(a = account()) {
  const vpc = a.vpc({ egress: 'nat' });
  a.containerInstance(a.subnet(vpc, { az: 'a' }));
  a.containerInstance(a.subnet(vpc, { az: 'b' }));
  for (const service of ['ecs-agent', 'ecs-telemetry', 'ecs'] as const)
    a.endpoint(vpc, service, { managed: true });
  const logs = a.endpoint(vpc, 'logs', { managed: true });
  const kms = a.endpoint(vpc, 'kms');
  return { a, vpc, logs, kms };
}

/** The snapshot as the deployed remediator hands it to core: with its clock. */
function withClock(
  snapshot: RegionSnapshot,
  unusedSince: Record<string, string>,
  wholeRegion = true,
): RegionSnapshot {
  return { ...snapshot, reclaim: { unusedSince, wholeRegion } };
}

describe('ENDPOINT_UNUSED: an owned endpoint no ECS work of its VPC needs', () => {
  it('is reported (low) for the owned endpoint only: never for one in use, nor for one not the remediator’s', () => {
    const { a, logs } = vpcWithLeftovers();
    const plan = planOf(a.snapshot());
    const unused = findingsOf(plan, 'ENDPOINT_UNUSED');
    expect(unused.map((f) => [f.resourceId, f.service, f.severity, f.status])).toEqual([
      [logs, 'logs', 'low', 'drift'],
    ]);
    expect(unused[0]?.message).toContain('no ECS work');
    // Off by default: reported, with what deleting it would save (2 AZs x $0.01 x 730 h).
    expect(unused[0]?.remediation).toEqual({
      status: 'disabled',
      actionIds: [],
      reason:
        'remediation.reclaimUnusedOwnedEndpointsAfterDays is not set; deleting it saves $14.60 a month (pricing.*)',
    });
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
  });

  it('the CLI (no clock) only reports, even with the reclaim on, and says so', () => {
    const { a } = vpcWithLeftovers();
    const plan = planOf(a.snapshot(), { ...ON, pricing: { interfaceEndpointHourlyUsd: 0.02 } });
    const [finding] = findingsOf(plan, 'ENDPOINT_UNUSED');
    expect(finding?.remediation.status).toBe('manual');
    expect(finding?.remediation.reason).toContain('the CLI keeps no record');
    expect(finding?.remediation.reason).toContain('never deletes');
    expect(finding?.remediation.reason).toContain('saves $29.20 a month');
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
    expect(plan.stats.estimatedMonthlySavingUsd).toBe(0);
  });

  it('with the clock: waits out the grace period, then deletes it (a reclaim, with its saving), within the caps', () => {
    const { a, logs } = vpcWithLeftovers();
    const first = planOf(withClock(a.snapshot(), {}), ON);
    expect(findingsOf(first, 'ENDPOINT_UNUSED')[0]?.remediation).toMatchObject({
      status: 'deferred',
      actionIds: [],
      reason: expect.stringContaining('grace period: first seen unneeded now') as string,
    });
    const inside = planOf(withClock(a.snapshot(), { [logs]: daysAgo(DAYS - 1) }), ON);
    expect(findingsOf(inside, 'ENDPOINT_UNUSED')[0]?.remediation.reason).toContain('(6 of 7 day(s))');
    expect(actionsOf(inside, 'DELETE_ENDPOINT')).toEqual([]);

    const past = planOf(withClock(a.snapshot(), { [logs]: daysAgo(DAYS) }), ON);
    const [remove] = actionsOf(past, 'DELETE_ENDPOINT');
    expect(remove).toMatchObject({
      status: 'planned',
      vpcEndpointId: logs,
      reclaim: true,
      monthlySavingUsd: 14.6,
    });
    expect(findingsOf(past, 'ENDPOINT_UNUSED')[0]?.remediation).toEqual({
      status: 'planned',
      actionIds: [remove?.id],
    });
    expect(past.stats.estimatedMonthlySavingUsd).toBe(14.6);
    expect(past.stats.estimatedMonthlyCostUsd).toBe(0);

    // A delete is an action: limits.maxActionsPerRun holds it back like any other.
    const capped = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), {
      ...ON,
      limits: { maxActionsPerRun: 0 },
    });
    expect(actionsOf(capped, 'DELETE_ENDPOINT')[0]?.status).toBe('deferred');
    expect(findingsOf(capped, 'ENDPOINT_UNUSED')[0]?.remediation.status).toBe('deferred');
    expect(capped.stats.estimatedMonthlySavingUsd).toBe(0);
    // Below remediation.minSeverity: reported, not deleted.
    const minSeverity = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), {
      remediation: { reclaimUnusedOwnedEndpointsAfterDays: DAYS, minSeverity: 'medium' },
    });
    expect(actionsOf(minSeverity, 'DELETE_ENDPOINT')).toEqual([]);
    expect(findingsOf(minSeverity, 'ENDPOINT_UNUSED')[0]?.remediation.status).toBe('disabled');
  });

  it('a gateway endpoint and the ECS agent’s three are never candidates; a tagged endpoint the deployed remediator has no record of is never deleted', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    // Fargate work only: no EC2 capacity (it may have scaled to zero) needs the ECS three.
    a.fargateService([a.subnet(vpc, { az: 'a' })], { taskDefinition: a.taskDefinition({}) });
    const gateway = a.gateway(vpc, { tags: { 'ecs-endpoint-remediator/managed': 'true' } });
    const agent = a.endpoint(vpc, 'ecs-agent', { managed: true });
    const copied = a.endpoint(vpc, 'kms', { managed: true });
    const snapshot = {
      ...withClock(a.snapshot(), {
        [gateway]: daysAgo(30),
        [agent]: daysAgo(30),
        [copied]: daysAgo(30),
      }),
      ownedResourceIds: [gateway, agent],
    };
    const plan = planOf(snapshot, ON);
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
    expect(findingsOf(plan, 'ENDPOINT_UNUSED').map((f) => f.resourceId)).not.toContain(gateway);
    const ecsAgent = findingsOf(plan, 'ENDPOINT_UNUSED', 'ecs-agent')[0];
    expect(ecsAgent?.status).toBe('unknown');
    expect(ecsAgent?.statusReason).toMatch(/EC2 capacity scaled to zero/);
    const kms = findingsOf(plan, 'ENDPOINT_UNUSED', 'kms')[0];
    expect(kms?.remediation.status).toBe('manual');
    expect(kms?.remediation.reason).toContain('no record of creating it');
  });

  it('an endpoint needed again (work that calls logs) is no candidate', () => {
    const { a, vpc } = vpcWithLeftovers();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    expect(findingsOf(planOf(a.snapshot(), ON), 'ENDPOINT_UNUSED')).toEqual([]);
  });
});

describe('only a whole, clear view counts toward the grace period or deletes', () => {
  const cases: Array<[string, (a: ReturnType<typeof account>) => void, boolean, string]> = [
    ['an event-scoped reconcile or a work unit', () => undefined, false, 'read part of the Region'],
    [
      'a skipped read',
      (a) => {
        a.skippedRead({ operation: 'route53:ListHostedZonesByVPC', reason: 'AccessDenied: no' });
      },
      true,
      'a read was skipped (route53:ListHostedZonesByVPC: AccessDenied: no)',
    ],
    [
      'a need whose endpoints cannot be known, in another VPC',
      (a) => {
        const other = a.vpc({ egress: 'nat' });
        a.fargateService([a.subnet(other, { az: 'a' })], {
          taskDefinition: a.taskDefinition({
            name: 'router',
            firelens: { type: 'fluentbit', options: { 'config-file-type': 'file' } },
          }),
        });
      },
      true,
      'NEED_UNKNOWN in',
    ],
  ];
  for (const [what, spoil, wholeRegion, reason] of cases) {
    it(`${what}: the grace period is over, and still nothing is deleted`, () => {
      const { a, logs } = vpcWithLeftovers();
      spoil(a);
      const plan = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }, wholeRegion), ON);
      expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
      const finding = findingsOf(plan, 'ENDPOINT_UNUSED').find((f) => f.resourceId === logs);
      expect(finding?.remediation.status).toBe('deferred');
      expect(finding?.remediation.reason).toContain('does not count toward the 7-day grace period');
      expect(finding?.remediation.reason).toContain(reason);
    });
  }

  it('a failed Region of the same run: nothing is deleted in the others', () => {
    const { a, logs } = vpcWithLeftovers();
    const plan = buildPlan([withClock(a.snapshot(), { [logs]: daysAgo(30) })], config(ON), NOW, [
      { region: 'eu-west-1', error: 'AccessDenied' },
    ]);
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
    expect(findingsOf(plan, 'ENDPOINT_UNUSED')[0]?.remediation.reason).toContain(
      'the discovery of eu-west-1 failed',
    );
  });

  it('in a VPC whose needs are partly unknown the endpoint may serve them: `unknown`, never a candidate', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    a.fargateService([a.subnet(vpc, { az: 'a' })], {
      taskDefinition: a.taskDefinition({
        name: 'router',
        firelens: { type: 'fluentbit', options: { 'config-file-type': 's3', 'config-file-value': 'x' } },
      }),
    });
    const plan = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), ON);
    const finding = findingsOf(plan, 'ENDPOINT_UNUSED').find((f) => f.resourceId === logs);
    expect(finding).toMatchObject({ status: 'unknown', severity: 'low', remediation: { status: 'manual' } });
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
  });
});

describe('a VPC with no ECS work left that holds the remediator’s endpoints (idleVpcIds)', () => {
  it('is examined for its owned endpoints alone: ENDPOINT_UNUSED, no need, no other finding', () => {
    const { a, vpc: busy } = vpcWithLeftovers();
    // Everything moved out: no work, endpoints left (as a whole-Region discovery reads them: tagged only).
    const idle = a.vpc({ egress: 'none' });
    const logs = a.endpoint(idle, 'logs', { managed: true });
    const agent = a.endpoint(idle, 'ecs-agent', { managed: true });
    const snapshot = { ...a.snapshot(), idleVpcIds: [idle] };
    const plan = planOf(withClock(snapshot, {}), ON);
    expect(plan.vpcs.find((v) => v.vpcId === idle)).toMatchObject({
      inScope: true,
      noEcsWork: true,
      needs: [],
      workloadSubnets: [],
      containerInstances: 0,
    });
    expect(plan.vpcs.find((v) => v.vpcId === busy)?.noEcsWork).toBeUndefined();
    const here = plan.findings.filter((f) => f.vpcId === idle);
    expect(here.map((f) => [f.code, f.resourceId, f.status])).toEqual(
      expect.arrayContaining([
        ['ENDPOINT_UNUSED', agent, 'unknown'],
        ['ENDPOINT_UNUSED', logs, 'drift'],
      ]),
    );
    expect(here).toHaveLength(2);
    // Out of scope: not examined at all.
    const excluded = planOf(withClock(snapshot, {}), { ...ON, scope: { excludeVpcIds: [idle] } });
    expect(excluded.vpcs.some((v) => v.vpcId === idle)).toBe(false);
    // The report's schema knows the VPC's mark.
    const report = toReport('plan', plan, { total: 0, byService: {}, byOperation: {} });
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const document: unknown = JSON.parse(JSON.stringify(report));
    expect(validate(document) ? [] : validate.errors).toEqual([]);
  });

  it('a reconcile that does not count stops only the clocks of the VPCs it examined', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const plan = planOf(withClock(a.snapshot(), {}, false), ON);
    const unseen = { vpcEndpointId: 'vpce-0ff', vpcId: 'vpc-0ff', since: daysAgo(2) };
    const previous = [{ vpcEndpointId: logs, vpcId: vpc, since: daysAgo(2) }, unseen];
    expect(examinedVpcIds(plan, a.region)).toEqual([vpc]);
    const change = nextClock({
      plan,
      region: a.region,
      previous,
      counts: false,
      vpcIds: examinedVpcIds(plan, a.region),
      deleted: new Set(),
      enabled: true,
      now: NOW,
    });
    expect(change).toEqual({ start: [], stop: [] });
  });
});

describe('what may keep an owned endpoint in use out of its VPC’s sight', () => {
  it('a private hosted zone of another VPC pointing at it: in use; the zones unreadable: unknown', () => {
    const { a, logs } = vpcWithLeftovers();
    const alias = {
      vpcEndpointId: logs,
      hostedZoneId: 'Z0123',
      zoneName: `logs.${a.region}.amazonaws.com`,
      recordName: `logs.${a.region}.amazonaws.com`,
    };
    const aliased = (vpcIds: string[]) => ({ ...a.snapshot(), endpointAliases: [{ ...alias, vpcIds }] });
    expect(findingsOf(planOf(aliased(['vpc-0spoke'])), 'ENDPOINT_UNUSED')).toEqual([]);
    // A zone associated with the endpoint's own VPC alone serves nobody else.
    const own = findingsOf(planOf(aliased([a.snapshot().vpcs[0]?.vpcId ?? ''])), 'ENDPOINT_UNUSED');
    expect(own.map((f) => [f.resourceId, f.status])).toEqual([[logs, 'drift']]);
    a.skippedRead({ operation: 'route53:ListHostedZones', reason: 'AccessDenied: no', resourceId: logs });
    const [blind] = findingsOf(planOf(a.snapshot()), 'ENDPOINT_UNUSED');
    expect(blind).toMatchObject({ status: 'unknown', resourceId: logs });
    expect(blind?.statusReason).toContain('private hosted zone');
  });

  it('a split sweep’s reclaim step: zones its plan units saw pointing other VPCs here keep it; a gap names itself', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const step = (reclaim: Partial<NonNullable<RegionSnapshot['reclaim']>>) =>
      planOf(
        { ...a.snapshot(), reclaim: { unusedSince: { [logs]: daysAgo(30) }, wholeRegion: true, ...reclaim } },
        ON,
      );
    // A spoke's zone (seen by a plan unit, not by this step) points at it: in use, nothing deleted.
    const served = step({ zoneUses: [logs] });
    expect(findingsOf(served, 'ENDPOINT_UNUSED')).toEqual([]);
    expect(actionsOf(served, 'DELETE_ENDPOINT')).toEqual([]);
    // Another endpoint reached through a zone keeps only that one: past the grace period, deleted.
    const other = step({ zoneUses: ['vpce-0other'] });
    expect(actionsOf(other, 'DELETE_ENDPOINT')).toMatchObject([
      { vpcEndpointId: logs, vpcId: vpc, reclaim: true },
    ]);
    // A unit of the run saw a gap: the step does not count, and says why.
    const gap = 'a read was skipped (route53:ListHostedZonesByVPC of vpc-0third: AccessDenied)';
    const spoiled = step({
      wholeRegion: false,
      partialView: `the units did not see the whole Region (${gap})`,
    });
    expect(actionsOf(spoiled, 'DELETE_ENDPOINT')).toEqual([]);
    expect(findingsOf(spoiled, 'ENDPOINT_UNUSED')[0]?.remediation.reason).toContain(gap);
  });

  it('subnets of its VPC shared with other accounts (AWS RAM): unknown; the shares unreadable: unknown', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const subnetId = a.snapshot().subnets.find((subnet) => subnet.vpcId === vpc)?.subnetId ?? '';
    const resourceShareArn = 'arn:aws:ram:us-east-1:123456789012:resource-share/abc';
    const shared = { ...a.snapshot(), sharedSubnets: [{ subnetId, vpcId: vpc, resourceShareArn }] };
    const [finding] = findingsOf(planOf(withClock(shared, { [logs]: daysAgo(30) }), ON), 'ENDPOINT_UNUSED');
    expect(finding).toMatchObject({ status: 'unknown', resourceId: logs });
    expect(finding?.statusReason).toContain(subnetId);
    expect(finding?.statusReason).toContain(resourceShareArn);
    a.skippedRead({ operation: 'ram:ListResources', reason: 'AccessDeniedException: no' });
    const plan = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), ON);
    expect(findingsOf(plan, 'ENDPOINT_UNUSED')[0]).toMatchObject({ status: 'unknown' });
    expect(findingsOf(plan, 'ENDPOINT_UNUSED')[0]?.statusReason).toContain('AWS RAM');
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
  });

  it('a Route 53 Resolver inbound endpoint in its VPC (spokes forward to it): unknown; unreadable: unknown', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const hub = { ...a.snapshot(), inboundResolvers: [{ resolverEndpointId: 'rslvr-in-0hub', vpcId: vpc }] };
    const [finding] = findingsOf(planOf(withClock(hub, { [logs]: daysAgo(30) }), ON), 'ENDPOINT_UNUSED');
    expect(finding).toMatchObject({ status: 'unknown', resourceId: logs });
    expect(finding?.statusReason).toContain('rslvr-in-0hub');
    // Another VPC's inbound endpoint changes nothing here.
    const elsewhere = {
      ...a.snapshot(),
      inboundResolvers: [{ resolverEndpointId: 'rslvr-in-0', vpcId: 'vpc-0other' }],
    };
    expect(findingsOf(planOf(elsewhere), 'ENDPOINT_UNUSED').map((f) => f.status)).toEqual(['drift']);
    a.skippedRead({
      operation: 'route53resolver:ListResolverEndpoints',
      reason: 'AccessDeniedException: no',
    });
    const plan = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), ON);
    expect(findingsOf(plan, 'ENDPOINT_UNUSED')[0]).toMatchObject({ status: 'unknown' });
    expect(findingsOf(plan, 'ENDPOINT_UNUSED')[0]?.statusReason).toContain('Resolver inbound endpoint');
    expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
  });

  it('a Route 53 Profile that has it, or a zone pointing at it, as a resource: unknown, naming the Profile; unreadable: unknown, the reconcile not counting', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const profile = { profileId: 'rp-0123456789abcdef', profileName: 'hub-dns' };
    const unusedOf = (snapshot: RegionSnapshot) => {
      const plan = planOf(withClock(snapshot, { [logs]: daysAgo(30) }), ON);
      expect(actionsOf(plan, 'DELETE_ENDPOINT')).toEqual([]);
      return findingsOf(plan, 'ENDPOINT_UNUSED');
    };
    // The endpoint itself is the Profile's resource.
    const [carried] = unusedOf({
      ...a.snapshot(),
      profileResources: [{ ...profile, kind: 'vpc-endpoint', resourceId: logs }],
    });
    expect(carried).toMatchObject({ status: 'unknown', resourceId: logs });
    expect(carried?.statusReason).toContain('Route 53 Profile rp-0123456789abcdef (hub-dns)');
    expect(carried?.statusReason).toContain('has the endpoint as a resource');
    // A zone with an alias to it (associated with its own VPC alone, so no other VPC is seen) is one.
    const alias = {
      vpcEndpointId: logs,
      hostedZoneId: 'Z0PROFILED',
      zoneName: `logs.${a.region}.amazonaws.com`,
      recordName: `logs.${a.region}.amazonaws.com`,
      vpcIds: [vpc],
    };
    const [zoned] = unusedOf({
      ...a.snapshot(),
      endpointAliases: [alias],
      profileResources: [{ ...profile, kind: 'hosted-zone', resourceId: 'Z0PROFILED' }],
    });
    expect(zoned).toMatchObject({ status: 'unknown', resourceId: logs });
    expect(zoned?.statusReason).toContain('private hosted zone Z0PROFILED');
    expect(zoned?.statusReason).toContain('rp-0123456789abcdef');
    // Another endpoint, or a Profile's zone that does not point at it, changes nothing.
    const unrelated = {
      ...a.snapshot(),
      endpointAliases: [alias],
      profileResources: [
        { ...profile, kind: 'vpc-endpoint' as const, resourceId: 'vpce-0other' },
        { ...profile, kind: 'hosted-zone' as const, resourceId: 'Z0ELSEWHERE' },
      ],
    };
    expect(findingsOf(planOf(unrelated), 'ENDPOINT_UNUSED').map((f) => f.status)).toEqual(['drift']);
    // The Profiles unreadable: unknown, and the reconcile does not count (the clock does not run).
    a.skippedRead({
      operation: 'route53profiles:ListProfileResourceAssociations',
      reason: 'AccessDeniedException: no',
    });
    const [blind] = unusedOf(a.snapshot());
    expect(blind).toMatchObject({ status: 'unknown', resourceId: logs });
    expect(blind?.statusReason).toContain('Route 53 Profile');
    expect(blind?.statusReason).toContain('route53profiles:ListProfileResourceAssociations');
    expect(
      reclaimBlocker({ unusedSince: {}, wholeRegion: true }, planView(planOf(a.snapshot()), a.region)),
    ).toContain('a read was skipped (route53profiles:ListProfileResourceAssociations');
  });
});

describe('the clock (nextClock)', () => {
  const entry = (vpcEndpointId: string, vpcId: string, since = daysAgo(2)): UnusedEndpoint => ({
    vpcEndpointId,
    vpcId,
    since,
  });

  it('a counting reclaim step moves the clocks of the VPCs it read alone', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const plan = planOf(withClock(a.snapshot(), {}), ON);
    const elsewhere = entry('vpce-0ff', 'vpc-0ff');
    const change = nextClock({
      plan,
      region: a.region,
      previous: [elsewhere],
      counts: true,
      vpcIds: [vpc],
      deleted: new Set<string>(),
      enabled: true,
      now: NOW,
    });
    // The endpoint it read unneeded starts; another VPC's clock is the unit's end to judge.
    expect(change).toEqual({
      start: [{ vpcEndpointId: logs, vpcId: vpc, since: NOW.toISOString() }],
      stop: [],
    });
  });

  it('a counting sweep starts a clock for an endpoint newly unneeded and keeps a running one', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const plan = planOf(withClock(a.snapshot(), {}), ON);
    const base = { plan, region: a.region, vpcIds: undefined, deleted: new Set<string>(), enabled: true };
    expect(nextClock({ ...base, previous: [], counts: true, now: NOW })).toEqual({
      start: [{ vpcEndpointId: logs, vpcId: vpc, since: NOW.toISOString() }],
      stop: [],
    });
    const running = [entry(logs, vpc)];
    expect(nextClock({ ...base, previous: running, counts: true, now: NOW })).toEqual({
      start: [],
      stop: [],
    });
    // Not counting: no clock starts.
    expect(nextClock({ ...base, previous: [], counts: false, now: NOW })).toEqual({ start: [], stop: [] });
  });

  it('a need that reappears stops the clock, whatever the reconcile; a partial one only in the VPCs it read', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    a.fargateService([a.subnet(vpc, { az: 'b' })], {
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    const plan = planOf(withClock(a.snapshot(), {}, false), ON);
    const elsewhere = entry('vpce-0ff', 'vpc-0ff');
    const previous = [entry(logs, vpc), elsewhere];
    const base = { plan, region: a.region, previous, counts: false, deleted: new Set<string>(), now: NOW };
    expect(nextClock({ ...base, vpcIds: [vpc], enabled: true })).toEqual({
      start: [],
      stop: [entry(logs, vpc)],
    });
    // A whole-Region reconcile saw every VPC: the other VPC's endpoint is gone or needed too.
    expect(nextClock({ ...base, vpcIds: undefined, enabled: true }).stop).toEqual(previous);
    // The reclaim turned off: every clock stops (turned on again, each starts afresh).
    expect(nextClock({ ...base, vpcIds: [vpc], enabled: false }).stop).toEqual(previous);
  });

  it('an endpoint deleted, or muted, stops its clock', () => {
    const { a, vpc, logs } = vpcWithLeftovers();
    const previous = [entry(logs, vpc, daysAgo(30))];
    const plan = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), ON);
    const base = {
      plan,
      region: a.region,
      previous,
      counts: true,
      vpcIds: undefined,
      enabled: true,
      now: NOW,
    };
    expect(nextClock({ ...base, deleted: new Set([logs]) }).stop).toEqual(previous);
    const muted = planOf(withClock(a.snapshot(), { [logs]: daysAgo(30) }), {
      ...ON,
      mutelist: [{ codes: ['ENDPOINT_UNUSED'], reason: 'kept for the next migration' }],
    });
    expect(actionsOf(muted, 'DELETE_ENDPOINT')).toEqual([]);
    expect(nextClock({ ...base, plan: muted, deleted: new Set() }).stop).toEqual(previous);
  });
});
