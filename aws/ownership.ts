/**
 * Ownership that cannot be borrowed: the deployed remediator's records of the endpoints and security
 * groups it made, in its state table. The managed tag (`ecs-endpoint-remediator/managed=true`) stays
 * on everything it creates, for people and for the CLI, but a tag anyone with `ec2:CreateTags` can
 * copy is a hint, not proof. So the deployed remediator treats an endpoint or group as its own (to
 * change, delete, reset the policy of, or give rules to) only when it is tagged and recorded here
 * (core/planner.ts `ownershipOf`; the ids reach core as `RegionSnapshot.ownedResourceIds`).
 *
 * Items (pk `OWNED#<region>`; aws/state.ts's header lists every item kind of the table):
 *
 * - `<resource id>`: the endpoint or group was made by the remediator (or adopted, below). Written
 *   right after its create returned, before the apply's next action, and whenever the remediator
 *   proves a resource of its own making later (a resumed intent). A put: idempotent.
 * - `INTENT#<key>`: written ahead of each create. A create whose result never got recorded (the
 *   function died, the record's write failed, the call timed out after AWS made the endpoint) leaves
 *   its intent; the next reconcile resumes it: an endpoint by replaying the create with the intent's
 *   ClientToken and request (AWS answers a replayed token with the endpoint that token made, so the
 *   answer, not a tag, is the proof); a group by the random marker its intent holds, with which it
 *   was tagged at creation (a group name is unique in a VPC, and nobody knew the marker before the
 *   group existed).
 * - `ADOPTION#<label>`: the one-time adoption `label` ran in this Region (`adoptTaggedResources`,
 *   docs/deploy.md, Ownership): every tagged endpoint and group then existing was recorded, once.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateVpcEndpointCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type {
  CreateVpcEndpointCommandInput,
  EC2Client,
  Filter,
  VpcEndpoint as SdkVpcEndpoint,
} from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { Mode } from '../core/alerts.ts';
import type {
  CreateEndpointAction,
  CreateGatewayEndpointAction,
  CreateSecurityGroupAction,
} from '../core/actions.ts';
import { MANAGED_TAG } from '../core/actions.ts';
import type { ChatbotNotification } from '../core/chatbot.ts';
import { MAX_LINES_PER_SECTION, inlineText } from '../core/chatbot.ts';
import { fnv1a64 } from '../core/hash.ts';
import { SettingsError } from './environment.ts';
import { errorMessage, errorName } from './errors.ts';
import { collectPages } from './pagination.ts';
import { KEY, StateRecordError, TTL_ATTRIBUTE, queryPartition } from './state.ts';

/** The tag a security group gets at creation: the random marker of the intent that made it. */
export const CREATION_TAG = 'ecs-endpoint-remediator/creation';

/** An intent older than this is dropped unresumed: AWS keeps a ClientToken for at least 24 hours. */
export const INTENT_MAX_AGE_MS = 24 * 3600 * 1000;

/** How long an intent item lives in the table (TTL) if nothing removes it. */
const INTENT_RETAIN_SECONDS = 7 * 24 * 3600;

/** An adoption label: what an operator passes as `adoptTaggedResources` (a DynamoDB key part). */
export const ADOPTION_LABEL = /^[A-Za-z0-9._:-]{1,100}$/;

export type OwnedKind = 'vpc-endpoint' | 'security-group';

/** How the remediator knows the resource is its own: it made it, resumed its intent, or adopted it. */
export type RecordedHow = 'created' | 'resumed' | 'adopted';

export interface OwnedRecord {
  readonly resourceId: string;
  readonly kind: OwnedKind;
  readonly vpcId: string;
  /** The endpoint's service name, or the group's name. */
  readonly name: string;
  readonly how: RecordedHow;
  /** When it was recorded (ISO-8601). */
  readonly at: string;
  /** The adoption's label, for `adopted`. */
  readonly adoption?: string;
}

/** The create an endpoint intent stands for: exactly the request aws/apply.ts sends. */
export interface EndpointRequest {
  readonly type: 'Interface' | 'Gateway';
  readonly serviceName: string;
  readonly clientToken: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly routeTableIds: readonly string[];
  readonly ipAddressType?: 'dualstack' | 'ipv6';
  readonly tags: Readonly<Record<string, string>>;
}

export type CreationIntent =
  | {
      readonly kind: 'vpc-endpoint';
      readonly key: string;
      readonly vpcId: string;
      readonly at: string;
      readonly request: EndpointRequest;
    }
  | {
      readonly kind: 'security-group';
      readonly key: string;
      readonly vpcId: string;
      readonly at: string;
      readonly groupName: string;
      readonly marker: string;
    };

export interface RegionRecords {
  readonly owned: ReadonlyMap<string, OwnedRecord>;
  readonly intents: readonly CreationIntent[];
  /** Labels of the adoptions done in the Region. */
  readonly adoptions: ReadonlySet<string>;
}

export interface OwnershipStore {
  /** Every record of the Region (one query of its partition). */
  load(region: string): Promise<RegionRecords>;
  /** Records a resource as the remediator's (a put: recording twice is harmless). */
  record(region: string, record: OwnedRecord): Promise<void>;
  putIntent(region: string, intent: CreationIntent): Promise<void>;
  removeIntent(region: string, key: string): Promise<void>;
  /** Marks the adoption `label` done in the Region. */
  completeAdoption(region: string, label: string, adopted: number, at: string): Promise<void>;
}

const ownedSchema = z.object({
  resourceId: z.string(),
  kind: z.enum(['vpc-endpoint', 'security-group']),
  vpcId: z.string(),
  name: z.string(),
  how: z.enum(['created', 'resumed', 'adopted']),
  at: z.string(),
  adoption: z.optional(z.string()),
});

const intentSchema = z.union([
  z.object({
    kind: z.literal('vpc-endpoint'),
    key: z.string(),
    vpcId: z.string(),
    at: z.string(),
    request: z.object({
      type: z.enum(['Interface', 'Gateway']),
      serviceName: z.string(),
      clientToken: z.string(),
      subnetIds: z.array(z.string()),
      securityGroupIds: z.array(z.string()),
      routeTableIds: z.array(z.string()),
      ipAddressType: z.optional(z.enum(['dualstack', 'ipv6'])),
      tags: z.record(z.string(), z.string()),
    }),
  }),
  z.object({
    kind: z.literal('security-group'),
    key: z.string(),
    vpcId: z.string(),
    at: z.string(),
    groupName: z.string(),
    marker: z.string(),
  }),
]);

const INTENT_PREFIX = 'INTENT#';
const ADOPTION_PREFIX = 'ADOPTION#';

const S = (value: string): AttributeValue => ({ S: value });
const partition = (region: string) => `OWNED#${region}`;

function parse<T>(schema: z.ZodMiniType<T>, item: Record<string, AttributeValue>): T {
  const key = `${item[KEY.partition]?.S ?? '?'}/${item[KEY.sort]?.S ?? '?'}`;
  let json: unknown;
  try {
    json = JSON.parse(item.record?.S ?? '');
  } catch {
    throw new StateRecordError(key, 'record is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new StateRecordError(key, parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

export function createOwnershipStore(client: DynamoDBClient, tableName: string): OwnershipStore {
  const put = (region: string, sk: string, record: unknown, expiresAt?: number) =>
    client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          [KEY.partition]: S(partition(region)),
          [KEY.sort]: S(sk),
          record: S(JSON.stringify(record)),
          ...(expiresAt === undefined ? {} : { [TTL_ATTRIBUTE]: { N: String(expiresAt) } }),
        },
      }),
    );
  return {
    async load(region) {
      const items = await queryPartition(client, tableName, partition(region));
      const owned = new Map<string, OwnedRecord>();
      const intents: CreationIntent[] = [];
      const adoptions = new Set<string>();
      for (const item of items) {
        const sk = item[KEY.sort]?.S ?? '';
        if (sk.startsWith(INTENT_PREFIX)) intents.push(parse(intentSchema, item));
        else if (sk.startsWith(ADOPTION_PREFIX)) adoptions.add(sk.slice(ADOPTION_PREFIX.length));
        else {
          const record = parse(ownedSchema, item);
          owned.set(record.resourceId, record);
        }
      }
      return { owned, intents, adoptions };
    },
    async record(region, record) {
      await put(region, record.resourceId, record);
    },
    async putIntent(region, intent) {
      const expires = Math.floor(Date.parse(intent.at) / 1000) + INTENT_RETAIN_SECONDS;
      await put(region, `${INTENT_PREFIX}${intent.key}`, intent, expires);
    },
    async removeIntent(region, key) {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: { [KEY.partition]: S(partition(region)), [KEY.sort]: S(`${INTENT_PREFIX}${key}`) },
        }),
      );
    },
    async completeAdoption(region, label, adopted, at) {
      await put(region, `${ADOPTION_PREFIX}${label}`, { label, adopted, at });
    },
  };
}

// -------------------------------------------------------------------------------------------------
// The endpoint request (shared by the intent and its replay)
// -------------------------------------------------------------------------------------------------

type EndpointCreate = CreateEndpointAction | CreateGatewayEndpointAction;
export type CreateAction = EndpointCreate | CreateSecurityGroupAction;

/** What an endpoint create sends, as its intent keeps it (`securityGroupIds`: the resolved groups). */
export function endpointRequestOf(
  action: EndpointCreate,
  securityGroupIds: readonly string[],
): EndpointRequest {
  return {
    type: action.kind === 'CREATE_ENDPOINT' ? 'Interface' : 'Gateway',
    serviceName: action.serviceName,
    clientToken: action.clientToken,
    subnetIds: action.kind === 'CREATE_ENDPOINT' ? action.subnetIds : [],
    securityGroupIds: action.kind === 'CREATE_ENDPOINT' ? securityGroupIds : [],
    routeTableIds: action.kind === 'CREATE_GATEWAY_ENDPOINT' ? action.routeTableIds : [],
    ...(action.kind === 'CREATE_ENDPOINT' && action.ipAddressType !== undefined
      ? { ipAddressType: action.ipAddressType }
      : {}),
    tags: action.tags,
  };
}

/**
 * The CreateVpcEndpoint input of a request with `clientToken`: the same as aws/apply.ts
 * `createEndpoint` sends (test/aws/ownership.test.ts compares the two). AWS answers a replayed token
 * only when the rest of the request is the same (else IdempotentParameterMismatch: the intent then
 * stays unresumed, which is safe).
 */
export function createEndpointInput(
  vpcId: string,
  request: EndpointRequest,
  clientToken: string = request.clientToken,
): CreateVpcEndpointCommandInput {
  return {
    VpcEndpointType: request.type,
    VpcId: vpcId,
    ServiceName: request.serviceName,
    ClientToken: clientToken,
    TagSpecifications: [
      {
        ResourceType: 'vpc-endpoint',
        Tags: Object.entries(request.tags).map(([Key, Value]) => ({ Key, Value })),
      },
    ],
    ...(request.type === 'Interface'
      ? {
          SubnetIds: [...request.subnetIds],
          SecurityGroupIds: [...request.securityGroupIds],
          PrivateDnsEnabled: true,
          ...(request.ipAddressType === undefined
            ? {}
            : {
                IpAddressType: request.ipAddressType,
                DnsOptions: { DnsRecordIpType: request.ipAddressType },
              }),
        }
      : { RouteTableIds: [...request.routeTableIds] }),
  };
}

/** The token aws/apply.ts steps to when AWS answers `token` with a deleted endpoint. */
function nextToken(token: string, deletedEndpointId: string): string {
  return `eer-${fnv1a64(`${token}|${deletedEndpointId}`)}`;
}

/** Same steps over deleted endpoints as aws/apply.ts `createEndpoint`. */
const MAX_TOKEN_REPLAYS = 5;

const MANAGED_FILTER: Filter = { Name: `tag:${MANAGED_TAG.key}`, Values: [MANAGED_TAG.value] };

function isLive(state: string | undefined): boolean {
  const normalised = (state ?? '').toLowerCase();
  return !['deleted', 'deleting', 'failed', 'rejected'].includes(normalised);
}

// -------------------------------------------------------------------------------------------------
// Recording the creates of an apply
// -------------------------------------------------------------------------------------------------

/** What aws/apply.ts calls around each create when the remediator keeps records (the Lambda). */
export interface CreationRecorder {
  /**
   * Before a create is sent: writes its intent. Returns the action to send (a group gets its marker
   * tag). Throws when the intent cannot be written: the create is then not attempted.
   */
  beforeCreate(action: CreateAction, securityGroupIds: readonly string[]): Promise<CreateAction>;
  /**
   * After a create returned. `succeeded` (its request made the resource) records `resourceId`. An
   * endpoint create that is `already-satisfied` although no endpoint of its service existed before
   * it (AWS answered its ClientToken with an endpoint made earlier, or refused it for a concurrent
   * one) is proven by replaying the token: what AWS answers with is the token's, and recorded. Then
   * the intent goes (it stays when the proof meets a transient error: the next reconcile resumes it).
   * Throws when a record cannot be written: the action then fails, and its intent makes the next
   * reconcile record it.
   */
  afterCreate(
    action: CreateAction,
    outcome: 'succeeded' | 'already-satisfied',
    resourceId?: string,
  ): Promise<void>;
  /** Whether the resource is recorded as the remediator's (a group found by name must be). */
  owns(resourceId: string): boolean;
}

/** Refusals that settle a replay for good: the token was used otherwise, or an equivalent exists. */
const FINAL_REPLAY_ERRORS = new Set([
  'IdempotentParameterMismatch',
  'InvalidParameter',
  'InvalidParameterValue',
  'RouteAlreadyExists',
  'InvalidVpcId.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidGroup.NotFound',
  'InvalidRouteTableId.NotFound',
]);

/**
 * Replays an endpoint intent's create (its token, its request): the live endpoint AWS answers with
 * (stepping over deleted ones as aws/apply.ts does), `undefined` when AWS refuses it for good, or
 * throws on a transient error.
 */
async function replay(
  ec2: EC2Client,
  intent: Extract<CreationIntent, { kind: 'vpc-endpoint' }>,
): Promise<{ readonly endpointId: string } | { readonly refused: string }> {
  try {
    let token = intent.request.clientToken;
    for (let step = 0; step <= MAX_TOKEN_REPLAYS; step += 1) {
      const endpoint = (
        await ec2.send(new CreateVpcEndpointCommand(createEndpointInput(intent.vpcId, intent.request, token)))
      ).VpcEndpoint;
      if (!endpoint?.VpcEndpointId) throw new Error('CreateVpcEndpoint returned no endpoint');
      if (isLive(endpoint.State)) return { endpointId: endpoint.VpcEndpointId };
      token = nextToken(token, endpoint.VpcEndpointId);
    }
    return { refused: 'its tokens answer only with deleted endpoints' };
  } catch (error) {
    const name = errorName(error);
    if (FINAL_REPLAY_ERRORS.has(name) || /conflicting DNS domain/i.test(errorMessage(error)))
      return { refused: `replay refused (${name}: ${errorMessage(error)})` };
    throw error;
  }
}

/** Live endpoints of the VPC for the service and type, tagged as managed or not. */
async function endpointsOf(
  ec2: EC2Client,
  vpcId: string,
  request: EndpointRequest,
  taggedOnly: boolean,
): Promise<SdkVpcEndpoint[]> {
  const out = await ec2.send(
    new DescribeVpcEndpointsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'service-name', Values: [request.serviceName] },
        { Name: 'vpc-endpoint-type', Values: [request.type] },
        ...(taggedOnly ? [MANAGED_FILTER] : []),
      ],
    }),
  );
  return (out.VpcEndpoints ?? []).filter(
    (endpoint) => isLive(endpoint.State) && endpoint.VpcEndpointId !== undefined,
  );
}

export function createRecorder(
  store: OwnershipStore,
  region: string,
  ec2: EC2Client,
  owned: Set<string>,
  now: () => Date,
  log: (message: string, fields: Record<string, unknown>) => void,
): CreationRecorder {
  /** By action id: the intent written, or null for an endpoint that existed before (nothing sent). */
  const intents = new Map<string, CreationIntent | null>();
  const record = async (action: CreateAction, resourceId: string, how: RecordedHow) => {
    if (owned.has(resourceId)) return;
    await store.record(region, {
      resourceId,
      kind: action.kind === 'CREATE_SECURITY_GROUP' ? 'security-group' : 'vpc-endpoint',
      vpcId: action.vpcId,
      name: action.kind === 'CREATE_SECURITY_GROUP' ? action.groupName : action.serviceName,
      how,
      at: now().toISOString(),
    });
    owned.add(resourceId);
  };
  const settle = async (intent: CreationIntent) => {
    try {
      await store.removeIntent(region, intent.key);
    } catch (error) {
      // Harmless: the next reconcile finds the resource recorded (or nothing made) and drops it.
      log('ownership: intent not removed', {
        region,
        key: intent.key,
        error: errorName(error),
        message: errorMessage(error),
      });
    }
  };
  return {
    async beforeCreate(action, securityGroupIds) {
      const at = now().toISOString();
      if (action.kind === 'CREATE_SECURITY_GROUP') {
        const marker = randomUUID();
        const intent: CreationIntent = {
          kind: 'security-group',
          key: `${action.vpcId}#${action.groupName}`,
          vpcId: action.vpcId,
          at,
          groupName: action.groupName,
          marker,
        };
        await store.putIntent(region, intent);
        intents.set(action.id, intent);
        return { ...action, tags: { ...action.tags, [CREATION_TAG]: marker } };
      }
      const request = endpointRequestOf(action, securityGroupIds);
      // The apply sends nothing when the service's endpoint exists already: no intent then, and an
      // `already-satisfied` is what was found, not made.
      if ((await endpointsOf(ec2, action.vpcId, request, false)).length > 0) {
        intents.set(action.id, null);
        return action;
      }
      const intent: CreationIntent = {
        kind: 'vpc-endpoint',
        key: `${action.vpcId}#${action.serviceName}#${action.clientToken}`,
        vpcId: action.vpcId,
        at,
        request,
      };
      await store.putIntent(region, intent);
      intents.set(action.id, intent);
      return action;
    },
    async afterCreate(action, outcome, resourceId) {
      const intent = intents.get(action.id);
      intents.delete(action.id);
      if (outcome === 'succeeded' && resourceId !== undefined) await record(action, resourceId, 'created');
      else if (outcome === 'already-satisfied' && intent?.kind === 'vpc-endpoint') {
        let proof: Awaited<ReturnType<typeof replay>>;
        try {
          proof = await replay(ec2, intent);
        } catch (error) {
          log('ownership: replay failed; the next reconcile resumes the intent', {
            region,
            key: intent.key,
            error: errorName(error),
            message: errorMessage(error),
          });
          return;
        }
        if ('endpointId' in proof) await record(action, proof.endpointId, 'created');
        else log('ownership: not made by this create', { region, key: intent.key, reason: proof.refused });
      }
      if (intent) await settle(intent);
    },
    owns: (resourceId) => owned.has(resourceId),
  };
}

// -------------------------------------------------------------------------------------------------
// Resuming intents
// -------------------------------------------------------------------------------------------------

export interface ResumeResult {
  /** Resources proven the remediator's and recorded. */
  readonly recorded: OwnedRecord[];
  /** Intents settled without a record (nothing of the remediator's making found), with why. */
  readonly dropped: Array<{ readonly key: string; readonly reason: string }>;
  /** Intents left for the next reconcile (a transient error), with why. */
  readonly kept: Array<{ readonly key: string; readonly reason: string }>;
}

/**
 * Resumes the Region's intents left by creates whose result was never recorded. A group is proven by
 * its creation marker. An endpoint (enforce mode: the proof is a replayed create) is replayed only
 * when a live tagged endpoint without a record exists for its VPC, service and type: the sign that
 * its create may have gone through (the plan asked for the create because no such endpoint existed).
 * Without one there is nothing to record, and a replay of a token never used would create an endpoint
 * the next plan may not ask for. What the replay answers with is recorded, whichever endpoint it is:
 * AWS says the token made it.
 */
export async function resumeIntents(
  ec2: EC2Client,
  store: OwnershipStore,
  region: string,
  intents: readonly CreationIntent[],
  owned: Set<string>,
  now: Date,
  mode: Mode,
): Promise<ResumeResult> {
  const result: ResumeResult = { recorded: [], dropped: [], kept: [] };
  const drop = async (key: string, reason: string) => {
    await store.removeIntent(region, key);
    result.dropped.push({ key, reason });
  };
  const record = async (intent: CreationIntent, resourceId: string, name: string) => {
    if (!owned.has(resourceId)) {
      const entry: OwnedRecord = {
        resourceId,
        kind: intent.kind,
        vpcId: intent.vpcId,
        name,
        how: 'resumed',
        at: now.toISOString(),
      };
      await store.record(region, entry);
      owned.add(resourceId);
      result.recorded.push(entry);
    }
    await store.removeIntent(region, intent.key);
  };
  for (const intent of intents) {
    if (intent.kind === 'security-group') {
      const groups =
        (
          await ec2.send(
            new DescribeSecurityGroupsCommand({
              Filters: [
                { Name: 'vpc-id', Values: [intent.vpcId] },
                { Name: 'group-name', Values: [intent.groupName] },
              ],
            }),
          )
        ).SecurityGroups ?? [];
      const made = groups.find((group) =>
        (group.Tags ?? []).some((tag) => tag.Key === CREATION_TAG && tag.Value === intent.marker),
      );
      if (made?.GroupId) await record(intent, made.GroupId, intent.groupName);
      else await drop(intent.key, 'no group carries its creation marker: it was not made');
      continue;
    }
    // Report mode may not create: a replay waits for enforce mode (or the item's TTL).
    if (mode !== 'enforce') continue;
    if (now.getTime() - Date.parse(intent.at) > INTENT_MAX_AGE_MS) {
      await drop(intent.key, 'older than a ClientToken lasts: not provable by a replay');
      continue;
    }
    const candidates = (await endpointsOf(ec2, intent.vpcId, intent.request, true)).filter(
      (endpoint) => !owned.has(endpoint.VpcEndpointId ?? ''),
    );
    if (candidates.length === 0) {
      await drop(intent.key, 'no unrecorded tagged endpoint of its service: its create did not go through');
      continue;
    }
    try {
      const proof = await replay(ec2, intent);
      if ('endpointId' in proof) await record(intent, proof.endpointId, intent.request.serviceName);
      else await drop(intent.key, proof.refused);
    } catch (error) {
      result.kept.push({ key: intent.key, reason: `${errorName(error)}: ${errorMessage(error)}` });
    }
  }
  return result;
}

// -------------------------------------------------------------------------------------------------
// One-time adoption
// -------------------------------------------------------------------------------------------------

/**
 * Records every endpoint (not deleted) and security group of the Region that carries the managed tag
 * and is not recorded yet, then `announce`s them (the alert goes to the outbox before the adoption
 * is marked done, so it is never lost), then marks the adoption `label` done. Returns what it recorded.
 */
export async function adoptTagged(
  ec2: EC2Client,
  store: OwnershipStore,
  region: string,
  label: string,
  owned: Set<string>,
  now: Date,
  announce: (adopted: readonly OwnedRecord[]) => Promise<void> = async () => {},
): Promise<OwnedRecord[]> {
  const endpoints = await collectPages(async (token) => {
    const out = await ec2.send(
      new DescribeVpcEndpointsCommand({
        Filters: [MANAGED_FILTER],
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    return { items: out.VpcEndpoints, nextToken: out.NextToken };
  });
  const groups = await collectPages(async (token) => {
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [MANAGED_FILTER],
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    return { items: out.SecurityGroups, nextToken: out.NextToken };
  });
  const at = now.toISOString();
  const found: OwnedRecord[] = [
    ...endpoints
      .filter((endpoint) => isLive(endpoint.State))
      .map((endpoint): OwnedRecord => ({
        resourceId: endpoint.VpcEndpointId ?? '',
        kind: 'vpc-endpoint',
        vpcId: endpoint.VpcId ?? '',
        name: endpoint.ServiceName ?? '',
        how: 'adopted',
        at,
        adoption: label,
      })),
    ...groups.map((group): OwnedRecord => ({
      resourceId: group.GroupId ?? '',
      kind: 'security-group',
      vpcId: group.VpcId ?? '',
      name: group.GroupName ?? '',
      how: 'adopted',
      at,
      adoption: label,
    })),
  ].filter((record) => record.resourceId !== '' && !owned.has(record.resourceId));
  const adopted = [...new Map(found.map((record) => [record.resourceId, record])).values()].sort((a, b) =>
    a.resourceId.localeCompare(b.resourceId),
  );
  for (const record of adopted) {
    await store.record(region, record);
    owned.add(record.resourceId);
  }
  await announce(adopted);
  await store.completeAdoption(region, label, adopted.length, at);
  return adopted;
}

/** The alert that says what an adoption recorded: someone must look at the list once. */
export function adoptionNotification(
  region: string,
  label: string,
  adopted: readonly OwnedRecord[],
  accountId?: string,
): ChatbotNotification {
  const lines = adopted
    .slice(0, MAX_LINES_PER_SECTION)
    .map(
      (record) =>
        `• \`${inlineText(record.resourceId, 40)}\` ${record.kind} in \`${inlineText(record.vpcId, 40)}\` (${inlineText(record.name, 100)})`,
    );
  if (adopted.length > MAX_LINES_PER_SECTION)
    lines.push(`• … and ${adopted.length - MAX_LINES_PER_SECTION} more (logged as "ownership adopted")`);
  const title = `:label: ECS endpoint remediator: ${adopted.length} tagged resource(s) adopted in ${region}`;
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title,
      description: [
        `_${accountId === undefined ? '' : `account ${accountId}, `}${region}, adoption ${inlineText(label, 100)}_`,
        '',
        `*Recorded as the remediator's own* (they carried \`${MANAGED_TAG.key}=${MANAGED_TAG.value}\`; from now on only recorded resources are changed or deleted)`,
        ...(lines.length > 0 ? lines : ['• nothing: no tagged endpoint or group without a record']),
      ].join('\n'),
      nextSteps: [
        `Check that the remediator made each one; for any it did not, delete the item OWNED#${region} / <id> from the state table and remove its managed tag.`,
        'Then remove the adoptTaggedResources param (docs/deploy.md, Ownership).',
      ],
      keywords: [region, 'ownership-adopted'],
    },
    metadata: {
      threadId: `ecs-endpoint-remediator/${region}/ownership`,
      summary: title,
      eventType: 'ownership-adopted',
      relatedResources: adopted.slice(0, 100).map((record) => record.resourceId),
      additionalContext: {
        region,
        adoption: label,
        ...(accountId === undefined ? {} : { accountId }),
      },
    },
  };
}

// -------------------------------------------------------------------------------------------------
// A Region's ownership for one deployed reconcile
// -------------------------------------------------------------------------------------------------

export interface OwnershipDeps {
  readonly store: OwnershipStore;
  /** `ADOPT_TAGGED_RESOURCES`: the one-time adoption to run in each Region where it has not run yet. */
  readonly adoptionLabel?: string;
}

export interface RegionOwnership {
  /** Recorded ids: the planner's `RegionSnapshot.ownedResourceIds` (grows as the apply records). */
  readonly owned: ReadonlySet<string>;
  readonly recorder: CreationRecorder;
  readonly resumed: ResumeResult | undefined;
  /** What the adoption recorded, when it ran in this reconcile. */
  readonly adopted: readonly OwnedRecord[] | undefined;
}

/**
 * Loads the Region's records, resumes pending intents (enforce mode), runs the adoption if one is
 * asked for and not done here yet, and gives the recorder for the apply.
 */
export async function prepareOwnership(
  deps: OwnershipDeps,
  input: {
    readonly region: string;
    readonly ec2: EC2Client;
    readonly mode: Mode;
    readonly now: () => Date;
    readonly log: (message: string, fields: Record<string, unknown>) => void;
    /** Sends the adoption's alert (to the outbox). */
    readonly announce?: (adopted: readonly OwnedRecord[], label: string) => Promise<void>;
  },
): Promise<RegionOwnership> {
  const { region, ec2, mode, now, log, announce } = input;
  const records = await deps.store.load(region);
  const owned = new Set(records.owned.keys());
  let resumed: ResumeResult | undefined;
  if (records.intents.length > 0) {
    resumed = await resumeIntents(ec2, deps.store, region, records.intents, owned, now(), mode);
    log('ownership: intents resumed', {
      region,
      recorded: resumed.recorded.map((r) => r.resourceId),
      dropped: resumed.dropped,
      kept: resumed.kept,
    });
  }
  let adopted: OwnedRecord[] | undefined;
  const label = deps.adoptionLabel;
  if (label !== undefined && !records.adoptions.has(label)) {
    adopted = await adoptTagged(ec2, deps.store, region, label, owned, now(), (list) =>
      announce ? announce(list, label) : Promise.resolve(),
    );
    log('ownership adopted', { region, adoption: label, resources: adopted.map((r) => r.resourceId) });
  }
  return {
    owned,
    recorder: createRecorder(deps.store, region, ec2, owned, now, log),
    resumed,
    adopted,
  };
}

/**
 * `ADOPT_TAGGED_RESOURCES` (the `adoptTaggedResources` param): empty for none, else a label of
 * letters, digits and `._:-` (at most 100). A bad label fails the cold start loudly.
 */
export function adoptionLabelSetting(value: string | undefined): string | undefined {
  const label = value?.trim() ?? '';
  if (label === '') return undefined;
  if (!ADOPTION_LABEL.test(label))
    throw new SettingsError([
      `ADOPT_TAGGED_RESOURCES: expected a label of letters, digits and ._:- (at most 100), got ${JSON.stringify(label.slice(0, 120))}`,
    ]);
  return label;
}
