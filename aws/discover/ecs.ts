/**
 * ECS discovery: clusters, their container instances, services and standalone tasks. Every list is
 * paged at its maximum page size and every describe is batched at its limit.
 */
import {
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import type {
  AwsVpcConfiguration,
  CapacityProviderStrategyItem,
  ContainerInstance as SdkContainerInstance,
  Failure,
  Service,
  Task,
} from '@aws-sdk/client-ecs';
import type { AwsvpcNetwork, ContainerInstance, EcsCluster, EcsService, EcsTask } from '../../core/model.ts';
import { chunk, collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { CLUSTER_CONCURRENCY, DiscoveryError } from './context.ts';

/** ListClusters, ListContainerInstances, ListServices, ListTasks: at most 100 per page. */
const LIST_PAGE_SIZE = 100;
/** DescribeContainerInstances and DescribeTasks: up to 100 ids per call. */
const DESCRIBE_BATCH = 100;
/** DescribeServices: up to 10 services per call. */
const DESCRIBE_SERVICES_BATCH = 10;

export interface EcsWork {
  readonly clusterArns: readonly string[];
  readonly containerInstances: readonly ContainerInstance[];
  readonly services: readonly EcsService[];
  /** Running tasks started outside any service. */
  readonly tasks: readonly EcsTask[];
}

/**
 * A cluster hint for an event-scoped discovery: which clusters can have work in the selected VPCs (the
 * index of the previous sweep plus the clusters the events name), so that nothing else is read.
 */
export interface EcsScope {
  /** Read only these clusters (full ARNs), without ListClusters; one that no longer exists is skipped. */
  readonly clusterArns: readonly string[];
  /**
   * The selected VPCs: only their container instances are listed (`attribute:ecs.vpc-id in [...]`,
   * the VPC ECS records on every EC2 container instance), so only those are described, in ECS and EC2.
   * Absent: every container instance of the clusters (an index shard of a split sweep, core/units.ts).
   */
  readonly vpcIds?: readonly string[];
}

/** VPC ids per `filter` expression: ~25 characters each keeps an expression well under 1,000. */
const VPC_FILTER_VALUES = 20;

/**
 * Every cluster of the Region with its container instances, services and standalone tasks; or, with a
 * {@link EcsScope}, the hinted clusters only, and of their container instances those in the VPCs.
 * `listed`: without a scope, the Region's clusters as {@link listClusterArns} listed them moments
 * before (a split decided against), not listed again.
 */
export async function discoverEcsWork(
  ctx: DiscoveryContext,
  scope?: EcsScope,
  listed?: readonly string[],
): Promise<EcsWork> {
  const clusterArns = scope
    ? distinct(scope.clusterArns).sort()
    : listed
      ? [...listed]
      : await listClusterArns(ctx);
  ctx.progress(
    scope
      ? `ecs: ${clusterArns.length} clusters hinted${scope.vpcIds ? ` for ${scope.vpcIds.length} VPCs` : ''}`
      : `ecs: ${clusterArns.length} clusters`,
  );
  const perCluster = await mapConcurrent(clusterArns, CLUSTER_CONCURRENCY, (clusterArn) =>
    scope ? discoverHintedCluster(ctx, clusterArn, scope.vpcIds) : discoverCluster(ctx, clusterArn),
  );
  const work: EcsWork = {
    clusterArns,
    containerInstances: perCluster.flatMap((cluster) => cluster.containerInstances),
    services: perCluster.flatMap((cluster) => cluster.services),
    tasks: perCluster.flatMap((cluster) => cluster.tasks),
  };
  ctx.progress(
    `ecs: ${work.containerInstances.length} container instances, ${work.services.length} services, ` +
      `${work.tasks.length} standalone tasks`,
  );
  return work;
}

/** Every cluster of the Region (ListClusters, paged at its maximum). */
export function listClusterArns(ctx: DiscoveryContext): Promise<string[]> {
  return collectPages(async (nextToken) => {
    const page = await ctx.call('ecs:ListClusters', () =>
      ctx.clients.ecs.send(new ListClustersCommand({ maxResults: LIST_PAGE_SIZE, nextToken })),
    );
    return { items: page.clusterArns, nextToken: page.nextToken };
  });
}

async function discoverCluster(
  ctx: DiscoveryContext,
  clusterArn: string,
  containerInstanceFilters: ReadonlyArray<string | undefined> = [undefined],
): Promise<Omit<EcsWork, 'clusterArns'>> {
  const [containerInstances, services, tasks] = await Promise.all([
    Promise.all(containerInstanceFilters.map((filter) => containerInstancesOf(ctx, clusterArn, filter))),
    servicesOf(ctx, clusterArn),
    standaloneTasksOf(ctx, clusterArn),
  ]);
  return { containerInstances: containerInstances.flat(), services, tasks };
}

/**
 * A hinted cluster: its container instances in `vpcIds` only, all its services and standalone tasks
 * (their subnets are visible only by describing them). A cluster deleted since the hint was made
 * (`ClusterNotFoundException`) has no work: the hint is a stale index entry or an event's old news.
 */
async function discoverHintedCluster(
  ctx: DiscoveryContext,
  clusterArn: string,
  vpcIds: readonly string[] | undefined,
): Promise<Omit<EcsWork, 'clusterArns'>> {
  const filters =
    vpcIds === undefined
      ? [undefined]
      : chunk(distinct(vpcIds).sort(), VPC_FILTER_VALUES).map(
          (ids) => `attribute:ecs.vpc-id in [${ids.join(', ')}]`,
        );
  try {
    return await discoverCluster(ctx, clusterArn, filters);
  } catch (error) {
    if (!(error instanceof DiscoveryError) || error.code !== 'ClusterNotFoundException') throw error;
    ctx.progress(`ecs: hinted cluster ${clusterArn} no longer exists`);
    return { containerInstances: [], services: [], tasks: [] };
  }
}

/** Failures other than `MISSING` (a resource gone between list and describe) fail discovery. */
function checkFailures(
  ctx: DiscoveryContext,
  operation: string,
  failures: readonly Failure[] | undefined,
): void {
  const real = (failures ?? []).filter((failure) => failure.reason !== 'MISSING');
  if (real.length === 0) return;
  const detail = real.map(
    (failure) =>
      `${failure.arn ?? '?'}: ${failure.reason ?? '?'}${failure.detail ? ` (${failure.detail})` : ''}`,
  );
  throw new DiscoveryError(ctx.region, operation, new Error(detail.join('; ')));
}

async function containerInstancesOf(
  ctx: DiscoveryContext,
  cluster: string,
  filter?: string,
): Promise<ContainerInstance[]> {
  const { ecs } = ctx.clients;
  const arns = await collectPages(async (nextToken) => {
    const page = await ctx.call('ecs:ListContainerInstances', () =>
      ecs.send(
        new ListContainerInstancesCommand({
          cluster,
          maxResults: LIST_PAGE_SIZE,
          nextToken,
          ...(filter === undefined ? {} : { filter }),
        }),
      ),
    );
    return { items: page.containerInstanceArns, nextToken: page.nextToken };
  });
  const found: ContainerInstance[] = [];
  for (const ids of chunk(arns, DESCRIBE_BATCH)) {
    const operation = 'ecs:DescribeContainerInstances';
    const out = await ctx.call(operation, () =>
      ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: ids })),
    );
    checkFailures(ctx, operation, out.failures);
    for (const instance of out.containerInstances ?? []) {
      const mapped = toContainerInstance(cluster, instance);
      if (mapped) found.push(mapped);
    }
  }
  return found;
}

function toContainerInstance(
  clusterArn: string,
  instance: SdkContainerInstance,
): ContainerInstance | undefined {
  if (!instance.containerInstanceArn || !instance.ec2InstanceId) return undefined; // external (ECS Anywhere) instances
  const attributes: Record<string, string> = {};
  for (const attribute of instance.attributes ?? []) {
    if (attribute.name && attribute.value !== undefined) attributes[attribute.name] = attribute.value;
  }
  const agentVersion = instance.versionInfo?.agentVersion;
  return {
    clusterArn,
    containerInstanceArn: instance.containerInstanceArn,
    ec2InstanceId: instance.ec2InstanceId,
    ...(agentVersion ? { agentVersion } : {}),
    agentConnected: instance.agentConnected ?? false,
    status: instance.status ?? 'UNKNOWN',
    ...(instance.registeredAt ? { registeredAt: instance.registeredAt.toISOString() } : {}),
    attributes,
  };
}

async function servicesOf(ctx: DiscoveryContext, cluster: string): Promise<EcsService[]> {
  const { ecs } = ctx.clients;
  const arns = await collectPages(async (nextToken) => {
    const page = await ctx.call('ecs:ListServices', () =>
      ecs.send(new ListServicesCommand({ cluster, maxResults: LIST_PAGE_SIZE, nextToken })),
    );
    return { items: page.serviceArns, nextToken: page.nextToken };
  });
  const found: EcsService[] = [];
  for (const ids of chunk(arns, DESCRIBE_SERVICES_BATCH)) {
    const operation = 'ecs:DescribeServices';
    const out = await ctx.call(operation, () =>
      ecs.send(new DescribeServicesCommand({ cluster, services: ids })),
    );
    checkFailures(ctx, operation, out.failures);
    for (const service of out.services ?? []) {
      if (service.status === 'INACTIVE') continue;
      const mapped = toService(cluster, service);
      if (mapped) found.push(mapped);
    }
  }
  return found;
}

/**
 * A service with what its running and in-progress deployments use: the service-level fields describe
 * the primary deployment; deployments (rolling updates) and task sets (blue/green, external
 * controllers) still running may use other task definitions, subnets or capacity providers.
 */
function toService(clusterArn: string, service: Service): EcsService | undefined {
  if (!service.serviceArn || !service.serviceName) return undefined;
  const deployments = (service.deployments ?? []).filter((deployment) => deployment.status !== 'INACTIVE');
  const taskSets = (service.taskSets ?? []).filter((taskSet) => taskSet.status !== 'INACTIVE');
  const parts = [service, ...deployments, ...taskSets];
  const awsvpc = parts
    .map((part) => part.networkConfiguration?.awsvpcConfiguration)
    .filter((config): config is AwsVpcConfiguration => config !== undefined);
  const strategies: CapacityProviderStrategyItem[] = parts.flatMap(
    (part) => part.capacityProviderStrategy ?? [],
  );
  const taskDefinitionArns = distinct(
    [
      service.taskDefinition,
      ...deployments.map((d) => d.taskDefinition),
      ...taskSets.map((t) => t.taskDefinition),
    ].filter(isText),
  );
  return {
    clusterArn,
    serviceArn: service.serviceArn,
    serviceName: service.serviceName,
    ...(service.launchType ? { launchType: service.launchType } : {}),
    capacityProviders: distinct(strategies.map((item) => item.capacityProvider).filter(isText)),
    subnetIds: distinct(awsvpc.flatMap((config) => config.subnets ?? [])),
    networks: distinctNetworks(awsvpc),
    taskDefinitionArns,
    serviceConnect: deployments.some(
      (deployment) => deployment.serviceConnectConfiguration?.enabled === true,
    ),
    ...(service.desiredCount === undefined ? {} : { desiredCount: service.desiredCount }),
    ...(service.runningCount === undefined ? {} : { runningCount: service.runningCount }),
    ...(service.enableExecuteCommand === true ? { enableExecuteCommand: true } : {}),
  };
}

/** Each distinct awsvpc configuration (subnets and groups, sorted) of a service's running parts. */
function distinctNetworks(configs: readonly AwsVpcConfiguration[]): AwsvpcNetwork[] {
  const byKey = new Map<string, AwsvpcNetwork>();
  for (const config of configs) {
    const network = {
      subnetIds: distinct(config.subnets ?? []).sort(),
      securityGroupIds: distinct(config.securityGroups ?? []).sort(),
    };
    if (network.subnetIds.length === 0) continue;
    byKey.set(`${network.subnetIds.join(',')}|${network.securityGroupIds.join(',')}`, network);
  }
  return [...byKey.values()];
}

async function standaloneTasksOf(ctx: DiscoveryContext, cluster: string): Promise<EcsTask[]> {
  const { ecs } = ctx.clients;
  const arns = await collectPages(async (nextToken) => {
    const page = await ctx.call('ecs:ListTasks', () =>
      ecs.send(
        new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: LIST_PAGE_SIZE, nextToken }),
      ),
    );
    return { items: page.taskArns, nextToken: page.nextToken };
  });
  const found: EcsTask[] = [];
  for (const ids of chunk(arns, DESCRIBE_BATCH)) {
    const operation = 'ecs:DescribeTasks';
    const out = await ctx.call(operation, () => ecs.send(new DescribeTasksCommand({ cluster, tasks: ids })));
    checkFailures(ctx, operation, out.failures);
    for (const task of out.tasks ?? []) {
      // Tasks of a service are covered by the service (its task definitions and subnets).
      if (task.group?.startsWith('service:')) continue;
      const mapped = toTask(cluster, task);
      if (mapped) found.push(mapped);
    }
  }
  return found;
}

function toTask(clusterArn: string, task: Task): EcsTask | undefined {
  if (!task.taskArn || !task.taskDefinitionArn) return undefined;
  const details = (task.attachments ?? [])
    .filter((attachment) => attachment.type === 'ElasticNetworkInterface')
    .flatMap((attachment) => attachment.details ?? []);
  const detail = (name: string): string[] =>
    details
      .filter((entry) => entry.name === name)
      .map((entry) => entry.value)
      .filter(isText);
  const subnetIds = detail('subnetId');
  // DescribeTasks names the task's ENI, not its groups: discovery reads those from EC2.
  const networkInterfaceId = detail('networkInterfaceId')[0];
  return {
    clusterArn,
    taskArn: task.taskArn,
    ...(task.launchType ? { launchType: task.launchType } : {}),
    ...(task.capacityProviderName ? { capacityProviderName: task.capacityProviderName } : {}),
    taskDefinitionArn: task.taskDefinitionArn,
    subnetIds: distinct(subnetIds),
    ...(networkInterfaceId ? { networkInterfaceId } : {}),
    ...(task.containerInstanceArn ? { containerInstanceArn: task.containerInstanceArn } : {}),
    ...(task.enableExecuteCommand === true ? { enableExecuteCommand: true } : {}),
  };
}

/** DescribeClusters takes up to 100 clusters a call. */
const DESCRIBE_CLUSTERS_BATCH = 100;

/**
 * The ECS Exec settings (`configuration.executeCommandConfiguration`, returned only with
 * `include: CONFIGURATIONS`) of the clusters whose work has ECS Exec on: where session output goes
 * and which key encrypts it decide further endpoints. Refused, the read is skipped: Exec's own need
 * (ssmmessages) stands, the session logging is assumed DEFAULT.
 */
export async function describeExecClusters(
  ctx: DiscoveryContext,
  work: { readonly services: readonly EcsService[]; readonly tasks: readonly EcsTask[] },
): Promise<EcsCluster[]> {
  const arns = distinct(
    [...work.services, ...work.tasks]
      .filter((item) => item.enableExecuteCommand === true)
      .map((item) => item.clusterArn),
  ).sort();
  if (arns.length === 0) return [];
  const operation = 'ecs:DescribeClusters';
  const clusters = await ctx.optional(
    operation,
    undefined,
    async () => {
      const found: EcsCluster[] = [];
      for (const clusters of chunk(arns, DESCRIBE_CLUSTERS_BATCH)) {
        const out = await ctx.call(operation, () =>
          ctx.clients.ecs.send(new DescribeClustersCommand({ clusters, include: ['CONFIGURATIONS'] })),
        );
        for (const cluster of out.clusters ?? []) {
          const exec = cluster.configuration?.executeCommandConfiguration;
          if (!cluster.clusterArn) continue;
          const log = exec?.logConfiguration;
          found.push({
            clusterArn: cluster.clusterArn,
            ...(exec
              ? {
                  executeCommand: {
                    ...(exec.logging ? { logging: exec.logging } : {}),
                    ...(log?.cloudWatchLogGroupName
                      ? { cloudWatchLogGroupName: log.cloudWatchLogGroupName }
                      : {}),
                    ...(log?.s3BucketName ? { s3BucketName: log.s3BucketName } : {}),
                    ...(exec.kmsKeyId ? { kmsKeyId: exec.kmsKeyId } : {}),
                  },
                }
              : {}),
          });
        }
      }
      return found;
    },
    [],
  );
  ctx.progress(`ecs: ECS Exec settings of ${clusters.length} clusters`);
  return clusters;
}

export function isText(value: string | undefined | null): value is string {
  return typeof value === 'string' && value.length > 0;
}
