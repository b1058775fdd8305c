/**
 * The remediator's configuration: a JSON document validated here, with safe defaults for every field.
 * An empty object is a valid config. Documented in docs/config.md.
 */
import * as z from 'zod';

const vpcId = z.string().regex(/^vpc-[0-9a-f]+$/, 'expected a VPC id like vpc-0abc123');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a Region name like us-east-1');

export const configSchema = z
  .object({
    /** Regions to sweep when the CLI gets no --region. Empty: the SDK's default Region. */
    regions: z.array(region).default(() => []),
    scope: z
      .object({
        /** Only these VPCs are examined; empty means every VPC that hosts ECS work. */
        includeVpcIds: z.array(vpcId).default(() => []),
        /** Never examined, like VPCs tagged `ecs-endpoint-remediator/ignore=true`. */
        excludeVpcIds: z.array(vpcId).default(() => []),
      })
      .strict()
      .default(() => ({ includeVpcIds: [], excludeVpcIds: [] })),
    remediation: z
      .object({
        /** Turn on `enableDnsSupport`/`enableDnsHostnames` so private DNS can work (changes VPC-wide DNS). */
        enableVpcDnsAttributes: z.boolean().default(false),
        /**
         * Delete endpoints whose service name names another Region: `never`; `owned` (only those tagged
         * as the remediator's); `any` (the ECS guide's advice for templates copied across Regions, an
         * explicit exception to "nothing not owned is deleted").
         */
        deleteWrongRegionEndpoints: z.enum(['never', 'owned', 'any']).default('never'),
      })
      .strict()
      .default(() => ({ enableVpcDnsAttributes: false, deleteWrongRegionEndpoints: 'never' as const })),
    limits: z
      .object({
        /** Blast-radius cap: most endpoints created in one run, over all Regions. */
        maxEndpointsCreatedPerRun: z.number().int().min(0).default(20),
        /** Most actions of any kind in one run, over all Regions. */
        maxActionsPerRun: z.number().int().min(0).default(100),
      })
      .strict()
      .default(() => ({ maxEndpointsCreatedPerRun: 20, maxActionsPerRun: 100 })),
    agentRestart: z
      .object({
        /** Restart the ECS agent on running container instances after the ECS endpoints change. */
        enabled: z.boolean().default(true),
        /** Most instances of one cluster restarted at once. */
        waveSize: z.number().int().min(1).max(50).default(5),
        /** Most of a cluster's owing instances restarted at once, in percent (the smaller limit wins). */
        wavePercent: z.number().int().min(1).max(100).default(25),
        /** Most restarts in one run, over all Regions; the rest wait for the next run. */
        maxRestartsPerRun: z.number().int().min(0).default(100),
        /** SSM Run Command delivery and execution timeout of each restart. */
        commandTimeoutSeconds: z.number().int().min(30).max(3600).default(300),
        /** How long to wait for new endpoints to become available, and for SSM to see an instance online. */
        waitSeconds: z.number().int().min(0).max(3600).default(600),
        /** How long the agent may take to reconnect to ECS after a restart. */
        verifySeconds: z.number().int().min(0).max(3600).default(180),
        /** Fix AGENT_OUTDATED with ECS UpdateContainerAgent (Amazon Linux ECS-optimized AMIs only). */
        updateOutdatedAgents: z.boolean().default(false),
      })
      .strict()
      .default(() => ({
        enabled: true,
        waveSize: 5,
        wavePercent: 25,
        maxRestartsPerRun: 100,
        commandTimeoutSeconds: 300,
        waitSeconds: 600,
        verifySeconds: 180,
        updateOutdatedAgents: false,
      })),
    pricing: z
      .object({
        /** USD per interface endpoint per AZ per hour; default: the published us-east-1 price. */
        interfaceEndpointHourlyUsd: z.number().min(0).default(0.01),
        hoursPerMonth: z.number().positive().default(730),
      })
      .strict()
      .default(() => ({ interfaceEndpointHourlyUsd: 0.01, hoursPerMonth: 730 })),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** A config that failed validation; `problems` name each bad field by its path. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates a parsed config document and fills in the defaults; throws {@link ConfigError}. */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** The config with every default: what an empty file means. */
export const defaultConfig: Config = parseConfig({});
