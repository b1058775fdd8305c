// The ownership records' pieces (aws/ownership.ts) apart from the handler: the replayed request is
// the apply's, byte for byte; an `already-satisfied` create is recorded only when its own ClientToken
// made the endpoint; an intent is resumed only with proof.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateVpcEndpointCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../aws/apply.ts';
import type { AwsClients } from '../../aws/clients.ts';
import {
  createEndpointInput,
  createOwnershipStore,
  createRecorder,
  endpointRequestOf,
  resumeIntents,
} from '../../aws/ownership.ts';
import type { CreateEndpointAction, CreateGatewayEndpointAction } from '../../core/actions.ts';
import type { Plan } from '../../core/plan.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { createEndpoint, createNetwork, createSecurityGroup } from '../harness/seed.ts';
import { createStack } from '../handlers/stack.ts';

const MANAGED = { 'ecs-endpoint-remediator/managed': 'true', Name: 'ecs-endpoint-remediator logs' };

function interfaceAction(vpcId: string, over: Partial<CreateEndpointAction> = {}): CreateEndpointAction {
  return {
    kind: 'CREATE_ENDPOINT',
    id: `CREATE_ENDPOINT/us-east-1/${vpcId}/logs`,
    region: 'us-east-1',
    vpcId,
    fixes: [],
    dependsOn: [],
    summary: 'create logs',
    service: 'logs',
    serviceName: 'com.amazonaws.us-east-1.logs',
    subnetIds: [],
    securityGroups: [],
    privateDnsEnabled: true,
    clientToken: 'eer-0123456789abcdef',
    tags: MANAGED,
    monthlyCostUsd: 0,
    ...over,
  };
}

describe('the replayed request', () => {
  it('is exactly what aws/apply.ts sends for an interface (dual-stack too) and a gateway endpoint', async () => {
    const sent: unknown[] = [];
    const ec2 = {
      send: (command: { input: unknown }) => {
        if (command instanceof DescribeVpcEndpointsCommand) return Promise.resolve({ VpcEndpoints: [] });
        if (command instanceof CreateVpcEndpointCommand) {
          sent.push(command.input);
          return Promise.resolve({ VpcEndpoint: { VpcEndpointId: 'vpce-1', State: 'available' } });
        }
        return Promise.reject(new Error('unexpected call'));
      },
    } as unknown as EC2Client;
    const dualstack = interfaceAction('vpc-1', {
      subnetIds: ['subnet-a', 'subnet-b'],
      securityGroups: [{ groupId: 'sg-1' }],
      ipAddressType: 'dualstack',
    });
    const plain = interfaceAction('vpc-2', {
      subnetIds: ['subnet-c'],
      securityGroups: [{ groupId: 'sg-2' }],
    });
    const gateway: CreateGatewayEndpointAction = {
      kind: 'CREATE_GATEWAY_ENDPOINT',
      id: 'CREATE_GATEWAY_ENDPOINT/us-east-1/vpc-3/s3',
      region: 'us-east-1',
      vpcId: 'vpc-3',
      fixes: [],
      dependsOn: [],
      summary: 'create s3',
      service: 's3',
      serviceName: 'com.amazonaws.us-east-1.s3',
      routeTableIds: ['rtb-1', 'rtb-2'],
      clientToken: 'eer-fedcba9876543210',
      tags: MANAGED,
    };
    const actions = [dualstack, plain, gateway];
    const plan = { actions: actions.map((action) => ({ ...action, status: 'planned' })) } as unknown as Plan;
    await applyPlan(plan, () => ({ ec2 }) as unknown as AwsClients, { concurrency: 1 });
    expect(sent).toEqual([
      createEndpointInput('vpc-1', endpointRequestOf(dualstack, ['sg-1'])),
      createEndpointInput('vpc-2', endpointRequestOf(plain, ['sg-2'])),
      createEndpointInput('vpc-3', endpointRequestOf(gateway, [])),
    ]);
  });
});

async function setup(acct: Account) {
  const net = await createNetwork(acct, { cidr: '10.9.0.0/16', azs: ['a', 'b'] });
  const group = await createSecurityGroup(acct, {
    vpcId: net.vpcId,
    name: 'endpoints',
    ingress: [{ port: 443, cidr: '10.9.0.0/16' }],
  });
  const stack = await createStack(acct, 'enforce', { adopt: false });
  const store = createOwnershipStore(
    new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
    stack.tableName,
  );
  return { net, group, store };
}

describe('recording an already-satisfied create', () => {
  it('records the endpoint its ClientToken made (another run sent the same request first), nothing else', async () => {
    const acct = newAccount();
    const { net, group, store } = await setup(acct);
    const owned = new Set<string>();
    const logs: string[] = [];
    const recorder = createRecorder(
      store,
      acct.region,
      acct.ec2,
      owned,
      () => new Date(),
      (m) => logs.push(m),
    );

    // Ours: the same request (token included) reached AWS first from another run.
    const ours = interfaceAction(net.vpcId, {
      subnetIds: net.subnetIds,
      securityGroups: [{ groupId: group }],
    });
    await recorder.beforeCreate(ours, [group]);
    expect((await store.load(acct.region)).intents).toHaveLength(1);
    const made = await acct.ec2.send(
      new CreateVpcEndpointCommand(createEndpointInput(net.vpcId, endpointRequestOf(ours, [group]))),
    );
    const ourId = made.VpcEndpoint?.VpcEndpointId ?? '';
    await recorder.afterCreate(ours, 'already-satisfied', ourId);
    expect(owned.has(ourId)).toBe(true);
    expect((await store.load(acct.region)).owned.get(ourId)).toMatchObject({
      how: 'created',
      kind: 'vpc-endpoint',
    });

    // Not ours: someone created the service's endpoint (tagged as managed, private DNS on) meanwhile.
    const theirs = interfaceAction(net.vpcId, {
      id: 'CREATE_ENDPOINT/x/ecr.api',
      service: 'ecr.api',
      serviceName: 'com.amazonaws.us-east-1.ecr.api',
      clientToken: 'eer-aaaaaaaaaaaaaaaa',
      subnetIds: net.subnetIds,
      securityGroups: [{ groupId: group }],
    });
    await recorder.beforeCreate(theirs, [group]);
    const foreign = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'ecr.api',
      subnetIds: net.subnetIds,
      securityGroupIds: [group],
      tags: { 'ecs-endpoint-remediator/managed': 'true' },
    });
    await recorder.afterCreate(theirs, 'already-satisfied', foreign);
    expect(owned.has(foreign)).toBe(false);
    const records = await store.load(acct.region);
    expect([...records.owned.keys()]).toEqual([ourId]);
    expect(records.intents).toEqual([]);
    expect(logs).toContain('ownership: not made by this create');
  });

  it('an endpoint that existed before the create is not even an intent: found, not made', async () => {
    const acct = newAccount();
    const { net, group, store } = await setup(acct);
    const existing = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'logs',
      subnetIds: net.subnetIds,
      securityGroupIds: [group],
      tags: { 'ecs-endpoint-remediator/managed': 'true' },
    });
    const owned = new Set<string>();
    const recorder = createRecorder(
      store,
      acct.region,
      acct.ec2,
      owned,
      () => new Date(),
      () => undefined,
    );
    const action = interfaceAction(net.vpcId, {
      subnetIds: net.subnetIds,
      securityGroups: [{ groupId: group }],
    });
    await recorder.beforeCreate(action, [group]);
    expect((await store.load(acct.region)).intents).toEqual([]);
    await recorder.afterCreate(action, 'already-satisfied', existing);
    expect(owned.size).toBe(0);
  });
});

describe('resuming intents', () => {
  it('drops an intent whose create never went through, without creating anything', async () => {
    const acct = newAccount();
    const { net, group, store } = await setup(acct);
    const action = interfaceAction(net.vpcId, {
      subnetIds: net.subnetIds,
      securityGroups: [{ groupId: group }],
    });
    const recorder = createRecorder(
      store,
      acct.region,
      acct.ec2,
      new Set(),
      () => new Date(),
      () => undefined,
    );
    await recorder.beforeCreate(action, [group]); // … and the function died before CreateVpcEndpoint
    const { intents } = await store.load(acct.region);
    const result = await resumeIntents(
      acct.ec2,
      store,
      acct.region,
      intents,
      new Set(),
      new Date(),
      'enforce',
    );
    expect(result.recorded).toEqual([]);
    expect(result.dropped.map((d) => d.reason)).toEqual([
      'no unrecorded tagged endpoint of its service: its create did not go through',
    ]);
    const live = (
      await acct.ec2.send(
        new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }),
      )
    ).VpcEndpoints;
    expect(live).toEqual([]);
    expect((await store.load(acct.region)).intents).toEqual([]);
  });

  it('records the endpoint the replay answers with, not a look-alike tagged to borrow it', async () => {
    const acct = newAccount();
    const { net, group, store } = await setup(acct);
    const action = interfaceAction(net.vpcId, {
      subnetIds: net.subnetIds,
      securityGroups: [{ groupId: group }],
    });
    const recorder = createRecorder(
      store,
      acct.region,
      acct.ec2,
      new Set(),
      () => new Date(),
      () => undefined,
    );
    await recorder.beforeCreate(action, [group]);
    const ours = (
      await acct.ec2.send(
        new CreateVpcEndpointCommand(createEndpointInput(net.vpcId, endpointRequestOf(action, [group]))),
      )
    ).VpcEndpoint?.VpcEndpointId;
    // … the record is lost; meanwhile someone tags a second endpoint of the service as managed.
    const lookAlike = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'logs',
      privateDns: false,
      subnetIds: net.subnetIds,
      securityGroupIds: [group],
      tags: { 'ecs-endpoint-remediator/managed': 'true' },
    });
    const owned = new Set<string>();
    const { intents } = await store.load(acct.region);
    const result = await resumeIntents(acct.ec2, store, acct.region, intents, owned, new Date(), 'enforce');
    expect(result.recorded.map((r) => r.resourceId)).toEqual([ours]);
    expect(owned.has(lookAlike)).toBe(false);
    // Report mode may not create, so it does not replay: the intent waits.
    const recorder2 = createRecorder(
      store,
      acct.region,
      acct.ec2,
      new Set(),
      () => new Date(),
      () => undefined,
    );
    await recorder2.beforeCreate(
      {
        ...action,
        id: 'CREATE_ENDPOINT/x/kms',
        service: 'kms',
        serviceName: 'com.amazonaws.us-east-1.kms',
        clientToken: 'eer-bbbbbbbbbbbbbbbb',
      },
      [group],
    );
    const pending = (await store.load(acct.region)).intents;
    const waiting = await resumeIntents(acct.ec2, store, acct.region, pending, owned, new Date(), 'report');
    expect(waiting).toEqual({ recorded: [], dropped: [], kept: [] });
    expect((await store.load(acct.region)).intents).toHaveLength(1);
  });
});
