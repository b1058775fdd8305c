/**
 * The fewest API calls any discovery of a synthetic account could make (pure arithmetic on the spec).
 *
 * For every list or describe the plan needs, ceil(items / the API's maximum page or batch size), and at
 * least one call where a call is the only way to learn that there is nothing (a cluster's list, the
 * in-scope VPCs' endpoints and groups). Items are only what the plan needs: the VPCs hosting ECS work,
 * the in-scope VPCs' DNS, route tables, endpoints and groups, the task definitions of work that lands in
 * an in-scope VPC. Per-cluster ECS reads are per cluster because the APIs take one cluster. Batching
 * constraints on the request side (200 filter values per EC2 filter) are not counted: the bound stays a
 * bound for a discovery that lists account-wide instead of filtering.
 */
import type { AccountSpec, SubnetRef } from './spec.ts';

/** The API limits discovery pages and batches at (docs/architecture.md, "Discovery cost"). */
export const LIMITS = {
  ecsListPage: 100,
  describeContainerInstances: 100,
  describeServices: 10,
  describeTasks: 100,
  describeInstancesIds: 1000,
  ec2Page: 1000,
  routeTablesPage: 100,
} as const;

export interface LowerBound {
  readonly total: number;
  /** `service:Operation` → calls, like the remediator's own counter. */
  readonly byOperation: Readonly<Record<string, number>>;
  readonly byService: Readonly<Record<string, number>>;
}

const pages = (items: number, size: number): number => Math.ceil(items / size);
/** A list that must be called even when empty. */
const listPages = (items: number, size: number): number => Math.max(1, pages(items, size));

/** What the synthetic account holds, as discovery sees it. */
export interface AccountFacts {
  /** VPCs hosting ECS work: live container-instance hosts, awsvpc subnets of services and tasks. */
  readonly workVpcs: ReadonlySet<string>;
  readonly inScopeVpcs: ReadonlySet<string>;
  /** Task definitions of work whose needs land in at least one in-scope VPC. */
  readonly neededTaskDefinitions: ReadonlySet<string>;
}

export function accountFacts(spec: AccountSpec, onlyVpcs?: ReadonlySet<string>): AccountFacts {
  const ignored = new Set(spec.vpcs.filter((vpc) => vpc.ignored).map((vpc) => vpc.key));
  const liveVpcsOfCluster = new Map<string, Set<string>>();
  for (const instance of spec.instances) {
    if (instance.stopped) continue;
    const vpcs = liveVpcsOfCluster.get(instance.cluster) ?? new Set<string>();
    vpcs.add(instance.vpc);
    liveVpcsOfCluster.set(instance.cluster, vpcs);
  }
  const vpcsOf = (subnets: readonly SubnetRef[] | undefined): string[] => (subnets ?? []).map((s) => s.vpc);
  const workVpcs = new Set<string>([
    ...[...liveVpcsOfCluster.values()].flatMap((vpcs) => [...vpcs]),
    ...spec.services.flatMap((service) => vpcsOf(service.subnets)),
    ...spec.tasks.flatMap((task) => vpcsOf(task.subnets)),
  ]);
  const selected = (vpc: string): boolean => onlyVpcs === undefined || onlyVpcs.has(vpc);
  const inScopeVpcs = new Set([...workVpcs].filter((vpc) => !ignored.has(vpc) && selected(vpc)));
  const neededTaskDefinitions = new Set<string>();
  const landsInScope = (vpcs: readonly string[]): boolean => vpcs.some((vpc) => inScopeVpcs.has(vpc));
  for (const service of spec.services) {
    const hosts = service.launchType === 'EC2' ? [...(liveVpcsOfCluster.get(service.cluster) ?? [])] : [];
    if (landsInScope([...hosts, ...vpcsOf(service.subnets)]))
      neededTaskDefinitions.add(service.taskDefinition);
  }
  for (const task of spec.tasks) {
    if (landsInScope(vpcsOf(task.subnets))) neededTaskDefinitions.add(task.taskDefinition);
  }
  return {
    workVpcs: onlyVpcs ? new Set([...workVpcs].filter(selected)) : workVpcs,
    inScopeVpcs,
    neededTaskDefinitions,
  };
}

/**
 * How an event-scoped discovery of `onlyVpcs` reads ECS:
 * - `touched` (default): ListClusters, then every container instance of the clusters with work there;
 * - `indexed`: the clusters with work there known beforehand (the cluster index), so no ListClusters,
 *   and of their container instances only those in the VPCs (the `ecs.vpc-id` filter): what the
 *   deployed reconciler does once a sweep has recorded the index;
 * - `all`: no index: every cluster read whole, as a full plan reads ECS.
 */
export type EventEcsReads = 'touched' | 'indexed' | 'all';

/**
 * The lower bound of a full plan, or of an event-scoped plan of `onlyVpcs` reading ECS as `ecs` says.
 */
export function lowerBound(
  spec: AccountSpec,
  onlyVpcs?: ReadonlySet<string>,
  ecs: EventEcsReads = 'touched',
): LowerBound {
  const facts = accountFacts(spec, onlyVpcs);
  const inScope = spec.vpcs.filter((vpc) => facts.inScopeVpcs.has(vpc.key));
  const work = spec.vpcs.filter((vpc) => facts.workVpcs.has(vpc.key));

  // Clusters read: all of them, or (event-scoped) those with work in the selected VPCs.
  const touches = (cluster: string): boolean =>
    onlyVpcs === undefined ||
    ecs === 'all' ||
    spec.instances.some((i) => i.cluster === cluster && onlyVpcs.has(i.vpc)) ||
    [...spec.services, ...spec.tasks].some(
      (item) => item.cluster === cluster && (item.subnets ?? []).some((s) => onlyVpcs.has(s.vpc)),
    );
  const clusters = spec.clusters.filter((cluster) => touches(cluster.name));
  const ops: Record<string, number> = {};
  const add = (operation: string, calls: number): void => {
    if (calls > 0) ops[operation] = (ops[operation] ?? 0) + calls;
  };

  const indexed = onlyVpcs !== undefined && ecs === 'indexed';
  if (!indexed) add('ecs:ListClusters', listPages(spec.clusters.length, LIMITS.ecsListPage));
  let hosts = 0;
  for (const cluster of clusters) {
    const instances = spec.instances.filter(
      (i) => i.cluster === cluster.name && (!indexed || onlyVpcs.has(i.vpc)),
    ).length;
    const services = spec.services.filter((s) => s.cluster === cluster.name).length;
    const tasks = spec.tasks.filter((t) => t.cluster === cluster.name).length;
    hosts += instances;
    add('ecs:ListContainerInstances', listPages(instances, LIMITS.ecsListPage));
    add('ecs:DescribeContainerInstances', pages(instances, LIMITS.describeContainerInstances));
    add('ecs:ListServices', listPages(services, LIMITS.ecsListPage));
    add('ecs:DescribeServices', pages(services, LIMITS.describeServices));
    add('ecs:ListTasks', listPages(tasks, LIMITS.ecsListPage));
    add('ecs:DescribeTasks', pages(tasks, LIMITS.describeTasks));
  }
  add('ecs:DescribeTaskDefinition', facts.neededTaskDefinitions.size);

  add('ec2:DescribeInstances', pages(hosts, LIMITS.describeInstancesIds));
  if (work.length > 0) {
    // Every subnet of a VPC hosting work: its private subnets, and the public one of NAT VPCs.
    const subnets = work.reduce((sum, vpc) => sum + vpc.azs + (vpc.egress === 'nat' ? 1 : 0), 0);
    add('ec2:DescribeSubnets', pages(subnets, LIMITS.ec2Page));
    add('ec2:DescribeVpcs', pages(work.length, LIMITS.ec2Page));
  }
  if (inScope.length > 0) {
    add('ec2:DescribeVpcAttribute', 2 * inScope.length); // no batch form: two attributes per VPC
    add('ec2:DescribeDhcpOptions', pages(inScope.filter((vpc) => vpc.customDns).length, LIMITS.ec2Page));
    // Main table, one per private subnet, and the public subnet's of NAT VPCs.
    const tables = inScope.reduce((sum, vpc) => sum + 1 + vpc.azs + (vpc.egress === 'nat' ? 1 : 0), 0);
    add('ec2:DescribeRouteTables', pages(tables, LIMITS.routeTablesPage));
    const keys = new Set(inScope.map((vpc) => vpc.key));
    const endpoints = spec.endpoints.filter((endpoint) => keys.has(endpoint.vpc));
    add('ec2:DescribeVpcEndpoints', listPages(endpoints.length, LIMITS.ec2Page));
    // The endpoints' groups (one per VPC that has one and an interface endpoint) and managed groups.
    const groups = inScope.filter(
      (vpc) => vpc.endpointGroup && endpoints.some((e) => e.vpc === vpc.key && e.service !== 's3'),
    ).length;
    add('ec2:DescribeSecurityGroups', listPages(groups, LIMITS.ec2Page));
    add('ec2:DescribeVpcEndpointServices', 1);
  }

  const byService: Record<string, number> = {};
  let total = 0;
  for (const [operation, calls] of Object.entries(ops)) {
    const service = operation.split(':')[0] ?? operation;
    byService[service] = (byService[service] ?? 0) + calls;
    total += calls;
  }
  return { total, byOperation: ops, byService };
}

/** `bound` without some operations: those a run with fewer checks does not need. */
export function withoutOperations(bound: LowerBound, operations: readonly string[]): LowerBound {
  const byOperation = Object.fromEntries(
    Object.entries(bound.byOperation).filter(([operation]) => !operations.includes(operation)),
  );
  const byService: Record<string, number> = {};
  for (const [operation, calls] of Object.entries(byOperation)) {
    const service = operation.split(':')[0] ?? operation;
    byService[service] = (byService[service] ?? 0) + calls;
  }
  return { byOperation, byService, total: Object.values(byOperation).reduce((a, b) => a + b, 0) };
}
