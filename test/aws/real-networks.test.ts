// The network patterns large organisations run, end to end: seeded through the real SDK in the patched moto,
// discovered, planned and (where a fix exists) applied, with the AWS state read back. The same rules are tested on
// hand-built snapshots in test/core/real-networks.test.ts; here they must also survive discovery. Every test works in
// accounts of its own.
import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type { SecurityGroup, VpcEndpoint } from '@aws-sdk/client-ec2';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import type { ActionKind } from '../../core/actions.ts';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { Finding, FindingCode } from '../../core/findings.ts';
import type { Plan, PlannedAction } from '../../core/plan.ts';
import type { ActionResult } from '../../core/report.ts';
import type { ClientPool } from '../../aws/reconcile.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../../aws/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
  createService,
  registerTaskDefinition,
} from '../harness/seed.ts';
import type { Network } from '../harness/seed.ts';
import {
  addAliasRecord,
  associateResolverRule,
  associateZone,
  createAwsvpcService,
  createDualStackNetwork,
  createExecCluster,
  createIpv6Subnet,
  createPrefixList,
  createPrivateHostedZone,
  createResolverRule,
  endpointAliasTarget,
  ipv6SubnetCidr,
  registerFireLensTaskDefinition,
  shareSubnets,
  startServiceTasks,
} from '../harness/seed-network.ts';

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const MANAGED_GROUP = 'ecs-endpoint-remediator-endpoints';

function poolFor(acct: Account): ClientPool {
  return createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
}

function plan(acct: Account, config: Config = parseConfig({}), pool = poolFor(acct)): Promise<Plan> {
  return planAccount({ regions: [acct.region], config, pool });
}

/** Plans with `pool`, applies that plan, and checks that nothing failed. */
async function planAndApply(
  acct: Account,
  config: Config = parseConfig({}),
): Promise<{ before: Plan; results: ActionResult[] }> {
  const pool = poolFor(acct);
  const before = await plan(acct, config, pool);
  const results = await applyAccountPlan(before, pool, undefined, config);
  expect(
    results.filter((result) => result.outcome === 'failed'),
    JSON.stringify(results),
  ).toEqual([]);
  return { before, results };
}

function findingsOf(p: Plan, code?: FindingCode, service?: string): Finding[] {
  return p.findings.filter(
    (f) => (code === undefined || f.code === code) && (service === undefined || f.service === service),
  );
}

/** The one finding of a code (and service); fails otherwise, naming what there is. */
function findingOf(p: Plan, code: FindingCode, service?: string): Finding {
  const found = findingsOf(p, code, service);
  expect(found.length, `one ${code} ${service ?? ''} among ${p.findings.map((f) => f.id).join(', ')}`).toBe(
    1,
  );
  return found[0] as Finding;
}

/** [code, service] of every finding of a VPC, sorted: the whole verdict at a glance. */
function verdict(p: Plan, vpcId: string): string[] {
  return p.findings
    .filter((f) => f.vpcId === vpcId)
    .map((f) => `${f.code} ${f.service ?? f.id.split('/').at(-1) ?? ''}`)
    .sort();
}

function actionsOf(p: Plan, kind?: ActionKind): PlannedAction[] {
  return p.actions.filter((a) => kind === undefined || a.kind === kind);
}

/** Short service names of the endpoints a plan creates (interface and gateway), sorted. */
function createdServices(p: Plan, vpcId?: string): string[] {
  return p.actions
    .flatMap((a) =>
      (a.kind === 'CREATE_ENDPOINT' || a.kind === 'CREATE_GATEWAY_ENDPOINT') &&
      (vpcId === undefined || a.vpcId === vpcId)
        ? [a.service]
        : [],
    )
    .sort();
}

function missingServices(p: Plan, vpcId?: string): string[] {
  return findingsOf(p, 'ENDPOINT_MISSING')
    .filter((f) => vpcId === undefined || f.vpcId === vpcId)
    .map((f) => f.service ?? '?')
    .sort();
}

async function endpointsOf(acct: Account, vpcId: string): Promise<VpcEndpoint[]> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).filter((e) => (e.State ?? '').toLowerCase() !== 'deleted');
}

async function endpointById(acct: Account, id: string): Promise<VpcEndpoint> {
  const out = await acct.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
  const found = out.VpcEndpoints?.[0];
  if (!found) throw new Error(`no endpoint ${id}`);
  return found;
}

async function groupById(acct: Account, id: string): Promise<SecurityGroup> {
  const out = await acct.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }));
  const found = out.SecurityGroups?.[0];
  if (!found) throw new Error(`no group ${id}`);
  return found;
}

const shortName = (endpoint: VpcEndpoint): string =>
  (endpoint.ServiceName ?? '').split('.').slice(3).join('.');

function ecrImage(acct: Account, repository = 'app'): string {
  return `${acct.accountId}.dkr.ecr.${acct.region}.amazonaws.com/${repository}:1`;
}

async function mainRouteTable(acct: Account, vpcId: string): Promise<string> {
  const out = await acct.ec2.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'association.main', Values: ['true'] },
      ],
    }),
  );
  const id = out.RouteTables?.[0]?.RouteTableId;
  if (!id) throw new Error(`no main route table in ${vpcId}`);
  return id;
}

/** A Fargate service (awsvpc, the given groups or the VPC's default) of one task definition. */
async function fargateService(
  acct: Account,
  o: {
    cluster: string;
    name: string;
    subnets: string[];
    images?: string[];
    awslogs?: boolean;
    securityGroups?: string[];
    desiredCount?: number;
  },
): Promise<string> {
  const taskDefinition = await registerTaskDefinition(acct, {
    family: o.name,
    images: o.images ?? ['public.ecr.aws/nginx/nginx:1'],
    ...(o.awslogs === false ? {} : { logDriver: 'awslogs' as const }),
  });
  return createAwsvpcService(acct, {
    cluster: o.cluster,
    name: o.name,
    taskDefinition,
    subnets: o.subnets,
    ...(o.securityGroups === undefined ? {} : { securityGroups: o.securityGroups }),
    ...(o.desiredCount === undefined ? {} : { desiredCount: o.desiredCount }),
  });
}

// ---- hub and spoke --------------------------------------------------------------------------------

const SPOKE_CIDR = '10.1.0.0/16';
const HUB_CIDR = '10.9.0.0/16';

interface Place {
  readonly vpcId: string;
  readonly cidr: string;
  readonly routeTableId: string;
}

/** An active peering connection between two VPCs of one account, with routes both ways unless `routes` is false. */
async function peer(acct: Account, a: Place, b: Place, routes = true): Promise<string> {
  const created = await acct.ec2.send(
    new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: b.vpcId }),
  );
  const id = created.VpcPeeringConnection?.VpcPeeringConnectionId ?? '';
  await acct.ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
  if (routes) {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      await acct.ec2.send(
        new CreateRouteCommand({
          RouteTableId: from.routeTableId,
          DestinationCidrBlock: to.cidr,
          VpcPeeringConnectionId: id,
        }),
      );
    }
  }
  return id;
}

interface Hub extends Place {
  readonly subnetIds: string[];
  readonly groupId: string;
  /** The hub's interface endpoints (private DNS off), by short service name. */
  readonly endpoints: Record<string, VpcEndpoint>;
}

/** A shared-services VPC without ECS work: interface endpoints with private DNS off behind one group. */
async function createHub(acct: Account, o: { services: string[]; admit: string }): Promise<Hub> {
  const network = await createNetwork(acct, { cidr: HUB_CIDR, azs: ['a'], name: 'hub' });
  const groupId = await createSecurityGroup(acct, {
    vpcId: network.vpcId,
    name: 'hub-endpoints',
    ingress: [{ port: 443, cidr: o.admit }],
  });
  const endpoints: Record<string, VpcEndpoint> = {};
  for (const service of o.services) {
    const id = await createEndpoint(acct, {
      vpcId: network.vpcId,
      service,
      subnetIds: network.subnetIds,
      securityGroupIds: [groupId],
      privateDns: false,
    });
    endpoints[service] = await endpointById(acct, id);
  }
  return {
    vpcId: network.vpcId,
    cidr: HUB_CIDR,
    routeTableId: await mainRouteTable(acct, network.vpcId),
    subnetIds: network.subnetIds,
    groupId,
    endpoints,
  };
}

function hubEndpoint(hub: Hub, service: string): VpcEndpoint {
  const endpoint = hub.endpoints[service];
  if (!endpoint) throw new Error(`the hub has no ${service} endpoint`);
  return endpoint;
}

/** The zones the central pattern uses, one per service, each pointing at the hub's endpoint; associated with `vpcId`. */
async function centralZones(acct: Account, vpcId: string, hub: Hub): Promise<Record<string, string>> {
  const region = acct.region;
  const zones: Record<string, string> = {};
  const zoneFor = [
    ['logs', `logs.${region}.amazonaws.com`, `logs.${region}.amazonaws.com`],
    ['ecr.api', `api.ecr.${region}.amazonaws.com`, `api.ecr.${region}.amazonaws.com`],
    ['ecr.dkr', `dkr.ecr.${region}.amazonaws.com`, `*.dkr.ecr.${region}.amazonaws.com`],
  ] as const;
  for (const [service, zoneName, recordName] of zoneFor) {
    if (!hub.endpoints[service]) continue;
    const zoneId = await createPrivateHostedZone(acct, { name: zoneName, vpcId });
    await addAliasRecord(acct, {
      zoneId,
      name: recordName,
      ...endpointAliasTarget(hubEndpoint(hub, service)),
    });
    zones[service] = zoneId;
  }
  return zones;
}

/**
 * One account: a spoke (no egress) running a Fargate service `web` with a private ECR image and awslogs, a hub
 * with logs, ecr.api and ecr.dkr, the three zones associated with the spoke, and peering with routes both ways.
 */
async function hubAndSpoke(
  acct: Account,
  o: { admit?: string; routes?: boolean } = {},
): Promise<{ spoke: Network; hub: Hub }> {
  const spoke = await createNetwork(acct, { cidr: SPOKE_CIDR, azs: ['a'], name: 'spoke' });
  const hub = await createHub(acct, {
    services: ['logs', 'ecr.api', 'ecr.dkr'],
    admit: o.admit ?? SPOKE_CIDR,
  });
  await centralZones(acct, spoke.vpcId, hub);
  await peer(
    acct,
    { vpcId: spoke.vpcId, cidr: SPOKE_CIDR, routeTableId: await mainRouteTable(acct, spoke.vpcId) },
    hub,
    o.routes ?? true,
  );
  await createCluster(acct, 'spoke');
  await fargateService(acct, {
    cluster: 'spoke',
    name: 'web',
    subnets: spoke.subnetIds,
    images: [ecrImage(acct)],
  });
  return { spoke, hub };
}

// ------------------------------------------------------------------------------------------------
// Cases
// ------------------------------------------------------------------------------------------------

describe('security groups, per workload', () => {
  it('1. a logs endpoint admitting only the hosts’ group cuts off the Fargate service next to them; apply attaches the managed group', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.20.0.0/16', azs: ['a'] });
    const subnetId = net.subnetIds[0] ?? '';
    const sgHosts = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'sg-hosts' });
    const sgTask = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'sg-task' });
    const cluster = await createCluster(acct, 'mixed');
    await addContainerInstance(acct, { cluster, subnetId, securityGroupIds: [sgHosts] });
    // An EC2 (bridge) service logs from the hosts' interface: admitted. The Fargate one from its own: not.
    const batch = await registerTaskDefinition(acct, {
      family: 'batch',
      images: ['public.ecr.aws/docker/library/busybox:1'],
      logDriver: 'awslogs',
      networkMode: 'bridge',
      compatibilities: ['EC2'],
    });
    await createService(acct, { cluster, name: 'batch', taskDefinition: batch, launchType: 'EC2' });
    await fargateService(acct, { cluster, name: 'web', subnets: [subnetId], securityGroups: [sgTask] });
    const endpointGroup = await createSecurityGroup(acct, {
      vpcId: net.vpcId,
      name: 'logs-endpoint',
      ingress: [{ port: 443, groupId: sgHosts }],
    });
    const logs = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'logs',
      subnetIds: [subnetId],
      securityGroupIds: [endpointGroup],
      privateDns: true,
    });

    const { before } = await planAndApply(acct);
    const finding = findingOf(before, 'ENDPOINT_SG_NO_HTTPS', 'logs');
    expect(finding).toMatchObject({
      status: 'drift',
      severity: 'high',
      resourceId: logs,
      remediation: { status: 'planned' },
    });
    expect(finding.statusReason).toBeUndefined();
    expect(finding.message).toContain('service web (');
    expect(finding.message).not.toContain('service batch');
    const modify = actionsOf(before, 'MODIFY_ENDPOINT');
    expect(modify.map((a) => a.id)).toEqual(finding.remediation.actionIds);
    expect(modify[0]).toMatchObject({ vpcEndpointId: logs, addSubnetIds: [], enablePrivateDns: false });

    const groups = (await endpointById(acct, logs)).Groups ?? [];
    expect(groups.map((g) => g.GroupName).sort()).toEqual([MANAGED_GROUP, 'logs-endpoint'].sort());
    const managed = await groupById(acct, groups.find((g) => g.GroupName === MANAGED_GROUP)?.GroupId ?? '');
    expect(managed.IpPermissions?.[0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(managed.IpPermissions?.[0]?.IpRanges?.map((r) => r.CidrIp)).toEqual(['10.20.0.0/24']);

    const after = await plan(acct);
    expect(findingsOf(after, 'ENDPOINT_SG_NO_HTTPS')).toEqual([]);
    expect(after.findings.filter((f) => f.status === 'drift')).toEqual([]);
  });

  it('2. a group admitting 443 only from a prefix list whose entry contains the workload subnet admits it', async () => {
    const acct = newAccount();
    await createCluster(acct, 'web');
    const corp = await createPrefixList(acct, { name: 'corp', entries: [{ cidr: '10.0.0.0/8' }] });
    const partner = await createPrefixList(acct, { name: 'partner', entries: [{ cidr: '192.168.0.0/16' }] });
    /** A VPC whose Fargate service logs through a logs endpoint that admits 443 from `list` only. */
    const vpcBehind = async (cidr: string, name: string, list: string): Promise<string> => {
      const net = await createNetwork(acct, { cidr, azs: ['a'], name });
      await fargateService(acct, { cluster: 'web', name, subnets: net.subnetIds });
      const group = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'logs-endpoint' });
      await acct.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: list }] },
          ],
        }),
      );
      await createEndpoint(acct, {
        vpcId: net.vpcId,
        service: 'logs',
        subnetIds: net.subnetIds,
        securityGroupIds: [group],
        privateDns: true,
      });
      return net.vpcId;
    };
    const admitted = await vpcBehind('10.21.0.0/16', 'corp', corp);
    // The control: a list without the subnet admits nothing, so the rule is really what decides.
    const refused = await vpcBehind('10.22.0.0/16', 'partner', partner);

    const result = await plan(acct);
    expect(verdict(result, admitted)).toEqual([]);
    expect(result.actions.filter((a) => a.vpcId === admitted)).toEqual([]);
    expect(verdict(result, refused)).toEqual(['ENDPOINT_SG_NO_HTTPS logs']);
    expect(findingOf(result, 'ENDPOINT_SG_NO_HTTPS', 'logs')).toMatchObject({
      status: 'drift',
      vpcId: refused,
    });
    expect(result.actions.map((a) => [a.kind, a.vpcId])).toEqual([
      ['CREATE_SECURITY_GROUP', refused],
      ['MODIFY_ENDPOINT', refused],
    ]);
    expect(result.skippedReads).toEqual([]);
  });
});

describe('central endpoints behind private hosted zones (hub and spoke)', () => {
  it('3. a spoke served by reachable hub endpoints needs only the S3 gateway', async () => {
    const acct = newAccount();
    const { spoke, hub } = await hubAndSpoke(acct);

    const { before, results } = await planAndApply(acct);
    expect(verdict(before, spoke.vpcId)).toEqual(['ENDPOINT_MISSING s3']);
    expect(findingOf(before, 'ENDPOINT_MISSING', 's3')).toMatchObject({ status: 'drift', severity: 'high' });
    expect(before.vpcs.map((vpc) => vpc.vpcId)).toEqual([spoke.vpcId]); // the hub runs no ECS work
    expect(before.actions.map((a) => [a.kind, a.vpcId, 'service' in a ? a.service : ''])).toEqual([
      ['CREATE_GATEWAY_ENDPOINT', spoke.vpcId, 's3'],
    ]);
    expect(results.map((r) => [r.kind, r.outcome])).toEqual([['CREATE_GATEWAY_ENDPOINT', 'succeeded']]);

    expect((await endpointsOf(acct, spoke.vpcId)).map((e) => [shortName(e), e.VpcEndpointType])).toEqual([
      ['s3', 'Gateway'],
    ]);
    expect((await endpointsOf(acct, hub.vpcId)).map(shortName).sort()).toEqual([
      'ecr.api',
      'ecr.dkr',
      'logs',
    ]);
    const after = await plan(acct);
    expect(after.findings).toEqual([]);
    expect(after.actions).toEqual([]);
  });

  it('4. a hub endpoint the spoke cannot reach (groups, then routes) is CENTRAL_ENDPOINT_UNREACHABLE, manual', async () => {
    // The hub's group admits only the hub itself.
    const closed = newAccount();
    const a = await hubAndSpoke(closed, { admit: HUB_CIDR });
    const refused = await plan(closed);
    const logs = findingOf(refused, 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(logs).toMatchObject({
      status: 'drift',
      severity: 'high',
      vpcId: a.spoke.vpcId,
      resourceId: hubEndpoint(a.hub, 'logs').VpcEndpointId,
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(logs.message).toContain('security groups do not allow TCP 443 from service web');
    expect(verdict(refused, a.spoke.vpcId)).toEqual([
      'CENTRAL_ENDPOINT_UNREACHABLE ecr.api',
      'CENTRAL_ENDPOINT_UNREACHABLE ecr.dkr',
      'CENTRAL_ENDPOINT_UNREACHABLE logs',
      'ENDPOINT_MISSING s3',
    ]);
    expect(createdServices(refused)).toEqual(['s3']);

    // Peered, the group admits the spoke, but no route either way.
    const unrouted = newAccount();
    const b = await hubAndSpoke(unrouted, { routes: false });
    const noRoute = await plan(unrouted);
    const finding = findingOf(noRoute, 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(finding).toMatchObject({ status: 'drift', severity: 'high', remediation: { status: 'manual' } });
    expect(finding.message).toContain('no route');
    expect(finding.message).toContain(b.hub.vpcId);
    expect(finding.message).not.toContain('security groups');
    expect(createdServices(noRoute)).toEqual(['s3']);
  });

  it('5. zones owned by a hub account: the spoke cannot read their records, so the service is unverifiable (low)', async () => {
    const hubAcct = newAccount();
    const spokeAcct = newAccount();
    const hub = await createHub(hubAcct, { services: ['logs'], admit: SPOKE_CIDR });
    const zoneName = `logs.${hubAcct.region}.amazonaws.com`;
    const zoneId = await createPrivateHostedZone(hubAcct, { name: zoneName, vpcId: hub.vpcId });
    await addAliasRecord(hubAcct, {
      zoneId,
      name: zoneName,
      ...endpointAliasTarget(hubEndpoint(hub, 'logs')),
    });
    const spoke = await createNetwork(spokeAcct, { cidr: SPOKE_CIDR, azs: ['a'], name: 'spoke' });
    await associateZone(hubAcct, spokeAcct, { zoneId, vpcId: spoke.vpcId });
    await createCluster(spokeAcct, 'spoke');
    await fargateService(spokeAcct, { cluster: 'spoke', name: 'web', subnets: spoke.subnetIds });

    const { before, results } = await planAndApply(spokeAcct);
    const finding = findingOf(before, 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(finding).toMatchObject({
      status: 'unknown',
      severity: 'low',
      resourceId: zoneId,
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(finding.message).toContain(hubAcct.accountId);
    expect(finding.statusReason).toContain('cannot be read');
    expect(verdict(before, spoke.vpcId)).toEqual(['CENTRAL_ENDPOINT_UNREACHABLE logs']);
    expect(before.actions).toEqual([]);
    expect(results).toEqual([]);
    expect(await endpointsOf(spokeAcct, spoke.vpcId)).toEqual([]);
  });

  it('6. a zone for the whole Region holding only ECR records answers NXDOMAIN for logs: CENTRAL_DNS_RECORD_MISSING, even with NAT', async () => {
    const acct = newAccount();
    const region = acct.region;
    const spoke = await createNetwork(acct, { cidr: SPOKE_CIDR, azs: ['a'], egress: 'nat', name: 'spoke' });
    const hub = await createHub(acct, { services: ['ecr.api', 'ecr.dkr'], admit: SPOKE_CIDR });
    const zoneId = await createPrivateHostedZone(acct, {
      name: `${region}.amazonaws.com`,
      vpcId: spoke.vpcId,
    });
    await addAliasRecord(acct, {
      zoneId,
      name: `api.ecr.${region}.amazonaws.com`,
      ...endpointAliasTarget(hubEndpoint(hub, 'ecr.api')),
    });
    await addAliasRecord(acct, {
      zoneId,
      name: `*.dkr.ecr.${region}.amazonaws.com`,
      ...endpointAliasTarget(hubEndpoint(hub, 'ecr.dkr')),
    });
    await peer(
      acct,
      { vpcId: spoke.vpcId, cidr: SPOKE_CIDR, routeTableId: spoke.egress?.routeTableId ?? '' },
      hub,
    );
    await createCluster(acct, 'spoke');
    await fargateService(acct, {
      cluster: 'spoke',
      name: 'web',
      subnets: spoke.subnetIds,
      images: [ecrImage(acct)],
    });

    const result = await plan(acct);
    const logs = findingOf(result, 'CENTRAL_DNS_RECORD_MISSING', 'logs');
    expect(logs).toMatchObject({ status: 'drift', severity: 'high', remediation: { status: 'manual' } });
    expect(logs.message).toContain('NXDOMAIN');
    expect(logs.message).toContain(`logs.${region}.amazonaws.com`);
    expect(createdServices(result)).not.toContain('logs');
    expect(actionsOf(result, 'CREATE_ENDPOINT')).toEqual([]);
    // ECR is served by the hub; the zone answers NXDOMAIN for S3's names too.
    expect(verdict(result, spoke.vpcId)).toEqual([
      'CENTRAL_DNS_RECORD_MISSING logs',
      'CENTRAL_DNS_RECORD_MISSING s3',
    ]);
    expect(result.actions).toEqual([]);
  });

  it('7. a Resolver rule forwarding amazonaws.com: every interface endpoint the work needs is unverifiable, none is created', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.27.0.0/16', azs: ['a'] });
    const rule = await createResolverRule(acct, {
      type: 'FORWARD',
      domainName: 'amazonaws.com',
      targetIps: [{ ip: '10.200.0.2' }],
      name: 'to-on-premises',
    });
    await associateResolverRule(acct, { ruleId: rule.id, vpcId: net.vpcId });
    await createCluster(acct, 'web');
    await fargateService(acct, {
      cluster: 'web',
      name: 'web',
      subnets: net.subnetIds,
      images: [ecrImage(acct)],
    });

    const result = await plan(acct);
    for (const service of ['logs', 'ecr.api', 'ecr.dkr']) {
      const finding = findingOf(result, 'CENTRAL_ENDPOINT_UNREACHABLE', service);
      expect(finding).toMatchObject({
        status: 'unknown',
        severity: 'low',
        resourceId: rule.id,
        remediation: { status: 'manual', actionIds: [] },
      });
      expect(finding.message).toContain('10.200.0.2:53');
      expect(finding.statusReason).toContain('forwarding rule');
    }
    expect(actionsOf(result, 'CREATE_ENDPOINT')).toEqual([]);
    // A gateway endpoint routes by route table, whatever the forwarded resolvers answer for S3's
    // names: it stays needed (and is free), so it is the one thing planned.
    expect(missingServices(result)).toEqual(['s3']);
    expect(verdict(result, net.vpcId)).toEqual([
      'CENTRAL_ENDPOINT_UNREACHABLE ecr.api',
      'CENTRAL_ENDPOINT_UNREACHABLE ecr.dkr',
      'CENTRAL_ENDPOINT_UNREACHABLE logs',
      'ENDPOINT_MISSING s3',
    ]);
    expect(result.actions.map((action) => action.kind)).toEqual(['CREATE_GATEWAY_ENDPOINT']);
  });
});

describe('shared VPCs', () => {
  it('8. a participant of a shared VPC: each need unverifiable once, no ENDPOINT_MISSING, nothing planned or applied', async () => {
    const owner = newAccount();
    const participant = newAccount();
    const net = await createNetwork(owner, { cidr: '10.28.0.0/16', azs: ['a', 'b'], name: 'shared' });
    await shareSubnets(owner, participant, { subnetIds: net.subnetIds });
    const sg = await createSecurityGroup(participant, { vpcId: net.vpcId, name: 'apps' });
    const cluster = await createCluster(participant, 'apps');
    for (const subnetId of net.subnetIds) {
      await addContainerInstance(participant, { cluster, subnetId, securityGroupIds: [sg] });
    }
    await fargateService(participant, {
      cluster,
      name: 'api',
      subnets: net.subnetIds,
      securityGroups: [sg],
      images: [ecrImage(participant)],
    });

    const pool = poolFor(participant);
    const result = await plan(participant, undefined, pool);
    expect(findingsOf(result, 'ENDPOINT_MISSING')).toEqual([]);
    expect(result.actions).toEqual([]);
    const shared = findingsOf(result, 'SHARED_VPC_UNVERIFIABLE');
    expect(shared.map((f) => f.id.split('/').at(-1)).sort()).toEqual(
      ['awslogs', 'ec2-capacity', 'private-ecr', 'run-command'].sort(),
    );
    for (const finding of shared) {
      expect(finding).toMatchObject({
        status: 'unknown',
        severity: 'low',
        vpcId: net.vpcId,
        remediation: { status: 'manual', actionIds: [] },
      });
      expect(finding.message).toContain(owner.accountId);
    }
    expect(result.findings).toEqual(shared);
    expect(result.vpcs).toHaveLength(1);
    expect(result.vpcs[0]).toMatchObject({ vpcId: net.vpcId, ownerId: owner.accountId, shared: true });

    expect(await applyAccountPlan(result, pool)).toEqual([]);
    expect(await endpointsOf(owner, net.vpcId)).toEqual([]);
  });
});

describe('IPv6', () => {
  it('9. IPv6-only work behind an egress-only gateway: logs is missing (high), created as an ipv6 endpoint admitting the /64', async () => {
    const acct = newAccount();
    const net = await createDualStackNetwork(acct, {
      cidr: '10.29.0.0/16',
      subnets: 'ipv6-only',
      azs: ['a'],
    });
    await createCluster(acct, 'v6');
    await fargateService(acct, { cluster: 'v6', name: 'web', subnets: net.subnetIds });

    const { before } = await planAndApply(acct);
    expect(findingOf(before, 'ENDPOINT_MISSING', 'logs')).toMatchObject({
      status: 'drift',
      severity: 'high',
    });
    expect(verdict(before, net.vpcId)).toEqual(['ENDPOINT_MISSING logs']);
    expect(before.vpcs[0]?.workloadSubnets[0]?.egress).toBe('ipv6-internet');

    const [logs, ...others] = await endpointsOf(acct, net.vpcId);
    expect(others).toEqual([]);
    expect(logs).toMatchObject({
      VpcEndpointType: 'Interface',
      IpAddressType: 'ipv6',
      DnsOptions: { DnsRecordIpType: 'ipv6' },
      PrivateDnsEnabled: true,
      SubnetIds: net.subnetIds,
    });
    expect(shortName(logs ?? {})).toBe('logs');
    const group = await groupById(acct, logs?.Groups?.[0]?.GroupId ?? '');
    expect(group.GroupName).toBe(MANAGED_GROUP);
    const rule = group.IpPermissions?.[0];
    expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(rule?.Ipv6Ranges?.map((r) => r.CidrIpv6)).toEqual(net.subnetIpv6Cidrs);
    expect(rule?.IpRanges ?? []).toEqual([]);

    const after = await plan(acct);
    expect(after.findings).toEqual([]);
    expect(after.actions).toEqual([]);
  });

  it('10. dual-stack and IPv6-only callers of logs in one VPC get a dualstack endpoint in the dual-stack subnet', async () => {
    const acct = newAccount();
    const net = await createDualStackNetwork(acct, { cidr: '10.30.0.0/16', azs: ['a'] });
    const dual = net.subnetIds[0] ?? '';
    const only = await createIpv6Subnet(acct, {
      vpcId: net.vpcId,
      ipv6Cidr: ipv6SubnetCidr(net.ipv6Cidr, 5),
      az: 'a',
      name: 'v6-only',
    });
    await createCluster(acct, 'mixed');
    await fargateService(acct, { cluster: 'mixed', name: 'v4', subnets: [dual] });
    await fargateService(acct, { cluster: 'mixed', name: 'v6', subnets: [only] });

    const { before } = await planAndApply(acct);
    const create = actionsOf(before, 'CREATE_ENDPOINT');
    expect(create).toHaveLength(1);
    expect(create[0]).toMatchObject({ service: 'logs', ipAddressType: 'dualstack', subnetIds: [dual] });

    const [logs, ...others] = await endpointsOf(acct, net.vpcId);
    expect(others).toEqual([]);
    expect(logs).toMatchObject({ IpAddressType: 'dualstack', SubnetIds: [dual], PrivateDnsEnabled: true });
    const rule = (await groupById(acct, logs?.Groups?.[0]?.GroupId ?? '')).IpPermissions?.[0];
    expect(rule?.IpRanges?.map((r) => r.CidrIp)).toEqual(['10.30.0.0/24']);
    expect(rule?.Ipv6Ranges?.map((r) => r.CidrIpv6).sort()).toEqual(
      [net.subnetIpv6Cidrs[0], ipv6SubnetCidr(net.ipv6Cidr, 5)].sort(),
    );

    const after = await plan(acct);
    expect(findingsOf(after, undefined, 'logs')).toEqual([]);
    expect(after.actions).toEqual([]);
  });
});

describe('what a task really needs', () => {
  it('11. FireLens to Kinesis Data Firehose needs kinesis-firehose; a config file baked into the image is an unknown need', async () => {
    const acct = newAccount();
    const firehose = await createNetwork(acct, { cidr: '10.31.0.0/16', azs: ['a'], name: 'firehose' });
    const custom = await createNetwork(acct, { cidr: '10.32.0.0/16', azs: ['a'], name: 'custom' });
    await createCluster(acct, 'logs');
    const toFirehose = await registerFireLensTaskDefinition(acct, {
      family: 'to-firehose',
      output: { Name: 'kinesis_firehose', region: acct.region, delivery_stream: 'app-logs' },
    });
    await createAwsvpcService(acct, {
      cluster: 'logs',
      name: 'to-firehose',
      taskDefinition: toFirehose,
      subnets: firehose.subnetIds,
    });
    const withFile = await registerFireLensTaskDefinition(acct, {
      family: 'with-file',
      router: { configFile: { type: 'file', value: '/fluent-bit/etc/extra.conf' } },
      output: { Name: 'http', Host: 'logs.example.com', Port: '443' },
    });
    await createAwsvpcService(acct, {
      cluster: 'logs',
      name: 'with-file',
      taskDefinition: withFile,
      subnets: custom.subnetIds,
    });

    const result = await plan(acct);
    expect(missingServices(result, firehose.vpcId)).toEqual(['kinesis-firehose']);
    expect(findingOf(result, 'ENDPOINT_MISSING', 'kinesis-firehose')).toMatchObject({
      status: 'drift',
      severity: 'high',
      remediation: { status: 'planned' },
    });
    expect(createdServices(result, firehose.vpcId)).toEqual(['kinesis-firehose']);
    expect(verdict(result, firehose.vpcId)).toEqual(['ENDPOINT_MISSING kinesis-firehose']);

    const unknown = findingOf(result, 'NEED_UNKNOWN');
    expect(unknown).toMatchObject({
      status: 'unknown',
      severity: 'low',
      vpcId: custom.vpcId,
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(unknown.message).toContain('/fluent-bit/etc/extra.conf');
    expect(unknown.statusReason).toBeDefined();
    expect(verdict(result, custom.vpcId)).toEqual(['NEED_UNKNOWN firelens-unknown']);
    expect(result.vpcs.find((vpc) => vpc.vpcId === custom.vpcId)?.needs).toEqual([
      expect.objectContaining({ need: 'firelens-unknown', services: [], unknown: true }),
    ]);
    expect(createdServices(result, custom.vpcId)).toEqual([]);
  });

  it('12. ECS Exec with session logs to S3 encrypted by KMS needs ssmmessages, kms and s3', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.33.0.0/16', azs: ['a'] });
    const cluster = await createExecCluster(acct, 'exec', {
      logging: 'OVERRIDE',
      s3BucketName: 'exec-sessions',
      s3KeyPrefix: 'sessions/',
      kmsKeyId: `arn:aws:kms:${acct.region}:${acct.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    });
    const td = await registerTaskDefinition(acct, {
      family: 'shell',
      images: ['public.ecr.aws/nginx/nginx:1'],
    });
    await createAwsvpcService(acct, {
      cluster,
      name: 'shell',
      taskDefinition: td,
      subnets: net.subnetIds,
      enableExecuteCommand: true,
    });

    const result = await plan(acct);
    expect(missingServices(result)).toEqual(['kms', 's3', 'ssmmessages']);
    expect(
      findingsOf(result, 'ENDPOINT_MISSING').every((f) => f.status === 'drift' && f.severity === 'high'),
    ).toBe(true);
    expect(verdict(result, net.vpcId)).toEqual([
      'ENDPOINT_MISSING kms',
      'ENDPOINT_MISSING s3',
      'ENDPOINT_MISSING ssmmessages',
    ]);
    expect(result.vpcs[0]?.needs.map((n) => n.need).sort()).toEqual([
      'ecs-exec',
      'ecs-exec-kms',
      'ecs-exec-s3',
    ]);
    expect(createdServices(result)).toEqual(['kms', 's3', 'ssmmessages']);
  });

  it('13. the endpoint cap goes to running work first: a service scaled to zero waits, and is still reported', async () => {
    const acct = newAccount();
    const first = await createNetwork(acct, { cidr: '10.34.0.0/16', azs: ['a'] });
    const second = await createNetwork(acct, { cidr: '10.35.0.0/16', azs: ['a'] });
    // The idle VPC sorts first by id, so only the live-work rank can put the running one ahead.
    const [idle, live] = first.vpcId < second.vpcId ? [first, second] : [second, first];
    await createCluster(acct, 'apps');
    await fargateService(acct, { cluster: 'apps', name: 'idle', subnets: idle.subnetIds, desiredCount: 0 });
    await fargateService(acct, { cluster: 'apps', name: 'live', subnets: live.subnetIds, desiredCount: 1 });
    expect(await startServiceTasks(acct, { cluster: 'apps', service: 'live' })).toHaveLength(1);

    const config = parseConfig({ limits: { maxEndpointsCreatedPerRun: 1 } });
    const { before, results } = await planAndApply(acct, config);
    const creates = actionsOf(before, 'CREATE_ENDPOINT');
    expect(creates.map((a) => [a.vpcId, a.status])).toEqual(
      expect.arrayContaining([
        [live.vpcId, 'planned'],
        [idle.vpcId, 'deferred'],
      ]),
    );
    expect(creates).toHaveLength(2);
    // The idle VPC's managed group waits with its endpoint (no group is made for nothing); the
    // endpoint then waits for the group.
    expect(
      actionsOf(before, 'CREATE_SECURITY_GROUP').find((a) => a.vpcId === idle.vpcId)?.deferredReason,
    ).toContain('maxEndpointsCreatedPerRun');
    expect(creates.find((a) => a.vpcId === idle.vpcId)?.deferredReason).toContain(
      'waits for deferred action',
    );
    expect(before.stats.endpointsToCreate).toBe(1);
    expect(
      findingsOf(before, 'ENDPOINT_MISSING', 'logs')
        .map((f) => [f.vpcId, f.remediation.status])
        .sort(),
    ).toEqual(
      [
        [idle.vpcId, 'deferred'],
        [live.vpcId, 'planned'],
      ].sort(),
    );
    expect(results.find((r) => r.kind === 'CREATE_ENDPOINT' && r.vpcId === live.vpcId)?.outcome).toBe(
      'succeeded',
    );
    expect(results.find((r) => r.kind === 'CREATE_ENDPOINT' && r.vpcId === idle.vpcId)?.outcome).toBe(
      'skipped',
    );
    expect((await endpointsOf(acct, live.vpcId)).map(shortName)).toEqual(['logs']);
    expect(await endpointsOf(acct, idle.vpcId)).toEqual([]);

    // The next run: the idle VPC's finding is still there (in scope, only later).
    const next = await plan(acct, config);
    expect(verdict(next, idle.vpcId)).toEqual(['ENDPOINT_MISSING logs']);
    expect(verdict(next, live.vpcId)).toEqual([]);
  });
});

describe('degrade, do not fail', () => {
  it('14. Route 53 refusing ListHostedZonesByVPC: the plan goes on, missing endpoints are unknown and not created', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.36.0.0/16', azs: ['a'] });
    const td = await registerTaskDefinition(acct, {
      family: 'web',
      images: ['public.ecr.aws/nginx/nginx:1'],
      logDriver: 'awslogs',
      secrets: [
        { name: 'DB_URL', valueFrom: `arn:aws:ssm:${acct.region}:${acct.accountId}:parameter/app/db-url` },
      ],
    });
    await createCluster(acct, 'web');
    await createAwsvpcService(acct, {
      cluster: 'web',
      name: 'web',
      taskDefinition: td,
      subnets: net.subnetIds,
    });
    // A local ssm endpoint with private DNS whose group admits nobody: its finding needs no Route 53.
    const closed = await createSecurityGroup(acct, { vpcId: net.vpcId, name: 'closed' });
    const ssm = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'ssm',
      subnetIds: net.subnetIds,
      securityGroupIds: [closed],
      privateDns: true,
    });

    const healthy = await plan(acct);
    // moto does not enforce IAM, so the refusal is made on the client: a middleware of the pool's Route 53 client
    // answers ListHostedZonesByVPC as AWS answers a caller without route53:ListHostedZonesByVPC.
    const pool = poolFor(acct);
    pool.clientsFor(acct.region).route53.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListHostedZonesByVPCCommand') {
          throw Object.assign(
            new Error(
              `User: arn:aws:iam::${acct.accountId}:role/remediator is not authorized to perform: route53:ListHostedZonesByVPC`,
            ),
            { name: 'AccessDenied', $metadata: { httpStatusCode: 403 }, $fault: 'client' },
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'testDenyListHostedZonesByVPC' },
    );
    const degraded = await plan(acct, undefined, pool);

    expect(degraded.skippedReads.map((read) => [read.region, read.operation, read.resourceId])).toEqual([
      [acct.region, 'route53:ListHostedZonesByVPC', net.vpcId],
    ]);
    expect(degraded.skippedReads[0]?.reason).toMatch(/^AccessDenied: .*not authorized/);
    const missing = findingOf(degraded, 'ENDPOINT_MISSING', 'logs');
    expect(missing).toMatchObject({
      status: 'unknown',
      severity: 'low',
      remediation: { status: 'manual', actionIds: [] },
    });
    expect(missing.statusReason).toContain('route53:ListHostedZonesByVPC');
    expect(missingServices(degraded)).toEqual(['logs']);
    expect(actionsOf(degraded, 'CREATE_ENDPOINT')).toEqual([]);
    expect(createdServices(degraded)).toEqual([]);

    // Without the refusal the same finding is drift and planned.
    expect(findingOf(healthy, 'ENDPOINT_MISSING', 'logs')).toMatchObject({
      status: 'drift',
      severity: 'high',
      remediation: { status: 'planned' },
    });
    expect(healthy.skippedReads).toEqual([]);
    // Every other finding is the same as without the refusal: the local ssm endpoint's group is still drift.
    const others = (p: Plan) => p.findings.filter((f) => f.code !== 'ENDPOINT_MISSING');
    expect(others(degraded)).toEqual(others(healthy));
    expect(findingOf(degraded, 'ENDPOINT_SG_NO_HTTPS', 'ssm')).toMatchObject({
      status: 'drift',
      resourceId: ssm,
    });
    expect(actionsOf(degraded, 'MODIFY_ENDPOINT').map((a) => a.id)).toEqual(
      actionsOf(healthy, 'MODIFY_ENDPOINT').map((a) => a.id),
    );
  });
});

describe('endpoint policies', () => {
  it('15. an endpoint policy that denies the execution role’s pull: ENDPOINT_POLICY_DENIES; an owned endpoint’s policy is reset when the config allows it', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.40.0.0/16', azs: ['a'] });
    await createCluster(acct, 'web');
    const executionRoleArn = `arn:aws:iam::${acct.accountId}:role/ecsTaskExecutionRole`;
    const registered = await acct.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        executionRoleArn,
        containerDefinitions: [{ name: 'web', image: ecrImage(acct), essential: true }],
      }),
    );
    await createAwsvpcService(acct, {
      cluster: 'web',
      name: 'web',
      taskDefinition: registered.taskDefinition?.taskDefinitionArn ?? '',
      subnets: net.subnetIds,
    });
    const group = await createSecurityGroup(acct, {
      vpcId: net.vpcId,
      name: 'endpoints',
      ingress: [{ port: 443, cidr: '10.40.0.0/16' }],
    });
    const interfaceEndpoint = (service: string, policyDocument?: string) =>
      createEndpoint(acct, {
        vpcId: net.vpcId,
        service,
        subnetIds: net.subnetIds,
        securityGroupIds: [group],
        ...(policyDocument === undefined ? {} : { policyDocument }),
        tags: { 'ecs-endpoint-remediator/managed': 'true' },
      });
    await interfaceEndpoint('ecr.api');
    const dkr = await interfaceEndpoint(
      'ecr.dkr',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
          {
            Effect: 'Deny',
            Principal: { AWS: executionRoleArn },
            Action: 'ecr:BatchGetImage',
            Resource: '*',
          },
        ],
      }),
    );
    await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 's3',
      type: 'Gateway',
      routeTableIds: [await mainRouteTable(acct, net.vpcId)],
    });

    const before = await plan(acct);
    const finding = findingOf(before, 'ENDPOINT_POLICY_DENIES', 'ecr.dkr');
    expect(finding).toMatchObject({ status: 'drift', severity: 'high', resourceId: dkr });
    expect(finding.message).toContain(
      `ecr:BatchGetImage on arn:aws:ecr:${acct.region}:${acct.accountId}:repository/app`,
    );
    expect(finding.message).toContain(executionRoleArn);
    expect(finding.remediation.status).toBe('disabled'); // never widened unless asked
    expect(verdict(before, net.vpcId)).toEqual(['ENDPOINT_POLICY_DENIES ecr.dkr']);

    const config = parseConfig({ remediation: { resetOwnedEndpointPolicies: true } });
    const { before: planned } = await planAndApply(acct, config);
    expect(actionsOf(planned, 'MODIFY_ENDPOINT')).toEqual([
      expect.objectContaining({ vpcEndpointId: dkr, resetPolicy: true }),
    ]);
    const policy = JSON.parse((await endpointById(acct, dkr)).PolicyDocument ?? '{}') as {
      Statement: unknown[];
    };
    expect(policy.Statement).toHaveLength(1); // AWS's full-access default
    expect((await plan(acct)).findings).toEqual([]);
  });
});

describe('workload egress', () => {
  it('16. a workload group whose outbound rules no longer allow TCP 443: WORKLOAD_SG_NO_HTTPS_EGRESS, manual, nothing planned for it', async () => {
    const acct = newAccount();
    const net = await createNetwork(acct, { cidr: '10.41.0.0/16', azs: ['a'] });
    await createCluster(acct, 'web');
    // The workload's group allows only port 80 out: its calls to any endpoint never leave.
    const app = await createSecurityGroup(acct, {
      vpcId: net.vpcId,
      name: 'app',
      egress: [{ port: 80, cidr: '0.0.0.0/0' }],
    });
    await fargateService(acct, {
      cluster: 'web',
      name: 'web',
      subnets: net.subnetIds,
      securityGroups: [app],
    });
    const endpointGroup = await createSecurityGroup(acct, {
      vpcId: net.vpcId,
      name: 'endpoints',
      ingress: [{ port: 443, groupId: app }],
    });
    const logs = await createEndpoint(acct, {
      vpcId: net.vpcId,
      service: 'logs',
      subnetIds: net.subnetIds,
      securityGroupIds: [endpointGroup],
    });
    const result = await plan(acct);
    const finding = findingOf(result, 'WORKLOAD_SG_NO_HTTPS_EGRESS', 'logs');
    expect(finding).toMatchObject({ status: 'drift', severity: 'high', resourceId: logs });
    expect(finding.message).toContain('service web');
    expect(verdict(result, net.vpcId)).toEqual(['WORKLOAD_SG_NO_HTTPS_EGRESS logs']);
    expect(result.actions).toEqual([]);
  });
});
