// The bench's model of AWS: the throttling buckets the bench server applies (the same table and the same
// classification as aws/rate-limit.ts, checked against the Python side), the least time those buckets
// allow, the Lambda projection and the largest account. Behaviour only, no moto.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RATE_LIMIT_FAMILIES, classifyOperation } from '../../aws/rate-limit.ts';
import {
  LAMBDA_MB_PER_VCPU,
  LAMBDA_MEMORY_MB,
  lambdaSeconds,
  lambdaVcpu,
  largestAccount,
  serverThrottleFamilies,
  throttleFloor,
} from '../../bench/aws-model.ts';
import { MODELLED_OPERATIONS, lowerBound } from '../../bench/lower-bound.ts';
import { buildSpec } from '../../bench/spec.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = process.env.MOTO_PYTHON ?? 'python3';

function python(code: string, input: unknown): unknown {
  const out = spawnSync(PYTHON, ['-c', code], {
    cwd: path.join(ROOT, 'bench'),
    input: JSON.stringify(input),
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout);
}

/** Requests as the bench server sees them: EC2 parameters in the query protocol's wire form. */
const REQUESTS: ReadonlyArray<{
  service: string;
  operation: string;
  params?: Record<string, string>;
  input?: object;
}> = [
  ...[...MODELLED_OPERATIONS].map((name) => {
    const [service = '', operation = ''] = name.split(':');
    return { service, operation, params: { 'Filter.1.Name': 'vpc-id' }, input: { Filters: [{}] } };
  }),
  { service: 'ec2', operation: 'DescribeInstances', params: { 'InstanceId.1': 'i-1' }, input: {} },
  {
    service: 'ec2',
    operation: 'DescribeInstances',
    params: { MaxResults: '1000' },
    input: { MaxResults: 1000 },
  },
  { service: 'ec2', operation: 'DescribeSecurityGroups', params: {}, input: {} },
  { service: 'ec2', operation: 'CreateVpcEndpoint', params: {}, input: {} },
  { service: 'ec2', operation: 'AuthorizeSecurityGroupIngress', params: {}, input: {} },
  { service: 'ec2', operation: 'CreateSecurityGroup', params: {}, input: {} },
  { service: 'ec2', operation: 'CreateTags', params: {}, input: {} },
  { service: 'ec2', operation: 'ModifyVpcAttribute', params: {}, input: {} },
  { service: 'ecs', operation: 'PutAttributes' },
  { service: 'ecs', operation: 'UpdateContainerAgent' },
  { service: 'ecs', operation: 'ListAccountSettings' },
  { service: 'ecs', operation: 'SomethingNew' },
  { service: 'ssm', operation: 'DescribeInstanceInformation' },
  { service: 'ssm', operation: 'SendCommand' },
  { service: 'iam', operation: 'GetInstanceProfile' },
  { service: 'route53', operation: 'ListResourceRecordSets' },
  { service: 'dynamodb', operation: 'GetItem' },
];

describe('the server-side throttling model', () => {
  it('takes every family of aws/rate-limit.ts at its published size, whole', () => {
    const families = serverThrottleFamilies();
    expect(Object.keys(families).sort()).toEqual(Object.keys(RATE_LIMIT_FAMILIES).sort());
    for (const [name, family] of Object.entries(RATE_LIMIT_FAMILIES)) {
      expect(families[name]?.capacity).toBe(family.size.capacity);
      expect(families[name]?.refillPerSecond).toBe(family.size.refillPerSecond);
    }
    // The buckets of the issue: ECS reads and EC2's non-mutating ones.
    expect(families['ecs:taskDefinitionRead']).toMatchObject({ capacity: 50, refillPerSecond: 20 });
    expect(families['ec2:nonMutating']).toMatchObject({ capacity: 100, refillPerSecond: 20 });
    expect(families['route53:account']).toMatchObject({ capacity: 50, refillPerSecond: 10 });
  });

  it('puts each request in the bucket aws/rate-limit.ts puts it in (bench/throttle_model.py)', () => {
    const code =
      'import json, sys; from throttle_model import Families; r = json.load(sys.stdin); f = Families(r["families"]); ' +
      'print(json.dumps([(lambda c: c and c.as_dict())(f.classify(q["service"], q["operation"], q.get("params") or {})) for q in r["requests"]]))';
    const got = python(code, { families: serverThrottleFamilies(), requests: REQUESTS }) as Array<{
      family: string;
      bucket: string;
      global: boolean;
    } | null>;
    REQUESTS.forEach((request, index) => {
      const want = classifyOperation(request.service, request.operation, request.input);
      expect(
        got[index],
        `${request.service}:${request.operation} ${JSON.stringify(request.params ?? {})}`,
      ).toEqual(want ? { family: want.family, bucket: want.bucket, global: want.global } : null);
    });
  });

  it('throttles a bucket once its burst is spent, refills it at its rate, and scales both', () => {
    const code = `
import json, sys
from throttle_model import ThrottleModel
r = json.load(sys.stdin)
now = [0.0]
out = {}
for scale in (1, 0.5):
    m = ThrottleModel(r["families"], scale, clock=lambda: now[0])
    now[0] = 0.0
    burst = sum(m.admit("1", "us-east-1", "ecs", "DescribeTaskDefinition", {}) for _ in range(200))
    other_region = m.admit("1", "us-west-2", "ecs", "DescribeTaskDefinition", {})
    now[0] = 1.0
    after_a_second = sum(m.admit("1", "us-east-1", "ecs", "DescribeTaskDefinition", {}) for _ in range(200))
    route53 = sum(m.admit("1", region, "route53", "ListHostedZonesByVPC", {}) for region in ("us-east-1", "eu-west-1") for _ in range(100))
    resolver = sum(m.admit("1", "us-east-1", "route53resolver", "ListResolverRuleAssociations", {}) for _ in range(500))
    dynamodb = all(m.admit("1", "us-east-1", "dynamodb", "GetItem", {}) for _ in range(500))
    out[str(scale)] = [burst, other_region, after_a_second, route53, resolver, dynamodb]
print(json.dumps(out))`;
    expect(python(code, { families: serverThrottleFamilies() })).toEqual({
      // ECS task definition reads: 50 at once, 20 a second after; per Region. Route 53: one bucket
      // of 50 for every Region. Route 53 Resolver: an assumed 20 per action. DynamoDB: no bucket.
      '1': [50, true, 20, 50, 20, true],
      '0.5': [25, true, 10, 25, 10, true],
    });
  });

  it("answers a throttled request in its protocol's shape", () => {
    const code = `
import json
from throttle_model import throttle_answer
print(json.dumps({p: [throttle_answer(p, s)[0], throttle_answer(p, s)[2].decode()] for p, s in [("ec2", "ec2"), ("json", "ecs"), ("restXml", "route53"), ("query", "iam")]}))`;
    const answers = python(code, {}) as Record<string, [string, string]>;
    expect(answers.ec2?.[0]).toBe('503 Service Unavailable');
    expect(answers.ec2?.[1]).toContain('<Code>RequestLimitExceeded</Code>');
    expect(answers.json?.[0]).toBe('400 Bad Request');
    expect(JSON.parse(answers.json?.[1] ?? '{}')).toMatchObject({ __type: 'ThrottlingException' });
    expect(answers.restXml?.[1]).toContain('<Code>Throttling</Code>');
    expect(answers.query?.[1]).toContain('<Code>Throttling</Code>');
  });
});

describe('throttleFloor', () => {
  it('drains each bucket at its rate after its burst; the slowest bucket sets the floor', () => {
    const floor = throttleFloor({
      'ecs:DescribeTaskDefinition': 250, // 50 at once, then 200 at 20/s: 10 s
      'ecs:ListTaskDefinitions': 10, // the same bucket: +0.5 s
      'ec2:DescribeVpcAttribute': 120, // 100, then 20 at 20/s: 1 s
      'route53:ListHostedZonesByVPC': 40, // within the burst
      'route53resolver:ListResolverRuleAssociations': 15, // within its (assumed) burst
      'dynamodb:GetItem': 1000, // no bucket
    });
    expect(floor.seconds).toBe(10.5);
    expect(floor.buckets[0]).toMatchObject({ bucket: 'ecs:taskDefinitionRead', calls: 260 });
    expect(floor.buckets.find((b) => b.bucket === 'ec2:DescribeVpcAttribute')?.seconds).toBe(1);
    expect(floor.buckets.find((b) => b.bucket === 'route53:account')?.seconds).toBe(0);
    // At the limiter's half share: half the burst, half the rate.
    expect(throttleFloor({ 'ecs:DescribeTaskDefinition': 250 }, 0.5).seconds).toBe(22.5);
  });

  it("grows with the account: the lower bound of XL needs minutes of AWS's buckets", () => {
    const l = throttleFloor(lowerBound(buildSpec('L', '123456789012')).byOperation);
    const xl = throttleFloor(lowerBound(buildSpec('XL', '123456789012')).byOperation);
    expect(l.buckets[0]?.bucket).toBe('ecs:taskDefinitionRead');
    expect(l.seconds).toBe((800 - 50) / 20);
    expect(xl.seconds).toBe((4000 - 50) / 20);
  });
});

describe('the Lambda projection', () => {
  it('gives a function CPU in proportion to its memory, one vCPU at 1,769 MB, at most one', () => {
    expect(lambdaVcpu(LAMBDA_MB_PER_VCPU)).toBe(1);
    expect(lambdaVcpu(512)).toBeCloseTo(0.289, 3);
    expect(lambdaVcpu(10_240)).toBe(1);
    expect(LAMBDA_MEMORY_MB).toContain(512); // serverless.yml: the reconciler's memorySize
  });

  it("stretches the run's CPU time to the function's share of a vCPU, on top of its wall time", () => {
    // 10 s of wall time of which 3 s CPU, at 512 MB: the 3 s take 3 / 0.289 = 10.4 s, 7.4 s more.
    expect(lambdaSeconds(10_000, 3000, 512)).toBeCloseTo(10 + 3 * (1769 / 512 - 1), 6);
    expect(lambdaSeconds(10_000, 3000, 1769)).toBe(10);
    expect(lambdaSeconds(10_000, 3000, 3538)).toBe(10);
  });

  it('extrapolates the largest account linearly to the budget', () => {
    // 1 s fixed + 0.1 s a VPC: 150 s at 1,490 VPCs.
    const points = [10, 100, 300].map((vpcs) => ({ vpcs, seconds: 1 + 0.1 * vpcs }));
    const fit = largestAccount(points);
    expect(fit?.vpcs).toBe(1490);
    expect(fit?.secondsPerVpc).toBeCloseTo(0.1, 9);
    expect(fit?.fixedSeconds).toBeCloseTo(1, 9);
    // One size: through the origin.
    expect(largestAccount([{ vpcs: 300, seconds: 60 }])?.vpcs).toBe(750);
    expect(largestAccount([{ vpcs: 300, seconds: 60 }], 300)?.vpcs).toBe(1500);
    expect(largestAccount([])).toBeUndefined();
  });
});
