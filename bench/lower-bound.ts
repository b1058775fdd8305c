/**
 * The fewest API calls any discovery of a synthetic account could make (pure arithmetic on the spec).
 *
 * For every list or describe the plan needs, ceil(items / the API's maximum page or batch size), and at
 * least one call where a call is the only way to learn that there is nothing (a cluster's list, the
 * in-scope VPCs' endpoints and groups, their hosted zones, the Region's Resolver rule associations).
 * Items are only what the plan needs: the VPCs hosting ECS work, the in-scope VPCs' DNS, route tables,
 * endpoints, groups and hosted zones, the task definitions and network interfaces of work that lands in
 * an in-scope VPC. Per-cluster ECS reads are per cluster because the APIs take one cluster; Route 53's
 * ListHostedZonesByVPC is per VPC because it takes one VPC and nothing else lists the zones of other
 * accounts associated with it. Batching constraints on the request side (200 filter values per EC2
 * filter) are not counted: the bound stays a bound for a discovery that lists account-wide instead of
 * filtering.
 *
 * What the spec's accounts do not hold costs nothing here, as it costs discovery nothing: no hosted
 * zones (so no records to read, no central endpoints), no Resolver rules, no prefix lists in group
 * rules, no ECS Exec, no instance profiles on the hosts (so no IAM read), no shared VPCs.
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
  /** Route 53 ListHostedZonesByVPC and Resolver ListResolverRuleAssociations. */
  route53Page: 100,
} as const;

/**
 * Every operation the bound models, those it puts at 0 for the spec's accounts included (reads of
 * things the accounts do not hold). The bench marks any other operation a plan makes as not modelled
 * (`-`) and counts it at what it cost; a modelled one is held to its bound, 0 or not.
 */
export const MODELLED_OPERATIONS: ReadonlySet<string> = new Set([
  'ecs:ListClusters',
  'ecs:ListContainerInstances',
  'ecs:DescribeContainerInstances',
  'ecs:ListServices',
  'ecs:DescribeServices',
  'ecs:ListTasks',
  'ecs:DescribeTasks',
  'ecs:DescribeTaskDefinition',
  'ecs:DescribeClusters', // only for ECS Exec work: the spec has none
  'ec2:DescribeInstances',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeRouteTables',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeVpcEndpointServices',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeManagedPrefixLists', // the spec's groups admit CIDRs, no prefix list
  'ec2:GetManagedPrefixListEntries',
  'ec2:DescribeVpcPeeringConnections', // only for central endpoints: the spec has no zone naming one
  'route53:ListHostedZonesByVPC',
  'route53:ListResourceRecordSets', // only of zones covering a service name: the spec has no zone
  'route53resolver:ListResolverRuleAssociations',
  'route53resolver:GetResolverRule', // only for associated rules: the spec has none
  'iam:GetInstanceProfile', // per instance profile: the spec's hosts have none
]);

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
  /**
   * Standalone tasks in an in-scope VPC: each has an ENI (every spec task is awsvpc) whose groups
   * DescribeTasks does not give.
   */
  readonly inScopeTaskInterfaces: number;
  /**
   * In-scope VPCs with an awsvpc service: the spec's configurations name no group, so their tasks carry
   * the VPC's default group.
   */
  readonly defaultGroupVpcs: ReadonlySet<string>;
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
  let inScopeTaskInterfaces = 0;
  for (const task of spec.tasks) {
    if (!landsInScope(vpcsOf(task.subnets))) continue;
    neededTaskDefinitions.add(task.taskDefinition);
    inScopeTaskInterfaces += 1;
  }
  const defaultGroupVpcs = new Set(
    spec.services.flatMap((service) => vpcsOf(service.subnets)).filter((vpc) => inScopeVpcs.has(vpc)),
  );
  return {
    workVpcs: onlyVpcs ? new Set([...workVpcs].filter(selected)) : workVpcs,
    inScopeVpcs,
    neededTaskDefinitions,
    inScopeTaskInterfaces,
    defaultGroupVpcs,
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
  // A whole-Region plan also lists the endpoints tagged as the remediator's (none in a spec): one call.
  if (onlyVpcs === undefined) add('ec2:DescribeVpcEndpoints', 1);
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
    // The groups that decide admission: the endpoints' (one per VPC that has one and an interface
    // endpoint) and the default groups the spec's group-less awsvpc services carry. One vpc-id query
    // returns both (and the managed groups), so they count as items of one listing.
    const groups =
      inScope.filter(
        (vpc) => vpc.endpointGroup && endpoints.some((e) => e.vpc === vpc.key && e.service !== 's3'),
      ).length + facts.defaultGroupVpcs.size;
    add('ec2:DescribeSecurityGroups', listPages(groups, LIMITS.ec2Page));
    add('ec2:DescribeVpcEndpointServices', 1);
    // The standalone tasks' ENIs: DescribeTasks names the interface, not its groups.
    add('ec2:DescribeNetworkInterfaces', pages(facts.inScopeTaskInterfaces, LIMITS.ec2Page));
    // How each VPC resolves service names: a private hosted zone (of this account or, associated
    // across accounts, of another) or a Resolver rule can answer them instead of Amazon-provided DNS,
    // e.g. with a central endpoint elsewhere. The zones of a VPC are listed by VPC only (no batch
    // form; ListHostedZones lists this account's zones alone): one call per in-scope VPC (the spec's
    // VPCs are the account's own and have no zones, so one page each). The Region's Resolver rule
    // associations are one listing, needed even when empty.
    add('route53:ListHostedZonesByVPC', inScope.length);
    add('route53resolver:ListResolverRuleAssociations', listPages(0, LIMITS.route53Page));
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
