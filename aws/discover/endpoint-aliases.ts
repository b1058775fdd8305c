/**
 * Which private hosted zones point at the remediator's endpoints (hub-and-spoke: a zone named for an
 * AWS service, associated with spoke VPCs, whose alias records name an endpoint in a hub VPC, that
 * endpoint's private DNS off). Such an endpoint serves every VPC the zone is associated with, ECS work
 * of its own VPC or not: core/checks.ts never calls it unused. Read for the remediator's endpoints
 * that look unneeded (core/reclaim.ts `reclaimCandidates`), only when there are some.
 *
 * The account's private zones (ListHostedZones) whose names cover the endpoints' service names, their
 * records (those already read for the VPCs in scope are not read again), and for each zone with an
 * alias to one of the endpoints the VPCs it is associated with (GetHostedZone). A zone of another
 * account is seen only if it is associated with a VPC in scope (its records as read there).
 */
import { GetHostedZoneCommand, ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { covers, endpointIdOfDnsName, normaliseName } from '../../core/dns.ts';
import type { EndpointAlias, HostedZone, VpcEndpoint } from '../../core/model.ts';
import { collectPages, distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { DiscoveryError, isDegradable } from './context.ts';
import { ROUTE53_CONCURRENCY, readZoneRecords } from './dns.ts';

/** ListHostedZones returns at most 100 zones a page. */
const ZONES_PAGE_MAX = 100;

/**
 * The alias records of the account's private zones (and of `readZones`, the zones of the VPCs in
 * scope with their records) that name one of `endpoints`, each with the VPCs its zone is associated
 * with. `names`: the DNS names of the endpoints' services. Refused (access denied), every endpoint's
 * read is recorded as skipped (its `resourceId` the endpoint's id) and undefined returned: whether a
 * zone points other VPCs at them cannot be known.
 */
export async function describeEndpointAliases(
  ctx: DiscoveryContext,
  endpoints: readonly VpcEndpoint[],
  names: readonly string[],
  readZones: readonly HostedZone[],
): Promise<EndpointAlias[] | undefined> {
  if (endpoints.length === 0) return [];
  const ids = new Set(endpoints.map((endpoint) => endpoint.vpcEndpointId));
  const relevant = (zoneName: string): boolean => names.some((name) => covers(zoneName, normaliseName(name)));
  try {
    const listed = await collectPages(async (Marker: string | undefined) => {
      const page = await ctx.call('route53:ListHostedZones', () =>
        ctx.clients.route53.send(new ListHostedZonesCommand({ MaxItems: ZONES_PAGE_MAX, Marker })),
      );
      return {
        items: (page.HostedZones ?? []).flatMap((zone) =>
          zone.Id && zone.Name && zone.Config?.PrivateZone === true && relevant(zone.Name)
            ? [{ hostedZoneId: zone.Id.replace(/^\/hostedzone\//, ''), name: normaliseName(zone.Name) }]
            : [],
        ),
        nextToken: page.IsTruncated ? page.NextMarker : undefined,
      };
    });
    const known = new Map(readZones.map((zone) => [zone.hostedZoneId, zone]));
    // The account's zones, with the records read for the VPCs in scope where there are some; then
    // zones of other accounts associated with those VPCs (their records as read there).
    const zones = [
      ...(await mapConcurrent(listed, ROUTE53_CONCURRENCY, async (zone) => ({
        ...zone,
        records: known.get(zone.hostedZoneId)?.records ?? (await readZoneRecords(ctx, zone.hostedZoneId)),
        vpcIds: known.get(zone.hostedZoneId)?.vpcIds ?? [],
        listed: true,
      }))),
      ...readZones
        .filter(
          (zone) =>
            zone.records && relevant(zone.name) && !listed.some((l) => l.hostedZoneId === zone.hostedZoneId),
        )
        .map((zone) => ({ ...zone, records: zone.records ?? [], listed: false })),
    ];
    const aliasing = zones.flatMap((zone) =>
      zone.records.flatMap((record) => {
        const id = record.aliasTarget === undefined ? undefined : endpointIdOfDnsName(record.aliasTarget);
        return id !== undefined && ids.has(id) ? [{ zone, recordName: record.name, vpcEndpointId: id }] : [];
      }),
    );
    const zoneVpcs = new Map<string, readonly string[]>();
    await mapConcurrent(
      distinct(aliasing.filter((alias) => alias.zone.listed).map((alias) => alias.zone.hostedZoneId)),
      ROUTE53_CONCURRENCY,
      async (hostedZoneId) => {
        const zone = await ctx.call('route53:GetHostedZone', () =>
          ctx.clients.route53.send(new GetHostedZoneCommand({ Id: hostedZoneId })),
        );
        zoneVpcs.set(
          hostedZoneId,
          (zone.VPCs ?? []).flatMap((vpc) => (vpc.VPCId ? [vpc.VPCId] : [])),
        );
      },
    );
    const aliases = aliasing.map(({ zone, recordName, vpcEndpointId }): EndpointAlias => ({
      vpcEndpointId,
      hostedZoneId: zone.hostedZoneId,
      zoneName: zone.name,
      recordName,
      vpcIds: [...(zoneVpcs.get(zone.hostedZoneId) ?? ('vpcIds' in zone ? zone.vpcIds : []))].sort(),
    }));
    ctx.progress(
      `route53: ${listed.length} private zones may point at the remediator's endpoints; ${aliases.length} alias records do`,
    );
    return aliases;
  } catch (error) {
    const code = error instanceof DiscoveryError ? error.code : undefined;
    if (!isDegradable(error) && code !== 'NoSuchHostedZone') throw error;
    const operation = error instanceof DiscoveryError ? error.operation : 'route53:ListHostedZones';
    for (const id of [...ids].sort()) ctx.skip(operation, error, id);
    return undefined;
  }
}
