/**
 * The accounts of a run over several accounts (`--role-name` with `--accounts` or `--organization`),
 * and the way into each: a role assumed with the caller's credentials.
 *
 * - `--accounts`: 12-digit ids, given as they are or in files (one or more a line; `#` comments).
 * - `--organization`: Organizations ListAccounts, every page, `ACTIVE` accounts only (a suspended or
 *   closing account has nothing to fix and refuses the role). AWS allows the call only from the
 *   organization's management account or a member account that is a delegated administrator
 *   (https://docs.aws.amazon.com/organizations/latest/APIReference/action-reference.html); a refusal
 *   ({@link OrganizationAccessError}) says so.
 * - Each account is entered with STS AssumeRole on `arn:<partition>:iam::<account>:role/<name>`
 *   (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html): the credentials are
 *   the role's, in its account. They are refreshed by assuming again before they expire (one hour by
 *   default), so a long run keeps its way in.
 */
import { readFile } from 'node:fs/promises';
import { ListAccountsCommand } from '@aws-sdk/client-organizations';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { errorMessage, errorName } from './errors.ts';

/** An AWS account id: 12 digits. */
export const ACCOUNT_ID = /^\d{12}$/;

/** An IAM role name, with an optional path (`team/ReadOnly`): IAM's characters, 1-64 for the name. */
export const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** Bad `--accounts` input: each problem named; nothing is read. */
export class AccountListError extends Error {
  constructor(problems: readonly string[]) {
    super(`--accounts: ${problems.join('; ')}`);
    this.name = 'AccountListError';
  }
}

/** ListAccounts refused: the caller is not the management account or a delegated administrator. */
export class OrganizationAccessError extends Error {
  constructor(code: string, detail: string, options?: ErrorOptions) {
    super(
      `--organization: organizations:ListAccounts refused (${code}: ${detail}). Listing an organization's ` +
        'accounts is allowed only from its management account or from a member account that is a delegated ' +
        'administrator (and needs organizations:ListAccounts): run with those credentials, or name the ' +
        'accounts with --accounts',
      options,
    );
    this.name = 'OrganizationAccessError';
  }
}

/**
 * The account ids of `--accounts` values: each an id, a comma-separated list of ids, or a file of ids
 * (whitespace- or comma-separated, `#` to the end of a line is a comment). Duplicates are dropped,
 * the order kept. Throws {@link AccountListError} naming every bad entry.
 */
export async function readAccountIds(
  values: readonly string[],
  read: (file: string) => Promise<string> = (file) => readFile(file, 'utf8'),
): Promise<string[]> {
  const ids: string[] = [];
  const problems: string[] = [];
  const take = (token: string, from: string) => {
    if (ACCOUNT_ID.test(token)) ids.push(token);
    else problems.push(`${from}"${token}" is not a 12-digit account id`);
  };
  for (const value of values) {
    const tokens = value.split(',').map((token) => token.trim());
    if (tokens.every((token) => /^\d+$/.test(token))) {
      for (const token of tokens) take(token, '');
      continue;
    }
    let text: string;
    try {
      text = await read(value);
    } catch (error) {
      problems.push(`"${value}" is neither account ids nor a readable file (${errorMessage(error)})`);
      continue;
    }
    const inFile = text
      .split('\n')
      .map((line) => line.replace(/#.*/, ''))
      .flatMap((line) => line.split(/[\s,]+/))
      .filter((token) => token !== '');
    if (inFile.length === 0) problems.push(`${value} lists no account id`);
    for (const token of inFile) take(token, `${value}: `);
  }
  if (problems.length > 0) throw new AccountListError(problems);
  if (ids.length === 0) throw new AccountListError(['no account id given']);
  return [...new Set(ids)];
}

/** The error codes of a ListAccounts refused for who calls it. */
const NOT_ALLOWED: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'AWSOrganizationsNotInUseException',
]);

/**
 * The organization's ACTIVE accounts (every page of ListAccounts), sorted. `pageSize` sets MaxResults
 * (AWS's default when absent). Throws {@link OrganizationAccessError} when the caller may not list them.
 */
export async function organizationAccounts(
  client: OrganizationsClient,
  options: { readonly pageSize?: number } = {},
): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    let out;
    try {
      out = await client.send(
        new ListAccountsCommand({
          ...(token === undefined ? {} : { NextToken: token }),
          ...(options.pageSize === undefined ? {} : { MaxResults: options.pageSize }),
        }),
      );
    } catch (error) {
      const code = errorName(error);
      if (NOT_ALLOWED.has(code))
        throw new OrganizationAccessError(code, errorMessage(error), { cause: error });
      throw error;
    }
    for (const account of out.Accounts ?? []) {
      // `State` replaces `Status` (retired in 2026); either says ACTIVE for an account in use.
      const state = account.State ?? account.Status;
      if (account.Id !== undefined && state === 'ACTIVE') ids.push(account.Id);
    }
    token = out.NextToken ?? undefined;
  } while (token !== undefined);
  return [...new Set(ids)].sort();
}

/** The ARN of role `roleName` (a name, or path/name) in `accountId`. */
export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** The partition of a Region (`aws`, `aws-cn`, `aws-us-gov`): role ARNs name it. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The session name the remediator's assumed roles carry (CloudTrail shows it). */
export const ROLE_SESSION_NAME = 'ecs-endpoint-remediator';

/**
 * Assumes `arn` once (so that a refusal is known before anything is read) and returns a credential
 * provider that starts with those credentials and assumes the role again when they near their end
 * (the SDK asks again within five minutes of `expiration`).
 */
export async function assumeRole(sts: STSClient, arn: string): Promise<AwsCredentialIdentityProvider> {
  const assume = async (): Promise<AwsCredentialIdentity> => {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: ROLE_SESSION_NAME }));
    const credentials = out.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey)
      throw new Error(`sts:AssumeRole ${arn} returned no credentials`);
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
      ...(credentials.Expiration ? { expiration: credentials.Expiration } : {}),
    };
  };
  let current = await assume();
  return async () => {
    const expires = current.expiration?.getTime();
    if (expires !== undefined && expires - Date.now() < 5 * 60_000) current = await assume();
    return current;
  };
}
