/**
 * Agent restarts after ECS endpoint changes: who owes one, how to do it on each platform, in which
 * waves. Level-triggered: the obligation is read from AWS each run, not remembered by a process.
 *
 * - Every ECS endpoint (ecs-agent, ecs-telemetry, ecs) the remediator creates carries the tag
 *   {@link RESTART_CUTOFF_TAG}: the time it became available (the apply refreshes it once it sees it).
 * - A container instance registered before the cutoff keeps its agent's old connections until the
 *   agent restarts; after a restart the remediator sets the ECS attribute
 *   {@link RESTARTED_AT_ATTRIBUTE} on it. An instance owes a restart while it registered before the
 *   cutoff and has no restart at or after it. New instances owe nothing.
 * So a crash between creating endpoints and restarting agents, a failed wave or a capped run all
 * leave the obligation visible to the next run.
 */
import type { Action, AgentRestartTarget, RestartMethod } from './actions.ts';
import type { VpcContext } from './context.ts';
import { serviceSeverity } from './context.ts';
import type { Config } from './config.ts';
import { isChecked } from './config.ts';
import type { Remediation, Severity } from './findings.ts';
import { findingKey } from './findings.ts';
import type { ContainerInstance, RegionSnapshot, SsmManagedInstance, VpcEndpoint } from './model.ts';
import { ECS_AGENT_SERVICES, parseServiceName, serviceNameOf } from './services.ts';
import { isAgentOutdated } from './version.ts';
import type { PlacedContainerInstance, VpcWorkload } from './workloads.ts';
import { resourceName } from './workloads.ts';

export const RESTART_CUTOFF_TAG = 'ecs-endpoint-remediator/agent-restart-cutoff';
export const RESTARTED_AT_ATTRIBUTE = 'ecs-endpoint-remediator.agent-restarted-at';

/** The endpoints SSM Run Command needs in subnets without egress. */
const RUN_COMMAND_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'];

/**
 * The AWS shell document and commands of each restart method: what the CLI falls back to where the
 * account has no deployed restart document (aws/restart-document.ts), with the operator's credentials.
 */
export const RESTART_COMMANDS: Readonly<
  Record<RestartMethod, { document: string; commands: readonly string[] }>
> = {
  // Amazon Linux 2 and 2023 ECS-optimized AMIs run the agent under the systemd unit `ecs`.
  systemctl: { document: 'AWS-RunShellScript', commands: ['systemctl restart ecs'] },
  // The ECS guide's method where the agent is a plain container.
  docker: { document: 'AWS-RunShellScript', commands: ['docker stop ecs-agent', 'docker start ecs-agent'] },
  powershell: { document: 'AWS-RunPowerShellScript', commands: ['Restart-Service AmazonECS'] },
};

/** Linux distributions whose ECS agent runs as the `ecs-agent` container (the guide's docker method). */
const DOCKER_AGENT_DISTRIBUTIONS =
  /^(amazon linux|ubuntu|red hat|rhel|centos|debian|sles|suse|oracle|rocky|alma)/i;

export type PlatformDecision =
  | { readonly kind: 'restart'; readonly method: RestartMethod }
  | { readonly kind: 'manual'; readonly reason: string };

/**
 * How to restart the agent of one instance, from its ECS attributes and SSM's platform facts.
 * Bottlerocket has no host shell and an unknown platform is never guessed at: both are manual.
 */
export function restartPlatform(
  instance: ContainerInstance | undefined,
  ssm: SsmManagedInstance | undefined,
): PlatformDecision {
  const osType = instance?.attributes['ecs.os-type']?.toLowerCase();
  const osFamily = instance?.attributes['ecs.os-family'] ?? '';
  const name = ssm?.platformName ?? '';
  if (/bottlerocket/i.test(name) || /bottlerocket/i.test(osFamily)) {
    return {
      kind: 'manual',
      reason:
        'Bottlerocket has no host shell: reboot the instance or restart the ecs unit from the admin container',
    };
  }
  if (osType === 'windows' || ssm?.platformType === 'Windows')
    return { kind: 'restart', method: 'powershell' };
  if (/^amazon linux/i.test(name) && /^(2|2023)(\.|$)/.test(ssm?.platformVersion ?? '')) {
    return { kind: 'restart', method: 'systemctl' };
  }
  if (DOCKER_AGENT_DISTRIBUTIONS.test(name)) return { kind: 'restart', method: 'docker' };
  return {
    kind: 'manual',
    reason: `unknown platform (${[osType, osFamily, name, ssm?.platformVersion].filter(Boolean).join(' ') || 'no OS facts'}): restart the ECS agent by hand`,
  };
}

const isLive = (endpoint: VpcEndpoint): boolean =>
  endpoint.state !== 'deleted' && endpoint.state !== 'deleting';

/** The VPC's restart cutoff: the latest cutoff tag on its live ECS endpoints of this Region. */
export function restartCutoff(region: string, endpoints: readonly VpcEndpoint[]): string | undefined {
  const trioNames = new Set(ECS_AGENT_SERVICES.map((service) => serviceNameOf(region, service)));
  const cutoffs = endpoints
    .filter((endpoint) => isLive(endpoint) && trioNames.has(endpoint.serviceName))
    .map((endpoint) => endpoint.tags[RESTART_CUTOFF_TAG])
    .filter((value): value is string => value !== undefined && !Number.isNaN(Date.parse(value)));
  return cutoffs.sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1);
}

/** Registered before the cutoff and not restarted since. An unknown registration time counts as before. */
export function owesRestart(instance: ContainerInstance, cutoff: string): boolean {
  const cutoffMs = Date.parse(cutoff);
  if (instance.registeredAt !== undefined && Date.parse(instance.registeredAt) >= cutoffMs) return false;
  const restarted = instance.attributes[RESTARTED_AT_ATTRIBUTE];
  return !(restarted !== undefined && Date.parse(restarted) >= cutoffMs);
}

/**
 * Would this plan change the ECS endpoints of the VPC in a way running agents do not notice? Creating
 * one, turning its private DNS on, or deleting a wrong-Region one. Subnets and groups need no restart.
 */
export function restartTriggers(region: string, actions: readonly Action[]): Action[] {
  const trio = new Set<string>(ECS_AGENT_SERVICES);
  return actions.filter((action) => {
    switch (action.kind) {
      case 'CREATE_ENDPOINT':
        return trio.has(action.service);
      case 'MODIFY_ENDPOINT':
        return action.enablePrivateDns && trio.has(action.service);
      case 'DELETE_ENDPOINT': {
        const parsed = parseServiceName(action.serviceName);
        return parsed !== undefined && parsed.region !== region && trio.has(parsed.service);
      }
      default:
        return false;
    }
  });
}

/**
 * The instances whose SSM facts discovery should read: those that owe a restart, may owe one after
 * this run's endpoint changes, or may get an agent update. Pure, so discovery and planning agree.
 */
export function restartCandidates(
  snapshot: RegionSnapshot,
  workloads: Iterable<VpcWorkload>,
  config: Config,
): string[] {
  const byArn = new Map(snapshot.containerInstances.map((ci) => [ci.containerInstanceArn, ci]));
  const trio = new Set<string>(ECS_AGENT_SERVICES);
  const trioNames = new Set(ECS_AGENT_SERVICES.map((service) => serviceNameOf(snapshot.region, service)));
  const candidates = new Set<string>();
  // SSM facts serve restarts (AGENT_RESTART_REQUIRED) and agent updates (AGENT_OUTDATED's remedy).
  const restartsChecked = config.agentRestart.enabled && isChecked(config, 'AGENT_RESTART_REQUIRED');
  const updatesPlanned = config.agentRestart.updateOutdatedAgents && isChecked(config, 'AGENT_OUTDATED');
  if (!restartsChecked && !updatesPlanned) return [];
  for (const workload of workloads) {
    if (workload.containerInstances.length === 0) continue;
    const endpoints = snapshot.endpoints.filter(
      (endpoint) => endpoint.vpcId === workload.vpc.vpcId && isLive(endpoint),
    );
    const cutoff = restartCutoff(snapshot.region, endpoints);
    // Any ECS endpoint of this Region missing or without private DNS, or one of another Region: the
    // plan may change them, and then every running instance owes a restart.
    const wrongRegionTrio = endpoints.some((endpoint) => {
      const parsed = parseServiceName(endpoint.serviceName);
      return parsed !== undefined && parsed.region !== snapshot.region && trio.has(parsed.service);
    });
    const mayChange =
      wrongRegionTrio ||
      [...trioNames].some((name) => !endpoints.some((e) => e.serviceName === name && e.privateDnsEnabled));
    for (const placed of workload.containerInstances) {
      const instance = byArn.get(placed.containerInstanceArn);
      if (!instance) continue;
      const owes = restartsChecked && (mayChange || (cutoff !== undefined && owesRestart(instance, cutoff)));
      const update = updatesPlanned && isAgentOutdated(instance.agentVersion);
      if (owes || update) candidates.add(placed.ec2InstanceId);
    }
  }
  return [...candidates].sort();
}

/** A restart finding (no remedy: its remediation is decided here) with its remediation. */
export interface RestartFinding {
  readonly code: 'AGENT_RESTART_REQUIRED' | 'SSM_UNREACHABLE';
  readonly severity: Severity;
  readonly vpcId: string;
  readonly resourceId: string;
  readonly subject: string;
  readonly message: string;
  readonly remediation: Remediation;
}

export interface RestartPlan {
  readonly findings: readonly RestartFinding[];
  readonly actions: readonly Action[];
}

interface RestartInput {
  readonly context: VpcContext;
  /** The VPC's actions planned so far. */
  readonly actions: readonly Action[];
  readonly containerInstances: ReadonlyMap<string, ContainerInstance>;
  readonly ssm: ReadonlyMap<string, SsmManagedInstance>;
  /** Container instances per cluster ARN, for the wave percentage. */
  readonly clusterSizes: ReadonlyMap<string, number>;
  readonly config: Config;
}

/** Rollout order: by AZ, then id, so a wave stays within one AZ where it can (ECS spreads tasks over AZs). */
function rolloutOrder(
  context: VpcContext,
  instances: readonly PlacedContainerInstance[],
): PlacedContainerInstance[] {
  const az = (instance: PlacedContainerInstance): string =>
    context.workload.subnets.find((subnet) => subnet.subnetId === instance.subnetId)?.availabilityZone ?? '';
  return [...instances].sort(
    (a, b) => az(a).localeCompare(az(b)) || a.ec2InstanceId.localeCompare(b.ec2InstanceId),
  );
}

/** Plans the agent restarts a VPC owes, now or after this plan's ECS endpoint changes. */
export function planRestarts({
  context,
  actions,
  containerInstances,
  ssm,
  clusterSizes,
  config,
}: RestartInput): RestartPlan {
  // A disabled restart check plans no restarts (and discovery read no SSM facts for them).
  if (!isChecked(config, 'AGENT_RESTART_REQUIRED')) return { findings: [], actions: [] };
  const { region } = context;
  const vpcId = context.workload.vpc.vpcId;
  const triggers = restartTriggers(region, actions);
  const cutoff = restartCutoff(region, context.endpoints);
  const owing = context.workload.containerInstances.filter((placed) => {
    const instance = containerInstances.get(placed.containerInstanceArn);
    if (!instance) return false;
    return triggers.length > 0 || (cutoff !== undefined && owesRestart(instance, cutoff));
  });
  if (owing.length === 0) return { findings: [], actions: [] };

  const ssmUnread = context.skippedReads.find((read) => read.operation === 'ssm:DescribeInstanceInformation');
  const runCommandPlanned = actions.filter(
    (action) => action.kind === 'CREATE_ENDPOINT' && RUN_COMMAND_SERVICES.includes(action.service),
  );
  const dependsOn = [...triggers, ...runCommandPlanned].map((action) => action.id);
  const findings: RestartFinding[] = [];
  const targets = new Map<string, AgentRestartTarget[]>(); // cluster → instances
  const restartId = (clusterArn: string): string =>
    `RESTART_AGENT/${region}/${vpcId}/${resourceName(clusterArn)}`;
  const why =
    triggers.length > 0
      ? "after this run changes the VPC's ECS endpoints"
      : `since the ECS endpoint change of ${cutoff ?? '?'}`;

  for (const placed of rolloutOrder(context, owing)) {
    const instance = containerInstances.get(placed.containerInstanceArn);
    const managed = ssm.get(placed.ec2InstanceId);
    const base = {
      severity: serviceSeverity(context, 'ecs-agent'),
      vpcId,
      resourceId: placed.ec2InstanceId,
      subject: placed.ec2InstanceId,
    };
    const required = (remediation: Remediation): RestartFinding => ({
      ...base,
      code: 'AGENT_RESTART_REQUIRED',
      message: `container instance ${placed.ec2InstanceId} (cluster ${resourceName(placed.clusterArn)}) needs its ECS agent restarted ${why}: until then it keeps its old connections`,
      remediation,
    });
    if (!config.agentRestart.enabled) {
      findings.push(required({ status: 'disabled', actionIds: [], reason: 'agentRestart.enabled is false' }));
      continue;
    }
    const unreachable = (state: string): void => {
      findings.push({
        ...base,
        code: 'SSM_UNREACHABLE',
        message: `container instance ${placed.ec2InstanceId} is ${state}: its ECS agent cannot be restarted through SSM Run Command`,
        remediation: {
          status: 'manual',
          actionIds: [],
          reason:
            'give the instance role AmazonSSMManagedInstanceCore; without egress, the ssm, ssmmessages and ec2messages endpoints',
        },
      });
      findings.push(required({ status: 'blocked', actionIds: [], reason: `SSM_UNREACHABLE: ${state}` }));
    };
    // Without SSM's facts the platform is unknown: never guess. If this run creates the Run Command
    // endpoints, SSM will know the instance by the next run, which restarts it.
    if (!managed) {
      if (ssmUnread) {
        findings.push(
          required({
            status: 'blocked',
            actionIds: [],
            reason: `SSM's facts of the instance could not be read (${ssmUnread.reason}): its platform, and so the restart method, is unknown`,
          }),
        );
      } else if (runCommandPlanned.length > 0) {
        findings.push(
          required({
            status: 'blocked',
            actionIds: [],
            reason:
              'SSM does not know the instance yet; this run creates the Run Command endpoints, the next run restarts it',
          }),
        );
      } else {
        unreachable('not managed by SSM');
      }
      continue;
    }
    const platform = restartPlatform(instance, managed);
    if (platform.kind === 'manual') {
      findings.push(required({ status: 'manual', actionIds: [], reason: platform.reason }));
      continue;
    }
    // Offline now, but this run creates the Run Command endpoints: the executor waits for it to come online.
    if (managed.pingStatus !== 'Online' && runCommandPlanned.length === 0) {
      unreachable(`SSM ping status ${managed.pingStatus}`);
      continue;
    }
    const list = targets.get(placed.clusterArn) ?? [];
    list.push({
      ec2InstanceId: placed.ec2InstanceId,
      containerInstanceArn: placed.containerInstanceArn,
      method: platform.method,
    });
    targets.set(placed.clusterArn, list);
    findings.push(required({ status: 'planned', actionIds: [restartId(placed.clusterArn)] }));
  }

  // The remediator's own ECS endpoints, made by an earlier run, still pending: the restart refreshes
  // their cutoff once it sees them available, as the run that made them would have (a deployed
  // reconciler continues a restart in later invocations: aws/restart.ts, "Steps").
  const trioNames = new Set(ECS_AGENT_SERVICES.map((service) => serviceNameOf(region, service)));
  const ownEndpointsPending = context.endpoints.some(
    (endpoint) =>
      trioNames.has(endpoint.serviceName) &&
      (endpoint.state === 'pending' || endpoint.state === 'pendingacceptance') &&
      endpoint.tags[RESTART_CUTOFF_TAG] !== undefined,
  );
  const restartActions = [...targets].map(([clusterArn, instances]): Action => {
    const clusterSize = clusterSizes.get(clusterArn) ?? instances.length;
    const waveSize = Math.max(
      1,
      Math.min(
        config.agentRestart.waveSize,
        Math.floor((clusterSize * config.agentRestart.wavePercent) / 100),
      ),
    );
    const id = restartId(clusterArn);
    return {
      kind: 'RESTART_AGENT',
      id,
      region,
      vpcId,
      fixes: findings
        .filter((finding) => finding.remediation.actionIds.includes(id))
        .map((finding) => findingKey(finding.code, region, vpcId, finding.subject)),
      dependsOn,
      summary: `restart the ECS agent on ${instances.length} instance(s) of cluster ${resourceName(clusterArn)}, ${waveSize} at a time`,
      clusterArn,
      instances,
      waveSize,
      waitForServiceNames: ECS_AGENT_SERVICES.filter((service) => context.required.has(service)).map(
        (service) => serviceNameOf(region, service),
      ),
      refreshCutoff: triggers.length > 0 || ownEndpointsPending,
      waitForSsm: runCommandPlanned.length > 0,
      // The executor appends ` #<claim id>` (14 characters) within SSM's 100.
      comment: `ecs-endpoint-remediator: restart ECS agent, endpoint change in ${vpcId}`.slice(0, 86),
    };
  });
  return { findings, actions: restartActions };
}

/** Whether UpdateContainerAgent applies: ECS updates the agent only on ECS-optimized Amazon Linux. */
export function canUpdateAgent(ssm: SsmManagedInstance | undefined): boolean {
  return /^amazon linux/i.test(ssm?.platformName ?? '');
}

/** The tags of an ECS endpoint the remediator creates: it records the restart cutoff. */
export function cutoffTag(now: Date): Record<string, string> {
  return { [RESTART_CUTOFF_TAG]: now.toISOString() };
}
