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
  /** IPv6 CIDR blocks associated with the VPC. */
  readonly ipv6CidrBlocks?: readonly string[];
  /**
   * The account that owns the VPC. A VPC shared through AWS RAM is owned by another account than the
   * one discovered: its participants can neither see nor create its endpoints.
   */
  readonly ownerId?: string;
  readonly tags: Tags;
  /** DNS facts; discovery reads them only for VPCs in scope (they cost a call per VPC). */
  readonly dns?: VpcDns;
}

export interface Subnet {
  readonly subnetId: string;
  readonly vpcId: string;
  /** The AZ's name, in the reading account's own mapping of names to zones (it differs per account). */
  readonly availabilityZone: string;
  /**
   * The AZ ID (`use1-az2`): the same zone in every account, so the one way to place another account's
   * subnet relative to this account's (a shared VPC's owner and participants). Absent in snapshots
   * written before discovery recorded it.
   */
  readonly availabilityZoneId?: string;
  /** The IPv4 CIDR; empty for an IPv6-only subnet. */
  readonly cidrBlock: string;
  /** IPv6 CIDR blocks associated with the subnet (dual-stack or IPv6-only). */
  readonly ipv6CidrBlocks?: readonly string[];
  /** `Ipv6Native`: an IPv6-only subnet (no IPv4 addresses at all). */
  readonly ipv6Native?: boolean;
  /** `EnableDns64`: the Amazon resolver synthesises `64:ff9b::/96` addresses for IPv4-only names. */
  readonly dns64?: boolean;
  /** The owner account (`OwnerId`): another account's for a subnet shared with this one. */
  readonly ownerId?: string;
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
  /** The endpoint policy (JSON text); absent means the default full-access policy. */
  readonly policyDocument?: string;
  /** `ipv4`, `dualstack` or `ipv6`; absent means ipv4 (endpoints made before IPv6 support). */
  readonly ipAddressType?: string;
  /** The endpoint's own DNS names (regional and zonal), lower case, without the trailing dot. */
  readonly dnsNames?: readonly string[];
  /** The account that owns the endpoint. */
  readonly ownerId?: string;
}

export interface IngressRule {
  /** `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number as a string. */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** IPv4 sources. */
  readonly cidrs: readonly string[];
  /** IPv6 sources (`Ipv6Ranges`). */
  readonly ipv6Cidrs?: readonly string[];
  /** Managed prefix lists allowed as sources (`PrefixListIds`): their entries are CIDRs. */
  readonly prefixListIds?: readonly string[];
  /** Security groups allowed as sources. */
  readonly sourceGroupIds: readonly string[];
}

/** A managed prefix list's entries (GetManagedPrefixListEntries). */
export interface PrefixList {
  readonly prefixListId: string;
  /** IPv4 or IPv6 CIDRs. */
  readonly cidrs: readonly string[];
  /** `AWS` for AWS-managed lists (service ranges), else the owner account. */
  readonly ownerId?: string;
}

export interface SecurityGroup {
  readonly groupId: string;
  readonly vpcId: string;
  readonly groupName: string;
  readonly tags: Tags;
  readonly ingress: readonly IngressRule[];
  /**
   * Outbound rules, in the same shape (CIDRs, prefix lists and groups are destinations); absent when
   * not read. A new group allows all outbound traffic until someone revokes that rule.
   */
  readonly egress?: readonly IngressRule[];
}

/** What the Region offers for one AWS service name (DescribeVpcEndpointServices). */
export interface EndpointServiceOffer {
  readonly serviceName: string;
  /** `Interface` and/or `Gateway` (S3 and DynamoDB offer both under one name). */
  readonly types: readonly string[];
  readonly availabilityZones: readonly string[];
  /**
   * The names an interface endpoint's private DNS answers for (`PrivateDnsNames`), lower case, e.g.
   * `api.ecr.us-east-1.amazonaws.com` or `*.dkr.ecr.us-east-1.amazonaws.com`.
   */
  readonly privateDnsNames?: readonly string[];
  /** `SupportedIpAddressTypes` of the interface offer: `ipv4`, `ipv6`; absent means ipv4 only. */
  readonly supportedIpAddressTypes?: readonly string[];
  /** `VpcEndpointPolicySupported`: an endpoint of this service carries a policy that can deny calls. */
  readonly policySupported?: boolean;
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
  /** The instance profile ARN (its role makes the agent's calls), when the instance has one. */
  readonly instanceProfileArn?: string;
  /** The role of that instance profile (IAM GetInstanceProfile), when discovery could read it. */
  readonly instanceRoleArn?: string;
}

/** The awsvpc network configuration of a service deployment: its tasks' ENIs are in these subnets, with these groups. */
export interface AwsvpcNetwork {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

export interface EcsService {
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly serviceName: string;
  /** `EC2`, `FARGATE` or `EXTERNAL`; absent when a capacity provider strategy is used. */
  readonly launchType?: string;
  /** Capacity provider names of the service's strategy (`FARGATE`, `FARGATE_SPOT`, or an ASG provider). */
  readonly capacityProviders: readonly string[];
  /** awsvpc subnets of the service's tasks, over all its deployments (empty for bridge/host networking). */
  readonly subnetIds: readonly string[];
  /**
   * The awsvpc network configuration of the service and of each deployment and task set still running
   * (distinct): a rolling update may run tasks with other subnets or groups.
   */
  readonly networks: readonly AwsvpcNetwork[];
  /** The service's task definition and those of deployments still in progress. */
  readonly taskDefinitionArns: readonly string[];
  readonly serviceConnect: boolean;
  /** `desiredCount`; 0 for a service scaled to zero (still in scope, ranked below live work). */
  readonly desiredCount?: number;
  readonly runningCount?: number;
  /** `enableExecuteCommand`: ECS Exec sessions run inside the service's tasks. */
  readonly enableExecuteCommand?: boolean;
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
  /** The id of the task's awsvpc network interface, if any (DescribeTasks attachments). */
  readonly networkInterfaceId?: string;
  /** The groups of that network interface (DescribeNetworkInterfaces); absent when not read. */
  readonly securityGroupIds?: readonly string[];
  readonly containerInstanceArn?: string;
  readonly enableExecuteCommand?: boolean;
}

/** What a cluster's settings add to the needs of its work. */
export interface EcsCluster {
  readonly clusterArn: string;
  /** `configuration.executeCommandConfiguration`, when set. */
  readonly executeCommand?: {
    /** `NONE`, `DEFAULT` (the task definition's awslogs settings) or `OVERRIDE`. */
    readonly logging?: string;
    /** OVERRIDE: session output to this CloudWatch Logs group. */
    readonly cloudWatchLogGroupName?: string;
    /** OVERRIDE: session output to this S3 bucket. */
    readonly s3BucketName?: string;
    /** Sessions encrypted with this KMS key. */
    readonly kmsKeyId?: string;
  };
}

export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly logDriver?: string;
  /** `logConfiguration.options` (e.g. `awslogs-region`; for `awsfirelens`, the output plugin's `Name`, `region`). */
  readonly logOptions?: Tags;
  /** `firelensConfiguration`: this container is the FireLens log router. */
  readonly firelens?: {
    /** `fluentbit` or `fluentd`. */
    readonly type: string;
    /** e.g. `config-file-type` (`s3` or `file`) and `config-file-value`. */
    readonly options?: Tags;
  };
  /** `valueFrom` of `secrets[]` and of `logConfiguration.secretOptions[]`. */
  readonly secretRefs: readonly string[];
  /** `repositoryCredentials.credentialsParameter` (a Secrets Manager ARN). */
  readonly repositoryCredentials?: string;
}

export interface TaskDefinition {
  readonly taskDefinitionArn: string;
  readonly containers: readonly ContainerDefinition[];
  /** The role the agent uses for image pulls, awslogs and secrets (Fargate, and EC2 when set). */
  readonly executionRoleArn?: string;
  /** The role the task's own containers use (FireLens outputs, ECS Exec). */
  readonly taskRoleArn?: string;
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

/** A DNS record of a private hosted zone (ListResourceRecordSets). */
export interface DnsRecord {
  /** Lower case, without the trailing dot; a wildcard record is `*.<name>`. */
  readonly name: string;
  /** `A`, `AAAA`, `CNAME`, … */
  readonly type: string;
  /** An alias record's target DNS name, lower case, without the trailing dot. */
  readonly aliasTarget?: string;
}

/** A Route 53 private hosted zone associated with a VPC in scope (ListHostedZonesByVPC). */
export interface HostedZone {
  readonly hostedZoneId: string;
  /** Lower case, without the trailing dot. */
  readonly name: string;
  /** The VPCs in scope it is associated with. */
  readonly vpcIds: readonly string[];
  /** The owner account: a hub account's zone may be associated with this account's VPCs. */
  readonly ownerId?: string;
  /** Its records; absent when they could not be read (another account's zone, access denied). */
  readonly records?: readonly DnsRecord[];
  /** Why the records are absent. */
  readonly recordsUnreadable?: string;
}

/**
 * An alias record of a private hosted zone that names an endpoint tagged as the remediator's
 * (hub-and-spoke): the endpoint serves the VPCs the zone is associated with.
 */
export interface EndpointAlias {
  readonly vpcEndpointId: string;
  readonly hostedZoneId: string;
  /** Lower case, without the trailing dot. */
  readonly zoneName: string;
  readonly recordName: string;
  /** The VPCs the zone is associated with (for another account's zone: those in scope). */
  readonly vpcIds: readonly string[];
}

/** A subnet this account shares with other accounts through AWS RAM (it owns the VPC; they run in it). */
export interface SharedSubnet {
  readonly subnetId: string;
  /** The VPC of the subnet, when discovery knows it (a subnet of a VPC it read). */
  readonly vpcId: string;
  readonly resourceShareArn: string;
}

/** A Route 53 Resolver inbound endpoint: it answers other networks' DNS queries from its VPC. */
export interface InboundResolverEndpoint {
  readonly resolverEndpointId: string;
  readonly vpcId: string;
}

/**
 * A resource of a Route 53 Profile that may carry one of the remediator's endpoints to the VPCs the
 * Profile is associated with (in this account or, shared through AWS RAM, in others): the endpoint
 * itself, or a private hosted zone that points at it.
 */
export interface ProfileResource {
  readonly profileId: string;
  readonly profileName?: string;
  readonly kind: 'vpc-endpoint' | 'hosted-zone';
  /** The endpoint's id (`vpce-…`) or the zone's (without `/hostedzone/`). */
  readonly resourceId: string;
}

/** A Route 53 Resolver rule associated with a VPC in scope. */
export interface ResolverRule {
  readonly resolverRuleId: string;
  /** Lower case, without the trailing dot. */
  readonly domainName: string;
  /** `FORWARD` (to other resolvers), `SYSTEM` (Resolver answers itself) or `RECURSIVE`. */
  readonly ruleType: string;
  /** The VPCs in scope it is associated with. */
  readonly vpcIds: readonly string[];
  /** FORWARD: where queries go (`ip:port`). */
  readonly targets?: readonly string[];
}

/** A route between two VPCs, as far as the remediator can tell: which side's tables route to which CIDR. */
export interface VpcPeering {
  readonly peeringConnectionId: string;
  readonly requesterVpcId: string;
  readonly accepterVpcId: string;
  /** `active` when it carries traffic. */
  readonly status: string;
}

/** A read that failed in a way that does not fail the Region: the checks that needed it say `unknown`. */
export interface SkippedRead {
  /** e.g. `route53:ListHostedZonesByVPC`. */
  readonly operation: string;
  /** The AWS error (`AccessDenied: …`). */
  readonly reason: string;
  /** What the read was about, when it concerned one resource (a VPC, a prefix list, a zone). */
  readonly resourceId?: string;
}

/** Everything discovery read in one Region. */
export interface RegionSnapshot {
  readonly region: string;
  /** The account discovered (from the ECS ARNs); absent when it has no ECS work. */
  readonly accountId?: string;
  /**
   * The VPCs that host ECS work (VPCs without ECS work need no endpoints), and those of
   * `idleVpcIds`. `dns` is filled for the ones in scope that host work.
   */
  readonly vpcs: readonly Vpc[];
  /**
   * VPCs in scope that host no ECS work but hold endpoints tagged as the remediator's (read by a
   * whole-Region discovery only): examined for those endpoints alone (ENDPOINT_UNUSED), whose only
   * entries in `endpoints` are those tagged ones. Absent: none, or not read (an event's VPCs).
   */
  readonly idleVpcIds?: readonly string[];
  /** Every subnet of the VPCs above. */
  readonly subnets: readonly Subnet[];
  readonly routeTables: readonly RouteTable[];
  /**
   * Endpoints of the VPCs above, in every state but `deleted` (of an idle VPC, only those tagged as
   * the remediator's).
   */
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
  /** Clusters whose settings add needs (ECS Exec logging and encryption); absent when none were read. */
  readonly clusters?: readonly EcsCluster[];
  /** The customer-managed prefix lists that endpoint security groups refer to. */
  readonly prefixLists?: readonly PrefixList[];
  /** Private hosted zones associated with the VPCs in scope. */
  readonly hostedZones?: readonly HostedZone[];
  /**
   * The alias records of private hosted zones that name the remediator's endpoints that look unneeded
   * (aws/discover/endpoint-aliases.ts). Absent: none, none looks unneeded, or refused (then a skipped
   * read names each endpoint).
   */
  readonly endpointAliases?: readonly EndpointAlias[];
  /**
   * The subnets of the VPCs with endpoints the unused check weighs that this account shares with
   * other accounts (AWS RAM ListResources, resourceOwner SELF; aws/discover/shared-subnets.ts). Absent:
   * none, or not read (then a skipped `ram:` read says so, if it was refused).
   */
  readonly sharedSubnets?: readonly SharedSubnet[];
  /**
   * Inbound Resolver endpoints in the VPCs of the remediator's endpoints that may be unneeded: read
   * only when there are such, none when none (then a skipped `route53resolver:` read says so, if it
   * was refused).
   */
  readonly inboundResolvers?: readonly InboundResolverEndpoint[];
  /**
   * The Route 53 Profiles' resources that are the remediator's endpoints that may be unneeded, or
   * private hosted zones with an alias to one of them (`endpointAliases`): read only when there are
   * such endpoints, none when none (then a skipped `route53profiles:` read says so, if it was refused).
   */
  readonly profileResources?: readonly ProfileResource[];
  /** Resolver rules associated with the VPCs in scope. */
  readonly resolverRules?: readonly ResolverRule[];
  /**
   * Endpoints outside the VPCs in scope that their private hosted zones point at (a central
   * shared-services VPC), with their groups in `securityGroups`.
   */
  readonly centralEndpoints?: readonly VpcEndpoint[];
  /** Subnets of the central endpoints (their CIDRs and route tables decide reachability). */
  readonly centralSubnets?: readonly Subnet[];
  /** Peering connections of the VPCs in scope. */
  readonly peerings?: readonly VpcPeering[];
  /** Reads that failed without failing the Region (access denied, not supported). */
  readonly skippedReads?: readonly SkippedRead[];
  /**
   * The endpoints and security groups the deployed remediator recorded as made by itself (its state
   * table: aws/ownership.ts). Present: a resource is the remediator's only when it carries the managed
   * tag and is listed here. Absent: the managed tag alone decides (the CLI). Not read by discovery.
   */
  readonly ownedResourceIds?: readonly string[];
  /**
   * The deployed remediator's clock of owned endpoints no longer needed (its state table:
   * aws/reclaim.ts; core/reclaim.ts). Absent: no clock is kept (the CLI), so nothing is ever deleted
   * for being unneeded. Not read by discovery.
   */
  readonly reclaim?: ReclaimClock;
}

/** When owned endpoints were first seen unneeded, and whether this reconcile may count toward it. */
export interface ReclaimClock {
  /** Owned endpoint id → when a counting sweep first saw it serve no need (ISO-8601). */
  readonly unusedSince: Readonly<Record<string, string>>;
  /**
   * This reconcile read the whole Region in one go (a sweep, not an event's VPCs nor a plan unit of a
   * split sweep), or is the reclaim unit of a split sweep whose units together saw every VPC: only
   * such a reconcile may count toward the grace period, or delete.
   */
  readonly wholeRegion: boolean;
  /**
   * Why this reconcile does not count though it might have (the reclaim unit of a split sweep one of
   * whose units saw a gap): the findings' reason. Absent: the general reason of a partial view.
   */
  readonly partialView?: string;
  /**
   * A split sweep's reclaim step: endpoints its run's plan units saw other VPCs reach through a
   * private hosted zone (hub-and-spoke seen from the spokes, which the step does not read): served
   * there, as `endpointAliases` would show.
   */
  readonly zoneUses?: readonly string[];
}
