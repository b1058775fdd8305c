/**
 * The discovered state of one AWS Region: the facts the engine decides on.
 *
 * Discovery (aws/discover.ts) fills it from read-only API calls; everything in core/ is a pure
 * function of it and the config. It is plain data (JSON-serialisable), so a snapshot can be saved,
 * replayed in a test, or diffed between runs.
 */

/** Tags of a resource as a plain map. */
export type Tags = Readonly<Record<string, string>>;

export interface VpcDns {
  /** `enableDnsSupport`: the Amazon-provided resolver answers in the VPC. */
  readonly support: boolean;
  /** `enableDnsHostnames`: needed for private DNS names of interface endpoints. */
  readonly hostnames: boolean;
  /** `domain-name-servers` of the VPC's DHCP option set; `['AmazonProvidedDNS']` by default. */
  readonly dhcpDnsServers: readonly string[];
}

export interface Vpc {
  readonly vpcId: string;
  /** IPv4 CIDR blocks associated with the VPC (primary first). */
  readonly cidrBlocks: readonly string[];
  readonly tags: Tags;
  /** DNS facts; discovery reads them only for VPCs in scope (they cost a call per VPC). */
  readonly dns?: VpcDns;
}

export interface Subnet {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly cidrBlock: string;
}

export interface Route {
  /** `0.0.0.0/0`, `::/0`, a CIDR, or a prefix list id. */
  readonly destination: string;
  /** The target's id: `igw-…`, `nat-…`, `eigw-…`, `tgw-…`, `pcx-…`, `eni-…`, `vpce-…`, `local`, … */
  readonly target: string;
  /** False for blackhole routes: they carry no traffic. */
  readonly active: boolean;
}

export interface RouteTable {
  readonly routeTableId: string;
  readonly vpcId: string;
  /** The VPC's main route table serves every subnet without an explicit association. */
  readonly main: boolean;
  readonly subnetIds: readonly string[];
  readonly routes: readonly Route[];
}

/** Lower-case endpoint states as the EC2 API returns them (the SDK enum is capitalised). */
export type EndpointState =
  | 'pendingacceptance'
  | 'pending'
  | 'available'
  | 'deleting'
  | 'deleted'
  | 'rejected'
  | 'failed'
  | 'expired'
  | 'partial';

export interface VpcEndpoint {
  readonly vpcEndpointId: string;
  readonly vpcId: string;
  /** Full service name, e.g. `com.amazonaws.us-east-1.ecs-agent`. */
  readonly serviceName: string;
  /** `Interface`, `Gateway` or `GatewayLoadBalancer`. */
  readonly type: string;
  readonly state: EndpointState;
  readonly privateDnsEnabled: boolean;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly routeTableIds: readonly string[];
  readonly tags: Tags;
}

export interface IngressRule {
  /** `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number as a string. */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrs: readonly string[];
  /** Security groups allowed as sources. */
  readonly sourceGroupIds: readonly string[];
}

export interface SecurityGroup {
  readonly groupId: string;
  readonly vpcId: string;
  readonly groupName: string;
  readonly tags: Tags;
  readonly ingress: readonly IngressRule[];
}

/** What the Region offers for one AWS service name (DescribeVpcEndpointServices). */
export interface EndpointServiceOffer {
  readonly serviceName: string;
  /** `Interface` and/or `Gateway` (S3 and DynamoDB offer both under one name). */
  readonly types: readonly string[];
  readonly availabilityZones: readonly string[];
}

export interface ContainerInstance {
  readonly clusterArn: string;
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string;
  /** `versionInfo.agentVersion`, absent when the agent never reported one. */
  readonly agentVersion?: string;
  readonly agentConnected: boolean;
  /** `ACTIVE`, `DRAINING`, `REGISTERING`, … */
  readonly status: string;
  /** ISO-8601 time of registration, when known. */
  readonly registeredAt?: string;
  /** ECS attributes with a value, e.g. `ecs.os-type`, `ecs.os-family`, `ecs.ami-id`. */
  readonly attributes: Tags;
}

export interface Ec2Instance {
  readonly instanceId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  /** Empty when not read: only ENDPOINT_SG_NO_HTTPS needs them (`checks.disabled`). */
  readonly securityGroupIds: readonly string[];
  /** `running`, `pending`, `stopped`, … */
  readonly state: string;
}

export interface EcsService {
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly serviceName: string;
  /** `EC2`, `FARGATE` or `EXTERNAL`; absent when a capacity provider strategy is used. */
  readonly launchType?: string;
  /** Capacity provider names of the service's strategy (`FARGATE`, `FARGATE_SPOT`, or an ASG provider). */
  readonly capacityProviders: readonly string[];
  /** awsvpc subnets of the service's tasks (empty for bridge/host networking). */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** The service's task definition and those of deployments still in progress. */
  readonly taskDefinitionArns: readonly string[];
  readonly serviceConnect: boolean;
}

/** A running task started outside any service (RunTask / StartTask). */
export interface EcsTask {
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly launchType?: string;
  readonly capacityProviderName?: string;
  readonly taskDefinitionArn: string;
  /** Subnet of the task's awsvpc network interface, if any. */
  readonly subnetIds: readonly string[];
  readonly containerInstanceArn?: string;
}

export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly logDriver?: string;
  /** `valueFrom` of `secrets[]` and of `logConfiguration.secretOptions[]`. */
  readonly secretRefs: readonly string[];
  /** `repositoryCredentials.credentialsParameter` (a Secrets Manager ARN). */
  readonly repositoryCredentials?: string;
}

export interface TaskDefinition {
  readonly taskDefinitionArn: string;
  readonly containers: readonly ContainerDefinition[];
}

/** What SSM knows of an instance it manages (DescribeInstanceInformation). */
export interface SsmManagedInstance {
  readonly instanceId: string;
  /** `Online`, `ConnectionLost`, `Inactive`. */
  readonly pingStatus: string;
  /** `Linux`, `Windows`, `MacOS`. */
  readonly platformType?: string;
  /** e.g. `Amazon Linux`, `Bottlerocket`, `Microsoft Windows Server 2022 Datacenter`. */
  readonly platformName?: string;
  /** e.g. `2023`, `2`, `10.0.20348`. */
  readonly platformVersion?: string;
}

/** Everything discovery read in one Region. */
export interface RegionSnapshot {
  readonly region: string;
  /**
   * The VPCs that host ECS work (and only those: VPCs without ECS work need no endpoints).
   * `dns` is filled for the ones in scope.
   */
  readonly vpcs: readonly Vpc[];
  /** Every subnet of the VPCs above. */
  readonly subnets: readonly Subnet[];
  readonly routeTables: readonly RouteTable[];
  /** Endpoints of the VPCs above, in every state but `deleted`. */
  readonly endpoints: readonly VpcEndpoint[];
  /** The endpoints' security groups and the remediator's own managed groups. */
  readonly securityGroups: readonly SecurityGroup[];
  readonly endpointServices: readonly EndpointServiceOffer[];
  readonly containerInstances: readonly ContainerInstance[];
  /** The EC2 instances behind the container instances. */
  readonly ec2Instances: readonly Ec2Instance[];
  readonly services: readonly EcsService[];
  readonly tasks: readonly EcsTask[];
  readonly taskDefinitions: readonly TaskDefinition[];
  /**
   * SSM's view of the container instances that may need an agent restart or update (see
   * core/restarts.ts `restartCandidates`); an instance looked up but absent is not managed by SSM.
   */
  readonly ssmInstances?: readonly SsmManagedInstance[];
}
