/**
 * The security groups of the network interfaces that make a workload's calls, where ECS does not say:
 * a standalone task's ENI (DescribeTasks names it, not its groups), and awsvpc configurations without
 * groups, whose tasks get the VPC's default group.
 */
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import type { AwsvpcNetwork, EcsService, EcsTask, Subnet } from '../../core/model.ts';
import { distinct } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { EC2_PAGE_MAX, describeByFilter } from './ec2-query.ts';
import { describeGroups } from './endpoints.ts';

/**
 * Tasks with the groups of their ENI, read for the tasks in `examined` (those whose needs land in a
 * VPC in scope). An ENI gone meanwhile (the task stopped) leaves the task's groups unknown; a refused
 * read (access denied) is recorded as skipped and leaves them unknown too.
 */
export async function withInterfaceGroups(
  ctx: DiscoveryContext,
  tasks: readonly EcsTask[],
  examined: ReadonlySet<string>,
): Promise<EcsTask[]> {
  const ids = distinct(
    tasks.filter((task) => examined.has(task.taskArn)).flatMap((task) => task.networkInterfaceId ?? []),
  );
  if (ids.length === 0) return [...tasks];
  const operation = 'ec2:DescribeNetworkInterfaces';
  const interfaces = await ctx.optional(
    operation,
    undefined,
    () =>
      describeByFilter(ctx, operation, 'network-interface-id', ids, [], async (Filters, NextToken) => {
        const page = await ctx.clients.ec2.send(
          new DescribeNetworkInterfacesCommand({ Filters, MaxResults: EC2_PAGE_MAX, NextToken }),
        );
        return {
          items: (page.NetworkInterfaces ?? []).flatMap((eni) =>
            eni.NetworkInterfaceId
              ? [
                  [
                    eni.NetworkInterfaceId,
                    (eni.Groups ?? []).flatMap((group) => group.GroupId ?? []),
                  ] as const,
                ]
              : [],
          ),
          nextToken: page.NextToken,
        };
      }),
    [],
  );
  const groups = new Map(interfaces);
  ctx.progress(`ec2: groups of ${groups.size} of ${ids.length} task network interfaces`);
  return tasks.map((task) => {
    const found = task.networkInterfaceId === undefined ? undefined : groups.get(task.networkInterfaceId);
    return found === undefined ? task : { ...task, securityGroupIds: found };
  });
}

/**
 * Services whose awsvpc configurations name no group, with the default group of their subnets' VPC:
 * ECS gives such tasks the VPC's default security group. One read for all those VPCs, none when
 * every configuration names its groups.
 */
export async function withDefaultGroups(
  ctx: DiscoveryContext,
  services: readonly EcsService[],
  subnets: readonly Subnet[],
  examined: ReadonlySet<string>,
): Promise<EcsService[]> {
  const vpcOf = new Map(subnets.map((subnet) => [subnet.subnetId, subnet.vpcId]));
  const bare = (network: AwsvpcNetwork): boolean => network.securityGroupIds.length === 0;
  const vpcIds = distinct(
    services
      .filter((service) => examined.has(service.serviceArn))
      .flatMap((service) =>
        service.networks
          .filter(bare)
          .flatMap((network) => network.subnetIds.flatMap((id) => vpcOf.get(id) ?? [])),
      ),
  );
  if (vpcIds.length === 0) return [...services];
  const defaults = await describeGroups(ctx, 'vpc-id', vpcIds, [{ Name: 'group-name', Values: ['default'] }]);
  const defaultOf = new Map(defaults.map((group) => [group.vpcId, group.groupId]));
  return services.map((service) => ({
    ...service,
    networks: service.networks.map((network) => {
      if (!bare(network)) return network;
      const groupIds = distinct(network.subnetIds.flatMap((id) => defaultOf.get(vpcOf.get(id) ?? '') ?? []));
      return { ...network, securityGroupIds: groupIds };
    }),
  }));
}
