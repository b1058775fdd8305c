// The fault proxy (test/harness/fault-proxy.ts) itself: each protocol's throttle is what the real SDK
// classifies as throttling and retries, 5xx answers are retried as transient, a lost response was
// applied by moto although the client saw an error, and rate rules are reproducible.
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateVpcCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolverClient } from '../../aws/resolver-client.ts';
import type { Account } from '../harness/aws.ts';
import { motoEndpoint, newAccount } from '../harness/aws.ts';
import type { FaultProxy, FaultRule } from '../harness/fault-proxy.ts';
import { classify, isMutating, startFaultProxy } from '../harness/fault-proxy.ts';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy({ target: motoEndpoint() });
});
afterAll(async () => {
  await proxy.stop();
});

/** What the SDK's retry strategy was told of each failed attempt (its classification, the error's name). */
interface Seen {
  readonly errorType: string;
  readonly name: string;
}

/** Client config through the proxy, with a retry strategy that records how each error was classified. */
function through(acct: Account, seen: Seen[], maxAttempts = 3) {
  const inner = new StandardRetryStrategy(maxAttempts);
  return {
    endpoint: proxy.endpoint,
    region: acct.region,
    credentials: acct.credentials,
    maxAttempts,
    retryStrategy: {
      acquireInitialRetryToken: (scope: string) => inner.acquireInitialRetryToken(scope),
      refreshRetryTokenForRetry: (
        token: Parameters<typeof inner.refreshRetryTokenForRetry>[0],
        info: RetryErrorInfo,
      ) => {
        seen.push({ errorType: info.errorType, name: (info.error as Error | undefined)?.name ?? '?' });
        return inner.refreshRetryTokenForRetry(token, info);
      },
      recordSuccess: (token: Parameters<typeof inner.recordSuccess>[0]) => {
        inner.recordSuccess(token);
      },
    },
  };
}

/** Runs `call` with `rules` on the proxy for this account only; returns what the retry strategy saw. */
async function withRules(
  acct: Account,
  rules: readonly Omit<FaultRule, 'account'>[],
  call: (seen: Seen[]) => Promise<unknown>,
): Promise<Seen[]> {
  proxy.setRules(rules.map((rule) => ({ ...rule, account: acct.accountId })));
  const seen: Seen[] = [];
  try {
    await call(seen);
  } finally {
    proxy.setRules([]);
  }
  return seen;
}

const faultsOf = (acct: Account) => proxy.requests.filter((r) => r.account === acct.accountId && r.fault);

describe('classifying requests', () => {
  it('names mutating operations by their verb', () => {
    for (const name of [
      'CreateVpcEndpoint',
      'ModifyVpcEndpoint',
      'AuthorizeSecurityGroupIngress',
      'CreateTags',
      'SendCommand',
      'PutAttributes',
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'BatchWriteItem',
      'TransactWriteItems',
      'RunInstances',
      'RegisterContainerInstance',
      'ChangeResourceRecordSets',
      'TagResource',
      'UntagResource',
      'UpdateContainerAgent',
    ])
      expect([name, isMutating(name)]).toEqual([name, true]);
    for (const name of [
      'DescribeVpcEndpoints',
      'ListCommands',
      'ListCommandInvocations',
      'GetItem',
      'Query',
      'BatchGetItem',
      'TransactGetItems',
      'GetDocument',
      'ListHostedZonesByVPC',
      'ListTagsForResource',
      'Settings',
      'Runbook',
    ])
      expect([name, isMutating(name)]).toEqual([name, false]);
  });

  it('reads the service from the credential scope and the operation per protocol', () => {
    const auth = (service: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=123456789012/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
    });
    expect(
      classify(
        'POST',
        '/',
        { ...auth('ec2'), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        'Action=CreateVpcEndpoint&Version=2016-11-15',
      ),
    ).toMatchObject({ service: 'ec2', operation: 'CreateVpcEndpoint', protocol: 'ec2', mutating: true });
    expect(
      classify('POST', '/', { ...auth('dynamodb'), 'x-amz-target': 'DynamoDB_20120810.PutItem' }, '{}'),
    ).toMatchObject({ service: 'dynamodb', operation: 'PutItem', protocol: 'json', account: '123456789012' });
    expect(classify('GET', '/2013-04-01/hostedzonesbyvpc?vpcid=vpc-1', auth('route53'), '')).toMatchObject({
      service: 'route53',
      operation: 'ListHostedZonesByVPC',
      protocol: 'restXml',
      mutating: false,
    });
    expect(classify('POST', '/2013-04-01/hostedzone/Z1/rrset/', auth('route53'), '<x/>')).toMatchObject({
      operation: 'ChangeResourceRecordSets',
      mutating: true,
    });
  });
});

describe('throttling in each protocol is retried by the real SDK as throttling', () => {
  const throttleFirst = (service: string, operation: string, code?: string): FaultRule => ({
    service,
    operation,
    nth: 1,
    fault: { kind: 'throttle', ...(code === undefined ? {} : { code }) },
  });

  it('EC2 query: RequestLimitExceeded, 503', async () => {
    const acct = newAccount();
    const seen = await withRules(acct, [throttleFirst('ec2', 'DescribeVpcs')], (s) =>
      new EC2Client(through(acct, s)).send(new DescribeVpcsCommand({})),
    );
    expect(seen).toEqual([{ errorType: 'THROTTLING', name: 'RequestLimitExceeded' }]);
    expect(faultsOf(acct).map((r) => [r.operation, r.fault, r.answered])).toEqual([
      ['DescribeVpcs', 'throttle', 503],
    ]);
  });

  it('awsJson (ECS, SSM, SQS): ThrottlingException, 400', async () => {
    const acct = newAccount();
    const seen = await withRules(
      acct,
      [
        throttleFirst('ecs', 'ListClusters'),
        throttleFirst('ssm', 'ListCommands'),
        throttleFirst('sqs', 'ListQueues'),
      ],
      async (s) => {
        await new ECSClient(through(acct, s)).send(new ListClustersCommand({}));
        await new SSMClient(through(acct, s)).send(new ListCommandsCommand({}));
        await new SQSClient(through(acct, s)).send(new ListQueuesCommand({}));
      },
    );
    expect(seen).toEqual([
      { errorType: 'THROTTLING', name: 'ThrottlingException' },
      { errorType: 'THROTTLING', name: 'ThrottlingException' },
      { errorType: 'THROTTLING', name: 'ThrottlingException' },
    ]);
    expect(faultsOf(acct).map((r) => [r.service, r.answered])).toEqual([
      ['ecs', 400],
      ['ssm', 400],
      ['sqs', 400],
    ]);
  });

  it('DynamoDB: its namespaced ThrottlingException and ProvisionedThroughputExceededException', async () => {
    const acct = newAccount();
    const seen = await withRules(
      acct,
      [
        { service: 'dynamodb', operation: 'ListTables', nth: 1, fault: { kind: 'throttle' } },
        {
          service: 'dynamodb',
          operation: 'ListTables',
          // The first rule took request 1 (a request gets one fault): this rule counts from its retry.
          nth: 2,
          fault: { kind: 'throttle', code: 'ProvisionedThroughputExceededException' },
        },
      ],
      async (s) => {
        const dynamodb = new DynamoDBClient(through(acct, s));
        await dynamodb.send(new ListTablesCommand({}));
        await dynamodb.send(new ListTablesCommand({}));
      },
    );
    expect(seen).toEqual([
      { errorType: 'THROTTLING', name: 'ThrottlingException' },
      { errorType: 'THROTTLING', name: 'ProvisionedThroughputExceededException' },
    ]);
  });

  it('awsQuery (IAM) and REST-XML (Route 53): Throttling, 400', async () => {
    const acct = newAccount();
    const seen = await withRules(
      acct,
      [throttleFirst('iam', 'ListRoles'), throttleFirst('route53', 'ListHostedZones')],
      async (s) => {
        await new IAMClient(through(acct, s)).send(new ListRolesCommand({}));
        await new Route53Client(through(acct, s)).send(new ListHostedZonesCommand({}));
      },
    );
    expect(seen).toEqual([
      { errorType: 'THROTTLING', name: 'Throttling' },
      { errorType: 'THROTTLING', name: 'Throttling' },
    ]);
  });

  it("Route 53 Resolver (the remediator's own awsJson client): retried, then answered", async () => {
    const acct = newAccount();
    const attempts: string[] = [];
    await withRules(acct, [throttleFirst('route53resolver', 'ListResolverRules')], async () => {
      const resolver = createResolverClient({
        region: acct.region,
        credentials: acct.credentials,
        endpoint: proxy.endpoint,
        onRequest: (operation) => attempts.push(operation),
      });
      const out = await resolver.send<{ ResolverRules?: unknown[] }>('ListResolverRules', {});
      expect(out.ResolverRules).toBeDefined();
    });
    expect(attempts).toEqual(['ListResolverRules', 'ListResolverRules']);
    expect(faultsOf(acct).map((r) => [r.operation, r.fault, r.answered])).toEqual([
      ['ListResolverRules', 'throttle', 400],
    ]);
  });
});

describe('5xx, lost responses and latency', () => {
  it('5xx answers are not forwarded and are retried as transient', async () => {
    const acct = newAccount();
    const seen = await withRules(
      acct,
      [
        { service: 'ec2', operation: 'DescribeVpcs', nth: 1, fault: { kind: '5xx' } },
        { service: 'ecs', operation: 'ListClusters', nth: 1, fault: { kind: '5xx', status: 503 } },
      ],
      async (s) => {
        await new EC2Client(through(acct, s)).send(new DescribeVpcsCommand({}));
        await new ECSClient(through(acct, s)).send(new ListClustersCommand({}));
      },
    );
    expect(seen).toEqual([
      { errorType: 'TRANSIENT', name: 'InternalError' },
      { errorType: 'TRANSIENT', name: 'ServiceUnavailable' },
    ]);
    expect(faultsOf(acct).map((r) => r.upstreamStatus)).toEqual([undefined, undefined]);
  });

  it('a lost response was applied: one VPC without SDK retries, two with them (the hazard)', async () => {
    const acct = newAccount();
    const vpcs = async (cidr: string) =>
      (await acct.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: [cidr] }] }))).Vpcs
        ?.length ?? 0;
    const seen = await withRules(
      acct,
      [{ service: 'ec2', mutating: true, per: 'request', times: 1, fault: { kind: 'lost' } }],
      async (s) => {
        const once = new EC2Client(through(acct, s, 1));
        await expect(once.send(new CreateVpcCommand({ CidrBlock: '10.201.0.0/16' }))).rejects.toMatchObject({
          code: 'ECONNRESET',
        });
        // The SDK retries the same request: moto applies it a second time.
        await new EC2Client(through(acct, s, 3)).send(new CreateVpcCommand({ CidrBlock: '10.202.0.0/16' }));
      },
    );
    expect(await vpcs('10.201.0.0/16')).toBe(1);
    expect(await vpcs('10.202.0.0/16')).toBe(2);
    // The SDK's Node handler names a reset connection TimeoutError (code ECONNRESET): transient.
    expect(seen).toEqual([
      { errorType: 'TRANSIENT', name: 'TimeoutError' },
      { errorType: 'TRANSIENT', name: 'TimeoutError' },
    ]);
    expect(faultsOf(acct).map((r) => [r.operation, r.fault, r.upstreamStatus, r.answered])).toEqual([
      ['CreateVpc', 'lost', 200, 'reset'],
      ['CreateVpc', 'lost', 200, 'reset'],
    ]);
  });

  it('a lost response may also come back as a 504 (applied, retried as transient)', async () => {
    const acct = newAccount();
    const dynamodb = (s: Seen[]) => new DynamoDBClient(through(acct, s, 1));
    const seen = await withRules(
      acct,
      [{ service: 'dynamodb', operation: 'CreateTable', nth: 1, fault: { kind: 'lost', as: 504 } }],
      async (s) => {
        await expect(
          dynamodb(s).send(
            new CreateTableCommand({
              TableName: 'lost',
              KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
              AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          ),
        ).rejects.toMatchObject({ $metadata: { httpStatusCode: 504 } });
      },
    );
    expect(seen).toEqual([{ errorType: 'TRANSIENT', name: 'GatewayTimeout' }]);
    expect((await dynamodb([]).send(new ListTablesCommand({}))).TableNames).toEqual(['lost']);
  });

  it('latency delays a request and is recorded; other rules still apply to it', async () => {
    const acct = newAccount();
    const seen = await withRules(
      acct,
      [
        { service: 'ec2', fault: { kind: 'latency', ms: 20 } },
        { service: 'ec2', nth: 1, fault: { kind: 'throttle' } },
      ],
      (s) => new EC2Client(through(acct, s)).send(new DescribeVpcsCommand({})),
    );
    expect(seen.map((s) => s.errorType)).toEqual(['THROTTLING']);
    const mine = proxy.requests.filter((r) => r.account === acct.accountId);
    expect(mine.map((r) => [r.fault, r.delayMs])).toEqual([
      ['throttle', 20],
      [undefined, 20],
    ]);
  });

  it('rate rules are reproducible: the same seed, the same requests get faults', async () => {
    const acct = newAccount();
    const pattern = async (seed: number): Promise<string> => {
      proxy.setRules(
        [{ account: acct.accountId, service: 'ec2', rate: 0.3, fault: { kind: 'throttle' } }],
        seed,
      );
      const ec2 = new EC2Client({ ...through(acct, [], 1) });
      let out = '';
      for (let i = 0; i < 16; i += 1)
        out += await ec2.send(new DescribeVpcsCommand({})).then(
          () => '.',
          () => 'T',
        );
      proxy.setRules([]);
      return out;
    };
    const first = await pattern(7);
    expect(await pattern(7)).toBe(first);
    expect(first).toContain('T');
    expect(first).toContain('.');
    expect(await pattern(8)).not.toBe(first);
  });
});
