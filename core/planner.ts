/**
 * Turns one VPC's findings and their remedies into actions, or says why a finding is not fixed
 * (config, a blocker, or a manual fix). Pure: the same inputs give the same actions and ids.
 */
import type { Action, CreateSecurityGroupAction, GroupRef, ModifyEndpointAction } from './actions.ts';
import { MANAGED_TAG, isManaged } from './actions.ts';
import type { DraftFinding, Remedy, VpcContext } from './checks.ts';
import type { Config } from './config.ts';
import type { Remediation } from './findings.ts';
import { findingId } from './findings.ts';
import { fnv1a64 } from './hash.ts';
import type { SecurityGroup, VpcEndpoint } from './model.ts';
import { admitsHttpsFrom } from './network.ts';
import type { ManagedService } from './services.ts';
import { canUpdateAgent, cutoffTag } from './restarts.ts';
import { ECS_AGENT_SERVICES, serviceNameOf, serviceOrder } from './services.ts';
import { resourceName } from './workloads.ts';

/** Idempotency tokens repeat within this window, so concurrent runs create one endpoint, not two. */
export const CLIENT_TOKEN_WINDOW_MS = 10 * 60 * 1000;

export interface VpcPlan {
  readonly actions: readonly Action[];
  /** Remediation of each draft finding, by finding id. */
  readonly remediation: ReadonlyMap<string, Remediation>;
}

interface PlanningInput {
  readonly context: VpcContext;
  readonly drafts: readonly DraftFinding[];
  readonly config: Config;
  readonly now: Date;
}

const MANAGED_GROUP_NAME = 'ecs-endpoint-remediator-endpoints';

export function draftId(region: string, draft: DraftFinding): string {
  return findingId(draft.code, region, draft.vpcId, draft.subject);
}

function ownedTags(name: string): Record<string, string> {
  return { [MANAGED_TAG.key]: MANAGED_TAG.value, Name: name };
}

function clientToken(parts: readonly string[], now: Date): string {
  const window = Math.floor(now.getTime() / CLIENT_TOKEN_WINDOW_MS);
  return `eer-${fnv1a64([...parts, String(window)].join('|'))}`;
}

function monthlyCost(config: Config, azCount: number): number {
  const cost = azCount * config.pricing.interfaceEndpointHourlyUsd * config.pricing.hoursPerMonth;
  return Math.round(cost * 100) / 100;
}

/** The remediator's own security group in the VPC, if it made one earlier. */
export function managedGroupOf(context: VpcContext): SecurityGroup | undefined {
  const vpcId = context.workload.vpc.vpcId;
  return [...context.groupsById.values()]
    .filter((group) => group.vpcId === vpcId && isManaged(group.tags))
    .sort((a, b) => a.groupId.localeCompare(b.groupId))[0];
}

/** Plans the actions of one VPC. */
export function planVpc({ context, drafts, config, now }: PlanningInput): VpcPlan {
  const { region } = context;
  const vpcId = context.workload.vpc.vpcId;
  const idOf = (kind: string, subject: string): string => `${kind}/${region}/${vpcId}/${subject}`;
  const remediation = new Map<string, Remediation>();
  const fixes = new Map<string, string[]>(); // action id → finding ids
  const settle = (draft: DraftFinding, outcome: Remediation | { actionId: string }): void => {
    const id = draftId(region, draft);
    if ('actionId' in outcome) {
      fixes.set(outcome.actionId, [...(fixes.get(outcome.actionId) ?? []), id]);
      const previous = remediation.get(id)?.actionIds ?? [];
      remediation.set(id, { status: 'planned', actionIds: [...previous, outcome.actionId] });
    } else {
      remediation.set(id, outcome);
    }
  };
  const manual = (reason: string): Remediation => ({ status: 'manual', actionIds: [], reason });
  const disabled = (reason: string): Remediation => ({ status: 'disabled', actionIds: [], reason });

  // VPC DNS first: without it, private DNS cannot be enabled and AWS refuses such endpoints.
  const dnsDraft = drafts.find((draft) => draft.remedy.kind === 'enable-vpc-dns');
  const enableDnsId = idOf('ENABLE_VPC_DNS', 'dns');
  let dnsReady = dnsDraft === undefined;
  if (dnsDraft?.remedy.kind === 'enable-vpc-dns') {
    if (config.remediation.enableVpcDnsAttributes) {
      settle(dnsDraft, { actionId: enableDnsId });
      dnsReady = true;
    } else {
      settle(
        dnsDraft,
        disabled('remediation.enableVpcDnsAttributes is false (it changes DNS for the whole VPC)'),
      );
    }
  }
  const dnsDependency = dnsDraft && dnsReady ? [enableDnsId] : [];
  const dnsBlocked: Remediation = {
    status: 'blocked',
    actionIds: [],
    reason: `VPC_DNS_DISABLED: private DNS needs enableDnsSupport and enableDnsHostnames on ${vpcId}`,
  };

  // The managed security group admits 443 from every workload subnet; made once per VPC on demand.
  const existingGroup = managedGroupOf(context);
  const createGroupId = idOf('CREATE_SECURITY_GROUP', MANAGED_GROUP_NAME);
  const authorizeId = idOf('AUTHORIZE_SECURITY_GROUP_INGRESS', existingGroup?.groupId ?? '-');
  const workloadCidrs = [...new Set(context.workload.subnets.map((subnet) => subnet.cidrBlock))].sort();
  const missingCidrs = existingGroup
    ? context.workload.sources
        .filter((source) => !admitsHttpsFrom([existingGroup], { ...source, securityGroupIds: new Set() }))
        .map((source) => source.subnet.cidrBlock)
    : workloadCidrs;
  const groupUse = { used: false };
  const groupRef = (): { ref: GroupRef; dependsOn: string[] } => {
    groupUse.used = true;
    if (existingGroup) {
      return {
        ref: { groupId: existingGroup.groupId },
        dependsOn: missingCidrs.length > 0 ? [authorizeId] : [],
      };
    }
    return { ref: { createdBy: createGroupId }, dependsOn: [createGroupId] };
  };

  const creates: Action[] = [];
  const modifies = new Map<
    string,
    { endpoint: VpcEndpoint; service: ManagedService; change: Mutable<ModifyEndpointAction> }
  >();
  const deletes: Array<{ action: Action; service: string | undefined }> = [];
  const createdServiceIds = new Map<ManagedService, string>();
  const updates: Action[] = [];

  for (const draft of drafts) {
    const remedy: Remedy = draft.remedy;
    switch (remedy.kind) {
      case 'manual':
        settle(draft, manual(remedy.hint));
        break;
      case 'enable-vpc-dns':
        break; // settled above
      case 'create-interface': {
        if (!dnsReady) {
          settle(draft, dnsBlocked);
          break;
        }
        const serviceName = serviceNameOf(region, remedy.service);
        const offered = new Set(context.offers.get(serviceName)?.availabilityZones ?? []);
        const subnetIds = context.workload.availabilityZones
          .filter((az) => offered.has(az))
          .map(
            (az) => context.workload.subnets.find((subnet) => subnet.availabilityZone === az)?.subnetId ?? '',
          )
          .filter((id) => id !== '');
        if (subnetIds.length === 0) {
          settle(draft, manual(`${serviceName} is not offered in any AZ where ECS runs`));
          break;
        }
        const id = idOf('CREATE_ENDPOINT', remedy.service);
        const group = groupRef();
        // With instances already running, the ECS guide orders the trio: each waits for the one before.
        const trioIndex = ECS_AGENT_SERVICES.indexOf(remedy.service);
        const previousCreate = ECS_AGENT_SERVICES.slice(0, Math.max(0, trioIndex))
          .map((earlier) => createdServiceIds.get(earlier))
          .filter((id) => id !== undefined)
          .at(-1);
        creates.push({
          kind: 'CREATE_ENDPOINT',
          id,
          region,
          vpcId,
          fixes: [],
          dependsOn: [...dnsDependency, ...group.dependsOn, ...(previousCreate ? [previousCreate] : [])],
          summary: `create ${serviceName} in ${subnetIds.length} AZ(s) with private DNS`,
          service: remedy.service,
          serviceName,
          subnetIds,
          securityGroups: [group.ref],
          privateDnsEnabled: true,
          clientToken: clientToken([region, vpcId, serviceName, ...subnetIds], now),
          // The ECS endpoints record when running agents must have restarted by (core/restarts.ts).
          tags: {
            ...ownedTags(`ecs-endpoint-remediator ${remedy.service}`),
            ...(trioIndex >= 0 ? cutoffTag(now) : {}),
          },
          monthlyCostUsd: monthlyCost(config, subnetIds.length),
        });
        createdServiceIds.set(remedy.service, id);
        settle(draft, { actionId: id });
        break;
      }
      case 'create-gateway': {
        const id = idOf('CREATE_GATEWAY_ENDPOINT', remedy.service);
        const serviceName = serviceNameOf(region, remedy.service);
        creates.push({
          kind: 'CREATE_GATEWAY_ENDPOINT',
          id,
          region,
          vpcId,
          fixes: [],
          dependsOn: [],
          summary: `create ${serviceName} gateway on ${remedy.routeTableIds.join(', ')}`,
          service: remedy.service,
          serviceName,
          routeTableIds: remedy.routeTableIds,
          clientToken: clientToken([region, vpcId, serviceName, ...remedy.routeTableIds], now),
          tags: ownedTags(`ecs-endpoint-remediator ${remedy.service}`),
        });
        createdServiceIds.set(remedy.service, id);
        settle(draft, { actionId: id });
        break;
      }
      case 'modify': {
        if (remedy.enablePrivateDns && !dnsReady) {
          settle(draft, dnsBlocked);
          break;
        }
        const id = idOf('MODIFY_ENDPOINT', remedy.endpoint.vpcEndpointId);
        const entry = modifies.get(id) ?? {
          endpoint: remedy.endpoint,
          service: remedy.service,
          change: {
            kind: 'MODIFY_ENDPOINT',
            id,
            region,
            vpcId,
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
          },
        };
        const change = entry.change;
        if (remedy.enablePrivateDns) {
          change.enablePrivateDns = true;
          change.dependsOn = [...change.dependsOn, ...dnsDependency];
        }
        if (remedy.addSubnetIds) {
          change.addSubnetIds = [...change.addSubnetIds, ...remedy.addSubnetIds];
          change.monthlyCostUsd = monthlyCost(config, change.addSubnetIds.length);
        }
        if (remedy.addRouteTableIds)
          change.addRouteTableIds = [...change.addRouteTableIds, ...remedy.addRouteTableIds];
        if (remedy.attachManagedGroup) {
          const group = groupRef();
          // Already attached: the group itself lacks a rule, which the authorize action adds.
          if (existingGroup && remedy.endpoint.securityGroupIds.includes(existingGroup.groupId)) {
            settle(draft, { actionId: authorizeId });
            break;
          }
          change.dependsOn = [...change.dependsOn, ...group.dependsOn];
          change.addSecurityGroups = [...change.addSecurityGroups, group.ref];
        }
        modifies.set(id, entry);
        settle(draft, { actionId: id });
        break;
      }
      case 'update-agent': {
        if (!config.agentRestart.updateOutdatedAgents) {
          settle(draft, disabled(`agentRestart.updateOutdatedAgents is false; ${remedy.hint}`));
          break;
        }
        if (!canUpdateAgent(context.ssm.get(remedy.instance.ec2InstanceId))) {
          settle(
            draft,
            manual(`UpdateContainerAgent needs an ECS-optimized Amazon Linux AMI; ${remedy.hint}`),
          );
          break;
        }
        const id = idOf('UPDATE_AGENT', remedy.instance.ec2InstanceId);
        updates.push({
          kind: 'UPDATE_AGENT',
          id,
          region,
          vpcId,
          fixes: [],
          dependsOn: [],
          summary: `update the ECS agent of ${remedy.instance.ec2InstanceId} (cluster ${resourceName(remedy.instance.clusterArn)})`,
          clusterArn: remedy.instance.clusterArn,
          containerInstanceArn: remedy.instance.containerInstanceArn,
          ec2InstanceId: remedy.instance.ec2InstanceId,
        });
        settle(draft, { actionId: id });
        break;
      }
      case 'delete': {
        const mode = config.remediation.deleteWrongRegionEndpoints;
        const owned = isManaged(remedy.endpoint.tags);
        if (mode === 'never') {
          settle(draft, disabled('remediation.deleteWrongRegionEndpoints is "never"'));
          break;
        }
        if (mode === 'owned' && !owned) {
          settle(
            draft,
            disabled('not created by the remediator; remediation.deleteWrongRegionEndpoints is "owned"'),
          );
          break;
        }
        const id = idOf('DELETE_ENDPOINT', remedy.endpoint.vpcEndpointId);
        deletes.push({
          service: draft.service,
          action: {
            kind: 'DELETE_ENDPOINT',
            id,
            region,
            vpcId,
            fixes: [],
            dependsOn: [],
            summary: `delete ${remedy.endpoint.vpcEndpointId} (${remedy.endpoint.serviceName})`,
            vpcEndpointId: remedy.endpoint.vpcEndpointId,
            serviceName: remedy.endpoint.serviceName,
          },
        });
        settle(draft, { actionId: id });
        break;
      }
    }
  }

  const actions: Action[] = [];
  if (dnsDraft?.remedy.kind === 'enable-vpc-dns' && dnsDependency.length > 0) {
    actions.push({
      kind: 'ENABLE_VPC_DNS',
      id: enableDnsId,
      region,
      vpcId,
      fixes: [],
      dependsOn: [],
      summary: `turn on ${dnsDraft.remedy.attributes.join(' and ')}`,
      attributes: dnsDraft.remedy.attributes,
    });
  }
  if (groupUse.used && !existingGroup) {
    const group: CreateSecurityGroupAction = {
      kind: 'CREATE_SECURITY_GROUP',
      id: createGroupId,
      region,
      vpcId,
      fixes: [],
      dependsOn: [],
      summary: `create security group ${MANAGED_GROUP_NAME} allowing TCP 443 from ${workloadCidrs.join(', ')}`,
      groupName: MANAGED_GROUP_NAME,
      description: 'Interface endpoints of ECS: TCP 443 from the workload subnets (ecs-endpoint-remediator)',
      ingressCidrs: workloadCidrs,
      tags: ownedTags(MANAGED_GROUP_NAME),
    };
    actions.push(group);
  }
  if (groupUse.used && existingGroup && missingCidrs.length > 0) {
    actions.push({
      kind: 'AUTHORIZE_SECURITY_GROUP_INGRESS',
      id: authorizeId,
      region,
      vpcId,
      fixes: [],
      dependsOn: [],
      summary: `allow TCP 443 from ${missingCidrs.join(', ')} on ${existingGroup.groupId}`,
      groupId: existingGroup.groupId,
      ingressCidrs: missingCidrs,
    });
  }
  actions.push(...creates);
  const modifyActions = [...modifies.values()]
    .sort((a, b) => serviceOrder(a.service) - serviceOrder(b.service))
    .map(({ change }) => ({
      ...change,
      dependsOn: [...new Set(change.dependsOn)],
      summary: modifySummary(change),
    }));
  actions.push(...modifyActions);
  // Delete a wrong-Region endpoint only after this Region's replacement exists.
  actions.push(
    ...deletes.map(({ action, service }) => {
      const replacement = [...createdServiceIds].find(([name]) => name === service)?.[1];
      return replacement ? { ...action, dependsOn: [replacement] } : action;
    }),
  );
  actions.push(...updates);
  const withFixes = actions.map((action) => ({ ...action, fixes: fixes.get(action.id) ?? [] }));
  const groupActionIds = new Set([createGroupId, authorizeId]);
  return {
    actions: withFixes.map((action) => {
      if (!groupActionIds.has(action.id)) return action;
      const served = withFixes
        .filter((user) => user.dependsOn.includes(action.id))
        .flatMap((user) => user.fixes);
      return { ...action, fixes: [...new Set([...action.fixes, ...served])] };
    }),
    remediation,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function modifySummary(change: ModifyEndpointAction): string {
  const parts = [
    ...(change.enablePrivateDns ? ['enable private DNS'] : []),
    ...(change.addSubnetIds.length > 0 ? [`add subnets ${change.addSubnetIds.join(', ')}`] : []),
    ...(change.addSecurityGroups.length > 0 ? ['attach the managed security group'] : []),
    ...(change.addRouteTableIds.length > 0 ? [`add route tables ${change.addRouteTableIds.join(', ')}`] : []),
  ];
  return `${change.vpcEndpointId} (${change.service}): ${parts.join('; ')}`;
}
