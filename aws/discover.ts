/**
 * Read-only discovery of one Region: everything the engine decides on, as a {@link RegionSnapshot}.
 *
 * Order: ECS work first (it decides which VPCs matter), then the EC2 instances behind container
 * instances together with the subnets, then the VPCs hosting ECS work, then for the VPCs in scope the
 * DNS facts, route tables, endpoints and security groups, the Region's endpoint service offers and
 * the task definitions, all concurrently. An event-scoped discovery with a cluster hint reads only the
 * hinted clusters (see {@link DiscoverOptions.clusterArns}). Lists are paged at their maximum page
 * size, describes are batched at their limits, and nothing is read per resource where a batch form
 * exists.
 */
import type { Config } from '../core/config.ts';
import { isChecked } from '../core/config.ts';
import type {
  Ec2Instance,
  EcsService,
  EcsTask,
  EndpointServiceOffer,
  RegionSnapshot,
  Subnet,
  Vpc,
  VpcDns,
  VpcEndpoint,
} from '../core/model.ts';
import { vpcScope } from '../core/scope.ts';
import type { AwsClients } from './clients.ts';
import { createContext } from './discover/context.ts';
import { describeCentralEndpoints } from './discover/central.ts';
import { describeHostedZones, describeResolverRules, withRecords } from './discover/dns.ts';
import {
  describeEndpointServices,
  describeEndpointsAndGroups,
  describeTaggedEndpoints,
} from './discover/endpoints.ts';
import { describeExecClusters, discoverEcsWork } from './discover/ecs.ts';
import { withDefaultGroups, withInterfaceGroups } from './discover/interfaces.ts';
import { describePrefixLists } from './discover/prefix-lists.ts';
import { withInstanceRoles } from './discover/roles.ts';
import type { EcsWork } from './discover/ecs.ts';
import { describeHostPlaces, describeInstances } from './discover/instances.ts';
import { describeRouteTables } from './discover/routes.ts';
import { describeTaskDefinitions } from './discover/task-definitions.ts';
import type { TaskDefinitionCache } from './discover/task-definitions.ts';
import { describeDns, describeSubnets, describeSubnetsById, describeVpcs } from './discover/vpcs.ts';
import type { ClusterIndexEntries } from './discover/cluster-index.ts';
import { clustersByVpc } from './discover/cluster-index.ts';
import { describeManagedInstances } from './discover/ssm.ts';
import { restartCandidates } from '../core/restarts.ts';
import { analyseWorkloads, placementOf } from '../core/workloads.ts';
import { serviceDnsNames } from '../core/dns.ts';
import type { FindingCode } from '../core/findings.ts';
import { MANAGED_SERVICES, isManagedService, parseServiceName, serviceNameOf } from '../core/services.ts';
import { describeEndpointAliases } from './discover/endpoint-aliases.ts';
import { describeInboundResolvers } from './discover/inbound-resolvers.ts';
import { describeProfileResources } from './discover/profile-resources.ts';
import { describeSharedSubnets } from './discover/shared-subnets.ts';
import { reclaimCandidates } from '../core/reclaim.ts';
import { distinct } from './pagination.ts';

export { DiscoveryError } from './discover/context.ts';

export interface DiscoverOptions {
  /**
   * Event-scoped reconcile: only these VPCs (still only those hosting ECS work). VPC-level reads
   * cover them alone, and the ECS work listed is narrowed to what can run in them.
   */
  readonly vpcIds?: readonly string[];
  /**
   * With `vpcIds`: the ECS clusters that can have work in those VPCs (the cluster index of the last
   * whole-Region discovery, plus clusters the events name). ECS discovery then skips ListClusters, reads
   * only these clusters, and of their container instances only those in the VPCs. Without it (no index:
   * a first run, the CLI) every cluster is read. Ignored without `vpcIds`.
   */
  readonly clusterArns?: readonly string[];
  /**
   * With `vpcIds`: also list the remediator's tagged endpoints, and examine those of the VPCs among
   * `vpcIds` without ECS work for them alone, as a whole-Region discovery does (the reclaim unit of a
   * split sweep reads such VPCs again).
   */
  readonly examineIdle?: boolean;
  /** Without `vpcIds`: every cluster of the Region, listed already (ListClusters is not sent again). */
  readonly listedClusterArns?: readonly string[];
  /** Task definition revisions read before (the deployed remediator's state table): not described again. */
  readonly taskDefinitionCache?: TaskDefinitionCache;
  readonly onProgress?: (message: string) => void;
}

/** Instance states in which a container instance's agent talks to ECS (and so needs endpoints). */
const LIVE_INSTANCE_STATES = new Set(['pending', 'running']);

export async function discoverRegion(
  clients: AwsClients,
  region: string,
  config: Config,
  options: DiscoverOptions = {},
): Promise<RegionSnapshot> {
  const ctx = createContext(clients, region, options.onProgress);
  const selected = options.vpcIds === undefined ? undefined : new Set(options.vpcIds);
  // The groups of the workloads' interfaces serve the inbound check of endpoints and the outbound
  // check of the workloads: without either, none of them is read.
  const interfaceGroups =
    isChecked(config, 'ENDPOINT_SG_NO_HTTPS') || isChecked(config, 'WORKLOAD_SG_NO_HTTPS_EGRESS');

  // 1. ECS work: every cluster, or (event-scoped, with a cluster hint) the hinted ones. A whole-Region
  // discovery also reads, meanwhile, the endpoints tagged as the remediator's wherever they are: the
  // VPCs that hold some but no longer host ECS work are examined for them alone (ENDPOINT_UNUSED).
  // Refused, the read is skipped: such a reconcile then never counts toward the reclaim. With
  // `examineIdle`, the same for the VPCs selected.
  const taggedRead =
    (selected === undefined || options.examineIdle === true) && isChecked(config, 'ENDPOINT_UNUSED')
      ? ctx
          .optional('ec2:DescribeVpcEndpoints', undefined, () => describeTaggedEndpoints(ctx), [])
          .then((found) => (selected ? found.filter((endpoint) => selected.has(endpoint.vpcId)) : found))
      : Promise.resolve([]);
  const [work, tagged] = await Promise.all([
    discoverEcsWork(
      ctx,
      selected && options.clusterArns
        ? { clusterArns: options.clusterArns, vpcIds: [...selected] }
        : undefined,
      selected ? undefined : options.listedClusterArns,
    ),
    taggedRead,
  ]);
  const awsvpcSubnetIds = distinct([
    ...work.services.flatMap((s) => s.subnetIds),
    ...work.tasks.flatMap((t) => t.subnetIds),
  ]);
  const hostsWork = work.containerInstances.length > 0 || awsvpcSubnetIds.length > 0;

  // 2 and 3a. The instances behind container instances, and the subnets (see describeSubnets).
  const [allInstances, seenSubnets] = await Promise.all([
    // Without the group checks, the hosts' places come from ECS attributes and EC2 is asked only
    // which hosts are not live.
    interfaceGroups
      ? describeInstances(
          ctx,
          work.containerInstances.map((ci) => ci.ec2InstanceId),
        )
      : describeHostPlaces(ctx, work.containerInstances),
    hostsWork && selected?.size !== 0
      ? describeSubnets(ctx, selected && [...selected])
      : Promise.resolve<Subnet[]>([]),
  ]);

  // 3b. The VPCs hosting ECS work: those of live container-instance hosts and of awsvpc subnets.
  const vpcOfSubnet = new Map(seenSubnets.map((subnet) => [subnet.subnetId, subnet.vpcId]));
  const workVpcIds = new Set<string>();
  for (const instance of allInstances) {
    if (LIVE_INSTANCE_STATES.has(instance.state)) workVpcIds.add(instance.vpcId);
  }
  for (const subnetId of awsvpcSubnetIds) {
    const vpcId = vpcOfSubnet.get(subnetId);
    if (vpcId !== undefined) workVpcIds.add(vpcId);
  }
  if (selected) for (const vpcId of workVpcIds) if (!selected.has(vpcId)) workVpcIds.delete(vpcId);
  // VPCs without ECS work that hold the remediator's endpoints: read in the same DescribeVpcs.
  const idleIds = new Set(
    tagged
      .filter((endpoint) => endpoint.state !== 'deleting' && !workVpcIds.has(endpoint.vpcId))
      .map((endpoint) => endpoint.vpcId),
  );
  const allRecords = await describeVpcs(ctx, [...workVpcIds, ...idleIds]);
  const vpcRecords = allRecords.filter((record) => !idleIds.has(record.vpc.vpcId));
  const idleVpcs = allRecords
    .filter((record) => idleIds.has(record.vpc.vpcId) && vpcScope(record.vpc, config).inScope)
    .map((record) => record.vpc);
  const idleVpcIds = new Set(idleVpcs.map((vpc) => vpc.vpcId));
  const idleEndpoints = tagged.filter((endpoint) => idleVpcIds.has(endpoint.vpcId));
  const vpcIds = new Set(vpcRecords.map((record) => record.vpc.vpcId));
  const subnets = seenSubnets.filter((subnet) => vpcIds.has(subnet.vpcId));
  const inScope = vpcRecords.filter((record) => vpcScope(record.vpc, config).inScope);
  const inScopeIds = inScope.map((record) => record.vpc.vpcId);
  ctx.progress(
    `ec2: ${vpcRecords.length} VPCs host ECS work (${inScope.length} in scope), ${subnets.length} subnets` +
      (idleVpcs.length > 0 ? `; ${idleVpcs.length} more hold only the remediator's endpoints` : ''),
  );

  const scopedWork = selected
    ? narrowToVpcs(work, allInstances, vpcIds, subnets)
    : { ...work, ec2Instances: allInstances };
  const accountId = accountOf(work);
  // Route 53 reads serve the endpoint checks of VPCs this account owns (a shared VPC's endpoints are
  // out of its sight anyway).
  const dnsVpcIds = ENDPOINT_DNS_CODES.some((code) => isChecked(config, code))
    ? inScope
        .filter(
          (record) =>
            record.vpc.ownerId === undefined || accountId === undefined || record.vpc.ownerId === accountId,
        )
        .map((record) => record.vpc.vpcId)
    : [];
  // Task definitions only of work that can run in a VPC in scope: nothing else is examined.
  const inScopeSet = new Set(inScopeIds);
  const examined = narrowToVpcs(
    work,
    allInstances,
    inScopeSet,
    subnets.filter((subnet) => inScopeSet.has(subnet.vpcId)),
  );
  const taskDefinitionArns = distinct([
    ...examined.services.flatMap((service) => service.taskDefinitionArns),
    ...examined.tasks.map((task) => task.taskDefinitionArn),
  ]);

  // The workloads' interfaces: task ENI groups and default groups, then (for the outbound check)
  // every group those interfaces carry, read with the endpoints' groups.
  const tasksRead = interfaceGroups
    ? withInterfaceGroups(ctx, scopedWork.tasks, new Set(examined.tasks.map((task) => task.taskArn)))
    : Promise.resolve([...scopedWork.tasks]);
  const servicesRead = interfaceGroups
    ? withDefaultGroups(
        ctx,
        scopedWork.services,
        subnets,
        new Set(examined.services.map((service) => service.serviceArn)),
      )
    : Promise.resolve([...scopedWork.services]);
  const workloadGroupIds = isChecked(config, 'WORKLOAD_SG_NO_HTTPS_EGRESS')
    ? Promise.all([tasksRead, servicesRead]).then(([readTasks, readServices]) => {
        const examinedTasks = new Set(examined.tasks.map((task) => task.taskArn));
        const examinedServices = new Set(examined.services.map((service) => service.serviceArn));
        return distinct([
          ...examined.ec2Instances.flatMap((instance) => instance.securityGroupIds),
          ...readTasks
            .filter((task) => examinedTasks.has(task.taskArn))
            .flatMap((task) => task.securityGroupIds ?? []),
          ...readServices
            .filter((service) => examinedServices.has(service.serviceArn))
            .flatMap((service) => service.networks.flatMap((network) => network.securityGroupIds)),
        ]).sort();
      })
    : Promise.resolve([]);

  // 4-8, the task definitions and the facts of the workloads' interfaces: independent of each other.
  const [
    dns,
    routeTables,
    { endpoints, securityGroups },
    endpointServices,
    taskDefinitions,
    clusters,
    zonesWithoutRecords,
    resolverRules,
    tasks,
    services,
    ec2Instances,
  ] = await Promise.all([
    // DNS facts serve only the DNS checks: skipped (2 calls per VPC) when both are disabled.
    isChecked(config, 'VPC_DNS_DISABLED') || isChecked(config, 'VPC_CUSTOM_DNS')
      ? describeDns(ctx, inScope)
      : Promise.resolve(new Map<string, VpcDns>()),
    describeRouteTables(ctx, inScopeIds),
    describeEndpointsAndGroups(ctx, inScopeIds, workloadGroupIds),
    inScopeIds.length > 0 ? describeEndpointServices(ctx) : Promise.resolve([]),
    describeTaskDefinitions(ctx, taskDefinitionArns, options.taskDefinitionCache),
    describeExecClusters(ctx, examined),
    describeHostedZones(ctx, dnsVpcIds),
    dnsVpcIds.length > 0 ? describeResolverRules(ctx, dnsVpcIds) : Promise.resolve([]),
    tasksRead,
    servicesRead,
    // Instance roles serve only the endpoint policy check.
    isChecked(config, 'ENDPOINT_POLICY_DENIES')
      ? withInstanceRoles(
          ctx,
          scopedWork.ec2Instances,
          new Set(examined.ec2Instances.map((instance) => instance.instanceId)),
        )
      : Promise.resolve(scopedWork.ec2Instances),
  ]);
  // The zones' records, once the services' private DNS names are known; then the endpoints they
  // point at; then the prefix lists any of the groups refer to.
  const serviceNames = MANAGED_SERVICES.flatMap((service) =>
    serviceDnsNames(
      region,
      service,
      endpointServices.find((offer) => offer.serviceName === serviceNameOf(region, service))?.privateDnsNames,
    ),
  );
  const hostedZones = await withRecords(ctx, zonesWithoutRecords, serviceNames);
  const central = await describeCentralEndpoints(ctx, hostedZones, endpoints, dnsVpcIds);
  const allGroups = [...securityGroups, ...central.securityGroups];
  const prefixLists =
    interfaceGroups || central.endpoints.length > 0
      ? await describePrefixLists(
          ctx,
          distinct(
            allGroups.flatMap((group) =>
              [...group.ingress, ...(group.egress ?? [])].flatMap((rule) => rule.prefixListIds ?? []),
            ),
          ).sort(),
        )
      : [];
  const scoped = { ...scopedWork, tasks, services, ec2Instances };

  const vpcs = [
    ...vpcRecords.map(({ vpc }): Vpc => {
      const vpcDns = dns.get(vpc.vpcId);
      return vpcDns ? { ...vpc, dns: vpcDns } : vpc;
    }),
    ...idleVpcs,
  ];
  const snapshot: RegionSnapshot = {
    region,
    ...(accountId === undefined ? {} : { accountId }),
    vpcs: sortBy(vpcs, (vpc) => vpc.vpcId),
    subnets: sortBy(subnets, (subnet) => subnet.subnetId),
    routeTables: sortBy([...routeTables, ...central.routeTables], (table) => table.routeTableId),
    endpoints: sortBy([...endpoints, ...idleEndpoints], (endpoint) => endpoint.vpcEndpointId),
    ...(idleVpcs.length > 0 ? { idleVpcIds: [...idleVpcIds].sort() } : {}),
    securityGroups: sortBy(
      distinctBy(allGroups, (group) => group.groupId),
      (group) => group.groupId,
    ),
    endpointServices,
    containerInstances: sortBy(scoped.containerInstances, (ci) => ci.containerInstanceArn),
    ec2Instances: sortBy(scoped.ec2Instances, (instance) => instance.instanceId),
    services: sortBy(scoped.services, (service) => service.serviceArn),
    tasks: sortBy(scoped.tasks, (task) => task.taskArn),
    taskDefinitions: sortBy(taskDefinitions, (definition) => definition.taskDefinitionArn),
    ...(clusters.length > 0 ? { clusters: sortBy(clusters, (cluster) => cluster.clusterArn) } : {}),
    ...(prefixLists.length > 0 ? { prefixLists: sortBy(prefixLists, (list) => list.prefixListId) } : {}),
    ...(hostedZones.length > 0 ? { hostedZones: sortBy(hostedZones, (zone) => zone.hostedZoneId) } : {}),
    ...(resolverRules.length > 0
      ? { resolverRules: sortBy(resolverRules, (rule) => rule.resolverRuleId) }
      : {}),
    ...(central.endpoints.length > 0
      ? {
          centralEndpoints: sortBy(central.endpoints, (endpoint) => endpoint.vpcEndpointId),
          centralSubnets: sortBy(central.subnets, (subnet) => subnet.subnetId),
          peerings: sortBy(central.peerings, (peering) => peering.peeringConnectionId),
        }
      : {}),
  };
  // The remediator's endpoints that may be unneeded (core decides which): what may keep them in use
  // out of this VPC's sight, read only when there are some. Zones that point other VPCs at them
  // (hub-and-spoke), Resolver inbound endpoints that answer other networks from their VPCs (the
  // Resolver form of hub-and-spoke), subnets of their VPCs this account shares (AWS RAM), and Route
  // 53 Profiles that carry them, or zones that point at them, to the VPCs they are associated with.
  // Analysed once: the reclaim's candidates and the restarts' below both weigh the workloads.
  const analysed = analyseWorkloads(snapshot);
  const unneeded = isChecked(config, 'ENDPOINT_UNUSED') ? reclaimCandidates(snapshot, config, analysed) : [];
  const unneededVpcs = distinct(unneeded.map((endpoint) => endpoint.vpcId)).sort();
  const [endpointAliases, sharedSubnets, inboundResolvers, profiled] =
    unneeded.length > 0
      ? await Promise.all([
          describeEndpointAliases(
            ctx,
            unneeded,
            aliasNamesOf(region, unneeded, endpointServices),
            hostedZones,
          ),
          describeSharedSubnets(ctx, unneededVpcs, subnets),
          describeInboundResolvers(ctx, unneededVpcs),
          describeProfileResources(
            ctx,
            unneeded.map((endpoint) => endpoint.vpcEndpointId),
          ),
        ])
      : [undefined, undefined, undefined, undefined];
  // Of the zones the Profiles carry, those with an alias to one of the endpoints (as read above).
  const aliasingZones = new Set((endpointAliases ?? []).map((alias) => alias.hostedZoneId));
  const profileResources = (profiled ?? []).filter(
    (resource) => resource.kind === 'vpc-endpoint' || aliasingZones.has(resource.resourceId),
  );
  // Last: SSM facts, only for the instances that may owe an agent restart or update (core decides).
  const workloads = [...analysed.values()].filter((w) => inScopeSet.has(w.vpc.vpcId));
  const candidates = restartCandidates(snapshot, workloads, config);
  const ssmInstances = candidates.length > 0 ? await describeManagedInstances(ctx, candidates) : [];
  return {
    ...snapshot,
    ...(endpointAliases !== undefined && endpointAliases.length > 0
      ? {
          endpointAliases: sortBy(
            endpointAliases,
            (alias) => `${alias.vpcEndpointId}#${alias.hostedZoneId}#${alias.recordName}`,
          ),
        }
      : {}),
    ...(sharedSubnets !== undefined && sharedSubnets.length > 0
      ? { sharedSubnets: sortBy(sharedSubnets, (share) => `${share.subnetId}#${share.resourceShareArn}`) }
      : {}),
    ...(inboundResolvers !== undefined && inboundResolvers.length > 0
      ? { inboundResolvers: sortBy(inboundResolvers, (endpoint) => endpoint.resolverEndpointId) }
      : {}),
    ...(profileResources.length > 0
      ? {
          profileResources: sortBy(
            profileResources,
            (resource) => `${resource.profileId}#${resource.kind}#${resource.resourceId}`,
          ),
        }
      : {}),
    ssmInstances: sortBy(ssmInstances, (managed) => managed.instanceId),
    ...(ctx.skipped.length > 0 ? { skippedReads: [...ctx.skipped] } : {}),
  };
}

/**
 * An index shard of a split sweep (core/units.ts): where the given clusters work, as VPC → clusters
 * entries. Reads the clusters' container instances, services and standalone tasks, the VPCs of the
 * container instances' hosts (from their ECS attributes where they have them) and of the awsvpc
 * subnets, and nothing VPC-level. A cluster deleted since the split has no work.
 */
export async function discoverClusterPlaces(
  clients: AwsClients,
  region: string,
  clusterArns: readonly string[],
  onProgress?: (message: string) => void,
): Promise<ClusterIndexEntries> {
  const ctx = createContext(clients, region, onProgress);
  const work = await discoverEcsWork(ctx, { clusterArns });
  const subnetIds = distinct([
    ...work.services.flatMap((s) => s.subnetIds),
    ...work.tasks.flatMap((t) => t.subnetIds),
  ]).sort();
  const [ec2Instances, subnets] = await Promise.all([
    describeHostPlaces(ctx, work.containerInstances),
    subnetIds.length > 0 ? describeSubnetsById(ctx, subnetIds) : Promise.resolve<Subnet[]>([]),
  ]);
  return clustersByVpc({ ...work, ec2Instances, subnets });
}

/** The DNS names of the endpoints' services: the names a zone pointing at them would cover. */
function aliasNamesOf(
  region: string,
  endpoints: readonly VpcEndpoint[],
  offers: readonly EndpointServiceOffer[],
): string[] {
  return distinct(
    endpoints.flatMap((endpoint) => {
      const parsed = parseServiceName(endpoint.serviceName);
      if (parsed?.region !== region || !isManagedService(parsed.service)) return [];
      const offer = offers.find((o) => o.serviceName === endpoint.serviceName);
      return serviceDnsNames(region, parsed.service, offer?.privateDnsNames);
    }),
  ).sort();
}

/** The checks whose verdicts depend on how the VPC resolves service names (Route 53). */
const ENDPOINT_DNS_CODES: readonly FindingCode[] = [
  'ENDPOINT_MISSING',
  'CENTRAL_DNS_RECORD_MISSING',
  'CENTRAL_ENDPOINT_UNREACHABLE',
];

/** The account discovered: every ECS ARN of the Region names it (`arn:aws:ecs:<region>:<account>:…`). */
function accountOf(work: EcsWork): string | undefined {
  const arn = work.clusterArns[0] ?? work.containerInstances[0]?.containerInstanceArn;
  return arn === undefined ? undefined : /^arn:[^:]+:ecs:[^:]*:(\d{12}):/.exec(arn)?.[1];
}

function distinctBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

interface ScopedWork extends Omit<EcsWork, 'clusterArns'> {
  readonly ec2Instances: readonly Ec2Instance[];
}

/**
 * The ECS work that can run in the given VPCs: container instances hosted there, services and
 * tasks with awsvpc subnets there, and work of clusters with container instances there (on EC2 the
 * agent pulls images and ships logs from the host). A superset is harmless; it spares reading the
 * task definitions of work elsewhere.
 */
function narrowToVpcs(
  work: EcsWork,
  instances: readonly Ec2Instance[],
  vpcIds: ReadonlySet<string>,
  subnets: readonly Subnet[],
): ScopedWork {
  const ec2Instances = instances.filter((instance) => vpcIds.has(instance.vpcId));
  const instanceIds = new Set(ec2Instances.map((instance) => instance.instanceId));
  const containerInstances = work.containerInstances.filter((ci) => instanceIds.has(ci.ec2InstanceId));
  const clusters = new Set(containerInstances.map((ci) => ci.clusterArn));
  const subnetIds = new Set(subnets.map((subnet) => subnet.subnetId));
  // Fargate work lands only in its own subnets' VPCs; EC2 work also where its cluster has hosts.
  const onClusterHosts = (item: EcsService | EcsTask): boolean =>
    clusters.has(item.clusterArn) &&
    placementOf(
      item.launchType,
      'serviceArn' in item
        ? item.capacityProviders
        : item.capacityProviderName
          ? [item.capacityProviderName]
          : [],
    ) === 'ec2';
  const runsHere = (item: EcsService | EcsTask): boolean =>
    onClusterHosts(item) || item.subnetIds.some((subnetId) => subnetIds.has(subnetId));
  return {
    ec2Instances,
    containerInstances,
    services: work.services.filter(runsHere),
    tasks: work.tasks.filter(runsHere),
  };
}

function sortBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
