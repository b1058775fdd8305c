/**
 * A model of AWS applying a plan to the discovered state: what the next discovery would see after
 * `apply` ran the plan's `planned` actions. It is strict where AWS is (one subnet per AZ, private DNS
 * needs the VPC's DNS attributes, unknown ids fail) and where the plan's contract is (an action runs
 * only after each action it depends on), so a planner mistake shows as a thrown {@link SimulationError}.
 */
import type { Action, GroupRef } from '../../core/actions.ts';
import type { ContainerInstance, RegionSnapshot, SecurityGroup, Vpc, VpcEndpoint } from '../../core/model.ts';
import { RESTARTED_AT_ATTRIBUTE } from '../../core/restarts.ts';
import type { Plan } from '../../core/plan.ts';

export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

interface RegionState {
  region: string;
  vpcs: Vpc[];
  endpoints: VpcEndpoint[];
  securityGroups: SecurityGroup[];
  containerInstances: ContainerInstance[];
  snapshot: RegionSnapshot;
}

function httpsRule(cidrs: readonly string[]): SecurityGroup['ingress'][number] {
  return { protocol: 'tcp', fromPort: 443, toPort: 443, cidrs: [...cidrs], sourceGroupIds: [] };
}

/** Applies the plan's `planned` actions, in plan order, to the snapshots; returns one snapshot per Region. */
export function applyPlan(
  snapshots: RegionSnapshot | readonly RegionSnapshot[],
  plan: Plan,
): RegionSnapshot[] {
  const list: readonly RegionSnapshot[] = Array.isArray(snapshots)
    ? (snapshots as readonly RegionSnapshot[])
    : [snapshots as RegionSnapshot];
  const states = new Map<string, RegionState>(
    list.map((snapshot) => [
      snapshot.region,
      {
        region: snapshot.region,
        vpcs: [...snapshot.vpcs],
        endpoints: [...snapshot.endpoints],
        securityGroups: [...snapshot.securityGroups],
        containerInstances: [...snapshot.containerInstances],
        snapshot,
      },
    ]),
  );
  const applied = new Set<string>();
  const createdGroups = new Map<string, string>(); // CREATE_SECURITY_GROUP action id → group id
  // New ids never repeat one the snapshots already hold (e.g. from an earlier applyPlan).
  const taken = new Set(
    list.flatMap((snapshot) => [
      ...snapshot.endpoints.map((endpoint) => endpoint.vpcEndpointId),
      ...snapshot.securityGroups.map((group) => group.groupId),
    ]),
  );
  let counter = 0;
  const newId = (prefix: string): string => {
    let id: string;
    do {
      counter += 1;
      id = `${prefix}-5${counter.toString(16).padStart(7, '0')}`;
    } while (taken.has(id));
    taken.add(id);
    return id;
  };

  for (const action of plan.actions) {
    if (action.status !== 'planned') continue;
    for (const dependency of action.dependsOn) {
      if (!applied.has(dependency)) {
        throw new SimulationError(`${action.id} runs before ${dependency}, which it depends on, was applied`);
      }
    }
    const state = states.get(action.region);
    if (!state) throw new SimulationError(`${action.id}: no snapshot of ${action.region}`);
    apply(state, action, { now: plan.generatedAt, createdGroups, newId });
    applied.add(action.id);
  }

  return list.map((snapshot) => {
    const state = states.get(snapshot.region);
    if (!state) return snapshot;
    return structuredClone({
      ...snapshot,
      vpcs: state.vpcs,
      endpoints: state.endpoints,
      securityGroups: state.securityGroups,
      containerInstances: state.containerInstances,
    });
  });
}

interface Context {
  /** When the plan runs: restarts and updates happen at this time. */
  readonly now: string;
  readonly createdGroups: Map<string, string>;
  readonly newId: (prefix: string) => string;
}

function apply(state: RegionState, action: Action, context: Context): void {
  const vpc = state.vpcs.find((candidate) => candidate.vpcId === action.vpcId);
  if (!vpc) throw new SimulationError(`${action.id}: InvalidVpcID.NotFound ${action.vpcId}`);
  switch (action.kind) {
    case 'ENABLE_VPC_DNS': {
      let dns = vpc.dns ?? { support: false, hostnames: false, dhcpDnsServers: ['AmazonProvidedDNS'] };
      for (const attribute of action.attributes) {
        if (attribute === 'enableDnsHostnames') {
          if (!dns.support)
            throw new SimulationError(`${action.id}: enableDnsHostnames needs enableDnsSupport first`);
          dns = { ...dns, hostnames: true };
        } else {
          dns = { ...dns, support: true };
        }
      }
      replaceVpc(state, { ...vpc, dns });
      return;
    }
    case 'CREATE_SECURITY_GROUP': {
      if (
        state.securityGroups.some(
          (group) => group.vpcId === vpc.vpcId && group.groupName === action.groupName,
        )
      ) {
        throw new SimulationError(`${action.id}: InvalidGroup.Duplicate ${action.groupName} in ${vpc.vpcId}`);
      }
      const groupId = context.newId('sg');
      state.securityGroups.push({
        groupId,
        vpcId: vpc.vpcId,
        groupName: action.groupName,
        tags: { ...action.tags },
        ingress: action.ingressCidrs.length > 0 ? [httpsRule(action.ingressCidrs)] : [],
      });
      context.createdGroups.set(action.id, groupId);
      return;
    }
    case 'AUTHORIZE_SECURITY_GROUP_INGRESS': {
      const group = groupIn(state, vpc, action.groupId, action.id);
      replaceGroup(state, { ...group, ingress: [...group.ingress, httpsRule(action.ingressCidrs)] });
      return;
    }
    case 'CREATE_ENDPOINT': {
      requireOffered(state, action.serviceName, 'Interface', action.id);
      requireOnePerAz(state, vpc, action.subnetIds, action.subnetIds, action.serviceName, action.id);
      requireVpcDns(vpc, action.id); // privateDnsEnabled is always true
      const groups = action.securityGroups.map((ref) => resolveGroup(state, vpc, ref, context, action.id));
      state.endpoints.push({
        vpcEndpointId: context.newId('vpce'),
        vpcId: vpc.vpcId,
        serviceName: action.serviceName,
        type: 'Interface',
        state: 'available',
        privateDnsEnabled: action.privateDnsEnabled,
        subnetIds: [...action.subnetIds],
        securityGroupIds: groups,
        routeTableIds: [],
        tags: { ...action.tags },
      });
      return;
    }
    case 'CREATE_GATEWAY_ENDPOINT': {
      requireOffered(state, action.serviceName, 'Gateway', action.id);
      for (const id of action.routeTableIds) {
        if (
          !state.snapshot.routeTables.some((table) => table.routeTableId === id && table.vpcId === vpc.vpcId)
        ) {
          throw new SimulationError(`${action.id}: InvalidRouteTableId.NotFound ${id}`);
        }
      }
      state.endpoints.push({
        vpcEndpointId: context.newId('vpce'),
        vpcId: vpc.vpcId,
        serviceName: action.serviceName,
        type: 'Gateway',
        state: 'available',
        privateDnsEnabled: false,
        subnetIds: [],
        securityGroupIds: [],
        routeTableIds: [...action.routeTableIds],
        tags: { ...action.tags },
      });
      return;
    }
    case 'MODIFY_ENDPOINT': {
      const endpoint = endpointIn(state, vpc, action.vpcEndpointId, action.id);
      const subnetIds = [...endpoint.subnetIds, ...action.addSubnetIds];
      if (action.addSubnetIds.length > 0) {
        requireOnePerAz(state, vpc, subnetIds, action.addSubnetIds, endpoint.serviceName, action.id);
      }
      if (action.enablePrivateDns) requireVpcDns(vpc, action.id);
      const groups = action.addSecurityGroups.map((ref) => resolveGroup(state, vpc, ref, context, action.id));
      replaceEndpoint(state, {
        ...endpoint,
        // ResetPolicy restores the default full-access policy.
        ...(action.resetPolicy ? { policyDocument: undefined } : {}),
        subnetIds,
        securityGroupIds: [...new Set([...endpoint.securityGroupIds, ...groups])],
        privateDnsEnabled: endpoint.privateDnsEnabled || action.enablePrivateDns,
        routeTableIds: [...new Set([...endpoint.routeTableIds, ...action.addRouteTableIds])],
      });
      return;
    }
    case 'DELETE_ENDPOINT': {
      endpointIn(state, vpc, action.vpcEndpointId, action.id);
      // Discovery lists endpoints in every state but `deleted`: a deleted endpoint disappears.
      state.endpoints = state.endpoints.filter((endpoint) => endpoint.vpcEndpointId !== action.vpcEndpointId);
      return;
    }
    case 'RESTART_AGENT': {
      // The agent restarts and the remediator records it on the container instance.
      const restarted = new Set(action.instances.map((target) => target.containerInstanceArn));
      state.containerInstances = state.containerInstances.map((ci) =>
        restarted.has(ci.containerInstanceArn)
          ? { ...ci, attributes: { ...ci.attributes, [RESTARTED_AT_ATTRIBUTE]: context.now } }
          : ci,
      );
      return;
    }
    case 'UPDATE_AGENT': {
      state.containerInstances = state.containerInstances.map((ci) =>
        ci.containerInstanceArn === action.containerInstanceArn ? { ...ci, agentVersion: '1.90.0' } : ci,
      );
      return;
    }
    default: {
      const unknown: never = action;
      throw new SimulationError(`unknown action ${JSON.stringify(unknown)}`);
    }
  }
}

function replaceVpc(state: RegionState, vpc: Vpc): void {
  state.vpcs = state.vpcs.map((candidate) => (candidate.vpcId === vpc.vpcId ? vpc : candidate));
}

function replaceGroup(state: RegionState, group: SecurityGroup): void {
  state.securityGroups = state.securityGroups.map((candidate) =>
    candidate.groupId === group.groupId ? group : candidate,
  );
}

function replaceEndpoint(state: RegionState, endpoint: VpcEndpoint): void {
  state.endpoints = state.endpoints.map((candidate) =>
    candidate.vpcEndpointId === endpoint.vpcEndpointId ? endpoint : candidate,
  );
}

function groupIn(state: RegionState, vpc: Vpc, groupId: string, actionId: string): SecurityGroup {
  const group = state.securityGroups.find((candidate) => candidate.groupId === groupId);
  if (!group) throw new SimulationError(`${actionId}: InvalidGroup.NotFound ${groupId}`);
  if (group.vpcId !== vpc.vpcId)
    throw new SimulationError(`${actionId}: ${groupId} belongs to ${group.vpcId}, not ${vpc.vpcId}`);
  return group;
}

function endpointIn(state: RegionState, vpc: Vpc, vpcEndpointId: string, actionId: string): VpcEndpoint {
  const endpoint = state.endpoints.find((candidate) => candidate.vpcEndpointId === vpcEndpointId);
  if (endpoint?.vpcId !== vpc.vpcId) {
    throw new SimulationError(`${actionId}: InvalidVpcEndpointId.NotFound ${vpcEndpointId} in ${vpc.vpcId}`);
  }
  return endpoint;
}

function resolveGroup(
  state: RegionState,
  vpc: Vpc,
  ref: GroupRef,
  context: Context,
  actionId: string,
): string {
  const groupId = 'groupId' in ref ? ref.groupId : context.createdGroups.get(ref.createdBy);
  if (groupId === undefined) {
    throw new SimulationError(
      `${actionId}: refers to the group of ${'createdBy' in ref ? ref.createdBy : '?'}, not created`,
    );
  }
  return groupIn(state, vpc, groupId, actionId).groupId;
}

function requireOffered(state: RegionState, serviceName: string, type: string, actionId: string): void {
  const offer = state.snapshot.endpointServices.find((candidate) => candidate.serviceName === serviceName);
  if (!offer?.types.includes(type)) {
    throw new SimulationError(`${actionId}: InvalidServiceName ${serviceName} (${type}) in ${state.region}`);
  }
}

function requireOnePerAz(
  state: RegionState,
  vpc: Vpc,
  subnetIds: readonly string[],
  added: readonly string[],
  serviceName: string,
  actionId: string,
): void {
  const offer = state.snapshot.endpointServices.find((candidate) => candidate.serviceName === serviceName);
  const seen = new Set<string>();
  for (const subnetId of subnetIds) {
    const subnet = state.snapshot.subnets.find((candidate) => candidate.subnetId === subnetId);
    if (subnet?.vpcId !== vpc.vpcId)
      throw new SimulationError(`${actionId}: InvalidSubnet ${subnetId} in ${vpc.vpcId}`);
    if (seen.has(subnet.availabilityZone)) {
      throw new SimulationError(`${actionId}: DuplicateSubnetsInSameZone ${subnet.availabilityZone}`);
    }
    if (added.includes(subnetId) && offer && !offer.availabilityZones.includes(subnet.availabilityZone)) {
      throw new SimulationError(`${actionId}: ${serviceName} is not offered in ${subnet.availabilityZone}`);
    }
    seen.add(subnet.availabilityZone);
  }
}

function requireVpcDns(vpc: Vpc, actionId: string): void {
  if (vpc.dns && !(vpc.dns.support && vpc.dns.hostnames)) {
    throw new SimulationError(
      `${actionId}: InvalidParameter: private DNS needs enableDnsSupport and enableDnsHostnames on ${vpc.vpcId}`,
    );
  }
}
