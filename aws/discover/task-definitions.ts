/**
 * Task definitions: the containers' images, log drivers and secret references.
 */
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { ContainerDefinition as SdkContainerDefinition } from '@aws-sdk/client-ecs';
import type { ContainerDefinition, TaskDefinition } from '../../core/model.ts';
import { distinct, mapConcurrent } from '../pagination.ts';
import type { DiscoveryContext } from './context.ts';
import { REQUEST_CONCURRENCY } from './context.ts';
import { isText } from './ecs.ts';

/** DescribeTaskDefinition has no batch form: one call per distinct ARN, a few at a time. */
export async function describeTaskDefinitions(
  ctx: DiscoveryContext,
  arns: readonly string[],
): Promise<TaskDefinition[]> {
  const { ecs } = ctx.clients;
  const distinctArns = distinct(arns);
  const definitions = await mapConcurrent(distinctArns, REQUEST_CONCURRENCY, async (taskDefinition) => {
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
  ctx.progress(`ecs: ${definitions.length} task definitions`);
  return definitions;
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
