/**
 * Executes RESTART_AGENT: waits for the new ECS endpoints to be available, then restarts the agent
 * through SSM Run Command in waves, verifies each agent reconnects to ECS, and records the restart
 * on the container instance (core/restarts.ts explains why that makes restarts level-triggered).
 *
 * Exactly once (docs/architecture.md, "Agent restarts"): where a claims table is at hand
 * (aws/restart-guard.ts), each instance's restart for one endpoint change (its cutoff) is claimed
 * with a conditional write before it is sent (aws/restart-claims.ts), so concurrent runs, a crash or
 * a retried request never restart an agent twice; a claim sent but not verified is verified by the
 * next run, not sent again. SendCommand is sent without SDK retries and, after an ambiguous failure,
 * looked up by the claim id in its Comment before it is sent again. A failed wave halts its own
 * cluster's rollout; an instance that failed before goes last. Per-instance outcomes are always
 * returned, also when an error stops the rollout (which halts the run's other restarts too).
 *
 * Steps, not waits (the deployed reconciler, which has a claims table): with `Rollout.stepSeconds`
 * every wait (endpoints available, SSM online, command finished, agent reconnected) ends with the
 * apply's step; what has not happened by then is neither failed nor restarted: the instance is
 * `skipped` as under way, its claim stays as it is, and the execution asks to be continued
 * (`continueAfterSeconds`) by a later invocation, which resumes from the claim. The limits are those
 * of a blocking run, counted from the records, not from one invocation's waits: a command must end
 * within `commandTimeoutSeconds` + 30 s of its claim's `claimedAt`, an agent reconnect within
 * `verifySeconds` of its command's end (`finishedAt`), new endpoints become available within
 * `waitSeconds` of their creation; past them the restart fails (or, for endpoints, waits for the
 * next run) and asks for no continuation.
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
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import type { CommandInvocation, SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { randomBytes } from 'node:crypto';
import type {
  AgentRestartTarget,
  RestartAgentAction,
  RestartMethod,
  UpdateAgentAction,
} from '../core/actions.ts';
import { MANAGED_TAG } from '../core/actions.ts';
import type { Config } from '../core/config.ts';
import type { InstanceOutcome } from '../core/report.ts';
import { RESTARTED_AT_ATTRIBUTE, RESTART_CUTOFF_TAG, RESTART_COMMANDS } from '../core/restarts.ts';
import type { AwsClients } from './clients.ts';
import { errorMessage, errorName } from './errors.ts';
import { chunk } from './pagination.ts';
import type { RestartClaim } from './restart-claims.ts';
import {
  RESTART_DOCUMENT_STEP,
  RESTART_DOCUMENT_VERSION,
  verifyRestartDocument,
} from './restart-document.ts';
import type { RestartGuard } from './restart-guard.ts';
import { restartGuardOf, sendCommandClient } from './restart-guard.ts';

export type RestartSettings = Config['agentRestart'];

/** Shared by every RESTART_AGENT of one apply: the run-wide cap, the halt after an error, the step. */
export interface Rollout {
  /** Restarts done or reserved by a rollout under way. */
  restarts: number;
  halted?: string;
  /**
   * Steps instead of waits (the deployed reconciler): the apply's restarts wait at most this long
   * together, from the first restart's start (`stepUntil`); what is not done by then is continued by
   * a later invocation. Only with a claims table (the record a later invocation resumes from):
   * without one, restarts wait as the CLI's do. Absent: the CLI's blocking waits.
   */
  readonly stepSeconds?: number;
  /** Epoch ms: the end of the step, set when the apply's first restart starts. */
  stepUntil?: number;
}

export interface RestartExecution {
  readonly outcome: 'succeeded' | 'already-satisfied' | 'failed' | 'skipped';
  readonly message: string;
  readonly instances: readonly InstanceOutcome[];
  /**
   * Steps only: some restarts are under way (their instances `skipped` as such, their claims as they
   * were): a later invocation should look again after this many seconds (1–900).
   */
  readonly continueAfterSeconds?: number;
}

/**
 * Steps only: after how many seconds a later invocation looks again, by what a restart waits for. New
 * endpoints take minutes; a restart command seconds to a minute; an agent reconnects in seconds.
 * `wave`: the step ended before a wave could start. Each delay is cut to end just after the limit of
 * what it waits for, so the invocation that comes then fails what is still not done.
 */
export const CONTINUE_AFTER_SECONDS = {
  endpoints: 30,
  online: 30,
  command: 15,
  reconnect: 10,
  wave: 5,
} as const;

/** SQS's longest DelaySeconds: a continuation is a delayed message (aws/event-batch.ts). */
const MAX_CONTINUE_AFTER_SECONDS = 900;
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
          onProgress(`waiting for ${what}: ${elapsed} s of ${Math.round(seconds)} s`);
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

/** What a look at the VPC's ECS endpoints found. */
interface EndpointsSeen {
  /** Every one waited for is available. */
  readonly ready: boolean;
  /** The managed ones (they carry the cutoff; user-made endpoints are left untagged). */
  readonly managed: readonly string[];
  /** The latest cutoff tag among them. */
  readonly cutoff: string | undefined;
  /**
   * Not ready, but each service waited for has a live endpoint: the creation (epoch ms) of the
   * oldest one not available yet, from which `waitSeconds` count. Absent: nothing is on its way.
   */
  readonly pendingSince?: number;
}

/** The VPC's ECS endpoints: polled until every one waited for is available, or the wait ends. */
async function endpointsAvailable(
  clients: AwsClients,
  action: RestartAgentAction,
  wait: Wait,
): Promise<EndpointsSeen> {
  let seen: EndpointsSeen = { ready: false, managed: [], cutoff: undefined };
  await pollUntil(async () => {
    const response = await clients.ec2.send(
      new DescribeVpcEndpointsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [action.vpcId] },
          { Name: 'service-name', Values: [...action.waitForServiceNames] },
        ],
      }),
    );
    const endpoints = (response.VpcEndpoints ?? []).filter(
      (e) => !['deleted', 'deleting', 'failed', 'rejected'].includes((e.State ?? '').toLowerCase()),
    );
    const available = (e: (typeof endpoints)[number]) => (e.State ?? '').toLowerCase() === 'available';
    const ready = action.waitForServiceNames.every((name) =>
      endpoints.some((e) => e.ServiceName === name && available(e)),
    );
    const managed = endpoints.filter((e) =>
      e.Tags?.some((t) => t.Key === MANAGED_TAG.key && t.Value === MANAGED_TAG.value),
    );
    const cutoff = endpoints
      .flatMap((e) => e.Tags?.filter((t) => t.Key === RESTART_CUTOFF_TAG).map((t) => t.Value ?? '') ?? [])
      .filter((value) => !Number.isNaN(Date.parse(value)))
      .sort((a, b) => Date.parse(a) - Date.parse(b))
      .at(-1);
    // On its way: each service has a live endpoint, some not available yet. Created at its
    // CreationTimestamp, else at its cutoff tag (set at creation).
    const onItsWay = action.waitForServiceNames.every((name) =>
      endpoints.some((e) => e.ServiceName === name),
    );
    const created = endpoints
      .filter((e) => !available(e))
      .map(
        (e) =>
          e.CreationTimestamp?.getTime() ??
          Date.parse(e.Tags?.find((t) => t.Key === RESTART_CUTOFF_TAG)?.Value ?? ''),
      )
      .filter((time) => !Number.isNaN(time));
    seen = {
      ready,
      managed: managed.flatMap((e) => e.VpcEndpointId ?? []),
      cutoff,
      ...(!ready && onItsWay && created.length > 0 ? { pendingSince: Math.min(...created) } : {}),
    };
    return ready ? true : undefined;
  }, wait);
  return seen;
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

/** The documents and parameters a restart is sent with. */
type Sender = { readonly kind: 'document'; readonly documentName: string } | { readonly kind: 'shell' };

const documentOf = (sender: Sender, method: RestartMethod): string =>
  sender.kind === 'document' ? sender.documentName : RESTART_COMMANDS[method].document;

function sendCommandInput(
  sender: Sender,
  method: RestartMethod,
  ids: readonly string[],
  comment: string,
  settings: RestartSettings,
): SendCommandCommandInput & { readonly DocumentName: string } {
  const parameters: Record<string, string[]> =
    sender.kind === 'document'
      ? { method: [method] }
      : {
          commands: [...RESTART_COMMANDS[method].commands],
          executionTimeout: [String(settings.commandTimeoutSeconds)],
        };
  return {
    DocumentName: documentOf(sender, method),
    InstanceIds: [...ids],
    Comment: comment,
    TimeoutSeconds: settings.commandTimeoutSeconds,
    ...(sender.kind === 'document' ? { DocumentVersion: RESTART_DOCUMENT_VERSION } : {}),
    Parameters: parameters,
  };
}

/** A claim id: 12 hex digits, carried in the command's Comment as `#<id>`. */
const newId = (): string => randomBytes(6).toString('hex');

/** The command's Comment: the action's (cut to fit) and the claim id, at most 100 characters. */
export function commentWithClaim(comment: string, sendId: string): string {
  const tag = ` #${sendId}`;
  return `${comment.slice(0, 100 - tag.length)}${tag}`;
}

/** Most SendCommand attempts (each after the previous one is known not to have run). */
const SEND_ATTEMPTS = 3;
/** How far back a lost command is looked for, before its claim's time (clock skew). */
const LOOKUP_SKEW_MS = 5 * 60 * 1000;
/** Most ListCommands pages read looking for a lost command. */
const LOOKUP_PAGES = 20;

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'Throttling',
]);

/**
 * What a failed SendCommand means: `refused` (a 4xx answer: it did not run), `throttled` (did not run,
 * may be sent again), or `ambiguous` (a timeout, a 5xx, a lost response: it may have run).
 */
export function sendFailureKind(error: unknown): 'refused' | 'throttled' | 'ambiguous' {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  if (THROTTLING.has(errorName(error)) || status === 429) return 'throttled';
  if (status !== undefined && status >= 400 && status < 500) return 'refused';
  return 'ambiguous';
}

/** The command sent with claim id `sendId` (its Comment ends `#<sendId>`), if SSM has it. */
export async function findSentCommand(
  clients: AwsClients,
  documentName: string,
  sendId: string,
  since: string,
): Promise<string | undefined> {
  const after = new Date(Date.parse(since) - LOOKUP_SKEW_MS);
  let nextToken: string | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page += 1) {
    const out = await clients.ssm.send(
      new ListCommandsCommand({
        Filters: [
          { key: 'DocumentName', value: documentName },
          { key: 'InvokedAfter', value: (Number.isNaN(after.getTime()) ? new Date(0) : after).toISOString() },
        ],
        MaxResults: 50,
        NextToken: nextToken,
      }),
    );
    const found = out.Commands?.find((command) => command.Comment?.endsWith(`#${sendId}`));
    if (found?.CommandId) return found.CommandId;
    nextToken = out.NextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

type SendResult = { readonly commandId: string } | { readonly refused: string };

/**
 * SendCommand once: never retried blindly. A throttled call is sent again; after an ambiguous failure
 * the command is looked up by its claim id first, and sent again only if SSM does not have it.
 */
async function sendOnce(
  clients: AwsClients,
  input: ReturnType<typeof sendCommandInput>,
  sendId: string,
  claimedAt: string,
): Promise<SendResult> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const out = await sendCommandClient(clients).send(new SendCommandCommand(input));
      const commandId = out.Command?.CommandId;
      if (!commandId) throw new Error('SendCommand returned no command id');
      return { commandId };
    } catch (error) {
      const kind = sendFailureKind(error);
      if (kind === 'refused') return { refused: `${errorName(error)}: ${errorMessage(error)}` };
      if (attempt >= SEND_ATTEMPTS) throw error;
      await sleep(500 * 2 ** attempt);
      if (kind === 'ambiguous') {
        const found = await findSentCommand(clients, input.DocumentName, sendId, claimedAt);
        if (found) return { commandId: found };
      }
    }
  }
}

/** Every invocation of `commandId`, polled until each of `ids` has ended or the wait is over. */
async function invocationsOf(
  clients: AwsClients,
  commandId: string,
  ids: readonly string[],
  wait: Wait,
): Promise<CommandInvocation[]> {
  let found: CommandInvocation[] = [];
  await pollUntil(async () => {
    const all: CommandInvocation[] = [];
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
      all.push(...(page.CommandInvocations ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    found = all;
    const done = ids.every((id) => all.some((inv) => inv.InstanceId === id && ended(inv)));
    return done ? true : undefined;
  }, wait);
  return found;
}

const ended = (invocation: CommandInvocation | undefined): boolean => TERMINAL.has(invocation?.Status ?? '');

/**
 * Whether an invocation restarted the agent: it succeeded and, for the stack's document, the step of
 * the method ran and succeeded (a step skipped by its platform precondition restarted nothing).
 */
function invocationFailure(
  invocation: CommandInvocation | undefined,
  method: RestartMethod,
): string | undefined {
  const output = tail(invocation?.CommandPlugins?.map((plugin) => plugin.Output ?? '').join('\n'));
  if (invocation?.Status !== 'Success')
    return `command ${invocation?.Status ?? 'did not finish'}${output ? `: ${output}` : ''}`;
  const document = invocation.DocumentName ?? '';
  if (document.startsWith('AWS-')) return undefined;
  const step = RESTART_DOCUMENT_STEP[method];
  const plugin = invocation.CommandPlugins?.find((p) => p.Name === step);
  return plugin?.Status === 'Success'
    ? undefined
    : `step ${step} of ${document} ${plugin?.Status ?? 'did not run'}`;
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

/** Which document restarts go through: the guard's stack document when verified, else the shell ones if allowed. */
async function chooseSender(
  clients: AwsClients,
  guard: RestartGuard,
  onProgress?: (message: string) => void,
): Promise<Sender | { readonly unusable: string }> {
  if (!guard.documentName) return { kind: 'shell' };
  const check = await verifyRestartDocument(clients.ssm, guard.documentName);
  if (check.status === 'verified') return { kind: 'document', documentName: guard.documentName };
  const why =
    check.status === 'missing'
      ? `the restart document ${guard.documentName} does not exist in ${clients.region} (deploy the stack there)`
      : `the restart document ${guard.documentName} is not this version's: ${check.reason}`;
  if (!guard.shellFallback) return { unusable: why };
  onProgress?.(`${why}: falling back to the AWS shell documents`);
  return { kind: 'shell' };
}

/** One instance on its way through a wave. */
interface InFlight {
  readonly target: AgentRestartTarget;
  readonly commandId: string;
  /** Its claim as last written (absent without a claims table, or when another run holds it). */
  claim: RestartClaim | undefined;
  /** When its command was claimed (the claim's, or this run's send): its time limit counts from it. */
  readonly claimedAt: string;
  /** Sent by an earlier or concurrent run, verified by this one. */
  readonly resumed: boolean;
}

/** Under way: what a later invocation continues (the instance's outcome says so). */
const UNDER_WAY = 'under way, continued by a later invocation';

/** Restarts the agent of the action's instances, in waves; never throws for an instance's failure. */
export async function restartAgents(
  clients: AwsClients,
  action: RestartAgentAction,
  settings: RestartSettings,
  rollout: Rollout,
  onProgress?: (message: string) => void,
): Promise<RestartExecution> {
  const guard = restartGuardOf(clients);
  const { claims } = guard;
  const { region, clusterArn } = action;
  const runId = newId();
  const outcomes = new Map<string, InstanceOutcome>();
  /** Instances another run restarted for this change already. */
  const doneElsewhere = new Set<string>();
  /** Instances whose restart is under way: a later invocation continues it. */
  const underWay = new Set<string>();
  const set = (t: AgentRestartTarget, outcome: InstanceOutcome['outcome'], message: string): void => {
    outcomes.set(t.ec2InstanceId, { ec2InstanceId: t.ec2InstanceId, outcome, message });
  };
  const skip = (targets: readonly AgentRestartTarget[], message: string): void => {
    for (const t of targets) if (!outcomes.has(t.ec2InstanceId)) set(t, 'skipped', message);
  };

  // Steps: every wait of the apply's restarts ends with its step. Only with claims: a later invocation
  // resumes from them; without, it would send again.
  let stepping = rollout.stepSeconds !== undefined && claims !== undefined;
  if (stepping) rollout.stepUntil ??= Date.now() + (rollout.stepSeconds ?? 0) * 1000;
  /** Seconds a wait may last: `seconds`, within the step. */
  const within = (seconds: number): number =>
    stepping ? Math.max(0, Math.min(seconds, ((rollout.stepUntil ?? 0) - Date.now()) / 1000)) : seconds;
  /** Epoch ms at which a later invocation should look again (the earliest asked for). */
  let continueAt: number | undefined;
  const continueLater = (seconds: number, limit?: number): void => {
    const at = Math.min(Date.now() + seconds * 1000, limit === undefined ? Infinity : limit + 1000);
    continueAt = Math.min(continueAt ?? at, at);
  };
  /** Under way: continued by a later invocation, after `seconds` (absent: as others ask). */
  const later = (
    targets: readonly AgentRestartTarget[],
    why: string,
    seconds?: number,
    limit?: number,
  ): void => {
    for (const t of targets) {
      if (outcomes.has(t.ec2InstanceId)) continue;
      underWay.add(t.ec2InstanceId);
      set(t, 'skipped', `${UNDER_WAY}: ${why}`);
    }
    if (targets.length > 0 && seconds !== undefined) continueLater(seconds, limit);
  };

  let order: readonly AgentRestartTarget[] = action.instances;
  const finish = (message: string): RestartExecution => {
    const instances = order.map(
      (t) =>
        outcomes.get(t.ec2InstanceId) ?? {
          ec2InstanceId: t.ec2InstanceId,
          outcome: 'skipped' as const,
          message: 'not attempted',
        },
    );
    const count = (outcome: InstanceOutcome['outcome']) =>
      instances.filter((i) => i.outcome === outcome).length;
    const settled = instances.every((i) => i.outcome === 'restarted' || doneElsewhere.has(i.ec2InstanceId));
    const outcome =
      count('failed') > 0
        ? 'failed'
        : settled && count('restarted') > 0
          ? 'succeeded'
          : settled
            ? 'already-satisfied'
            : 'skipped';
    const pending = instances.filter((i) => underWay.has(i.ec2InstanceId)).length;
    const at = continueAt ?? Date.now() + CONTINUE_AFTER_SECONDS.wave * 1000;
    const continueAfterSeconds =
      pending > 0
        ? Math.min(MAX_CONTINUE_AFTER_SECONDS, Math.max(1, Math.ceil((at - Date.now()) / 1000)))
        : undefined;
    return {
      outcome,
      instances,
      message: `${count('restarted')} restarted, ${count('failed')} failed, ${count('skipped')} skipped${pending > 0 ? ` (${pending} ${UNDER_WAY})` : ''}${message ? `: ${message}` : ''}`,
      ...(continueAfterSeconds === undefined ? {} : { continueAfterSeconds }),
    };
  };

  if (rollout.halted) {
    skip(action.instances, `rollout halted: ${rollout.halted}`);
    return finish(`rollout halted: ${rollout.halted}`);
  }
  const sender = await chooseSender(clients, guard, onProgress);
  if ('unusable' in sender) {
    for (const t of action.instances) set(t, 'failed', sender.unusable);
    return finish(sender.unusable);
  }
  if (rollout.stepSeconds !== undefined && !claims)
    onProgress?.(
      `restart ${action.id}: no claims table to continue from, so its waits are not cut into steps`,
    );
  const endpointWait = within(settings.waitSeconds);
  const endpoints = await endpointsAvailable(clients, action, {
    seconds: endpointWait,
    what: `the ECS endpoints of ${action.id} to be available`,
    onProgress,
  });
  // A later invocation finds this change by the cutoff on the remediator's own endpoints.
  const resumable = stepping && endpoints.managed.length > 0;
  if (!endpoints.ready) {
    // New endpoints have `waitSeconds` from their creation; past that, or with nothing on its way,
    // the next run (the sweep) retries.
    const limit =
      endpoints.pendingSince === undefined ? undefined : endpoints.pendingSince + settings.waitSeconds * 1000;
    if (resumable && limit !== undefined && Date.now() < limit) {
      const why = 'the ECS endpoints are not available yet';
      later(action.instances, why, CONTINUE_AFTER_SECONDS.endpoints, limit);
      return finish(`${why}; a later invocation continues`);
    }
    skip(action.instances, 'the ECS endpoints are not available yet');
    return finish(
      resumable && limit !== undefined
        ? `the ECS endpoints were not available within ${settings.waitSeconds} s of their creation; the next run retries`
        : `the ECS endpoints were not available within ${Math.round(endpointWait)} s; the next run retries`,
    );
  }
  // A change of endpoints the remediator does not own carries no cutoff a later invocation could find
  // it by: it is restarted in this invocation only, so its restarts wait here, as the CLI's do.
  if (stepping && !resumable) {
    stepping = false;
    onProgress?.(
      `restart ${action.id}: the ECS endpoints are not the remediator's (no cutoff to continue from): its restarts wait in this invocation`,
    );
  }
  // The change's identity: the endpoints' cutoff, refreshed once (by whichever run is first) when
  // this run changed them. Instances that registered while the endpoints were pending may still hold
  // public connections, hence the refresh.
  let cutoff = endpoints.cutoff;
  if (action.refreshCutoff) {
    const proposed = new Date().toISOString();
    cutoff = claims
      ? await claims.refreshCutoff(region, action.vpcId, cutoff, proposed, guard.cutoffReuseSeconds ?? 3600)
      : proposed;
    if (endpoints.managed.length > 0 && cutoff !== endpoints.cutoff) {
      await clients.ec2.send(
        new CreateTagsCommand({
          Resources: [...endpoints.managed],
          Tags: [{ Key: RESTART_CUTOFF_TAG, Value: cutoff }],
        }),
      );
    }
  }
  const change = cutoff ?? 'unknown';

  // Instances that failed before go last (stable: the plan's AZ/id order otherwise).
  const failures = claims
    ? (await claims.load(region, clusterArn, change)).failures
    : new Map<string, number>();
  order = [...action.instances].sort(
    (a, b) => (failures.get(a.ec2InstanceId) ?? 0) - (failures.get(b.ec2InstanceId) ?? 0),
  );

  // Reserve the budget before any await: rollouts of other VPCs run concurrently in this process.
  const budget = Math.min(order.length, Math.max(0, settings.maxRestartsPerRun - rollout.restarts));
  rollout.restarts += budget;
  const allowed = order.slice(0, budget);
  skip(order.slice(budget), `agentRestart.maxRestartsPerRun (${settings.maxRestartsPerRun}) reached`);
  const waves = chunk(allowed, action.waveSize);
  const leaseSeconds = guard.leaseSeconds ?? settings.commandTimeoutSeconds + settings.verifySeconds + 120;
  const commandLimitMs = (settings.commandTimeoutSeconds + 30) * 1000;
  let clusterHalted: string | undefined;
  /** Steps: a wave of this cluster is under way; the next waves wait for it. */
  let clusterWaiting: string | undefined;
  let current: readonly AgentRestartTarget[] = [];

  const fail = async (
    t: AgentRestartTarget,
    claim: RestartClaim | undefined,
    message: string,
  ): Promise<void> => {
    set(t, 'failed', message);
    if (!claims) return;
    if (claim) await claims.update(region, clusterArn, claim, { status: 'failed', message });
    await claims.addFailure(region, clusterArn, t.ec2InstanceId, message);
  };

  try {
    for (const [index, wave] of waves.entries()) {
      current = wave;
      if (rollout.halted || clusterHalted) {
        skip(wave, `rollout halted: ${rollout.halted ?? clusterHalted ?? ''}`);
        continue;
      }
      if (clusterWaiting) {
        // The wave under way asked for its continuation; this one starts after it.
        later(wave, `waits for ${clusterWaiting}`);
        continue;
      }
      // Steps: a wave after the first starts only within the step (the first always gets a look).
      if (stepping && index > 0 && within(1) <= 0) {
        later(wave, "this invocation's restart step is over", CONTINUE_AFTER_SECONDS.wave);
        continue;
      }
      const waveName = `wave ${index + 1}/${waves.length} of ${action.id}`;
      const inFlight: InFlight[] = [];
      const candidates: Array<{ target: AgentRestartTarget; expected: RestartClaim | undefined }> = [];

      // 1. What the table says of each instance: done, sent (verify it), being sent, or free to claim.
      const held = claims
        ? (await claims.load(region, clusterArn, change)).claims
        : new Map<string, RestartClaim>();
      const nowSeconds = Math.floor(Date.now() / 1000);
      for (const target of wave) {
        const claim = held.get(target.ec2InstanceId);
        if (!claim || claim.status === 'failed') {
          candidates.push({ target, expected: claim });
        } else if (claim.status === 'done') {
          doneElsewhere.add(target.ec2InstanceId);
          set(
            target,
            'skipped',
            `already restarted for this endpoint change (command ${claim.commandId ?? '?'})`,
          );
        } else if (claim.status === 'sent' && claim.commandId) {
          inFlight.push({
            target,
            commandId: claim.commandId,
            claim,
            claimedAt: claim.claimedAt,
            resumed: true,
          });
        } else {
          // Claimed: its send may have happened (a crash or a lost response before it was recorded).
          const commandId = await findSentCommand(clients, claim.documentName, claim.sendId, claim.claimedAt);
          if (commandId) {
            const sent = await claims?.update(region, clusterArn, claim, { status: 'sent', commandId });
            inFlight.push({ target, commandId, claim: sent, claimedAt: claim.claimedAt, resumed: true });
          } else if (claim.leaseUntil > nowSeconds) {
            set(
              target,
              'skipped',
              `another run is restarting it (claim #${claim.sendId} until ${new Date(claim.leaseUntil * 1000).toISOString()})`,
            );
          } else {
            candidates.push({ target, expected: claim });
          }
        }
      }

      // 2. SSM must see the instances to send to online. Wait only when this run created the Run
      // Command endpoints the instances come back through.
      const status =
        candidates.length === 0
          ? new Map<string, string>()
          : await onlineInstances(
              clients,
              candidates.map((c) => c.target.ec2InstanceId),
              {
                seconds: action.waitForSsm ? within(settings.waitSeconds) : 0,
                what: `SSM to see ${candidates.length} instance(s) online (${waveName})`,
                onProgress,
              },
            );
      const online = candidates.filter((c) => status.get(c.target.ec2InstanceId) === 'Online');
      for (const { target } of candidates.filter((c) => !online.includes(c))) {
        const state = status.get(target.ec2InstanceId);
        const why = `SSM_UNREACHABLE: ${state !== undefined ? `ping status ${state || '?'}` : 'not managed by SSM'}`;
        // Steps, with the Run Command endpoints new: SSM may see it online once they serve. The next
        // invocation's plan decides (an instance still offline is then reported SSM_UNREACHABLE).
        if (stepping && action.waitForSsm) later([target], why, CONTINUE_AFTER_SECONDS.online);
        else skip([target], why);
      }

      // 3. Claim, then send: one command per method (at most 50 instances, one claim id).
      for (const [method, group] of Map.groupBy(online, (c) => c.target.method)) {
        for (const part of chunk(group, 50)) {
          const sendId = newId();
          const claimedAt = new Date().toISOString();
          const documentName = documentOf(sender, method);
          const mine: Array<{ target: AgentRestartTarget; claim: RestartClaim | undefined }> = [];
          for (const { target, expected } of part) {
            if (!claims) {
              mine.push({ target, claim: undefined });
              continue;
            }
            const claim = await claims.claim(
              region,
              clusterArn,
              {
                ec2InstanceId: target.ec2InstanceId,
                cutoff: change,
                status: 'claimed',
                sendId,
                owner: runId,
                leaseUntil: Math.floor(Date.now() / 1000) + leaseSeconds,
                claimedAt,
                documentName,
              },
              expected,
            );
            if (claim) mine.push({ target, claim });
            else set(target, 'skipped', 'another run claimed its restart at the same moment');
          }
          if (mine.length === 0) continue;
          const input = sendCommandInput(
            sender,
            method,
            mine.map((m) => m.target.ec2InstanceId),
            commentWithClaim(action.comment, sendId),
            settings,
          );
          const sent = await sendOnce(clients, input, sendId, claimedAt);
          if ('refused' in sent) {
            for (const m of mine) await fail(m.target, m.claim, `SendCommand refused: ${sent.refused}`);
            continue;
          }
          for (const m of mine) {
            const claim =
              m.claim &&
              (await claims?.update(region, clusterArn, m.claim, {
                status: 'sent',
                commandId: sent.commandId,
              }));
            inFlight.push({
              target: m.target,
              commandId: sent.commandId,
              claim,
              claimedAt,
              resumed: false,
            });
          }
        }
      }

      // 4. Each command to its end: within commandTimeoutSeconds + 30 s of its claim, whichever run
      // looks (a resumed command has what is left of its time).
      const succeeded: Array<{ flight: InFlight; finishedAt: number }> = [];
      for (const [commandId, group] of Map.groupBy(inFlight, (f) => f.commandId)) {
        const ids = group.map((f) => f.target.ec2InstanceId);
        const claimedAt = Math.min(...group.map((f) => Date.parse(f.claimedAt)));
        const limit = (Number.isNaN(claimedAt) ? Date.now() : claimedAt) + commandLimitMs;
        const invocations = await invocationsOf(clients, commandId, ids, {
          seconds: within(Math.max(0, (limit - Date.now()) / 1000)),
          what: `SSM command ${commandId} on ${ids.length} instance(s) to finish (${action.id})`,
          onProgress,
        });
        const seenAt = Date.now();
        for (const f of group) {
          const invocation = invocations.find((inv) => inv.InstanceId === f.target.ec2InstanceId);
          if (!ended(invocation)) {
            if (stepping && Date.now() < limit) {
              later(
                [f.target],
                `SSM command ${commandId} is ${invocation?.Status ?? 'not started yet'}`,
                CONTINUE_AFTER_SECONDS.command,
                limit,
              );
            } else {
              await fail(
                f.target,
                f.claim,
                `command ${invocation?.Status ?? 'did not finish'}: not finished within ${settings.commandTimeoutSeconds + 30} s of its claim (${f.claimedAt})`,
              );
            }
            continue;
          }
          const why = invocationFailure(invocation, f.target.method);
          if (why === undefined) {
            const recorded = f.claim?.finishedAt === undefined ? Number.NaN : Date.parse(f.claim.finishedAt);
            succeeded.push({ flight: f, finishedAt: Number.isNaN(recorded) ? seenAt : recorded });
          } else await fail(f.target, f.claim, why);
        }
      }

      // 5. The agents back on ECS within verifySeconds of their command's end (recorded by the run
      // that first saw it, when the agent was not back yet), then the restart record (the planner
      // reads it) and the claim done.
      const verifyMs = settings.verifySeconds * 1000;
      const latestLimit = Math.max(0, ...succeeded.map((s) => s.finishedAt + verifyMs));
      const connected = await reconnected(
        clients,
        clusterArn,
        succeeded.map((s) => s.flight.target.containerInstanceArn),
        {
          seconds: within(Math.max(0, (latestLimit - Date.now()) / 1000)),
          what: `${succeeded.length} ECS agent(s) to reconnect (${waveName})`,
          onProgress,
        },
      );
      const restarted: InFlight[] = [];
      for (const { flight: f, finishedAt } of succeeded) {
        if (connected.has(f.target.containerInstanceArn)) {
          restarted.push(f);
          continue;
        }
        const limit = finishedAt + verifyMs;
        if (stepping && Date.now() < limit) {
          if (f.claim && f.claim.finishedAt === undefined)
            f.claim = await claims?.update(region, clusterArn, f.claim, {
              finishedAt: new Date(finishedAt).toISOString(),
            });
          later(
            [f.target],
            `SSM command ${f.commandId} succeeded; the ECS agent has not reconnected yet`,
            CONTINUE_AFTER_SECONDS.reconnect,
            limit,
          );
        } else {
          await fail(
            f.target,
            f.claim,
            `the agent did not reconnect to ECS within ${settings.verifySeconds} s of its command's end`,
          );
        }
      }
      await recordRestarts(
        clients,
        clusterArn,
        restarted.map((f) => f.target.containerInstanceArn),
        new Date().toISOString(),
      );
      for (const f of restarted) {
        const how =
          sender.kind === 'document'
            ? `${f.commandId}: ${documentOf(sender, f.target.method)} (method ${f.target.method})`
            : `${f.commandId}: ${RESTART_COMMANDS[f.target.method].commands.join('; ')}`;
        set(
          f.target,
          'restarted',
          f.resumed ? `verified the restart of an earlier run's command ${how}` : how,
        );
        if (claims) {
          if (f.claim) await claims.update(region, clusterArn, f.claim, { status: 'done' });
          if ((failures.get(f.target.ec2InstanceId) ?? 0) > 0)
            await claims.clearFailures(region, clusterArn, f.target.ec2InstanceId);
        }
      }
      const failed = wave.filter((t) => outcomes.get(t.ec2InstanceId)?.outcome === 'failed');
      const waiting = wave.filter((t) => underWay.has(t.ec2InstanceId));
      onProgress?.(
        `restart ${waveName}: ${restarted.length}/${wave.length} restarted${waiting.length > 0 ? `, ${waiting.length} under way` : ''}`,
      );
      // A failed wave holds back this cluster only; the run's other clusters go on. A wave under way
      // holds back the cluster's next waves until a later invocation sees it through.
      if (failed.length > 0) clusterHalted = `wave ${index + 1} of ${action.id} failed`;
      else if (waiting.length > 0) clusterWaiting = `wave ${index + 1} of ${action.id}`;
    }
  } catch (error) {
    // An AWS error mid-rollout halts the run's other restarts too; what this one did is still reported.
    const why = `${errorName(error)}: ${errorMessage(error)}`;
    rollout.halted = `${action.id} stopped by an error`;
    for (const t of current)
      if (!outcomes.has(t.ec2InstanceId)) set(t, 'failed', `the rollout stopped by an error: ${why}`);
    skip(allowed, `not attempted: the rollout stopped by an error: ${why}`);
    return finish(`stopped by an error: ${why}`);
  } finally {
    // Give back what this action reserved but did not restart.
    rollout.restarts -= allowed.filter((t) => outcomes.get(t.ec2InstanceId)?.outcome !== 'restarted').length;
  }
  return finish(clusterHalted ?? rollout.halted ?? (clusterWaiting ? `${clusterWaiting} is under way` : ''));
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
