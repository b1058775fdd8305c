/**
 * VPC endpoint policies: parsing and deciding a request. The expected decisions come from the AWS
 * documentation (each case names the page and rule), not from the evaluator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { PolicyDecision, PolicyRequest } from '../../core/policy.ts';
import { evaluatePolicy, isPolicyParseError, parsePolicy } from '../../core/policy.ts';

const ACCOUNT = '123456789012';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ecs/ecsTaskExecutionRole`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/deployer`;
const OTHER_ACCOUNT = '210987654321';
const REPO = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/app`;
const LAYER_BUCKET = 'arn:aws:s3:::prod-us-east-1-starport-layer-bucket';
const LAYER_OBJECT = `${LAYER_BUCKET}/${ACCOUNT}/app/sha256-4bbfd2c87b7524455f144a03bf387c88b6d4200e5e0df9139a9d5e79110f89ca`;

/** The three calls an ECS task makes to pull a private image through the endpoints. */
const token: PolicyRequest = { action: 'ecr:GetAuthorizationToken', resource: '*', principalArn: ROLE };
const pull: PolicyRequest = { action: 'ecr:BatchGetImage', resource: REPO, principalArn: ROLE };
const layer: PolicyRequest = { action: 's3:GetObject', resource: LAYER_OBJECT, principalArn: ROLE };
const unknownCaller: PolicyRequest = { action: 'ecr:BatchGetImage', resource: REPO };

type Statement = Record<string, unknown>;

/** A policy document as EC2 returns it: JSON text, Version 2012-10-17 unless told otherwise. */
function policy(...statements: Statement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const ALLOW_ALL: Statement = { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' };
const IN_VPC = { StringEquals: { 'aws:SourceVpc': 'vpc-0a1b2c3d' } };

/*
 * Sources (AWS documentation):
 * - PrivateLink guide, Control access to VPC endpoints using endpoint policies:
 *   https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
 * - IAM User Guide, Policy evaluation logic:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - IAM User Guide, The difference between explicit and implicit denies:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
 * - IAM User Guide, IAM JSON policy elements: Statement, Action, NotAction, Resource, NotResource,
 *   Condition, Version:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_statement.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
 * - IAM User Guide, AWS JSON policy elements: Principal, NotPrincipal:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
 * - IAM User Guide, IAM policy elements: Variables and tags:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 * - IAM User Guide, Grammar of the IAM JSON policy language; IAM JSON policy elements reference:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 * - Amazon ECR User Guide, Amazon ECR interface VPC endpoints (AWS PrivateLink), S3 gateway endpoint
 *   and minimum Amazon S3 bucket permissions:
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
 */
const DEFAULT_POLICY =
  'PrivateLink guide: endpoint policies — without an attached policy the default endpoint policy applies, which grants full access';
const EXPLICIT =
  'IAM User Guide: explicit and implicit denies — if an Allow and a Deny apply, the Deny trumps the Allow';
const IMPLICIT =
  'IAM User Guide: explicit and implicit denies — with no applicable Allow (and no Deny) the request is implicitly denied';
const CONDITION = 'IAM User Guide: Condition — a statement is in effect only when its conditions are met';
const NOT_PRINCIPAL =
  'IAM User Guide: NotPrincipal — used with Deny, it denies every principal except the ones listed';
const ECR_S3 =
  'ECR User Guide: VPC endpoints — image layers are read from arn:aws:s3:::prod-region-starport-layer-bucket/*, which a restricted S3 gateway endpoint policy must allow';

interface DecisionCase {
  readonly name: string;
  /** JSON text; undefined: no policy attached. */
  readonly policy: string | undefined;
  readonly request: PolicyRequest;
  readonly expected: PolicyDecision;
  readonly source: string;
}

const CASES: readonly DecisionCase[] = [
  // --- Default and full access
  {
    name: 'no policy document: the default policy allows',
    policy: undefined,
    request: pull,
    expected: 'allow',
    source: DEFAULT_POLICY,
  },
  {
    name: 'a blank policy document: the default policy allows',
    policy: '  ',
    request: token,
    expected: 'allow',
    source: DEFAULT_POLICY,
  },
  {
    name: 'the default endpoint policy, as documented',
    policy: '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
    request: pull,
    expected: 'allow',
    source:
      'PrivateLink guide: Default endpoint policy — {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"} grants full access',
  },
  {
    name: 'full access under the older Version 2008-10-17',
    policy:
      '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
    request: layer,
    expected: 'allow',
    source: 'IAM User Guide: Version — 2008-10-17 is a supported earlier version of the policy language',
  },
  {
    name: 'Statement as a single object rather than an array',
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' },
    }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: Statement — the Statement element can contain a single statement or an array of statements',
  },

  // --- Explicit and implicit deny
  {
    name: 'an explicit deny overrides a full-access allow',
    policy: policy(ALLOW_ALL, { Effect: 'Deny', Principal: '*', Action: 'ecr:BatchGetImage', Resource: '*' }),
    request: pull,
    expected: 'explicit-deny',
    source: EXPLICIT,
  },
  {
    name: 'a Deny of another action leaves the allow in force',
    policy: policy(ALLOW_ALL, { Effect: 'Deny', Principal: '*', Action: 'ecr:PutImage', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Policy evaluation logic — a Deny applies only to requests its statement matches',
  },
  {
    name: 'implicit deny when no statement matches the action',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:GetAuthorizationToken', Resource: '*' }),
    request: pull,
    expected: 'implicit-deny',
    source: IMPLICIT,
  },

  // --- Action matching
  {
    name: 'the service wildcard ecr:*',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Action — "s3:*" applies to all actions of the service',
  },
  {
    name: 'a prefix wildcard ecr:Batch*',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:Batch*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Action — wildcards can stand for part of an action name ("iam:*AccessKey*")',
  },
  {
    name: 'ecr:Get* does not match ecr:BatchGetImage',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:Get*', Resource: '*' }),
    request: pull,
    expected: 'implicit-deny',
    source: IMPLICIT,
  },
  {
    name: 'action names are case-insensitive',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ECR:batchgetimage', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: Action — the prefix and the action name are case insensitive (iam:ListAccessKeys = IAM:listaccesskeys)',
  },
  {
    name: '? stands for one character',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGet?mage', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Action — the single-character wildcard (?)',
  },
  {
    name: '? needs a character to stand for',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage?', Resource: '*' }),
    request: pull,
    expected: 'implicit-deny',
    source: 'IAM User Guide: Action — ? matches a single character',
  },
  {
    name: 'an action list that holds the action',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      Resource: '*',
    }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Action — the Action element can list several actions',
  },

  // --- Resource matching
  {
    name: 'a wildcard over the repositories',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'ecr:*',
      Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*`,
    }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Resource — * stands for any combination of characters within an ARN segment',
  },
  {
    name: 'a wildcard as the Region segment',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'ecr:*',
      Resource: `arn:aws:ecr:*:${ACCOUNT}:repository/app`,
    }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Resource — wildcards can be used in the individual segments of an ARN',
  },
  {
    name: 'a ? in the Region segment',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'ecr:*',
      Resource: `arn:aws:ecr:us-east-?:${ACCOUNT}:repository/app`,
    }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Resource — ? stands for any single character',
  },
  {
    name: 'another repository',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'ecr:*',
      Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/other`,
    }),
    request: pull,
    expected: 'implicit-deny',
    source: IMPLICIT,
  },
  {
    name: 'resources are case-sensitive: user/Bob is not user/bob',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'iam:GetUser',
      Resource: `arn:aws:iam::${ACCOUNT}:user/Bob`,
    }),
    request: { action: 'iam:GetUser', resource: `arn:aws:iam::${ACCOUNT}:user/bob`, principalArn: ROLE },
    expected: 'implicit-deny',
    source: 'IAM User Guide: Resource — in the Resource element, the IAM user name is case sensitive',
  },
  {
    name: 'resources are case-sensitive: user/Bob is user/Bob',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'iam:GetUser',
      Resource: `arn:aws:iam::${ACCOUNT}:user/Bob`,
    }),
    request: { action: 'iam:GetUser', resource: `arn:aws:iam::${ACCOUNT}:user/Bob`, principalArn: ROLE },
    expected: 'allow',
    source: 'IAM User Guide: Resource — an ARN names the resource a statement covers',
  },

  // --- The ECR pull calls
  {
    name: 'ECR pull policy: GetAuthorizationToken on *',
    policy: policy(
      { Sid: 'Token', Effect: 'Allow', Principal: '*', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'Pull',
        Effect: 'Allow',
        Principal: '*',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: REPO,
      },
    ),
    request: token,
    expected: 'allow',
    source:
      'IAM User Guide: Resource — actions without resource-level permissions take the wildcard * as Resource',
  },
  {
    name: 'ECR pull policy: BatchGetImage on the repository',
    policy: policy(
      { Sid: 'Token', Effect: 'Allow', Principal: '*', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'Pull',
        Effect: 'Allow',
        Principal: '*',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: REPO,
      },
    ),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Resource — a statement covers the resources its ARNs name',
  },
  {
    name: 'a repository-scoped statement does not grant GetAuthorizationToken',
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: REPO }),
    request: token,
    expected: 'implicit-deny',
    source: 'IAM User Guide: Resource — actions that cannot name individual resources need Resource "*"',
  },

  // --- NotAction and NotResource
  {
    name: 'NotAction with Allow grants every other action',
    policy: policy({ Effect: 'Allow', Principal: '*', NotAction: 'iam:*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: NotAction — with Allow, every action not listed is allowed ("NotAction": "iam:*")',
  },
  {
    name: 'NotAction with Allow does not grant the listed action',
    policy: policy({ Effect: 'Allow', Principal: '*', NotAction: 'ecr:BatchGetImage', Resource: '*' }),
    request: pull,
    expected: 'implicit-deny',
    source: 'IAM User Guide: NotAction — matches everything except the listed actions',
  },
  {
    name: 'NotAction with Deny denies the unlisted actions',
    policy: policy(ALLOW_ALL, { Effect: 'Deny', Principal: '*', NotAction: 'ecr:*', Resource: '*' }),
    request: layer,
    expected: 'explicit-deny',
    source: 'IAM User Guide: NotAction — with Deny, the actions not listed are explicitly denied',
  },
  {
    name: 'NotAction with Deny spares the listed actions',
    policy: policy(ALLOW_ALL, { Effect: 'Deny', Principal: '*', NotAction: 'ecr:*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: NotAction — the listed actions are not affected by the statement',
  },
  {
    name: 'NotResource with Deny spares the listed bucket',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      NotResource: [LAYER_BUCKET, `${LAYER_BUCKET}/*`],
    }),
    request: layer,
    expected: 'allow',
    source:
      'IAM User Guide: NotResource — the Deny covers every resource except those listed (the HRBucket/Payroll example)',
  },
  {
    name: 'NotResource with Deny denies other buckets',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      NotResource: [LAYER_BUCKET, `${LAYER_BUCKET}/*`],
    }),
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::another-bucket/key', principalArn: ROLE },
    expected: 'explicit-deny',
    source:
      'IAM User Guide: NotResource — explicitly denies access to all resources other than the listed ones',
  },
  {
    name: 'NotResource with Allow grants the unlisted resources',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      NotResource: 'arn:aws:s3:::secrets-bucket/*',
    }),
    request: layer,
    expected: 'allow',
    source: 'IAM User Guide: NotResource — with Allow, everything not listed is allowed',
  },

  // --- Principal
  {
    name: 'Principal {"AWS": "*"} matches every principal',
    policy: policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Principal — "Principal": "*" and {"AWS": "*"} are equivalent: all principals',
  },
  {
    name: 'Principal naming the caller’s role',
    policy: policy({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: Principal — a role ARN as principal grants to the role’s sessions (role session principals)',
  },
  {
    name: 'Principal naming another role',
    policy: policy({ Effect: 'Allow', Principal: { AWS: OTHER_ROLE }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'implicit-deny',
    source: IMPLICIT,
  },
  {
    name: 'Principal as the account id',
    policy: policy({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Principal — an account id delegates to the account, every identity in it',
  },
  {
    name: 'Principal as the account :root ARN',
    policy: policy({ Effect: 'Allow', Principal: { AWS: ROOT }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: Principal — the account ARN behaves as the account id and does not limit to the root user',
  },
  {
    name: 'Principal as another account',
    policy: policy({ Effect: 'Allow', Principal: { AWS: OTHER_ACCOUNT }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'implicit-deny',
    source: IMPLICIT,
  },
  {
    name: 'a Service principal does not match an IAM role',
    policy: policy({
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: '*',
      Resource: '*',
    }),
    request: pull,
    expected: 'implicit-deny',
    source: 'IAM User Guide: Principal — a service principal identifies an AWS service, not an IAM role',
  },
  {
    name: 'a principal list: any one entry is enough',
    policy: policy({ Effect: 'Allow', Principal: { AWS: [OTHER_ROLE, ROLE] }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Principal — several principals in an element are a logical OR',
  },
  {
    name: 'a Deny naming the caller’s role',
    policy: policy(ALLOW_ALL, { Effect: 'Deny', Principal: { AWS: ROLE }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'explicit-deny',
    source: EXPLICIT,
  },
  {
    name: 'Principal naming one session of the caller’s role',
    policy: policy({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/ecsTaskExecutionRole/task-0a1b2c` },
      Action: '*',
      Resource: '*',
    }),
    request: pull,
    expected: 'unknown',
    source:
      'IAM User Guide: Principal, role session principals — an assumed-role session principal names one specific session; which session calls is not known here',
  },
  {
    name: 'Principal naming a session of another role',
    policy: policy({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/task-0a1b2c` },
      Action: '*',
      Resource: '*',
    }),
    request: pull,
    expected: 'implicit-deny',
    source: IMPLICIT,
  },

  // --- NotPrincipal
  {
    name: 'NotPrincipal exempting someone else denies the caller',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      NotPrincipal: {
        AWS: [`arn:aws:iam::${OTHER_ACCOUNT}:role/auditor`, `arn:aws:iam::${OTHER_ACCOUNT}:root`],
      },
      Action: '*',
      Resource: '*',
    }),
    request: pull,
    expected: 'explicit-deny',
    source: NOT_PRINCIPAL,
  },
  {
    name: 'NotPrincipal exempting the role and its account',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      NotPrincipal: { AWS: [ROLE, ROOT] },
      Action: '*',
      Resource: '*',
    }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: NotPrincipal — include both the ARN of the role and the ARN of the account that contains it',
  },
  {
    name: 'NotPrincipal exempting the role but not its account',
    policy: policy(ALLOW_ALL, { Effect: 'Deny', NotPrincipal: { AWS: ROLE }, Action: '*', Resource: '*' }),
    request: pull,
    expected: 'unknown',
    source:
      'IAM User Guide: NotPrincipal — without the account ARN the policy might deny access to the entire account containing the principal',
  },

  // --- Unknown caller
  {
    name: 'unknown caller against a statement naming a role',
    policy: policy({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: '*', Resource: '*' }),
    request: unknownCaller,
    expected: 'unknown',
    source:
      'IAM User Guide: Principal — the Principal element specifies who is allowed or denied; who calls decides',
  },
  {
    name: 'unknown caller against Principal "*"',
    policy: policy(ALLOW_ALL),
    request: unknownCaller,
    expected: 'allow',
    source: 'IAM User Guide: Principal — "*" specifies all principals',
  },
  {
    name: 'unknown caller against a Deny naming an account',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      Principal: { AWS: OTHER_ACCOUNT },
      Action: '*',
      Resource: '*',
    }),
    request: unknownCaller,
    expected: 'unknown',
    source: EXPLICIT,
  },
  {
    name: 'unknown caller: a named-principal Deny of other actions does not matter',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      Principal: { AWS: OTHER_ROLE },
      Action: 's3:*',
      Resource: '*',
    }),
    request: unknownCaller,
    expected: 'allow',
    source:
      'IAM User Guide: Policy evaluation logic — a statement applies only to requests whose action it matches',
  },

  // --- Conditions
  {
    name: 'a Condition on the only Allow',
    policy: policy({ ...ALLOW_ALL, Condition: IN_VPC }),
    request: pull,
    expected: 'unknown',
    source: CONDITION,
  },
  {
    name: 'a Condition on a Deny with an unconditional Allow',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: IN_VPC,
    }),
    request: pull,
    expected: 'unknown',
    source: `${CONDITION}; ${EXPLICIT}`,
  },
  {
    name: 'a Condition on a Deny when nothing allows anyway',
    policy: policy(
      { Effect: 'Allow', Principal: '*', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*', Condition: IN_VPC },
    ),
    request: pull,
    expected: 'implicit-deny',
    source: `${IMPLICIT}; the Deny could only make the denial explicit`,
  },
  {
    name: 'a Condition on an Allow when an unconditional Allow also applies',
    policy: policy(
      { ...ALLOW_ALL, Condition: IN_VPC },
      { Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' },
    ),
    request: pull,
    expected: 'allow',
    source: 'IAM User Guide: Policy evaluation logic — one applicable Allow (and no Deny) allows',
  },
  {
    name: 'a Condition on a Deny of other actions',
    policy: policy(ALLOW_ALL, {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: '*',
      Condition: IN_VPC,
    }),
    request: pull,
    expected: 'allow',
    source:
      'IAM User Guide: Policy evaluation logic — a statement applies only to requests whose action it matches',
  },

  // --- Policy variables
  {
    name: 'a policy variable in the only Allow’s Resource',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::team-bucket/home/${aws:username}/*',
    }),
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::team-bucket/home/alice/notes.txt',
      principalArn: ROLE,
    },
    expected: 'unknown',
    source:
      'IAM User Guide: Variables — policy variables are replaced with values from the request context when the policy is evaluated',
  },
  {
    name: 'a policy variable in a Resource of another bucket',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::team-bucket/home/${aws:username}/*',
    }),
    request: layer,
    expected: 'implicit-deny',
    source:
      'IAM User Guide: Variables — a variable only replaces part of the resource; the bucket differs whatever its value',
  },
  {
    name: 'without Version 2012-10-17 a variable is literal text',
    policy: JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::team-bucket/home/${aws:username}/*',
        },
      ],
    }),
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::team-bucket/home/alice/notes.txt',
      principalArn: ROLE,
    },
    expected: 'implicit-deny',
    source:
      'IAM User Guide: Version — under 2008-10-17 (the default) ${aws:username} is treated as a literal string',
  },
  {
    name: 'without Version 2012-10-17 the literal text matches itself',
    policy: JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::team-bucket/home/${aws:username}/*',
        },
      ],
    }),
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::team-bucket/home/${aws:username}/notes.txt',
      principalArn: ROLE,
    },
    expected: 'allow',
    source: 'IAM User Guide: Version — variables in an older policy are literal strings',
  },
  {
    name: '${*} is a literal asterisk, not a wildcard',
    policy: policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::team-bucket/${*}',
    }),
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::team-bucket/report.csv', principalArn: ROLE },
    expected: 'implicit-deny',
    source:
      'IAM User Guide: Variables, special characters — ${*} is used where an * (asterisk) character is needed',
  },

  // --- The S3 gateway endpoint and ECR image layers
  {
    name: 'an S3 gateway policy restricted to an app bucket forgets the layer bucket',
    policy: policy({
      Sid: 'AppConfigOnly',
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: ['arn:aws:s3:::my-app-config', 'arn:aws:s3:::my-app-config/*'],
    }),
    request: layer,
    expected: 'implicit-deny',
    source: `${ECR_S3}; ${IMPLICIT}`,
  },
  {
    name: 'an S3 gateway policy with the ECR minimum bucket permissions',
    policy: JSON.stringify({
      Statement: [
        {
          Sid: 'Access-to-specific-bucket-only',
          Principal: '*',
          Action: ['s3:GetObject', 's3:PutObject'],
          Effect: 'Allow',
          Resource: [`${LAYER_BUCKET}/*`],
        },
      ],
    }),
    request: layer,
    expected: 'allow',
    source:
      'ECR User Guide: Minimum Amazon S3 bucket permissions for Amazon ECR — the example endpoint policy',
  },
];

describe('evaluatePolicy: decisions from the documentation', () => {
  it('the table is large enough', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(36);
    expect(new Set(CASES.map((entry) => entry.name)).size).toBe(CASES.length);
  });

  it.each(CASES)('$name → $expected', ({ policy: document, request, expected }) => {
    const parsed = parsePolicy(document);
    if (isPolicyParseError(parsed)) throw new Error(`unexpected parse error: ${parsed.message}`);
    const evaluation = evaluatePolicy(parsed, request);
    expect(evaluation.decision).toBe(expected);
    expect(evaluation.reasons.length).toBeGreaterThan(0);
  });
});

interface MalformedCase {
  readonly name: string;
  readonly document: string;
  /** What the error message must say. */
  readonly message: RegExp;
  readonly source: string;
}

const statementWith = (overrides: Statement): string => policy({ ...ALLOW_ALL, ...overrides });
const statementWithout = (element: string, extra: Statement = {}): string =>
  policy(Object.fromEntries(Object.entries({ ...ALLOW_ALL, ...extra }).filter(([key]) => key !== element)));

const MALFORMED: readonly MalformedCase[] = [
  {
    name: 'not JSON',
    document: '{"Statement": [',
    message: /not valid JSON/,
    source: 'IAM User Guide: Grammar — policies are expressed in JSON',
  },
  {
    name: 'a JSON array',
    document: '[]',
    message: /not a JSON object/,
    source: 'IAM User Guide: Grammar — policy = { <version_block?> <id_block?> <statement_block> }',
  },
  {
    name: 'no Statement',
    document: '{"Version": "2012-10-17"}',
    message: /no Statement/,
    source: 'IAM User Guide: Statement — the Statement element is required',
  },
  {
    name: 'an empty Statement array',
    document: '{"Statement": []}',
    message: /Statement is an empty array/,
    source: 'IAM User Guide: Grammar — "Statement": [ <statement>, ... ]',
  },
  {
    name: 'an unknown Version',
    document: '{"Version": "2020-01-01", "Statement": []}',
    message: /Version must be/,
    source: 'IAM User Guide: Version — 2012-10-17 and 2008-10-17 are the supported values',
  },
  {
    name: 'a statement without Effect',
    document: statementWithout('Effect'),
    message: /has no Effect/,
    source: 'IAM User Guide: Grammar — <effect_block> is not optional',
  },
  {
    name: 'Effect neither Allow nor Deny',
    document: statementWith({ Effect: 'Permit' }),
    message: /Effect must be "Allow" or "Deny"/,
    source: 'IAM User Guide: Grammar — "Effect" : ("Allow" | "Deny")',
  },
  {
    name: 'both Action and NotAction',
    document: statementWith({ NotAction: 'iam:*' }),
    message: /both Action and NotAction/,
    source: 'IAM User Guide: elements reference — Action and NotAction cannot be used together',
  },
  {
    name: 'neither Action nor NotAction',
    document: statementWithout('Action'),
    message: /neither Action nor NotAction/,
    source: 'IAM User Guide: Action — statements must include either an Action or NotAction element',
  },
  {
    name: 'both Resource and NotResource',
    document: statementWith({ NotResource: 'arn:aws:s3:::x' }),
    message: /both Resource and NotResource/,
    source: 'IAM User Guide: elements reference — Resource and NotResource cannot be used together',
  },
  {
    name: 'neither Resource nor NotResource',
    document: statementWithout('Resource'),
    message: /neither Resource nor NotResource/,
    source: 'IAM User Guide: Resource — statements must include either a Resource or a NotResource element',
  },
  {
    name: 'both Principal and NotPrincipal',
    document: statementWith({ Effect: 'Deny', NotPrincipal: { AWS: ROLE } }),
    message: /both Principal and NotPrincipal/,
    source: 'IAM User Guide: elements reference — Principal and NotPrincipal cannot be used together',
  },
  {
    name: 'NotPrincipal with Allow',
    document: statementWithout('Principal', { NotPrincipal: { AWS: ROLE } }),
    message: /NotPrincipal is supported only with "Effect": "Deny"/,
    source: 'IAM User Guide: NotPrincipal — using it with "Effect": "Allow" is not supported',
  },
  {
    name: 'a wildcard inside a principal ARN',
    document: statementWith({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/*` } }),
    message: /wildcard inside a principal/,
    source: 'IAM User Guide: Principal — you cannot use a wildcard to match part of a principal name or ARN',
  },
  {
    name: 'an Action that is not a string',
    document: statementWith({ Action: 42 }),
    message: /Action must be a string or an array of strings/,
    source:
      'IAM User Guide: Grammar — <action_block> = ("Action" | "NotAction") : ("*" | [<action_string>, ...])',
  },
  {
    name: 'an action without a service prefix',
    document: statementWith({ Action: 'BatchGetImage' }),
    message: /neither "\*" nor "<service>:<action>"/,
    source: 'IAM User Guide: Action — a service namespace as action prefix, then the action name',
  },
];

describe('parsePolicy: malformed documents', () => {
  it.each(MALFORMED)('$name', ({ document, message }) => {
    const parsed = parsePolicy(document);
    expect(isPolicyParseError(parsed)).toBe(true);
    if (isPolicyParseError(parsed)) expect(parsed.message).toMatch(message);
  });

  it('names the statement by its Sid', () => {
    const parsed = parsePolicy(policy({ Sid: 'PullOnly', Principal: '*', Action: '*', Resource: '*' }));
    expect(isPolicyParseError(parsed) && parsed.message).toBe('statement "PullOnly" has no Effect');
  });

  it('names a statement without Sid by its position', () => {
    const parsed = parsePolicy(policy(ALLOW_ALL, { Effect: 'Allow', Principal: '*', Action: '*' }));
    expect(isPolicyParseError(parsed) && parsed.message).toBe(
      'statement #2 has neither Resource nor NotResource',
    );
  });
});

describe('parsePolicy: input forms', () => {
  it('an already-parsed object reads as its JSON text', () => {
    const object = { Version: '2012-10-17', Statement: [{ ...ALLOW_ALL, Condition: IN_VPC }] };
    expect(parsePolicy(object)).toEqual(parsePolicy(JSON.stringify(object)));
  });

  it('no document is the default policy, marked as such', () => {
    const parsed = parsePolicy(undefined);
    expect(!isPolicyParseError(parsed) && parsed.isDefault).toBe(true);
    expect(!isPolicyParseError(parsed) && evaluatePolicy(parsed, pull).reasons).toEqual([
      'no endpoint policy: the default policy allows full access',
    ]);
  });
});

describe('evaluatePolicy: reasons', () => {
  function evaluate(document: string, request: PolicyRequest) {
    const parsed = parsePolicy(document);
    if (isPolicyParseError(parsed)) throw new Error(parsed.message);
    return evaluatePolicy(parsed, request);
  }

  it('an explicit deny names the deciding statement', () => {
    const evaluation = evaluate(
      policy(ALLOW_ALL, {
        Sid: 'NoPull',
        Effect: 'Deny',
        Principal: '*',
        Action: 'ecr:BatchGetImage',
        Resource: '*',
      }),
      pull,
    );
    expect(evaluation).toEqual({ decision: 'explicit-deny', reasons: ['Deny statement "NoPull" applies'] });
  });

  it('an allow names every statement that allows, by Sid or position', () => {
    const evaluation = evaluate(
      policy(ALLOW_ALL, { Sid: 'Ecr', Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' }),
      pull,
    );
    expect(evaluation.reasons).toEqual(['Allow statement #1 applies', 'Allow statement "Ecr" applies']);
  });

  it('unknown names the conditional statement and its condition keys', () => {
    const evaluation = evaluate(
      policy(ALLOW_ALL, {
        Sid: 'OnlyFromVpc',
        Effect: 'Deny',
        Principal: '*',
        Action: '*',
        Resource: '*',
        Condition: {
          StringNotEquals: { 'aws:SourceVpc': 'vpc-0a1b2c3d' },
          Bool: { 'aws:SecureTransport': 'false' },
        },
      }),
      pull,
    );
    expect(evaluation.decision).toBe('unknown');
    const doubt = evaluation.reasons.find((reason) => reason.includes('"OnlyFromVpc"'));
    expect(doubt).toContain('aws:SourceVpc (StringNotEquals)');
    expect(doubt).toContain('aws:SecureTransport (Bool)');
  });

  it('unknown names the policy variable', () => {
    const evaluation = evaluate(
      policy({
        Sid: 'Home',
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:*',
        Resource: 'arn:aws:s3:::team-bucket/${aws:PrincipalTag/team}/*',
      }),
      { action: 's3:GetObject', resource: 'arn:aws:s3:::team-bucket/platform/x', principalArn: ROLE },
    );
    expect(evaluation.decision).toBe('unknown');
    expect(evaluation.reasons.join('\n')).toContain('${aws:PrincipalTag/team}');
  });

  it('unknown names the missing caller', () => {
    const evaluation = evaluate(
      policy({ Sid: 'TaskRole', Effect: 'Allow', Principal: { AWS: ROLE }, Action: '*', Resource: '*' }),
      unknownCaller,
    );
    expect(evaluation.reasons).toEqual([
      `Allow statement "TaskRole" may or may not apply: the caller is unknown and the statement names principals (${ROLE})`,
    ]);
  });

  it('an implicit deny says that nothing allows, and that a conditional Deny does not matter', () => {
    const evaluation = evaluate(
      policy({ Sid: 'Guard', Effect: 'Deny', Principal: '*', Action: '*', Resource: '*', Condition: IN_VPC }),
      pull,
    );
    expect(evaluation.decision).toBe('implicit-deny');
    expect(evaluation.reasons[0]).toBe('no Allow statement applies');
    expect(evaluation.reasons[1]).toMatch(
      /^Deny statement "Guard" may or may not apply: .*denied either way/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const BASE_RUNS = Number(process.env.FC_RUNS ?? 100);
const RUNS = { numRuns: BASE_RUNS };

const oneOrMany = <T>(values: readonly T[]) =>
  fc.oneof(
    fc.constantFrom(...values),
    fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 }),
  );

const ACTIONS = [
  '*',
  'ecr:*',
  'ecr:BatchGetImage',
  'ECR:batchgetimage',
  'ecr:Get*',
  'ecr:BatchGet?mage',
  's3:*',
  's3:GetObject',
  'iam:*',
];
const RESOURCES = [
  '*',
  REPO,
  `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*`,
  `${LAYER_BUCKET}/*`,
  'arn:aws:s3:::other/*',
];
const PRINCIPALS = [
  '*',
  { AWS: '*' },
  { AWS: ROLE },
  { AWS: ACCOUNT },
  { AWS: ROOT },
  { AWS: OTHER_ROLE },
  { AWS: OTHER_ACCOUNT },
  { Service: 'ecs-tasks.amazonaws.com' },
];
// Only NotPrincipal lists whose effect on the caller the documentation settles.
const NOT_PRINCIPALS = [
  { AWS: [ROLE, ROOT] },
  { AWS: [`arn:aws:iam::${OTHER_ACCOUNT}:role/auditor`, `arn:aws:iam::${OTHER_ACCOUNT}:root`] },
];

const statementArb: fc.Arbitrary<Statement> = fc
  .record({
    effect: fc.constantFrom('Allow', 'Deny'),
    notAction: fc.boolean(),
    actions: oneOrMany(ACTIONS),
    notResource: fc.boolean(),
    resources: oneOrMany(RESOURCES),
    principal: fc.constantFrom(...PRINCIPALS),
    notPrincipal: fc.option(fc.constantFrom(...NOT_PRINCIPALS), { nil: undefined }),
    conditional: fc.boolean(),
  })
  .map((spec) => ({
    Effect: spec.effect,
    [spec.notAction ? 'NotAction' : 'Action']: spec.actions,
    [spec.notResource ? 'NotResource' : 'Resource']: spec.resources,
    ...(spec.effect === 'Deny' && spec.notPrincipal
      ? { NotPrincipal: spec.notPrincipal }
      : { Principal: spec.principal }),
    ...(spec.conditional ? { Condition: IN_VPC } : {}),
  }));

const requestArb = fc.constantFrom(token, pull, layer);

/** Matches no request the properties make, so that a policy never runs out of statements. */
const FILLER: Statement = { Effect: 'Deny', Principal: '*', Action: 'zz:Never', Resource: '*' };

function decide(statements: readonly Statement[], request: PolicyRequest): PolicyDecision {
  const parsed = parsePolicy(policy(...statements, FILLER));
  if (isPolicyParseError(parsed)) throw new Error(parsed.message);
  return evaluatePolicy(parsed, request).decision;
}

describe('evaluatePolicy: properties', () => {
  it('adding an unconditional Deny of everything makes every request an explicit deny', () => {
    fc.assert(
      fc.property(fc.array(statementArb, { maxLength: 5 }), requestArb, (statements, request) => {
        const denyAll: Statement = { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' };
        expect(decide([...statements, denyAll], request)).toBe('explicit-deny');
      }),
      RUNS,
    );
  });

  it('adding a Deny statement never turns a decision into allow', () => {
    fc.assert(
      fc.property(
        fc.array(statementArb, { maxLength: 5 }),
        statementArb,
        requestArb,
        (statements, extra, request) => {
          const before = decide(statements, request);
          const after = decide([...statements, { ...extra, Effect: 'Deny' }], request);
          if (before !== 'allow') expect(after).not.toBe('allow');
        },
      ),
      RUNS,
    );
  });

  it('with conditions, the decision is what every way of resolving them agrees on', () => {
    // Each conditional statement either applies (its Condition holds) or does not (as if absent);
    // a decision is reported only when all those policies decide alike, and a request that every
    // one of them denies, explicitly or not, is an implicit deny.
    fc.assert(
      fc.property(fc.array(statementArb, { maxLength: 5 }), requestArb, (statements, request) => {
        const conditional = statements.filter((statement) => statement.Condition !== undefined);
        const worlds: PolicyDecision[] = [];
        for (let mask = 0; mask < 2 ** conditional.length; mask++) {
          const holding = conditional.filter((_statement, bit) => ((mask >> bit) & 1) === 1);
          const world = statements
            .filter((statement) => statement.Condition === undefined || holding.includes(statement))
            .map((statement) => {
              const copy: Statement = { ...statement };
              delete copy.Condition;
              return copy;
            });
          worlds.push(decide(world, request));
        }
        const distinct = new Set(worlds);
        const expected: PolicyDecision =
          distinct.size === 1
            ? (worlds[0] ?? 'unknown')
            : [...distinct].every((decision) => decision !== 'allow')
              ? 'implicit-deny'
              : 'unknown';
        expect(decide(statements, request)).toBe(expected);
      }),
      RUNS,
    );
  });

  it('parsePolicy never throws, whatever the document', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((value) => JSON.stringify(value)),
        ),
        (document) => {
          const parsed = parsePolicy(document);
          if (!isPolicyParseError(parsed)) evaluatePolicy(parsed, pull);
        },
      ),
      RUNS,
    );
  });

  it('parsePolicy never throws on statement-shaped documents with odd values', () => {
    const odd = fc.oneof(fc.jsonValue(), fc.constantFrom('*', 'Allow', 'Deny', ['*'], { AWS: '*' }));
    const element = fc.constantFrom(
      'Sid',
      'Effect',
      'Principal',
      'NotPrincipal',
      'Action',
      'NotAction',
      'Resource',
      'NotResource',
      'Condition',
    );
    fc.assert(
      fc.property(
        fc.dictionary(element, odd),
        fc.constantFrom(undefined, '2012-10-17', '2008-10-17'),
        (raw, version) => {
          const parsed = parsePolicy({ ...(version ? { Version: version } : {}), Statement: raw });
          if (!isPolicyParseError(parsed)) evaluatePolicy(parsed, unknownCaller);
        },
      ),
      RUNS,
    );
  });
});
