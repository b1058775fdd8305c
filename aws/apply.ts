/**
 * Executes a plan against AWS. Each VPC's actions run in plan order (dependencies are within a
 * VPC); VPCs run concurrently. Every step re-reads before it writes, so a retry, a second apply or a
 * concurrent apply converges instead of duplicating: what is already there is `already-satisfied`.
 * One failure stops only the actions that depend on it.
 */
import type { Filter } from '@aws-sdk/client-ec2';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  ModifyVpcAttributeCommand,
  ModifyVpcEndpointCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, VpcEndpoint as SdkVpcEndpoint } from '@aws-sdk/client-ec2';
import type {
  Action,
  CreateEndpointAction,
  CreateGatewayEndpointAction,
  CreateSecurityGroupAction,
  DeleteEndpointAction,
  EnableVpcDnsAction,
  GroupRef,
  ModifyEndpointAction,
} from '../core/actions.ts';
import { isManaged } from '../core/actions.ts';
import { isIpv6Cidr } from '../core/network.ts';
import { defaultConfig } from '../core/config.ts';
import type { Plan, PlannedAction } from '../core/plan.ts';
import type { ActionResult } from '../core/report.ts';
import type { AwsClients } from './clients.ts';
import { fnv1a64 } from '../core/hash.ts';
import { errorMessage, errorName } from './errors.ts';
import type { CreateAction, CreationRecorder } from './ownership.ts';
import type { RestartSettings, Rollout } from './restart.ts';
import { restartAgents, updateAgent } from './restart.ts';

/** What the actions of one apply share: restart settings and the rollout's cap and halt. */
interface RunState {
  readonly restartSettings: RestartSettings;
  readonly rollout: Rollout;
  readonly onProgress: ((message: string) => void) | undefined;
  readonly recorder: CreationRecorder | undefined;
}

export interface ApplyOptions {
  /** Agent restart settings (the config's `agentRestart`); default: the config defaults. */
  readonly agentRestart?: RestartSettings;
  /** VPCs changed at once. */
  readonly concurrency?: number;
  readonly onProgress?: (message: string) => void;
  /**
   * The deployed remediator's ownership records (aws/ownership.ts): each create is recorded as it
   * completes, and a group found by name is used only when recorded. Absent (the CLI): tags alone.
   */
  readonly recorder?: CreationRecorder;
  /**
   * Agent restarts in steps of at most this many seconds (the deployed reconciler): what is not done
   * then is continued by a later invocation (aws/restart.ts; ActionResult.continueAfterSeconds).
   * Absent (the CLI): restarts wait until done.
   */
  readonly restartStepSeconds?: number;
}

/** Applies the plan's `planned` actions; deferred ones are reported as skipped. */
export async function applyPlan(
  plan: Plan,
  clientsFor: (region: string) => AwsClients,
  options: ApplyOptions = {},
): Promise<ActionResult[]> {
  const groups = new Map<string, PlannedAction[]>();
  for (const action of plan.actions) {
    const key = `${action.region}/${action.vpcId}`;
    groups.set(key, [...(groups.get(key) ?? []), action]);
  }
  const queue = [...groups.values()];
  const results = new Map<string, ActionResult>();
  const run: RunState = {
    restartSettings: options.agentRestart ?? defaultConfig.agentRestart,
    rollout: {
      restarts: 0,
      ...(options.restartStepSeconds === undefined ? {} : { stepSeconds: options.restartStepSeconds }),
    },
    onProgress: options.onProgress,
    recorder: options.recorder,
  };
  const worker = async (): Promise<void> => {
    for (let actions = queue.shift(); actions; actions = queue.shift()) {
      for (const result of await applyVpc(actions, clientsFor, run)) results.set(result.actionId, result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return plan.actions.flatMap((action) => results.get(action.id) ?? []);
}

async function applyVpc(
  actions: readonly PlannedAction[],
  clientsFor: (region: string) => AwsClients,
  run: RunState,
): Promise<ActionResult[]> {
  const results = new Map<string, ActionResult>();
  const resolveGroup = (ref: GroupRef): string => {
    if ('groupId' in ref) return ref.groupId;
    const groupId = results.get(ref.createdBy)?.resourceId;
    if (!groupId) throw new Error(`security group of ${ref.createdBy} is unknown`);
    return groupId;
  };
  for (const action of actions) {
    const base = {
      actionId: action.id,
      accountId: action.accountId,
      kind: action.kind,
      region: action.region,
      vpcId: action.vpcId,
    };
    const blocker = action.dependsOn.find((id) => {
      const outcome = results.get(id)?.outcome;
      return outcome !== 'succeeded' && outcome !== 'already-satisfied';
    });
    let result: ActionResult;
    if (action.status === 'deferred') {
      result = { ...base, outcome: 'skipped', message: `deferred: ${action.deferredReason ?? ''}` };
    } else if (blocker !== undefined) {
      result = { ...base, outcome: 'skipped', message: `not attempted: ${blocker} did not succeed` };
    } else {
      try {
        result = {
          ...base,
          ...(await executeRecorded(clientsFor(action.region), action, resolveGroup, run)),
        };
      } catch (error) {
        result = { ...base, outcome: 'failed', message: `${errorName(error)}: ${errorMessage(error)}` };
      }
    }
    results.set(action.id, result);
    run.onProgress?.(
      `${result.outcome.padEnd(17)} ${action.id}${result.resourceId ? ` → ${result.resourceId}` : ''}`,
    );
  }
  return [...results.values()];
}

type Execution = Pick<
  ActionResult,
  'outcome' | 'message' | 'resourceId' | 'instances' | 'continueAfterSeconds'
>;

function execute(
  clients: AwsClients,
  action: Action,
  resolveGroup: (ref: GroupRef) => string,
  run: RunState,
): Promise<Execution> {
  const { ec2 } = clients;
  switch (action.kind) {
    case 'RESTART_AGENT':
      return restartAgents(clients, action, run.restartSettings, run.rollout, run.onProgress);
    case 'UPDATE_AGENT':
      return updateAgent(clients, action).then((done) => ({ ...done, resourceId: action.ec2InstanceId }));
    case 'ENABLE_VPC_DNS':
      return enableVpcDns(ec2, action);
    case 'CREATE_SECURITY_GROUP':
      return createSecurityGroup(ec2, action, run.recorder);
    case 'AUTHORIZE_SECURITY_GROUP_INGRESS':
      return authorizeHttps(ec2, action.groupId, action.ingressCidrs).then((added) => ({
        outcome: added > 0 ? 'succeeded' : 'already-satisfied',
        resourceId: action.groupId,
        message: `allowed TCP 443 from ${action.ingressCidrs.join(', ')}`,
      }));
    case 'CREATE_ENDPOINT':
      return createEndpoint(ec2, action, action.securityGroups.map(resolveGroup));
    case 'CREATE_GATEWAY_ENDPOINT':
      return createEndpoint(ec2, action, []);
    case 'MODIFY_ENDPOINT':
      return modifyEndpoint(ec2, action, action.addSecurityGroups.map(resolveGroup));
    case 'DELETE_ENDPOINT':
      return deleteEndpoint(ec2, action, run.recorder);
  }
}

function isCreate(action: Action): action is CreateAction {
  return (
    action.kind === 'CREATE_SECURITY_GROUP' ||
    action.kind === 'CREATE_ENDPOINT' ||
    action.kind === 'CREATE_GATEWAY_ENDPOINT'
  );
}

/**
 * {@link execute}, with a create's intent written before it and its resource recorded right after it,
 * before the next action (aws/ownership.ts). A create whose record cannot be written fails: the
 * resource exists, and the intent left behind makes the next reconcile record it.
 */
async function executeRecorded(
  clients: AwsClients,
  action: Action,
  resolveGroup: (ref: GroupRef) => string,
  run: RunState,
): Promise<Execution> {
  const { recorder } = run;
  if (!recorder || !isCreate(action)) return execute(clients, action, resolveGroup, run);
  const groupIds = action.kind === 'CREATE_ENDPOINT' ? action.securityGroups.map(resolveGroup) : [];
  const sent = await recorder.beforeCreate(action, groupIds);
  const done = await execute(clients, sent, resolveGroup, run);
  if (done.outcome !== 'succeeded' && done.outcome !== 'already-satisfied') return done;
  try {
    await recorder.afterCreate(sent, done.outcome, done.resourceId);
  } catch (error) {
    return {
      ...done,
      outcome: 'failed',
      message: `${done.message}; not recorded as the remediator's (${errorName(error)}: ${errorMessage(error)}): the next reconcile records it`,
    };
  }
  return done;
}

async function enableVpcDns(ec2: EC2Client, action: EnableVpcDnsAction): Promise<Execution> {
  // One attribute per call (an API rule), support before hostnames (hostnames need support).
  for (const attribute of action.attributes) {
    const input =
      attribute === 'enableDnsSupport'
        ? { EnableDnsSupport: { Value: true } }
        : { EnableDnsHostnames: { Value: true } };
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: action.vpcId, ...input }));
  }
  return {
    outcome: 'succeeded',
    resourceId: action.vpcId,
    message: `turned on ${action.attributes.join(', ')}`,
  };
}

async function createSecurityGroup(
  ec2: EC2Client,
  action: CreateSecurityGroupAction,
  recorder: CreationRecorder | undefined,
): Promise<Execution> {
  const findExisting = async (): Promise<string | undefined> => {
    const filters: Filter[] = [
      { Name: 'vpc-id', Values: [action.vpcId] },
      { Name: 'group-name', Values: [action.groupName] },
    ];
    const found = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters })))
      .SecurityGroups?.[0];
    if (!found?.GroupId) return undefined;
    const tags = Object.fromEntries((found.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    if (!isManaged(tags)) {
      throw new Error(
        `security group ${found.GroupId} is named ${action.groupName} but is not the remediator's (no managed tag)`,
      );
    }
    if (recorder && !recorder.owns(found.GroupId)) {
      // Made since the plan, by someone who could copy the tag: neither used nor given rules.
      throw new Error(
        `security group ${found.GroupId} is named ${action.groupName} and tagged as managed, but the remediator has no record of creating it: not used`,
      );
    }
    return found.GroupId;
  };
  let groupId = await findExisting();
  let outcome: ActionResult['outcome'] = 'already-satisfied';
  if (!groupId) {
    try {
      const created = await ec2.send(
        new CreateSecurityGroupCommand({
          VpcId: action.vpcId,
          GroupName: action.groupName,
          Description: action.description,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: tagList(action.tags) }],
        }),
      );
      groupId = created.GroupId;
      outcome = 'succeeded';
    } catch (error) {
      // A concurrent apply made it first: use theirs.
      if (errorName(error) !== 'InvalidGroup.Duplicate') throw error;
      groupId = await findExisting();
    }
  }
  if (!groupId) throw new Error('CreateSecurityGroup returned no group id');
  const added = await authorizeHttps(ec2, groupId, action.ingressCidrs);
  return {
    outcome: outcome === 'succeeded' || added > 0 ? 'succeeded' : 'already-satisfied',
    resourceId: groupId,
    message: `security group ${groupId} allows TCP 443 from ${action.ingressCidrs.join(', ')}`,
  };
}

const RULE_DESCRIPTION = 'ECS workload subnet (ecs-endpoint-remediator)';

/** Allows TCP 443 from each CIDR (IPv4 or IPv6); rules that already exist are kept. Returns how many were added. */
async function authorizeHttps(ec2: EC2Client, groupId: string, cidrs: readonly string[]): Promise<number> {
  const authorize = (ranges: readonly string[]) =>
    ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            ...(ranges.some((cidr) => !isIpv6Cidr(cidr))
              ? {
                  IpRanges: ranges
                    .filter((cidr) => !isIpv6Cidr(cidr))
                    .map((cidr) => ({ CidrIp: cidr, Description: RULE_DESCRIPTION })),
                }
              : {}),
            ...(ranges.some(isIpv6Cidr)
              ? {
                  Ipv6Ranges: ranges
                    .filter(isIpv6Cidr)
                    .map((cidr) => ({ CidrIpv6: cidr, Description: RULE_DESCRIPTION })),
                }
              : {}),
          },
        ],
      }),
    );
  if (cidrs.length === 0) return 0;
  try {
    await authorize(cidrs);
    return cidrs.length;
  } catch (error) {
    // AWS refuses the whole call when any rule exists already: add the others one by one.
    if (errorName(error) !== 'InvalidPermission.Duplicate') throw error;
  }
  let added = 0;
  for (const cidr of cidrs) {
    try {
      await authorize([cidr]);
      added += 1;
    } catch (error) {
      if (errorName(error) !== 'InvalidPermission.Duplicate') throw error;
    }
  }
  return added;
}

async function liveEndpoints(
  ec2: EC2Client,
  vpcId: string,
  serviceName: string,
  type: string,
): Promise<SdkVpcEndpoint[]> {
  const response = await ec2.send(
    new DescribeVpcEndpointsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'service-name', Values: [serviceName] },
        { Name: 'vpc-endpoint-type', Values: [type] },
      ],
    }),
  );
  return (response.VpcEndpoints ?? []).filter((endpoint) => isLive(endpoint.State));
}

/** States compared case-insensitively: real responses are lower-case, the SDK enum is capitalised. */
function isLive(state: string | undefined): boolean {
  const normalised = (state ?? '').toLowerCase();
  return (
    normalised !== 'deleted' &&
    normalised !== 'deleting' &&
    normalised !== 'failed' &&
    normalised !== 'rejected'
  );
}

/** An endpoint its token returns created this long before our request is another run's. */
const REPLAY_MARGIN_MS = 2000;

/** How many deleted endpoints a creation steps over before it gives up (each replay is one call). */
const MAX_TOKEN_REPLAYS = 5;

/** AWS's refusals that mean "an equivalent endpoint exists already" (a concurrent apply won the race). */
function isConflict(error: unknown): boolean {
  return errorName(error) === 'RouteAlreadyExists' || /conflicting DNS domain/i.test(errorMessage(error));
}

async function createEndpoint(
  ec2: EC2Client,
  action: CreateEndpointAction | CreateGatewayEndpointAction,
  securityGroupIds: readonly string[],
): Promise<Execution> {
  const type = action.kind === 'CREATE_ENDPOINT' ? 'Interface' : 'Gateway';
  const existing = await liveEndpoints(ec2, action.vpcId, action.serviceName, type);
  if (existing[0]?.VpcEndpointId) {
    return {
      outcome: 'already-satisfied',
      resourceId: existing[0].VpcEndpointId,
      message: `${action.serviceName} exists`,
    };
  }
  const send = (clientToken: string) =>
    ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: type,
        VpcId: action.vpcId,
        ServiceName: action.serviceName,
        ClientToken: clientToken,
        TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: tagList(action.tags) }],
        ...(action.kind === 'CREATE_ENDPOINT'
          ? {
              SubnetIds: [...action.subnetIds],
              SecurityGroupIds: [...securityGroupIds],
              PrivateDnsEnabled: true,
              ...(action.ipAddressType === undefined
                ? {}
                : {
                    IpAddressType: action.ipAddressType,
                    DnsOptions: { DnsRecordIpType: action.ipAddressType },
                  }),
            }
          : { RouteTableIds: [...action.routeTableIds] }),
      }),
    );
  // Before our first request: an endpoint the token returns that is older was made by another run.
  const requestedAt = Date.now();
  try {
    let token = action.clientToken;
    for (let replay = 0; replay <= MAX_TOKEN_REPLAYS; replay += 1) {
      const endpoint = (await send(token)).VpcEndpoint;
      if (!endpoint?.VpcEndpointId) throw new Error('CreateVpcEndpoint returned no endpoint');
      if (isLive(endpoint.State)) {
        // A replayed token: a concurrent apply with the same plan created it first. The margin covers
        // a creation time in whole seconds and some clock skew; a mislabel changes only the outcome's
        // name (the endpoint is the same either way).
        const created = endpoint.CreationTimestamp?.getTime();
        if (created !== undefined && created < requestedAt - REPLAY_MARGIN_MS) {
          return {
            outcome: 'already-satisfied',
            resourceId: endpoint.VpcEndpointId,
            message: `${action.serviceName} was created by another run (its client token was replayed)`,
          };
        }
        return {
          outcome: 'succeeded',
          resourceId: endpoint.VpcEndpointId,
          message: `created ${action.serviceName}`,
        };
      }
      // AWS answered with the endpoint this token made earlier, deleted since (someone removed what
      // we created within the token's window). The next token derives from that endpoint's id, so
      // concurrent applies still agree on it.
      token = `eer-${fnv1a64(`${token}|${endpoint.VpcEndpointId}`)}`;
    }
    throw new Error(`client tokens of ${action.serviceName} kept returning deleted endpoints`);
  } catch (error) {
    // The same token with other parameters: a concurrent apply of another plan (its subnets or
    // groups differ) created the endpoint first.
    const mismatch = errorName(error) === 'IdempotentParameterMismatch';
    if (!isConflict(error) && !mismatch) throw error;
    const winner = (await liveEndpoints(ec2, action.vpcId, action.serviceName, type))[0]?.VpcEndpointId;
    if (!winner) throw error;
    return {
      outcome: 'already-satisfied',
      resourceId: winner,
      message: mismatch
        ? `${action.serviceName} was created by another run (IdempotentParameterMismatch)`
        : `${action.serviceName} was created concurrently`,
    };
  }
}

async function modifyEndpoint(
  ec2: EC2Client,
  action: ModifyEndpointAction,
  addGroupIds: readonly string[],
): Promise<Execution> {
  const current = (
    await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [action.vpcEndpointId] }))
  ).VpcEndpoints?.[0];
  if (!current || !isLive(current.State)) throw new Error(`${action.vpcEndpointId} no longer exists`);
  // Only what is still missing: a repeated apply sends nothing.
  const subnets = action.addSubnetIds.filter((id) => !(current.SubnetIds ?? []).includes(id));
  const groups = addGroupIds.filter((id) => !(current.Groups ?? []).some((group) => group.GroupId === id));
  const routeTables = action.addRouteTableIds.filter((id) => !(current.RouteTableIds ?? []).includes(id));
  const privateDns = action.enablePrivateDns && current.PrivateDnsEnabled !== true;
  // ResetPolicy is idempotent: sent whenever asked for.
  const resetPolicy = action.resetPolicy === true;
  if (subnets.length + groups.length + routeTables.length === 0 && !privateDns && !resetPolicy) {
    return {
      outcome: 'already-satisfied',
      resourceId: action.vpcEndpointId,
      message: 'nothing left to change',
    };
  }
  await ec2.send(
    new ModifyVpcEndpointCommand({
      VpcEndpointId: action.vpcEndpointId,
      ...(subnets.length > 0 ? { AddSubnetIds: subnets } : {}),
      ...(groups.length > 0 ? { AddSecurityGroupIds: groups } : {}),
      ...(routeTables.length > 0 ? { AddRouteTableIds: routeTables } : {}),
      ...(privateDns ? { PrivateDnsEnabled: true } : {}),
      ...(resetPolicy ? { ResetPolicy: true } : {}),
    }),
  );
  return { outcome: 'succeeded', resourceId: action.vpcEndpointId, message: action.summary };
}

/**
 * Deletes the endpoint unless it is gone or now serves another service. A reclaim (an unneeded owned
 * endpoint) is deleted only if, read right before, it still carries the managed tag and (with the
 * deployed remediator's records) is still recorded as its own: someone may have taken it over since
 * the plan was made. The role's policy refuses the delete without the tag anyway (serverless.yml).
 */
async function deleteEndpoint(
  ec2: EC2Client,
  action: DeleteEndpointAction,
  recorder: CreationRecorder | undefined,
): Promise<Execution> {
  const current = (
    await ec2.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'vpc-endpoint-id', Values: [action.vpcEndpointId] }],
      }),
    )
  ).VpcEndpoints?.[0];
  if (!current || !isLive(current.State)) {
    return { outcome: 'already-satisfied', resourceId: action.vpcEndpointId, message: 'already deleted' };
  }
  if (current.ServiceName !== action.serviceName) {
    throw new Error(
      `${action.vpcEndpointId} now serves ${current.ServiceName ?? '?'}, not ${action.serviceName}: not deleted`,
    );
  }
  if (action.reclaim) {
    const tags = Object.fromEntries((current.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    if (!isManaged(tags) || (recorder !== undefined && !recorder.owns(action.vpcEndpointId)))
      throw new Error(
        `${action.vpcEndpointId} is no longer the remediator's (managed tag or record gone): not deleted`,
      );
  }
  const response = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [action.vpcEndpointId] }));
  // DeleteVpcEndpoints reports per-endpoint failures in Unsuccessful[] rather than failing the call.
  const failure = response.Unsuccessful?.[0]?.Error;
  if (failure) throw new Error(`${failure.Code ?? 'Error'}: ${failure.Message ?? ''}`);
  return { outcome: 'succeeded', resourceId: action.vpcEndpointId, message: `deleted ${action.serviceName}` };
}

function tagList(tags: Readonly<Record<string, string>>): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
