/**
 * What the planner does with each kind of remedy: one handler per kind, registered in
 * {@link REMEDY_HANDLERS} (exhaustive: a new remedy kind does not compile without its handler).
 * A handler either adds actions to the VPC's plan and settles the finding as `planned`, or settles
 * it with the reason nothing is done (config, a blocker, a manual fix).
 */
import type { DraftFinding, Remedy } from './context.ts';
import { endpointPlacement } from './context.ts';
import { ownedTags } from './actions.ts';
import type { ModifyDraft, VpcPlanBuilder } from './planner.ts';
import { notRecordedReason } from './planner.ts';
import { daysSince } from './reclaim.ts';
import { canUpdateAgent, cutoffTag } from './restarts.ts';
import { ECS_AGENT_SERVICES, serviceNameOf } from './services.ts';
import { resourceName } from './workloads.ts';

type Handler<K extends Remedy['kind']> = (
  plan: VpcPlanBuilder,
  draft: DraftFinding,
  remedy: Extract<Remedy, { kind: K }>,
) => void;

const manual: Handler<'manual'> = (plan, draft, remedy) => {
  plan.settle(draft, plan.manual(remedy.hint));
};

/** Turning VPC DNS on changes resolution for the whole VPC: only when the config says so. */
const enableVpcDns: Handler<'enable-vpc-dns'> = (plan, draft, remedy) => {
  if (!plan.config.remediation.enableVpcDnsAttributes) {
    plan.settle(
      draft,
      plan.disabled('remediation.enableVpcDnsAttributes is false (it changes DNS for the whole VPC)'),
    );
    return;
  }
  const id = plan.idOf('ENABLE_VPC_DNS', 'dns');
  plan.enableDns = {
    kind: 'ENABLE_VPC_DNS',
    id,
    region: plan.region,
    vpcId: plan.vpcId,
    fixes: [],
    dependsOn: [],
    summary: `turn on ${remedy.attributes.join(' and ')}`,
    attributes: remedy.attributes,
  };
  plan.dnsReady = true;
  plan.settle(draft, { actionId: id });
};

/**
 * One subnet per AZ the service's callers use and the service offers; private DNS on; the managed
 * group; an IP address type the callers and subnets allow (core/context.ts `endpointPlacement`).
 */
const createInterface: Handler<'create-interface'> = (plan, draft, remedy) => {
  if (!plan.dnsReady) {
    plan.settle(draft, plan.dnsBlocked);
    return;
  }
  const serviceName = serviceNameOf(plan.region, remedy.service);
  const placement = endpointPlacement(plan.context, remedy.service);
  if (placement.subnetIds.length === 0) {
    plan.settle(
      draft,
      plan.manual(placement.impossible ?? `${serviceName} is not offered in any AZ where ECS runs`),
    );
    return;
  }
  const unavailable = plan.groupUnavailable;
  if (unavailable) {
    plan.settle(draft, unavailable);
    return;
  }
  const { subnetIds, ipAddressType } = placement;
  const id = plan.idOf('CREATE_ENDPOINT', remedy.service);
  const group = plan.groupRef();
  // With instances already running, the ECS guide orders the three: each waits for the one before.
  const trioIndex = ECS_AGENT_SERVICES.indexOf(remedy.service);
  const previousCreate = ECS_AGENT_SERVICES.slice(0, Math.max(0, trioIndex))
    .flatMap((earlier) => plan.createdServices.get(earlier) ?? [])
    .at(-1);
  plan.creates.push({
    kind: 'CREATE_ENDPOINT',
    id,
    region: plan.region,
    vpcId: plan.vpcId,
    fixes: [],
    dependsOn: [...plan.dnsDependency, ...group.dependsOn, ...(previousCreate ? [previousCreate] : [])],
    summary: `create ${serviceName} in ${subnetIds.length} AZ(s) with private DNS${ipAddressType === 'ipv4' ? '' : ` (${ipAddressType})`}`,
    service: remedy.service,
    serviceName,
    subnetIds,
    securityGroups: [group.ref],
    privateDnsEnabled: true,
    ...(ipAddressType === 'ipv4' ? {} : { ipAddressType }),
    clientToken: plan.clientToken([serviceName, ...subnetIds]),
    // The ECS endpoints record when running agents must have restarted by (core/restarts.ts).
    tags: {
      ...ownedTags(`ecs-endpoint-remediator ${remedy.service}`),
      ...(trioIndex >= 0 ? cutoffTag(plan.now) : {}),
    },
    monthlyCostUsd: plan.monthlyCost(subnetIds.length),
  });
  plan.createdServices.set(remedy.service, id);
  plan.settle(draft, { actionId: id });
};

const createGateway: Handler<'create-gateway'> = (plan, draft, remedy) => {
  const id = plan.idOf('CREATE_GATEWAY_ENDPOINT', remedy.service);
  const serviceName = serviceNameOf(plan.region, remedy.service);
  plan.creates.push({
    kind: 'CREATE_GATEWAY_ENDPOINT',
    id,
    region: plan.region,
    vpcId: plan.vpcId,
    fixes: [],
    dependsOn: [],
    summary: `create ${serviceName} gateway on ${remedy.routeTableIds.join(', ')}`,
    service: remedy.service,
    serviceName,
    routeTableIds: remedy.routeTableIds,
    clientToken: plan.clientToken([serviceName, ...remedy.routeTableIds]),
    tags: ownedTags(`ecs-endpoint-remediator ${remedy.service}`),
  });
  plan.createdServices.set(remedy.service, id);
  plan.settle(draft, { actionId: id });
};

/** Every fix of one endpoint goes into one MODIFY_ENDPOINT. */
const modify: Handler<'modify'> = (plan, draft, remedy) => {
  if (remedy.enablePrivateDns && !plan.dnsReady) {
    plan.settle(draft, plan.dnsBlocked);
    return;
  }
  const { existingGroup } = plan;
  if (
    remedy.attachManagedGroup &&
    existingGroup &&
    remedy.endpoint.securityGroupIds.includes(existingGroup.groupId)
  ) {
    // Already attached: the group itself lacks a rule, which the authorize action adds.
    plan.groupRef();
    plan.settle(draft, { actionId: plan.authorizeId });
    return;
  }
  const unavailable = remedy.attachManagedGroup ? plan.groupUnavailable : undefined;
  if (unavailable) {
    plan.settle(draft, unavailable);
    return;
  }
  const id = plan.idOf('MODIFY_ENDPOINT', remedy.endpoint.vpcEndpointId);
  const change: ModifyDraft = plan.modifies.get(id) ?? {
    kind: 'MODIFY_ENDPOINT',
    id,
    region: plan.region,
    vpcId: plan.vpcId,
    fixes: [],
    dependsOn: [],
    summary: '',
    vpcEndpointId: remedy.endpoint.vpcEndpointId,
    service: remedy.service,
    addSubnetIds: [],
    addSecurityGroups: [],
    enablePrivateDns: false,
    addRouteTableIds: [],
    monthlyCostUsd: 0,
  };
  if (remedy.enablePrivateDns) {
    change.enablePrivateDns = true;
    change.dependsOn = [...change.dependsOn, ...plan.dnsDependency];
  }
  if (remedy.addSubnetIds) {
    change.addSubnetIds = [...change.addSubnetIds, ...remedy.addSubnetIds];
    change.monthlyCostUsd = plan.monthlyCost(change.addSubnetIds.length);
  }
  if (remedy.addRouteTableIds)
    change.addRouteTableIds = [...change.addRouteTableIds, ...remedy.addRouteTableIds];
  if (remedy.resetPolicy) change.resetPolicy = true;
  if (remedy.attachManagedGroup) {
    const group = plan.groupRef();
    change.dependsOn = [...change.dependsOn, ...group.dependsOn];
    change.addSecurityGroups = [...change.addSecurityGroups, group.ref];
  }
  plan.modifies.set(id, change);
  plan.settle(draft, { actionId: id });
};

/** UpdateContainerAgent works on ECS-optimized Amazon Linux only, and is off unless configured. */
const updateAgent: Handler<'update-agent'> = (plan, draft, remedy) => {
  if (!plan.config.agentRestart.updateOutdatedAgents) {
    plan.settle(draft, plan.disabled(`agentRestart.updateOutdatedAgents is false; ${remedy.hint}`));
    return;
  }
  if (!canUpdateAgent(plan.context.ssm.get(remedy.instance.ec2InstanceId))) {
    plan.settle(
      draft,
      plan.manual(`UpdateContainerAgent needs an ECS-optimized Amazon Linux AMI; ${remedy.hint}`),
    );
    return;
  }
  const id = plan.idOf('UPDATE_AGENT', remedy.instance.ec2InstanceId);
  plan.updates.push({
    kind: 'UPDATE_AGENT',
    id,
    region: plan.region,
    vpcId: plan.vpcId,
    fixes: [],
    dependsOn: [],
    summary: `update the ECS agent of ${remedy.instance.ec2InstanceId} (cluster ${resourceName(remedy.instance.clusterArn)})`,
    clusterArn: remedy.instance.clusterArn,
    containerInstanceArn: remedy.instance.containerInstanceArn,
    ec2InstanceId: remedy.instance.ec2InstanceId,
  });
  plan.settle(draft, { actionId: id });
};

/**
 * Deleting is off by default; `owned` spares what the remediator did not create. A tagged endpoint
 * the deployed remediator has no record of is never deleted, whatever the mode: its tag may be copied.
 */
const deleteEndpoint: Handler<'delete'> = (plan, draft, remedy) => {
  const mode = plan.config.remediation.deleteWrongRegionEndpoints;
  if (mode === 'never') {
    plan.settle(draft, plan.disabled('remediation.deleteWrongRegionEndpoints is "never"'));
    return;
  }
  const { endpoint } = remedy;
  const ownership = plan.ownership(endpoint, endpoint.vpcEndpointId);
  if (ownership === 'not-recorded') {
    const reason = notRecordedReason(endpoint.vpcEndpointId);
    plan.settle(
      draft,
      mode === 'owned'
        ? plan.disabled(`${reason}; remediation.deleteWrongRegionEndpoints is "owned"`)
        : plan.manual(`${reason}: never deleted; delete it by hand if nothing uses it`),
    );
    return;
  }
  if (mode === 'owned' && ownership !== 'owned') {
    plan.settle(
      draft,
      plan.disabled('not created by the remediator; remediation.deleteWrongRegionEndpoints is "owned"'),
    );
    return;
  }
  const id = plan.idOf('DELETE_ENDPOINT', remedy.endpoint.vpcEndpointId);
  plan.deletes.push({
    service: draft.service,
    action: {
      kind: 'DELETE_ENDPOINT',
      id,
      region: plan.region,
      vpcId: plan.vpcId,
      fixes: [],
      dependsOn: [],
      summary: `delete ${remedy.endpoint.vpcEndpointId} (${remedy.endpoint.serviceName})`,
      vpcEndpointId: remedy.endpoint.vpcEndpointId,
      serviceName: remedy.endpoint.serviceName,
    },
  });
  plan.settle(draft, { actionId: id });
};

/**
 * Never widen a policy by default: only an owned endpoint's, and only when the config says so; the
 * reset joins the endpoint's other changes in one MODIFY_ENDPOINT.
 */
const resetPolicy: Handler<'reset-policy'> = (plan, draft, remedy) => {
  const ownership = plan.ownership(remedy.endpoint, remedy.endpoint.vpcEndpointId);
  if (ownership !== 'owned') {
    const why =
      ownership === 'not-recorded'
        ? notRecordedReason(remedy.endpoint.vpcEndpointId)
        : 'not created by the remediator';
    plan.settle(draft, plan.manual(`${remedy.hint} (${why}: its policy is never changed)`));
    return;
  }
  if (!plan.config.remediation.resetOwnedEndpointPolicies) {
    plan.settle(draft, plan.disabled(`remediation.resetOwnedEndpointPolicies is false; ${remedy.hint}`));
    return;
  }
  modify(plan, draft, {
    kind: 'modify',
    endpoint: remedy.endpoint,
    service: remedy.service,
    resetPolicy: true,
  });
};

/**
 * An owned endpoint no workload needs (ENDPOINT_UNUSED): deleted only by the deployed remediator, with
 * the reclaim on, from a reconcile that counts (core/reclaim.ts), once its clock is past the grace
 * period. Otherwise the finding says what it waits for, and what deleting it would save.
 */
const reclaim: Handler<'reclaim'> = (plan, draft, remedy) => {
  const { endpoint } = remedy;
  const id = endpoint.vpcEndpointId;
  // A gateway endpoint has no hourly charge; an interface endpoint one per AZ (subnet).
  const saving = endpoint.type === 'Interface' ? plan.monthlyCost(endpoint.subnetIds.length) : 0;
  const savingText = `deleting it saves $${saving.toFixed(2)} a month (pricing.*)`;
  const ownership = plan.ownership(endpoint, id);
  if (ownership !== 'owned') {
    const why = ownership === 'not-recorded' ? notRecordedReason(id) : 'not created by the remediator';
    plan.settle(draft, plan.manual(`${why}: never deleted; delete it by hand if nothing uses it`));
    return;
  }
  const days = plan.config.remediation.reclaimUnusedOwnedEndpointsAfterDays;
  if (days === undefined) {
    plan.settle(
      draft,
      plan.disabled(`remediation.reclaimUnusedOwnedEndpointsAfterDays is not set; ${savingText}`),
    );
    return;
  }
  const { unusedSince, blocker } = plan.reclaim;
  if (unusedSince === undefined) {
    plan.settle(
      draft,
      plan.manual(
        `reported only: the CLI keeps no record of how long the endpoint has been unneeded and never deletes; the deployed remediator deletes it after ${days} day(s) unneeded; ${savingText}`,
      ),
    );
    return;
  }
  const waiting = (why: string): void => {
    plan.settle(draft, { status: 'deferred', actionIds: [], reason: `${why}; ${savingText}` });
  };
  if (blocker !== undefined) {
    waiting(`this reconcile does not count toward the ${days}-day grace period: ${blocker}`);
    return;
  }
  const since = unusedSince[id];
  if (since === undefined) {
    waiting(
      `grace period: first seen unneeded now; deleted after ${days} day(s) if no work needs it by then`,
    );
    return;
  }
  const elapsed = daysSince(since, plan.now);
  if (elapsed < days) {
    waiting(`grace period: unneeded since ${since} (${elapsed} of ${days} day(s))`);
    return;
  }
  const actionId = plan.idOf('DELETE_ENDPOINT', id);
  plan.deletes.push({
    service: draft.service,
    action: {
      kind: 'DELETE_ENDPOINT',
      id: actionId,
      region: plan.region,
      vpcId: plan.vpcId,
      fixes: [],
      dependsOn: [],
      summary: `delete ${id} (${endpoint.serviceName}): unneeded since ${since}, saves $${saving.toFixed(2)} a month`,
      vpcEndpointId: id,
      serviceName: endpoint.serviceName,
      reclaim: true,
      monthlySavingUsd: saving,
    },
  });
  plan.settle(draft, { actionId });
};

export const REMEDY_HANDLERS: { readonly [K in Remedy['kind']]: Handler<K> } = {
  'reset-policy': resetPolicy,
  manual,
  'enable-vpc-dns': enableVpcDns,
  'create-interface': createInterface,
  'create-gateway': createGateway,
  modify,
  'update-agent': updateAgent,
  delete: deleteEndpoint,
  reclaim,
};
