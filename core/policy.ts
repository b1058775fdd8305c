/**
 * VPC endpoint policies: parsing the document EC2 returns and deciding one request against it.
 *
 * An endpoint policy is a resource-based policy attached to the endpoint, and only it is evaluated
 * here: identity policies, SCPs, bucket policies and permissions boundaries are out of scope. What
 * the evaluator cannot know (a Condition, a policy variable, a caller it was not told) makes a
 * statement "maybe" apply; the decision is reported only when it comes out the same whichever way
 * those statements go, and is `unknown` otherwise.
 */

/**
 * The outcome for one request. `unknown`: the outcome depends on something the evaluator cannot know
 * (a Condition block, a policy variable, an unknown principal against a statement that names
 * principals).
 */
export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny' | 'unknown';

export interface PolicyRequest {
  /** `ecr:BatchGetImage`; the service prefix and the action name are case-insensitive. */
  readonly action: string;
  /** An ARN, or `*` for actions without resource-level permissions (`ecr:GetAuthorizationToken`). */
  readonly resource: string;
  /**
   * The IAM role ARN (`arn:aws:iam::123456789012:role/path/name`) that makes the call; undefined when
   * unknown. Another ARN is compared literally and by its account.
   */
  readonly principalArn?: string;
}

export interface PolicyEvaluation {
  readonly decision: PolicyDecision;
  /** One line each: which statements (Sid or index) decided it, or what made it unknown. */
  readonly reasons: readonly string[];
}

/** Patterns of an Action/Resource element, or of NotAction/NotResource (`negated`: all but these). */
export interface PatternList {
  readonly negated: boolean;
  readonly patterns: readonly string[];
}

/** A Principal or NotPrincipal element. */
export interface PrincipalList {
  /** NotPrincipal: the statement applies to every principal except the listed ones. */
  readonly negated: boolean;
  /** `"*"` or an `AWS` entry `"*"`: every principal. */
  readonly everyone: boolean;
  /** `AWS` entries: ARNs, 12-digit account ids, `arn:aws:iam::<account>:root`. */
  readonly aws: readonly string[];
  /** Entries of the other types, as `Service:ecs-tasks.amazonaws.com`: never an IAM role. */
  readonly others: readonly string[];
}

export interface ParsedStatement {
  /** `"<Sid>"`, or `#<n>` (1-based position) for a statement without Sid. */
  readonly label: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: PatternList;
  readonly resources: PatternList;
  readonly principals: PrincipalList;
  /** The Condition block's keys as `<key> (<operator>)`; empty when the statement is unconditional. */
  readonly conditionKeys: readonly string[];
}

/** A policy document, checked and normalised (single values become lists). */
export interface ParsedPolicy {
  readonly kind: 'policy';
  /** No document: the endpoint's default policy, which allows everything. */
  readonly isDefault: boolean;
  /** `${...}` is a policy variable (Version 2012-10-17); under an older or absent Version it is text. */
  readonly variables: boolean;
  readonly statements: readonly ParsedStatement[];
}

export interface PolicyParseError {
  readonly kind: 'parse-error';
  /** What is wrong, naming the statement and element. */
  readonly message: string;
}

export function isPolicyParseError(parsed: ParsedPolicy | PolicyParseError): parsed is PolicyParseError {
  return parsed.kind === 'parse-error';
}

/** The default endpoint policy (PrivateLink guide): `Allow` `*` to `*` on `*`. */
const DEFAULT_POLICY: ParsedPolicy = {
  kind: 'policy',
  isDefault: true,
  variables: false,
  statements: [
    {
      label: '(default endpoint policy)',
      effect: 'Allow',
      actions: { negated: false, patterns: ['*'] },
      resources: { negated: false, patterns: ['*'] },
      principals: { negated: false, everyone: true, aws: [], others: [] },
      conditionKeys: [],
    },
  ],
};

const TOP_LEVEL_ELEMENTS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

/** Internal: thrown by the parsing helpers, turned into a {@link PolicyParseError} by parsePolicy. */
class Malformed extends Error {}

type JsonObject = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a policy document: JSON text as EC2 DescribeVpcEndpoints returns it in `PolicyDocument`, or
 * an already-parsed object. Undefined or blank input is the endpoint's default policy (full access).
 * A malformed document comes back as a {@link PolicyParseError} naming what is wrong; never throws.
 */
export function parsePolicy(document: string | object | undefined): ParsedPolicy | PolicyParseError {
  if (document === undefined) return DEFAULT_POLICY;
  let root: unknown = document;
  if (typeof document === 'string') {
    if (document.trim() === '') return DEFAULT_POLICY;
    try {
      root = JSON.parse(document);
    } catch (error) {
      const detail = error instanceof Error ? `: ${error.message}` : '';
      return { kind: 'parse-error', message: `the policy document is not valid JSON${detail}` };
    }
  }
  try {
    return parseRoot(root);
  } catch (error) {
    if (error instanceof Malformed) return { kind: 'parse-error', message: error.message };
    throw error;
  }
}

function parseRoot(root: unknown): ParsedPolicy {
  if (!isObject(root)) throw new Malformed('the policy document is not a JSON object');
  for (const key of Object.keys(root))
    if (!TOP_LEVEL_ELEMENTS.has(key)) throw new Malformed(`unknown top-level element "${key}"`);
  const version = root.Version;
  // The grammar knows two versions; only 2012-10-17 has policy variables (IAM guide, Version).
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17')
    throw new Malformed(`Version must be "2012-10-17" or "2008-10-17", not ${JSON.stringify(version)}`);
  if (root.Id !== undefined && typeof root.Id !== 'string') throw new Malformed('Id must be a string');
  if (root.Statement === undefined) throw new Malformed('the policy has no Statement element');
  const raw: readonly unknown[] = Array.isArray(root.Statement) ? root.Statement : [root.Statement];
  if (raw.length === 0) throw new Malformed('Statement is an empty array');
  return {
    kind: 'policy',
    isDefault: false,
    variables: version === '2012-10-17',
    statements: raw.map((statement, index) => parseStatement(statement, index)),
  };
}

function parseStatement(raw: unknown, index: number): ParsedStatement {
  if (!isObject(raw)) throw new Malformed(`statement #${index + 1} is not a JSON object`);
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string')
    throw new Malformed(`statement #${index + 1}: Sid must be a string`);
  const label = sid ? `"${sid}"` : `#${index + 1}`;
  const where = `statement ${label}`;
  for (const key of Object.keys(raw))
    if (!STATEMENT_ELEMENTS.has(key)) throw new Malformed(`${where}: unknown element "${key}"`);

  const effect = raw.Effect;
  if (effect === undefined) throw new Malformed(`${where} has no Effect`);
  if (effect !== 'Allow' && effect !== 'Deny')
    throw new Malformed(`${where}: Effect must be "Allow" or "Deny", not ${JSON.stringify(effect)}`);

  const actions = patternPair(raw, where, 'Action', 'NotAction');
  for (const action of actions.patterns)
    if (action !== '*' && !/^[^:]+:.+$/.test(action))
      throw new Malformed(
        `${where}: action ${JSON.stringify(action)} is neither "*" nor "<service>:<action>"`,
      );
  const resources = patternPair(raw, where, 'Resource', 'NotResource');

  if (raw.Principal !== undefined && raw.NotPrincipal !== undefined)
    throw new Malformed(`${where} has both Principal and NotPrincipal`);
  if (raw.NotPrincipal !== undefined && effect === 'Allow')
    throw new Malformed(`${where}: NotPrincipal is supported only with "Effect": "Deny"`);
  const principals =
    raw.NotPrincipal !== undefined
      ? parsePrincipal(raw.NotPrincipal, true, where)
      : raw.Principal !== undefined
        ? parsePrincipal(raw.Principal, false, where)
        : // Endpoint policies should name a Principal; without one the statement is taken to cover
          // every caller, as the default policy's Principal "*" does.
          { negated: false, everyone: true, aws: [], others: [] };

  return {
    label,
    effect,
    actions,
    resources,
    principals,
    conditionKeys: parseCondition(raw.Condition, where),
  };
}

/** Exactly one of `positive`/`negative` (Action/NotAction, Resource/NotResource). */
function patternPair(raw: JsonObject, where: string, positive: string, negative: string): PatternList {
  const plain = raw[positive];
  const not = raw[negative];
  if (plain !== undefined && not !== undefined)
    throw new Malformed(`${where} has both ${positive} and ${negative}`);
  if (plain === undefined && not === undefined)
    throw new Malformed(`${where} has neither ${positive} nor ${negative}`);
  return plain !== undefined
    ? { negated: false, patterns: stringList(plain, where, positive) }
    : { negated: true, patterns: stringList(not, where, negative) };
}

function stringList(value: unknown, where: string, element: string): readonly string[] {
  const list: readonly unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new Malformed(`${where}: ${element} is an empty array`);
  return list.map((item) => {
    if (typeof item !== 'string')
      throw new Malformed(`${where}: ${element} must be a string or an array of strings`);
    if (item === '') throw new Malformed(`${where}: ${element} holds an empty string`);
    return item;
  });
}

function parsePrincipal(value: unknown, negated: boolean, where: string): PrincipalList {
  const element = negated ? 'NotPrincipal' : 'Principal';
  if (value === '*') return { negated, everyone: true, aws: [], others: [] };
  if (!isObject(value))
    throw new Malformed(
      `${where}: ${element} must be "*" or an object such as {"AWS": "<ARN or account id>"}`,
    );
  const types = Object.keys(value);
  if (types.length === 0) throw new Malformed(`${where}: ${element} is an empty object`);
  let everyone = false;
  const aws: string[] = [];
  const others: string[] = [];
  for (const type of types) {
    if (!PRINCIPAL_TYPES.has(type))
      throw new Malformed(
        `${where}: unknown principal type "${type}" (AWS, Service, Federated or CanonicalUser)`,
      );
    for (const entry of stringList(value[type], where, `${element} ${type}`)) {
      if (type !== 'AWS') others.push(`${type}:${entry}`);
      else if (entry === '*') everyone = true;
      // The IAM guide: a wildcard cannot match part of a principal name or ARN.
      else if (/[*?]/.test(entry))
        throw new Malformed(
          `${where}: ${element} ${JSON.stringify(entry)} uses a wildcard inside a principal`,
        );
      else aws.push(entry);
    }
  }
  return { negated, everyone, aws, others };
}

function parseCondition(value: unknown, where: string): readonly string[] {
  if (value === undefined) return [];
  if (!isObject(value)) throw new Malformed(`${where}: Condition must be an object of operators`);
  const keys: string[] = [];
  for (const [operator, block] of Object.entries(value)) {
    if (!isObject(block))
      throw new Malformed(`${where}: Condition operator "${operator}" must map keys to values`);
    for (const key of Object.keys(block)) keys.push(`${key} (${operator})`);
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

/** Whether a statement applies to the request: surely, surely not, or depending on what is unknown. */
type Tri = 'yes' | 'no' | 'maybe';

interface Applicability {
  readonly tri: Tri;
  /** Why it is `maybe`; empty otherwise. */
  readonly doubts: readonly string[];
}

const YES: Applicability = { tri: 'yes', doubts: [] };
const NO: Applicability = { tri: 'no', doubts: [] };
const maybe = (...doubts: string[]): Applicability => ({ tri: 'maybe', doubts });

/** All parts must apply: any `no` wins, then any `maybe` (with all their doubts). */
function allOf(parts: readonly Applicability[]): Applicability {
  if (parts.some((part) => part.tri === 'no')) return NO;
  const doubtful = parts.filter((part) => part.tri === 'maybe');
  return doubtful.length === 0 ? YES : maybe(...doubtful.flatMap((part) => part.doubts));
}

/** At least one part applies: any `yes` wins, then any `maybe`. */
function anyOf(parts: readonly Applicability[]): Applicability {
  if (parts.some((part) => part.tri === 'yes')) return YES;
  const doubtful = parts.filter((part) => part.tri === 'maybe');
  return doubtful.length === 0 ? NO : maybe(...doubtful.flatMap((part) => part.doubts));
}

function not(part: Applicability): Applicability {
  return part.tri === 'yes' ? NO : part.tri === 'no' ? YES : part;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `*` any run of characters, `?` exactly one. A `*` crosses colons too: the IAM guide lets a
 * segment-final `*` expand beyond colon boundaries and only recommends keeping wildcards within a
 * segment, so no segment rule is enforced.
 */
function globPattern(pattern: string): string {
  return pattern.replace(/[*?]|[^*?]+/g, (piece) =>
    piece === '*' ? '.*' : piece === '?' ? '.' : escapeRegExp(piece),
  );
}

function actionMatches(pattern: string, action: string): boolean {
  // Action names are case-insensitive (IAM guide, Action), and take no policy variables.
  return new RegExp(`^${globPattern(pattern)}$`, 'is').test(action);
}

/**
 * A Resource pattern against the request's resource, case-sensitively. Under Version 2012-10-17,
 * `${*}`, `${?}` and `${$}` are the literal characters; any other `${...}` is a policy variable whose
 * value comes from the request context: the pattern then `maybe` matches if it matches with the
 * variable as any text, and surely not otherwise.
 */
function resourceMatches(pattern: string, resource: string, variables: boolean): Applicability {
  let regex = '';
  const found: string[] = [];
  let rest = pattern;
  while (rest !== '') {
    const start = variables ? rest.indexOf('${') : -1;
    const end = start === -1 ? -1 : rest.indexOf('}', start + 2);
    if (start === -1 || end === -1) {
      regex += globPattern(rest);
      break;
    }
    regex += globPattern(rest.slice(0, start));
    const name = rest.slice(start + 2, end);
    if (name === '*' || name === '?' || name === '$') regex += escapeRegExp(name);
    else {
      regex += '.*';
      found.push(`\${${name}}`);
    }
    rest = rest.slice(end + 1);
  }
  if (!new RegExp(`^${regex}$`, 's').test(resource)) return NO;
  return found.length === 0
    ? YES
    : maybe(`Resource "${pattern}" holds the policy variable ${found.join(', ')}`);
}

interface Caller {
  readonly arn: string;
  readonly partition: string | undefined;
  readonly account: string | undefined;
}

function callerOf(principalArn: string | undefined): Caller | undefined {
  if (principalArn === undefined) return undefined;
  const match = /^arn:([^:]+):[^:]*:[^:]*:(\d{12}):/.exec(principalArn);
  return { arn: principalArn, partition: match?.[1], account: match?.[2] };
}

/** `123456789012` and `arn:aws:iam::123456789012:root` both name the whole account (IAM guide, Principal). */
function namesAccount(entry: string, caller: Caller): boolean {
  if (caller.account === undefined) return false;
  return entry === caller.account || entry === `arn:${caller.partition ?? 'aws'}:iam::${caller.account}:root`;
}

/**
 * `arn:aws:sts::<account>:assumed-role/<role name>/<session>`: one session of the caller's role (the
 * session ARN drops the role's path), which the caller may or may not be.
 */
function namesSessionOf(entry: string, caller: Caller): boolean {
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(caller.arn);
  if (!role) return false;
  return entry.startsWith(`arn:${role[1] ?? ''}:sts::${role[2] ?? ''}:assumed-role/${role[3] ?? ''}/`);
}

function describePrincipals(principals: PrincipalList): string {
  return [...principals.aws, ...principals.others].join(', ');
}

function principalApplies(statement: ParsedStatement, caller: Caller | undefined): Applicability {
  const principals = statement.principals;
  if (!principals.negated) {
    if (principals.everyone) return YES;
    if (caller === undefined)
      return maybe(
        `the caller is unknown and the statement names principals (${describePrincipals(principals)})`,
      );
    // A role ARN covers the role's sessions, which is how the caller arrives; other principal
    // types (Service, Federated, CanonicalUser) never name an IAM role.
    if (principals.aws.some((entry) => entry === caller.arn || namesAccount(entry, caller))) return YES;
    const sessions = principals.aws.filter((entry) => namesSessionOf(entry, caller));
    return sessions.length === 0
      ? NO
      : maybe(
          `the statement names sessions of the caller's role (${sessions.join(', ')}); the session name is unknown`,
        );
  }
  // NotPrincipal (Deny only): applies to everyone but the listed principals.
  if (principals.everyone) return NO;
  if (caller === undefined)
    return maybe(
      `the caller is unknown and NotPrincipal exempts some principals (${describePrincipals(principals)})`,
    );
  const role = principals.aws.includes(caller.arn);
  const account = principals.aws.some((entry) => namesAccount(entry, caller));
  if (role && account) return NO;
  if (!role && !account) return YES;
  // The IAM guide: AWS may check the account, then the role, then the session, so a NotPrincipal
  // that lists only one of the role and its account may still deny the caller.
  return maybe(
    role
      ? `NotPrincipal lists the role but not its account, so AWS may still deny the account and its roles`
      : `NotPrincipal lists the account but not the role, so AWS may still deny the role's sessions`,
  );
}

function statementApplies(
  statement: ParsedStatement,
  request: PolicyRequest,
  caller: Caller | undefined,
  variables: boolean,
): Applicability {
  const actionHit = statement.actions.patterns.some((pattern) => actionMatches(pattern, request.action));
  if (actionHit === statement.actions.negated) return NO;
  const resourceHit = anyOf(
    statement.resources.patterns.map((pattern) => resourceMatches(pattern, request.resource, variables)),
  );
  const conditions: Applicability =
    statement.conditionKeys.length === 0
      ? YES
      : maybe(`its Condition (${statement.conditionKeys.join(', ')}) cannot be evaluated here`);
  return allOf([
    statement.resources.negated ? not(resourceHit) : resourceHit,
    principalApplies(statement, caller),
    conditions,
  ]);
}

function statementName(statement: ParsedStatement): string {
  return `${statement.effect} statement ${statement.label}`;
}

/**
 * Decides one request against an endpoint policy (IAM evaluation logic for a single resource-based
 * policy): an applicable Deny wins, else an applicable Allow allows, else the request is implicitly
 * denied. Statements that may or may not apply are tried both ways; the decision is reported when
 * every way gives the same one (a request denied every way, explicitly or not, is `implicit-deny`:
 * nothing allows it), and is `unknown` otherwise, with the statements and what is unknown about them.
 */
export function evaluatePolicy(policy: ParsedPolicy, request: PolicyRequest): PolicyEvaluation {
  const caller = callerOf(request.principalArn);
  const verdicts = policy.statements.map((statement) => ({
    statement,
    applies: statementApplies(statement, request, caller, policy.variables),
  }));
  const pick = (effect: 'Allow' | 'Deny', tri: Tri) =>
    verdicts.filter((verdict) => verdict.statement.effect === effect && verdict.applies.tri === tri);
  const denies = pick('Deny', 'yes');
  const maybeDenies = pick('Deny', 'maybe');
  const allows = pick('Allow', 'yes');
  const maybeAllows = pick('Allow', 'maybe');
  const applies = (verdict: (typeof verdicts)[number]) => `${statementName(verdict.statement)} applies`;
  const mayApply = (verdict: (typeof verdicts)[number]) =>
    `${statementName(verdict.statement)} may or may not apply: ${verdict.applies.doubts.join('; ')}`;

  if (denies.length > 0) return { decision: 'explicit-deny', reasons: denies.map(applies) };

  if (allows.length > 0) {
    if (maybeDenies.length === 0) {
      const reasons = policy.isDefault
        ? ['no endpoint policy: the default policy allows full access']
        : allows.map(applies);
      return { decision: 'allow', reasons };
    }
    return { decision: 'unknown', reasons: [...allows.map(applies), ...maybeDenies.map(mayApply)] };
  }

  if (maybeAllows.length > 0)
    return { decision: 'unknown', reasons: [...maybeAllows.map(mayApply), ...maybeDenies.map(mayApply)] };

  // Nothing allows the request: denied whether or not a conditional Deny also applies.
  return {
    decision: 'implicit-deny',
    reasons: [
      'no Allow statement applies',
      ...maybeDenies.map((verdict) => `${mayApply(verdict)} (the request is denied either way)`),
    ],
  };
}
