/**
 * A small client for the Route 53 Resolver API (awsJson1_1), for the three reads discovery makes: the
 * signed JSON client of aws/signed-json-client.ts (which says why the SDK's own client is not used).
 */
import type { JsonClient, JsonClientOptions } from './signed-json-client.ts';
import { ServiceError, createJsonClient } from './signed-json-client.ts';

/** The operations discovery sends. */
export type ResolverOperation =
  'ListResolverRuleAssociations' | 'GetResolverRule' | 'ListResolverRules' | 'ListResolverEndpoints';

/** An error answer of the Resolver API: `name` is its code (`AccessDeniedException`, …). */
export { ServiceError as ResolverServiceError };

export type ResolverClientOptions = JsonClientOptions<ResolverOperation>;

export type ResolverClient = JsonClient<ResolverOperation>;

export function createResolverClient(options: ResolverClientOptions): ResolverClient {
  return createJsonClient<ResolverOperation>(
    {
      service: 'route53resolver',
      endpointVariable: 'ROUTE53RESOLVER',
      request: (operation) => ({
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `Route53Resolver.${operation}`,
        },
      }),
    },
    options,
  );
}
