/**
 * Events as hints: what the deployed reconciler receives (EventBridge events, delivered through SQS),
 * parsed into the narrow question "which VPCs of which Region may have drifted?". The event is never
 * the truth: the handler re-reads AWS for the VPCs a hint names (docs/architecture.md, "Event flow").
 *
 * CloudTrail records EC2's newer APIs in an XML-derived shape (`CreateVpcEndpointRequest` and
 * `DeleteNatGatewayRequest` wrappers, ids as `{tag, content}` objects or arrays, empty sets as `""`) and
 * its older ones (`ModifyVpcAttribute`, `RevokeSecurityGroupIngress`, the route table, internet gateway,
 * DHCP options and network interface calls) in plain lower-camel JSON; ECS calls are JSON; Route 53
 * lower-cases only the first letter of its members (`vPC.vPCId`, `vPC.vPCRegion`). Every shape is
 * validated with zod; anything unexpected is an {@link EventParseError} naming the path that did not fit.
 *
 * Route 53 is a global service: its CloudTrail events reach EventBridge in us-east-1 only (forwarded
 * to the stack's Region elsewhere, docs/deploy.md). An association names its VPC and the VPC's Region;
 * a record change names only its zone, and is widened to every Region the deployment reconciles.
 *
 * One event is the reconciler's own: a restart continuation ({@link restartContinuationBody}), sent to
 * its queue with a delay when agent restarts are under way in a VPC. It is a hint like the others (it
 * makes a reconcile of that VPC, never an action by itself), read as strictly.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { IgnoredClass, TerminalReason } from './errors.ts';
import { TerminalError } from './errors.ts';
import type { WorkUnit } from './units.ts';
import { WORK_UNIT_DETAIL_TYPE, unitProblems, workUnitDetail } from './units.ts';
import { partitionOf } from './export.ts';

// zod/mini ships no messages ("Invalid input" for every issue): install zod's English ones, which
// the problems of an EventParseError have always quoted.
z.config(en());

/** The ids an event names, to be resolved to VPCs against the live account (empty lists: none named). */
export interface HintTargets {
  readonly vpcIds: readonly string[];
  readonly vpcEndpointIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly subnetIds: readonly string[];
  /** Route tables (`rtb-…`) whose routes or associations changed; absent when the event names none. */
  readonly routeTableIds?: readonly string[];
  /** NAT gateways (`nat-…`), still described a while after their deletion; absent when none. */
  readonly natGatewayIds?: readonly string[];
  /** Network interfaces (`eni-…`) whose security groups changed; absent when none. */
  readonly networkInterfaceIds?: readonly string[];
  /**
   * Security groups named by name (`groupName` without a VPC id): EC2 reads them as groups of the
   * Region's default VPC. Absent when the event names none.
   */
  readonly securityGroupNames?: readonly string[];
  /**
   * ECS clusters (full ARNs) the event names: not resolved to VPCs, but read in addition to the
   * clusters the index knows for the resolved VPCs (a new cluster is not in the index yet). Absent when
   * the event names none.
   */
  readonly clusterArns?: readonly string[];
}

/**
 * What one event asks for:
 * - `targets`: reconcile the VPCs behind these ids in `region`;
 * - `region`: reconcile all of `region` (the event concerns ECS work whose VPC it does not name, or
 *   a route table association that no longer exists);
 * - `sweep`: reconcile every configured Region (the schedule, and a Route 53 change that names only a
 *   hosted zone, whose VPCs and their Regions the event does not say);
 * - `unit`: one work unit of a split sweep (core/units.ts): never coalesced with other work.
 */
export type HintScope =
  | { readonly kind: 'targets'; readonly region: string; readonly targets: HintTargets }
  | { readonly kind: 'region'; readonly region: string }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'unit'; readonly region: string; readonly unit: WorkUnit };

export interface ReconcileHint {
  /** Stable across redeliveries of the same occurrence: CloudTrail's eventID, else EventBridge's id. */
  readonly eventId: string;
  /** What caused it, for logs and alerts: `ec2:DeleteVpcEndpoints`, `ecs:ContainerInstanceStateChange`, `schedule`. */
  readonly trigger: string;
  /** When it happened (the event's `time`). */
  readonly time: string;
  readonly scope: HintScope;
}

/** What one event asks for: a hint to reconcile, or nothing (an {@link IgnoredClass} with its reason). */
export type ParsedEvent =
  | { readonly status: 'hint'; readonly hint: ReconcileHint }
  | {
      readonly status: 'ignored';
      readonly eventId: string;
      readonly trigger: string;
      /** Which of the few classes that may be ignored (core/errors.ts lists them). */
      readonly code: IgnoredClass;
      /** For the log: `the call failed (Client.UnauthorizedOperation)`. */
      readonly reason: string;
    };

/**
 * An event the reconciler cannot read: not JSON, a shape the rules do not produce, or an event they
 * do not match. Terminal: the same body fails the same way on every delivery.
 */
export class EventParseError extends TerminalError {
  /** Each path that did not fit, with what was expected there. */
  readonly problems: readonly string[];

  constructor(
    problems: readonly string[],
    reason: Extract<TerminalReason, 'not-json' | 'malformed' | 'unmatched'> = 'malformed',
  ) {
    super(reason, `unexpected event: ${problems.join('; ')}`);
    this.name = 'EventParseError';
    this.problems = problems;
  }
}

// ------------------------------------------------------------------------------------------------
// Shapes
// ------------------------------------------------------------------------------------------------

const region = z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a Region name'));
const vpcIdSchema = z.string().check(z.regex(/^vpc-[0-9a-f]+$/, 'expected a VPC id'));
const endpointId = z.string().check(z.regex(/^vpce-[0-9a-f]+$/, 'expected a VPC endpoint id'));
const groupId = z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'expected a security group id'));
const subnetId = z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'expected a subnet id'));
const routeTableId = z.string().check(z.regex(/^rtb-[0-9a-f]+$/, 'expected a route table id'));
const natGatewayId = z.string().check(z.regex(/^nat-[0-9a-f]+$/, 'expected a NAT gateway id'));
const networkInterfaceId = z.string().check(z.regex(/^eni-[0-9a-f]+$/, 'expected a network interface id'));
/** A security group's name: up to 255 characters (EC2's limit), not empty. */
const groupName = z.string().check(z.minLength(1), z.maxLength(255));
/** A Route 53 hosted zone id, bare (`Z…`) or as a path (`/hostedzone/Z…`). */
const hostedZoneId = z
  .string()
  .check(z.regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'expected a hosted zone id'));

/** CloudTrail's XML-derived id list: one `{tag, content}`, several, or `""` for none. */
function xmlIds(id: z.ZodMiniString<string>) {
  const item = z.object({ content: id, tag: z.optional(z.union([z.string(), z.number()])) });
  const ids = z.union([z.literal(''), item, z.array(item)]);
  return z.pipe(
    ids,
    z.transform((value: z.output<typeof ids>): string[] =>
      (value === '' ? [] : Array.isArray(value) ? value : [value]).map((i) => i.content),
    ),
  );
}

const envelope = z.object({
  id: z.string().check(z.minLength(1)),
  'detail-type': z.string(),
  source: z.string(),
  time: z.string(),
  region,
  /** The account the event happened in (EventBridge sets it): names clusters given by name. */
  account: z.optional(z.string()),
  detail: z.unknown(),
});

const cloudTrailDetail = z.object({
  eventSource: z.string(),
  eventName: z.string(),
  eventID: z.optional(z.string().check(z.minLength(1))),
  awsRegion: z.optional(region),
  recipientAccountId: z.optional(z.string()),
  errorCode: z.optional(z.string()),
  errorMessage: z.optional(z.string()),
  // Read per event name below; a failed call has null responseElements.
  requestParameters: z.optional(z.unknown()),
  responseElements: z.optional(z.unknown()),
});

type CloudTrailDetail = z.infer<typeof cloudTrailDetail>;

const createVpcEndpoint = z.object({
  CreateVpcEndpointRequest: z.object({ VpcId: vpcIdSchema }),
});
const deleteVpcEndpoints = z.object({
  DeleteVpcEndpointsRequest: z.object({ VpcEndpointId: xmlIds(endpointId) }),
});
const modifyVpcEndpoint = z.object({
  ModifyVpcEndpointRequest: z.object({ VpcEndpointId: z.union([endpointId, xmlIds(endpointId)]) }),
});
const modifyVpcAttribute = z.object({ vpcId: vpcIdSchema });
const securityGroupCall = z.object({ groupId });
/**
 * RevokeSecurityGroupIngress names its group by id, or by name alone (`groupName`: EC2 reads it as a
 * group of the default VPC).
 */
const revokeIngress = z.union([z.object({ groupId }), z.object({ groupName })]);
/** CreateRoute, ReplaceRoute, DeleteRoute, AssociateRouteTable, ReplaceRouteTableAssociation. */
const routeTableCall = z.object({ routeTableId });
/** DetachInternetGateway (`internetGatewayId`) and AssociateDhcpOptions (`dhcpOptionsId`) name the VPC. */
const vpcCall = z.object({ vpcId: vpcIdSchema });
/** DeleteNatGateway: XML-derived like CreateNatGateway's `CreateNatGatewayRequest` (plain JSON read too). */
const deleteNatGateway = z.union([
  z.object({ DeleteNatGatewayRequest: z.object({ NatGatewayId: natGatewayId }) }),
  z.object({ natGatewayId }),
]);
const modifyNetworkInterface = z.object({ networkInterfaceId });
/** Route 53's VPC member: `vPCId` and `vPCRegion`, as CloudTrail lower-cases the first letter. */
const route53Vpc = z.object({ vPCId: vpcIdSchema, vPCRegion: region });
const route53Association = z.object({ hostedZoneId, vPC: route53Vpc });
const createHostedZone = z.object({ vPC: z.optional(route53Vpc) });
const changeRecordSets = z.object({ hostedZoneId });
const modifySecurityGroupRules = z.object({
  ModifySecurityGroupRulesRequest: z.object({ GroupId: groupId }),
});
const awsvpcSubnets = z.nullish(
  z.object({
    networkConfiguration: z.nullish(
      z.object({
        awsvpcConfiguration: z.optional(z.object({ subnets: z.optional(z.array(subnetId)) })),
      }),
    ),
  }),
);

/** The cluster an ECS call acts on: a name or an ARN; absent means the `default` cluster. */
const ecsCluster = z.nullish(z.object({ cluster: z.optional(z.string().check(z.minLength(1))) }));

/** Most VPCs one continuation names. */
export const CONTINUATION_MAX_VPCS = 100;

/** A continuation's detail: ours, so nothing else is expected in it. */
const continuationDetail = z.strictObject({
  vpcIds: z.array(vpcIdSchema).check(z.minLength(1), z.maxLength(CONTINUATION_MAX_VPCS)),
  /** For the log: what is under way. */
  reason: z.optional(z.string().check(z.maxLength(1000))),
});

const containerInstanceDetail = z.object({
  clusterArn: z.optional(z.string()),
  containerInstanceArn: z.string(),
  ec2InstanceId: z.optional(z.string()),
  status: z.string(),
  agentConnected: z.optional(z.boolean()),
  attributes: z.optional(z.array(z.object({ name: z.string(), value: z.optional(z.string()) }))),
});

// ------------------------------------------------------------------------------------------------
// The rules' events
// ------------------------------------------------------------------------------------------------

/** CloudTrail event names each rule matches, per event source: docs/deploy.md lists them. */
export const CLOUDTRAIL_EVENTS = {
  'ec2.amazonaws.com': [
    'CreateVpcEndpoint',
    'DeleteVpcEndpoints',
    'ModifyVpcEndpoint',
    'RevokeSecurityGroupIngress',
    'ModifySecurityGroupRules',
    'ModifyVpcAttribute',
    'RevokeSecurityGroupEgress',
    'CreateRoute',
    'ReplaceRoute',
    'DeleteRoute',
    'AssociateRouteTable',
    'ReplaceRouteTableAssociation',
    'DisassociateRouteTable',
    'DetachInternetGateway',
    'DeleteNatGateway',
    'AssociateDhcpOptions',
    'ModifyNetworkInterfaceAttribute',
  ],
  'ecs.amazonaws.com': [
    'CreateService',
    'UpdateService',
    'RunTask',
    'StartTask',
    'RegisterContainerInstance',
  ],
  // Global: these reach EventBridge in us-east-1 only (docs/deploy.md, "Route 53 events").
  'route53.amazonaws.com': [
    'AssociateVPCWithHostedZone',
    'DisassociateVPCFromHostedZone',
    'CreateHostedZone',
    'ChangeResourceRecordSets',
  ],
} as const;

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const CONTAINER_INSTANCE_DETAIL_TYPE = 'ECS Container Instance State Change';
export const SCHEDULE_DETAIL_TYPE = 'Scheduled Event';
/** The reconciler's own continuation of agent restarts under way (aws/event-batch.ts sends it). */
export const CONTINUATION_DETAIL_TYPE = 'Restart Continuation';
/** The source of the reconciler's own events. */
export const REMEDIATOR_SOURCE = 'ecs-endpoint-remediator';

const NO_TARGETS: HintTargets = { vpcIds: [], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] };

function problemsOf(error: z.core.$ZodError, prefix: string): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

function parseWith<T>(schema: z.ZodMiniType<T>, input: unknown, prefix: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new EventParseError(problemsOf(result.error, prefix));
  return result.data;
}

const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+$/;

/**
 * The full ARN of the cluster an ECS call names (by name or ARN; none is the `default` cluster), or
 * undefined when it cannot be known (no account in the event, an unexpected form).
 */
export function clusterArnOf(
  cluster: string | undefined,
  regionName: string,
  account: string | undefined,
): string | undefined {
  const ref = cluster ?? 'default';
  if (ref.startsWith('arn:')) return CLUSTER_ARN.test(ref) ? ref : undefined;
  if (account === undefined || !/^\d{12}$/.test(account) || !/^[A-Za-z0-9_-]{1,255}$/.test(ref))
    return undefined;
  return `arn:${partitionOf(regionName)}:ecs:${regionName}:${account}:cluster/${ref}`;
}

/** What a successful CloudTrail call may have broken: the ids it names, or its whole Region. */
function cloudTrailScope(detail: CloudTrailDetail, eventRegion: string, account?: string): HintScope {
  const request = detail.requestParameters;
  const at = 'detail.requestParameters';
  const targets = (partial: Partial<HintTargets>): HintScope => ({
    kind: 'targets',
    region: eventRegion,
    targets: { ...NO_TARGETS, ...partial },
  });
  switch (detail.eventName) {
    case 'CreateVpcEndpoint':
      return targets({ vpcIds: [parseWith(createVpcEndpoint, request, at).CreateVpcEndpointRequest.VpcId] });
    case 'DeleteVpcEndpoints':
      return targets({
        vpcEndpointIds: parseWith(deleteVpcEndpoints, request, at).DeleteVpcEndpointsRequest.VpcEndpointId,
      });
    case 'ModifyVpcEndpoint': {
      const id = parseWith(modifyVpcEndpoint, request, at).ModifyVpcEndpointRequest.VpcEndpointId;
      return targets({ vpcEndpointIds: typeof id === 'string' ? [id] : id });
    }
    case 'ModifyVpcAttribute':
      return targets({ vpcIds: [parseWith(modifyVpcAttribute, request, at).vpcId] });
    case 'RevokeSecurityGroupIngress': {
      const group = parseWith(revokeIngress, request, at);
      return 'groupId' in group
        ? targets({ securityGroupIds: [group.groupId] })
        : targets({ securityGroupNames: [group.groupName] });
    }
    case 'RevokeSecurityGroupEgress':
      return targets({ securityGroupIds: [parseWith(securityGroupCall, request, at).groupId] });
    case 'CreateRoute':
    case 'ReplaceRoute':
    case 'DeleteRoute':
    case 'AssociateRouteTable':
    case 'ReplaceRouteTableAssociation':
      return targets({ routeTableIds: [parseWith(routeTableCall, request, at).routeTableId] });
    case 'DisassociateRouteTable':
      // It names only the association (`rtbassoc-…`), gone once the call succeeded: the subnet it
      // concerned, and so its VPC, can no longer be looked up.
      return { kind: 'region', region: eventRegion };
    case 'DetachInternetGateway':
    case 'AssociateDhcpOptions':
      return targets({ vpcIds: [parseWith(vpcCall, request, at).vpcId] });
    case 'DeleteNatGateway': {
      const call = parseWith(deleteNatGateway, request, at);
      return targets({
        natGatewayIds: [
          'natGatewayId' in call ? call.natGatewayId : call.DeleteNatGatewayRequest.NatGatewayId,
        ],
      });
    }
    case 'ModifyNetworkInterfaceAttribute':
      return targets({
        networkInterfaceIds: [parseWith(modifyNetworkInterface, request, at).networkInterfaceId],
      });
    // Route 53 (received in us-east-1): an association names the VPC and its Region.
    case 'AssociateVPCWithHostedZone':
    case 'DisassociateVPCFromHostedZone': {
      const { vPC } = parseWith(route53Association, request, at);
      return { kind: 'targets', region: vPC.vPCRegion, targets: { ...NO_TARGETS, vpcIds: [vPC.vPCId] } };
    }
    case 'CreateHostedZone': {
      const { vPC } = parseWith(createHostedZone, request, at);
      // A public zone (no VPC; the rule matches private ones only) changes no VPC's resolution, but
      // its event names no Region either: it is read as a record change.
      return vPC
        ? { kind: 'targets', region: vPC.vPCRegion, targets: { ...NO_TARGETS, vpcIds: [vPC.vPCId] } }
        : { kind: 'sweep' };
    }
    case 'ChangeResourceRecordSets':
      // Names only the zone: the VPCs associated with it, in whichever Regions, are not in the event.
      parseWith(changeRecordSets, request, at);
      return { kind: 'sweep' };
    case 'ModifySecurityGroupRules':
      return targets({
        securityGroupIds: [
          parseWith(modifySecurityGroupRules, request, at).ModifySecurityGroupRulesRequest.GroupId,
        ],
      });
    case 'CreateService':
    case 'UpdateService':
    case 'RunTask':
    case 'StartTask': {
      // awsvpc work names its subnets; work on EC2 capacity lands in the VPCs of the cluster's
      // instances, which the event does not name: then the whole Region is re-read.
      // The cluster it names is read too: it may be new since the sweep that made the index.
      const subnets = parseWith(awsvpcSubnets, request, at)?.networkConfiguration?.awsvpcConfiguration
        ?.subnets;
      const clusterArn = clusterArnOf(parseWith(ecsCluster, request, at)?.cluster, eventRegion, account);
      return subnets && subnets.length > 0
        ? targets({ subnetIds: subnets, ...(clusterArn ? { clusterArns: [clusterArn] } : {}) })
        : { kind: 'region', region: eventRegion };
    }
    case 'RegisterContainerInstance':
      return { kind: 'region', region: eventRegion };
    default:
      throw new EventParseError(
        [`detail.eventName: ${detail.eventName} is not an event the rules match`],
        'unmatched',
      );
  }
}

function parseCloudTrail(event: z.infer<typeof envelope>): ParsedEvent {
  const detail = parseWith(cloudTrailDetail, event.detail, 'detail');
  // An own property only: `constructor`, `__proto__` or `toString` are "in" every object.
  const known: readonly string[] = Object.hasOwn(CLOUDTRAIL_EVENTS, detail.eventSource)
    ? CLOUDTRAIL_EVENTS[detail.eventSource as keyof typeof CLOUDTRAIL_EVENTS]
    : [];
  const service = detail.eventSource.replace(/\.amazonaws\.com$/, '');
  const trigger = `${service}:${detail.eventName}`;
  const eventId = detail.eventID ?? event.id;
  if (!known.includes(detail.eventName)) {
    throw new EventParseError([`detail: ${trigger} is not an event the rules match`], 'unmatched');
  }
  // A failed call changed nothing: there is nothing to re-read.
  if (detail.errorCode !== undefined) {
    return {
      status: 'ignored',
      eventId,
      trigger,
      code: 'call-failed',
      reason: `the call failed (${detail.errorCode})`,
    };
  }
  const scope = cloudTrailScope(
    detail,
    detail.awsRegion ?? event.region,
    event.account ?? detail.recipientAccountId,
  );
  return { status: 'hint', hint: { eventId, trigger, time: event.time, scope } };
}

function parseContainerInstance(event: z.infer<typeof envelope>): ParsedEvent {
  const detail = parseWith(containerInstanceDetail, event.detail, 'detail');
  const trigger = 'ecs:ContainerInstanceStateChange';
  if (detail.status !== 'ACTIVE' && detail.status !== 'DRAINING') {
    return {
      status: 'ignored',
      eventId: event.id,
      trigger,
      code: 'instance-inactive',
      reason: `container instance is ${detail.status}`,
    };
  }
  // ECS sets these attributes on every EC2 container instance; without them, re-read the Region.
  const attribute = (name: string) => detail.attributes?.find((a) => a.name === name)?.value;
  const vpc = vpcIdSchema.safeParse(attribute('ecs.vpc-id'));
  const subnet = subnetId.safeParse(attribute('ecs.subnet-id'));
  // Its cluster is read too: the instance may be the cluster's first in this VPC.
  const clusterArn = clusterArnOf(detail.clusterArn, event.region, event.account);
  const clusters = detail.clusterArn !== undefined && clusterArn ? { clusterArns: [clusterArn] } : {};
  const scope: HintScope = vpc.success
    ? { kind: 'targets', region: event.region, targets: { ...NO_TARGETS, vpcIds: [vpc.data], ...clusters } }
    : subnet.success
      ? {
          kind: 'targets',
          region: event.region,
          targets: { ...NO_TARGETS, subnetIds: [subnet.data], ...clusters },
        }
      : { kind: 'region', region: event.region };
  return { status: 'hint', hint: { eventId: event.id, trigger, time: event.time, scope } };
}

/** A restart continuation: a reconcile of the VPCs it names, in its Region. */
function parseContinuation(event: z.infer<typeof envelope>): ParsedEvent {
  if (event.source !== REMEDIATOR_SOURCE)
    throw new EventParseError([`source: expected ${REMEDIATOR_SOURCE}, got ${event.source}`], 'unmatched');
  const detail = parseWith(continuationDetail, event.detail, 'detail');
  return {
    status: 'hint',
    hint: {
      eventId: event.id,
      trigger: 'remediator:RestartContinuation',
      time: event.time,
      scope: {
        kind: 'targets',
        region: event.region,
        targets: { ...NO_TARGETS, vpcIds: [...new Set(detail.vpcIds)].sort() },
      },
    },
  };
}

/** A work unit of a split sweep: its Region's unit, run alone. */
function parseWorkUnit(event: z.infer<typeof envelope>): ParsedEvent {
  if (event.source !== REMEDIATOR_SOURCE)
    throw new EventParseError([`source: expected ${REMEDIATOR_SOURCE}, got ${event.source}`], 'unmatched');
  const unit = parseWith(workUnitDetail, event.detail, 'detail');
  const problems = unitProblems(unit);
  if (problems.length > 0) throw new EventParseError(problems);
  return {
    status: 'hint',
    hint: {
      eventId: event.id,
      trigger: `remediator:WorkUnit:${unit.phase}`,
      time: event.time,
      scope: { kind: 'unit', region: event.region, unit },
    },
  };
}

/** What a restart continuation says: which VPCs of which Region to reconcile again, and why. */
export interface RestartContinuation {
  /** Unique per continuation: each is a new occurrence to the idempotency records. */
  readonly id: string;
  readonly time: string;
  readonly region: string;
  readonly account?: string;
  readonly vpcIds: readonly string[];
  readonly reason?: string;
}

/**
 * The message body of a restart continuation: an EventBridge-shaped event that {@link parseEvent}
 * reads back as a hint for its VPCs (events/remediator-restart-continuation.json is one).
 */
export function restartContinuationBody(continuation: RestartContinuation): string {
  return JSON.stringify({
    version: '0',
    id: continuation.id,
    'detail-type': CONTINUATION_DETAIL_TYPE,
    source: REMEDIATOR_SOURCE,
    ...(continuation.account === undefined ? {} : { account: continuation.account }),
    time: continuation.time,
    region: continuation.region,
    resources: [],
    detail: {
      vpcIds: [...continuation.vpcIds],
      ...(continuation.reason === undefined ? {} : { reason: continuation.reason.slice(0, 1000) }),
    },
  });
}

/**
 * Reads one EventBridge event (already JSON-parsed). Returns a hint, or `ignored` for an event that
 * changed nothing (a failed call, a stopped instance); throws {@link EventParseError} for anything
 * the rules should not have matched or whose shape is unexpected.
 */
export function parseEvent(input: unknown): ParsedEvent {
  const event = parseWith(envelope, input, '');
  switch (event['detail-type']) {
    case CLOUDTRAIL_DETAIL_TYPE:
      return parseCloudTrail(event);
    case CONTAINER_INSTANCE_DETAIL_TYPE:
      if (event.source !== 'aws.ecs')
        throw new EventParseError([`source: expected aws.ecs, got ${event.source}`], 'unmatched');
      return parseContainerInstance(event);
    case SCHEDULE_DETAIL_TYPE:
      return {
        status: 'hint',
        hint: { eventId: event.id, trigger: 'schedule', time: event.time, scope: { kind: 'sweep' } },
      };
    case CONTINUATION_DETAIL_TYPE:
      return parseContinuation(event);
    case WORK_UNIT_DETAIL_TYPE:
      return parseWorkUnit(event);
    default:
      throw new EventParseError(
        [`detail-type: "${event['detail-type']}" is not an event the rules match`],
        'unmatched',
      );
  }
}

/** Reads an SQS message body: the JSON text of one EventBridge event. */
export function parseEventBody(body: string): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new EventParseError(
      [`body: not JSON (${error instanceof Error ? error.message : String(error)})`],
      'not-json',
    );
  }
  return parseEvent(json);
}

/**
 * How one message body is to be handled: a {@link ParsedEvent}, or `terminal` with the reason it can
 * never be processed. Never throws: an error other than an {@link EventParseError} (a bug the body
 * provoked) is `unprocessable`, since reading a body is deterministic and a retry would throw again.
 */
export type EventJudgement =
  | ParsedEvent
  | { readonly status: 'terminal'; readonly reason: TerminalReason; readonly problems: readonly string[] };

/** Judges one SQS message body alone (see {@link EventJudgement}); never throws. */
export function judgeEventBody(body: string): EventJudgement {
  try {
    return parseEventBody(body);
  } catch (error) {
    if (error instanceof EventParseError)
      return { status: 'terminal', reason: error.reason, problems: error.problems };
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { status: 'terminal', reason: 'unprocessable', problems: [`(root): reading it threw ${what}`] };
  }
}

// ------------------------------------------------------------------------------------------------
// Coalescing
// ------------------------------------------------------------------------------------------------

/** The id lists of {@link HintTargets}: a fixed list, never the keys of an object that came in. */
const TARGET_KEYS = [
  'vpcIds',
  'vpcEndpointIds',
  'securityGroupIds',
  'subnetIds',
  'routeTableIds',
  'natGatewayIds',
  'networkInterfaceIds',
  'securityGroupNames',
  'clusterArns',
] as const;

/** The optional id lists: in a coalesced unit only when some hint named one. */
const OPTIONAL_TARGET_KEYS = [
  'routeTableIds',
  'natGatewayIds',
  'networkInterfaceIds',
  'securityGroupNames',
  'clusterArns',
] as const;

/** The reconciles a batch of hints asks for: per Region, every VPC-naming id, or the whole Region. */
export type RegionWork =
  | {
      readonly region: string;
      readonly whole: true;
      readonly eventIds: readonly string[];
      /**
       * The targets of the events that named some, when every other event of the Region was a sweep:
       * what to reconcile as event-scoped work if the sweep is left to a split run under way
       * (aws/event-batch.ts), which would not read them again in time.
       */
      readonly targets?: HintTargets;
    }
  | {
      readonly region: string;
      readonly whole: false;
      readonly targets: HintTargets;
      readonly eventIds: readonly string[];
    };

/** One work unit of a split sweep, with the event id of its message. */
export interface UnitWork {
  readonly region: string;
  readonly unit: WorkUnit;
  readonly eventIds: readonly string[];
}

/**
 * Coalesces a batch of hints into one unit of work per Region: a burst of events for one VPC becomes
 * one reconcile of it. A sweep covers each of `regions`; a Region not among `regions` is out of scope
 * for this deployment and dropped (returned in `outOfScope`). Work units are never coalesced: each is
 * in `units` alone.
 */
export function coalesceHints(
  hints: readonly ReconcileHint[],
  regions: readonly string[],
): { readonly work: RegionWork[]; readonly units: UnitWork[]; readonly outOfScope: ReconcileHint[] } {
  const byRegion = new Map<
    string,
    {
      whole: boolean;
      /** An event of the Region's own (not a sweep) named no target: it cannot be narrowed. */
      regionWide: boolean;
      targets: Record<keyof HintTargets, Set<string>>;
      ids: string[];
    }
  >();
  const entry = (name: string) => {
    let found = byRegion.get(name);
    if (!found) {
      found = {
        whole: false,
        regionWide: false,
        targets: {
          vpcIds: new Set(),
          vpcEndpointIds: new Set(),
          securityGroupIds: new Set(),
          subnetIds: new Set(),
          routeTableIds: new Set(),
          natGatewayIds: new Set(),
          networkInterfaceIds: new Set(),
          securityGroupNames: new Set(),
          clusterArns: new Set(),
        },
        ids: [],
      };
      byRegion.set(name, found);
    }
    return found;
  };
  const outOfScope: ReconcileHint[] = [];
  const units: UnitWork[] = [];
  for (const hint of hints) {
    const { scope } = hint;
    if (scope.kind === 'unit') {
      if (regions.includes(scope.region))
        units.push({ region: scope.region, unit: scope.unit, eventIds: [hint.eventId] });
      else outOfScope.push(hint);
      continue;
    }
    if (scope.kind === 'sweep') {
      for (const name of regions) {
        const e = entry(name);
        e.whole = true;
        e.ids.push(hint.eventId);
      }
      continue;
    }
    if (!regions.includes(scope.region)) {
      outOfScope.push(hint);
      continue;
    }
    const e = entry(scope.region);
    e.ids.push(hint.eventId);
    if (scope.kind === 'region') {
      e.whole = true;
      e.regionWide = true;
    } else
      for (const key of TARGET_KEYS) {
        for (const id of scope.targets[key] ?? []) e.targets[key].add(id);
      }
  }
  const work = [...byRegion].map(([name, e]): RegionWork => {
    const eventIds = [...new Set(e.ids)];
    const sorted = (set: Set<string>) => [...set].sort();
    const targets: HintTargets = {
      vpcIds: sorted(e.targets.vpcIds),
      vpcEndpointIds: sorted(e.targets.vpcEndpointIds),
      securityGroupIds: sorted(e.targets.securityGroupIds),
      subnetIds: sorted(e.targets.subnetIds),
      ...Object.fromEntries(
        OPTIONAL_TARGET_KEYS.filter((key) => e.targets[key].size > 0).map((key) => [
          key,
          sorted(e.targets[key]),
        ]),
      ),
    };
    if (!e.whole) return { region: name, whole: false, eventIds, targets };
    const named = TARGET_KEYS.some((key) => e.targets[key].size > 0);
    return { region: name, whole: true, eventIds, ...(named && !e.regionWide ? { targets } : {}) };
  });
  return { work, units, outOfScope };
}
