// An AWS Organization in the emulator, made through the API as AWS makes one: the caller becomes its
// management account, and CreateAccount adds member accounts (moto gives each a random 12-digit id).
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Account } from './seed.ts';

/** An organization whose management account is `management`, with `members` new accounts in it. */
export async function createOrganization(
  management: Account,
  members: number,
): Promise<{ organizations: OrganizationsClient; memberIds: string[] }> {
  const organizations = new OrganizationsClient({
    endpoint: management.endpoint,
    region: management.region,
    credentials: management.credentials,
    maxAttempts: 1,
  });
  await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const memberIds: string[] = [];
  for (let n = 0; n < members; n += 1) {
    const out = await organizations.send(
      new CreateAccountCommand({
        AccountName: `member-${n}`,
        Email: `member-${n}-${management.accountId}@example.com`,
      }),
    );
    memberIds.push(out.CreateAccountStatus?.AccountId ?? '');
  }
  return { organizations, memberIds };
}
