/**
 * The synthetic accounts of the benchmark: a deterministic description of every resource (no I/O).
 * bench/moto_bench_server.py builds it in moto; bench/lower-bound.ts derives from it the fewest API
 * calls any discovery of that account could make.
 *
 * The mix (per the issue): EC2 and Fargate clusters, private ECR and public images, awslogs, Secrets
 * Manager and SSM secrets, VPCs with NAT, internet gateway or no egress, some VPCs tagged ignore (out
 * of scope), some without ECS work (idle), a few stopped container-instance hosts, outdated agents,
 * custom DNS, and endpoints already present in part of the VPCs.
 *
 * One VPC, vpc-000 (the event-scoped plan's), holds the same work at every size: the probe of
 * {@link PROBE}. Everything else is spread over the other VPCs, so the account grows around it.
 */

export type SizeName = 'S' | 'M' | 'L' | 'XL';

export interface SizeParams {
  readonly vpcs: number;
  readonly clusters: number;
  readonly containerInstances: number;
  readonly services: number;
  readonly taskDefinitions: number;
  readonly endpoints: number;
  /** Standalone Fargate tasks (RunTask, outside services). */
  readonly tasks: number;
}

/**
 * S, M and L of the issue; S's services, task definitions, endpoints and every size's tasks are ours.
 * XL is 5 × L in every count (issue 11: how large an account one invocation handles).
 */
export const SIZES: Readonly<Record<SizeName, SizeParams>> = {
  S: {
    vpcs: 10,
    clusters: 5,
    containerInstances: 50,
    services: 25,
    taskDefinitions: 10,
    endpoints: 25,
    tasks: 5,
  },
  M: {
    vpcs: 100,
    clusters: 50,
    containerInstances: 1000,
    services: 500,
    taskDefinitions: 200,
    endpoints: 500,
    tasks: 50,
  },
  L: {
    vpcs: 300,
    clusters: 150,
    containerInstances: 5000,
    services: 2000,
    taskDefinitions: 800,
    endpoints: 2000,
    tasks: 150,
  },
  XL: {
    vpcs: 1500,
    clusters: 750,
    containerInstances: 25_000,
    services: 10_000,
    taskDefinitions: 4000,
    endpoints: 10_000,
    tasks: 750,
  },
};

/** A subnet of the spec: the `az`-th private subnet of VPC `vpc`. */
export interface SubnetRef {
  readonly vpc: string;
  readonly az: number;
}

export interface VpcSpec {
  readonly key: string;
  readonly egress: 'nat' | 'igw' | 'none';
  /** Tagged ecs-endpoint-remediator/ignore=true: hosts work but is out of scope. */
  readonly ignored: boolean;
  /** No ECS work placed here. */
  readonly idle: boolean;
  readonly dnsHostnames: boolean;
  readonly customDns: boolean;
  /** Private subnets, one per AZ. */
  readonly azs: number;
  /** A security group "endpoints" admitting 443 from the VPC, used by the pre-existing endpoints. */
  readonly endpointGroup: boolean;
}

export interface ClusterSpec {
  readonly name: string;
  readonly kind: 'ec2' | 'fargate';
  readonly capacityProviders?: readonly string[];
}

export interface InstanceSpec extends SubnetRef {
  readonly cluster: string;
  readonly agentVersion: string;
  readonly stopped: boolean;
}

export interface ContainerSpec {
  readonly image: string;
  readonly awslogs: boolean;
  readonly secrets: readonly string[];
}

export interface TaskDefinitionSpec {
  readonly family: string;
  readonly compat: 'EC2' | 'FARGATE';
  readonly containers: readonly ContainerSpec[];
}

export interface ServiceSpec {
  readonly cluster: string;
  readonly name: string;
  readonly taskDefinition: string;
  readonly launchType: 'EC2' | 'FARGATE';
  /** awsvpc subnets; absent for bridge-mode EC2 services. */
  readonly subnets?: readonly SubnetRef[];
}

export interface TaskSpec {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly subnets: readonly SubnetRef[];
}

export interface EndpointSpec {
  readonly vpc: string;
  readonly service: string;
}

export interface AccountSpec {
  readonly size: SizeName;
  readonly region: string;
  readonly accountId: string;
  readonly vpcs: readonly VpcSpec[];
  readonly clusters: readonly ClusterSpec[];
  readonly instances: readonly InstanceSpec[];
  readonly taskDefinitions: readonly TaskDefinitionSpec[];
  readonly services: readonly ServiceSpec[];
  readonly tasks: readonly TaskSpec[];
  readonly endpoints: readonly EndpointSpec[];
}

/** The order pre-existing endpoints are spread in: the commonest first, so VPCs are partly covered. */
export const ENDPOINT_ORDER = [
  's3',
  'ecr.dkr',
  'ecr.api',
  'logs',
  'ecs-agent',
  'ecs-telemetry',
  'ecs',
  'secretsmanager',
  'ssm',
  'ssmmessages',
  'ec2messages',
] as const;

/**
 * vpc-000's work, the same at every size: one EC2 cluster whose hosts are all there, one Fargate
 * cluster whose services and task are all there, and the first endpoints of ENDPOINT_ORDER. No other
 * cluster has work in vpc-000, and these two have none elsewhere.
 */
export const PROBE = {
  vpc: 'vpc-000',
  /** Indexes into the clusters: ec2-0 and fargate-2. */
  ec2Cluster: 0,
  fargateCluster: 2,
  /** Hosts of ec2-0: host 3 runs an old agent, host 7 is stopped. */
  instances: 8,
  /** Bridge services on ec2-0 and awsvpc services on fargate-2 (their first task definitions). */
  ec2Services: 2,
  fargateServices: 2,
  /** Standalone Fargate tasks on fargate-2. */
  tasks: 1,
  /** The first endpoints of ENDPOINT_ORDER. */
  endpoints: 3,
} as const;

const at = <T>(items: readonly T[], index: number): T => {
  const item = items[index % items.length];
  if (item === undefined) throw new RangeError('empty list');
  return item;
};

/** Splits `total` into `parts` near-equal shares (the first ones one larger). */
export function spread(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export function buildSpec(size: SizeName, accountId: string, region = 'us-east-1'): AccountSpec {
  const p = SIZES[size];
  // VPCs: 1 in 10 idle (no ECS work), 1 in 10 ignored; egress 4 NAT : 2 IGW : 4 none; 1 in 20 with
  // enableDnsHostnames off, 1 in 20 with custom DNS servers; 2 AZs, every third VPC 3.
  const vpcs: VpcSpec[] = Array.from({ length: p.vpcs }, (_, i) => ({
    key: `vpc-${String(i).padStart(3, '0')}`,
    egress: at(['nat', 'none', 'igw', 'nat', 'none', 'nat', 'none', 'igw', 'nat', 'none'] as const, i),
    idle: i % 10 === 9,
    ignored: i % 10 === 4,
    dnsHostnames: i % 20 !== 7,
    customDns: i % 20 === 13,
    azs: i % 3 === 2 ? 3 : 2,
    endpointGroup: i % 2 === 0,
  }));
  // vpc-000 (in scope, NAT egress, 2 AZs) takes the probe's work only; the rest goes elsewhere.
  const probeVpc = at(vpcs, 0);
  const workVpcs = vpcs.filter((vpc) => !vpc.idle && vpc !== probeVpc);

  // Clusters: two in three run EC2 container instances, one in three is Fargate only. Each cluster
  // has a home VPC (round robin over the VPCs with work); one EC2 cluster in five spans a second VPC.
  const clusters: ClusterSpec[] = Array.from({ length: p.clusters }, (_, i) =>
    i % 3 === 2
      ? { name: `fargate-${i}`, kind: 'fargate', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }
      : { name: `ec2-${i}`, kind: 'ec2' },
  );
  const homeOf = (clusterIndex: number): VpcSpec => at(workVpcs, clusterIndex);
  const probeEc2 = at(clusters, PROBE.ec2Cluster);
  const probeFargate = at(clusters, PROBE.fargateCluster);
  const isProbe = (cluster: ClusterSpec) => cluster === probeEc2 || cluster === probeFargate;
  const otherClusters = clusters.filter((cluster) => !isProbe(cluster));
  const ec2Clusters = clusters.flatMap((cluster, i) =>
    cluster.kind === 'ec2' && !isProbe(cluster) ? [{ cluster, i }] : [],
  );

  const instances: InstanceSpec[] = Array.from({ length: PROBE.instances }, (_, n) => ({
    cluster: probeEc2.name,
    vpc: probeVpc.key,
    az: n % probeVpc.azs,
    agentVersion: n === 3 ? '1.20.0' : '1.80.0',
    stopped: n === 7,
  }));
  const perCluster = spread(p.containerInstances - PROBE.instances, ec2Clusters.length);
  ec2Clusters.forEach(({ cluster, i }, k) => {
    const home = homeOf(i);
    const second = at(workVpcs, i + Math.floor(workVpcs.length / 2));
    for (let n = 0; n < (perCluster[k] ?? 0); n++) {
      const vpc = i % 5 === 0 && n % 2 === 1 ? second : home;
      instances.push({
        cluster: cluster.name,
        vpc: vpc.key,
        az: n % vpc.azs,
        agentVersion: n % 20 === 3 ? '1.20.0' : '1.80.0',
        stopped: n % 50 === 7,
      });
    }
  });

  // Task definitions: half EC2 (bridge), half Fargate (awsvpc). Images 3 in 5 private ECR of this
  // Region, else public (Docker Hub, ECR Public) or another Region's ECR; awslogs 7 in 10; secrets
  // from Secrets Manager 1 in 5, SSM parameters 1 in 5.
  const ecr = (repo: string, r = region) => `${accountId}.dkr.ecr.${r}.amazonaws.com/${repo}:1.0`;
  const publicImages = ['docker.io/library/nginx:1.27', 'public.ecr.aws/docker/library/redis:7'];
  const taskDefinitions: TaskDefinitionSpec[] = Array.from({ length: p.taskDefinitions }, (_, i) => {
    const image =
      i % 5 < 3 ? ecr(`app-${i}`) : i % 5 === 3 ? at(publicImages, i) : ecr(`app-${i}`, 'eu-west-1');
    const secrets = [
      ...(i % 5 === 1 ? [`arn:aws:secretsmanager:${region}:${accountId}:secret:app-${i}-AbCdEf`] : []),
      ...(i % 5 === 2 ? [`arn:aws:ssm:${region}:${accountId}:parameter/app/${i}/password`] : []),
    ];
    const containers: ContainerSpec[] = [{ image, awslogs: i % 10 < 7, secrets }];
    if (i % 4 === 0) containers.push({ image: at(publicImages, i + 1), awslogs: i % 10 < 7, secrets: [] });
    return { family: `td-${i}`, compat: i % 2 === 0 ? 'EC2' : 'FARGATE', containers };
  });
  const ec2Tds = taskDefinitions.filter((td) => td.compat === 'EC2');
  const fargateTds = taskDefinitions.filter((td) => td.compat === 'FARGATE');

  // Services: half EC2 (bridge mode) in the EC2 clusters, half Fargate with awsvpc subnets in a VPC
  // of their own (round robin over the VPCs with work), in the Fargate clusters and some EC2 ones.
  const probeSubnets = Array.from({ length: probeVpc.azs }, (_, az) => ({ vpc: probeVpc.key, az }));
  const services: ServiceSpec[] = [
    ...Array.from({ length: PROBE.ec2Services }, (_, i) => ({
      cluster: probeEc2.name,
      name: `probe-ec2-${i}`,
      taskDefinition: at(ec2Tds, i).family,
      launchType: 'EC2' as const,
    })),
    ...Array.from({ length: PROBE.fargateServices }, (_, i) => ({
      cluster: probeFargate.name,
      name: `probe-fargate-${i}`,
      taskDefinition: at(fargateTds, i).family,
      launchType: 'FARGATE' as const,
      subnets: probeSubnets,
    })),
  ];
  for (let i = 0; i < p.services - PROBE.ec2Services - PROBE.fargateServices; i++) {
    if (i % 2 === 0 && ec2Clusters.length > 0) {
      const { cluster } = at(ec2Clusters, i / 2);
      services.push({
        cluster: cluster.name,
        name: `svc-${i}`,
        taskDefinition: at(ec2Tds, i / 2).family,
        launchType: 'EC2',
      });
    } else {
      const cluster = at(otherClusters, Math.floor(i / 2));
      const vpc = at(workVpcs, Math.floor(i / 2) * 7);
      const subnets = Array.from({ length: vpc.azs }, (_, az) => ({ vpc: vpc.key, az }));
      services.push({
        cluster: cluster.name,
        name: `svc-${i}`,
        taskDefinition: at(fargateTds, Math.floor(i / 2)).family,
        launchType: 'FARGATE',
        subnets,
      });
    }
  }
  const tasks: TaskSpec[] = [
    ...Array.from({ length: PROBE.tasks }, (_, i) => ({
      cluster: probeFargate.name,
      taskDefinition: at(fargateTds, PROBE.fargateServices + i).family,
      subnets: [{ vpc: probeVpc.key, az: i % probeVpc.azs }],
    })),
    ...Array.from({ length: p.tasks - PROBE.tasks }, (_, i) => {
      const vpc = at(workVpcs, i * 3 + 1);
      return {
        cluster: at(otherClusters, i).name,
        taskDefinition: at(fargateTds, i * 5 + 3).family,
        subnets: [{ vpc: vpc.key, az: i % vpc.azs }],
      };
    }),
  ];

  // Endpoints: vpc-000 has the probe's; of the rest the i-th goes to the i mod n-th other VPC with
  // the (i div n)-th service of ENDPOINT_ORDER, so every VPC has the first few services and lacks the
  // rest. Idle VPCs get theirs too (moto creates them).
  const otherVpcs = vpcs.filter((vpc) => vpc !== probeVpc);
  const endpoints: EndpointSpec[] = ENDPOINT_ORDER.slice(0, PROBE.endpoints).map((service) => ({
    vpc: probeVpc.key,
    service,
  }));
  const more = Math.min(p.endpoints - PROBE.endpoints, otherVpcs.length * ENDPOINT_ORDER.length);
  for (let i = 0; i < more; i++) {
    endpoints.push({
      vpc: at(otherVpcs, i).key,
      service: at(ENDPOINT_ORDER, Math.floor(i / otherVpcs.length)),
    });
  }
  return { size, region, accountId, vpcs, clusters, instances, taskDefinitions, services, tasks, endpoints };
}
