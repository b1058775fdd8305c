// Seed builders for the network patterns real organisations use: dual-stack and IPv6-only subnets (egress-only
// internet gateway, DNS64/NAT64), customer-managed prefix lists, Route 53 private hosted zones (also shared from a
// hub account), Route 53 Resolver rules, subnets shared through AWS RAM, ECS Exec clusters, FireLens task
// definitions and awsvpc tasks with their ENIs. Against the patched moto (test/harness/moto_network.py).
// No vitest import here (scripts may use it too).
//
// Route 53 goes through the SDK (route53Of). The project has no SDK clients for Route 53 Resolver, AWS RAM or Route
// 53 Profiles, so those builders speak the wire protocols directly (JSON 1.1, REST-JSON) through resolverCall /
// ramCall / profilesCall below. The
// moto server does not check signatures: the Authorization header only carries the credential scope (account id as
// the access key id, Region, service), which is how moto picks the service and the patched moto the account.
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateManagedPrefixListCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import type {
  CapacityProviderStrategyItem,
  Compatibility,
  ContainerDefinition,
  ExecuteCommandLogging,
  NetworkConfiguration,
  NetworkMode,
  Task,
} from '@aws-sdk/client-ecs';
import {
  AssociateVPCWithHostedZoneCommand,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  CreateVPCAssociationAuthorizationCommand,
  DeleteVPCAssociationAuthorizationCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { VPCRegion } from '@aws-sdk/client-route-53';
import { azName, subnetCidr, tagSpecifications } from './seed.ts';
import type { Account } from './seed.ts';

function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`seed-network: the response has no ${what}`);
  return value;
}

// ------------------------------------------------------------------------------------------------
// Wire protocols (Route 53 Resolver, AWS RAM)
// ------------------------------------------------------------------------------------------------

/** An AWS error answered by one of the raw calls: `name` is AWS's error code, as with the SDK's errors. */
export class AwsApiError extends Error {
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = code;
    this.status = status;
  }
}

/** A JSON POST with the account's credential scope; an error answer throws AwsApiError with AWS's code. */
async function jsonCall(
  acct: Account,
  service: string,
  req: { path: string; headers: Record<string, string>; body: string },
): Promise<Record<string, unknown>> {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const res = await fetch(new URL(req.path, acct.endpoint), {
    method: 'POST',
    headers: {
      Authorization:
        `AWS4-HMAC-SHA256 Credential=${acct.credentials.accessKeyId}/${day}/${acct.region}/${service}/aws4_request, ` +
        `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      'X-Amz-Date': `${day}T000000Z`,
      ...req.headers,
    },
    body: req.body,
  });
  const text = await res.text();
  const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (res.status >= 300) {
    const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
    const type =
      res.headers.get('x-amzn-errortype') ?? str(body.__type) ?? str(body.code) ?? `HTTP${res.status}`;
    const code = type.split(':')[0]?.split('#').pop() ?? type;
    throw new AwsApiError(code, str(body.message) ?? str(body.Message) ?? text, res.status);
  }
  return body;
}

/** A Route 53 Resolver (JSON 1.1) call, e.g. resolverCall(acct, 'ListResolverRules', { MaxResults: 10 }). */
export function resolverCall(
  acct: Account,
  operation: string,
  input: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return jsonCall(acct, 'route53resolver', {
    path: '/',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `Route53Resolver.${operation}` },
    body: JSON.stringify(input),
  });
}

/** An AWS RAM (REST-JSON) call: `path` is the operation's lower-case path, e.g. 'createresourceshare'. */
export function ramCall(
  acct: Account,
  path: string,
  input: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return jsonCall(acct, 'ram', {
    path: `/${path}`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
  });
}

/**
 * A Route 53 Profiles (REST-JSON) write: `path` is the operation's path, e.g. 'profile' (CreateProfile). The harness
 * emulates them (test/harness/moto_network.py P20); the reads are the product's client (aws/route53profiles-client.ts).
 */
export function profilesCall(
  acct: Account,
  path: string,
  input: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return jsonCall(acct, 'route53profiles', {
    path: `/${path}`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
  });
}

// ------------------------------------------------------------------------------------------------
// IPv6 networks
// ------------------------------------------------------------------------------------------------

function parseIpv6(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const groups = (part: string): string[] => (part ? part.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  // RFC 5952: the longest run (of two or more) of zero groups becomes '::'.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** The i-th /64 inside a VPC's IPv6 block ('2600:1f18:a:b00::/56', 1 → '2600:1f18:a:b01::/64'). */
export function ipv6SubnetCidr(vpcIpv6Cidr: string, index: number): string {
  const [base = '', bits = ''] = vpcIpv6Cidr.split('/');
  const prefix = Number(bits);
  if (!(prefix <= 64) || 2 ** (64 - prefix) <= index)
    throw new Error(`no /64 number ${index} in ${vpcIpv6Cidr}`);
  const network = parseIpv6(base) + (BigInt(index) << 64n);
  return `${formatIpv6(network)}/64`;
}

export interface CreateIpv6SubnetOptions {
  vpcId: string;
  /** The subnet's /64 (see ipv6SubnetCidr). */
  ipv6Cidr: string;
  /** Omitted: an IPv6-only subnet (Ipv6Native). Given: a dual-stack subnet. */
  ipv4Cidr?: string;
  /** 'a' or 'us-east-1a' */
  az: string;
  /** DNS64 (EnableDns64), so IPv6-only clients reach IPv4-only names through a NAT64 gateway. Default false. */
  dns64?: boolean;
  name?: string;
}

/** A dual-stack or IPv6-only subnet. */
export async function createIpv6Subnet(acct: Account, o: CreateIpv6SubnetOptions): Promise<string> {
  const out = await acct.ec2.send(
    new CreateSubnetCommand({
      VpcId: o.vpcId,
      Ipv6CidrBlock: o.ipv6Cidr,
      ...(o.ipv4Cidr === undefined ? { Ipv6Native: true } : { CidrBlock: o.ipv4Cidr }),
      AvailabilityZone: azName(acct, o.az),
      TagSpecifications: tagSpecifications('subnet', o.name),
    }),
  );
  const subnetId = must(out.Subnet?.SubnetId, 'Subnet.SubnetId');
  if (o.dns64) {
    await acct.ec2.send(
      new ModifySubnetAttributeCommand({ SubnetId: subnetId, EnableDns64: { Value: true } }),
    );
  }
  return subnetId;
}

export interface CreateDualStackNetworkOptions {
  /** The VPC's IPv4 block (default 10.0.0.0/16); it also gets an Amazon-provided IPv6 /56. */
  cidr?: string;
  name?: string;
  /** AZ letters of the private subnets, one each (default ['a', 'b']). */
  azs?: string[];
  /** 'dualstack' (default): a /24 and a /64 each; 'ipv6-only': a /64 only (Ipv6Native). */
  subnets?: 'dualstack' | 'ipv6-only';
  /** ::/0 to an egress-only internet gateway in the subnets' route table (default true). */
  egressOnly?: boolean;
  /**
   * NAT64: DNS64 on the subnets and 64:ff9b::/96 to a NAT gateway in a public dual-stack subnet (which routes
   * 0.0.0.0/0 and ::/0 to an internet gateway). Default false.
   */
  nat64?: boolean;
}

export interface DualStackNetwork {
  vpcId: string;
  /** The VPC's Amazon-provided IPv6 block. */
  ipv6Cidr: string;
  /** One per AZ in `azs`, in that order. */
  subnetIds: string[];
  /** The /64 of each subnet, in the same order. */
  subnetIpv6Cidrs: string[];
  /** The route table of `subnetIds` (the routes chosen by egressOnly / nat64). */
  routeTableId: string;
  egressOnlyInternetGatewayId?: string;
  /** Only with nat64. */
  natGatewayId?: string;
  internetGatewayId?: string;
  publicSubnetId?: string;
  publicRouteTableId?: string;
}

/** A VPC with an Amazon-provided IPv6 block (DNS attributes on) and dual-stack or IPv6-only private subnets. */
export async function createDualStackNetwork(
  acct: Account,
  o: CreateDualStackNetworkOptions = {},
): Promise<DualStackNetwork> {
  const cidr = o.cidr ?? '10.0.0.0/16';
  const azs = o.azs ?? ['a', 'b'];
  const vpc = await acct.ec2.send(
    new CreateVpcCommand({
      CidrBlock: cidr,
      AmazonProvidedIpv6CidrBlock: true,
      TagSpecifications: tagSpecifications('vpc', o.name),
    }),
  );
  const vpcId = must(vpc.Vpc?.VpcId, 'Vpc.VpcId');
  const ipv6Cidr = must(vpc.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock, 'Ipv6CidrBlock');
  await acct.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));
  await acct.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));

  const ipv6Only = o.subnets === 'ipv6-only';
  const subnetIds: string[] = [];
  const subnetIpv6Cidrs: string[] = [];
  for (const [i, az] of azs.entries()) {
    const ipv6 = ipv6SubnetCidr(ipv6Cidr, i);
    subnetIpv6Cidrs.push(ipv6);
    subnetIds.push(
      await createIpv6Subnet(acct, {
        vpcId,
        ipv6Cidr: ipv6,
        ...(ipv6Only ? {} : { ipv4Cidr: subnetCidr(cidr, i) }),
        az,
        dns64: o.nat64 ?? false,
        name: `private-${az}`,
      }),
    );
  }
  const rt = await acct.ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
  const routeTableId = must(rt.RouteTable?.RouteTableId, 'RouteTableId');
  for (const SubnetId of subnetIds) {
    await acct.ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId }));
  }
  const network: DualStackNetwork = { vpcId, ipv6Cidr, subnetIds, subnetIpv6Cidrs, routeTableId };

  if (o.egressOnly ?? true) {
    const eigw = await acct.ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpcId }));
    const id = must(
      eigw.EgressOnlyInternetGateway?.EgressOnlyInternetGatewayId,
      'EgressOnlyInternetGatewayId',
    );
    await acct.ec2.send(
      new CreateRouteCommand({
        RouteTableId: routeTableId,
        DestinationIpv6CidrBlock: '::/0',
        EgressOnlyInternetGatewayId: id,
      }),
    );
    network.egressOnlyInternetGatewayId = id;
  }
  if (o.nat64) {
    const igw = await acct.ec2.send(new CreateInternetGatewayCommand({}));
    const internetGatewayId = must(igw.InternetGateway?.InternetGatewayId, 'InternetGatewayId');
    await acct.ec2.send(
      new AttachInternetGatewayCommand({ InternetGatewayId: internetGatewayId, VpcId: vpcId }),
    );
    const publicSubnetId = await createIpv6Subnet(acct, {
      vpcId,
      ipv6Cidr: ipv6SubnetCidr(ipv6Cidr, azs.length),
      ipv4Cidr: subnetCidr(cidr, azs.length),
      az: azs[0] ?? 'a',
      name: 'public',
    });
    const prt = await acct.ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
    const publicRouteTableId = must(prt.RouteTable?.RouteTableId, 'RouteTableId');
    await acct.ec2.send(
      new CreateRouteCommand({
        RouteTableId: publicRouteTableId,
        DestinationCidrBlock: '0.0.0.0/0',
        GatewayId: internetGatewayId,
      }),
    );
    await acct.ec2.send(
      new CreateRouteCommand({
        RouteTableId: publicRouteTableId,
        DestinationIpv6CidrBlock: '::/0',
        GatewayId: internetGatewayId,
      }),
    );
    await acct.ec2.send(
      new AssociateRouteTableCommand({ RouteTableId: publicRouteTableId, SubnetId: publicSubnetId }),
    );
    const eip = await acct.ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const nat = await acct.ec2.send(
      new CreateNatGatewayCommand({
        SubnetId: publicSubnetId,
        AllocationId: must(eip.AllocationId, 'AllocationId'),
      }),
    );
    const natGatewayId = must(nat.NatGateway?.NatGatewayId, 'NatGatewayId');
    await acct.ec2.send(
      new CreateRouteCommand({
        RouteTableId: routeTableId,
        DestinationIpv6CidrBlock: '64:ff9b::/96',
        NatGatewayId: natGatewayId,
      }),
    );
    Object.assign(network, { internetGatewayId, publicSubnetId, publicRouteTableId, natGatewayId });
  }
  return network;
}

// ------------------------------------------------------------------------------------------------
// Prefix lists
// ------------------------------------------------------------------------------------------------

export interface CreatePrefixListOptions {
  name: string;
  entries: { cidr: string; description?: string }[];
  /** Default: IPv6 if the first entry is an IPv6 CIDR, else IPv4. */
  addressFamily?: 'IPv4' | 'IPv6';
  /** Default: the number of entries, at least 5. */
  maxEntries?: number;
  tags?: Record<string, string>;
}

/** A customer-managed prefix list (e.g. the corporate ranges security groups reference). Returns its id. */
export async function createPrefixList(acct: Account, o: CreatePrefixListOptions): Promise<string> {
  const out = await acct.ec2.send(
    new CreateManagedPrefixListCommand({
      PrefixListName: o.name,
      AddressFamily: o.addressFamily ?? (o.entries[0]?.cidr.includes(':') ? 'IPv6' : 'IPv4'),
      MaxEntries: o.maxEntries ?? Math.max(5, o.entries.length),
      Entries: o.entries.map((e) => ({
        Cidr: e.cidr,
        ...(e.description === undefined ? {} : { Description: e.description }),
      })),
      TagSpecifications: tagSpecifications('prefix-list', undefined, o.tags),
    }),
  );
  return must(out.PrefixList?.PrefixListId, 'PrefixList.PrefixListId');
}

// ------------------------------------------------------------------------------------------------
// Route 53 private hosted zones
// ------------------------------------------------------------------------------------------------

const route53Clients = new WeakMap<Account, Route53Client>();

/** A Route 53 client for the account (Route 53 is global: signed for us-east-1). */
export function route53Of(acct: Account): Route53Client {
  let client = route53Clients.get(acct);
  if (client === undefined) {
    client = new Route53Client({
      endpoint: acct.endpoint,
      region: 'us-east-1',
      credentials: acct.credentials,
      maxAttempts: 2,
    });
    route53Clients.set(acct, client);
  }
  return client;
}

function bareZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

export interface CreatePrivateHostedZoneOptions {
  /** e.g. 'api.ecr.us-east-1.amazonaws.com' or 'corp.example.com' */
  name: string;
  vpcId: string;
  /** Default: the account's Region. */
  vpcRegion?: string;
  comment?: string;
}

/** A private hosted zone associated with one VPC of the account. Returns its id (without '/hostedzone/'). */
export async function createPrivateHostedZone(
  acct: Account,
  o: CreatePrivateHostedZoneOptions,
): Promise<string> {
  const out = await route53Of(acct).send(
    new CreateHostedZoneCommand({
      Name: o.name,
      VPC: { VPCRegion: (o.vpcRegion ?? acct.region) as VPCRegion, VPCId: o.vpcId },
      CallerReference: `seed-${Date.now()}-${Math.random().toString(36).slice(2)}`,
      HostedZoneConfig: { ...(o.comment === undefined ? {} : { Comment: o.comment }), PrivateZone: true },
    }),
  );
  return bareZoneId(must(out.HostedZone?.Id, 'HostedZone.Id'));
}

export interface AssociateZoneOptions {
  zoneId: string;
  vpcId: string;
  /** Default: the VPC account's Region. */
  vpcRegion?: string;
  /** Delete the authorization once the association is made (AWS recommends it). Default false. */
  deleteAuthorization?: boolean;
}

/**
 * Associates a VPC with a private hosted zone. Across accounts (hub-and-spoke: the zone in `zoneOwner`, the VPC in
 * `vpcOwner`) the zone's account first authorizes the association (CreateVPCAssociationAuthorization), then the VPC's
 * account associates; in one account (zoneOwner === vpcOwner) it only associates.
 */
export async function associateZone(
  zoneOwner: Account,
  vpcOwner: Account,
  o: AssociateZoneOptions,
): Promise<void> {
  const HostedZoneId = bareZoneId(o.zoneId);
  const VPC = { VPCRegion: (o.vpcRegion ?? vpcOwner.region) as VPCRegion, VPCId: o.vpcId };
  const crossAccount = zoneOwner.accountId !== vpcOwner.accountId;
  if (crossAccount) {
    await route53Of(zoneOwner).send(new CreateVPCAssociationAuthorizationCommand({ HostedZoneId, VPC }));
  }
  await route53Of(vpcOwner).send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId, VPC }));
  if (crossAccount && o.deleteAuthorization) {
    await route53Of(zoneOwner).send(new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId, VPC }));
  }
}

export interface AddAliasRecordOptions {
  zoneId: string;
  /** The record name, e.g. 'api.ecr.us-east-1.amazonaws.com' or '*.dkr.ecr.us-east-1.amazonaws.com'. */
  name: string;
  /** The alias target: e.g. an endpoint's regional DNS name (see endpointAliasTarget). */
  dnsName: string;
  /** The target's hosted zone id (for VPC endpoint DNS names, the one in its DnsEntries). */
  hostedZoneId: string;
  /** Default ['A']; add 'AAAA' for a dual-stack endpoint. */
  types?: ('A' | 'AAAA')[];
}

/** Alias records (A, and AAAA if asked) from `name` to `dnsName`. */
export async function addAliasRecord(acct: Account, o: AddAliasRecordOptions): Promise<void> {
  await route53Of(acct).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: bareZoneId(o.zoneId),
      ChangeBatch: {
        Changes: (o.types ?? ['A']).map((Type) => ({
          Action: 'CREATE',
          ResourceRecordSet: {
            Name: o.name,
            Type,
            AliasTarget: { HostedZoneId: o.hostedZoneId, DNSName: o.dnsName, EvaluateTargetHealth: false },
          },
        })),
      },
    }),
  );
}

/** The regional DNS name of an interface endpoint and its hosted zone: what an alias record points at. */
export function endpointAliasTarget(endpoint: VpcEndpoint): { dnsName: string; hostedZoneId: string } {
  const regional = endpoint.DnsEntries?.find((d) =>
    d.DnsName?.startsWith(`${endpoint.VpcEndpointId ?? ''}-`),
  );
  return {
    dnsName: must(regional?.DnsName, 'DnsEntries[].DnsName'),
    hostedZoneId: must(regional?.HostedZoneId, 'DnsEntries[].HostedZoneId'),
  };
}

// ------------------------------------------------------------------------------------------------
// Route 53 Resolver
// ------------------------------------------------------------------------------------------------

export interface CreateResolverEndpointOptions {
  direction: 'INBOUND' | 'OUTBOUND';
  /** At least two, in different AZs (an address in each). */
  subnetIds: string[];
  securityGroupIds: string[];
  name?: string;
}

/** A Resolver endpoint (an outbound one is what FORWARD rules send queries through). Returns its id. */
export async function createResolverEndpoint(
  acct: Account,
  o: CreateResolverEndpointOptions,
): Promise<string> {
  const out = await resolverCall(acct, 'CreateResolverEndpoint', {
    CreatorRequestId: `seed-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    Direction: o.direction,
    SecurityGroupIds: o.securityGroupIds,
    IpAddresses: o.subnetIds.map((SubnetId) => ({ SubnetId })),
    ...(o.name === undefined ? {} : { Name: o.name }),
  });
  return must((out.ResolverEndpoint as { Id?: string } | undefined)?.Id, 'ResolverEndpoint.Id');
}

export interface CreateResolverRuleOptions {
  domainName: string;
  /** FORWARD: send queries for the domain to targetIps; SYSTEM: let Resolver answer (an exception to a FORWARD rule). */
  type: 'FORWARD' | 'SYSTEM';
  /** FORWARD only; port 53 when omitted. */
  targetIps?: { ip: string; port?: number }[];
  /** FORWARD: the outbound endpoint (see createResolverEndpoint). */
  resolverEndpointId?: string;
  name?: string;
}

/** A Resolver rule. Returns its id and ARN (the ARN is what an AWS RAM share names). */
export async function createResolverRule(
  acct: Account,
  o: CreateResolverRuleOptions,
): Promise<{ id: string; arn: string }> {
  const out = await resolverCall(acct, 'CreateResolverRule', {
    CreatorRequestId: `seed-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    RuleType: o.type,
    DomainName: o.domainName,
    ...(o.targetIps === undefined
      ? {}
      : {
          TargetIps: o.targetIps.map((t) => ({
            Ip: t.ip,
            ...(t.port === undefined ? {} : { Port: t.port }),
          })),
        }),
    ...(o.resolverEndpointId === undefined ? {} : { ResolverEndpointId: o.resolverEndpointId }),
    ...(o.name === undefined ? {} : { Name: o.name }),
  });
  const rule = out.ResolverRule as { Id?: string; Arn?: string } | undefined;
  return { id: must(rule?.Id, 'ResolverRule.Id'), arn: must(rule?.Arn, 'ResolverRule.Arn') };
}

/** Associates a rule (own, or shared with the account through AWS RAM) with a VPC. Returns the association id. */
export async function associateResolverRule(
  acct: Account,
  o: { ruleId: string; vpcId: string; name?: string },
): Promise<string> {
  const out = await resolverCall(acct, 'AssociateResolverRule', {
    ResolverRuleId: o.ruleId,
    VPCId: o.vpcId,
    ...(o.name === undefined ? {} : { Name: o.name }),
  });
  return must((out.ResolverRuleAssociation as { Id?: string } | undefined)?.Id, 'ResolverRuleAssociation.Id');
}

// ------------------------------------------------------------------------------------------------
// Route 53 Profiles
// ------------------------------------------------------------------------------------------------

/** An empty Route 53 Profile in the account's Region (CreateProfile). Returns its id and ARN. */
export async function createProfile(
  acct: Account,
  o: { name: string },
): Promise<{ id: string; arn: string }> {
  const out = await profilesCall(acct, 'profile', {
    Name: o.name,
    ClientToken: `seed-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  });
  const profile = out.Profile as { Id?: string; Arn?: string } | undefined;
  return { id: must(profile?.Id, 'Profile.Id'), arn: must(profile?.Arn, 'Profile.Arn') };
}

/** The ARN a Profile names an interface endpoint of the account's Region by. */
export function vpcEndpointArn(acct: Account, vpcEndpointId: string): string {
  return `arn:aws:ec2:${acct.region}:${acct.accountId}:vpc-endpoint/${vpcEndpointId}`;
}

/** The ARN a Profile names a hosted zone by (Route 53 is global: no Region, no account). */
export function hostedZoneArn(zoneId: string): string {
  return `arn:aws:route53:::hostedzone/${bareZoneId(zoneId)}`;
}

/**
 * Makes a resource (an interface endpoint: vpcEndpointArn; a private hosted zone: hostedZoneArn) a resource of the
 * Profile (AssociateResourceToProfile): it then applies in every VPC the Profile is associated with. Returns the
 * association's id.
 */
export async function associateResourceToProfile(
  acct: Account,
  o: { profileId: string; resourceArn: string; name?: string },
): Promise<string> {
  const out = await profilesCall(acct, 'profileresourceassociation', {
    Name: o.name ?? 'seed-resource',
    ProfileId: o.profileId,
    ResourceArn: o.resourceArn,
  });
  return must(
    (out.ProfileResourceAssociation as { Id?: string } | undefined)?.Id,
    'ProfileResourceAssociation.Id',
  );
}

// ------------------------------------------------------------------------------------------------
// AWS RAM: shared VPCs (and shared Resolver rules)
// ------------------------------------------------------------------------------------------------

/**
 * An AWS RAM resource share from `owner` to the participant accounts. As inside an AWS Organization with sharing
 * enabled, it is effective at once. Returns the share's ARN.
 */
export async function shareResources(
  owner: Account,
  participants: (Account | string)[],
  o: { resourceArns: string[]; name?: string },
): Promise<string> {
  const out = await ramCall(owner, 'createresourceshare', {
    name: o.name ?? 'seed-share',
    resourceArns: o.resourceArns,
    principals: participants.map((p) => (typeof p === 'string' ? p : p.accountId)),
    allowExternalPrincipals: false,
  });
  return must(
    (out.resourceShare as { resourceShareArn?: string } | undefined)?.resourceShareArn,
    'resourceShareArn',
  );
}

/**
 * Shares subnets of `owner` with `participant` (VPC sharing): the participant then sees them, their VPC and route
 * tables with the owner's OwnerId, and can run instances and tasks in them. Returns the share's ARN.
 */
export function shareSubnets(
  owner: Account,
  participant: Account | string,
  o: { subnetIds: string[]; name?: string },
): Promise<string> {
  return shareResources(owner, [participant], {
    resourceArns: o.subnetIds.map((id) => `arn:aws:ec2:${owner.region}:${owner.accountId}:subnet/${id}`),
    name: o.name ?? 'shared-subnets',
  });
}

// ------------------------------------------------------------------------------------------------
// ECS: Exec, FireLens, awsvpc tasks and services
// ------------------------------------------------------------------------------------------------

export interface CreateExecClusterOptions {
  /** NONE, DEFAULT (the task definition's awslogs settings) or OVERRIDE (the log settings below). Default DEFAULT. */
  logging?: ExecuteCommandLogging;
  kmsKeyId?: string;
  cloudWatchLogGroupName?: string;
  cloudWatchEncryptionEnabled?: boolean;
  s3BucketName?: string;
  s3KeyPrefix?: string;
  s3EncryptionEnabled?: boolean;
  tags?: Record<string, string>;
}

/** A cluster with configuration.executeCommandConfiguration (ECS Exec sessions). Returns its ARN. */
export async function createExecCluster(
  acct: Account,
  name: string,
  o: CreateExecClusterOptions = {},
): Promise<string> {
  const logConfiguration = {
    ...(o.cloudWatchLogGroupName === undefined ? {} : { cloudWatchLogGroupName: o.cloudWatchLogGroupName }),
    ...(o.cloudWatchEncryptionEnabled === undefined
      ? {}
      : { cloudWatchEncryptionEnabled: o.cloudWatchEncryptionEnabled }),
    ...(o.s3BucketName === undefined ? {} : { s3BucketName: o.s3BucketName }),
    ...(o.s3KeyPrefix === undefined ? {} : { s3KeyPrefix: o.s3KeyPrefix }),
    ...(o.s3EncryptionEnabled === undefined ? {} : { s3EncryptionEnabled: o.s3EncryptionEnabled }),
  };
  const out = await acct.ecs.send(
    new CreateClusterCommand({
      clusterName: name,
      configuration: {
        executeCommandConfiguration: {
          logging: o.logging ?? 'DEFAULT',
          ...(o.kmsKeyId === undefined ? {} : { kmsKeyId: o.kmsKeyId }),
          ...(Object.keys(logConfiguration).length ? { logConfiguration } : {}),
        },
      },
      ...(o.tags === undefined
        ? {}
        : { tags: Object.entries(o.tags).map(([key, value]) => ({ key, value })) }),
    }),
  );
  return must(out.cluster?.clusterArn, 'cluster.clusterArn');
}

export interface RegisterFireLensTaskDefinitionOptions {
  family: string;
  /** The application container's image (its logs go through FireLens). Default 'nginx:latest'. */
  appImage?: string;
  router?: {
    /** Default fluentbit. */
    type?: 'fluentbit' | 'fluentd';
    /** Default AWS for Fluent Bit from ECR Public. */
    image?: string;
    /** firelensConfiguration options config-file-type / config-file-value (a custom configuration file). */
    configFile?: { type: 's3' | 'file'; value: string };
    /** firelensConfiguration option enable-ecs-log-metadata. */
    enableEcsLogMetadata?: boolean;
  };
  /** The app's awsfirelens logConfiguration options: the output plugin, e.g. { Name: 'cloudwatch_logs', region, ... }. */
  output: Record<string, string>;
  /** logConfiguration.secretOptions of the app container (valueFrom: SSM parameter / Secrets Manager ARN). */
  secretOptions?: { name: string; valueFrom: string }[];
  networkMode?: NetworkMode;
  compatibilities?: Compatibility[];
  /** Default arn:aws:iam::<account>:role/ecsTaskExecutionRole */
  executionRoleArn?: string;
  /** The role the containers (and the log router) run as; omitted when not given. */
  taskRoleArn?: string;
}

/**
 * A task definition with a FireLens log router (firelensConfiguration) and an application container whose
 * logConfiguration uses the awsfirelens driver (registerTaskDefinition in seed.ts only writes awslogs).
 */
export async function registerFireLensTaskDefinition(
  acct: Account,
  o: RegisterFireLensTaskDefinitionOptions,
): Promise<string> {
  const router = o.router ?? {};
  const options: Record<string, string> = {
    ...(router.enableEcsLogMetadata === undefined
      ? {}
      : { 'enable-ecs-log-metadata': String(router.enableEcsLogMetadata) }),
    ...(router.configFile === undefined
      ? {}
      : { 'config-file-type': router.configFile.type, 'config-file-value': router.configFile.value }),
  };
  const containerDefinitions: ContainerDefinition[] = [
    {
      name: 'log_router',
      image: router.image ?? 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
      essential: true,
      memory: 128,
      firelensConfiguration: {
        type: router.type ?? 'fluentbit',
        ...(Object.keys(options).length ? { options } : {}),
      },
    },
    {
      name: 'app',
      image: o.appImage ?? 'nginx:latest',
      essential: true,
      memory: 256,
      logConfiguration: {
        logDriver: 'awsfirelens',
        options: o.output,
        ...(o.secretOptions === undefined ? {} : { secretOptions: o.secretOptions }),
      },
    },
  ];
  const out = await acct.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: o.family,
      containerDefinitions,
      networkMode: o.networkMode ?? 'awsvpc',
      requiresCompatibilities: o.compatibilities ?? ['FARGATE'],
      executionRoleArn: o.executionRoleArn ?? `arn:aws:iam::${acct.accountId}:role/ecsTaskExecutionRole`,
      ...(o.taskRoleArn === undefined ? {} : { taskRoleArn: o.taskRoleArn }),
      cpu: '256',
      memory: '512',
    }),
  );
  return must(out.taskDefinition?.taskDefinitionArn, 'taskDefinition.taskDefinitionArn');
}

function awsvpcConfiguration(subnets: string[], securityGroups: string[] | undefined): NetworkConfiguration {
  // securityGroups omitted: AWS (and the patched moto) use the VPC's default group.
  return {
    awsvpcConfiguration: {
      subnets,
      ...(securityGroups === undefined ? {} : { securityGroups }),
      assignPublicIp: 'DISABLED',
    },
  };
}

/** A task with its awsvpc network interface (DescribeTasks gives the ENI id, not its groups). */
export interface AwsvpcTask {
  taskArn: string;
  networkInterfaceId: string;
  subnetId: string;
  privateIpv4Address?: string;
}

function awsvpcTaskOf(task: Task): AwsvpcTask {
  const details = Object.fromEntries(
    (task.attachments?.find((a) => a.type === 'ElasticNetworkInterface')?.details ?? []).map(
      (d) => [d.name ?? '', d.value ?? ''] as const,
    ),
  );
  return {
    taskArn: must(task.taskArn, 'taskArn'),
    networkInterfaceId: must(details.networkInterfaceId, 'attachment networkInterfaceId'),
    subnetId: must(details.subnetId, 'attachment subnetId'),
    ...(details.privateIPv4Address ? { privateIpv4Address: details.privateIPv4Address } : {}),
  };
}

export interface RunAwsvpcTaskOptions {
  cluster: string;
  taskDefinition: string;
  subnets: string[];
  /** Omitted: the VPC's default group. */
  securityGroups?: string[];
  /** Default FARGATE (unless capacityProviderStrategy is given). */
  launchType?: 'EC2' | 'FARGATE';
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  count?: number;
  /** 'service:<name>' makes the task one of that service's (ListTasks serviceName, the service's runningCount). */
  group?: string;
  /** A service's deployment id: the task then counts for that deployment. */
  startedBy?: string;
  enableExecuteCommand?: boolean;
}

/** RunTask of an awsvpc task definition; answers each task with its ENI id and subnet. */
export async function runAwsvpcTask(acct: Account, o: RunAwsvpcTaskOptions): Promise<AwsvpcTask[]> {
  const out = await acct.ecs.send(
    new RunTaskCommand({
      cluster: o.cluster,
      taskDefinition: o.taskDefinition,
      count: o.count ?? 1,
      ...(o.capacityProviderStrategy === undefined
        ? { launchType: o.launchType ?? 'FARGATE' }
        : { capacityProviderStrategy: o.capacityProviderStrategy }),
      networkConfiguration: awsvpcConfiguration(o.subnets, o.securityGroups),
      ...(o.group === undefined ? {} : { group: o.group }),
      ...(o.startedBy === undefined ? {} : { startedBy: o.startedBy }),
      ...(o.enableExecuteCommand === undefined ? {} : { enableExecuteCommand: o.enableExecuteCommand }),
    }),
  );
  return (out.tasks ?? []).map(awsvpcTaskOf);
}

export interface CreateAwsvpcServiceOptions {
  cluster: string;
  name: string;
  taskDefinition: string;
  subnets: string[];
  /** Omitted: the VPC's default group. */
  securityGroups?: string[];
  /** Default FARGATE (unless capacityProviderStrategy is given). */
  launchType?: 'EC2' | 'FARGATE';
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  desiredCount?: number;
  /** ECS Exec into the service's tasks. Default false. */
  enableExecuteCommand?: boolean;
}

/** An awsvpc service (createService in seed.ts has no enableExecuteCommand). Returns its ARN. */
export async function createAwsvpcService(acct: Account, o: CreateAwsvpcServiceOptions): Promise<string> {
  const out = await acct.ecs.send(
    new CreateServiceCommand({
      cluster: o.cluster,
      serviceName: o.name,
      taskDefinition: o.taskDefinition,
      desiredCount: o.desiredCount ?? 1,
      ...(o.capacityProviderStrategy === undefined
        ? { launchType: o.launchType ?? 'FARGATE' }
        : { capacityProviderStrategy: o.capacityProviderStrategy }),
      networkConfiguration: awsvpcConfiguration(o.subnets, o.securityGroups),
      enableExecuteCommand: o.enableExecuteCommand ?? false,
    }),
  );
  return must(out.service?.serviceArn, 'service.serviceArn');
}

/**
 * Plays the ECS scheduler, which moto lacks: starts the tasks the service's PRIMARY deployment is missing
 * (desiredCount - runningCount), with that deployment's network configuration, group 'service:<name>' and
 * startedBy = the deployment id. Answers the started tasks with their ENIs.
 */
export async function startServiceTasks(
  acct: Account,
  o: { cluster: string; service: string },
): Promise<AwsvpcTask[]> {
  const out = await acct.ecs.send(new DescribeServicesCommand({ cluster: o.cluster, services: [o.service] }));
  const service = must(out.services?.[0], `service ${o.service}`);
  const primary = must(
    service.deployments?.find((d) => d.status === 'PRIMARY'),
    'PRIMARY deployment',
  );
  const missing = (primary.desiredCount ?? 0) - (primary.runningCount ?? 0);
  if (missing <= 0) return [];
  const conf = primary.networkConfiguration?.awsvpcConfiguration;
  const run = await acct.ecs.send(
    new RunTaskCommand({
      cluster: o.cluster,
      taskDefinition: must(primary.taskDefinition, 'deployment taskDefinition'),
      count: missing,
      ...(primary.capacityProviderStrategy?.length
        ? { capacityProviderStrategy: primary.capacityProviderStrategy }
        : { launchType: primary.launchType ?? 'FARGATE' }),
      ...(conf === undefined ? {} : { networkConfiguration: { awsvpcConfiguration: conf } }),
      group: `service:${must(service.serviceName, 'serviceName')}`,
      startedBy: must(primary.id, 'deployment id'),
      ...(service.enableExecuteCommand === undefined
        ? {}
        : { enableExecuteCommand: service.enableExecuteCommand }),
    }),
  );
  return (run.tasks ?? []).filter((t) => t.attachments?.length).map(awsvpcTaskOf);
}
