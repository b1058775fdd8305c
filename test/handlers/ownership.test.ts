// Ownership that cannot be borrowed, through the deployed reconciler's real handler code against moto:
// the remediator changes and deletes only endpoints and groups it recorded as made by itself in its
// state table (aws/ownership.ts), whatever tags say; a create whose record was lost is recorded by the
// next reconcile; the one-time adoption records what was tagged before, once, and says so.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  ModifyVpcEndpointCommand,
} from '@aws-sdk/client-ec2';
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { BatchSummary } from '../../aws/event-batch.ts';
import type { OwnershipStore } from '../../aws/ownership.ts';
import { createOwnershipStore } from '../../aws/ownership.ts';
import type { Plan } from '../../core/plan.ts';
import { runReconcile } from '../../handlers/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import type { Stack } from './stack.ts';
import { createStack, depsFor, drainAlerts, sampleText, withEventId } from './stack.ts';

const MANAGED = { 'ecs-endpoint-remediator/managed': 'true' };
const DENY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }],
});

/** A private VPC (no egress) with two EC2 container instances running an awslogs service. */
async function ecsVpc(acct: Account) {
  const network = await createNetwork(acct, { cidr: '10.7.0.0/16', name: 'ec2-private', azs: ['a', 'b'] });
  const cluster = await createCluster(acct, 'ec2-own');
  for (const subnetId of network.subnetIds) await addContainerInstance(acct, { cluster, subnetId });
  const taskDefinition = await registerTaskDefinition(acct, {
    family: 'api',
    images: ['public.ecr.aws/nginx/nginx:1'],
    logDriver: 'awslogs',
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  await createService(acct, { cluster, name: 'api', taskDefinition, launchType: 'EC2' });
  return network;
}

function storeOf(acct: Account, stack: Stack): OwnershipStore {
  return createOwnershipStore(
    new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
    stack.tableName,
  );
}

async function endpointsOf(acct: Account, vpcId: string): Promise<VpcEndpoint[]> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).filter(
    (e) => !['deleted', 'deleting'].includes((e.State ?? '').toLowerCase()),
  );
}

async function endpointOf(acct: Account, vpcId: string, service: string, region = acct.region) {
  return (await endpointsOf(acct, vpcId)).find((e) => e.ServiceName === `com.amazonaws.${region}.${service}`);
}

async function policyOf(acct: Account, endpointId: string): Promise<unknown> {
  const out = await acct.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpointId] }));
  return JSON.parse(out.VpcEndpoints?.[0]?.PolicyDocument ?? '{}');
}

let sweeps = 0;

/** A scheduled sweep (a distinct occurrence each time), run as a direct invocation. */
async function sweep(deps: ReturnType<typeof depsFor>, acct: Account): Promise<BatchSummary> {
  sweeps += 1;
  const text = withEventId(sampleText('scheduled-sweep', { account: acct.accountId }), `sweep-${sweeps}`);
  const event = JSON.parse(text) as Record<string, unknown>;
  const summary = (await runReconcile(event, deps)) as BatchSummary;
  expect(summary.failedMessageIds).toEqual([]);
  return summary;
}

const planOf = (summary: BatchSummary): Plan => {
  const plan = summary.outcomes[0]?.plan;
  if (!plan) throw new Error('no Region reconciled');
  return plan;
};

const findingOf = (plan: Plan, code: string, service: string) => {
  const finding = plan.findings.find((f) => f.code === code && f.service === service);
  if (!finding) throw new Error(`no ${code} for ${service}: ${plan.findings.map((f) => f.code).join(', ')}`);
  return finding;
};

describe('the deployed remediator changes only what it recorded as its own', () => {
  it('a foreign endpoint tagged as managed is neither reset nor deleted; its own recorded endpoint is reset; after an adoption both are its own', async () => {
    const acct = newAccount();
    const net = await ecsVpc(acct);
    // Someone else's logs endpoint, tagged as the remediator's, with a policy that denies everything.
    const foreignLogs = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'logs',
      subnetIds: net.subnetIds,
      tags: MANAGED,
      policyDocument: DENY_ALL,
    });
    const stack = await createStack(acct, 'enforce', { adopt: false });
    const store = storeOf(acct, stack);
    const config = JSON.stringify({
      remediation: { deleteWrongRegionEndpoints: 'owned', resetOwnedEndpointPolicies: true },
    });
    const deps = depsFor(acct, stack, { env: { CONFIG: config } });

    // 1. The first sweep creates what is missing, and records each resource it created.
    const first = await sweep(deps, acct);
    const created = (first.outcomes[0]?.results ?? []).filter(
      (r) => r.kind.startsWith('CREATE_') && r.outcome !== 'failed',
    );
    expect(created.length).toBeGreaterThan(3);
    const owned = (await store.load(acct.region)).owned;
    expect([...owned.keys()].sort()).toEqual(created.map((r) => r.resourceId).sort());
    expect([...owned.values()].every((record) => record.how === 'created')).toBe(true);
    expect(owned.has(foreignLogs)).toBe(false);
    const group = (await endpointOf(acct, net.vpcId, 'ecs-agent'))?.Groups?.[0]?.GroupId ?? '';
    expect(owned.get(group)).toMatchObject({
      kind: 'security-group',
      name: 'ecs-endpoint-remediator-endpoints',
    });
    // The foreign endpoint's policy is left alone, and the finding says why.
    expect(await policyOf(acct, foreignLogs)).toEqual(JSON.parse(DENY_ALL));
    const denied = findingOf(planOf(first), 'ENDPOINT_POLICY_DENIES', 'logs');
    expect(denied.remediation.status).toBe('manual');
    expect(denied.remediation.reason).toContain(
      `${foreignLogs} carries the ecs-endpoint-remediator/managed=true tag`,
    );
    expect(denied.remediation.reason).toContain('no record of creating it');

    // 2. Its own endpoint's policy is reset; a foreign wrong-Region endpoint tagged as managed stays.
    const ownAgent = (await endpointOf(acct, net.vpcId, 'ecs-agent'))?.VpcEndpointId ?? '';
    expect(owned.has(ownAgent)).toBe(true);
    await acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: ownAgent, PolicyDocument: DENY_ALL }));
    const foreignWrong = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'ssm',
      region: 'us-west-2',
      privateDns: false,
      subnetIds: net.subnetIds,
      tags: MANAGED,
    });
    const second = await sweep(deps, acct);
    expect((await policyOf(acct, ownAgent)) as { Statement: unknown[] }).not.toEqual(JSON.parse(DENY_ALL));
    expect(await policyOf(acct, foreignLogs)).toEqual(JSON.parse(DENY_ALL));
    expect(await endpointOf(acct, net.vpcId, 'ssm', 'us-west-2')).toBeDefined();
    const wrong = planOf(second).findings.find((f) => f.code === 'ENDPOINT_WRONG_REGION');
    expect(wrong?.remediation).toMatchObject({ status: 'disabled' });
    expect(wrong?.remediation.reason).toContain(
      `${foreignWrong} carries the ecs-endpoint-remediator/managed=true tag`,
    );
    expect((second.outcomes[0]?.results ?? []).map((r) => r.kind)).not.toContain('DELETE_ENDPOINT');
    await drainAlerts(stack);

    // 3. The operator adopts what is tagged (say both were made by the remediator's CLI): one alert
    // lists them, and from then on they are the remediator's: the stray one deleted, the policy reset.
    const adopting = depsFor(acct, stack, { env: { CONFIG: config, ADOPT_TAGGED_RESOURCES: 'upgrade-1' } });
    await sweep(adopting, acct);
    const adoptionAlerts = (await drainAlerts(stack)).filter(
      (a) => a.metadata?.eventType === 'ownership-adopted',
    );
    expect(adoptionAlerts).toHaveLength(1);
    expect(adoptionAlerts[0]?.metadata?.relatedResources?.sort()).toEqual([foreignLogs, foreignWrong].sort());
    expect(adoptionAlerts[0]?.content.description).toContain(foreignWrong);
    expect(await endpointOf(acct, net.vpcId, 'ssm', 'us-west-2')).toBeUndefined();
    expect(await policyOf(acct, foreignLogs)).not.toEqual(JSON.parse(DENY_ALL));
    const adopted = (await store.load(acct.region)).owned.get(foreignLogs);
    expect(adopted).toMatchObject({ how: 'adopted', adoption: 'upgrade-1' });

    // Once per label: the next sweep with the same label adopts nothing, and says nothing about it.
    await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'kms',
      privateDns: false,
      subnetIds: net.subnetIds,
      tags: MANAGED,
    });
    await sweep(adopting, acct);
    expect((await drainAlerts(stack)).filter((a) => a.metadata?.eventType === 'ownership-adopted')).toEqual(
      [],
    );
    expect((await store.load(acct.region)).owned.size).toBe(owned.size + 2);
  });

  it('a foreign group tagged as managed and named as its group is neither changed nor used: nothing is created there', async () => {
    const acct = newAccount();
    const net = await ecsVpc(acct);
    const stack = await createStack(acct, 'enforce', { adopt: false });
    const { CreateSecurityGroupCommand } = await import('@aws-sdk/client-ec2');
    const squatter =
      (
        await acct.ec2.send(
          new CreateSecurityGroupCommand({
            VpcId: net.vpcId,
            GroupName: 'ecs-endpoint-remediator-endpoints',
            Description: 'not the remediator',
            TagSpecifications: [
              {
                ResourceType: 'security-group',
                Tags: [{ Key: 'ecs-endpoint-remediator/managed', Value: 'true' }],
              },
            ],
          }),
        )
      ).GroupId ?? '';
    const summary = await sweep(depsFor(acct, stack), acct);
    const plan = planOf(summary);
    expect(plan.actions.filter((a) => a.kind !== 'RESTART_AGENT')).toEqual([]);
    expect(await endpointsOf(acct, net.vpcId)).toEqual([]);
    const rules = (await acct.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [squatter] })))
      .SecurityGroups?.[0]?.IpPermissions;
    expect(rules).toEqual([]);
    const missing = findingOf(plan, 'ENDPOINT_MISSING', 'ecs-agent');
    expect(missing.remediation.status).toBe('manual');
    expect(missing.remediation.reason).toContain(`security group ${squatter} holds the managed group's name`);
  });
});

describe('a create whose record is lost', () => {
  /** The table's store, with `record` failing once for the first resource `fails` matches. */
  function failingOnce(store: OwnershipStore, fails: (resourceId: string) => boolean): OwnershipStore {
    let failed = false;
    return {
      ...store,
      async record(region, record) {
        if (!failed && fails(record.resourceId)) {
          failed = true;
          throw Object.assign(new Error('simulated: the state write failed'), {
            name: 'ProvisionedThroughputExceededException',
          });
        }
        return store.record(region, record);
      },
    };
  }

  it('is recorded by the next reconcile: the group by its creation marker, the endpoint by replaying its ClientToken; nothing is made twice', async () => {
    const acct = newAccount();
    const net = await ecsVpc(acct);
    const stack = await createStack(acct, 'enforce', { adopt: false });
    const store = storeOf(acct, stack);
    const base = depsFor(acct, stack);

    // 1. The group is created, its record fails: the action fails, the endpoints that need it wait.
    const first = await sweep(
      depsFor(acct, stack, { ownership: { store: failingOnce(store, (id) => id.startsWith('sg-')) } }),
      acct,
    );
    const groupResult = first.outcomes[0]?.results?.find((r) => r.kind === 'CREATE_SECURITY_GROUP');
    expect(groupResult).toMatchObject({ outcome: 'failed' });
    expect(groupResult?.message).toContain("not recorded as the remediator's");
    expect(groupResult?.message).toContain('simulated: the state write failed');
    const groupId = groupResult?.resourceId ?? '';
    expect(groupId).toMatch(/^sg-/);
    expect(await endpointsOf(acct, net.vpcId)).toEqual([]);
    const afterFirst = await store.load(acct.region);
    expect(afterFirst.owned.size).toBe(0);
    expect(afterFirst.intents.map((i) => i.kind)).toEqual(['security-group']);

    // 2. The group is recorded by its marker before planning, and used; now the first endpoint's
    // record fails (the endpoint exists, unrecorded); the endpoints after it in the ECS order wait.
    const second = await sweep(
      depsFor(acct, stack, { ownership: { store: failingOnce(store, (id) => id.startsWith('vpce-')) } }),
      acct,
    );
    expect(second.outcomes[0]?.results?.map((r) => r.kind)).not.toContain('CREATE_SECURITY_GROUP');
    const afterSecond = await store.load(acct.region);
    expect(afterSecond.owned.get(groupId)).toMatchObject({ how: 'resumed', kind: 'security-group' });
    const lost = second.outcomes[0]?.results?.find((r) => r.outcome === 'failed');
    expect(lost).toMatchObject({ kind: 'CREATE_ENDPOINT' });
    const lostId = lost?.resourceId ?? '';
    expect(lostId).toMatch(/^vpce-/);
    expect(afterSecond.owned.has(lostId)).toBe(false);
    expect(afterSecond.intents).toHaveLength(1);
    expect(afterSecond.intents[0]).toMatchObject({ kind: 'vpc-endpoint' });

    // 3. The next reconcile replays the lost create's ClientToken: AWS answers with the endpoint that
    // token made, which is recorded; the plan then goes on from there.
    const third = await sweep(base, acct);
    const afterThird = await store.load(acct.region);
    expect(afterThird.owned.get(lostId)).toMatchObject({ how: 'resumed', kind: 'vpc-endpoint' });
    expect(afterThird.intents).toEqual([]);
    expect(base.logs.find((l) => l.message === 'ownership: intents resumed')?.fields).toMatchObject({
      recorded: [lostId],
    });
    expect(third.outcomes[0]?.results?.map((r) => r.outcome)).not.toContain('failed');
    // Every endpoint and the group, once each, all recorded.
    const endpoints = await endpointsOf(acct, net.vpcId);
    const services = endpoints.map((e) => e.ServiceName);
    expect(new Set(services).size).toBe(services.length);
    expect(endpoints.map((e) => e.VpcEndpointId).filter((id) => !afterThird.owned.has(id ?? ''))).toEqual([]);
    const groups = (
      await acct.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [net.vpcId] },
            { Name: 'group-name', Values: ['ecs-endpoint-remediator-endpoints'] },
          ],
        }),
      )
    ).SecurityGroups;
    expect(groups?.map((g) => g.GroupId)).toEqual([groupId]);
    // The recorded endpoint is the remediator's: its policy is reset when it denies the work.
    await acct.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: lostId, PolicyDocument: DENY_ALL }));
    await sweep(
      depsFor(acct, stack, {
        env: { CONFIG: JSON.stringify({ remediation: { resetOwnedEndpointPolicies: true } }) },
      }),
      acct,
    );
    expect(await policyOf(acct, lostId)).not.toEqual(JSON.parse(DENY_ALL));
  });
});
