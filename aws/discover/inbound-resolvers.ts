/**
 * Route 53 Resolver inbound endpoints in the VPCs of the remediator's endpoints that look unneeded. An
 * inbound endpoint answers DNS queries from outside its VPC (spokes whose forwarding rules point at
 * it, on-premises networks), with the VPC's own resolution: the private DNS names of its interface
 * endpoints included. That is the Resolver pattern of hub-and-spoke, where no private hosted zone
 * names the endpoint, so the calls it serves are out of this VPC's sight and its endpoints are never
 * judged unused (core/checks.ts). One paged ListResolverEndpoints (Direction INBOUND) per Region, read
 * only when there are such endpoints.
 */
import type { InboundResolverEndpoint } from '../../core/model.ts';
import { collectPages } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { isDegradable } from './context.ts';

const OPERATION = 'route53resolver:ListResolverEndpoints';
/** ListResolverEndpoints returns at most 100 endpoints a page. */
const PAGE_MAX = 100;

interface Endpoint {
  Id?: string;
  HostVPCId?: string;
  Direction?: string;
  Status?: string;
}

/**
 * The inbound Resolver endpoints hosted in `vpcIds`. Refused (access denied), the read is recorded as
 * skipped and undefined returned: whether other networks resolve through these VPCs cannot be known.
 */
export async function describeInboundResolvers(
  ctx: DiscoveryContext,
  vpcIds: readonly string[],
): Promise<InboundResolverEndpoint[] | undefined> {
  if (vpcIds.length === 0) return [];
  try {
    const endpoints = await collectPages<Endpoint>(async (NextToken) => {
      const page = await ctx.call(OPERATION, () =>
        ctx.clients.resolver.send<{ ResolverEndpoints?: Endpoint[]; NextToken?: string }>(
          'ListResolverEndpoints',
          {
            MaxResults: PAGE_MAX,
            Filters: [{ Name: 'Direction', Values: ['INBOUND'] }],
            ...(NextToken ? { NextToken } : {}),
          },
        ),
      );
      return { items: page.ResolverEndpoints, nextToken: page.NextToken };
    });
    const wanted = new Set(vpcIds);
    // Every state counts but deleting: one being created or repaired will answer again.
    return endpoints.flatMap((endpoint) =>
      endpoint.Id &&
      endpoint.HostVPCId &&
      wanted.has(endpoint.HostVPCId) &&
      endpoint.Direction === 'INBOUND' &&
      endpoint.Status !== 'DELETING'
        ? [{ resolverEndpointId: endpoint.Id, vpcId: endpoint.HostVPCId }]
        : [],
    );
  } catch (error) {
    if (!isDegradable(error)) throw error;
    ctx.skip(OPERATION, error);
    return undefined;
  }
}
