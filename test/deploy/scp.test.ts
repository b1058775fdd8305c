// The SCP of docs/deploy.md (Ownership, "Making the tag hold"), as written there: parsed from the
// document and evaluated with the IAM evaluator of the IAM tests (@cloud-copilot/iam-simulate), below
// an allow-all SCP and an identity policy that allows everything, as AWS evaluates a request in a
// member account. Another principal may neither write the remediator's tag keys (on a resource, or
// at create) nor create a tagged endpoint or group nor write its table; the reconciler's role may.
import { readFileSync } from 'node:fs';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { EvaluationResult } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { CREATION_TAG } from '../../aws/ownership.ts';
import { MANAGED_TAG } from '../../core/actions.ts';
import { RESTART_CUTOFF_TAG } from '../../core/restarts.ts';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const RECONCILER = `arn:aws:iam::${ACCOUNT}:role/ecs-endpoint-remediator-prod-ReconcilerRole-AbC123dEf456`;
const DEVELOPER = `arn:aws:iam::${ACCOUNT}:role/Developer`;
/** Another stage's reconciler: the pattern lets every stage's pass. */
const OTHER_RECONCILER = `arn:aws:iam::${ACCOUNT}:role/ecs-endpoint-remediator-dev-ReconcilerRole-Q1w2E3r4T5y6`;

/** The first ```json block after the `<!-- scp:` marker of docs/deploy.md. */
function documentedScp(): unknown {
  const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
  const marker = doc.indexOf('<!-- scp:');
  expect(marker).toBeGreaterThan(0);
  const block = /```json\n([\s\S]*?)\n```/.exec(doc.slice(marker));
  if (!block?.[1]) throw new Error('no ```json block after the scp marker in docs/deploy.md');
  return JSON.parse(block[1]);
}

const SCP = documentedScp();
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const ec2 = (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`;
const table = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;

/** Request tags and keys as AWS gives them for `tags`. */
function tagging(tags: Record<string, string>): Record<string, string | string[]> {
  return {
    ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    'aws:TagKeys': Object.keys(tags),
  };
}

async function decide(
  principal: string,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<EvaluationResult> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': principal, 'aws:PrincipalAccount': ACCOUNT, ...context },
      },
      identityPolicies: [{ name: 'everything', policy: ALLOW_ALL }],
      serviceControlPolicies: [
        {
          orgIdentifier: 'r-root',
          policies: [
            { name: 'FullAWSAccess', policy: ALLOW_ALL },
            { name: 'remediator-ownership', policy: SCP },
          ],
        },
      ],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error')
    throw new Error(`the evaluator refused ${action} on ${resource}: ${JSON.stringify(result.errors)}`);
  const ignored =
    result.resultType === 'single'
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  // Keys the evaluator would drop would make a Deny that never matches look like a proof.
  expect(
    ignored.filter((key) => !key.startsWith('aws:Principal')),
    `${action} on ${resource}`,
  ).toEqual([]);
  return result.overallResult;
}

describe('the SCP of docs/deploy.md', () => {
  it('is valid policy JSON with the statements the document describes', () => {
    expect(SCP).toMatchObject({ Version: '2012-10-17' });
    const statements = (SCP as { Statement: Array<{ Sid: string; Effect: string }> }).Statement;
    expect(statements.map((s) => [s.Sid, s.Effect])).toEqual([
      ['OnlyTheRemediatorWritesItsTags', 'Deny'],
      ['OnlyTheRemediatorCreatesManagedResources', 'Deny'],
      ['OnlyTheRemediatorWritesItsState', 'Deny'],
    ]);
    // Every tag key the remediator writes is protected; the operators' ignore tag is not.
    const keys = JSON.stringify(statements[0]);
    for (const key of [MANAGED_TAG.key, CREATION_TAG, RESTART_CUTOFF_TAG]) expect(keys).toContain(`"${key}"`);
    expect(keys).not.toContain('ecs-endpoint-remediator/ignore');
  });

  const endpoint = ec2('vpc-endpoint/vpce-0123456789abcdef0');
  const group = ec2('security-group/sg-0123456789abcdef0');
  const managed = tagging({ [MANAGED_TAG.key]: MANAGED_TAG.value });

  it('denies another principal tagging an endpoint or group as managed, retagging, or untagging', async () => {
    expect(await decide(DEVELOPER, 'ec2:CreateTags', endpoint, managed)).toBe('ExplicitlyDenied');
    expect(await decide(DEVELOPER, 'ec2:CreateTags', group, managed)).toBe('ExplicitlyDenied');
    // Hiding the key among others does not help.
    expect(
      await decide(DEVELOPER, 'ec2:CreateTags', endpoint, tagging({ Name: 'x', [MANAGED_TAG.key]: 'true' })),
    ).toBe('ExplicitlyDenied');
    expect(await decide(DEVELOPER, 'ec2:DeleteTags', endpoint, { 'aws:TagKeys': [MANAGED_TAG.key] })).toBe(
      'ExplicitlyDenied',
    );
    for (const key of [CREATION_TAG, RESTART_CUTOFF_TAG]) {
      expect(await decide(DEVELOPER, 'ec2:CreateTags', endpoint, tagging({ [key]: 'x' })), key).toBe(
        'ExplicitlyDenied',
      );
    }
  });

  it('denies another principal creating a tagged endpoint or group (the tags of a create, too)', async () => {
    expect(
      await decide(DEVELOPER, 'ec2:CreateTags', endpoint, {
        ...managed,
        'ec2:CreateAction': 'CreateVpcEndpoint',
      }),
    ).toBe('ExplicitlyDenied');
    expect(await decide(DEVELOPER, 'ec2:CreateVpcEndpoint', ec2('vpc-endpoint/*'), managed)).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide(DEVELOPER, 'ec2:CreateSecurityGroup', ec2('security-group/*'), managed)).toBe(
      'ExplicitlyDenied',
    );
  });

  it('denies another principal writing the state table', async () => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect(await decide(DEVELOPER, action, table('ecs-endpoint-remediator-prod-state')), action).toBe(
        'ExplicitlyDenied',
      );
    }
  });

  it('allows the reconciler’s role all of it', async () => {
    for (const principal of [RECONCILER, OTHER_RECONCILER]) {
      expect(await decide(principal, 'ec2:CreateTags', endpoint, managed)).toBe('Allowed');
      expect(
        await decide(
          principal,
          'ec2:CreateTags',
          endpoint,
          tagging({ [RESTART_CUTOFF_TAG]: '2026-01-01T00:00:00Z' }),
        ),
      ).toBe('Allowed');
      expect(
        await decide(principal, 'ec2:CreateTags', group, {
          ...tagging({ [MANAGED_TAG.key]: 'true', [CREATION_TAG]: 'marker' }),
          'ec2:CreateAction': 'CreateSecurityGroup',
        }),
      ).toBe('Allowed');
      expect(await decide(principal, 'ec2:CreateVpcEndpoint', ec2('vpc-endpoint/*'), managed)).toBe(
        'Allowed',
      );
      expect(await decide(principal, 'ec2:CreateSecurityGroup', ec2('security-group/*'), managed)).toBe(
        'Allowed',
      );
      expect(await decide(principal, 'dynamodb:PutItem', table('ecs-endpoint-remediator-prod-state'))).toBe(
        'Allowed',
      );
    }
  });

  it('leaves everything else to everyone: other tags, the ignore tag, untagged creates, other tables', async () => {
    expect(await decide(DEVELOPER, 'ec2:CreateTags', endpoint, tagging({ Name: 'mine' }))).toBe('Allowed');
    expect(
      await decide(
        DEVELOPER,
        'ec2:CreateTags',
        ec2('vpc/vpc-0123456789abcdef0'),
        tagging({ 'ecs-endpoint-remediator/ignore': 'true' }),
      ),
    ).toBe('Allowed');
    expect(await decide(DEVELOPER, 'ec2:DeleteTags', endpoint, { 'aws:TagKeys': ['Name'] })).toBe('Allowed');
    expect(
      await decide(DEVELOPER, 'ec2:CreateVpcEndpoint', ec2('vpc-endpoint/*'), tagging({ Name: 'x' })),
    ).toBe('Allowed');
    expect(await decide(DEVELOPER, 'ec2:CreateVpcEndpoint', ec2('vpc-endpoint/*'))).toBe('Allowed');
    expect(await decide(DEVELOPER, 'dynamodb:PutItem', table('orders'))).toBe('Allowed');
    expect(await decide(DEVELOPER, 'dynamodb:GetItem', table('ecs-endpoint-remediator-prod-state'))).toBe(
      'Allowed',
    );
  });
});
