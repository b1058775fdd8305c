/**
 * A small client for the two Route 53 Profiles reads discovery makes (restJson1, signing name
 * `route53profiles`): ListProfiles (`GET /profiles`) and ListProfileResourceAssociations
 * (`GET /profileresourceassociations/profileid/{ProfileId}`). The signed JSON client of
 * aws/signed-json-client.ts, which says why the SDK's own clients are not used: a whole
 * `@aws-sdk/client-route53profiles` for two reads would add to the Lambda bundle what this reuses.
 *
 * API reference: https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53profiles_ListProfiles.html,
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53profiles_ListProfileResourceAssociations.html
 */
import type { JsonClient, JsonClientOptions } from './signed-json-client.ts';
import { createJsonClient } from './signed-json-client.ts';

/** The operations discovery sends. */
export type Route53ProfilesOperation = 'ListProfiles' | 'ListProfileResourceAssociations';

/** ListProfiles's input (the API model's ListProfilesRequest). */
export interface ListProfilesInput {
  /** 1 to 100; the API's default is 100. */
  readonly maxResults?: number;
  readonly nextToken?: string;
}

/** ListProfiles's answer (the API model's ListProfilesResponse). */
export interface ListProfilesOutput {
  readonly ProfileSummaries?: ReadonlyArray<{
    readonly Arn?: string;
    readonly Id?: string;
    readonly Name?: string;
    /** `NOT_SHARED`, `SHARED_WITH_ME` or `SHARED_BY_ME`. */
    readonly ShareStatus?: string;
  }>;
  readonly NextToken?: string;
}

/** ListProfileResourceAssociations's input (the API model's request, in part: no resourceType). */
export interface ListProfileResourceAssociationsInput {
  readonly profileId: string;
  /** 1 to 100; the API's default is 100. */
  readonly maxResults?: number;
  readonly nextToken?: string;
}

/** ListProfileResourceAssociations's answer (the API model's response, in part). */
export interface ListProfileResourceAssociationsOutput {
  readonly ProfileResourceAssociations?: ReadonlyArray<{
    readonly Id?: string;
    readonly Name?: string;
    readonly ProfileId?: string;
    /** The associated DNS resource: a private hosted zone, a Resolver rule, a VPC endpoint, … */
    readonly ResourceArn?: string;
    readonly ResourceType?: string;
    /** `COMPLETE`, `CREATING`, `UPDATING`, `DELETING`, `DELETED` or `FAILED`. */
    readonly Status?: string;
  }>;
  readonly NextToken?: string;
}

/** What discovery needs of Route 53 Profiles. */
export interface Route53ProfilesClient {
  listProfiles(input: ListProfilesInput): Promise<ListProfilesOutput>;
  listProfileResourceAssociations(
    input: ListProfileResourceAssociationsInput,
  ): Promise<ListProfileResourceAssociationsOutput>;
}

/** The query members of a list's paging input that are set (restJson1 sends no empty member). */
function pagingQuery(input: {
  readonly maxResults?: number;
  readonly nextToken?: string;
}): Record<string, string> {
  return {
    ...(input.maxResults === undefined ? {} : { maxResults: String(input.maxResults) }),
    ...(input.nextToken === undefined ? {} : { nextToken: input.nextToken }),
  };
}

export function createRoute53ProfilesClient(
  options: JsonClientOptions<Route53ProfilesOperation>,
): Route53ProfilesClient {
  const client: JsonClient<Route53ProfilesOperation> = createJsonClient<Route53ProfilesOperation>(
    {
      service: 'route53profiles',
      endpointVariable: 'ROUTE53PROFILES',
      request: (operation, input) => {
        const paging = input as { maxResults?: number; nextToken?: string };
        if (operation === 'ListProfiles')
          return { method: 'GET', path: '/profiles', query: pagingQuery(paging), headers: {} };
        const profileId = (input as { profileId?: unknown }).profileId;
        if (typeof profileId !== 'string' || profileId === '')
          throw new TypeError('ListProfileResourceAssociations needs a profileId');
        return {
          method: 'GET',
          path: `/profileresourceassociations/profileid/${encodeURIComponent(profileId)}`,
          query: pagingQuery(paging),
          headers: {},
        };
      },
    },
    options,
  );
  return {
    listProfiles: (input) => client.send<ListProfilesOutput>('ListProfiles', { ...input }),
    listProfileResourceAssociations: (input) =>
      client.send<ListProfileResourceAssociationsOutput>('ListProfileResourceAssociations', { ...input }),
  };
}
