/**
 * Which VPCs the remediator may examine and change.
 */
import type { Config } from './config.ts';
import type { Tags } from './model.ts';

/** Tag key and value that take a VPC out of scope. */
export const IGNORE_TAG = { key: 'ecs-endpoint-remediator/ignore', value: 'true' } as const;

export type ScopeDecision =
  | { readonly inScope: true }
  | {
      readonly inScope: false;
      readonly reason: 'ignore-tag' | 'excluded-by-config' | 'not-included-by-config';
    };

/** Scope of one VPC that hosts ECS work, from its tags and the config's include/exclude lists. */
export function vpcScope(
  vpc: { readonly vpcId: string; readonly tags: Tags },
  config: Config,
): ScopeDecision {
  if (vpc.tags[IGNORE_TAG.key]?.toLowerCase() === IGNORE_TAG.value)
    return { inScope: false, reason: 'ignore-tag' };
  if (config.scope.excludeVpcIds.includes(vpc.vpcId)) return { inScope: false, reason: 'excluded-by-config' };
  const included = config.scope.includeVpcIds;
  if (included.length > 0 && !included.includes(vpc.vpcId))
    return { inScope: false, reason: 'not-included-by-config' };
  return { inScope: true };
}
