/**
 * Network facts derived from the snapshot: where a subnet's traffic goes, CIDR containment (IPv4 and
 * IPv6), and who may reach port 443 of an endpoint.
 */
import type { IngressRule, RouteTable, SecurityGroup, Subnet } from './model.ts';

/**
 * Where a subnet's traffic to the internet goes. `ipv6-internet`: an IPv6-only subnet whose `::/0`
 * route leads to an internet gateway or an egress-only internet gateway; it reaches only the services
 * whose public endpoints answer over IPv6 (see {@link reachesPublicly}).
 */
export const EGRESS_KINDS = ['internet-gateway', 'nat-gateway', 'other', 'ipv6-internet', 'none'] as const;
export type Egress = (typeof EGRESS_KINDS)[number];

/** The route table that serves a subnet: its explicit association, else the VPC's main table. */
export function routeTableOf(subnet: Subnet, routeTables: readonly RouteTable[]): RouteTable | undefined {
  const vpcTables = routeTables.filter((table) => table.vpcId === subnet.vpcId);
  return (
    vpcTables.find((table) => table.subnetIds.includes(subnet.subnetId)) ??
    vpcTables.find((table) => table.main)
  );
}

/** An IPv6-only subnet: no IPv4 addresses, so no IPv4 route serves its workloads. */
export function isIpv6Only(subnet: Subnet): boolean {
  return subnet.ipv6Native === true || (subnet.cidrBlock === '' && (subnet.ipv6CidrBlocks ?? []).length > 0);
}

/** The DNS64/NAT64 prefix: IPv6-only hosts reach IPv4 services through a NAT gateway routing it. */
export const NAT64_PREFIX = '64:ff9b::/96';

function classify(target: string): Egress {
  if (target.startsWith('igw-')) return 'internet-gateway';
  if (target.startsWith('nat-')) return 'nat-gateway';
  return 'other';
}

/**
 * Classifies a subnet's internet egress. A subnet with IPv4 addresses: its default IPv4 route. A
 * transit gateway, peering connection, appliance or firewall endpoint (`other`) usually leads to a
 * central egress VPC, so it counts as egress: the workload works, its AWS traffic just leaves the VPC.
 *
 * An IPv6-only subnet: DNS64 on the subnet and a `64:ff9b::/96` route to a NAT gateway reach every
 * IPv4 service (NAT64, `nat-gateway`); else a `::/0` route to an internet gateway or egress-only
 * internet gateway is `ipv6-internet`; else `none`.
 */
export function egressOf(subnet: Subnet, routeTables: readonly RouteTable[]): Egress {
  const routes = (routeTableOf(subnet, routeTables)?.routes ?? []).filter((route) => route.active);
  if (!isIpv6Only(subnet)) {
    const route = routes.find((candidate) => candidate.destination === '0.0.0.0/0');
    return route ? classify(route.target) : 'none';
  }
  const nat64 = routes.find((route) => route.destination === NAT64_PREFIX && route.target.startsWith('nat-'));
  if (subnet.dns64 === true && nat64) return 'nat-gateway';
  const v6 = routes.find((route) => route.destination === '::/0');
  if (v6 && (v6.target.startsWith('igw-') || v6.target.startsWith('eigw-'))) return 'ipv6-internet';
  if (v6) return 'other';
  return 'none';
}

/** Whether a subnet with this egress reaches the internet at all (IPv6 counts: see {@link reachesPublicly}). */
export function hasEgress(egress: Egress): boolean {
  return egress !== 'none';
}

/**
 * Whether work in a subnet with this egress reaches a service's public endpoint: any egress does for
 * IPv4 and NAT64 paths; `ipv6-internet` only when the caller reaches that service over IPv6
 * (`dualStack`: the service's public endpoint answers over IPv6 and the caller uses it).
 */
export function reachesPublicly(egress: Egress, dualStack: boolean): boolean {
  if (egress === 'none') return false;
  if (egress === 'ipv6-internet') return dualStack;
  return true;
}

// ---- CIDRs ------------------------------------------------------------------------------------------

interface Range {
  readonly family: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
}

function parseIpv4(address: string): bigint | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256n + BigInt(octet), 0n);
}

function parseIpv6(address: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(address) || address.split('::').length > 2) return undefined;
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  if (groups.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return groups.reduce((value, group) => value * 65536n + BigInt(`0x${group}`), 0n);
}

function parseCidr(cidr: string): Range | undefined {
  const [address = '', bitsText, extra] = cidr.trim().split('/');
  if (bitsText === undefined || extra !== undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = BigInt(bitsText);
  const v4 = parseIpv4(address);
  const family = v4 === undefined ? 6 : 4;
  const value = v4 ?? parseIpv6(address);
  const width = family === 4 ? 32n : 128n;
  if (value === undefined || bits > width) return undefined;
  const size = 1n << (width - bits);
  const start = (value / size) * size;
  return { family, start, end: start + size - 1n };
}

/**
 * Whether `outer` contains every address of `inner` (IPv4 or IPv6, of the same family; false for
 * anything unparsable). Host bits are ignored, as AWS normalises them.
 */
export function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return a !== undefined && b !== undefined && a.family === b.family && a.start <= b.start && b.end <= a.end;
}

/** Whether a CIDR is an IPv6 one. */
export function isIpv6Cidr(cidr: string): boolean {
  return parseCidr(cidr)?.family === 6;
}

// ---- who may reach 443 ------------------------------------------------------------------------------

/** Whether a rule admits TCP port 443. */
export function allowsHttps(rule: IngressRule): boolean {
  const protocol = rule.protocol.toLowerCase();
  if (protocol === '-1' || protocol === 'all') return true;
  if (protocol !== 'tcp' && protocol !== '6') return false;
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return from <= 443 && 443 <= to;
}

/** The network interface that makes a call: a subnet and the security groups it carries. */
export interface CallerInterface {
  readonly subnet: Subnet;
  readonly securityGroupIds: ReadonlySet<string>;
}

/** The address families a caller uses towards an endpoint of this IP address type. */
export function familiesTowards(subnet: Subnet, endpointIpType: string | undefined): Array<4 | 6> {
  const hasV4 = !isIpv6Only(subnet) && subnet.cidrBlock !== '';
  const hasV6 = (subnet.ipv6CidrBlocks ?? []).length > 0;
  const type = endpointIpType ?? 'ipv4';
  const families: Array<4 | 6> = [];
  if (hasV4 && type !== 'ipv6') families.push(4);
  if (hasV6 && type !== 'ipv4') families.push(6);
  return families;
}

/** Entries of prefix lists by id; `undefined` for a list whose entries could not be read. */
export type PrefixListEntries = ReadonlyMap<string, readonly string[] | undefined>;

/** `yes`, `no`, or `unknown` when only a prefix list whose entries could not be read might admit. */
export type Admission = 'yes' | 'no' | 'unknown';

/**
 * Whether the groups admit TCP 443 from a caller's interface, over an address family it uses towards
 * the endpoint: a rule from a CIDR that contains the caller's subnet (the VPC CIDR, the subnet's own,
 * 0.0.0.0/0, ::/0, …), from a prefix list with such an entry, or from a group the interface carries.
 * A prefix list absent from `prefixLists` is AWS-managed (service ranges: no workload is in it).
 */
export function admitsHttpsFrom(
  groups: readonly SecurityGroup[],
  caller: CallerInterface,
  options: { readonly endpointIpType?: string; readonly prefixLists?: PrefixListEntries } = {},
): Admission {
  const families = familiesTowards(caller.subnet, options.endpointIpType);
  const sources = [
    ...(families.includes(4) && caller.subnet.cidrBlock !== '' ? [caller.subnet.cidrBlock] : []),
    ...(families.includes(6) ? (caller.subnet.ipv6CidrBlocks ?? []) : []),
  ];
  const containsSource = (cidr: string): boolean => sources.some((source) => cidrContains(cidr, source));
  let unknown = false;
  for (const rule of groups.flatMap((group) => group.ingress)) {
    if (!allowsHttps(rule)) continue;
    if (rule.sourceGroupIds.some((groupId) => caller.securityGroupIds.has(groupId))) return 'yes';
    if ([...rule.cidrs, ...(rule.ipv6Cidrs ?? [])].some(containsSource)) return 'yes';
    for (const listId of rule.prefixListIds ?? []) {
      if (!options.prefixLists?.has(listId)) continue;
      const entries = options.prefixLists.get(listId);
      if (entries === undefined) unknown = true;
      else if (entries.some(containsSource)) return 'yes';
    }
  }
  return unknown ? 'unknown' : 'no';
}

/** The prefix length of a CIDR (`10.0.0.0/16` → 16); undefined when unparsable. */
export function prefixLength(cidr: string): number | undefined {
  const range = parseCidr(cidr);
  if (!range) return undefined;
  const size = range.end - range.start + 1n;
  return (range.family === 4 ? 32 : 128) - (size.toString(2).length - 1);
}

/** The active route of a table that carries traffic to `cidr`: the longest prefix containing it. */
export function routeTo(
  table: RouteTable | undefined,
  cidr: string,
): RouteTable['routes'][number] | undefined {
  return (table?.routes ?? [])
    .filter((route) => route.active && cidrContains(route.destination, cidr))
    .sort((a, b) => (prefixLength(b.destination) ?? 0) - (prefixLength(a.destination) ?? 0))[0];
}

/**
 * Whether a caller's groups let it open TCP 443 to an endpoint: some outbound rule of some group
 * (security groups add up) allows TCP 443 to a group the endpoint carries, or to every one of the
 * endpoint's subnets — by a CIDR containing the subnet's CIDR, or a prefix list with such an entry.
 * `unknown` when only a prefix list whose entries could not be read might allow it.
 */
export function allowsHttpsOut(
  groups: readonly SecurityGroup[],
  destination: { readonly cidrs: readonly string[]; readonly groupIds: ReadonlySet<string> },
  prefixLists: PrefixListEntries = new Map(),
): Admission {
  const rules = groups.flatMap((group) => group.egress ?? []).filter(allowsHttps);
  if (rules.some((rule) => rule.sourceGroupIds.some((id) => destination.groupIds.has(id)))) return 'yes';
  let unknown = false;
  for (const cidr of destination.cidrs) {
    const inRule = rules.some((rule) =>
      [...rule.cidrs, ...(rule.ipv6Cidrs ?? [])].some((allowed) => cidrContains(allowed, cidr)),
    );
    if (inRule) continue;
    const lists = rules.flatMap((rule) => rule.prefixListIds ?? []).filter((id) => prefixLists.has(id));
    if (lists.some((id) => (prefixLists.get(id) ?? []).some((entry) => cidrContains(entry, cidr)))) continue;
    if (lists.some((id) => prefixLists.get(id) === undefined)) {
      unknown = true;
      continue;
    }
    return 'no';
  }
  return unknown ? 'unknown' : 'yes';
}
