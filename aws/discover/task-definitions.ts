/**
 * Task definitions: the containers' images, log drivers and secret references.
 */
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { ContainerDefinition as SdkContainerDefinition } from '@aws-sdk/client-ecs';
import type { ContainerDefinition, TaskDefinition } from '../../core/model.ts';
import { errorMessage } from '../errors.ts';
import { distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY } from './context.ts';
import { isText } from './ecs.ts';

/**
 * Task definition revisions already read, by ARN. A revision's content never changes (registering
 * anything new makes a new revision: ECS `RegisterTaskDefinition`), so what was read once stays true;
 * deregistering or deleting it changes its status only, which discovery does not use. The deployed
 * remediator keeps them in its state table (aws/task-definition-cache.ts).
 */
export interface TaskDefinitionCache {
  /** The cached definitions of `arns` (each a revision ARN); the ones not cached are absent. */
  get(arns: readonly string[]): Promise<ReadonlyMap<string, TaskDefinition>>;
  /** Remembers `definitions` (each under its revision ARN). */
  put(definitions: readonly TaskDefinition[]): Promise<void>;
}

/**
 * Whether `arn` names one revision (`…:task-definition/<family>:<revision>`), whose content cannot
 * change; a family alone (its latest ACTIVE revision) can.
 */
export function isRevisionArn(arn: string): boolean {
  return /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:[1-9]\d*$/.test(arn);
}

/**
 * DescribeTaskDefinition has no batch form: one call per distinct ARN, a few at a time. With a `cache`,
 * only the revisions it does not hold are described, and those are added to it. The cache only saves
 * calls: one that fails to answer or to store is logged (progress) and the definitions are described.
 */
export async function describeTaskDefinitions(
  ctx: DiscoveryContext,
  arns: readonly string[],
  cache?: TaskDefinitionCache,
): Promise<TaskDefinition[]> {
  const distinctArns = distinct(arns);
  const cacheable = distinctArns.filter(isRevisionArn);
  let cached: ReadonlyMap<string, TaskDefinition> = new Map();
  if (cache && cacheable.length > 0) {
    try {
      cached = await cache.get(cacheable);
    } catch (error) {
      ctx.progress(`task definition cache not read (${errorMessage(error)}): every definition is described`);
    }
  }
  const described = await describeUncached(
    ctx,
    distinctArns.filter((arn) => !cached.has(arn)),
  );
  const fresh = described.filter((definition) => isRevisionArn(definition.taskDefinitionArn));
  if (cache && fresh.length > 0) {
    try {
      await cache.put(fresh);
    } catch (error) {
      ctx.progress(`task definition cache not written (${errorMessage(error)})`);
    }
  }
  const byArn = new Map([
    ...cached,
    ...described.map((d): [string, TaskDefinition] => [d.taskDefinitionArn, d]),
  ]);
  const definitions = distinctArns.flatMap((arn) => {
    const definition = byArn.get(arn);
    return definition ? [definition] : [];
  });
  ctx.progress(
    cache
      ? `ecs: ${definitions.length} task definitions (${cached.size} cached, ${described.length} described)`
      : `ecs: ${definitions.length} task definitions`,
  );
  return definitions;
}

async function describeUncached(ctx: DiscoveryContext, arns: readonly string[]): Promise<TaskDefinition[]> {
  const { ecs } = ctx.clients;
  return mapConcurrent(arns, REQUEST_CONCURRENCY, async (taskDefinition) => {
    const out = await ctx.call('ecs:DescribeTaskDefinition', () =>
      ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition })),
    );
    const definition = out.taskDefinition;
    return {
      // The requested ARN: services and tasks refer to it in this exact form.
      taskDefinitionArn: taskDefinition,
      containers: (definition?.containerDefinitions ?? []).map(toContainerDefinition),
      ...(definition?.executionRoleArn ? { executionRoleArn: definition.executionRoleArn } : {}),
      ...(definition?.taskRoleArn ? { taskRoleArn: definition.taskRoleArn } : {}),
    };
  });
}

function toContainerDefinition(container: SdkContainerDefinition): ContainerDefinition {
  const log = container.logConfiguration;
  const secretRefs = [...(container.secrets ?? []), ...(log?.secretOptions ?? [])]
    .map((secret) => secret.valueFrom)
    .filter(isText);
  const repositoryCredentials = container.repositoryCredentials?.credentialsParameter;
  const firelens = container.firelensConfiguration;
  return {
    name: container.name ?? '',
    image: container.image ?? '',
    ...(log?.logDriver ? { logDriver: log.logDriver } : {}),
    ...(log?.options && Object.keys(log.options).length > 0 ? { logOptions: { ...log.options } } : {}),
    ...(firelens?.type
      ? {
          firelens: {
            type: firelens.type,
            ...(firelens.options ? { options: { ...firelens.options } } : {}),
          },
        }
      : {}),
    secretRefs: distinct(secretRefs),
    ...(repositoryCredentials ? { repositoryCredentials } : {}),
  };
}
