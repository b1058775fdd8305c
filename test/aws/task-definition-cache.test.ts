// The task definition cache of the deployed remediator (aws/task-definition-cache.ts) in a state table
// in moto: a second sweep describes no revision it read before and plans the same; what cannot be
// cached (a family without its revision) or read back (a damaged item) is described; a cache that
// fails only costs the calls it would have saved.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import type { Plan } from '../../core/plan.ts';
import { isRevisionArn } from '../../aws/discover/task-definitions.ts';
import type { TaskDefinitionCache } from '../../aws/discover/task-definitions.ts';
import { createClientPool, planAccount } from '../../aws/reconcile.ts';
import { createTaskDefinitionCache } from '../../aws/task-definition-cache.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createNetwork,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import { createStateTable } from '../harness/state-table.ts';

const TABLE = 'eer-test-state';

function dynamoDbOf(acct: Account): DynamoDBClient {
  return new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials });
}

async function accountWithWork(): Promise<{ acct: Account; taskDefinitions: string[] }> {
  const acct = newAccount();
  await createStateTable(dynamoDbOf(acct), TABLE);
  const network = await createNetwork(acct, { cidr: '10.7.0.0/16', name: 'private', azs: ['a', 'b'] });
  const cluster = await createCluster(acct, 'orders');
  for (const subnetId of network.subnetIds) await addContainerInstance(acct, { cluster, subnetId });
  const taskDefinitions: string[] = [];
  for (const family of ['api', 'worker', 'cron']) {
    const arn = await registerTaskDefinition(acct, {
      family,
      images: [`${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com/${family}:1`],
      logDriver: 'awslogs',
      secrets: [
        { name: 'TOKEN', valueFrom: `arn:aws:ssm:${acct.region}:${acct.accountId}:parameter/${family}` },
      ],
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    });
    taskDefinitions.push(arn);
    await createService(acct, { cluster, name: family, taskDefinition: arn, launchType: 'EC2' });
  }
  return { acct, taskDefinitions };
}

async function plan(acct: Account, cache?: TaskDefinitionCache): Promise<{ plan: Plan; described: number }> {
  const pool = createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
  const result = await planAccount({
    regions: [acct.region],
    config: parseConfig({}),
    pool,
    now: new Date('2026-11-30T00:00:00Z'),
    ...(cache ? { taskDefinitionCache: () => cache } : {}),
  });
  return { plan: result, described: pool.apiCalls().byOperation['ecs:DescribeTaskDefinition'] ?? 0 };
}

/** What a plan says, without the run's own counters. */
const findingsOf = (p: Plan) => p.findings.map((f) => [f.id, f.status, f.severity]);

describe('the task definition cache', () => {
  it('a second sweep describes none of the revisions the first read, and plans the same', async () => {
    const { acct, taskDefinitions } = await accountWithWork();
    const cache = createTaskDefinitionCache(dynamoDbOf(acct), TABLE);
    const uncached = await plan(acct);
    const first = await plan(acct, cache);
    const second = await plan(acct, cache);
    expect(uncached.described).toBe(3);
    expect(first.described).toBe(3);
    expect(second.described).toBe(0);
    // The private ECR images, the awslogs driver and the SSM secrets all add needs: a plan with findings.
    expect(findingsOf(uncached.plan).length).toBeGreaterThan(3);
    expect(findingsOf(second.plan)).toEqual(findingsOf(uncached.plan));
    expect(second.plan.actions).toEqual(uncached.plan.actions);
    // What the cache holds is what discovery read: images, log driver, secret references.
    const held = await cache.get(taskDefinitions);
    expect([...held.keys()].sort()).toEqual([...taskDefinitions].sort());
    expect(held.get(taskDefinitions[0] ?? '')?.containers[0]).toMatchObject({
      image: `${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com/api:1`,
      logDriver: 'awslogs',
      secretRefs: [`arn:aws:ssm:${acct.region}:${acct.accountId}:parameter/api`],
    });
  });

  it('a damaged item is a miss: described again and rewritten', async () => {
    const { acct, taskDefinitions } = await accountWithWork();
    const cache = createTaskDefinitionCache(dynamoDbOf(acct), TABLE);
    await plan(acct, cache);
    const damaged = taskDefinitions[1] ?? '';
    await dynamoDbOf(acct).send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: `TASKDEF#${damaged}` }, sk: { S: 'TASKDEF' }, record: { S: '{"containers":"x"}' } },
      }),
    );
    expect((await plan(acct, cache)).described).toBe(1);
    expect((await cache.get([damaged])).has(damaged)).toBe(true);
  });

  it('a cache that cannot be read or written costs only the calls: the plan is the same', async () => {
    const { acct } = await accountWithWork();
    const missing = createTaskDefinitionCache(dynamoDbOf(acct), 'no-such-table');
    const uncached = await plan(acct);
    const failing = await plan(acct, missing);
    expect(failing.described).toBe(3);
    expect(findingsOf(failing.plan)).toEqual(findingsOf(uncached.plan));
  });

  it('caches revisions only: a family alone names whatever revision is latest', () => {
    expect(isRevisionArn('arn:aws:ecs:us-east-1:123456789012:task-definition/api:12')).toBe(true);
    expect(isRevisionArn('arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/api:1')).toBe(true);
    expect(isRevisionArn('arn:aws:ecs:us-east-1:123456789012:task-definition/api')).toBe(false);
    expect(isRevisionArn('api:3')).toBe(false);
    expect(isRevisionArn('arn:aws:ecs:us-east-1:123456789012:task-definition/api:0')).toBe(false);
  });
});
