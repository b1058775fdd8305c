/**
 * Turns one VPC's findings and their remedies into actions, or says why a finding is not fixed
 * (config, a blocker, or a manual fix). Pure: the same inputs give the same actions and ids.
 *
 * The {@link VpcPlanBuilder} holds what the remedies of one VPC share (the VPC DNS blocker, the
 * managed security group, the actions made so far); each remedy kind has a handler in
 * core/remedies.ts.
 */
import type { Action, GroupRef, ModifyEndpointAction } from './actions.ts';
import { MANAGED_TAG, isManaged, ownedTags } from './actions.ts';
import type { DraftFinding, Remedy, VpcContext } from './context.ts';
import type { Config } from './config.ts';
import type { Remediation } from './findings.ts';
import { findingKey } from './findings.ts';
import { fnv1a64 } from './hash.ts';
import type { SecurityGroup } from './model.ts';
import { allowsHttps, cidrContains } from './network.ts';
import { REMEDY_HANDLERS } from './remedies.ts';
import type { ManagedService } from './services.ts';
import { serviceOrder } from './services.ts';

/** Idempotency tokens repeat within this window, so concurrent runs create one endpoint, not two. */
export const CLIENT_TOKEN_WINDOW_MS = 10 * 60 * 1000;

export const MANAGED_GROUP_NAME = 'ecs-endpoint-remediator-endpoints';

export interface VpcPlan {
  readonly actions: readonly Action[];
  /** Remediation of each draft finding, by finding id. */
  readonly remediation: ReadonlyMap<string, Remediation>;
}

export interface PlanningInput {
  readonly context: VpcContext;
  readonly drafts: readonly DraftFinding[];
  readonly config: Config;
  readonly now: Date;
  /**
   * The resources the deployed remediator recorded as made by itself (`RegionSnapshot.ownedResourceIds`);
   * absent: the managed tag alone decides (the CLI). See {@link ownershipOf}.
   */
  readonly recorded?: ReadonlySet<string>;
  /** The reclaim clock of unneeded owned endpoints, and whether this reconcile may count (core/reclaim.ts). */
  readonly reclaim?: ReclaimInput;
}

export interface ReclaimInput {
  /** Owned endpoint id → when a counting sweep first saw it unneeded; absent: no clock is kept (the CLI). */
  readonly unusedSince?: Readonly<Record<string, string>>;
  /** Why this reconcile may neither count toward the grace period nor delete, if so. */
  readonly blocker?: string;
}

/**
 * Whose a resource is, as far as changing or deleting it goes:
 * - `owned`: it carries the managed tag and, where the remediator keeps records (the deployed one),
 *   is recorded as made by it;
 * - `not-tagged`: no managed tag, whatever the records say (someone removed it: hands off);
 * - `not-recorded`: the managed tag, but no record. A tag is a hint anyone with `ec2:CreateTags` can
 *   copy, not proof: such a resource is treated as not the remediator's.
 */
export type Ownership = 'owned' | 'not-tagged' | 'not-recorded';

export function ownershipOf(
  id: string,
  tags: Readonly<Record<string, string>>,
  recorded: ReadonlySet<string> | undefined,
): Ownership {
  if (!isManaged(tags)) return 'not-tagged';
  return recorded === undefined || recorded.has(id) ? 'owned' : 'not-recorded';
}

/** Why a tagged resource without a record is not the remediator's (a finding's remediation reason). */
export function notRecordedReason(id: string): string {
  return `${id} carries the ${MANAGED_TAG.key}=${MANAGED_TAG.value} tag, but the deployed remediator has no record of creating it (a tag anyone with ec2:CreateTags can copy is not proof): it is treated as not the remediator's until adopted (docs/deploy.md, Ownership)`;
}

/** The draft's finding key within its account (core/findings.ts `findingKey`): actions' `fixes` name it. */
export function draftId(region: string, draft: DraftFinding): string {
  return findingKey(draft.code, region, draft.vpcId, draft.subject);
}

/** The remediator's own security group in the VPC, if it made one earlier (see {@link ownershipOf}). */
export function managedGroupOf(
  context: VpcContext,
  recorded?: ReadonlySet<string>,
): SecurityGroup | undefined {
  const vpcId = context.workload.vpc.vpcId;
  return [...context.groupsById.values()]
    .filter((group) => group.vpcId === vpcId && ownershipOf(group.groupId, group.tags, recorded) === 'owned')
    .sort((a, b) => a.groupId.localeCompare(b.groupId))[0];
}

/**
 * A group of the VPC that holds the managed group's name but is not the remediator's: names are unique
 * in a VPC, so the remediator can neither create its group there nor (not owning it) use this one.
 * Only where records are kept: without them a tagged group of that name is the managed group.
 */
export function squattedGroupOf(
  context: VpcContext,
  recorded: ReadonlySet<string> | undefined,
): SecurityGroup | undefined {
  if (recorded === undefined) return undefined;
  const vpcId = context.workload.vpc.vpcId;
  return [...context.groupsById.values()]
    .filter(
      (group) =>
        group.vpcId === vpcId &&
        group.groupName === MANAGED_GROUP_NAME &&
        ownershipOf(group.groupId, group.tags, recorded) !== 'owned',
    )
    .sort((a, b) => a.groupId.localeCompare(b.groupId))[0];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A MODIFY_ENDPOINT being assembled from several findings of one endpoint. */
export type ModifyDraft = Mutable<ModifyEndpointAction>;

/** The state the remedies of one VPC share while it is planned. */
export class VpcPlanBuilder {
  readonly context: VpcContext;
  readonly config: Config;
  readonly now: Date;
  readonly region: string;
  readonly vpcId: string;
  readonly remediation = new Map<string, Remediation>();
  /** The ENABLE_VPC_DNS action, when one is planned; interface endpoints wait for it. */
  enableDns: Action | undefined;
  /** False while VPC DNS is off and stays off: no interface endpoint, no private DNS. */
  dnsReady: boolean;
  readonly creates: Action[] = [];
  readonly modifies = new Map<string, ModifyDraft>();
  readonly deletes: Array<{ readonly action: Action; readonly service: string | undefined }> = [];
  readonly updates: Action[] = [];
  /** The create action of each service created in this VPC (the ECS order and deletes wait for them). */
  readonly createdServices = new Map<ManagedService, string>();
  readonly existingGroup: SecurityGroup | undefined;
  /** Recorded ownership, where the remediator keeps records (see {@link ownershipOf}). */
  readonly recorded: ReadonlySet<string> | undefined;
  /** Without an own group: a group that holds its name and is not the remediator's. */
  readonly squattedGroup: SecurityGroup | undefined;
  readonly reclaim: ReclaimInput;
  readonly #fixes = new Map<string, string[]>(); // action id → finding ids
  #groupUsed = false;

  constructor({ context, drafts, config, now, recorded, reclaim }: PlanningInput) {
    this.context = context;
    this.config = config;
    this.now = now;
    this.region = context.region;
    this.vpcId = context.workload.vpc.vpcId;
    this.dnsReady = !drafts.some((draft) => draft.remedy.kind === 'enable-vpc-dns');
    this.recorded = recorded;
    this.reclaim = reclaim ?? {};
    this.existingGroup = managedGroupOf(context, recorded);
    this.squattedGroup = this.existingGroup ? undefined : squattedGroupOf(context, recorded);
  }

  /** Whose the endpoint or group is (see {@link ownershipOf}). */
  ownership(resource: { readonly tags: Readonly<Record<string, string>> }, id: string): Ownership {
    return ownershipOf(id, resource.tags, this.recorded);
  }

  /**
   * Why the managed group can be neither made nor used, if so: another group holds its name (see
   * {@link squattedGroupOf}). Whatever needs the group is then manual.
   */
  get groupUnavailable(): Remediation | undefined {
    const group = this.squattedGroup;
    if (!group) return undefined;
    const whose =
      this.ownership(group, group.groupId) === 'not-recorded'
        ? notRecordedReason(group.groupId)
        : `${group.groupId} is not the remediator's`;
    return this.manual(
      `security group ${group.groupId} holds the managed group's name ${MANAGED_GROUP_NAME} in ${this.vpcId}; ${whose}. The remediator neither changes nor attaches it, and cannot create its own under that name: adopt the group, or rename or delete it`,
    );
  }

  /** `<kind>/<region>/<vpcId>/<subject>`: stable for the same drift. */
  idOf(kind: Action['kind'], subject: string): string {
    return `${kind}/${this.region}/${this.vpcId}/${subject}`;
  }

  /** Records that `actionId` fixes the draft (several actions may), or why nothing does. */
  settle(draft: DraftFinding, outcome: Remediation | { readonly actionId: string }): void {
    const id = draftId(this.region, draft);
    if (!('actionId' in outcome)) {
      this.remediation.set(id, outcome);
      return;
    }
    this.#fixes.set(outcome.actionId, [...(this.#fixes.get(outcome.actionId) ?? []), id]);
    const previous = this.remediation.get(id)?.actionIds ?? [];
    this.remediation.set(id, { status: 'planned', actionIds: [...previous, outcome.actionId] });
  }

  manual(reason: string): Remediation {
    return { status: 'manual', actionIds: [], reason };
  }

  disabled(reason: string): Remediation {
    return { status: 'disabled', actionIds: [], reason };
  }

  get dnsBlocked(): Remediation {
    return {
      status: 'blocked',
      actionIds: [],
      reason: `VPC_DNS_DISABLED: private DNS needs enableDnsSupport and enableDnsHostnames on ${this.vpcId}`,
    };
  }

  /** What waits for VPC DNS: the ENABLE_VPC_DNS action, when planned. */
  get dnsDependency(): string[] {
    return this.enableDns ? [this.enableDns.id] : [];
  }

  clientToken(parts: readonly string[]): string {
    const window = Math.floor(this.now.getTime() / CLIENT_TOKEN_WINDOW_MS);
    return `eer-${fnv1a64([this.region, this.vpcId, ...parts, String(window)].join('|'))}`;
  }

  monthlyCost(azCount: number): number {
    const { interfaceEndpointHourlyUsd, hoursPerMonth } = this.config.pricing;
    return Math.round(azCount * interfaceEndpointHourlyUsd * hoursPerMonth * 100) / 100;
  }

  /** The workload subnets' CIDRs, IPv4 and IPv6: what the managed group admits. */
  get workloadCidrs(): string[] {
    return [
      ...new Set(
        this.context.workload.subnets.flatMap((subnet) => [
          ...(subnet.cidrBlock ? [subnet.cidrBlock] : []),
          ...(subnet.ipv6CidrBlocks ?? []),
        ]),
      ),
    ].sort();
  }

  /** Workload CIDRs the existing managed group does not admit yet (all of them without a group). */
  get missingCidrs(): string[] {
    const group = this.existingGroup;
    if (!group) return this.workloadCidrs;
    return this.workloadCidrs.filter(
      (cidr) =>
        !group.ingress.some(
          (rule) =>
            allowsHttps(rule) &&
            [...rule.cidrs, ...(rule.ipv6Cidrs ?? [])].some((source) => cidrContains(source, cidr)),
        ),
    );
  }

  get createGroupId(): string {
    return this.idOf('CREATE_SECURITY_GROUP', MANAGED_GROUP_NAME);
  }

  get authorizeId(): string {
    return this.idOf('AUTHORIZE_SECURITY_GROUP_INGRESS', this.existingGroup?.groupId ?? '-');
  }

  /**
   * The managed group, which admits 443 from every workload subnet: the existing one (after adding
   * rules for new subnets) or the one this plan creates. Made once per VPC, on first use.
   */
  groupRef(): { readonly ref: GroupRef; readonly dependsOn: string[] } {
    this.#groupUsed = true;
    if (this.existingGroup) {
      return {
        ref: { groupId: this.existingGroup.groupId },
        dependsOn: this.missingCidrs.length > 0 ? [this.authorizeId] : [],
      };
    }
    return { ref: { createdBy: this.createGroupId }, dependsOn: [this.createGroupId] };
  }

  /** The VPC's actions in execution order, each naming the findings it fixes. */
  finish(): VpcPlan {
    const actions: Action[] = [...(this.enableDns ? [this.enableDns] : []), ...this.groupActions()];
    actions.push(...this.creates);
    actions.push(
      ...[...this.modifies.values()]
        .sort((a, b) => serviceOrder(a.service) - serviceOrder(b.service))
        .map((change) => ({
          ...change,
          dependsOn: [...new Set(change.dependsOn)],
          summary: modifySummary(change),
        })),
    );
    // A wrong-Region endpoint goes only after this Region's replacement exists.
    actions.push(
      ...this.deletes.map(({ action, service }) => {
        const replacement = [...this.createdServices].find(([name]) => name === service)?.[1];
        return replacement ? { ...action, dependsOn: [replacement] } : action;
      }),
    );
    actions.push(...this.updates);
    const withFixes = actions.map((action) => ({ ...action, fixes: this.#fixes.get(action.id) ?? [] }));
    // The group actions fix what their users fix: the group exists only to serve those endpoints.
    const groupActionIds = new Set([this.createGroupId, this.authorizeId]);
    return {
      actions: withFixes.map((action) => {
        if (!groupActionIds.has(action.id)) return action;
        const served = withFixes
          .filter((user) => user.dependsOn.includes(action.id))
          .flatMap((user) => user.fixes);
        return { ...action, fixes: [...new Set([...action.fixes, ...served])] };
      }),
      remediation: this.remediation,
    };
  }

  private groupActions(): Action[] {
    if (!this.#groupUsed) return [];
    const base = { region: this.region, vpcId: this.vpcId, fixes: [], dependsOn: [] };
    if (!this.existingGroup) {
      return [
        {
          ...base,
          kind: 'CREATE_SECURITY_GROUP',
          id: this.createGroupId,
          summary: `create security group ${MANAGED_GROUP_NAME} allowing TCP 443 from ${this.workloadCidrs.join(', ')}`,
          groupName: MANAGED_GROUP_NAME,
          description:
            'Interface endpoints of ECS: TCP 443 from the workload subnets (ecs-endpoint-remediator)',
          ingressCidrs: this.workloadCidrs,
          tags: ownedTags(MANAGED_GROUP_NAME),
        },
      ];
    }
    const missing = this.missingCidrs;
    if (missing.length === 0) return [];
    return [
      {
        ...base,
        kind: 'AUTHORIZE_SECURITY_GROUP_INGRESS',
        id: this.authorizeId,
        summary: `allow TCP 443 from ${missing.join(', ')} on ${this.existingGroup.groupId}`,
        groupId: this.existingGroup.groupId,
        ingressCidrs: missing,
      },
    ];
  }
}

function modifySummary(change: ModifyEndpointAction): string {
  const parts = [
    ...(change.enablePrivateDns ? ['enable private DNS'] : []),
    ...(change.addSubnetIds.length > 0 ? [`add subnets ${change.addSubnetIds.join(', ')}`] : []),
    ...(change.addSecurityGroups.length > 0 ? ['attach the managed security group'] : []),
    ...(change.addRouteTableIds.length > 0 ? [`add route tables ${change.addRouteTableIds.join(', ')}`] : []),
    ...(change.resetPolicy ? ['reset its policy to full access'] : []),
  ];
  return `${change.vpcEndpointId} (${change.service}): ${parts.join('; ')}`;
}

/** Dispatches a draft's remedy to its handler; the registry is exhaustive over remedy kinds. */
function handle(plan: VpcPlanBuilder, draft: DraftFinding): void {
  // TypeScript cannot correlate a union's kind with the handler for it: the registry's type does.
  const handler = REMEDY_HANDLERS[draft.remedy.kind] as (
    p: VpcPlanBuilder,
    d: DraftFinding,
    r: Remedy,
  ) => void;
  handler(plan, draft, draft.remedy);
}

/** Plans the actions of one VPC. VPC DNS is settled first: the other remedies depend on it. */
export function planVpc(input: PlanningInput): VpcPlan {
  const plan = new VpcPlanBuilder(input);
  const ordered = [...input.drafts].sort(
    (a, b) => Number(b.remedy.kind === 'enable-vpc-dns') - Number(a.remedy.kind === 'enable-vpc-dns'),
  );
  for (const draft of ordered) handle(plan, draft);
  return plan.finish();
}
