// The reclaim step's look for ECS work it did not read (aws/discover/unseen-work.ts), against moto:
// an awsvpc task's network interface that is no task it read, and a container instance of a cluster
// it did not read, in the VPCs it would delete in; work elsewhere, or work it read, is no such work.
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { createClients } from '../../aws/clients.ts';
import { createContext } from '../../aws/discover/context.ts';
import { unseenEcsWork } from '../../aws/discover/unseen-work.ts';
import { newAccount } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createNetwork,
  registerTaskDefinition,
  runStandaloneTask,
} from '../harness/seed.ts';

describe('unseen ECS work in the VPCs of a reclaim', () => {
  it('finds a task interface no task read explains, and a container instance of a cluster not read; nothing else', async () => {
    const acct = newAccount();
    const ctx = createContext(
      createClients(acct.region, { endpoint: acct.endpoint, credentials: acct.credentials }),
      acct.region,
    );
    const hub = await createNetwork(acct, { cidr: '10.1.0.0/16', name: 'hub', azs: ['a'] });
    const elsewhere = await createNetwork(acct, { cidr: '10.2.0.0/16', name: 'elsewhere', azs: ['a'] });
    const read = await createCluster(acct, 'read');
    const other = await createCluster(acct, 'other');
    // Work elsewhere, of a cluster the step did not read: not in the hub.
    await addContainerInstance(acct, { cluster: other, subnetId: elsewhere.subnetIds[0] ?? '' });
    expect(await unseenEcsWork(ctx, [hub.vpcId], [read], new Set())).toBeUndefined();

    // A Fargate task in the hub: its interface is unseen until the step has read its task.
    const fargate = await registerTaskDefinition(acct, {
      family: 'job',
      images: ['public.ecr.aws/nginx/nginx:1'],
      networkMode: 'awsvpc',
      compatibilities: ['FARGATE'],
    });
    const [taskArn] = await runStandaloneTask(acct, {
      cluster: read,
      taskDefinition: fargate,
      subnets: hub.subnetIds,
    });
    const task = (await acct.ecs.send(new DescribeTasksCommand({ cluster: read, tasks: [taskArn ?? ''] })))
      .tasks?.[0];
    const eni = task?.attachments?.[0]?.details?.find((d) => d.name === 'networkInterfaceId')?.value ?? '';
    expect(eni).toMatch(/^eni-/);
    expect(await unseenEcsWork(ctx, [hub.vpcId], [read], new Set())).toContain(`${eni} in ${hub.vpcId}`);
    expect(await unseenEcsWork(ctx, [hub.vpcId], [read], new Set([eni]))).toBeUndefined();

    // A host of the other cluster registers in the hub.
    await addContainerInstance(acct, { cluster: other, subnetId: hub.subnetIds[0] ?? '' });
    expect(await unseenEcsWork(ctx, [hub.vpcId], [read], new Set([eni]))).toContain(
      `${other}, a cluster this step did not read`,
    );
    // Read, that cluster's work is the step's own.
    expect(await unseenEcsWork(ctx, [hub.vpcId], [read, other], new Set([eni]))).toBeUndefined();
  });
});
