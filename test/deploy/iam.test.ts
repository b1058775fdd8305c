// IAM proven, not asserted: the roles of the packaged template (`osls package` offline, once per
// variant) evaluated request by request with an IAM policy evaluator (@cloud-copilot/iam-simulate),
// resource ARNs and condition keys as AWS sees them; and a contract: every operation the code can
// send is allowed to the role of the function that sends it. docs/deploy.md, IAM, says what is proved.
import { beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_TAG, ownedTags } from '../../core/actions.ts';
import { RESTART_COMMANDS, RESTART_CUTOFF_TAG } from '../../core/restarts.ts';
import { restartDocumentName } from '../../aws/restart-document.ts';
import { GATEWAY_SERVICE, INTERFACE_SERVICES, MANAGED_SERVICES, serviceNameOf } from '../../core/services.ts';
import type { Authorization, NamedPolicy, Template } from './iam.ts';
import {
  ACCOUNT,
  OTHER_REGION,
  PARTITION,
  REGION,
  STAGE,
  accessLevel,
  allows,
  expandAction,
  iamActionOf,
  functionsOf,
  operationsOf,
  packageTemplate,
  refusals,
  resolve,
  resourcePolicyOf,
  text,
  rolePolicies,
  sampleAuthorizations,
  statementsOf,
} from './iam.ts';

/**
 * The SSM documents the reconciler may run with `ssm:SendCommand` (agent restarts), as ARNs in a
 * Region: the stack's own restart document only (serverless.yml, RestartAgentsWithStackDocumentOnly;
 * aws/restart-document.ts: the method an enumerated parameter, no command text, its content hash in
 * its name). The tests below allow exactly these and refuse every other document, the AWS shell
 * documents included.
 */
const SEND_COMMAND_DOCUMENTS = (region: string): string[] => [
  `arn:${PARTITION}:ssm:${region}:${ACCOUNT}:document/${restartDocumentName(STAGE)}`,
];

/** The instance tag of the restartInstanceTag param in the enforceOptIn package. */
const RESTART_TAG = { key: 'ecs-endpoint-remediator/restart', value: 'allowed' } as const;

const WEBHOOK_PARAMETER = '/ecs-endpoint-remediator/slack-webhook';
const WEBHOOK_SECRET = 'ecs-endpoint-remediator/slack-webhook';

/**
 * The packages evaluated. report carries every opt-in (and proves report mode changes nothing even
 * so); enforce is the defaults; enforce-opt-in turns on allowVpcDnsChanges,
 * allowModifyUnownedEndpoints and securityHubExport, and scopes restarts to tagged instances
 * (restartInstanceTag). The notifier reads the parameter in enforce, the secret in report.
 */
const VARIANTS = {
  report: [
    'mode=report',
    'allowVpcDnsChanges=true',
    'allowModifyUnownedEndpoints=true',
    'securityHubExport=true',
    `slackWebhookSecretName=${WEBHOOK_SECRET}`,
  ],
  enforce: ['mode=enforce', `slackWebhookParameter=${WEBHOOK_PARAMETER}`],
  enforceOptIn: [
    'mode=enforce',
    'allowVpcDnsChanges=true',
    'allowModifyUnownedEndpoints=true',
    'securityHubExport=true',
    `restartInstanceTag=${RESTART_TAG.key}=${RESTART_TAG.value}`,
  ],
} as const;
type Variant = keyof typeof VARIANTS;

/** Operations the code sends only where a deploy param grants them (docs/deploy.md, Params). */
const OPT_IN_OPERATIONS: Readonly<Record<string, string>> = {
  'ec2:ModifyVpcAttribute': 'allowVpcDnsChanges',
  'securityhub:BatchImportFindings': 'securityHubExport',
};

/** The account's default Security Hub product in a Region: where the export imports findings. */
const defaultProduct = (region: string, account = ACCOUNT) =>
  `arn:${PARTITION}:securityhub:${region}:${account}:product/${account}/default`;

interface Fn {
  readonly id: string;
  readonly entry: string;
  readonly role: string;
  readonly env: Readonly<Record<string, string>>;
  readonly policies: NamedPolicy[];
}
interface Packaged {
  readonly template: Template;
  readonly functions: readonly Fn[];
}

const packaged = {} as Record<Variant, Packaged>;
/** Per entry file: the operations its code can send, with the files that send each. */
const sent = new Map<string, Map<string, string[]>>();
const unnamed: string[] = [];

const packagedOf = (fn: Fn): Packaged => {
  const found = Object.values(packaged).find((p) => p.functions.includes(fn));
  if (!found) throw new Error(`${fn.id} is not of a package`);
  return found;
};
const fnOf = (variant: Variant, id: string): Fn => {
  const fn = packaged[variant].functions.find((f) => f.id === id);
  if (!fn) throw new Error(`no function ${id} in ${variant}`);
  return fn;
};
const reconciler = (variant: Variant) => fnOf(variant, 'ReconcileLambdaFunction').policies;
const notifier = (variant: Variant) => fnOf(variant, 'NotifySlackLambdaFunction').policies;

beforeAll(async () => {
  const entries = await Promise.all(
    Object.entries(VARIANTS).map(async ([variant, params]): Promise<[Variant, Packaged]> => {
      const template = await packageTemplate(params);
      const functions = functionsOf(template).map((fn) => ({
        ...fn,
        env: resolve(template, template.Resources[fn.id]?.Properties?.Environment ?? null) as unknown as {
          Variables?: Record<string, string>;
        } | null,
        policies: rolePolicies(template, fn.role),
      }));
      return [
        variant as Variant,
        { template, functions: functions.map((fn) => ({ ...fn, env: fn.env?.Variables ?? {} })) },
      ];
    }),
  );
  for (const [variant, value] of entries) packaged[variant] = value;
  for (const fn of packaged.enforce.functions) {
    const { operations, unknown } = await operationsOf(fn.entry);
    sent.set(fn.entry, operations);
    unnamed.push(...unknown);
  }
}, 300_000);

// -------------------------------------------------------------------------------------------------
// Requests as the code makes them
// -------------------------------------------------------------------------------------------------

const ec2 = (region: string, resource: string) => `arn:${PARTITION}:ec2:${region}:${ACCOUNT}:${resource}`;
const OWNED = { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };

/** Request tags and tag keys of what the remediator creates (core/actions.ts, ownedTags). */
function creationTags(name: string): Record<string, string | string[]> {
  const tags = ownedTags(name);
  return {
    ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    'aws:TagKeys': Object.keys(tags),
  };
}

/** CreateVpcEndpoint of `serviceName` as aws/apply.ts sends it: the endpoint, where it goes, its tags. */
function createEndpoint(
  region: string,
  serviceName: string,
  tags: Record<string, string | string[]> = creationTags('ecs-endpoint-remediator'),
  type: 'Interface' | 'Gateway' = 'Interface',
): Authorization[] {
  const endpoint = ec2(region, 'vpc-endpoint/*');
  return [
    {
      action: 'ec2:CreateVpcEndpoint',
      resource: endpoint,
      context: { 'ec2:VpceServiceName': serviceName, ...tags },
    },
    { action: 'ec2:CreateVpcEndpoint', resource: ec2(region, 'vpc/vpc-0a1b2c3d') },
    ...(type === 'Interface'
      ? [
          { action: 'ec2:CreateVpcEndpoint', resource: ec2(region, 'subnet/subnet-0a1b2c3d') },
          { action: 'ec2:CreateVpcEndpoint', resource: ec2(region, 'security-group/sg-0a1b2c3d') },
        ]
      : [{ action: 'ec2:CreateVpcEndpoint', resource: ec2(region, 'route-table/rtb-0a1b2c3d') }]),
    // Tags in TagSpecifications are authorized as ec2:CreateTags within the create call.
    {
      action: 'ec2:CreateTags',
      resource: endpoint,
      context: { 'ec2:CreateAction': 'CreateVpcEndpoint', ...tags },
    },
  ];
}

function modifyEndpoint(region: string, owned: boolean): Authorization[] {
  return [
    {
      action: 'ec2:ModifyVpcEndpoint',
      resource: ec2(region, 'vpc-endpoint/vpce-0a1b2c3d'),
      context: owned ? OWNED : {},
    },
    { action: 'ec2:ModifyVpcEndpoint', resource: ec2(region, 'subnet/subnet-0a1b2c3d') },
    { action: 'ec2:ModifyVpcEndpoint', resource: ec2(region, 'security-group/sg-0a1b2c3d') },
    { action: 'ec2:ModifyVpcEndpoint', resource: ec2(region, 'route-table/rtb-0a1b2c3d') },
  ];
}

/** DeleteVpcEndpoints as the code sends it: an endpoint of a wrong Region's service (core/planner.ts). */
const deleteEndpoint = (region: string, owned: boolean): Authorization[] => [
  {
    action: 'ec2:DeleteVpcEndpoints',
    resource: ec2(region, 'vpc-endpoint/vpce-0a1b2c3d'),
    context: { 'ec2:VpceServiceName': serviceNameOf(OTHER_REGION, 'ecs'), ...(owned ? OWNED : {}) },
  },
];

const createGroup = (
  region: string,
  tags = creationTags('ecs-endpoint-remediator-endpoints'),
): Authorization[] => [
  { action: 'ec2:CreateSecurityGroup', resource: ec2(region, 'security-group/*'), context: tags },
  { action: 'ec2:CreateSecurityGroup', resource: ec2(region, 'vpc/vpc-0a1b2c3d') },
  {
    action: 'ec2:CreateTags',
    resource: ec2(region, 'security-group/*'),
    context: { 'ec2:CreateAction': 'CreateSecurityGroup', ...tags },
  },
];

const authorizeIngress = (region: string, owned: boolean): Authorization[] => [
  {
    action: 'ec2:AuthorizeSecurityGroupIngress',
    resource: ec2(region, 'security-group/sg-0a1b2c3d'),
    context: owned ? OWNED : {},
  },
];

/** CreateTags outside a create call: `tagKeys` on an endpoint, owned or not. */
const tagEndpoint = (region: string, tags: Record<string, string>, owned: boolean): Authorization[] => [
  {
    action: 'ec2:CreateTags',
    resource: ec2(region, 'vpc-endpoint/vpce-0a1b2c3d'),
    context: {
      ...(owned ? OWNED : {}),
      ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
      'aws:TagKeys': Object.keys(tags),
    },
  },
];

/** SendCommand of `document` to an instance, tagged RESTART_TAG unless `tags` says otherwise. */
const sendCommand = (
  region: string,
  document: string,
  instance = ec2(region, 'instance/i-0a1b2c3d'),
  tags: Record<string, string> = { [RESTART_TAG.key]: RESTART_TAG.value },
) => [
  { action: 'ssm:SendCommand', resource: document },
  {
    action: 'ssm:SendCommand',
    resource: instance,
    context: Object.fromEntries(
      Object.entries(tags).map(([key, value]) => [`ssm:resourceTag/${key}`, value]),
    ),
  },
];

/**
 * Operations whose request needs more than sample resources: the writes (their condition keys and
 * every resource IAM authorizes), and the stack's own table and topic (the names the code is given).
 * Any other operation is checked on sample resources of each type its IAM action takes. `[]`: the
 * function does not send it in this configuration.
 */
const REQUESTS: Readonly<
  Record<
    string,
    (region: string, env: Readonly<Record<string, string>>, template: Template) => Authorization[]
  >
> = {
  'ec2:CreateVpcEndpoint': (region) => [
    ...createEndpoint(region, serviceNameOf(region, 'ecs-agent')),
    ...createEndpoint(region, serviceNameOf(region, GATEWAY_SERVICE), undefined, 'Gateway'),
  ],
  'ec2:ModifyVpcEndpoint': (region) => modifyEndpoint(region, true),
  'ec2:DeleteVpcEndpoints': (region) => deleteEndpoint(region, true),
  'ec2:CreateSecurityGroup': (region) => createGroup(region),
  'ec2:AuthorizeSecurityGroupIngress': (region) => authorizeIngress(region, true),
  // Outside a create, the code tags only the restart cutoff on its own endpoints (aws/restart.ts).
  'ec2:CreateTags': (region) =>
    tagEndpoint(region, { [RESTART_CUTOFF_TAG]: '2026-01-01T00:00:00.000Z' }, true),
  // The deployed reconciler sends the stack's document only (aws/restart-guard.ts), and reads it back first.
  'ssm:SendCommand': (region) =>
    SEND_COMMAND_DOCUMENTS(region).flatMap((document) => sendCommand(region, document)),
  // The export imports into each finding's Region's default product of this account (core/asff.ts).
  'securityhub:BatchImportFindings': (region) => [
    { action: 'securityhub:BatchImportFindings', resource: defaultProduct(region) },
  ],
  'ssm:GetDocument': (region) =>
    SEND_COMMAND_DOCUMENTS(region).map((document) => ({ action: 'ssm:GetDocument', resource: document })),
  ...Object.fromEntries(
    ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem'].map(
      (op) => [
        `dynamodb:${op}`,
        (_region: string, env: Readonly<Record<string, string>>): Authorization[] => [
          {
            action: `dynamodb:${op}`,
            resource: `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${env.TABLE_NAME ?? ''}`,
          },
        ],
      ],
    ),
  ),
  // To a topic under a KMS key of the stack's, SNS asks KMS for a data key as the publisher.
  'sns:Publish': (_region, env, template) => {
    const topic = Object.keys(template.Resources).find(
      (id) =>
        template.Resources[id]?.Type === 'AWS::SNS::Topic' &&
        resolve(template, { Ref: id }) === env.TOPIC_ARN,
    );
    const key = topic && template.Resources[topic]?.Properties?.KmsMasterKeyId;
    const keyArn = key ? text(resolve(template, key)) : undefined;
    return [
      { action: 'sns:Publish', resource: env.TOPIC_ARN ?? '' },
      ...(keyArn?.startsWith('arn:')
        ? ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
            action,
            resource: keyArn,
            context: { 'kms:ViaService': `sns.${REGION}.amazonaws.com` },
          }))
        : []),
    ];
  },
  // To the dead-letter queue and back to the events queue (aws/event-queue.ts), where configured.
  'sqs:SendMessageBatch': (_region, env) =>
    [env.DEAD_LETTER_QUEUE_URL, env.EVENTS_QUEUE_URL].flatMap((url) =>
      url ? [{ action: 'sqs:SendMessage', resource: queueArnOf(url) }] : [],
    ),
  'ssm:GetParameter': (_region, env) =>
    env.SLACK_WEBHOOK_PARAMETER
      ? [
          {
            action: 'ssm:GetParameter',
            resource: `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter${env.SLACK_WEBHOOK_PARAMETER}`,
          },
        ]
      : [],
  // Secrets Manager ends a secret's ARN with a dash and six random characters.
  'secretsmanager:GetSecretValue': (_region, env) =>
    env.SLACK_WEBHOOK_SECRET_ID
      ? [
          {
            action: 'secretsmanager:GetSecretValue',
            resource: `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${env.SLACK_WEBHOOK_SECRET_ID}-AbC123`,
          },
        ]
      : [],
};

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → the queue's ARN. */
function queueArnOf(url: string): string {
  const [, region, account, name] = /^https:\/\/sqs\.([^.]+)\.amazonaws\.com\/(\d+)\/(.+)$/.exec(url) ?? [];
  if (!region || !account || !name) throw new Error(`not a queue URL: ${url}`);
  return `arn:${PARTITION}:sqs:${region}:${account}:${name}`;
}

/** The reconciler sweeps other Regions too (`regions` param); the notifier works in its own. */
const regionsOf = (fn: Fn) => (fn.id === 'ReconcileLambdaFunction' ? [REGION, OTHER_REGION] : [REGION]);

/** The authorizations of one operation of `fn`, each with its resource's policy where the stack sets one. */
async function authorizationsOf(fn: Fn, operation: string): Promise<Authorization[]> {
  const spec = REQUESTS[operation];
  const { template } = packagedOf(fn);
  const all = spec
    ? regionsOf(fn).flatMap((region) => spec(region, fn.env, template))
    : await sampleAuthorizations(iamActionOf(operation), regionsOf(fn));
  return withResourcePolicies(template, [...new Map(all.map((a) => [JSON.stringify(a), a])).values()]);
}

const withResourcePolicies = (template: Template, requests: readonly Authorization[]): Authorization[] =>
  requests.map((request) => {
    const resourcePolicy = resourcePolicyOf(template, request.resource);
    return resourcePolicy ? { ...request, resourcePolicy } : request;
  });

const isRead = async (action: string) => ['Read', 'List'].includes(await accessLevel(iamActionOf(action)));

/**
 * The stack's own data resources: its queues, table, topic and keys, the function's log group, and
 * (the reconciler's, with securityHubExport) the account's own default Security Hub product, which
 * takes the stack's findings.
 */
function ownResources(fn: Fn): Set<string> {
  const { template } = packagedOf(fn);
  const arnAttribute: Record<string, string> = {
    'AWS::SQS::Queue': 'Arn',
    'AWS::DynamoDB::Table': 'Arn',
    'AWS::SNS::Topic': 'TopicArn',
    'AWS::KMS::Key': 'Arn',
  };
  const own = Object.entries(template.Resources).flatMap(([id, r]) => {
    const attribute = arnAttribute[r.Type];
    return attribute ? [text(resolve(template, { 'Fn::GetAtt': [id, attribute] }))] : [];
  });
  const name = text(resolve(template, template.Resources[fn.id]?.Properties?.FunctionName ?? null));
  const products =
    fn.id === 'ReconcileLambdaFunction' && fn.env.SECURITY_HUB_EXPORT === 'true'
      ? [
          ...regionsOf(fn).map((region) => defaultProduct(region)),
          `arn:${PARTITION}:securityhub:*:${ACCOUNT}:product/${ACCOUNT}/default`,
        ]
      : [];
  return new Set([
    ...own,
    ...products,
    `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${name}:*`,
  ]);
}

/**
 * Files whose sends happen in enforce mode only: the apply of a plan and the agent restarts
 * (aws/event-reconcile.ts applies only when the mode is enforce).
 */
const ENFORCE_ONLY_FILES = new Set([
  'aws/apply.ts',
  'aws/restart.ts',
  'aws/restart-claims.ts',
  'aws/restart-document.ts',
]);

/** Operations that change the account: neither reads nor writes to the stack's own resources. */
async function accountChanges(fn: Fn): Promise<Map<string, Authorization[]>> {
  const out = new Map<string, Authorization[]>();
  const own = ownResources(fn);
  for (const operation of sent.get(fn.entry)?.keys() ?? []) {
    const requests = await authorizationsOf(fn, operation);
    if (await isRead(operation)) continue;
    if (requests.every((r) => own.has(r.resource))) continue;
    out.set(operation, requests);
  }
  return out;
}

/** Operations of `fn` with the authorizations the role refuses (only those with a refusal). */
async function refused(variant: Variant, fnId: string, operations: Iterable<string>) {
  const fn = fnOf(variant, fnId);
  const out: Record<string, string[]> = {};
  for (const operation of operations) {
    const denied = await refusals(fn.policies, await authorizationsOf(fn, operation));
    if (denied.length > 0) out[operation] = denied;
  }
  return out;
}

// -------------------------------------------------------------------------------------------------

describe('IAM, evaluated (@cloud-copilot/iam-simulate)', () => {
  describe('report mode can change nothing', () => {
    it('refuses every account-changing operation the reconciler can send, each on every resource it touches', async () => {
      const fn = fnOf('report', 'ReconcileLambdaFunction');
      const changes = await accountChanges(fn);
      // The scan found the remediation writes (a guard against an empty, vacuous list).
      expect([...changes.keys()]).toEqual(
        expect.arrayContaining([
          'ec2:CreateVpcEndpoint',
          'ec2:ModifyVpcEndpoint',
          'ec2:DeleteVpcEndpoints',
          'ec2:CreateSecurityGroup',
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:CreateTags',
          'ec2:ModifyVpcAttribute',
          'ssm:SendCommand',
          'ecs:PutAttributes',
          'ecs:UpdateContainerAgent',
        ]),
      );
      const allowed: string[] = [];
      for (const [operation, requests] of changes) {
        for (const request of requests) {
          if (await allows(fn.policies, [request])) allowed.push(`${operation}: ${request.resource}`);
        }
      }
      // Even with allowVpcDnsChanges and allowModifyUnownedEndpoints on (VARIANTS.report).
      expect(allowed).toEqual([]);
    });

    it('grants no write at all but to its own log group, queues, table, topic and key (and X-Ray traces)', async () => {
      const fn = fnOf('report', 'ReconcileLambdaFunction');
      const own = ownResources(fn);
      const writes: string[] = [];
      for (const statement of statementsOf(fn.policies)) {
        expect(statement).not.toHaveProperty('NotAction');
        expect(statement).not.toHaveProperty('NotResource');
        if (statement.Effect !== 'Allow') continue;
        for (const pattern of [statement.Action ?? []].flat()) {
          for (const action of await expandAction(pattern)) {
            if (await isRead(action)) continue;
            for (const resource of [statement.Resource ?? []].flat()) {
              const ok = own.has(resource) || (action.startsWith('xray:') && resource === '*');
              if (!ok) writes.push(`${action} on ${resource}`);
            }
          }
        }
      }
      expect(writes).toEqual([]);
    });
  });

  describe('enforce mode creates endpoints of the listed services only, tagged as managed', () => {
    it.each(INTERFACE_SERVICES.map((s) => [s]))(
      'creates a managed %s interface endpoint',
      async (service) => {
        for (const region of [REGION, OTHER_REGION]) {
          expect(
            await refusals(reconciler('enforce'), createEndpoint(region, serviceNameOf(region, service))),
          ).toEqual([]);
        }
      },
    );

    it(`creates a managed ${GATEWAY_SERVICE} gateway endpoint`, async () => {
      const call = createEndpoint(REGION, serviceNameOf(REGION, GATEWAY_SERVICE), undefined, 'Gateway');
      expect(await refusals(reconciler('enforce'), call)).toEqual([]);
    });

    it('cannot create an endpoint of a name that only resembles a listed service (a prefix, a suffix)', async () => {
      for (const service of MANAGED_SERVICES) {
        for (const name of [
          `${serviceNameOf(REGION, service)}-fips`,
          `com.amazonaws.${REGION}.x${service}`,
        ]) {
          expect(await allows(reconciler('enforce'), createEndpoint(REGION, name))).toBe(false);
        }
      }
    });

    it('cannot create an endpoint of another AWS service (sagemaker.api)', async () => {
      const call = createEndpoint(REGION, `com.amazonaws.${REGION}.sagemaker.api`);
      expect(await refusals(reconciler('enforce'), call)).toEqual([
        `ec2:CreateVpcEndpoint on ${ec2(REGION, 'vpc-endpoint/*')}: ImplicitlyDenied`,
      ]);
    });

    it('cannot create an endpoint of a private (PrivateLink) endpoint service', async () => {
      const call = createEndpoint(REGION, `com.amazonaws.vpce.${REGION}.vpce-svc-0123456789abcdef0`);
      expect(await allows(reconciler('enforce'), call)).toBe(false);
    });

    it('cannot create an untagged endpoint, nor one tagged managed=false', async () => {
      const service = serviceNameOf(REGION, 'ecs');
      expect(await allows(reconciler('enforce'), createEndpoint(REGION, service, {}))).toBe(false);
      const tagged = { [`aws:RequestTag/${MANAGED_TAG.key}`]: 'false', 'aws:TagKeys': [MANAGED_TAG.key] };
      expect(await allows(reconciler('enforce'), createEndpoint(REGION, service, tagged))).toBe(false);
    });

    it('cannot tag outside a create: neither mark an endpoint as managed nor tag one it does not own', async () => {
      const policies = reconciler('enforce');
      const cutoff = { [RESTART_CUTOFF_TAG]: '2026-01-01T00:00:00.000Z' };
      // Taking over a user's endpoint by tagging it, or re-tagging its own.
      expect(await allows(policies, tagEndpoint(REGION, { [MANAGED_TAG.key]: 'true' }, false))).toBe(false);
      expect(await allows(policies, tagEndpoint(REGION, { [MANAGED_TAG.key]: 'true' }, true))).toBe(false);
      expect(await allows(policies, tagEndpoint(REGION, { ...cutoff, Name: 'x' }, true))).toBe(false);
      // The restart cutoff: on its own endpoints only.
      expect(await allows(policies, tagEndpoint(REGION, cutoff, false))).toBe(false);
      expect(await allows(policies, tagEndpoint(REGION, cutoff, true))).toBe(true);
      // Tags on another resource type, even within a create.
      const onVpc: Authorization = {
        action: 'ec2:CreateTags',
        resource: ec2(REGION, 'vpc/vpc-0a1b2c3d'),
        context: { 'ec2:CreateAction': 'CreateVpcEndpoint', [`aws:RequestTag/${MANAGED_TAG.key}`]: 'true' },
      };
      expect(await allows(policies, [onVpc])).toBe(false);
    });
  });

  describe('enforce mode changes only what it owns', () => {
    it('modifies an endpoint it owns', async () => {
      expect(await refusals(reconciler('enforce'), modifyEndpoint(OTHER_REGION, true))).toEqual([]);
    });

    it('cannot modify an endpoint it does not own (no managed tag)', async () => {
      expect(await refusals(reconciler('enforce'), modifyEndpoint(REGION, false))).toEqual([
        `ec2:ModifyVpcEndpoint on ${ec2(REGION, 'vpc-endpoint/vpce-0a1b2c3d')}: ImplicitlyDenied`,
      ]);
    });

    it('with allowModifyUnownedEndpoints, modifies one it does not own, and still cannot delete it', async () => {
      expect(await allows(reconciler('enforceOptIn'), modifyEndpoint(REGION, false))).toBe(true);
      expect(await allows(reconciler('enforceOptIn'), deleteEndpoint(REGION, false))).toBe(false);
    });

    it('deletes an endpoint it owns', async () => {
      expect(await allows(reconciler('enforce'), deleteEndpoint(REGION, true))).toBe(true);
    });

    it('cannot delete an endpoint it does not own', async () => {
      expect(await allows(reconciler('enforce'), deleteEndpoint(REGION, false))).toBe(false);
    });

    it('reclaims (ENDPOINT_UNUSED) only endpoints carrying the managed tag, of any service, in any Region; report mode none', async () => {
      // A reclaim deletes an endpoint of this Region's own service: the grant is the resource tag alone.
      const reclaim = (region: string, tags: Record<string, string>): Authorization[] => [
        {
          action: 'ec2:DeleteVpcEndpoints',
          resource: ec2(region, 'vpc-endpoint/vpce-0d4e5f6a'),
          context: { 'ec2:VpceServiceName': serviceNameOf(region, 'logs'), ...tags },
        },
      ];
      expect(await refusals(reconciler('enforce'), reclaim(REGION, OWNED))).toEqual([]);
      expect(await refusals(reconciler('enforce'), reclaim(OTHER_REGION, OWNED))).toEqual([]);
      const notOwned: Array<Record<string, string>> = [
        {},
        { [`aws:ResourceTag/${MANAGED_TAG.key}`]: 'false' },
      ];
      for (const tags of notOwned)
        expect(await allows(reconciler('enforce'), reclaim(REGION, tags))).toBe(false);
      expect(await allows(reconciler('report'), reclaim(REGION, OWNED))).toBe(false);
    });

    it('creates its security group only tagged as managed', async () => {
      expect(await allows(reconciler('enforce'), createGroup(REGION))).toBe(true);
      expect(await allows(reconciler('enforce'), createGroup(REGION, {}))).toBe(false);
    });

    it('opens TCP 443 on a group it owns, and cannot change the rules of a group it does not own', async () => {
      expect(await allows(reconciler('enforce'), authorizeIngress(REGION, true))).toBe(true);
      expect(await allows(reconciler('enforce'), authorizeIngress(REGION, false))).toBe(false);
    });

    it('cannot revoke rules of, or delete, any security group, owned or not', async () => {
      for (const action of [
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:DeleteSecurityGroup',
        'ec2:ModifySecurityGroupRules',
      ]) {
        for (const context of [OWNED, {}]) {
          const request = { action, resource: ec2(REGION, 'security-group/sg-0a1b2c3d'), context };
          expect(await allows(reconciler('enforceOptIn'), [request])).toBe(false);
        }
      }
    });

    it('changes VPC DNS attributes only with allowVpcDnsChanges', async () => {
      const request = [{ action: 'ec2:ModifyVpcAttribute', resource: ec2(REGION, 'vpc/vpc-0a1b2c3d') }];
      expect(await allows(reconciler('enforce'), request)).toBe(false);
      expect(await allows(reconciler('enforceOptIn'), request)).toBe(true);
    });
  });

  describe('enforce mode runs only the allowed SSM documents', () => {
    it('sends exactly the documents of SEND_COMMAND_DOCUMENTS, in any Region', async () => {
      for (const region of [REGION, OTHER_REGION]) {
        for (const document of SEND_COMMAND_DOCUMENTS(region)) {
          expect(await refusals(reconciler('enforce'), sendCommand(region, document))).toEqual([]);
        }
      }
      // What the statements name, Region wildcards filled in: the list, no more.
      const named = statementsOf(reconciler('enforce'))
        .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('ssm:SendCommand'))
        .flatMap((s) => [s.Resource ?? []].flat())
        .filter((resource) => resource.includes(':document/'))
        .map((resource) => resource.replace(':ssm:*:', `:ssm:${REGION}:`));
      expect(named.sort()).toEqual(SEND_COMMAND_DOCUMENTS(REGION).sort());
    });

    it("the document the code's restarts use is the stack's, named in the function's environment", () => {
      const { env } = fnOf('enforce', 'ReconcileLambdaFunction');
      expect(env.RESTART_DOCUMENT).toBe(restartDocumentName(STAGE));
      expect(SEND_COMMAND_DOCUMENTS(REGION)).toEqual([
        `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:document/${env.RESTART_DOCUMENT ?? ''}`,
      ]);
    });

    it.each(Object.values(RESTART_COMMANDS).map((c) => [c.document]))(
      'cannot send the AWS shell document %s (any command text)',
      async (name) => {
        for (const document of [
          `arn:${PARTITION}:ssm:${REGION}::document/${name}`,
          `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:document/${name}`,
        ]) {
          expect(await allows(reconciler('enforce'), sendCommand(REGION, document))).toBe(false);
          expect(await allows(reconciler('enforceOptIn'), sendCommand(REGION, document))).toBe(false);
        }
      },
    );

    it("cannot send another stage's or another version's restart document", async () => {
      for (const name of [
        restartDocumentName('other'),
        `ecs-endpoint-remediator-${STAGE}-restart-agent-000000000000`,
      ]) {
        const document = `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:document/${name}`;
        expect(await allows(reconciler('enforce'), sendCommand(REGION, document))).toBe(false);
      }
    });

    it('with restartInstanceTag, sends only to instances with that tag', async () => {
      const [document = ''] = SEND_COMMAND_DOCUMENTS(REGION);
      const instance = ec2(REGION, 'instance/i-0a1b2c3d');
      expect(await allows(reconciler('enforceOptIn'), sendCommand(REGION, document, instance))).toBe(true);
      const wrong: Array<Record<string, string>> = [
        {},
        { [RESTART_TAG.key]: 'no' },
        { other: RESTART_TAG.value },
      ];
      for (const tags of wrong) {
        expect(await allows(reconciler('enforceOptIn'), sendCommand(REGION, document, instance, tags))).toBe(
          false,
        );
      }
      // Without the param: any instance of the account.
      expect(await allows(reconciler('enforce'), sendCommand(REGION, document, instance, {}))).toBe(true);
    });

    it.each([
      ['AWS-RunRemoteScript'],
      ['AWS-RunPatchBaseline'],
      ['AWS-ConfigureAWSPackage'],
      ['AWS-RunShellScript-Copy'],
    ])('cannot send the AWS document %s', async (name) => {
      const document = `arn:${PARTITION}:ssm:${REGION}::document/${name}`;
      expect(await allows(reconciler('enforce'), sendCommand(REGION, document))).toBe(false);
    });

    it("cannot send a document of the account's, or one shared from another account", async () => {
      for (const document of [
        `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:document/RunAnything`,
        `arn:${PARTITION}:ssm:${REGION}:210987654321:document/AWS-RunShellScript`,
      ]) {
        expect(await allows(reconciler('enforce'), sendCommand(REGION, document))).toBe(false);
      }
    });

    it('sends commands to instances of this account only', async () => {
      const document = SEND_COMMAND_DOCUMENTS(REGION)[0] ?? '';
      const elsewhere = `arn:${PARTITION}:ec2:${REGION}:210987654321:instance/i-0a1b2c3d`;
      expect(await allows(reconciler('enforce'), sendCommand(REGION, document, elsewhere))).toBe(false);
    });
  });

  describe('the Security Hub export imports into its own default product only', () => {
    const importInto = (resource: string): Authorization[] => [
      { action: 'securityhub:BatchImportFindings', resource },
    ];

    it('with securityHubExport, in report and enforce mode: this account’s default product, in every Region swept', async () => {
      for (const variant of ['report', 'enforceOptIn'] as const) {
        expect(fnOf(variant, 'ReconcileLambdaFunction').env.SECURITY_HUB_EXPORT).toBe('true');
        for (const region of [REGION, OTHER_REGION])
          expect(await allows(reconciler(variant), importInto(defaultProduct(region)))).toBe(true);
      }
    });

    it('cannot import into another account’s or a partner’s product, nor send any other Security Hub action', async () => {
      const policies = reconciler('enforceOptIn');
      for (const resource of [
        defaultProduct(REGION, '210987654321'),
        `arn:${PARTITION}:securityhub:${REGION}:210987654321:product/partner/scanner`,
        `arn:${PARTITION}:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/other`,
      ])
        expect(await allows(policies, importInto(resource))).toBe(false);
      const hub = `arn:${PARTITION}:securityhub:${REGION}:${ACCOUNT}:hub/default`;
      for (const action of ['securityhub:BatchUpdateFindings', 'securityhub:DisableSecurityHub'])
        expect(await allows(policies, [{ action, resource: hub }])).toBe(false);
    });

    it('without it (the default): refused, and the function is told it is off', async () => {
      expect(fnOf('enforce', 'ReconcileLambdaFunction').env.SECURITY_HUB_EXPORT).toBe('false');
      expect(await allows(reconciler('enforce'), importInto(defaultProduct(REGION)))).toBe(false);
    });
  });

  describe('the notifier reads its one parameter or secret', () => {
    const parameter = (name: string, region = REGION) => ({
      action: 'ssm:GetParameter',
      resource: `arn:${PARTITION}:ssm:${region}:${ACCOUNT}:parameter${name}`,
    });
    const secret = (name: string, region = REGION) => ({
      action: 'secretsmanager:GetSecretValue',
      resource: `arn:${PARTITION}:secretsmanager:${region}:${ACCOUNT}:secret:${name}`,
    });

    it('with slackWebhookParameter: that parameter, no other, and no secret', async () => {
      const policies = notifier('enforce');
      expect(await allows(policies, [parameter(WEBHOOK_PARAMETER)])).toBe(true);
      for (const denied of [
        parameter('/ecs-endpoint-remediator/other'),
        parameter(`${WEBHOOK_PARAMETER}-2`),
        parameter(`${WEBHOOK_PARAMETER}/child`),
        parameter(WEBHOOK_PARAMETER, OTHER_REGION),
        { ...parameter(WEBHOOK_PARAMETER), action: 'ssm:GetParametersByPath' },
        secret(`${WEBHOOK_SECRET}-AbC123`),
      ]) {
        expect(await allows(policies, [denied]), denied.resource).toBe(false);
      }
    });

    it('with slackWebhookSecretName: that secret (any ARN suffix), no other, and no parameter', async () => {
      const policies = notifier('report');
      expect(await allows(policies, [secret(`${WEBHOOK_SECRET}-AbC123`)])).toBe(true);
      for (const denied of [
        secret(`${WEBHOOK_SECRET}-other-AbC123`),
        secret('ecs-endpoint-remediator/other-AbC123'),
        secret(`${WEBHOOK_SECRET}-AbC123`, OTHER_REGION),
        parameter(WEBHOOK_PARAMETER),
      ]) {
        expect(await allows(policies, [denied]), denied.resource).toBe(false);
      }
    });

    it('reads nothing else: its only read actions are that one', async () => {
      for (const [variant, expected] of [
        ['enforce', ['ssm:GetParameter']],
        ['report', ['secretsmanager:GetSecretValue']],
        ['enforceOptIn', []],
      ] as const) {
        const reads: string[] = [];
        for (const statement of statementsOf(notifier(variant))) {
          for (const pattern of [statement.Action ?? []].flat()) {
            for (const action of await expandAction(pattern)) {
              if (statement.Effect === 'Allow' && (await isRead(action))) {
                reads.push(action);
                expect([statement.Resource].flat()).toHaveLength(1);
              }
            }
          }
        }
        expect(reads, variant).toEqual(expected);
      }
    });
  });

  describe('contract: every operation the code can send is allowed to its role', () => {
    it('the scan names every operation of both functions', () => {
      expect(unnamed).toEqual([]);
      const reconcile = [...(sent.get('handlers/reconcile.ts')?.keys() ?? [])];
      // Spot checks that the scan follows the imports: discovery, apply, restarts, state, alerts, Resolver,
      // RAM, Route 53 Profiles.
      expect(reconcile).toEqual(
        expect.arrayContaining([
          'ec2:DescribeVpcs',
          'ec2:CreateVpcEndpoint',
          'ssm:SendCommand',
          'ecs:DescribeClusters',
          'route53:ListHostedZonesByVPC',
          'route53resolver:ListResolverRuleAssociations',
          'route53:ListHostedZones',
          'ram:ListResources',
          'route53profiles:ListProfiles',
          'route53profiles:ListProfileResourceAssociations',
          'iam:GetInstanceProfile',
          'dynamodb:Query',
          'sns:Publish',
        ]),
      );
      expect([...(sent.get('handlers/notify-slack.ts')?.keys() ?? [])]).toEqual(
        expect.arrayContaining(['secretsmanager:GetSecretValue', 'ssm:GetParameter']),
      );
    });

    it('enforce mode with the opt-ins: the reconciler may send every operation of its code', async () => {
      expect(
        await refused(
          'enforceOptIn',
          'ReconcileLambdaFunction',
          sent.get('handlers/reconcile.ts')?.keys() ?? [],
        ),
      ).toEqual({});
    });

    it('enforce mode by default: every operation but the opt-in ones, which are refused', async () => {
      const refusedOps = await refused(
        'enforce',
        'ReconcileLambdaFunction',
        sent.get('handlers/reconcile.ts')?.keys() ?? [],
      );
      expect(Object.keys(refusedOps).sort()).toEqual(Object.keys(OPT_IN_OPERATIONS).sort());
    });

    it('report mode: every read of the reconciler outside the apply, and its writes to its own resources', async () => {
      const fn = fnOf('report', 'ReconcileLambdaFunction');
      const changes = await accountChanges(fn);
      const needed = [...(sent.get(fn.entry) ?? [])]
        .filter(
          ([operation, files]) => !changes.has(operation) && files.some((f) => !ENFORCE_ONLY_FILES.has(f)),
        )
        .map(([operation]) => operation);
      expect(needed).toEqual(expect.arrayContaining(['ec2:DescribeVpcs', 'dynamodb:PutItem', 'sns:Publish']));
      expect(await refused('report', fn.id, needed)).toEqual({});
    });

    it('the notifier may send every operation of its code, with a parameter or a secret', async () => {
      const operations = [...(sent.get('handlers/notify-slack.ts')?.keys() ?? [])];
      const evaluated = new Set<string>();
      for (const variant of ['enforce', 'report'] as const) {
        const fn = fnOf(variant, 'NotifySlackLambdaFunction');
        for (const operation of operations) {
          if ((await authorizationsOf(fn, operation)).length > 0) evaluated.add(operation);
        }
        expect(await refused(variant, fn.id, operations)).toEqual({});
      }
      expect([...evaluated].sort()).toEqual(operations.sort());
    });

    it("the platform's calls for each function: queue polling, logs, X-Ray, the failure destination", async () => {
      for (const variant of Object.keys(VARIANTS) as Variant[]) {
        const { template, functions } = packaged[variant];
        for (const fn of functions) {
          const properties = template.Resources[fn.id]?.Properties ?? {};
          const name = text(resolve(template, properties.FunctionName ?? null));
          const logGroup = `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${name}`;
          const calls: Authorization[] = [
            { action: 'logs:CreateLogStream', resource: `${logGroup}:*` },
            { action: 'logs:PutLogEvents', resource: `${logGroup}:log-stream:2026/01/01/[$LATEST]0a1b2c3d` },
          ];
          if (JSON.stringify(properties.TracingConfig ?? {}).includes('Active')) {
            calls.push(
              { action: 'xray:PutTraceSegments', resource: '*' },
              { action: 'xray:PutTelemetryRecords', resource: '*' },
            );
          }
          for (const resource of Object.values(template.Resources)) {
            const p = resource.Properties ?? {};
            const target = JSON.stringify(p.FunctionName ?? null);
            if (resource.Type === 'AWS::Lambda::EventSourceMapping' && target.includes(`"${fn.id}"`)) {
              const queue = resolve(template, p.EventSourceArn ?? null) as string;
              for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
                calls.push({ action, resource: queue });
              }
            }
            if (resource.Type === 'AWS::Lambda::EventInvokeConfig' && target.includes(`"${fn.id}"`)) {
              const destination = resolve(
                template,
                (p.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure
                  ?.Destination ?? null,
              );
              if (typeof destination === 'string' && destination.includes(':sqs:')) {
                calls.push({ action: 'sqs:SendMessage', resource: destination });
              }
            }
          }
          expect(
            await refusals(fn.policies, withResourcePolicies(template, calls)),
            `${variant} ${fn.id}`,
          ).toEqual([]);
        }
      }
    });
  });
});
