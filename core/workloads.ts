/**
 * Where ECS work runs and what it needs: from container instances, services and standalone tasks
 * to, per VPC, the workload subnets, the needs that make endpoints required, and the network
 * interfaces ("callers") that make each need's calls — each with its own subnet and security groups,
 * so that an endpoint's groups are judged against the interface that really connects to it.
 */
import type {
  EcsCluster,
  EcsService,
  EcsTask,
  RegionSnapshot,
  Subnet,
  TaskDefinition,
  Vpc,
} from './model.ts';
import type { Egress } from './network.ts';
import { egressOf } from './network.ts';
import type { Need, NeedReason } from './needs.ts';
import { NEEDS, containerNeeds, execNeeds } from './needs.ts';
import type { ManagedService } from './services.ts';

export type { Need } from './needs.ts';
export { NEED_SERVICES, containerNeeds } from './needs.ts';

export interface PlacedContainerInstance {
  readonly containerInstanceArn: string;
  readonly clusterArn: string;
  readonly ec2InstanceId: string;
  readonly subnetId: string;
  readonly agentVersion?: string;
}

/**
 * A network interface that makes the calls of some needs: a container instance's (the agent, and
 * bridge or host networking tasks) or an awsvpc task's. Interfaces of one workload with the same
 * subnet and groups are one caller.
 */
export interface Caller {
  /** The workload, for people: `service web (web:3)`, `task 0a1b (job:1)`, `container instances of cluster prod`. */
  readonly workload: string;
  /** `host`: a container instance's interface; `task`: an awsvpc task's. */
  readonly interfaceKind: 'host' | 'task';
  readonly subnet: Subnet;
  readonly securityGroupIds: ReadonlySet<string>;
  /** False when the interface's groups could not be read: a group-referencing rule is then unknown. */
  readonly groupsKnown: boolean;
  readonly needs: ReadonlySet<Need>;
  /** Running work stands behind it; false for a service scaled to zero. */
  readonly live: boolean;
  /** The cluster the work belongs to. */
  readonly clusterArn: string;
  readonly placement: Placement;
  /** The task definition behind the workload (none for a container instance's own calls). */
  readonly taskDefinitionArn?: string;
  /** A host interface's instance role (from its instance profile), when discovery read it. */
  readonly instanceRoleArn?: string;
}

/** The ECS work of one VPC. */
export interface VpcWorkload {
  readonly vpc: Vpc;
  /** Subnets that run ECS work (container instances, awsvpc tasks), sorted by id. */
  readonly subnets: readonly Subnet[];
  /** Availability Zones of the workload subnets, sorted. */
  readonly availabilityZones: readonly string[];
  readonly egressBySubnet: ReadonlyMap<string, Egress>;
  /** True when some workload subnet has no internet egress: a missing endpoint breaks the workload. */
  readonly isolated: boolean;
  /** Each need with the reasons for it (one line each, deduplicated, sorted). */
  readonly needs: ReadonlyMap<Need, readonly string[]>;
  /** The interfaces that make the needs' calls, sorted by subnet, workload and groups. */
  readonly callers: readonly Caller[];
  readonly containerInstances: readonly PlacedContainerInstance[];
}

/** The workload of a VPC that hosts no ECS work (`RegionSnapshot.idleVpcIds`): no need, no caller. */
export function idleWorkload(vpc: Vpc): VpcWorkload {
  return {
    vpc,
    subnets: [],
    availabilityZones: [],
    egressBySubnet: new Map(),
    isolated: false,
    needs: new Map(),
    callers: [],
    containerInstances: [],
  };
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

/** One interface of a workload, before callers with the same place are merged. */
interface Interface {
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[] | undefined;
  readonly kind: 'host' | 'task';
  readonly instanceRoleArn?: string;
}

/** What a caller says about the work behind it. */
interface CallerOrigin {
  readonly workload: string;
  readonly clusterArn: string;
  readonly placement: Placement;
  readonly taskDefinitionArn?: string;
}

class WorkloadBuilder {
  readonly subnetIds = new Set<string>();
  readonly needs = new Map<Need, Set<string>>();
  readonly callers = new Map<
    string,
    { base: Omit<Caller, 'needs' | 'live'>; needs: Set<Need>; live: boolean }
  >();
  readonly containerInstances: PlacedContainerInstance[] = [];
  readonly vpc: Vpc;
  constructor(vpc: Vpc) {
    this.vpc = vpc;
  }

  addNeed(need: Need, reason: string): void {
    const reasons = this.needs.get(need) ?? new Set<string>();
    reasons.add(reason);
    this.needs.set(need, reasons);
  }

  addCaller(
    origin: CallerOrigin,
    face: Interface,
    subnet: Subnet,
    needs: Iterable<Need>,
    live: boolean,
  ): void {
    this.subnetIds.add(face.subnetId);
    const groups = [...(face.securityGroupIds ?? [])].sort();
    const key = [
      origin.workload,
      face.kind,
      face.subnetId,
      face.securityGroupIds ? groups.join(',') : '?',
      face.instanceRoleArn ?? '',
    ].join('|');
    let caller = this.callers.get(key);
    if (!caller) {
      caller = {
        base: {
          ...origin,
          interfaceKind: face.kind,
          subnet,
          securityGroupIds: new Set(groups),
          groupsKnown: face.securityGroupIds !== undefined,
          ...(face.instanceRoleArn === undefined ? {} : { instanceRoleArn: face.instanceRoleArn }),
        },
        needs: new Set(),
        live: false,
      };
      this.callers.set(key, caller);
    }
    for (const need of needs) caller.needs.add(need);
    caller.live ||= live;
  }
}

/** What one piece of work (a service or a standalone task) needs, and through which interfaces. */
interface Work {
  readonly label: string;
  readonly placement: Placement;
  readonly clusterArn: string;
  /** Its awsvpc interfaces (none for bridge and host networking). */
  readonly taskInterfaces: readonly Interface[];
  /** Its hosts' interfaces when it runs on known container instances (a task's), else the cluster's. */
  readonly hostInterfaces?: readonly Interface[];
  readonly taskDefinitionArns: readonly string[];
  readonly serviceConnect: boolean;
  readonly exec: boolean;
  readonly live: boolean;
}

/** The ECS work of every VPC listed in the snapshot, by VPC id (VPCs without work are absent). */
export function analyseWorkloads(snapshot: RegionSnapshot): Map<string, VpcWorkload> {
  const { region } = snapshot;
  const vpcById = new Map(snapshot.vpcs.map((vpc) => [vpc.vpcId, vpc]));
  const subnetById = new Map(snapshot.subnets.map((subnet) => [subnet.subnetId, subnet]));
  const instanceById = new Map(snapshot.ec2Instances.map((instance) => [instance.instanceId, instance]));
  const definitions = new Map(snapshot.taskDefinitions.map((d) => [d.taskDefinitionArn, d]));
  const clusters = new Map((snapshot.clusters ?? []).map((cluster) => [cluster.clusterArn, cluster]));
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

  // EC2 capacity: the agent on each container instance talks to ECS from the instance's interface.
  const hostsByCluster = new Map<string, Interface[]>();
  const hostByArn = new Map<string, Interface>();
  for (const containerInstance of snapshot.containerInstances) {
    if (!ACTIVE_CONTAINER_INSTANCE_STATUSES.has(containerInstance.status)) continue;
    const instance = instanceById.get(containerInstance.ec2InstanceId);
    if (!instance || !ACTIVE_INSTANCE_STATES.has(instance.state)) continue;
    const subnet = subnetById.get(instance.subnetId);
    const builder = builderOf(instance.vpcId);
    if (!builder || !subnet) continue;
    const face: Interface = {
      subnetId: instance.subnetId,
      securityGroupIds: instance.securityGroupIds,
      kind: 'host',
      ...(instance.instanceRoleArn === undefined ? {} : { instanceRoleArn: instance.instanceRoleArn }),
    };
    const label = `container instances of cluster ${resourceName(containerInstance.clusterArn)}`;
    const origin = { workload: label, clusterArn: containerInstance.clusterArn, placement: 'ec2' as const };
    builder.addCaller(origin, face, subnet, ['ec2-capacity'], true);
    builder.addNeed('ec2-capacity', label);
    builder.containerInstances.push({
      containerInstanceArn: containerInstance.containerInstanceArn,
      clusterArn: containerInstance.clusterArn,
      ec2InstanceId: instance.instanceId,
      subnetId: instance.subnetId,
      ...(containerInstance.agentVersion === undefined
        ? {}
        : { agentVersion: containerInstance.agentVersion }),
    });
    hostsByCluster.set(containerInstance.clusterArn, [
      ...(hostsByCluster.get(containerInstance.clusterArn) ?? []),
      face,
    ]);
    hostByArn.set(containerInstance.containerInstanceArn, face);
  }

  const place = (work: Work): void => {
    if (work.placement === 'external') return;
    const hosts =
      work.placement === 'ec2' ? (work.hostInterfaces ?? hostsByCluster.get(work.clusterArn) ?? []) : [];
    for (const arn of work.taskDefinitionArns) {
      const definition = definitions.get(arn);
      const label = `${work.label} (${taskDefinitionLabel(arn)})`;
      const needs = definitionNeeds(definition, region, work, clusters.get(work.clusterArn));
      // The agent's calls for the task come from the task's interface on Fargate, the host's on EC2;
      // the task's own calls from its awsvpc interface, else (bridge, host networking) the host's.
      const agentFaces = work.placement === 'fargate' ? work.taskInterfaces : hosts;
      const taskFaces = work.taskInterfaces.length > 0 ? work.taskInterfaces : hosts;
      const byCaller = (by: 'agent' | 'task'): Need[] =>
        needs
          .filter(([need]) => NEEDS[need].by === by)
          .filter(([need]) => !('ec2Only' in NEEDS[need]) || work.placement === 'ec2')
          .map(([need]) => need);
      for (const [faces, faceNeeds] of [
        [agentFaces, byCaller('agent')],
        [taskFaces, byCaller('task')],
      ] as const) {
        for (const face of faces) {
          const subnet = subnetById.get(face.subnetId);
          const builder = subnet && builderOf(subnet.vpcId);
          if (!subnet || !builder) continue;
          // Work with no needs still places its subnets: they run ECS work.
          const origin = {
            workload: label,
            clusterArn: work.clusterArn,
            placement: work.placement,
            taskDefinitionArn: arn,
          };
          builder.addCaller(origin, face, subnet, faceNeeds, work.live);
          for (const [need, reason] of needs) {
            if (faceNeeds.includes(need)) builder.addNeed(need, `${label}: ${reason}`);
          }
        }
      }
    }
    if (work.taskDefinitionArns.length === 0) {
      for (const face of work.taskInterfaces) {
        const subnet = subnetById.get(face.subnetId);
        const origin = { workload: work.label, clusterArn: work.clusterArn, placement: work.placement };
        if (subnet) builderOf(subnet.vpcId)?.addCaller(origin, face, subnet, [], work.live);
      }
    }
  };

  for (const service of snapshot.services) place(serviceWork(service));
  for (const task of snapshot.tasks) place(taskWork(task, hostByArn));

  const workloads = new Map<string, VpcWorkload>();
  for (const [vpcId, builder] of builders) {
    const subnets = [...builder.subnetIds]
      .map((id) => subnetById.get(id))
      .filter((subnet): subnet is Subnet => subnet !== undefined)
      .sort((a, b) => a.subnetId.localeCompare(b.subnetId));
    if (subnets.length === 0) continue;
    const egressBySubnet = new Map(
      subnets.map((subnet) => [subnet.subnetId, egressOf(subnet, snapshot.routeTables)]),
    );
    const isolated = [...egressBySubnet.values()].some((egress) => egress === 'none');
    // Agent restarts reach instances without egress only through the Run Command endpoints, which
    // then serve every host of the VPC (private DNS answers for the whole VPC).
    const hostCallers = [...builder.callers.values()].filter(
      (caller) => caller.base.interfaceKind === 'host',
    );
    if (builder.containerInstances.some((ci) => egressBySubnet.get(ci.subnetId) === 'none')) {
      builder.addNeed(
        'run-command',
        'agent restarts through SSM Run Command on container instances without internet egress',
      );
      for (const caller of hostCallers) if (caller.needs.has('ec2-capacity')) caller.needs.add('run-command');
    }
    const callers = [...builder.callers.values()]
      .map((caller): Caller => ({ ...caller.base, needs: caller.needs, live: caller.live }))
      .sort(
        (a, b) =>
          a.subnet.subnetId.localeCompare(b.subnet.subnetId) ||
          a.workload.localeCompare(b.workload) ||
          [...a.securityGroupIds].join().localeCompare([...b.securityGroupIds].join()),
      );
    workloads.set(vpcId, {
      vpc: builder.vpc,
      subnets,
      availabilityZones: [...new Set(subnets.map((subnet) => subnet.availabilityZone))].sort(),
      egressBySubnet,
      isolated,
      needs: new Map([...builder.needs].map(([need, reasons]) => [need, [...reasons].sort()])),
      callers,
      containerInstances: builder.containerInstances.sort((a, b) =>
        a.ec2InstanceId.localeCompare(b.ec2InstanceId),
      ),
    });
  }
  return workloads;
}

function serviceWork(service: EcsService): Work {
  const faces: Interface[] = service.networks.flatMap((network) =>
    network.subnetIds.map((subnetId) => ({
      subnetId,
      securityGroupIds: network.securityGroupIds,
      kind: 'task' as const,
    })),
  );
  return {
    label: `service ${service.serviceName}`,
    placement: placementOf(service.launchType, service.capacityProviders),
    clusterArn: service.clusterArn,
    taskInterfaces: faces,
    taskDefinitionArns: service.taskDefinitionArns,
    serviceConnect: service.serviceConnect,
    exec: service.enableExecuteCommand === true,
    live: (service.desiredCount ?? 1) > 0 || (service.runningCount ?? 0) > 0,
  };
}

function taskWork(task: EcsTask, hostByArn: ReadonlyMap<string, Interface>): Work {
  const host = task.containerInstanceArn ? hostByArn.get(task.containerInstanceArn) : undefined;
  return {
    label: `task ${resourceName(task.taskArn)}`,
    placement: placementOf(task.launchType, task.capacityProviderName ? [task.capacityProviderName] : []),
    clusterArn: task.clusterArn,
    taskInterfaces: task.subnetIds.map((subnetId) => ({
      subnetId,
      securityGroupIds: task.securityGroupIds,
      kind: 'task' as const,
    })),
    ...(host ? { hostInterfaces: [host] } : {}),
    taskDefinitionArns: [task.taskDefinitionArn],
    serviceConnect: false,
    exec: task.enableExecuteCommand === true,
    live: true,
  };
}

/** Every need of one piece of work's task definition, with its reason. */
function definitionNeeds(
  definition: TaskDefinition | undefined,
  region: string,
  work: Work,
  cluster: EcsCluster | undefined,
): NeedReason[] {
  const needs: NeedReason[] = [];
  for (const container of definition?.containers ?? []) needs.push(...containerNeeds(container, region));
  if (work.serviceConnect) needs.push(['service-connect', 'uses Service Connect']);
  if (work.exec) needs.push(...execNeeds(definition, cluster));
  return needs;
}

/** The endpoints a workload requires, each with the needs behind it, in creation order. */
export function requiredServices(workload: VpcWorkload): Map<ManagedService, Need[]> {
  const required = new Map<ManagedService, Need[]>();
  for (const need of workload.needs.keys()) {
    for (const service of NEEDS[need].services)
      required.set(service, [...(required.get(service) ?? []), need]);
  }
  return required;
}

/** The callers that make a service's calls: those with a need requiring it. */
export function callersOf(workload: VpcWorkload, service: ManagedService): Caller[] {
  return workload.callers.filter((caller) =>
    [...caller.needs].some((need) => (NEEDS[need].services as readonly string[]).includes(service)),
  );
}
