/**
 * Actions: the changes a plan makes. The plan is data; aws/apply.ts executes it.
 * Every action names the findings it fixes and the actions it must wait for.
 */
import type { ManagedService } from './services.ts';

/** A security group given by id, or the one a CREATE_SECURITY_GROUP action of the same plan makes. */
export type GroupRef = { readonly groupId: string } | { readonly createdBy: string };

interface ActionBase {
  /** Unique within the plan and stable for the same drift: `<kind>/<region>/<vpcId>/<subject>`. */
  readonly id: string;
  readonly region: string;
  readonly vpcId: string;
  /** Ids of the findings this action fixes. */
  readonly fixes: readonly string[];
  /** Ids of actions that must succeed first. */
  readonly dependsOn: readonly string[];
  /** One line for people. */
  readonly summary: string;
}

export interface CreateSecurityGroupAction extends ActionBase {
  readonly kind: 'CREATE_SECURITY_GROUP';
  readonly groupName: string;
  readonly description: string;
  /** TCP 443 is allowed from each of these (the workload subnets' CIDRs, IPv4 and IPv6). */
  readonly ingressCidrs: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface AuthorizeIngressAction extends ActionBase {
  readonly kind: 'AUTHORIZE_SECURITY_GROUP_INGRESS';
  /** Always the remediator's own managed group. */
  readonly groupId: string;
  readonly ingressCidrs: readonly string[];
}

export interface CreateEndpointAction extends ActionBase {
  readonly kind: 'CREATE_ENDPOINT';
  readonly service: ManagedService;
  readonly serviceName: string;
  /** One subnet per Availability Zone. */
  readonly subnetIds: readonly string[];
  readonly securityGroups: readonly GroupRef[];
  readonly privateDnsEnabled: true;
  /** `dualstack` or `ipv6` where IPv6-only work calls the service (absent: `ipv4`); DNS records follow it. */
  readonly ipAddressType?: 'dualstack' | 'ipv6';
  /** Deterministic for the same drift in the same time window: two concurrent applies create one endpoint. */
  readonly clientToken: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly monthlyCostUsd: number;
}

export interface CreateGatewayEndpointAction extends ActionBase {
  readonly kind: 'CREATE_GATEWAY_ENDPOINT';
  readonly service: ManagedService;
  readonly serviceName: string;
  readonly routeTableIds: readonly string[];
  readonly clientToken: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface ModifyEndpointAction extends ActionBase {
  readonly kind: 'MODIFY_ENDPOINT';
  readonly vpcEndpointId: string;
  readonly service: ManagedService;
  readonly addSubnetIds: readonly string[];
  readonly addSecurityGroups: readonly GroupRef[];
  readonly enablePrivateDns: boolean;
  readonly addRouteTableIds: readonly string[];
  /** Set the endpoint's policy back to full access (an owned endpoint whose policy denies the work's calls). */
  readonly resetPolicy?: true;
  /** Added cost of the subnets (AZs) it adds. */
  readonly monthlyCostUsd: number;
}

export interface DeleteEndpointAction extends ActionBase {
  readonly kind: 'DELETE_ENDPOINT';
  readonly vpcEndpointId: string;
  readonly serviceName: string;
  /**
   * An owned endpoint no longer needed (ENDPOINT_UNUSED): deleted only if it still carries the
   * managed tag (and, for the deployed remediator, is still recorded as its own) right before.
   */
  readonly reclaim?: true;
  /** What deleting it saves a month (`pricing.*`: one endpoint-hour per AZ; a gateway costs nothing). */
  readonly monthlySavingUsd?: number;
}

export type VpcDnsAttribute = 'enableDnsSupport' | 'enableDnsHostnames';

export interface EnableVpcDnsAction extends ActionBase {
  readonly kind: 'ENABLE_VPC_DNS';
  /** In this order: AWS requires DNS support before hostnames. */
  readonly attributes: readonly VpcDnsAttribute[];
}

/** How the agent is restarted: see core/restarts.ts. */
export type RestartMethod = 'systemctl' | 'docker' | 'powershell';

export interface AgentRestartTarget {
  readonly ec2InstanceId: string;
  readonly containerInstanceArn: string;
  readonly method: RestartMethod;
}

export interface RestartAgentAction extends ActionBase {
  readonly kind: 'RESTART_AGENT';
  readonly clusterArn: string;
  /** In rollout order; waves of at most `waveSize`. */
  readonly instances: readonly AgentRestartTarget[];
  readonly waveSize: number;
  /** The ECS endpoints (service names) that must be available before any restart. */
  readonly waitForServiceNames: readonly string[];
  /** Set the endpoints' restart cutoff to the time they were seen available (after creating them). */
  readonly refreshCutoff: boolean;
  /** This run creates the Run Command endpoints: wait for offline instances to come online. */
  readonly waitForSsm: boolean;
  /** The SSM command comment, at most 86 characters: the executor appends ` #<claim id>` (SSM allows 100). */
  readonly comment: string;
}

export interface UpdateAgentAction extends ActionBase {
  readonly kind: 'UPDATE_AGENT';
  readonly clusterArn: string;
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string;
}

export type Action =
  | RestartAgentAction
  | UpdateAgentAction
  | CreateSecurityGroupAction
  | AuthorizeIngressAction
  | CreateEndpointAction
  | CreateGatewayEndpointAction
  | ModifyEndpointAction
  | DeleteEndpointAction
  | EnableVpcDnsAction;

export type ActionKind = Action['kind'];

/**
 * What names an action within a run over several accounts: its account and its id (`<kind>/<region>/
 * <vpcId>/<subject>`, unique only within the account). Results, caps and fixes are matched by it.
 */
export function actionKey(accountId: string, actionId: string): string {
  return `${accountId}/${actionId}`;
}

export const ACTION_KINDS: readonly ActionKind[] = [
  'ENABLE_VPC_DNS',
  'CREATE_SECURITY_GROUP',
  'AUTHORIZE_SECURITY_GROUP_INGRESS',
  'CREATE_ENDPOINT',
  'MODIFY_ENDPOINT',
  'CREATE_GATEWAY_ENDPOINT',
  'DELETE_ENDPOINT',
  'UPDATE_AGENT',
  'RESTART_AGENT',
];

/** Tags that mark what the remediator created (and so may change or delete). */
export const MANAGED_TAG = { key: 'ecs-endpoint-remediator/managed', value: 'true' } as const;

/** The tags of something the remediator creates: owned, and named for people. */
export function ownedTags(name: string): Record<string, string> {
  return { [MANAGED_TAG.key]: MANAGED_TAG.value, Name: name };
}

export function isManaged(tags: Readonly<Record<string, string>>): boolean {
  return tags[MANAGED_TAG.key] === MANAGED_TAG.value;
}

/** Whether the action creates an endpoint (what the endpoint cap counts). */
export function createsEndpoint(action: Action): boolean {
  return action.kind === 'CREATE_ENDPOINT' || action.kind === 'CREATE_GATEWAY_ENDPOINT';
}
