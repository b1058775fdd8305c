/**
 * The VPC → ECS clusters index (pure: no I/O). Nothing in ECS answers "which clusters have work in this
 * VPC": a service's subnets are visible only by describing it in its cluster. A whole-Region discovery
 * reads every cluster anyway, so it records the answer; an event-scoped discovery of a few VPCs then
 * reads only their clusters (docs/architecture.md, "Event-scoped discovery").
 *
 * A cluster has work in a VPC when one of its container instances runs on an EC2 instance there (in any
 * state: a stopped host that starts again needs no new index entry), or one of its services or
 * standalone tasks has an awsvpc subnet there.
 */
import type { RegionSnapshot } from '../../core/model.ts';

/** VPC id → the cluster ARNs with work there (sorted, no duplicates); VPCs without work are absent. */
export type ClusterIndexEntries = Readonly<Record<string, readonly string[]>>;

/**
 * The clusters with work in each VPC of `snapshot`, as far as the snapshot shows them: every VPC for a
 * whole-Region snapshot; for an event-scoped one, the selected VPCs and the clusters it read.
 */
export function clustersByVpc(
  snapshot: Pick<RegionSnapshot, 'ec2Instances' | 'subnets' | 'containerInstances' | 'services' | 'tasks'>,
): ClusterIndexEntries {
  const byVpc = new Map<string, Set<string>>();
  const add = (vpcId: string | undefined, clusterArn: string): void => {
    if (vpcId === undefined) return;
    let clusters = byVpc.get(vpcId);
    if (!clusters) {
      clusters = new Set();
      byVpc.set(vpcId, clusters);
    }
    clusters.add(clusterArn);
  };
  const vpcOfInstance = new Map(snapshot.ec2Instances.map((i) => [i.instanceId, i.vpcId]));
  const vpcOfSubnet = new Map(snapshot.subnets.map((s) => [s.subnetId, s.vpcId]));
  for (const ci of snapshot.containerInstances) add(vpcOfInstance.get(ci.ec2InstanceId), ci.clusterArn);
  for (const item of [...snapshot.services, ...snapshot.tasks]) {
    for (const subnetId of item.subnetIds) add(vpcOfSubnet.get(subnetId), item.clusterArn);
  }
  return normalise(Object.fromEntries([...byVpc].map(([vpcId, clusters]) => [vpcId, [...clusters]])));
}

/**
 * The index after an event-scoped discovery of `vpcIds` that read `readClusters`: for those VPCs the
 * clusters found with work there replace the old entry (exact, because the clusters read include every
 * cluster the old entry named), so a cluster an event named joins the index before the next sweep;
 * other VPCs keep theirs.
 */
export function mergeScoped(
  previous: ClusterIndexEntries,
  vpcIds: readonly string[],
  readClusters: readonly string[],
  found: ClusterIndexEntries,
): ClusterIndexEntries {
  const read = new Set(readClusters);
  const next: Record<string, readonly string[]> = { ...previous };
  for (const vpcId of vpcIds) {
    const kept = (previous[vpcId] ?? []).filter((arn) => !read.has(arn));
    next[vpcId] = [...kept, ...(found[vpcId] ?? []).filter((arn) => read.has(arn))];
  }
  return normalise(next);
}

/** The clusters to read for `vpcIds`: the index's, plus the clusters the events named. */
export function hintedClusters(
  index: ClusterIndexEntries,
  vpcIds: readonly string[],
  named: readonly string[] = [],
): string[] {
  return [...new Set([...vpcIds.flatMap((vpcId) => index[vpcId] ?? []), ...named])].sort();
}

/** The union of several indexes' entries (a split sweep's shards: a VPC several shards' clusters work in has all of them). */
export function mergeEntries(parts: readonly ClusterIndexEntries[]): ClusterIndexEntries {
  const merged: Record<string, string[]> = {};
  for (const entries of parts)
    for (const [vpcId, clusters] of Object.entries(entries)) (merged[vpcId] ??= []).push(...clusters);
  return normalise(merged);
}

/** Sorted keys and values, no empty entries: two equal indexes serialise identically. */
export function normalise(entries: ClusterIndexEntries): ClusterIndexEntries {
  return Object.fromEntries(
    Object.keys(entries)
      .sort()
      .map((vpcId): [string, string[]] => [vpcId, [...new Set(entries[vpcId] ?? [])].sort()])
      .filter(([, clusters]) => clusters.length > 0),
  );
}

export function sameEntries(a: ClusterIndexEntries, b: ClusterIndexEntries): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}
