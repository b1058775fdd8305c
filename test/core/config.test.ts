/**
 * The config document: defaults, and errors that name the bad field.
 */
import { describe, expect, it } from 'vitest';

import { ConfigError, defaultConfig, isChecked, parseConfig } from '../../core/config.ts';

function problemsOf(input: unknown): readonly string[] {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('an empty document is valid and means every default', () => {
    expect(parseConfig({})).toEqual({
      regions: [],
      scope: { includeVpcIds: [], excludeVpcIds: [] },
      remediation: {
        enableVpcDnsAttributes: false,
        deleteWrongRegionEndpoints: 'never',
        resetOwnedEndpointPolicies: false,
        minSeverity: 'low',
      },
      limits: { maxEndpointsCreatedPerRun: 20, maxActionsPerRun: 100 },
      agentRestart: {
        enabled: true,
        waveSize: 5,
        wavePercent: 25,
        maxRestartsPerRun: 100,
        commandTimeoutSeconds: 300,
        waitSeconds: 600,
        verifySeconds: 180,
        updateOutdatedAgents: false,
      },
      timeouts: { connectSeconds: 5, requestSeconds: 10 },
      rateLimits: { share: 0.5, throttleBudgetSeconds: 300, buckets: {} },
      workUnits: { clustersPerShard: 100, vpcsPerUnit: 40, vpcsPerStep: 20 },
      checks: { disabled: [] },
      mutelist: [],
      pricing: { interfaceEndpointHourlyUsd: 0.01, hoursPerMonth: 730 },
    });
    expect(defaultConfig).toEqual(parseConfig({}));
  });

  it('null and undefined mean the defaults too', () => {
    expect(parseConfig(null)).toEqual(defaultConfig);
    expect(parseConfig(undefined)).toEqual(defaultConfig);
  });

  // The defaults of `scope` are one object literal given to zod, whose arrays every parse hands out again.
  it('parsed configs share no mutable state with each other or with defaultConfig', () => {
    const first = parseConfig({});
    first.scope.includeVpcIds.push('vpc-0abc');
    first.regions.push('us-east-1');
    try {
      expect(parseConfig({}).scope.includeVpcIds).toEqual([]);
      expect(parseConfig({}).regions).toEqual([]);
      expect(defaultConfig.scope.includeVpcIds).toEqual([]);
    } finally {
      first.scope.includeVpcIds.length = 0;
      first.regions.length = 0;
    }
  });

  it('a partial section keeps the defaults of its other fields', () => {
    const config = parseConfig({
      remediation: { deleteWrongRegionEndpoints: 'owned' },
      limits: { maxActionsPerRun: 5 },
    });
    expect(config.remediation).toEqual({
      enableVpcDnsAttributes: false,
      deleteWrongRegionEndpoints: 'owned',
      resetOwnedEndpointPolicies: false,
      minSeverity: 'low',
    });
    expect(config.limits).toEqual({ maxEndpointsCreatedPerRun: 20, maxActionsPerRun: 5 });
  });

  it('accepts each delete mode', () => {
    for (const mode of ['never', 'owned', 'any'] as const) {
      expect(
        parseConfig({ remediation: { deleteWrongRegionEndpoints: mode } }).remediation
          .deleteWrongRegionEndpoints,
      ).toBe(mode);
    }
  });

  it.each([
    ['remediation.deleteWrongRegionEndpoints', { remediation: { deleteWrongRegionEndpoints: 'sometimes' } }],
    ['remediation.enableVpcDnsAttributes', { remediation: { enableVpcDnsAttributes: 'yes' } }],
    ['limits.maxActionsPerRun', { limits: { maxActionsPerRun: -1 } }],
    ['limits.maxEndpointsCreatedPerRun', { limits: { maxEndpointsCreatedPerRun: 2.5 } }],
    ['pricing.hoursPerMonth', { pricing: { hoursPerMonth: 0 } }],
    ['pricing.interfaceEndpointHourlyUsd', { pricing: { interfaceEndpointHourlyUsd: -0.01 } }],
    ['scope.includeVpcIds.1', { scope: { includeVpcIds: ['vpc-0abc', 'my-vpc'] } }],
    ['scope.excludeVpcIds.0', { scope: { excludeVpcIds: ['vpc-XYZ'] } }],
    ['regions.0', { regions: ['US-EAST-1'] }],
  ])('an invalid value names %s', (field, input) => {
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith(`${field}: `)).toBe(true);
  });

  it('checks.disabled takes finding codes, and names an unknown one', () => {
    const config = parseConfig({ checks: { disabled: ['VPC_CUSTOM_DNS', 'AGENT_OUTDATED'] } });
    expect(isChecked(config, 'VPC_CUSTOM_DNS')).toBe(false);
    expect(isChecked(config, 'ENDPOINT_MISSING')).toBe(true);
    expect(isChecked(defaultConfig, 'VPC_CUSTOM_DNS')).toBe(true);
    const problems = problemsOf({ checks: { disabled: ['ENDPOINT_MISSING', 'VPC_DNS'] } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^checks\.disabled\.1: Invalid option: expected one of "ENDPOINT_MISSING"\|/);
  });

  it('an unknown field is an error that names it', () => {
    const nested = problemsOf({ limits: { maxEndpoints: 3 } });
    expect(nested.join('\n')).toContain('limits');
    expect(nested.join('\n')).toContain('maxEndpoints');
    expect(problemsOf({ dryRun: true }).join('\n')).toContain('dryRun');
  });

  it('reports every problem at once, and the error message lists them', () => {
    try {
      parseConfig({ limits: { maxActionsPerRun: -1 }, remediation: { deleteWrongRegionEndpoints: 'x' } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const configError = error as ConfigError;
      expect(configError.problems).toHaveLength(2);
      for (const problem of configError.problems) expect(configError.message).toContain(problem);
    }
  });

  it('a document that is not an object is an error at the root', () => {
    expect(problemsOf([])[0]).toMatch(/^\(root\): /);
    expect(problemsOf('limits')[0]).toMatch(/^\(root\): /);
  });
});
