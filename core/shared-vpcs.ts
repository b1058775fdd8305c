/**
 * Shared VPCs in a run over several accounts: a participant of a VPC shared through AWS RAM cannot see
 * its owner's endpoints (its checks report SHARED_VPC_UNVERIFIABLE, `unknown`), but when the owner is
 * in the same run its endpoints were read with the owner's credentials (aws/organization-run.ts). The
 * participant's needs then meet the owner's endpoints: a need whose every service has an available
 * endpoint there (with private DNS, for an interface endpoint) is verified and reported no more; each
 * service without one is ENDPOINT_MISSING in the participant's view, `drift`, manual: only the owner
 * can create endpoints in its VPC.
 */
import type { DraftFinding, VpcContext } from './context.ts';
import { draft } from './context.ts';
import type { VpcEndpoint } from './model.ts';
import type { Need } from './needs.ts';
import { NEEDS } from './needs.ts';
import type { ManagedService } from './services.ts';
import { serviceNameOf } from './services.ts';

/** The endpoints of a VPC shared with other accounts of the run, as its owner sees them. */
export interface OwnerEndpoints {
  readonly ownerId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly endpoints: readonly VpcEndpoint[];
}

/** Whether the owner's endpoints serve `service` in the VPC: one available, with private DNS if an interface. */
function served(owner: OwnerEndpoints, service: ManagedService): boolean {
  const name = serviceNameOf(owner.region, service);
  return owner.endpoints.some(
    (endpoint) =>
      endpoint.serviceName === name &&
      endpoint.state === 'available' &&
      (endpoint.type !== 'Interface' || endpoint.privateDnsEnabled),
  );
}

/**
 * The participant's drafts of a shared VPC with its SHARED_VPC_UNVERIFIABLE ones resolved against the
 * owner's endpoints (see the module comment). Other drafts, and every draft without `owner`, are kept.
 */
export function joinSharedVpc(
  context: VpcContext,
  drafts: readonly DraftFinding[],
  owner: OwnerEndpoints | undefined,
): DraftFinding[] {
  if (owner === undefined) return [...drafts];
  const kept: DraftFinding[] = [];
  const missing = new Map<ManagedService, Need[]>();
  for (const finding of drafts) {
    if (finding.code !== 'SHARED_VPC_UNVERIFIABLE' || !(finding.subject in NEEDS)) {
      kept.push(finding);
      continue;
    }
    const need = finding.subject as Need;
    for (const service of NEEDS[need].services)
      if (!served(owner, service)) missing.set(service, [...(missing.get(service) ?? []), need]);
  }
  const vpcId = context.workload.vpc.vpcId;
  for (const [service, needs] of missing)
    kept.push(
      draft(context, 'ENDPOINT_MISSING', {
        service,
        subject: service,
        resourceId: vpcId,
        message: `${vpcId} is shared by account ${owner.ownerId}, whose VPC has no available ${service} endpoint (read with the owner's role): ${needs.join(', ')} of this account need it`,
        remedy: {
          kind: 'manual',
          hint: `only the VPC's owner, account ${owner.ownerId}, can create endpoints in it: create ${serviceNameOf(owner.region, service)} there`,
        },
      }),
    );
  return kept;
}
