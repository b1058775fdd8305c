/**
 * Executes RESTART_AGENT: waits for the new ECS endpoints to be available, then restarts the agent
 * through SSM Run Command in waves, verifies each agent reconnects to ECS, and records the restart
 * on the container instance (core/restarts.ts explains why that makes restarts level-triggered).
 * The first failed wave halts every restart left in the run.
 */
import { CreateTagsCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  PutAttributesCommand,
  UpdateContainerAgentCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import type { CommandInvocation } from '@aws-sdk/client-ssm';
import type { AgentRestartTarget, RestartAgentAction, UpdateAgentAction } from '../core/actions.ts';
import { MANAGED_TAG } from '../core/actions.ts';
import type { Config } from '../core/config.ts';
import type { InstanceOutcome } from '../core/report.ts';
import { RESTARTED_AT_ATTRIBUTE, RESTART_CUTOFF_TAG, RESTART_COMMANDS } from '../core/restarts.ts';
import type { AwsClients } from './clients.ts';
import { errorName } from './errors.ts';
import { chunk } from './pagination.ts';

export type RestartSettings = Config['agentRestart'];

/** Shared by every RESTART_AGENT of one apply: the run-wide cap and the halt after a failed wave. */
export interface Rollout {
  /** Restarts done or reserved by a rollout under way. */
  restarts: number;
  halted?: string;
}

export interface RestartExecution {
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
  readonly message: string;
  readonly instances: readonly InstanceOutcome[];
}

/** Terminal states of a command invocation. */
const TERMINAL = new Set([
  'Success',
  'Failed',
  'Cancelled',
  'TimedOut',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A progress line at least this often while a restart waits (endpoints, SSM, command, reconnect). */
export const HEARTBEAT_SECONDS = 10;

/** How long a poll waits, and what it reports while it lasts. */
export interface Wait {
  readonly seconds: number;
  /** For the heartbeat line: `waiting for ${what}: 20 s of 180 s`. */
  readonly what?: string;
  readonly onProgress?: ((message: string) => void) | undefined;
}

/**
 * Calls `check` until it returns a value or the deadline passes (then returns the last `undefined`).
 * Polls at once, then backs off exponentially from 1 s to 15 s, and checks a last time at the
 * deadline. With `what` and `onProgress`, reports every {@link HEARTBEAT_SECONDS} how long it waited.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, wait: Wait): Promise<T | undefined> {
  const { seconds, what, onProgress } = wait;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const heartbeat =
    onProgress && what !== undefined
      ? setInterval(() => {
          const elapsed = Math.round((Date.now() - started) / 1000);
          onProgress(`waiting for ${what}: ${elapsed} s of ${seconds} s`);
        }, HEARTBEAT_SECONDS * 1000)
      : undefined;
  try {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
      const result = await check();
      const left = deadline - Date.now();
      if (result !== undefined || left <= 0) return result;
      await sleep(Math.min(delay, left));
    }
  } finally {
    clearInterval(heartbeat);
  }
}

/** The last lines of a failed command's output, for the report. */
function tail(text: string | undefined, lines = 5): string {
  return (text ?? '').trim().split('\n').slice(-lines).join(' | ').slice(0, 500);
}

async function endpointsAvailable(
  clients: AwsClients,
  action: RestartAgentAction,
  wait: Wait,
): Promise<string[] | undefined> {
  return pollUntil(async () => {
    const response = await clients.ec2.send(
      new DescribeVpcEndpointsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [action.vpcId] },
          { Name: 'service-name', Values: [...action.waitForServiceNames] },
        ],
      }),
    );
    const endpoints = response.VpcEndpoints ?? [];
    const ready = action.waitForServiceNames.every((name) =>
      endpoints.some((e) => e.ServiceName === name && (e.State ?? '').toLowerCase() === 'available'),
    );
    // The managed ones carry the cutoff; user-made endpoints are left untagged.
    const managed = endpoints.filter((e) =>
      e.Tags?.some((t) => t.Key === MANAGED_TAG.key && t.Value === MANAGED_TAG.value),
    );
    return ready ? managed.flatMap((e) => e.VpcEndpointId ?? []) : undefined;
  }, wait);
}

async function onlineInstances(
  clients: AwsClients,
  ids: readonly string[],
  wait: Wait,
): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  await pollUntil(async () => {
    const response = await clients.ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: 'InstanceIds', Values: [...ids] }],
        MaxResults: 50,
      }),
    );
    for (const info of response.InstanceInformationList ?? [])
      status.set(info.InstanceId ?? '', info.PingStatus ?? '');
    return ids.every((id) => status.get(id) === 'Online') ? true : undefined;
  }, wait);
  return status;
}

async function runCommand(
  clients: AwsClients,
  action: RestartAgentAction,
  targets: readonly AgentRestartTarget[],
  settings: RestartSettings,
  onProgress?: (message: string) => void,
): Promise<Map<string, CommandInvocation | undefined>> {
  const invocations = new Map<string, CommandInvocation | undefined>();
  const byMethod = Map.groupBy(targets, (target) => target.method);
  for (const [method, group] of byMethod) {
    const { document, commands } = RESTART_COMMANDS[method];
    for (const ids of chunk(
      group.map((target) => target.ec2InstanceId),
      50,
    )) {
      const sent = await clients.ssm.send(
        new SendCommandCommand({
          DocumentName: document,
          InstanceIds: ids,
          Comment: action.comment,
          TimeoutSeconds: settings.commandTimeoutSeconds,
          Parameters: { commands: [...commands], executionTimeout: [String(settings.commandTimeoutSeconds)] },
        }),
      );
      const commandId = sent.Command?.CommandId ?? '';
      const wait = {
        seconds: settings.commandTimeoutSeconds + 30,
        what: `SSM command ${commandId} on ${ids.length} instance(s) to finish (${action.id})`,
        onProgress,
      };
      const finished = await pollUntil(async () => {
        const found: CommandInvocation[] = [];
        let nextToken: string | undefined;
        do {
          const page = await clients.ssm.send(
            new ListCommandInvocationsCommand({
              CommandId: commandId,
              Details: true,
              MaxResults: 50,
              NextToken: nextToken,
            }),
          );
          found.push(...(page.CommandInvocations ?? []));
          nextToken = page.NextToken;
        } while (nextToken);
        const done = ids.every((id) =>
          found.some((inv) => inv.InstanceId === id && TERMINAL.has(inv.Status ?? '')),
        );
        return done ? found : undefined;
      }, wait);
      for (const id of ids)
        invocations.set(
          id,
          finished?.find((inv) => inv.InstanceId === id),
        );
    }
  }
  return invocations;
}

async function reconnected(
  clients: AwsClients,
  clusterArn: string,
  arns: readonly string[],
  wait: Wait,
): Promise<Set<string>> {
  const connected = new Set<string>();
  if (arns.length === 0) return connected;
  await pollUntil(async () => {
    const response = await clients.ecs.send(
      new DescribeContainerInstancesCommand({ cluster: clusterArn, containerInstances: [...arns] }),
    );
    for (const ci of response.containerInstances ?? [])
      if (ci.agentConnected) connected.add(ci.containerInstanceArn ?? '');
    return arns.every((arn) => connected.has(arn)) ? true : undefined;
  }, wait);
  return connected;
}

async function recordRestarts(
  clients: AwsClients,
  clusterArn: string,
  arns: readonly string[],
  at: string,
): Promise<void> {
  // PutAttributes takes at most 10 attributes a call, each with its own target.
  for (const batch of chunk(arns, 10)) {
    await clients.ecs.send(
      new PutAttributesCommand({
        cluster: clusterArn,
        attributes: batch.map((arn) => ({
          name: RESTARTED_AT_ATTRIBUTE,
          value: at,
          targetType: 'container-instance',
          targetId: arn,
        })),
      }),
    );
  }
}

/** Restarts the agent of the action's instances, in waves; never throws for an instance's failure. */
export async function restartAgents(
  clients: AwsClients,
  action: RestartAgentAction,
  settings: RestartSettings,
  rollout: Rollout,
  onProgress?: (message: string) => void,
): Promise<RestartExecution> {
  const outcomes = new Map<string, InstanceOutcome>();
  const skip = (targets: readonly AgentRestartTarget[], message: string): void => {
    for (const t of targets)
      if (!outcomes.has(t.ec2InstanceId))
        outcomes.set(t.ec2InstanceId, { ec2InstanceId: t.ec2InstanceId, outcome: 'skipped', message });
  };
  const finish = (message: string): RestartExecution => {
    const instances = action.instances.map(
      (t) =>
        outcomes.get(t.ec2InstanceId) ?? {
          ec2InstanceId: t.ec2InstanceId,
          outcome: 'skipped' as const,
          message: 'not attempted',
        },
    );
    const count = (outcome: InstanceOutcome['outcome']) =>
      instances.filter((i) => i.outcome === outcome).length;
    const outcome =
      count('failed') > 0 ? 'failed' : count('restarted') === instances.length ? 'succeeded' : 'skipped';
    return {
      outcome,
      instances,
      message: `${count('restarted')} restarted, ${count('failed')} failed, ${count('skipped')} skipped${message ? `: ${message}` : ''}`,
    };
  };

  if (rollout.halted) {
    skip(action.instances, `rollout halted: ${rollout.halted}`);
    return finish(`rollout halted: ${rollout.halted}`);
  }
  const managedEndpoints = await endpointsAvailable(clients, action, {
    seconds: settings.waitSeconds,
    what: `the ECS endpoints of ${action.id} to be available`,
    onProgress,
  });
  if (!managedEndpoints) {
    skip(action.instances, 'the ECS endpoints are not available yet');
    return finish(
      `the ECS endpoints were not available within ${settings.waitSeconds} s; the next run retries`,
    );
  }
  if (action.refreshCutoff && managedEndpoints.length > 0) {
    // Instances that registered while the endpoints were pending may still hold public connections.
    await clients.ec2.send(
      new CreateTagsCommand({
        Resources: managedEndpoints,
        Tags: [{ Key: RESTART_CUTOFF_TAG, Value: new Date().toISOString() }],
      }),
    );
  }

  // Reserve the budget before any await: rollouts of other VPCs run concurrently in this process.
  const budget = Math.min(
    action.instances.length,
    Math.max(0, settings.maxRestartsPerRun - rollout.restarts),
  );
  rollout.restarts += budget;
  const allowed = action.instances.slice(0, budget);
  skip(
    action.instances.slice(budget),
    `agentRestart.maxRestartsPerRun (${settings.maxRestartsPerRun}) reached`,
  );
  const waves = chunk(allowed, action.waveSize);
  try {
    for (const [index, wave] of waves.entries()) {
      if (rollout.halted) {
        skip(wave, `rollout halted: ${rollout.halted}`);
        continue;
      }
      // Wait for SSM only when this run created the Run Command endpoints the instances come back through.
      const waveName = `wave ${index + 1}/${waves.length} of ${action.id}`;
      const status = await onlineInstances(
        clients,
        wave.map((t) => t.ec2InstanceId),
        {
          seconds: action.waitForSsm ? settings.waitSeconds : 0,
          what: `SSM to see ${wave.length} instance(s) online (${waveName})`,
          onProgress,
        },
      );
      const online = wave.filter((t) => status.get(t.ec2InstanceId) === 'Online');
      for (const t of wave) {
        if (!online.includes(t))
          skip(
            [t],
            `SSM_UNREACHABLE: ${status.has(t.ec2InstanceId) ? `ping status ${status.get(t.ec2InstanceId) ?? '?'}` : 'not managed by SSM'}`,
          );
      }
      const invocations = await runCommand(clients, action, online, settings, onProgress);
      const succeeded = online.filter((t) => invocations.get(t.ec2InstanceId)?.Status === 'Success');
      for (const t of online.filter((target) => !succeeded.includes(target))) {
        const invocation = invocations.get(t.ec2InstanceId);
        const output = tail(invocation?.CommandPlugins?.map((plugin) => plugin.Output ?? '').join('\n'));
        outcomes.set(t.ec2InstanceId, {
          ec2InstanceId: t.ec2InstanceId,
          outcome: 'failed',
          message: `command ${invocation?.Status ?? 'did not finish'}${output ? `: ${output}` : ''}`,
        });
      }
      const connected = await reconnected(
        clients,
        action.clusterArn,
        succeeded.map((t) => t.containerInstanceArn),
        {
          seconds: settings.verifySeconds,
          what: `${succeeded.length} ECS agent(s) to reconnect (${waveName})`,
          onProgress,
        },
      );
      const restarted = succeeded.filter((t) => connected.has(t.containerInstanceArn));
      for (const t of succeeded.filter((target) => !connected.has(target.containerInstanceArn))) {
        outcomes.set(t.ec2InstanceId, {
          ec2InstanceId: t.ec2InstanceId,
          outcome: 'failed',
          message: `the agent did not reconnect to ECS within ${settings.verifySeconds} s`,
        });
      }
      await recordRestarts(
        clients,
        action.clusterArn,
        restarted.map((t) => t.containerInstanceArn),
        new Date().toISOString(),
      );
      for (const t of restarted)
        outcomes.set(t.ec2InstanceId, {
          ec2InstanceId: t.ec2InstanceId,
          outcome: 'restarted',
          message: RESTART_COMMANDS[t.method].commands.join('; '),
        });
      onProgress?.(`restart ${waveName}: ${restarted.length}/${wave.length} restarted`);
      if (restarted.length < online.length) rollout.halted = `wave ${index + 1} of ${action.id} failed`;
    }
  } catch (error) {
    // An AWS error mid-rollout halts the run's other restarts too, as a failed wave does.
    rollout.halted = `${action.id} stopped by an error`;
    throw error;
  } finally {
    // Give back what this action reserved but did not restart.
    rollout.restarts -= allowed.filter((t) => outcomes.get(t.ec2InstanceId)?.outcome !== 'restarted').length;
  }
  return finish(rollout.halted ?? '');
}

/** Executes UPDATE_AGENT; an update that is not needed or already running is satisfied. */
export async function updateAgent(
  clients: AwsClients,
  action: UpdateAgentAction,
): Promise<{ outcome: 'succeeded' | 'already-satisfied'; message: string }> {
  try {
    const response = await clients.ecs.send(
      new UpdateContainerAgentCommand({
        cluster: action.clusterArn,
        containerInstance: action.containerInstanceArn,
      }),
    );
    return {
      outcome: 'succeeded',
      message: `agent update ${response.containerInstance?.agentUpdateStatus ?? 'requested'}`,
    };
  } catch (error) {
    const name = errorName(error);
    if (name === 'NoUpdateAvailableException' || name === 'UpdateInProgressException') {
      return { outcome: 'already-satisfied', message: name };
    }
    throw error;
  }
}
