/**
 * The remediator's configuration: a JSON document validated here, with safe defaults for every field.
 * An empty object is a valid config. Documented in docs/config.md.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { FINDING_CODES } from './findings.ts';
import type { FindingCode } from './findings.ts';
import { muteRuleSchema } from './mutelist.ts';

// zod/mini (tree-shakable, for the Lambdas' cold start) ships no messages: every issue would read
// "Invalid input". Install zod's English ones, the messages config errors have always quoted (a
// public contract: docs/config.md), e.g. `Too small: expected number to be >=0`.
z.config(en());

const vpcId = z.string().check(z.regex(/^vpc-[0-9a-f]+$/, 'expected a VPC id like vpc-0abc123'));
const region = z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a Region name like us-east-1'));
/** A whole number of at least `min` (and at most `max`). */
const count = (min: number, max?: number) =>
  max === undefined
    ? z.number().check(z.int(), z.gte(min))
    : z.number().check(z.int(), z.gte(min), z.lte(max));

export const configSchema = z.strictObject({
  /** Regions to sweep when the CLI gets no --region. Empty: the SDK's default Region. */
  regions: z._default(z.array(region), () => []),
  scope: z._default(
    z.strictObject({
      /** Only these VPCs are examined; empty means every VPC that hosts ECS work. */
      includeVpcIds: z._default(z.array(vpcId), () => []),
      /** Never examined, like VPCs tagged `ecs-endpoint-remediator/ignore=true`. */
      excludeVpcIds: z._default(z.array(vpcId), () => []),
    }),
    () => ({ includeVpcIds: [], excludeVpcIds: [] }),
  ),
  remediation: z._default(
    z.strictObject({
      /** Turn on `enableDnsSupport`/`enableDnsHostnames` so private DNS can work (changes VPC-wide DNS). */
      enableVpcDnsAttributes: z._default(z.boolean(), false),
      /**
       * Delete endpoints whose service name names another Region: `never`; `owned` (only those tagged
       * as the remediator's); `any` (the ECS guide's advice for templates copied across Regions, an
       * explicit exception to "nothing not owned is deleted").
       */
      deleteWrongRegionEndpoints: z._default(z.enum(['never', 'owned', 'any']), 'never'),
      /**
       * Set the policy of an endpoint the remediator owns back to full access when it denies a call the
       * work needs (ENDPOINT_POLICY_DENIES). Off: a policy is never widened unless asked.
       */
      resetOwnedEndpointPolicies: z._default(z.boolean(), false),
      /**
       * The least severe finding fixed: below it, findings are reported with their fix `disabled`
       * (a fix another finding's needs is still made). `low`: everything is fixed.
       */
      minSeverity: z._default(z.enum(['high', 'medium', 'low']), 'low'),
      /**
       * Delete an endpoint the remediator owns once whole-Region sweeps have seen it serve no need of
       * its VPC's ECS work for this many days (ENDPOINT_UNUSED; the deployed stack only, which keeps
       * the clock). Absent: never deleted for being unneeded.
       */
      reclaimUnusedOwnedEndpointsAfterDays: z.optional(count(1, 3650)),
    }),
    () => ({
      enableVpcDnsAttributes: false,
      deleteWrongRegionEndpoints: 'never' as const,
      resetOwnedEndpointPolicies: false,
      minSeverity: 'low' as const,
    }),
  ),
  limits: z._default(
    z.strictObject({
      /** Blast-radius cap: most endpoints created in one run, over all Regions. */
      maxEndpointsCreatedPerRun: z._default(count(0), 20),
      /** Most actions of any kind in one run, over all Regions. */
      maxActionsPerRun: z._default(count(0), 100),
      /** Most monthly cost (USD, `pricing.*`) the fixes of one run may add; absent: no budget. */
      maxAddedMonthlyCostUsdPerRun: z.optional(z.number().check(z.gte(0))),
      /** Most monthly cost the fixes of one VPC may add in one run; absent: no budget. */
      maxAddedMonthlyCostUsdPerVpc: z.optional(z.number().check(z.gte(0))),
    }),
    () => ({ maxEndpointsCreatedPerRun: 20, maxActionsPerRun: 100 }),
  ),
  agentRestart: z._default(
    z.strictObject({
      /** Restart the ECS agent on running container instances after the ECS endpoints change. */
      enabled: z._default(z.boolean(), true),
      /** Most instances of one cluster restarted at once. */
      waveSize: z._default(count(1, 50), 5),
      /** Most of a cluster's owing instances restarted at once, in percent (the smaller limit wins). */
      wavePercent: z._default(count(1, 100), 25),
      /** Most restarts in one run, over all Regions; the rest wait for the next run. */
      maxRestartsPerRun: z._default(count(0), 100),
      /** SSM Run Command delivery and execution timeout of each restart. */
      commandTimeoutSeconds: z._default(count(30, 3600), 300),
      /** How long to wait for new endpoints to become available, and for SSM to see an instance online. */
      waitSeconds: z._default(count(0, 3600), 600),
      /** How long the agent may take to reconnect to ECS after a restart. */
      verifySeconds: z._default(count(0, 3600), 180),
      /** Fix AGENT_OUTDATED with ECS UpdateContainerAgent (Amazon Linux ECS-optimized AMIs only). */
      updateOutdatedAgents: z._default(z.boolean(), false),
    }),
    () => ({
      enabled: true,
      waveSize: 5,
      wavePercent: 25,
      maxRestartsPerRun: 100,
      commandTimeoutSeconds: 300,
      waitSeconds: 600,
      verifySeconds: 180,
      updateOutdatedAgents: false,
    }),
  ),
  timeouts: z._default(
    z.strictObject({
      /** Most seconds to open a connection to an AWS endpoint (a dropped connection fails here). */
      connectSeconds: z._default(count(1, 60), 5),
      /**
       * Most seconds from sending a request to its answer, connecting included (an endpoint that
       * accepts the connection and never answers fails here); also the longest silence of a
       * connection while an answer is read. A timed-out request is tried twice at most.
       */
      requestSeconds: z._default(count(1, 300), 10),
    }),
    () => ({ connectSeconds: 5, requestSeconds: 10 }),
  ),
  rateLimits: z._default(
    z.strictObject({
      /**
       * The part of each of the account's throttling buckets (capacity and refill rate) this tool
       * takes: other tools of the account draw from the same buckets. In (0, 1].
       */
      share: z._default(z.number().check(z.gt(0), z.lte(1)), 0.5),
      /**
       * How long one request keeps being retried while it is throttled, from its first attempt, when
       * the work has no deadline of its own (the CLI; the Lambda's is its remaining time less the
       * safety margin).
       */
      throttleBudgetSeconds: z._default(count(1, 3600), 300),
      /**
       * Bucket sizes other than the published ones (a raised quota), by family (`ecs:taskDefinitionRead`,
       * `ec2:nonMutating`) or by action (`ec2:DescribeVpcAttribute`); `share` still applies.
       * `maxInFlight`: most requests of the bucket in flight at once (default: one second of its rate).
       */
      buckets: z._default(
        z.record(
          z
            .string()
            .check(
              z.regex(
                /^(ec2|ecs|ssm|route53|route53resolver|iam):[A-Za-z0-9]+$/,
                'expected `service:family` or `service:Action` (ec2, ecs, ssm, route53, route53resolver, iam)',
              ),
            ),
          z.strictObject({
            capacity: z.optional(z.number().check(z.gt(0))),
            refillPerSecond: z.optional(z.number().check(z.gt(0))),
            maxInFlight: z.optional(count(1, 1000)),
          }),
        ),
        () => ({}),
      ),
    }),
    () => ({ share: 0.5, throttleBudgetSeconds: 300, buckets: {} }),
  ),
  workUnits: z._default(
    z.strictObject({
      /**
       * The deployed reconciler splits a Region's sweep when it has more clusters than this, reading
       * them in index shards of at most this many clusters each.
       */
      clustersPerShard: z._default(count(1, 1000), 100),
      /** ... or more VPCs with ECS work than this: plan units hold at most this many VPCs each. */
      vpcsPerUnit: z._default(count(1, 1000), 40),
      /** VPCs a plan unit reconciles between two looks at the invocation's remaining time. */
      vpcsPerStep: z._default(count(1, 1000), 20),
    }),
    () => ({ clustersPerShard: 100, vpcsPerUnit: 40, vpcsPerStep: 20 }),
  ),
  checks: z._default(
    z.strictObject({
      /**
       * Finding codes not checked: neither reported nor remedied, and discovery skips the reads only
       * they need (docs/config.md lists which).
       */
      disabled: z._default(z.array(z.enum(FINDING_CODES)), () => []),
    }),
    () => ({ disabled: [] }),
  ),
  /** Findings accepted on purpose, each rule with its reason (core/mutelist.ts, docs/config.md). */
  mutelist: z._default(z.array(muteRuleSchema), () => []),
  pricing: z._default(
    z.strictObject({
      /** USD per interface endpoint per AZ per hour; default: the published us-east-1 price. */
      interfaceEndpointHourlyUsd: z._default(z.number().check(z.gte(0)), 0.01),
      hoursPerMonth: z._default(z.number().check(z.positive()), 730),
    }),
    () => ({ interfaceEndpointHourlyUsd: 0.01, hoursPerMonth: 730 }),
  ),
});

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
    // A record's bad key: its own check's message says what a key must be.
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return `${path}: ${message}`;
  });
  throw new ConfigError(problems);
}

/** Whether the config leaves the check that reports `code` on (`checks.disabled`). */
export function isChecked(config: Config, code: FindingCode): boolean {
  return !config.checks.disabled.includes(code);
}

/** The config with every default: what an empty file means. */
export const defaultConfig: Config = parseConfig({});
