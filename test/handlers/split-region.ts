// A Region larger than one work unit, seeded in moto, and the poller that sweeps it through the stack's
// events queue: shared by the split-sweep tests (work-units.test.ts, work-units-reclaim.test.ts).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { parseConfig } from '../../core/config.ts';
import type { BatchSummary } from '../../aws/event-batch.ts';
import { clustersByVpc } from '../../aws/discover/cluster-index.ts';
import { createClientPool, discoverAndPlanAccount } from '../../aws/reconcile.ts';
import { createStateStore } from '../../aws/state.ts';
import type { Account } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createNetwork,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import type { Stack } from './stack.ts';
import { depsFor, pollOnce, sampleText, withEventId } from './stack.ts';

/**
 * Units small enough that five VPCs and six clusters split: 2 shards of 3 clusters, 3 plan units
 * (VPCs 1–2, 3–4 and 5), each step one VPC.
 */
export const UNITS = { clustersPerShard: 3, vpcsPerUnit: 2, vpcsPerStep: 1 };

/**
 * Five private VPCs, each with a cluster of its own (one EC2 host, a service logging to CloudWatch),
 * and one cluster with hosts in the first and the last VPC: a VPC's needs come from two clusters that
 * land in different shards.
 */
export async function largeRegion(acct: Account): Promise<string[]> {
  return (await largeRegionWith(acct)).vpcIds;
}

/** {@link largeRegion}, with each VPC's subnet, own cluster and container instance (VPC 1 first). */
export async function largeRegionWith(acct: Account): Promise<{
  vpcIds: string[];
  own: Array<{ vpcId: string; subnetId: string; cluster: string; containerInstanceArn: string }>;
}> {
  const taskDefinition = await registerTaskDefinition(acct, {
    family: 'api',
    images: ['public.ecr.aws/nginx/nginx:1'],
    logDriver: 'awslogs',
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  const vpcs: Array<{ vpcId: string; subnetId: string }> = [];
  const own: Array<{ vpcId: string; subnetId: string; cluster: string; containerInstanceArn: string }> = [];
  for (let n = 1; n <= 5; n += 1) {
    const network = await createNetwork(acct, { cidr: `10.${n}.0.0/16`, azs: ['a'] });
    const subnetId = network.subnetIds[0] ?? '';
    vpcs.push({ vpcId: network.vpcId, subnetId });
    const cluster = await createCluster(acct, `team-${n}`);
    const host = await addContainerInstance(acct, { cluster, subnetId });
    own.push({ vpcId: network.vpcId, subnetId, cluster, containerInstanceArn: host.containerInstanceArn });
    await createService(acct, { cluster, name: 'api', taskDefinition, launchType: 'EC2' });
  }
  const shared = await createCluster(acct, 'shared');
  for (const vpc of [vpcs[0], vpcs[4]])
    await addContainerInstance(acct, { cluster: shared, subnetId: vpc?.subnetId ?? '' });
  await createService(acct, { cluster: shared, name: 'batch', taskDefinition, launchType: 'EC2' });
  return { vpcIds: vpcs.map((vpc) => vpc.vpcId).sort(), own };
}

export async function sendSweep(stack: Stack, id: string): Promise<void> {
  await stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.eventsQueueUrl,
      MessageBody: withEventId(sampleText('scheduled-sweep'), id),
    }),
  );
}

/** Polls the events queue as Lambda would until it is empty; every batch's summary. */
export async function pollUntilEmpty(
  acct: Account,
  stack: Stack,
  deps: ReturnType<typeof depsFor>,
): Promise<BatchSummary[]> {
  const summaries: BatchSummary[] = [];
  for (let n = 0; n < 40; n += 1) {
    const summary = await pollOnce(acct, stack, deps);
    if (summary === undefined) return summaries;
    summaries.push(summary);
  }
  throw new Error('the events queue did not empty in 40 polls');
}

/** The open findings the stack remembers for the Region: `<vpcId>#<findingId>`, sorted. */
export async function remembered(acct: Account, stack: Stack): Promise<string[]> {
  const state = createStateStore(
    new DynamoDBClient({ endpoint: acct.endpoint, region: acct.region, credentials: acct.credentials }),
    stack.tableName,
  );
  return (await state.loadOpenFindings({ region: acct.region })).map((f) => `${f.vpcId}#${f.id}`).sort();
}

/** What one uninterrupted whole-Region plan finds (the CLI's engine), in the same form. */
export async function wholePlan(acct: Account, config: object) {
  const pool = createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
  const { plan, snapshots } = await discoverAndPlanAccount({
    regions: [acct.region],
    config: parseConfig(config),
    pool,
  });
  return {
    findings: plan.findings.map((f) => `${f.vpcId}#${f.id}`).sort(),
    index: snapshots[0] ? clustersByVpc(snapshots[0]) : {},
  };
}
