/**
 * Route 53 Profiles that carry the remediator's endpoints that look unneeded. A Profile shares DNS
 * configuration with every VPC it is associated with, in this account or (shared through AWS RAM) in
 * others: its resources may be interface VPC endpoints, whose private DNS names then resolve to them
 * in those VPCs, and private hosted zones, which then answer there (GetHostedZone does not list those
 * VPCs). So an endpoint that is a Profile's resource, or that a Profile's zone points at, may serve
 * VPCs out of this account's sight, and is never judged unused (core/checks.ts).
 *
 * The Region's Profiles (ListProfiles, paged) and each one's resource associations
 * (ListProfileResourceAssociations, paged), read only when there are such endpoints. Which zones
 * point at them is endpoint-aliases.ts's finding: this returns every zone the Profiles carry, and
 * discovery keeps those.
 */
import type { ProfileResource } from '../../core/model.ts';
import { collectPages, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { DiscoveryError, isDegradable } from './context.ts';

/** Both lists return at most 100 items a page. */
const PAGE_MAX = 100;
/** Profiles whose resources are listed at once (one request each, and its pages in turn). */
const PROFILES_CONCURRENCY = 4;

/** arn:<partition>:ec2:<region>:<account>:vpc-endpoint/<id> */
const ENDPOINT_ARN = /^arn:[^:]+:ec2:([^:]*):\d*:vpc-endpoint\/(vpce-[0-9a-f]+)$/;
/** arn:<partition>:route53:::hostedzone/<id> (Route 53 is global: no Region, no account). */
const ZONE_ARN = /^arn:[^:]+:route53:::hostedzone\/([A-Z0-9]+)$/;

/**
 * The resources of the Region's Route 53 Profiles that are one of `endpointIds` (by ARN) or a hosted
 * zone (any: which of them point at the endpoints, discovery knows). Associations being deleted (or
 * deleted) are left out; every other state counts, since one being created or retried will apply.
 * Refused (access denied), the read is recorded as skipped and undefined returned: whether a
 * Profile carries the endpoints to other VPCs cannot be known.
 */
export async function describeProfileResources(
  ctx: DiscoveryContext,
  endpointIds: readonly string[],
): Promise<ProfileResource[] | undefined> {
  if (endpointIds.length === 0) return [];
  const wanted = new Set(endpointIds);
  try {
    const profiles = await collectPages(async (nextToken: string | undefined) => {
      const page = await ctx.call('route53profiles:ListProfiles', () =>
        ctx.clients.route53profiles.listProfiles({
          maxResults: PAGE_MAX,
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      );
      return { items: page.ProfileSummaries ?? [], nextToken: page.NextToken };
    });
    const perProfile = await mapConcurrent(
      profiles.flatMap((profile) => (profile.Id ? [{ id: profile.Id, name: profile.Name }] : [])),
      PROFILES_CONCURRENCY,
      async (profile) => {
        const associations = await collectPages(async (nextToken: string | undefined) => {
          const page = await ctx.call('route53profiles:ListProfileResourceAssociations', () =>
            ctx.clients.route53profiles.listProfileResourceAssociations({
              profileId: profile.id,
              maxResults: PAGE_MAX,
              ...(nextToken === undefined ? {} : { nextToken }),
            }),
          );
          return { items: page.ProfileResourceAssociations ?? [], nextToken: page.NextToken };
        }).catch((error: unknown) => {
          // Deleted since ListProfiles listed it: it carries nothing to any VPC (AWS deletes a
          // Profile only once no VPC is associated with it), and the Region's discovery goes on.
          if (error instanceof DiscoveryError && error.code === 'ResourceNotFoundException') return [];
          throw error;
        });
        return associations.flatMap((association): ProfileResource[] => {
          if (association.Status === 'DELETING' || association.Status === 'DELETED') return [];
          const arn = association.ResourceArn ?? '';
          const named = profile.name ? { profileName: profile.name } : {};
          const endpoint = ENDPOINT_ARN.exec(arn);
          if (endpoint?.[1] === ctx.region && endpoint[2] !== undefined && wanted.has(endpoint[2]))
            return [{ profileId: profile.id, ...named, kind: 'vpc-endpoint', resourceId: endpoint[2] }];
          const zone = ZONE_ARN.exec(arn);
          if (zone?.[1] !== undefined)
            return [{ profileId: profile.id, ...named, kind: 'hosted-zone', resourceId: zone[1] }];
          return [];
        });
      },
    );
    const resources = perProfile.flat();
    ctx.progress(
      `route53profiles: ${profiles.length} Profiles; ${resources.filter((r) => r.kind === 'vpc-endpoint').length} of their resources are the remediator's endpoints weighed, ${resources.filter((r) => r.kind === 'hosted-zone').length} private hosted zones`,
    );
    return resources;
  } catch (error) {
    if (!isDegradable(error)) throw error;
    const operation = error instanceof DiscoveryError ? error.operation : 'route53profiles:ListProfiles';
    ctx.skip(operation, error);
    return undefined;
  }
}
