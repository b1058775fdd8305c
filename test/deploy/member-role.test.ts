// docs/deploy.md's read-only role for member accounts (`plan --role-name`) against the code: every
// operation the plan path can send is allowed by the documented policy, and the policy grants nothing
// but List and Read actions. Evaluated offline with the IAM tests' evaluator (test/deploy/iam.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/moto.ts';
import type { NamedPolicy, PolicyDocument } from './iam.ts';
import {
  REGION,
  accessLevel,
  expandAction,
  iamActionOf,
  operationsOf,
  refusals,
  sampleAuthorizations,
} from './iam.ts';

/** The JSON blocks of docs/deploy.md's member-role section, in order: the permissions, then the trust. */
function documentedPolicies(): { permissions: PolicyDocument; trust: PolicyDocument } {
  const doc = readFileSync(path.join(repoRoot, 'docs/deploy.md'), 'utf8');
  const start = doc.indexOf('### A read-only role in each member account');
  expect(start).toBeGreaterThan(0);
  const section = doc.slice(start, doc.indexOf('\n## ', start));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map(
    (m) => JSON.parse(m[1] ?? '') as PolicyDocument,
  );
  const [permissions, trust] = blocks;
  if (!permissions || !trust)
    throw new Error('docs/deploy.md: the member-role section has no two JSON policies');
  return { permissions, trust };
}

/** The operations of `plan`: discovery, and DescribeRegions for --regions all. */
async function planOperations(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of ['aws/discover.ts', 'aws/regions.ts']) {
    const { operations, unknown } = await operationsOf(entry);
    expect(unknown).toEqual([]);
    found.push(...operations.keys());
  }
  return [...new Set(found)].sort();
}

describe("docs/deploy.md: the member accounts' read-only role", () => {
  it('allows every operation the plan path can send, each on every resource it touches', async () => {
    const { permissions } = documentedPolicies();
    const policies: NamedPolicy[] = [{ name: 'EcsEndpointReadOnly', policy: permissions }];
    const operations = await planOperations();
    expect(operations.length).toBeGreaterThan(20);
    expect(operations).toContain('ec2:DescribeVpcEndpoints');
    const refused: string[] = [];
    for (const operation of operations)
      refused.push(
        ...(await refusals(policies, await sampleAuthorizations(iamActionOf(operation), [REGION]))),
      );
    expect(refused).toEqual([]);
  });

  it('grants only List and Read actions, each one the plan path sends (least privilege), and no wildcard', async () => {
    const { permissions } = documentedPolicies();
    const operations = new Set((await planOperations()).map(iamActionOf));
    const actions: string[] = [];
    for (const statement of permissions.Statement) {
      expect(statement.Effect).toBe('Allow');
      const listed: string[] =
        typeof statement.Action === 'string' ? [statement.Action] : (statement.Action ?? []);
      for (const action of listed) {
        expect(action, 'no wildcard').not.toMatch(/[*?]/);
        actions.push(...(await expandAction(action)));
      }
    }
    for (const action of actions)
      expect([action, await accessLevel(action)]).toEqual([action, expect.stringMatching(/^(List|Read)$/)]);
    expect(actions.filter((action) => !operations.has(action))).toEqual([]);
  });

  it('is assumable by the one principal named in its trust policy, with sts:AssumeRole only', () => {
    const { trust } = documentedPolicies();
    expect(trust.Statement).toHaveLength(1);
    const [statement] = trust.Statement;
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRole' });
    const principal = (statement as unknown as { Principal: { AWS: string } }).Principal.AWS;
    expect(principal).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
  });
});
