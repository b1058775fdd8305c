/**
 * ENDPOINT_POLICY_DENIES: an endpoint policy that denies a call the workload makes breaks it as surely
 * as a missing endpoint (the ECS page this product grew from: "Creating a VPC endpoint policy").
 *
 * For each endpoint the VPC's work needs whose service supports endpoint policies
 * (`VpcEndpointPolicySupported`), the calls its callers make are evaluated against the policy with the
 * principal that makes each (core/policy.ts). The calls, per need:
 * - EC2 capacity (the instance role): `ecs:Poll` on ecs-agent; `ecs:Poll` and
 *   `ecs:StartTelemetrySession` on ecs-telemetry (the ECS page names both); `ecs:RegisterContainerInstance`,
 *   `ecs:DiscoverPollEndpoint`, `ecs:SubmitTaskStateChange`, `ecs:SubmitAttachmentStateChanges` and
 *   `ecs:UpdateContainerInstancesState` on ecs (the agent's calls in AmazonEC2ContainerServiceforEC2Role);
 * - private ECR (Fargate: the execution role; EC2: the instance role): `ecr:GetAuthorizationToken` on
 *   ecr.api, `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` on ecr.dkr, `s3:GetObject` on
 *   `prod-<region>-starport-layer-bucket` through the S3 gateway;
 * - awslogs (the execution role; on EC2 without one, the instance role): `logs:CreateLogStream`,
 *   `logs:PutLogEvents` on the log group;
 * - secrets (the execution role): `secretsmanager:GetSecretValue`, `ssm:GetParameters` on each.
 * A decision that depends on a condition, a policy variable or a principal the remediator does not
 * know is `unknown` ("cannot verify"), never a denial.
 */
import type { DraftFinding, VpcContext } from './context.ts';
import { callersFor, draft, unknownDraft } from './context.ts';
import type { VpcEndpoint } from './model.ts';
import type { Need } from './needs.ts';
import { NEEDS, containerNeeds } from './needs.ts';
import type { PolicyDecision } from './policy.ts';
import { evaluatePolicy, isPolicyParseError, parsePolicy } from './policy.ts';
import type { ManagedService } from './services.ts';
import { GATEWAY_SERVICE, serviceNameOf } from './services.ts';
import type { Caller } from './workloads.ts';

/** One call a workload makes through an endpoint. */
export interface EndpointCall {
  readonly action: string;
  readonly resource: string;
  /** The role ARN that makes it; undefined when unknown (no execution role, instance role not read). */
  readonly principalArn?: string;
  /** Who, for people: the role or what stands for it, and the workload. */
  readonly who: string;
  /**
   * Another role that may make the same call: on EC2 the ECS guide names the instance role for image
   * pulls, while the agent pulls with the execution role when ECS asks it to. Both must agree.
   */
  readonly alternativePrincipalArn?: string;
}

const PRIVATE_ECR_REPOSITORY =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

/** The calls of one caller's need through the endpoint of `service`. */
export function callsOf(
  context: VpcContext,
  caller: Caller,
  need: Need,
  service: ManagedService,
): EndpointCall[] {
  const { region } = context;
  const account = context.accountId ?? '*';
  const definition = caller.taskDefinitionArn ? context.definitions.get(caller.taskDefinitionArn) : undefined;
  const instance = caller.instanceRoleArn;
  const execution = definition?.executionRoleArn;
  const as = (role: string | undefined, fallback: string): Pick<EndpointCall, 'principalArn' | 'who'> => ({
    ...(role === undefined ? {} : { principalArn: role }),
    who: `${role ?? fallback} (${caller.workload})`,
  });
  const call = (
    action: string,
    resource: string,
    principal: Pick<EndpointCall, 'principalArn' | 'who' | 'alternativePrincipalArn'>,
  ) => ({
    action,
    resource,
    ...principal,
  });
  const containers = definition?.containers ?? [];
  const needsOf = (kind: Need) =>
    containers.filter((container) => containerNeeds(container, region).some(([n]) => n === kind));
  switch (need) {
    case 'ec2-capacity': {
      const host = as(instance, 'the instance role');
      const cluster = caller.clusterArn;
      const containerInstance = context.workload.containerInstances.find((ci) => ci.clusterArn === cluster);
      const ci =
        containerInstance?.containerInstanceArn ??
        `${cluster.replace(':cluster/', ':container-instance/')}/*`;
      if (service === 'ecs-agent') return [call('ecs:Poll', ci, host)];
      if (service === 'ecs-telemetry')
        return [call('ecs:Poll', ci, host), call('ecs:StartTelemetrySession', ci, host)];
      if (service === 'ecs')
        return [
          call('ecs:RegisterContainerInstance', cluster, host),
          call('ecs:DiscoverPollEndpoint', '*', host),
          call('ecs:SubmitTaskStateChange', cluster, host),
          call('ecs:SubmitAttachmentStateChanges', cluster, host),
          call('ecs:UpdateContainerInstancesState', ci, host),
        ];
      return [];
    }
    case 'private-ecr': {
      const puller =
        caller.placement === 'fargate'
          ? as(execution, 'no execution role')
          : {
              ...as(instance, 'the instance role'),
              ...(execution === undefined ? {} : { alternativePrincipalArn: execution }),
            };
      if (service === 'ecr.api') return [call('ecr:GetAuthorizationToken', '*', puller)];
      if (service === GATEWAY_SERVICE)
        return [call('s3:GetObject', `arn:aws:s3:::prod-${region}-starport-layer-bucket/layer`, puller)];
      if (service !== 'ecr.dkr') return [];
      return needsOf('private-ecr').flatMap((container) => {
        const match = PRIVATE_ECR_REPOSITORY.exec(container.image);
        if (!match) return [];
        const repository = `arn:aws:ecr:${match[2] ?? region}:${match[1] ?? account}:repository/${match[3] ?? ''}`;
        return [
          call('ecr:BatchGetImage', repository, puller),
          call('ecr:GetDownloadUrlForLayer', repository, puller),
        ];
      });
    }
    case 'awslogs': {
      const shipper =
        execution !== undefined || caller.placement === 'fargate'
          ? as(execution, 'no execution role')
          : as(instance, 'the instance role');
      return needsOf('awslogs').flatMap((container) => {
        const group = container.logOptions?.['awslogs-group'];
        if (group === undefined) return [];
        const arn = `arn:aws:logs:${region}:${account}:log-group:${group}`;
        const stream = `${arn}:log-stream:${container.logOptions?.['awslogs-stream-prefix'] ?? 'ecs'}/${container.name}/task`;
        return [call('logs:CreateLogStream', arn, shipper), call('logs:PutLogEvents', stream, shipper)];
      });
    }
    case 'secretsmanager':
    case 'ssm-parameters': {
      const agent = as(execution, 'no execution role');
      const refs = containers.flatMap((container) => [
        ...container.secretRefs,
        ...(container.repositoryCredentials === undefined ? [] : [container.repositoryCredentials]),
      ]);
      return refs.flatMap((ref) => {
        const secret = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+)/.exec(ref)?.[1];
        if (need === 'secretsmanager' && service === 'secretsmanager' && (secret || !ref.startsWith('arn:')))
          return [
            call(
              'secretsmanager:GetSecretValue',
              secret ?? `arn:aws:secretsmanager:${region}:${account}:secret:${ref}`,
              agent,
            ),
          ];
        if (need === 'ssm-parameters' && service === 'ssm' && !ref.includes(':secretsmanager:')) {
          const parameter = ref.startsWith('arn:')
            ? ref
            : `arn:aws:ssm:${region}:${account}:parameter${ref.startsWith('/') ? '' : '/'}${ref}`;
          return [call('ssm:GetParameters', parameter, agent)];
        }
        return [];
      });
    }
    default:
      // FireLens outputs, ECS Exec, Service Connect and Run Command are not evaluated (docs/findings.md).
      return [];
  }
}

/** The finding about one endpoint's policy, if its decisions for the work's calls are not all allow. */
export function policyFindings(
  context: VpcContext,
  service: ManagedService,
  endpoint: VpcEndpoint,
): DraftFinding[] {
  const offer = context.offers.get(serviceNameOf(context.region, service));
  // A service without endpoint policies allows everything through its endpoints; no policy: full access.
  if (
    (offer?.policySupported === false && service !== GATEWAY_SERVICE) ||
    endpoint.policyDocument === undefined
  )
    return [];
  const policy = parsePolicy(endpoint.policyDocument);
  const resourceId = endpoint.vpcEndpointId;
  if (isPolicyParseError(policy)) {
    return [
      unknownDraft(
        context,
        'ENDPOINT_POLICY_DENIES',
        {
          service,
          resourceId,
          subject: service,
          message: `${resourceId} (${service}) has a policy the remediator cannot read`,
        },
        policy.message,
      ),
    ];
  }
  if (policy.isDefault) return [];
  const calls = callersFor(context, service).flatMap((caller) =>
    [...caller.needs]
      .filter((need) => (NEEDS[need].services as readonly string[]).includes(service))
      .flatMap((need) => callsOf(context, caller, need, service)),
  );
  const seen = new Set<string>();
  const verdicts: Array<{ call: EndpointCall; decision: PolicyDecision; reasons: readonly string[] }> = [];
  for (const call of calls) {
    const key = `${call.action}|${call.resource}|${call.principalArn ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const evaluate = (principalArn: string | undefined) =>
      evaluatePolicy(policy, {
        action: call.action,
        resource: call.resource,
        ...(principalArn === undefined ? {} : { principalArn }),
      });
    const first = evaluate(call.principalArn);
    const other =
      call.alternativePrincipalArn === undefined ? undefined : evaluate(call.alternativePrincipalArn);
    if (other !== undefined && (first.decision === 'allow') !== (other.decision === 'allow')) {
      verdicts.push({
        call,
        decision: 'unknown',
        reasons: [
          `the instance role and the execution role ${call.alternativePrincipalArn ?? ''} get different decisions, and which one pulls depends on ECS`,
        ],
      });
    } else {
      verdicts.push({ call, ...first });
    }
  }
  const denied = verdicts.filter((v) => v.decision === 'explicit-deny' || v.decision === 'implicit-deny');
  const unsure = verdicts.filter((v) => v.decision === 'unknown');
  const describe = (list: typeof verdicts): string => {
    const first = list[0];
    if (!first) return '';
    const more = list.length > 1 ? ` and ${list.length - 1} more` : '';
    return `${first.call.action} on ${first.call.resource} by ${first.call.who}${more}`;
  };
  if (denied.length > 0) {
    const reason = denied[0]?.reasons[0] ?? '';
    return [
      draft(context, 'ENDPOINT_POLICY_DENIES', {
        service,
        resourceId,
        subject: service,
        message: `${resourceId} (${service}) policy denies ${describe(denied)}${reason ? ` (${reason})` : ''}`,
        remedy: {
          kind: 'reset-policy',
          endpoint,
          service,
          hint: `allow ${denied
            .map((v) => v.call.action)
            .filter((a, i, all) => all.indexOf(a) === i)
            .join(', ')} for the workload's roles in the endpoint policy`,
        },
      }),
    ];
  }
  if (unsure.length > 0) {
    return [
      unknownDraft(
        context,
        'ENDPOINT_POLICY_DENIES',
        {
          service,
          resourceId,
          subject: service,
          message: `${resourceId} (${service}): whether its policy allows ${describe(unsure)} cannot be verified`,
        },
        unsure[0]?.reasons.join('; ') ?? 'the decision depends on conditions',
      ),
    ];
  }
  return [];
}
