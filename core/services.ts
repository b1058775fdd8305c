/**
 * The AWS services whose endpoints ECS work depends on, and how their names are built and read.
 */

/** Short names of the interface endpoints the remediator manages, in creation order. */
export const INTERFACE_SERVICES = [
  // The ECS guide: with container instances already running, create these three in this order.
  'ecs-agent',
  'ecs-telemetry',
  'ecs',
  // Run Command (agent restarts) to instances without egress.
  'ssm',
  'ssmmessages',
  'ec2messages',
  'ecr.api',
  'ecr.dkr',
  'logs',
  'secretsmanager',
  // FireLens outputs and ECS Exec session encryption.
  'kinesis-firehose',
  'kinesis-streams',
  'kms',
] as const;

export type InterfaceService = (typeof INTERFACE_SERVICES)[number];

/** The one gateway endpoint ECS needs: image layers from private ECR are served from S3. */
export const GATEWAY_SERVICE = 's3';

export type ManagedService = InterfaceService | typeof GATEWAY_SERVICE;

export const MANAGED_SERVICES: readonly ManagedService[] = [...INTERFACE_SERVICES, GATEWAY_SERVICE];

/** The three endpoints whose creation obliges running container instances to restart their agent. */
export const ECS_AGENT_SERVICES: readonly InterfaceService[] = ['ecs-agent', 'ecs-telemetry', 'ecs'];

/** `com.amazonaws.<region>.<service>`: the name of an AWS service's endpoint in a Region. */
export function serviceNameOf(region: string, service: ManagedService): string {
  return `com.amazonaws.${region}.${service}`;
}

export interface ParsedServiceName {
  readonly region: string;
  readonly service: string;
}

const SERVICE_NAME = /^(?:cn\.)?com\.amazonaws\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(.+)$/;

/** Splits an AWS service name into Region and short name; undefined for anything else (partner services). */
export function parseServiceName(serviceName: string): ParsedServiceName | undefined {
  const match = SERVICE_NAME.exec(serviceName);
  if (!match?.[1] || !match[2]) return undefined;
  return { region: match[1], service: match[2] };
}

export function isManagedService(service: string): service is ManagedService {
  return (MANAGED_SERVICES as readonly string[]).includes(service);
}

/** Creation order: the ECS trio first (in the guide's order), then the rest as listed above. */
export function serviceOrder(service: ManagedService): number {
  return MANAGED_SERVICES.indexOf(service);
}
