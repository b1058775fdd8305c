/**
 * Service names.
 */
import { describe, expect, it } from 'vitest';

import {
  ECS_AGENT_SERVICES,
  MANAGED_SERVICES,
  isManagedService,
  parseServiceName,
  serviceNameOf,
  serviceOrder,
} from '../../core/services.ts';

describe('service names', () => {
  it('are built as com.amazonaws.<region>.<service>', () => {
    expect(serviceNameOf('ca-west-1', 'ecs-agent')).toBe('com.amazonaws.ca-west-1.ecs-agent');
    expect(serviceNameOf('us-east-1', 'ecr.dkr')).toBe('com.amazonaws.us-east-1.ecr.dkr');
  });

  it.each([
    ['com.amazonaws.us-east-1.ecs-agent', { region: 'us-east-1', service: 'ecs-agent' }],
    ['com.amazonaws.ap-southeast-2.ecr.api', { region: 'ap-southeast-2', service: 'ecr.api' }],
    ['com.amazonaws.us-gov-west-1.ecs', { region: 'us-gov-west-1', service: 'ecs' }],
    ['cn.com.amazonaws.cn-north-1.ecr.dkr', { region: 'cn-north-1', service: 'ecr.dkr' }],
  ])('%s parses', (name, parsed) => {
    expect(parseServiceName(name)).toEqual(parsed);
  });

  it.each([
    'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
    'aws.sagemaker.us-east-1.notebook',
    'nonsense',
  ])('%s is not an AWS service name of a Region', (name) => {
    expect(parseServiceName(name)).toBeUndefined();
  });

  it('the ECS trio comes first, in the guide’s order, and S3 is managed', () => {
    expect(ECS_AGENT_SERVICES).toEqual(['ecs-agent', 'ecs-telemetry', 'ecs']);
    expect(MANAGED_SERVICES.slice(0, 3)).toEqual(['ecs-agent', 'ecs-telemetry', 'ecs']);
    expect(serviceOrder('ecs-agent')).toBeLessThan(serviceOrder('ecs-telemetry'));
    expect(serviceOrder('ecs-telemetry')).toBeLessThan(serviceOrder('ecs'));
    expect(isManagedService('s3')).toBe(true);
    expect(isManagedService('sqs')).toBe(false);
  });
});
