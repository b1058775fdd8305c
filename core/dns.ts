/**
 * How a VPC resolves an AWS service's names: through its own endpoint's private DNS (or the public
 * name), through private hosted zones that point at endpoints elsewhere (the centralised,
 * hub-and-spoke pattern), or through Route 53 Resolver forwarding rules.
 *
 * Route 53 Resolver's order (Route 53 Developer Guide, "Considerations when working with a private
 * hosted zone" and "How Resolver forwards queries"): among the forwarding rules, system rules and
 * private hosted zones that cover a name, the most specific domain wins; a forwarding rule wins over a
 * private hosted zone of the same domain; the winning zone answers from its records, and with
 * NXDOMAIN when it has none for the name, whatever other resolvers would say.
 */
import type { DnsRecord, HostedZone, ResolverRule, SkippedRead } from './model.ts';
import type { ManagedService } from './services.ts';

/** A name and the zone record that answers it. */
export interface ZoneAnswer {
  readonly name: string;
  readonly zone: HostedZone;
  readonly record: DnsRecord;
}

/** How the VPC resolves every name of one service. */
export type Resolution =
  /** No zone or rule covers any name: Amazon-provided DNS answers (a local endpoint's private DNS, or the public name). */
  | { readonly kind: 'local' }
  /** Every name is answered by a record of a private hosted zone (pointing at a central endpoint, usually). */
  | { readonly kind: 'central'; readonly answers: readonly ZoneAnswer[] }
  /** A covering zone has no record for some names (they get NXDOMAIN), or some names are not covered. */
  | { readonly kind: 'record-missing'; readonly missing: readonly { name: string; zone?: string }[] }
  /** A Resolver forwarding rule answers some name: what it answers cannot be verified from here. */
  | { readonly kind: 'forwarded'; readonly rule: ResolverRule; readonly name: string }
  /** The zone that answers some name belongs to an account whose records this one cannot read. */
  | { readonly kind: 'zone-unreadable'; readonly zone: HostedZone; readonly name: string }
  /** The VPC's zones or rules could not be read. */
  | { readonly kind: 'unknown'; readonly reason: string };

/** `a.b.c` is covered by `b.c`, by `a.b.c` itself, and by the root `.`/`` domain. */
export function covers(domain: string, name: string): boolean {
  const d = normaliseName(domain);
  return d === '' || name === d || name.endsWith(`.${d}`);
}

/** Lower case, without the trailing dot; Route 53's `\052` escape is `*`. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\\052/g, '*').replace(/\.$/, '');
}

function labels(domain: string): number {
  const d = normaliseName(domain);
  return d === '' ? 0 : d.split('.').length;
}

/**
 * The record that answers `name` in a zone: an exact one, else the wildcard of the closest enclosing
 * name (`*.dkr.ecr.…` answers `123456789012.dkr.ecr.…`). A wildcard name itself (`*.dkr.ecr.…`) needs
 * that exact wildcard record.
 */
export function recordFor(zone: HostedZone, name: string): DnsRecord | undefined {
  const records = zone.records ?? [];
  const exact = records.find((record) => record.name === name);
  if (exact || name.startsWith('*.')) return exact;
  const parts = name.split('.');
  for (let index = 1; index < parts.length; index += 1) {
    const parent = parts.slice(index).join('.');
    if (!covers(zone.name, parent) && parent !== zone.name) break;
    const wildcard = records.find((record) => record.name === `*.${parent}`);
    if (wildcard) return wildcard;
  }
  return undefined;
}

/** What Resolver consults for one VPC. */
export interface VpcDnsView {
  readonly zones: readonly HostedZone[];
  readonly rules: readonly ResolverRule[];
  /** Route 53 reads of this VPC that failed: zones and rules are then unknown. */
  readonly unreadable: readonly SkippedRead[];
}

type Winner =
  | { readonly kind: 'rule'; readonly rule: ResolverRule }
  | { readonly kind: 'zone'; readonly zone: HostedZone }
  | undefined;

/** The most specific rule or zone covering `name`; a forwarding rule wins a tie with a zone. */
function winnerFor(view: VpcDnsView, name: string): Winner {
  let best: Winner;
  let bestLabels = -1;
  for (const rule of view.rules) {
    if (!covers(rule.domainName, name)) continue;
    const n = labels(rule.domainName);
    // A system rule for a name hands it back to Resolver's own resolution (zones, then public DNS).
    if (n > bestLabels || (n === bestLabels && rule.ruleType === 'FORWARD')) {
      best = { kind: 'rule', rule };
      bestLabels = n;
    }
  }
  for (const zone of view.zones) {
    if (!covers(zone.name, name)) continue;
    const n = labels(zone.name);
    if (n > bestLabels || (n === bestLabels && best?.kind === 'rule' && best.rule.ruleType !== 'FORWARD')) {
      best = { kind: 'zone', zone };
      bestLabels = n;
    }
  }
  return best;
}

/** How the VPC resolves the names of a service (`names` from its offer's private DNS names). */
export function resolveService(view: VpcDnsView, names: readonly string[]): Resolution {
  if (view.unreadable.length > 0) {
    const first = view.unreadable[0];
    return {
      kind: 'unknown',
      reason: `${first?.operation ?? 'Route 53'} failed (${first?.reason ?? 'unknown error'})`,
    };
  }
  const answers: ZoneAnswer[] = [];
  const missing: Array<{ name: string; zone?: string }> = [];
  let local = 0;
  for (const name of names.map(normaliseName)) {
    const winner = winnerFor(view, name);
    if (winner?.kind === 'rule' && winner.rule.ruleType === 'FORWARD') {
      return { kind: 'forwarded', rule: winner.rule, name };
    }
    if (winner?.kind !== 'zone') {
      local += 1;
      missing.push({ name });
      continue;
    }
    const { zone } = winner;
    if (zone.records === undefined) return { kind: 'zone-unreadable', zone, name };
    const record = recordFor(zone, name);
    if (record) answers.push({ name, zone, record });
    else missing.push({ name, zone: zone.name });
  }
  if (local === names.length) return { kind: 'local' };
  if (missing.length > 0) return { kind: 'record-missing', missing };
  return { kind: 'central', answers };
}

/**
 * The names whose resolution decides where a service's calls go: the offer's private DNS names, else
 * the service's usual regional names.
 */
export function serviceDnsNames(
  region: string,
  service: ManagedService,
  offered: readonly string[] | undefined,
): string[] {
  if (offered && offered.length > 0) return offered.map(normaliseName);
  switch (service) {
    case 'ecr.api':
      return [`api.ecr.${region}.amazonaws.com`];
    case 'ecr.dkr':
      return [`*.dkr.ecr.${region}.amazonaws.com`];
    case 's3':
      return [`s3.${region}.amazonaws.com`, `*.s3.${region}.amazonaws.com`];
    default:
      return [`${service}.${region}.amazonaws.com`];
  }
}

/** The endpoint id in a VPC endpoint DNS name (`vpce-0a1b…-x2y3.ecr.api.us-east-1.vpce.amazonaws.com`). */
export function endpointIdOfDnsName(dnsName: string): string | undefined {
  const name = normaliseName(dnsName).replace(/^\*\./, '');
  if (!name.endsWith('.vpce.amazonaws.com')) return undefined;
  return /^(vpce-[0-9a-f]+)-[a-z0-9]/.exec(name)?.[1];
}
