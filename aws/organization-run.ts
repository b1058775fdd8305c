/**
 * A CLI run over several accounts (`--role-name` with `--accounts` or `--organization`): the accounts
 * are listed, each is entered by assuming the role (the caller's own account with the caller's
 * credentials), its Regions resolved (`--regions all`: its own enabled Regions), then each is
 * discovered, at most `parallel` accounts at a time. The snapshots of every account are planned
 * together (core/plan.ts), so one report covers every account and Region and a shared VPC's owner and
 * participants meet in one plan. An account that cannot be entered is in `failedAccounts`, a Region
 * that fails in `failedRegions` with its account; the others are planned as usual.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Config } from '../core/config.ts';
import type { FailedAccount, FailedRegion } from '../core/plan.ts';
import type { PrefixList, RegionSnapshot, SecurityGroup, Subnet, VpcEndpoint } from '../core/model.ts';
import type { ApiCallCounts } from '../core/report.ts';
import { sumApiCallCounts } from '../core/report.ts';
import type { ClientOptions } from './clients.ts';
import { countRequests, createApiCallCounter, requestHandlerOptions } from './clients.ts';
import { errorMessage } from './errors.ts';
import { assumeRole, organizationAccounts, partitionOf, roleArn } from './organization.ts';
import { mapConcurrent } from './pagination.ts';
import type { ClientPool } from './reconcile.ts';
import { createClientPool, discoverSnapshots } from './reconcile.ts';
import { enabledRegions } from './regions.ts';
import type { DiscoveryContext } from './discover/context.ts';
import { createContext, isDegradable } from './discover/context.ts';
import { describeEndpoints, describeGroups } from './discover/endpoints.ts';
import { describePrefixLists } from './discover/prefix-lists.ts';
import { describeSubnetsById } from './discover/vpcs.ts';
import type { OwnerEndpoints } from '../core/shared-vpcs.ts';

export interface OrganizationRunOptions {
  readonly roleName: string;
  /** `--accounts`: these; absent: the organization's ACTIVE accounts (`--organization`). */
  readonly accountIds?: readonly string[];
  /** The Regions to read in every account, or `all`: each account's enabled Regions. */
  readonly regions: readonly string[] | 'all';
  /** Where the caller's STS and Organizations calls go (and `--regions all` asks each account). */
  readonly homeRegion: string;
  /** `--profile`: the caller's credentials. */
  readonly profile?: string;
  readonly config: Config;
  readonly parallel: number;
  readonly onProgress?: (message: string) => void;
}

/** An account entered: its clients (the role's credentials) and its Regions. */
export interface EnteredAccount {
  readonly accountId: string;
  readonly pool: ClientPool;
  readonly regions: readonly string[];
}

export interface OrganizationRun {
  /** Every account of the run, entered or not, sorted. */
  readonly accounts: readonly string[];
  readonly entered: readonly EnteredAccount[];
  readonly failedAccounts: readonly FailedAccount[];
  /** Every API call of the run so far: the caller's (STS, Organizations) and each account's. */
  readonly apiCalls: () => ApiCallCounts;
}

/**
 * Lists the run's accounts and enters each (see the module comment). Throws only when the accounts
 * cannot be listed (aws/organization.ts OrganizationAccessError) or the caller has no identity.
 */
export async function enterAccounts(options: OrganizationRunOptions): Promise<OrganizationRun> {
  const { config, homeRegion } = options;
  const callerCalls = createApiCallCounter();
  const caller = {
    region: homeRegion,
    requestHandler: requestHandlerOptions(config.timeouts),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  const sts = new STSClient(caller);
  countRequests(sts.middlewareStack, 'sts', callerCalls);
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  const callerAccount = identity.Account;
  let accounts: string[];
  if (options.accountIds === undefined) {
    const organizations = new OrganizationsClient(caller);
    countRequests(organizations.middlewareStack, 'organizations', callerCalls);
    accounts = await organizationAccounts(organizations);
    options.onProgress?.(`organizations: ${accounts.length} ACTIVE account(s)`);
  } else accounts = [...options.accountIds];
  accounts = [...new Set(accounts)].sort();

  const poolOptions: ClientOptions = { timeouts: config.timeouts, rateLimits: config.rateLimits };
  const partition = partitionOf(homeRegion);
  const pools: ClientPool[] = [];
  const entered: EnteredAccount[] = [];
  const failedAccounts: FailedAccount[] = [];
  await mapConcurrent(accounts, options.parallel, async (accountId) => {
    let pool: ClientPool;
    const arn = roleArn(partition, accountId, options.roleName);
    try {
      // The caller's own account is read with the caller's credentials: the role need not exist there
      // (StackSets, for one, do not deploy to the management account).
      pool =
        accountId === callerAccount
          ? createClientPool({
              ...poolOptions,
              ...(options.profile === undefined ? {} : { profile: options.profile }),
            })
          : createClientPool({ ...poolOptions, credentials: await assumeRole(sts, arn) });
    } catch (error) {
      failedAccounts.push({ accountId, error: `sts:AssumeRole ${arn} failed: ${errorMessage(error)}` });
      options.onProgress?.(`[${accountId}] cannot be entered: ${errorMessage(error)}`);
      return;
    }
    pools.push(pool);
    let regions: readonly string[];
    if (options.regions === 'all') {
      try {
        regions = await enabledRegions(pool.clientsFor(homeRegion).ec2);
      } catch (error) {
        failedAccounts.push({
          accountId,
          error: `ec2:DescribeRegions in ${homeRegion} failed (--regions all): ${errorMessage(error)}`,
        });
        return;
      }
    } else regions = options.regions;
    entered.push({ accountId, pool, regions });
  });
  return {
    accounts,
    entered: entered.sort((a, b) => a.accountId.localeCompare(b.accountId)),
    failedAccounts: failedAccounts.sort((a, b) => a.accountId.localeCompare(b.accountId)),
    apiCalls: () => sumApiCallCounts([callerCalls.snapshot(), ...pools.map((pool) => pool.apiCalls())]),
  };
}

/** Discovers every entered account's Regions, at most `parallel` accounts at a time. */
export async function discoverAccounts(
  run: OrganizationRun,
  config: Config,
  parallel: number,
  onProgress?: (message: string) => void,
): Promise<{ snapshots: RegionSnapshot[]; failedRegions: FailedRegion[] }> {
  const discovered = await mapConcurrent(run.entered, parallel, (account) =>
    discoverSnapshots({
      accountId: account.accountId,
      regions: account.regions,
      config,
      pool: account.pool,
      ...(onProgress ? { onProgress } : {}),
    }),
  );
  return {
    snapshots: discovered.flatMap((d) => d.snapshots),
    failedRegions: discovered.flatMap((d) => d.failedRegions),
  };
}

/**
 * The owners' endpoints of the VPCs shared with other accounts of the run: for each participant's VPC
 * owned by an entered account, that owner's DescribeVpcEndpoints of it (a participant cannot see them:
 * docs/architecture.md, Shared VPCs), with their subnets, security groups and prefix lists. An
 * endpoint read that fails leaves that VPC's needs unverifiable, as without the owner, and is reported
 * through `onProgress`; a refused read of the others makes what it decides `unknown`.
 */
export async function readOwnerEndpoints(
  run: OrganizationRun,
  snapshots: readonly RegionSnapshot[],
  parallel: number,
  onProgress?: (message: string) => void,
): Promise<OwnerEndpoints[]> {
  const owners = new Map(run.entered.map((account) => [account.accountId, account]));
  const wanted = new Map<string, { ownerId: string; region: string; vpcIds: Set<string> }>();
  for (const snapshot of snapshots)
    for (const vpc of snapshot.vpcs) {
      const ownerId = vpc.ownerId;
      if (ownerId === undefined || ownerId === snapshot.accountId || !owners.has(ownerId)) continue;
      const key = `${ownerId}/${snapshot.region}`;
      const entry = wanted.get(key) ?? { ownerId, region: snapshot.region, vpcIds: new Set<string>() };
      entry.vpcIds.add(vpc.vpcId);
      wanted.set(key, entry);
    }
  const read = await mapConcurrent([...wanted.values()], parallel, async ({ ownerId, region, vpcIds }) => {
    const owner = owners.get(ownerId);
    if (!owner) return [];
    const ctx = createContext(owner.pool.clientsFor(region), region, (message) =>
      onProgress?.(`[${ownerId} ${region}] shared VPCs: ${message}`),
    );
    try {
      const endpoints = await describeEndpoints(ctx, 'vpc-id', [...vpcIds]);
      const { subnets, securityGroups, prefixLists } = await readEndpointSurroundings(ctx, endpoints);
      return [...vpcIds].map((vpcId): OwnerEndpoints => ({
        ownerId,
        region,
        vpcId,
        endpoints: endpoints.filter((endpoint) => endpoint.vpcId === vpcId),
        subnets: subnets.filter((subnet) => subnet.vpcId === vpcId),
        securityGroups: securityGroups.filter((group) => group.vpcId === vpcId),
        prefixLists,
        ...(ctx.skipped.length > 0 ? { skippedReads: [...ctx.skipped] } : {}),
      }));
    } catch (error) {
      onProgress?.(
        `[${ownerId} ${region}] the endpoints of shared VPCs could not be read: ${errorMessage(error)}`,
      );
      return [];
    }
  });
  return read.flat();
}

/**
 * What judging the owner's endpoints for a participant's work needs besides them, read with the
 * owner's role: their subnets (AZ IDs), their security groups, and the customer-managed prefix lists
 * those groups' rules name. A read refused (AccessDenied, …) is recorded as skipped, and the join says
 * `unknown` where it mattered, rather than failing the owner's endpoints altogether.
 */
async function readEndpointSurroundings(
  ctx: DiscoveryContext,
  endpoints: readonly VpcEndpoint[],
): Promise<{ subnets: Subnet[]; securityGroups: SecurityGroup[]; prefixLists: PrefixList[] }> {
  const subnetIds = [...new Set(endpoints.flatMap((endpoint) => endpoint.subnetIds))].sort();
  const groupIds = [...new Set(endpoints.flatMap((endpoint) => endpoint.securityGroupIds))].sort();
  const [subnets, securityGroups] = await Promise.all([
    degradable(ctx, 'ec2:DescribeSubnets', () => describeSubnetsById(ctx, subnetIds)),
    degradable(ctx, 'ec2:DescribeSecurityGroups', () => describeGroups(ctx, 'group-id', groupIds)),
  ]);
  const listIds = [
    ...new Set(securityGroups.flatMap((group) => group.ingress.flatMap((rule) => rule.prefixListIds ?? []))),
  ].sort();
  return { subnets, securityGroups, prefixLists: await describePrefixLists(ctx, listIds) };
}

/** The read's result, or none when it is refused in a way that leaves the rest meaningful. */
async function degradable<T>(
  ctx: DiscoveryContext,
  operation: string,
  read: () => Promise<T[]>,
): Promise<T[]> {
  try {
    return await read();
  } catch (error) {
    if (!isDegradable(error)) throw error;
    ctx.skip(operation, error);
    return [];
  }
}
