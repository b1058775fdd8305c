/**
 * How the VPCs in scope resolve AWS service names: the Route 53 private hosted zones associated with
 * each (ListHostedZonesByVPC lists every zone associated with a VPC, whichever account owns it), the
 * records of the zones that cover a service name, and the Route 53 Resolver rules associated with
 * them. core/dns.ts decides from these which endpoint, if any, answers a service's names.
 *
 * These reads serve only the endpoint checks: refused (access denied), they are skipped and the
 * checks that depend on them say `unknown`; nothing is created on a guess.
 */
import { ListHostedZonesByVPCCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { covers, normaliseName } from '../../core/dns.ts';
import type { DnsRecord, HostedZone, ResolverRule } from '../../core/model.ts';
import { collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY, isDegradable } from './context.ts';

/** Route 53 reads in flight at once (its rate limit is per account: 5 requests a second). */
export const ROUTE53_CONCURRENCY = 2;

/** ListHostedZonesByVPC and the Resolver list calls return at most 100 a page. */
const PAGE_MAX = 100;
/** ListResourceRecordSets returns at most 300 records a page. */
const RECORDS_PAGE_MAX = 300;

interface ZoneSummary {
  readonly hostedZoneId: string;
  readonly name: string;
  readonly ownerId?: string;
}

/** The private hosted zones associated with each VPC, merged by zone (records not read yet). */
export async function describeHostedZones(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
): Promise<HostedZone[]> {
  const operation = 'route53:ListHostedZonesByVPC';
  // Route 53 allows 5 requests a second per account: few at once, the adaptive retries pace the rest.
  const perVpc = await mapConcurrent(vpcIds, ROUTE53_CONCURRENCY, (vpcId) =>
    ctx.optional(
      operation,
      vpcId,
      () =>
        collectPages<ZoneSummary>(async (NextToken) => {
          const page = await ctx.call(operation, () =>
            ctx.clients.route53.send(
              new ListHostedZonesByVPCCommand({
                VPCId: vpcId,
                VPCRegion: ctx.region as never,
                MaxItems: PAGE_MAX,
                NextToken,
              }),
            ),
          );
          return {
            items: (page.HostedZoneSummaries ?? []).flatMap((zone) =>
              zone.HostedZoneId && zone.Name
                ? [
                    {
                      hostedZoneId: zone.HostedZoneId.replace(/^\/hostedzone\//, ''),
                      name: normaliseName(zone.Name),
                      ...(zone.Owner?.OwningAccount ? { ownerId: zone.Owner.OwningAccount } : {}),
                    },
                  ]
                : [],
            ),
            nextToken: page.NextToken,
          };
        }),
      [],
    ),
  );
  const zones = new Map<string, HostedZone & { vpcIds: string[] }>();
  perVpc.forEach((summaries, index) => {
    const vpcId = vpcIds[index] ?? '';
    for (const summary of summaries) {
      const zone = zones.get(summary.hostedZoneId) ?? { ...summary, vpcIds: [] };
      zone.vpcIds.push(vpcId);
      zones.set(summary.hostedZoneId, zone);
    }
  });
  ctx.progress(`route53: ${zones.size} private hosted zones associated with ${vpcIds.length} VPCs`);
  return [...zones.values()];
}

/**
 * The records of the zones that cover any of `names` (the managed services' private DNS names): only
 * those can change where a service's calls go. A zone of another account whose records this account
 * may not read keeps `recordsUnreadable` with AWS's answer.
 */
export async function withRecords(
  ctx: DiscoveryContext,
  zones: readonly HostedZone[],
  names: readonly string[],
): Promise<HostedZone[]> {
  return mapConcurrent(zones, ROUTE53_CONCURRENCY, async (zone): Promise<HostedZone> => {
    if (!names.some((name) => covers(zone.name, normaliseName(name)))) return zone;
    try {
      const records = await readZoneRecords(ctx, zone.hostedZoneId);
      return { ...zone, records };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!isDegradable(error) && code !== 'NoSuchHostedZone') throw error;
      return { ...zone, recordsUnreadable: error instanceof Error ? error.message : String(error) };
    }
  }).then((read) => {
    ctx.progress(`route53: records of ${read.filter((zone) => zone.records).length} zones read`);
    return read;
  });
}

/** Every record of a zone (ListResourceRecordSets, 300 a page), as the model holds them. */
export async function readZoneRecords(ctx: DiscoveryContext, hostedZoneId: string): Promise<DnsRecord[]> {
  const operation = 'route53:ListResourceRecordSets';
  const records: DnsRecord[] = [];
  let start: { name?: string; type?: string; identifier?: string } = {};
  for (;;) {
    const page = await ctx.call(operation, () =>
      ctx.clients.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          MaxItems: RECORDS_PAGE_MAX,
          ...(start.name ? { StartRecordName: start.name } : {}),
          ...(start.type ? { StartRecordType: start.type as never } : {}),
          ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      ),
    );
    records.push(...(page.ResourceRecordSets ?? []).flatMap(toRecord));
    if (!page.IsTruncated) return records;
    const next = {
      name: page.NextRecordName,
      type: page.NextRecordType,
      identifier: page.NextRecordIdentifier,
    };
    if (next.name === start.name && next.type === start.type && next.identifier === start.identifier)
      throw new Error(`ListResourceRecordSets of ${hostedZoneId} repeated its continuation`);
    start = next;
  }
}

function toRecord(record: ResourceRecordSet): DnsRecord[] {
  if (!record.Name || !record.Type) return [];
  return [
    {
      name: normaliseName(record.Name),
      type: record.Type,
      ...(record.AliasTarget?.DNSName ? { aliasTarget: normaliseName(record.AliasTarget.DNSName) } : {}),
    },
  ];
}

interface Association {
  readonly ResolverRuleId?: string;
  readonly VPCId?: string;
  readonly Status?: string;
}

interface Rule {
  readonly Id?: string;
  readonly DomainName?: string;
  readonly RuleType?: string;
  readonly TargetIps?: ReadonlyArray<{
    readonly Ip?: string;
    readonly Ipv6?: string;
    readonly Port?: number;
  }>;
}

/**
 * The Resolver rules associated with the VPCs: the Region's associations (one listing, filtered here
 * to the VPCs), then each associated rule (GetResolverRule reads rules shared with this account too).
 * An association listing that is refused makes every VPC's resolution unknown; a rule that is
 * refused, its VPCs'.
 */
export async function describeResolverRules(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
): Promise<ResolverRule[]> {
  const wanted = new Set(vpcIds);
  const list = 'route53resolver:ListResolverRuleAssociations';
  const associations = await ctx.optional(
    list,
    undefined,
    () =>
      collectPages<Association>(async (NextToken) => {
        const page = await ctx.call(list, () =>
          ctx.clients.resolver.send<{ ResolverRuleAssociations?: Association[]; NextToken?: string }>(
            'ListResolverRuleAssociations',
            { MaxResults: PAGE_MAX, ...(NextToken ? { NextToken } : {}) },
          ),
        );
        return { items: page.ResolverRuleAssociations, nextToken: page.NextToken };
      }),
    [],
  );
  const byRule = new Map<string, string[]>();
  for (const association of associations) {
    if (!association.ResolverRuleId || !association.VPCId || !wanted.has(association.VPCId)) continue;
    if (
      association.Status !== undefined &&
      !['COMPLETE', 'CREATING', 'OVERRIDDEN'].includes(association.Status)
    )
      continue;
    byRule.set(
      association.ResolverRuleId,
      distinct([...(byRule.get(association.ResolverRuleId) ?? []), association.VPCId]),
    );
  }
  const get = 'route53resolver:GetResolverRule';
  const rules = await mapConcurrent([...byRule], REQUEST_CONCURRENCY, async ([ruleId, ruleVpcs]) => {
    try {
      const { ResolverRule: rule } = await ctx.call(get, () =>
        ctx.clients.resolver.send<{ ResolverRule?: Rule }>('GetResolverRule', { ResolverRuleId: ruleId }),
      );
      if (!rule?.DomainName || !rule.RuleType) return [];
      const targets = (rule.TargetIps ?? []).flatMap((target) => {
        const ip = target.Ip ?? target.Ipv6;
        return ip ? [`${ip}:${target.Port ?? 53}`] : [];
      });
      return [
        {
          resolverRuleId: ruleId,
          domainName: normaliseName(rule.DomainName),
          ruleType: rule.RuleType,
          vpcIds: ruleVpcs,
          ...(targets.length > 0 ? { targets } : {}),
        },
      ];
    } catch (error) {
      if (!isDegradable(error)) throw error;
      for (const vpcId of ruleVpcs) ctx.skip(get, error, vpcId);
      return [];
    }
  });
  ctx.progress(`route53resolver: ${byRule.size} rules associated with the VPCs`);
  return rules.flat();
}
