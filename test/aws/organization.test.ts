// The way into several accounts: the emulator's STS and Organizations as the remediator uses them.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CloseAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import {
  AccountListError,
  OrganizationAccessError,
  assumeRole,
  organizationAccounts,
  readAccountIds,
  roleArn,
} from '../../aws/organization.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { createNetwork } from '../harness/seed.ts';
import { createOrganization } from '../harness/organization.ts';

const config = (acct: Account, endpoint = acct.endpoint) => ({
  endpoint,
  region: acct.region,
  credentials: acct.credentials,
  maxAttempts: 1,
});

describe('the harness: STS AssumeRole into another account', () => {
  it("acts in the role's account, as AWS's credentials do (moto keys them to the account in the role ARN)", async () => {
    const caller = newAccount();
    const target = newAccount();
    const { vpcId } = await createNetwork(target, { cidr: '10.40.0.0/16', azs: ['a'] });
    const sts = new STSClient(config(caller));
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn('aws', target.accountId, 'ReadOnly'), RoleSessionName: 's' }),
    );
    const credentials = {
      accessKeyId: out.Credentials?.AccessKeyId ?? '',
      secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
      sessionToken: out.Credentials?.SessionToken ?? '',
    };
    // Not the 12-digit key of the harness's accounts (patch P0): moto's own assumed-role key.
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    const asTarget = { ...config(target), credentials };
    expect((await new STSClient(asTarget).send(new GetCallerIdentityCommand({}))).Account).toBe(
      target.accountId,
    );
    const vpcs = await new EC2Client(asTarget).send(new DescribeVpcsCommand({}));
    expect(vpcs.Vpcs?.map((vpc) => vpc.VpcId)).toContain(vpcId);
    // The caller's own state is not what the role sees.
    const own = await new EC2Client(config(caller)).send(new DescribeVpcsCommand({}));
    expect(own.Vpcs?.map((vpc) => vpc.VpcId)).not.toContain(vpcId);
  });

  it('assumeRole returns a provider of the role’s credentials; a refused AssumeRole throws before anything is read', async () => {
    const caller = newAccount();
    const target = newAccount();
    const provider = await assumeRole(
      new STSClient(config(caller)),
      roleArn('aws', target.accountId, 'ReadOnly'),
    );
    const identity = await new STSClient({ ...config(target), credentials: provider }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(identity.Account).toBe(target.accountId);

    // moto assumes any role; the proxy refuses it as a trust policy that does not name the caller does.
    const proxy = await startFaultProxy({
      target: caller.endpoint,
      rules: [
        {
          service: 'sts',
          operation: 'AssumeRole',
          fault: { kind: 'denied', message: 'not authorized to perform: sts:AssumeRole' },
        },
      ],
    });
    try {
      await expect(
        assumeRole(
          new STSClient(config(caller, proxy.endpoint)),
          roleArn('aws', target.accountId, 'ReadOnly'),
        ),
      ).rejects.toThrow(/sts:AssumeRole/);
    } finally {
      await proxy.stop();
    }
  });
});

describe('organizationAccounts', () => {
  it('lists every ACTIVE account of the organization, page after page; a closed one is left out', async () => {
    const management = newAccount();
    const { organizations, memberIds } = await createOrganization(management, 4);
    const closed = memberIds[3] ?? '';
    await organizations.send(new CloseAccountCommand({ AccountId: closed }));
    const listed = await organizationAccounts(organizations, { pageSize: 2 });
    expect(listed).toEqual([management.accountId, ...memberIds.slice(0, 3)].sort());
    expect(listed).not.toContain(closed);
  });

  it('an account in no organization, or one refused, is told that it takes the management account or a delegated administrator', async () => {
    const outsider = newAccount();
    const error = await organizationAccounts(new OrganizationsClient(config(outsider))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OrganizationAccessError);
    expect(String(error)).toMatch(/AWSOrganizationsNotInUseException/);
    expect(String(error)).toMatch(
      /management account or from a member account that is a delegated administrator/,
    );

    // moto lets a member list its organization; AWS refuses a member that is not a delegated
    // administrator with AccessDeniedException, which the proxy answers in its place.
    const proxy = await startFaultProxy({
      target: outsider.endpoint,
      rules: [
        {
          service: 'organizations',
          operation: 'ListAccounts',
          fault: {
            kind: 'denied',
            code: 'AccessDeniedException',
            message: 'You don’t have permissions to access this resource.',
          },
        },
      ],
    });
    try {
      const refused = await organizationAccounts(
        new OrganizationsClient(config(outsider, proxy.endpoint)),
      ).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OrganizationAccessError);
      expect(String(refused)).toMatch(/AccessDeniedException.*delegated administrator/s);
    } finally {
      await proxy.stop();
    }
  });
});

describe('readAccountIds (--accounts)', () => {
  it('takes ids, comma-separated lists and files of ids (comments allowed); anything else is refused, naming it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'eer-accounts-'));
    const file = path.join(dir, 'accounts.txt');
    await writeFile(file, '# prod\n111111111111 222222222222\n333333333333, 111111111111 # again\n');
    expect(await readAccountIds(['444444444444,555555555555', file, '444444444444'])).toEqual([
      '444444444444',
      '555555555555',
      '111111111111',
      '222222222222',
      '333333333333',
    ]);
    const bad = path.join(dir, 'bad.txt');
    await writeFile(bad, '111111111111\n12345\nprod-account\n');
    const error = await readAccountIds(['1234567890123', bad, path.join(dir, 'missing.txt')]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AccountListError);
    expect(String(error)).toContain('"1234567890123" is not a 12-digit account id');
    expect(String(error)).toContain(`${bad}: "12345" is not a 12-digit account id`);
    expect(String(error)).toContain(`${bad}: "prod-account" is not a 12-digit account id`);
    expect(String(error)).toMatch(/missing\.txt" is neither account ids nor a readable file/);
    const empty = path.join(dir, 'empty.txt');
    await writeFile(empty, '# nobody\n');
    await expect(readAccountIds([empty])).rejects.toThrow(/lists no account id/);
  });
});
