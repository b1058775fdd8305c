/**
 * The join of a shared VPC (core/shared-vpcs.ts): a participant's work judged against the owner's
 * endpoints, as read with the owner's role, under the single-account rules — AZ coverage by AZ ID,
 * security group admission, private DNS — with the findings in the participant's view and the fix the
 * owner's.
 */
import { describe, expect, it } from 'vitest';
import type { RegionSnapshot, SecurityGroup, Subnet, VpcEndpoint } from '../../core/model.ts';
import { buildPlan } from '../../core/plan.ts';
import type { Plan } from '../../core/plan.ts';
import type { OwnerEndpoints } from '../../core/shared-vpcs.ts';
import {
  ACCOUNT_ID,
  NOW,
  PUBLIC_IMAGE,
  REGION,
  account,
  config,
  https,
  httpsFromGroups,
  must,
  rule,
} from './fixtures.ts';

const OWNER = '210987654321';

/**
 * AZ names are each account's own. The participant's `us-east-1a` and `us-east-1b` are use1-az1 and
 * use1-az2; the owner names use1-az1 `us-east-1b`: comparing names would put the owner's endpoint in
 * the participant's other zone.
 */
const PARTICIPANT_ZONES: Record<string, string> = { 'us-east-1a': 'use1-az1', 'us-east-1b': 'use1-az2' };

interface World {
  readonly snapshot: RegionSnapshot;
  readonly vpc: string;
  readonly appGroup: string;
  readonly subnets: readonly string[];
}

/** A participant's Fargate service logging with awslogs in both AZs of a VPC that OWNER shares. */
function participant(options: { zoneIds?: boolean } = {}): World {
  const a = account();
  const vpc = a.vpc({ ownerId: OWNER });
  const subnets = [a.subnet(vpc, { az: 'a' }), a.subnet(vpc, { az: 'b' })];
  const appGroup = a.securityGroup(vpc, { name: 'app' });
  a.fargateService(subnets, {
    groups: [appGroup],
    taskDefinition: a.taskDefinition({ image: PUBLIC_IMAGE, logDriver: 'awslogs' }),
  });
  const snapshot = a.snapshot();
  return {
    vpc,
    appGroup,
    subnets,
    snapshot:
      options.zoneIds === false
        ? snapshot
        : {
            ...snapshot,
            subnets: snapshot.subnets.map((subnet): Subnet => ({
              ...subnet,
              availabilityZoneId: must(PARTICIPANT_ZONES[subnet.availabilityZone], subnet.availabilityZone),
            })),
          },
  };
}

/** A subnet of the owner's, named in the owner's own mapping. */
function ownerSubnet(vpcId: string, id: string, zoneId: string, ownerName: string): Subnet {
  return {
    subnetId: id,
    vpcId,
    availabilityZone: ownerName,
    availabilityZoneId: zoneId,
    cidrBlock: id === 'subnet-own1' ? '10.0.100.0/24' : '10.0.101.0/24',
    ownerId: OWNER,
  };
}

function logsEndpoint(vpcId: string, overrides: Partial<VpcEndpoint> = {}): VpcEndpoint {
  return {
    vpcEndpointId: 'vpce-0owner1',
    vpcId,
    serviceName: `com.amazonaws.${REGION}.logs`,
    type: 'Interface',
    state: 'available',
    privateDnsEnabled: true,
    subnetIds: ['subnet-own1', 'subnet-own2'],
    securityGroupIds: ['sg-0owner1'],
    routeTableIds: [],
    tags: {},
    ownerId: OWNER,
    ...overrides,
  };
}

function ownerGroup(vpcId: string, ingress: SecurityGroup['ingress']): SecurityGroup {
  return { groupId: 'sg-0owner1', vpcId, groupName: 'endpoints', tags: {}, ingress };
}

/** The owner's VPC as its role reads it: by default an endpoint covering both zones, open to the VPC. */
function owner(vpcId: string, overrides: Partial<OwnerEndpoints> = {}): OwnerEndpoints {
  return {
    ownerId: OWNER,
    region: REGION,
    vpcId,
    endpoints: [logsEndpoint(vpcId)],
    subnets: [
      ownerSubnet(vpcId, 'subnet-own1', 'use1-az1', 'us-east-1b'),
      ownerSubnet(vpcId, 'subnet-own2', 'use1-az2', 'us-east-1c'),
    ],
    securityGroups: [ownerGroup(vpcId, [https('10.0.0.0/16')])],
    ...overrides,
  };
}

function joined(world: World, ownerView: OwnerEndpoints | undefined): Plan {
  return buildPlan([world.snapshot], config(), NOW, {
    ...(ownerView ? { ownerEndpoints: [ownerView] } : {}),
  });
}

function codes(plan: Plan): Array<[string, string, string]> {
  return plan.findings.map((finding) => [finding.code, finding.service ?? '', finding.status]);
}

describe('joinSharedVpc: the owner in the run', () => {
  it('an endpoint that serves the work in every AZ ID, admits it and has private DNS: no finding', () => {
    const world = participant();
    const plan = joined(world, owner(world.vpc));
    expect(plan.findings).toEqual([]);
    expect(plan.actions).toEqual([]);
  });

  it('without the owner the needs stay unverifiable', () => {
    const world = participant();
    expect(codes(joined(world, undefined))).toEqual([['SHARED_VPC_UNVERIFIABLE', '', 'unknown']]);
  });

  it('AZ coverage is judged by AZ ID, not by name: the gap is the zone the owner does not cover, named both ways', () => {
    const world = participant();
    // One subnet, in use1-az1: the owner's `us-east-1b`, the participant's `us-east-1a`.
    const plan = joined(
      world,
      owner(world.vpc, { endpoints: [logsEndpoint(world.vpc, { subnetIds: ['subnet-own1'] })] }),
    );
    expect(codes(plan)).toEqual([['ENDPOINT_AZ_GAP', 'logs', 'drift']]);
    const gap = must(plan.findings[0], 'gap');
    expect(gap.id).toBe(`ENDPOINT_AZ_GAP/${ACCOUNT_ID}/${REGION}/${world.vpc}/logs`);
    expect(gap.accountId).toBe(ACCOUNT_ID);
    expect(gap.resourceId).toBe('vpce-0owner1');
    expect(gap.message).toContain('use1-az2 (us-east-1b in this account)');
    expect(gap.message).not.toContain('use1-az1');
    expect(gap.message).toContain(`account ${OWNER}`);
    expect(gap.severity).toBe('high'); // the subnets have no egress
    expect(gap.remediation).toMatchObject({ status: 'manual', actionIds: [] });
    expect(gap.remediation.reason).toMatch(new RegExp(`^only the VPC's owner, account ${OWNER}, can change`));
    expect(gap.remediation.reason).toContain('use1-az2');
    expect(plan.actions).toEqual([]);
  });

  it("an AZ the endpoint's subnet read could not place, or a caller subnet without an AZ ID, is unknown, not a gap", () => {
    const world = participant();
    const unread = joined(
      world,
      owner(world.vpc, {
        subnets: [ownerSubnet(world.vpc, 'subnet-own1', 'use1-az1', 'us-east-1b')],
        skippedReads: [{ operation: 'ec2:DescribeSubnets', reason: 'AccessDenied: not allowed' }],
      }),
    );
    expect(codes(unread)).toEqual([['ENDPOINT_AZ_GAP', 'logs', 'unknown']]);
    expect(unread.findings[0]?.statusReason).toContain('subnet-own2');
    expect(unread.findings[0]?.statusReason).toContain('AccessDenied: not allowed');

    const unnamed = participant({ zoneIds: false });
    const plan = joined(unnamed, owner(unnamed.vpc));
    expect(codes(plan)).toEqual([['ENDPOINT_AZ_GAP', 'logs', 'unknown']]);
    expect(plan.findings[0]?.statusReason).toMatch(/AZ ID .* is not known/);
  });

  it("the endpoint's groups must admit the participant's interfaces: CIDR, prefix list or the participant's group", () => {
    const world = participant();
    const refusedBy = (ingress: SecurityGroup['ingress'], extra: Partial<OwnerEndpoints> = {}): Plan =>
      joined(world, owner(world.vpc, { securityGroups: [ownerGroup(world.vpc, ingress)], ...extra }));

    // Only another CIDR, and port 80 from the VPC: refused.
    const refused = refusedBy([
      https('192.168.0.0/16'),
      rule('tcp', { from: 80, to: 80 }, { cidrs: ['10.0.0.0/16'] }),
    ]);
    expect(codes(refused)).toEqual([['ENDPOINT_SG_NO_HTTPS', 'logs', 'drift']]);
    const finding = must(refused.findings[0], 'refused');
    expect(finding.id).toBe(`ENDPOINT_SG_NO_HTTPS/${ACCOUNT_ID}/${REGION}/${world.vpc}/logs`);
    expect(finding.remediation.status).toBe('manual');
    expect(finding.remediation.reason).toContain(`account ${OWNER}`);
    expect(finding.remediation.reason).toContain('sg-0owner1');
    expect(refused.actions).toEqual([]);

    // A rule naming the participant's own group (another account's group, same VPC) admits it.
    expect(codes(refusedBy([httpsFromGroups(world.appGroup)]))).toEqual([]);
    // A rule naming a group the participant's interfaces do not carry does not.
    expect(codes(refusedBy([httpsFromGroups('sg-0someoneelse')]))).toEqual([
      ['ENDPOINT_SG_NO_HTTPS', 'logs', 'drift'],
    ]);
    // A customer-managed prefix list of the owner's with the subnets' CIDRs admits; one that could not
    // be read makes it unknown.
    const listRule = { ...https(), prefixListIds: ['pl-0owner1'] };
    expect(
      codes(
        refusedBy([listRule], {
          prefixLists: [{ prefixListId: 'pl-0owner1', cidrs: ['10.0.0.0/8'], ownerId: OWNER }],
        }),
      ),
    ).toEqual([]);
    const unreadList = refusedBy([listRule], {
      skippedReads: [
        {
          operation: 'ec2:GetManagedPrefixListEntries',
          reason: 'AccessDenied: no',
          resourceId: 'pl-0owner1',
        },
      ],
    });
    expect(codes(unreadList)).toEqual([['ENDPOINT_SG_NO_HTTPS', 'logs', 'unknown']]);
    expect(unreadList.findings[0]?.statusReason).toContain('pl-0owner1');
  });

  it("an endpoint group the owner's role could not read: unknown, never refused", () => {
    const world = participant();
    const plan = joined(
      world,
      owner(world.vpc, {
        securityGroups: [],
        skippedReads: [{ operation: 'ec2:DescribeSecurityGroups', reason: 'AccessDenied: denied' }],
      }),
    );
    expect(codes(plan)).toEqual([['ENDPOINT_SG_NO_HTTPS', 'logs', 'unknown']]);
    expect(plan.findings[0]?.statusReason).toContain('sg-0owner1');
    expect(plan.findings[0]?.statusReason).toContain('AccessDenied: denied');
  });

  it("private DNS off on the owner's endpoint: ENDPOINT_PRIVATE_DNS_DISABLED, the owner's to turn on", () => {
    const world = participant();
    const plan = joined(
      world,
      owner(world.vpc, { endpoints: [logsEndpoint(world.vpc, { privateDnsEnabled: false })] }),
    );
    expect(codes(plan)).toEqual([['ENDPOINT_PRIVATE_DNS_DISABLED', 'logs', 'drift']]);
    expect(plan.findings[0]?.remediation.reason).toContain(`account ${OWNER}`);
    expect(plan.findings[0]?.remediation.reason).toContain('turn on private DNS of vpce-0owner1');
    expect(plan.actions).toEqual([]);
  });

  it('no endpoint, or one not available: ENDPOINT_MISSING and ENDPOINT_NOT_AVAILABLE, manual for the owner', () => {
    const world = participant();
    const missing = joined(world, owner(world.vpc, { endpoints: [] }));
    expect(codes(missing)).toEqual([['ENDPOINT_MISSING', 'logs', 'drift']]);
    expect(missing.findings[0]?.message).toContain(`shared by account ${OWNER}`);
    expect(missing.findings[0]?.remediation.reason).toContain(`create com.amazonaws.${REGION}.logs`);
    expect(missing.actions).toEqual([]);

    const failed = joined(
      world,
      owner(world.vpc, { endpoints: [logsEndpoint(world.vpc, { state: 'failed' })] }),
    );
    expect(codes(failed)).toEqual([['ENDPOINT_NOT_AVAILABLE', 'logs', 'drift']]);
    expect(failed.findings[0]?.remediation.reason).toContain(`account ${OWNER}`);
    expect(failed.findings[0]?.remediation.reason).not.toContain('next run');
  });

  it('several problems of one endpoint are each reported, all in the participant account', () => {
    const world = participant();
    const plan = joined(
      world,
      owner(world.vpc, {
        endpoints: [logsEndpoint(world.vpc, { subnetIds: ['subnet-own1'], privateDnsEnabled: false })],
        securityGroups: [ownerGroup(world.vpc, [])],
      }),
    );
    expect(codes(plan).map(([code]) => code)).toEqual([
      'ENDPOINT_PRIVATE_DNS_DISABLED',
      'ENDPOINT_AZ_GAP',
      'ENDPOINT_SG_NO_HTTPS',
    ]);
    for (const finding of plan.findings) {
      expect(finding.accountId).toBe(ACCOUNT_ID);
      expect(finding.id.split('/').slice(1, 4)).toEqual([ACCOUNT_ID, REGION, world.vpc]);
      expect(finding.remediation.status).toBe('manual');
    }
  });
});
