/**
 * Network facts derived from the snapshot: where a subnet's traffic goes, and who may reach port 443.
 */
import type { IngressRule, RouteTable, SecurityGroup, Subnet } from './model.ts';

/** Where a subnet's default IPv4 route leads. */
export type Egress = 'internet-gateway' | 'nat-gateway' | 'other' | 'none';

/** The route table that serves a subnet: its explicit association, else the VPC's main table. */
export function routeTableOf(subnet: Subnet, routeTables: readonly RouteTable[]): RouteTable | undefined {
  const vpcTables = routeTables.filter((table) => table.vpcId === subnet.vpcId);
  return (
    vpcTables.find((table) => table.subnetIds.includes(subnet.subnetId)) ??
    vpcTables.find((table) => table.main)
  );
}

/**
 * Classifies a subnet's internet egress from its default route. A transit gateway, peering
 * connection, appliance or firewall endpoint (`other`) usually leads to a central egress VPC, so it
 * counts as egress: the workload works, its AWS traffic just leaves the VPC.
 */
export function egressOf(subnet: Subnet, routeTables: readonly RouteTable[]): Egress {
  const route = routeTableOf(subnet, routeTables)?.routes.find(
    (candidate) => candidate.active && candidate.destination === '0.0.0.0/0',
  );
  if (!route) return 'none';
  if (route.target.startsWith('igw-')) return 'internet-gateway';
  if (route.target.startsWith('nat-')) return 'nat-gateway';
  return 'other';
}

export function hasEgress(egress: Egress): boolean {
  return egress !== 'none';
}

interface Ipv4Range {
  readonly start: number;
  readonly end: number;
}

function parseCidr(cidr: string): Ipv4Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((octet) => octet > 255) || bits > 32) return undefined;
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  const start = Math.floor(address / size) * size;
  return { start, end: start + size - 1 };
}

/** Whether `outer` contains every address of `inner` (IPv4; false for anything unparsable). */
export function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return a !== undefined && b !== undefined && a.start <= b.start && b.end <= a.end;
}

/** Whether a rule admits TCP port 443. */
export function allowsHttps(rule: IngressRule): boolean {
  const protocol = rule.protocol.toLowerCase();
  if (protocol === '-1' || protocol === 'all') return true;
  if (protocol !== 'tcp' && protocol !== '6') return false;
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return from <= 443 && 443 <= to;
}

/** A workload subnet, with the security groups of the workloads in it. */
export interface WorkloadSource {
  readonly subnet: Subnet;
  readonly securityGroupIds: ReadonlySet<string>;
}

/**
 * Whether the groups admit TCP 443 from a workload subnet: a rule from a CIDR that contains the
 * subnet (the VPC CIDR, the subnet's own, 0.0.0.0/0, …) or from a group the subnet's workloads use.
 */
export function admitsHttpsFrom(groups: readonly SecurityGroup[], source: WorkloadSource): boolean {
  return groups.some((group) =>
    group.ingress.some(
      (rule) =>
        allowsHttps(rule) &&
        (rule.cidrs.some((cidr) => cidrContains(cidr, source.subnet.cidrBlock)) ||
          rule.sourceGroupIds.some((groupId) => source.securityGroupIds.has(groupId))),
    ),
  );
}
