/**
 * `--regions all`: the Regions enabled for the account. EC2 DescribeRegions without `AllRegions` lists
 * only the Regions enabled for the account (those that need no opt-in, and opt-in Regions the account
 * opted in to), of the partition it is called in
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html). A disabled
 * Region is never swept: its endpoints refuse the account's credentials.
 */
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';

/** The opt-in statuses of a Region the account can use (`not-opted-in` is the disabled one). */
const ENABLED_STATUSES: ReadonlySet<string> = new Set(['opt-in-not-required', 'opted-in']);

/**
 * The names of the Regions enabled for the account `ec2` calls as, sorted. Also keeps out a Region
 * that says it is `not-opted-in` should it be listed anyway (a statusless entry counts as enabled:
 * DescribeRegions without AllRegions lists only enabled ones).
 */
export async function enabledRegions(ec2: EC2Client): Promise<string[]> {
  const out = await ec2.send(new DescribeRegionsCommand({ AllRegions: false }));
  return (out.Regions ?? [])
    .filter((region) => region.OptInStatus === undefined || ENABLED_STATUSES.has(region.OptInStatus))
    .flatMap((region) => (region.RegionName ? [region.RegionName] : []))
    .sort();
}
