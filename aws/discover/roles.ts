/**
 * The role of each container instance's profile: the principal of the agent's own calls, which an
 * endpoint policy may name (ENDPOINT_POLICY_DENIES). One GetInstanceProfile per distinct profile;
 * refused, the read is skipped and policies that name principals are judged `unknown` for those calls.
 */
import { GetInstanceProfileCommand } from '@aws-sdk/client-iam';
import type { Ec2Instance } from '../../core/model.ts';
import { distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY, isDegradable } from './context.ts';

export async function withInstanceRoles(
  ctx: DiscoveryContext,
  instances: readonly Ec2Instance[],
  examined: ReadonlySet<string>,
): Promise<Ec2Instance[]> {
  const profiles = distinct(
    instances
      .filter((instance) => examined.has(instance.instanceId))
      .flatMap((instance) => instance.instanceProfileArn ?? []),
  ).sort();
  if (profiles.length === 0) return [...instances];
  const operation = 'iam:GetInstanceProfile';
  const roles = new Map<string, string>();
  await mapConcurrent(profiles, REQUEST_CONCURRENCY, async (profileArn) => {
    const name = profileArn.slice(profileArn.lastIndexOf('/') + 1);
    try {
      const out = await ctx.call(operation, () =>
        ctx.clients.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })),
      );
      const role = out.InstanceProfile?.Roles?.[0]?.Arn;
      if (role) roles.set(profileArn, role);
    } catch (error) {
      // A profile deleted meanwhile has no role to name; a refused read is recorded.
      if (error instanceof Error && 'code' in error && error.code === 'NoSuchEntity') return;
      if (!isDegradable(error)) throw error;
      ctx.skip(operation, error, profileArn);
    }
  });
  ctx.progress(`iam: roles of ${roles.size} of ${profiles.length} instance profiles`);
  return instances.map((instance) => {
    const role = instance.instanceProfileArn ? roles.get(instance.instanceProfileArn) : undefined;
    return role ? { ...instance, instanceRoleArn: role } : instance;
  });
}
