/**
 * Where ECS work runs and what it needs: from container instances, services and standalone tasks
 * to, per VPC, the workload subnets and the needs that make endpoints required.
 */
import type { ContainerDefinition, EcsService, EcsTask, RegionSnapshot, Subnet, Vpc } from './model.ts';
import type { Egress, WorkloadSource } from './network.ts';
import { egressOf } from './network.ts';
import type { ManagedService } from './services.ts';

/** Why a VPC needs endpoints. */
export type Need =
  | 'ec2-capacity'
  | 'private-ecr'
  | 'awslogs'
  | 'secretsmanager'
  | 'ssm-parameters'
  | 'service-connect'
  | 'run-command';

/** The endpoints each need requires. */
export const NEED_SERVICES: Readonly<Record<Need, readonly ManagedService[]>> = {
  'ec2-capacity': ['ecs-agent', 'ecs-telemetry', 'ecs'],
  'private-ecr': ['ecr.api', 'ecr.dkr', 's3'],
  awslogs: ['logs'],
  secretsmanager: ['secretsmanager'],
  'ssm-parameters': ['ssm'],
  // Service Connect's Envoy management uses the ecs-agent endpoint when there is one.
  'service-connect': ['ecs-agent'],
  // Agent restarts go through SSM Run Command; without egress the instances need these three.
  'run-command': ['ssm', 'ssmmessages', 'ec2messages'],
};

export interface PlacedContainerInstance {
  readonly containerInstanceArn: string;
  readonly clusterArn: string;
  readonly ec2InstanceId: string;
  readonly subnetId: string;
  readonly agentVersion?: string;
}

/** The ECS work of one VPC. */
export interface VpcWorkload {
  readonly vpc: Vpc;
  /** Subnets that run ECS work (container instances, awsvpc tasks), sorted by id. */
  readonly subnets: readonly Subnet[];
  readonly sources: readonly WorkloadSource[];
  /** Availability Zones of the workload subnets, sorted. */
  readonly availabilityZones: readonly string[];
  readonly egressBySubnet: ReadonlyMap<string, Egress>;
  /** True when some workload subnet has no internet egress: a missing endpoint breaks the workload. */
  readonly isolated: boolean;
  /** Each need with the reasons for it (one line each, deduplicated, sorted). */
  readonly needs: ReadonlyMap<Need, readonly string[]>;
  readonly containerInstances: readonly PlacedContainerInstance[];
}

const ACTIVE_INSTANCE_STATES = new Set(['pending', 'running']);
const ACTIVE_CONTAINER_INSTANCE_STATUSES = new Set(['ACTIVE', 'DRAINING', 'REGISTERING']);
const FARGATE_PROVIDERS = new Set(['FARGATE', 'FARGATE_SPOT']);

/** Where a service's or task's containers run: Fargate, the cluster's EC2 capacity, or ECS Anywhere. */
export type Placement = 'fargate' | 'ec2' | 'external';

/** The placement of work from its launch type or capacity providers (none of either: EC2). */
export function placementOf(launchType: string | undefined, capacityProviders: readonly string[]): Placement {
  if (launchType === 'EXTERNAL') return 'external';
  if (launchType === 'FARGATE') return 'fargate';
  if (launchType === undefined && capacityProviders.length > 0) {
    return capacityProviders.every((provider) => FARGATE_PROVIDERS.has(provider)) ? 'fargate' : 'ec2';
  }
  return 'ec2';
}

/** `family:revision` of a task definition ARN, or the ARN itself. */
export function taskDefinitionLabel(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** Last path part of a cluster or service ARN. */
export function resourceName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

const PRIVATE_ECR_IMAGE = /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//;
const ARN_REGION = /^arn:aws[a-z-]*:(secretsmanager|ssm):([a-z0-9-]+):/;

/**
 * The needs of one container definition in `region`. Resources of another Region (an image from
 * another Region's registry, a secret ARN of another Region) cannot be served by this Region's
 * endpoints, so they make no endpoint required here.
 */
export function containerNeeds(container: ContainerDefinition, region: string): Array<[Need, string]> {
  const needs: Array<[Need, string]> = [];
  const ecrRegion = PRIVATE_ECR_IMAGE.exec(container.image)?.[1];
  if (ecrRegion === region) needs.push(['private-ecr', `image ${container.image}`]);
  if (container.logDriver === 'awslogs')
    needs.push(['awslogs', `container ${container.name} logs with awslogs`]);
  // Private registry credentials are always a Secrets Manager secret (ARN or bare name).
  const credentials = container.repositoryCredentials;
  if (credentials !== undefined) {
    const arn = ARN_REGION.exec(credentials);
    if (!arn || arn[2] === region) needs.push(['secretsmanager', `registry credentials ${credentials}`]);
  }
  for (const ref of container.secretRefs) {
    const arn = ARN_REGION.exec(ref);
    if (!arn) {
      // A bare name is a Parameter Store parameter of the task's own Region.
      needs.push(['ssm-parameters', `secret ${ref}`]);
    } else if (arn[2] === region) {
      needs.push([arn[1] === 'secretsmanager' ? 'secretsmanager' : 'ssm-parameters', `secret ${ref}`]);
    }
  }
  return needs;
}

class WorkloadBuilder {
  readonly subnetGroups = new Map<string, Set<string>>();
  readonly needs = new Map<Need, Set<string>>();
  readonly containerInstances: PlacedContainerInstance[] = [];
  readonly vpc: Vpc;
  constructor(vpc: Vpc) {
    this.vpc = vpc;
  }

  addSubnet(subnetId: string, groupIds: readonly string[]): void {
    const groups = this.subnetGroups.get(subnetId) ?? new Set<string>();
    for (const id of groupIds) groups.add(id);
    this.subnetGroups.set(subnetId, groups);
  }

  addNeed(need: Need, reason: string): void {
    const reasons = this.needs.get(need) ?? new Set<string>();
    reasons.add(reason);
    this.needs.set(need, reasons);
  }
}

/** The ECS work of every VPC listed in the snapshot, by VPC id (VPCs without work are absent). */
export function analyseWorkloads(snapshot: RegionSnapshot): Map<string, VpcWorkload> {
  const { region } = snapshot;
  const vpcById = new Map(snapshot.vpcs.map((vpc) => [vpc.vpcId, vpc]));
  const subnetById = new Map(snapshot.subnets.map((subnet) => [subnet.subnetId, subnet]));
  const instanceById = new Map(snapshot.ec2Instances.map((instance) => [instance.instanceId, instance]));
  const taskDefinitionByArn = new Map(
    snapshot.taskDefinitions.map((definition) => [definition.taskDefinitionArn, definition]),
  );
  const builders = new Map<string, WorkloadBuilder>();
  const builderOf = (vpcId: string): WorkloadBuilder | undefined => {
    const vpc = vpcById.get(vpcId);
    if (!vpc) return undefined;
    let builder = builders.get(vpcId);
    if (!builder) {
      builder = new WorkloadBuilder(vpc);
      builders.set(vpcId, builder);
    }
    return builder;
  };

  // EC2 capacity: the agent on each container instance talks to ECS from the instance's subnet.
  const clusterVpcs = new Map<string, Set<string>>();
  const instanceVpcByArn = new Map<string, string>();
  for (const containerInstance of snapshot.containerInstances) {
    if (!ACTIVE_CONTAINER_INSTANCE_STATUSES.has(containerInstance.status)) continue;
    const instance = instanceById.get(containerInstance.ec2InstanceId);
    if (!instance || !ACTIVE_INSTANCE_STATES.has(instance.state)) continue;
    const builder = builderOf(instance.vpcId);
    if (!builder) continue;
    builder.addSubnet(instance.subnetId, instance.securityGroupIds);
    builder.addNeed(
      'ec2-capacity',
      `container instances of cluster ${resourceName(containerInstance.clusterArn)}`,
    );
    builder.containerInstances.push({
      containerInstanceArn: containerInstance.containerInstanceArn,
      clusterArn: containerInstance.clusterArn,
      ec2InstanceId: instance.instanceId,
      subnetId: instance.subnetId,
      ...(containerInstance.agentVersion === undefined
        ? {}
        : { agentVersion: containerInstance.agentVersion }),
    });
    const vpcs = clusterVpcs.get(containerInstance.clusterArn) ?? new Set<string>();
    vpcs.add(instance.vpcId);
    clusterVpcs.set(containerInstance.clusterArn, vpcs);
    instanceVpcByArn.set(containerInstance.containerInstanceArn, instance.vpcId);
  }

  const placeWork = (
    label: string,
    placement: Placement,
    clusterArn: string,
    subnetIds: readonly string[],
    groupIds: readonly string[],
    taskDefinitionArns: readonly string[],
    extraVpcIds: readonly string[],
    serviceConnect: boolean,
  ): void => {
    if (placement === 'external') return;
    const vpcIds = new Set<string>(extraVpcIds);
    for (const subnetId of subnetIds) {
      const subnet = subnetById.get(subnetId);
      if (!subnet) continue;
      vpcIds.add(subnet.vpcId);
      builderOf(subnet.vpcId)?.addSubnet(subnetId, groupIds);
    }
    // On EC2 the agent pulls images, ships awslogs and fetches secrets from the host: the needs
    // land in the VPCs of the cluster's container instances as well as in the task subnets' VPCs.
    if (placement === 'ec2') for (const vpcId of clusterVpcs.get(clusterArn) ?? []) vpcIds.add(vpcId);
    for (const vpcId of vpcIds) {
      const builder = builderOf(vpcId);
      if (!builder) continue;
      if (serviceConnect) builder.addNeed('service-connect', `${label} uses Service Connect`);
      for (const arn of taskDefinitionArns) {
        for (const container of taskDefinitionByArn.get(arn)?.containers ?? []) {
          for (const [need, reason] of containerNeeds(container, region)) {
            builder.addNeed(need, `${label} (${taskDefinitionLabel(arn)}): ${reason}`);
          }
        }
      }
    }
  };

  for (const service of snapshot.services) placeService(service);
  for (const task of snapshot.tasks) placeTask(task);

  function placeService(service: EcsService): void {
    placeWork(
      `service ${service.serviceName}`,
      placementOf(service.launchType, service.capacityProviders),
      service.clusterArn,
      service.subnetIds,
      service.securityGroupIds,
      service.taskDefinitionArns,
      [],
      service.serviceConnect,
    );
  }

  function placeTask(task: EcsTask): void {
    const hostVpc = task.containerInstanceArn ? instanceVpcByArn.get(task.containerInstanceArn) : undefined;
    placeWork(
      `task ${resourceName(task.taskArn)}`,
      placementOf(task.launchType, task.capacityProviderName ? [task.capacityProviderName] : []),
      task.clusterArn,
      task.subnetIds,
      [],
      [task.taskDefinitionArn],
      hostVpc ? [hostVpc] : [],
      false,
    );
  }

  const workloads = new Map<string, VpcWorkload>();
  for (const [vpcId, builder] of builders) {
    const subnets = [...builder.subnetGroups.keys()]
      .map((id) => subnetById.get(id))
      .filter((subnet): subnet is Subnet => subnet !== undefined)
      .sort((a, b) => a.subnetId.localeCompare(b.subnetId));
    if (subnets.length === 0) continue;
    const egressBySubnet = new Map(
      subnets.map((subnet) => [subnet.subnetId, egressOf(subnet, snapshot.routeTables)]),
    );
    const isolated = [...egressBySubnet.values()].some((egress) => egress === 'none');
    const instanceSubnetsIsolated = builder.containerInstances.some(
      (ci) => egressBySubnet.get(ci.subnetId) === 'none',
    );
    if (instanceSubnetsIsolated) {
      builder.addNeed(
        'run-command',
        'agent restarts through SSM Run Command on container instances without internet egress',
      );
    }
    workloads.set(vpcId, {
      vpc: builder.vpc,
      subnets,
      sources: subnets.map((subnet) => ({
        subnet,
        securityGroupIds: builder.subnetGroups.get(subnet.subnetId) ?? new Set<string>(),
      })),
      availabilityZones: [...new Set(subnets.map((subnet) => subnet.availabilityZone))].sort(),
      egressBySubnet,
      isolated,
      needs: new Map([...builder.needs].map(([need, reasons]) => [need, [...reasons].sort()])),
      containerInstances: builder.containerInstances.sort((a, b) =>
        a.ec2InstanceId.localeCompare(b.ec2InstanceId),
      ),
    });
  }
  return workloads;
}

/** The endpoints a workload requires, each with the needs behind it, in creation order. */
export function requiredServices(workload: VpcWorkload): Map<ManagedService, Need[]> {
  const required = new Map<ManagedService, Need[]>();
  for (const need of workload.needs.keys()) {
    for (const service of NEED_SERVICES[need])
      required.set(service, [...(required.get(service) ?? []), need]);
  }
  return required;
}
