/**
 * The EC2 instances behind container instances: where each runs and whether it is live.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Filter, Instance } from '@aws-sdk/client-ec2';
import type { ContainerInstance, Ec2Instance } from '../../core/model.ts';
import { chunk, collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { DiscoveryError, REQUEST_CONCURRENCY } from './context.ts';

/** DescribeInstances takes up to 1000 InstanceIds (and no MaxResults alongside them). */
const INSTANCE_IDS_MAX = 1000;

/** Instance states whose agent no longer talks to ECS. */
const NOT_LIVE_STATES = ['stopping', 'stopped', 'shutting-down', 'terminated'];

/** The attributes the ECS agent registers with the host's place (documented standard attributes). */
const PLACE_ATTRIBUTES = ['ecs.vpc-id', 'ecs.subnet-id', 'ecs.availability-zone'] as const;

/**
 * The EC2 instances behind container instances, by id, up to 1000 ids a call. An id that no longer
 * exists fails the whole call (`InvalidInstanceID.NotFound` naming the ids): those ids are dropped and
 * the call repeated. Ids that are not EC2 instances (`mi-…` of ECS Anywhere) are skipped.
 */
export async function describeInstances(
  ctx: DiscoveryContext,
  instanceIds: readonly string[],
): Promise<Ec2Instance[]> {
  const { instances } = await describeInChunks(ctx, instanceIds);
  ctx.progress(`ec2: ${instances.length} instances behind container instances`);
  return instances;
}

/**
 * The hosts of container instances without their security groups, which only the check
 * ENDPOINT_SG_NO_HTTPS needs: their VPC, subnet and AZ from the attributes the agent registers
 * (`ecs.vpc-id`, `ecs.subnet-id`, `ecs.availability-zone`), and from EC2 only the hosts that are not
 * live (DescribeInstances filtered by state). The calls are the same as {@link describeInstances},
 * but a response holds the few stopped hosts instead of every host's full description (about 5 KB of
 * XML each, all parsed in the Lambda). Hosts without those attributes are described in full.
 */
export async function describeHostPlaces(
  ctx: DiscoveryContext,
  containerInstances: readonly ContainerInstance[],
): Promise<Ec2Instance[]> {
  const placed = new Map<string, Ec2Instance>();
  const unplaced: string[] = [];
  for (const ci of containerInstances) {
    const [vpcId, subnetId, availabilityZone] = PLACE_ATTRIBUTES.map((name) => ci.attributes[name]);
    // Only EC2 hosts: `mi-…` of ECS Anywhere are skipped, as describeInstances skips them.
    if (!ci.ec2InstanceId.startsWith('i-')) continue;
    if (vpcId && subnetId && availabilityZone) {
      // Live unless the state-filtered read below says otherwise (pending and running alike).
      placed.set(ci.ec2InstanceId, {
        instanceId: ci.ec2InstanceId,
        vpcId,
        subnetId,
        availabilityZone,
        securityGroupIds: [],
        state: 'running',
      });
    } else {
      unplaced.push(ci.ec2InstanceId);
    }
  }
  const [notLive, described] = await Promise.all([
    describeInChunks(ctx, [...placed.keys()], [{ Name: 'instance-state-name', Values: NOT_LIVE_STATES }]),
    describeInstances(ctx, unplaced),
  ]);
  for (const id of notLive.gone) placed.delete(id);
  for (const instance of notLive.instances) placed.set(instance.instanceId, instance);
  const instances = [...placed.values(), ...described];
  ctx.progress(
    `ec2: ${instances.length} hosts placed (${notLive.instances.length} not live), ${unplaced.length} without place attributes`,
  );
  return instances;
}

interface ChunkedRead {
  readonly instances: Ec2Instance[];
  /** Ids EC2 reported as not found (gone since ECS listed them). */
  readonly gone: string[];
}

async function describeInChunks(
  ctx: DiscoveryContext,
  instanceIds: readonly string[],
  filters?: Filter[],
): Promise<ChunkedRead> {
  const ids = distinct(instanceIds).filter((id) => id.startsWith('i-'));
  const perChunk = await mapConcurrent(chunk(ids, INSTANCE_IDS_MAX), REQUEST_CONCURRENCY, (chunkIds) =>
    describeInstanceChunk(ctx, chunkIds, filters),
  );
  return {
    instances: perChunk.flatMap((read) => read.instances),
    gone: perChunk.flatMap((read) => read.gone),
  };
}

async function describeInstanceChunk(
  ctx: DiscoveryContext,
  ids: readonly string[],
  filters: Filter[] | undefined,
): Promise<ChunkedRead> {
  const { ec2 } = ctx.clients;
  let remaining = [...ids];
  const gone: string[] = [];
  for (;;) {
    if (remaining.length === 0) return { instances: [], gone };
    const request = remaining;
    try {
      const instances = await collectPages(async (NextToken) => {
        const page = await ctx.call('ec2:DescribeInstances', () =>
          ec2.send(new DescribeInstancesCommand({ InstanceIds: request, Filters: filters, NextToken })),
        );
        return {
          items: (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []),
          nextToken: page.NextToken,
        };
      });
      return { instances: instances.flatMap(toEc2Instance), gone };
    } catch (error) {
      if (!(error instanceof DiscoveryError) || error.code !== 'InvalidInstanceID.NotFound') throw error;
      const missing = new Set(
        String((error.cause as Error | undefined)?.message).match(/\bi-[0-9a-f]+\b/g) ?? [],
      );
      const next = remaining.filter((id) => !missing.has(id));
      if (next.length === remaining.length) throw error;
      ctx.progress(`ec2: instances gone: ${[...missing].join(', ')}`);
      gone.push(...remaining.filter((id) => missing.has(id)));
      remaining = next;
    }
  }
}

function toEc2Instance(instance: Instance): Ec2Instance[] {
  if (!instance.InstanceId || !instance.VpcId || !instance.SubnetId) return [];
  return [
    {
      instanceId: instance.InstanceId,
      vpcId: instance.VpcId,
      subnetId: instance.SubnetId,
      availabilityZone: instance.Placement?.AvailabilityZone ?? '',
      securityGroupIds: (instance.SecurityGroups ?? [])
        .map((group) => group.GroupId)
        .filter((id) => id !== undefined),
      state: instance.State?.Name ?? 'unknown',
      ...(instance.IamInstanceProfile?.Arn ? { instanceProfileArn: instance.IamInstanceProfile.Arn } : {}),
    },
  ];
}
