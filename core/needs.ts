/**
 * The needs table: why ECS work needs an endpoint, which endpoints, and which network interface makes
 * the calls. One row per need; docs/architecture.md lists each with the AWS page that states it.
 *
 * And the needs of one task definition: what its containers' images, log configuration, secrets and
 * FireLens settings call, in this Region.
 */
import type { ContainerDefinition, EcsCluster, TaskDefinition } from './model.ts';
import type { ManagedService } from './services.ts';

/**
 * Who makes a need's calls:
 * - `host`: the container instance itself (the ECS agent's own traffic, the SSM agent);
 * - `agent`: the agent on behalf of a task (image pulls, awslogs, secrets): on Fargate from the
 *   task's interface, on EC2 from the host's;
 * - `task`: the task's own containers (a FireLens router, ECS Exec): from the task's awsvpc interface,
 *   or the host's for bridge and host networking.
 */
export type Caller = 'host' | 'agent' | 'task';

export interface NeedRow {
  readonly services: readonly ManagedService[];
  readonly by: Caller;
  /** Only on EC2 capacity (e.g. FireLens config files from S3 are an EC2 feature). */
  readonly ec2Only?: boolean;
}

/** Why a VPC needs endpoints: each need, its endpoints and who calls them. */
export const NEEDS = {
  // Container instances: the agent polls, reports telemetry and registers through these three.
  'ec2-capacity': { services: ['ecs-agent', 'ecs-telemetry', 'ecs'], by: 'host' },
  // Agent restarts go through SSM Run Command; without egress the instances need these three.
  'run-command': { services: ['ssm', 'ssmmessages', 'ec2messages'], by: 'host' },
  // Image manifests from ecr.api/ecr.dkr, layers from S3 (prod-<region>-starport-layer-bucket).
  'private-ecr': { services: ['ecr.api', 'ecr.dkr', 's3'], by: 'agent' },
  awslogs: { services: ['logs'], by: 'agent' },
  secretsmanager: { services: ['secretsmanager'], by: 'agent' },
  'ssm-parameters': { services: ['ssm'], by: 'agent' },
  // Service Connect's Envoy management uses the ecs-agent endpoint when there is one.
  'service-connect': { services: ['ecs-agent'], by: 'task' },
  // FireLens: the router's config file from S3 (EC2 only), and its outputs.
  'firelens-config-s3': { services: ['s3'], by: 'agent', ec2Only: true },
  'firelens-logs': { services: ['logs'], by: 'task' },
  'firelens-firehose': { services: ['kinesis-firehose'], by: 'task' },
  'firelens-kinesis': { services: ['kinesis-streams'], by: 'task' },
  'firelens-s3': { services: ['s3'], by: 'task' },
  // A FireLens config file the remediator cannot read may name outputs of its own.
  'firelens-unknown': { services: [], by: 'task' },
  // ECS Exec: the SSM agent in the task's containers, and the session logging the cluster asks for.
  'ecs-exec': { services: ['ssmmessages'], by: 'task' },
  'ecs-exec-logs': { services: ['logs'], by: 'task' },
  'ecs-exec-s3': { services: ['s3'], by: 'task' },
  'ecs-exec-kms': { services: ['kms'], by: 'task' },
} as const satisfies Readonly<Record<string, NeedRow>>;

export type Need = keyof typeof NEEDS;

/** The endpoints each need requires. */
export const NEED_SERVICES: Readonly<Record<Need, readonly ManagedService[]>> = Object.fromEntries(
  Object.entries(NEEDS).map(([need, row]) => [need, row.services]),
) as unknown as Record<Need, readonly ManagedService[]>;

/** Needs whose endpoints cannot be known: reported as `unknown`, never as none. */
export function isUnknownNeed(need: Need): boolean {
  return NEEDS[need].services.length === 0;
}

const PRIVATE_ECR_IMAGE = /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//;
const ARN_REGION = /^arn:aws[a-z-]*:(secretsmanager|ssm):([a-z0-9-]+):/;

/**
 * FireLens output plugins (Fluent Bit `Name`, Fluentd `@type`) that call an AWS service, and the need
 * each makes. Outputs elsewhere (OpenSearch, Datadog, HTTP, …) need none of the managed endpoints.
 */
const FIRELENS_OUTPUTS: Readonly<Record<string, Need>> = {
  cloudwatch_logs: 'firelens-logs',
  cloudwatch: 'firelens-logs',
  kinesis_firehose: 'firelens-firehose',
  firehose: 'firelens-firehose',
  kinesis_streams: 'firelens-kinesis',
  kinesis: 'firelens-kinesis',
  s3: 'firelens-s3',
};

export type NeedReason = readonly [Need, string];

/**
 * The needs of one container definition in `region`. Resources of another Region (an image from
 * another Region's registry, a secret ARN of another Region, a log output to another Region) cannot
 * be served by this Region's endpoints, so they make no endpoint required here.
 */
export function containerNeeds(container: ContainerDefinition, region: string): NeedReason[] {
  const needs: NeedReason[] = [];
  const ecrRegion = PRIVATE_ECR_IMAGE.exec(container.image)?.[1];
  if (ecrRegion === region) needs.push(['private-ecr', `image ${container.image}`]);
  const options = container.logOptions ?? {};
  if (container.logDriver === 'awslogs' && (options['awslogs-region'] ?? region) === region)
    needs.push(['awslogs', `container ${container.name} logs with awslogs`]);
  if (container.logDriver === 'awsfirelens') {
    const plugin = (options.Name ?? options['@type'] ?? '').toLowerCase();
    const need = FIRELENS_OUTPUTS[plugin];
    if (need !== undefined && (options.region ?? region) === region)
      needs.push([need, `container ${container.name} logs through FireLens to ${plugin}`]);
  }
  if (container.firelens !== undefined) {
    const type = container.firelens.options?.['config-file-type'];
    const value = container.firelens.options?.['config-file-value'] ?? '';
    // An S3 ARN names no Region: the bucket is assumed in the task's (the S3 gateway serves only those).
    if (type === 's3')
      needs.push([
        'firelens-config-s3',
        `FireLens router ${container.name} loads ${value || 'its config'} from S3`,
      ]);
    if (type === 's3' || type === 'file') {
      needs.push([
        'firelens-unknown',
        `FireLens router ${container.name} loads a config file (${value || type}) whose outputs the remediator cannot read`,
      ]);
    }
  }
  // Private registry credentials are always a Secrets Manager secret (ARN or bare name).
  const credentials = container.repositoryCredentials;
  if (credentials !== undefined) {
    const arn = ARN_REGION.exec(credentials);
    if (!arn || arn[2] === region) needs.push(['secretsmanager', `registry credentials ${credentials}`]);
  }
  for (const ref of container.secretRefs) {
    const arn = ARN_REGION.exec(ref);
    if (!arn) {
      // A bare name is a Parameter Store parameter of the task's own Region.
      needs.push(['ssm-parameters', `secret ${ref}`]);
    } else if (arn[2] === region) {
      needs.push([arn[1] === 'secretsmanager' ? 'secretsmanager' : 'ssm-parameters', `secret ${ref}`]);
    }
  }
  return needs;
}

/**
 * The needs ECS Exec adds to a task with `enableExecuteCommand`: `ssmmessages` always, and what the
 * cluster's `executeCommandConfiguration` sends the session output to and encrypts it with. Logging
 * `DEFAULT` (or unset) uses the task definition's awslogs settings.
 */
export function execNeeds(
  definition: TaskDefinition | undefined,
  cluster: EcsCluster | undefined,
): NeedReason[] {
  const needs: NeedReason[] = [['ecs-exec', 'ECS Exec (enableExecuteCommand)']];
  const config = cluster?.executeCommand;
  const logging = config?.logging ?? 'DEFAULT';
  const awslogs = (definition?.containers ?? []).some((container) => container.logDriver === 'awslogs');
  if ((logging === 'DEFAULT' && awslogs) || (logging === 'OVERRIDE' && config?.cloudWatchLogGroupName)) {
    needs.push(['ecs-exec-logs', 'ECS Exec session output to CloudWatch Logs']);
  }
  if (logging === 'OVERRIDE' && config?.s3BucketName)
    needs.push(['ecs-exec-s3', `ECS Exec session output to S3 bucket ${config.s3BucketName}`]);
  if (config?.kmsKeyId) needs.push(['ecs-exec-kms', `ECS Exec sessions encrypted with ${config.kmsKeyId}`]);
  return needs;
}
