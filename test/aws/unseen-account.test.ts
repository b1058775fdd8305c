// An account this project has never seen, built the way a large organisation's account looks: one Region, a
// shared-services hub and a dozen VPCs mixing the patterns of test/aws/real-networks.test.ts (centrally served
// spokes, an NXDOMAIN zone, a forwarding rule, prefix-list admission, per-workload groups, a shared VPC, IPv6,
// FireLens, ECS Exec, a service scaled to zero, a healthy VPC and an ignored one). The expected verdicts are
// derived from the rules in docs/findings.md and docs/architecture.md, not from the code's output: plan reports
// exactly that drift, apply is never refused by AWS (the patched moto), and a second plan leaves only what the
// remediator cannot or may not fix.
import {
  AcceptVpcPeeringConnectionCommand,
  AssociateRouteTableCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateTagsCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
} from '@aws-sdk/client-ec2';
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import type { Finding } from '../../core/findings.ts';
import type { Plan } from '../../core/plan.ts';
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
} from '../harness/seed-network.ts';

// ------------------------------------------------------------------------------------------------
// Helpers (the approach of real-networks.test.ts)
// ------------------------------------------------------------------------------------------------

const HUB_CIDR = '10.9.0.0/16';

// Generous caps, so nothing is deferred. Agent restarts stay on (moto_ssm.py runs Run Command and reports every
// instance Online on Amazon Linux 2023 by default); only their waits are shortened to keep the test fast.
const CONFIG = parseConfig({
  limits: { maxEndpointsCreatedPerRun: 100, maxActionsPerRun: 500 },
  agentRestart: { waitSeconds: 2, verifySeconds: 1, waveSize: 10, wavePercent: 100 },
});

function poolFor(acct: Account): ClientPool {
  return createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
}

function plan(acct: Account, pool = poolFor(acct)): Promise<Plan> {
  return planAccount({ regions: [acct.region], config: CONFIG, pool });
}

/** `code service status` of one finding (the id's subject where it has no service). */
const line = (f: Finding): string => `${f.code} ${f.service ?? f.id.split('/').at(-1) ?? ''} ${f.status}`;

/** Per VPC name: the sorted `code service status` of every finding, and under `?` those of VPCs not named. */
function verdicts(p: Plan, vpcs: Record<string, string>): Record<string, string[]> {
  const nameOf = new Map(Object.entries(vpcs).map(([name, id]) => [id, name]));
  const out: Record<string, string[]> = Object.fromEntries(Object.keys(vpcs).map((name) => [name, []]));
  for (const finding of p.findings) {
    const name = nameOf.get(finding.vpcId) ?? `? ${finding.vpcId}`;
    (out[name] ??= []).push(line(finding));
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** Per finding line: `severity remediation`, for the VPCs named. */
function details(p: Plan, vpcs: Record<string, string>): Record<string, string> {
  const ids = new Set(Object.values(vpcs));
  return Object.fromEntries(
    p.findings
      .filter((f) => ids.has(f.vpcId))
      .map((f) => [
        `${Object.entries(vpcs).find(([, id]) => id === f.vpcId)?.[0] ?? ''}: ${line(f)}`,
        `${f.severity} ${f.remediation.status}`,
      ]),
  );
}

/** Per VPC name: the sorted `KIND service` of its actions (and their status when not planned). */
function actionsByVpc(p: Plan, vpcs: Record<string, string>): Record<string, string[]> {
  const nameOf = new Map(Object.entries(vpcs).map(([name, id]) => [id, name]));
  const out: Record<string, string[]> = Object.fromEntries(Object.keys(vpcs).map((name) => [name, []]));
  for (const action of p.actions) {
    const name = nameOf.get(action.vpcId) ?? `? ${action.vpcId}`;
    const service = 'service' in action ? ` ${action.service}` : '';
    (out[name] ??= []).push(
      `${action.kind}${service}${action.status === 'planned' ? '' : ` ${action.status}`}`,
    );
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

async function endpointsOf(acct: Account, vpcId: string): Promise<VpcEndpoint[]> {
  const out = await acct.ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  return (out.VpcEndpoints ?? []).filter((e) => (e.State ?? '').toLowerCase() !== 'deleted');
}

const shortName = (endpoint: VpcEndpoint): string =>
  (endpoint.ServiceName ?? '').split('.').slice(3).join('.');

async function servicesIn(acct: Account, vpcId: string): Promise<string[]> {
  return (await endpointsOf(acct, vpcId)).map(shortName).sort();
}

function ecrImage(acct: Account, repository: string): string {
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

interface Place {
  readonly vpcId: string;
  readonly cidr: string;
  readonly routeTableId: string;
}

/** An active peering connection between two VPCs of one account, with routes both ways. */
async function peer(acct: Account, a: Place, b: Place): Promise<void> {
  const created = await acct.ec2.send(
    new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: b.vpcId }),
  );
  const id = created.VpcPeeringConnection?.VpcPeeringConnectionId ?? '';
  await acct.ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
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

/** A Fargate service (awsvpc) of its own task definition. */
async function fargateService(
  acct: Account,
  o: {
    cluster: string;
    name: string;
    subnets: string[];
    images?: string[];
    awslogs?: boolean;
    secrets?: { name: string; valueFrom: string }[];
    securityGroups?: string[];
    desiredCount?: number;
  },
): Promise<string> {
  const taskDefinition = await registerTaskDefinition(acct, {
    family: o.name,
    images: o.images ?? ['public.ecr.aws/nginx/nginx:1'],
    ...(o.awslogs === false ? {} : { logDriver: 'awslogs' as const }),
    ...(o.secrets === undefined ? {} : { secrets: o.secrets }),
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

/** An EC2 (bridge) service of its own task definition. */
async function bridgeService(
  acct: Account,
  o: { cluster: string; name: string; images: string[]; awslogs: boolean },
): Promise<void> {
  const taskDefinition = await registerTaskDefinition(acct, {
    family: o.name,
    images: o.images,
    ...(o.awslogs ? { logDriver: 'awslogs' as const } : {}),
    networkMode: 'bridge',
    compatibilities: ['EC2'],
  });
  await createService(acct, { cluster: o.cluster, name: o.name, taskDefinition, launchType: 'EC2' });
}

// ------------------------------------------------------------------------------------------------
// The account
// ------------------------------------------------------------------------------------------------

describe('an account never seen before, built from the real-network patterns', () => {
  it('plan reports exactly the drift the rules define; apply is never refused; what is left is manual, disabled or unknown', async () => {
    const acct = newAccount();
    const owner = newAccount(); // owns the VPC shared with `acct`
    const region = acct.region;
    await createCluster(acct, 'platform'); // Fargate services of every team, across many VPCs

    // 1. hub: shared services, no ECS work. Interface endpoints with private DNS off, one group admitting 10/8.
    const hubNet = await createNetwork(acct, { cidr: HUB_CIDR, azs: ['a', 'b'], name: 'hub' });
    const hubGroup = await createSecurityGroup(acct, {
      vpcId: hubNet.vpcId,
      name: 'hub-endpoints',
      ingress: [{ port: 443, cidr: '10.0.0.0/8' }],
    });
    const hubEndpoints: Record<string, VpcEndpoint> = {};
    for (const service of ['logs', 'ecr.api', 'ecr.dkr', 'secretsmanager']) {
      await createEndpoint(acct, {
        vpcId: hubNet.vpcId,
        service,
        subnetIds: hubNet.subnetIds,
        securityGroupIds: [hubGroup],
        privateDns: false,
      });
    }
    for (const endpoint of await endpointsOf(acct, hubNet.vpcId))
      hubEndpoints[shortName(endpoint)] = endpoint;
    const hubTarget = (service: string) => {
      const endpoint = hubEndpoints[service];
      if (!endpoint) throw new Error(`the hub has no ${service} endpoint`);
      return endpointAliasTarget(endpoint);
    };
    const hub: Place = {
      vpcId: hubNet.vpcId,
      cidr: HUB_CIDR,
      routeTableId: await mainRouteTable(acct, hubNet.vpcId),
    };

    // 2a. spoke-fargate: no egress, served by the hub through one zone per service; private ECR, awslogs, a secret.
    const spokeFargate = await createNetwork(acct, {
      cidr: '10.1.0.0/16',
      azs: ['a', 'b'],
      name: 'spoke-fargate',
    });
    // 2b. spoke-ec2: no egress, the same zones; EC2 hosts running a bridge service with private ECR and awslogs.
    const spokeEc2 = await createNetwork(acct, { cidr: '10.2.0.0/16', azs: ['a', 'b'], name: 'spoke-ec2' });
    const zoneFor = [
      ['logs', `logs.${region}.amazonaws.com`, `logs.${region}.amazonaws.com`],
      ['ecr.api', `api.ecr.${region}.amazonaws.com`, `api.ecr.${region}.amazonaws.com`],
      ['ecr.dkr', `dkr.ecr.${region}.amazonaws.com`, `*.dkr.ecr.${region}.amazonaws.com`],
      ['secretsmanager', `secretsmanager.${region}.amazonaws.com`, `secretsmanager.${region}.amazonaws.com`],
    ] as const;
    for (const [service, zoneName, recordName] of zoneFor) {
      const zoneId = await createPrivateHostedZone(acct, { name: zoneName, vpcId: spokeFargate.vpcId });
      await addAliasRecord(acct, { zoneId, name: recordName, ...hubTarget(service) });
      await associateZone(acct, acct, { zoneId, vpcId: spokeEc2.vpcId });
    }
    for (const [spoke, cidr] of [
      [spokeFargate, '10.1.0.0/16'],
      [spokeEc2, '10.2.0.0/16'],
    ] as const) {
      await peer(
        acct,
        { vpcId: spoke.vpcId, cidr, routeTableId: await mainRouteTable(acct, spoke.vpcId) },
        hub,
      );
    }
    await fargateService(acct, {
      cluster: 'platform',
      name: 'orders',
      subnets: spokeFargate.subnetIds,
      images: [ecrImage(acct, 'orders')],
      secrets: [
        {
          name: 'DB',
          valueFrom: `arn:aws:secretsmanager:${region}:${acct.accountId}:secret:orders-db-AbC123`,
        },
      ],
    });
    const payments = await createCluster(acct, 'payments');
    const paymentHosts: string[] = [];
    for (const subnetId of spokeEc2.subnetIds) {
      paymentHosts.push((await addContainerInstance(acct, { cluster: payments, subnetId })).instanceId);
    }
    await bridgeService(acct, {
      cluster: payments,
      name: 'payments',
      images: [ecrImage(acct, 'payments')],
      awslogs: true,
    });

    // 3. spoke-nxdomain (NAT): a zone for the whole Region holding only the ECR records, pointing at the hub.
    const spokeNx = await createNetwork(acct, {
      cidr: '10.3.0.0/16',
      azs: ['a'],
      egress: 'nat',
      name: 'spoke-nxdomain',
    });
    const regionZone = await createPrivateHostedZone(acct, {
      name: `${region}.amazonaws.com`,
      vpcId: spokeNx.vpcId,
    });
    await addAliasRecord(acct, {
      zoneId: regionZone,
      name: `api.ecr.${region}.amazonaws.com`,
      ...hubTarget('ecr.api'),
    });
    await addAliasRecord(acct, {
      zoneId: regionZone,
      name: `*.dkr.ecr.${region}.amazonaws.com`,
      ...hubTarget('ecr.dkr'),
    });
    await peer(
      acct,
      { vpcId: spokeNx.vpcId, cidr: '10.3.0.0/16', routeTableId: spokeNx.egress?.routeTableId ?? '' },
      hub,
    );
    await fargateService(acct, {
      cluster: 'platform',
      name: 'search',
      subnets: spokeNx.subnetIds,
      images: [ecrImage(acct, 'search')],
    });

    // 4. spoke-forwarded: a Resolver rule forwarding amazonaws.com to on-premises resolvers.
    const spokeFwd = await createNetwork(acct, { cidr: '10.4.0.0/16', azs: ['a'], name: 'spoke-forwarded' });
    const rule = await createResolverRule(acct, {
      type: 'FORWARD',
      domainName: 'amazonaws.com',
      targetIps: [{ ip: '10.200.0.2' }],
      name: 'to-on-premises',
    });
    await associateResolverRule(acct, { ruleId: rule.id, vpcId: spokeFwd.vpcId });
    await fargateService(acct, {
      cluster: 'platform',
      name: 'billing',
      subnets: spokeFwd.subnetIds,
      images: [ecrImage(acct, 'billing')],
    });

    // 5. prefix-list: everything the work needs exists, admitted only through a customer-managed prefix list.
    const plNet = await createNetwork(acct, { cidr: '10.5.0.0/16', azs: ['a', 'b'], name: 'prefix-list' });
    const corp = await createPrefixList(acct, { name: 'corp', entries: [{ cidr: '10.0.0.0/8' }] });
    const plGroup = await createSecurityGroup(acct, { vpcId: plNet.vpcId, name: 'endpoints' });
    await acct.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: plGroup,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: corp }] },
        ],
      }),
    );
    for (const service of ['logs', 'ecr.api', 'ecr.dkr']) {
      await createEndpoint(acct, {
        vpcId: plNet.vpcId,
        service,
        subnetIds: plNet.subnetIds,
        securityGroupIds: [plGroup],
        privateDns: true,
      });
    }
    await createEndpoint(acct, {
      vpcId: plNet.vpcId,
      service: 's3',
      type: 'Gateway',
      routeTableIds: [await mainRouteTable(acct, plNet.vpcId)],
    });
    await fargateService(acct, {
      cluster: 'platform',
      name: 'inventory',
      subnets: plNet.subnetIds,
      images: [ecrImage(acct, 'inventory')],
    });

    // 6. mixed-groups (NAT): EC2 hosts and a Fargate service with its own group; the endpoints admit only the hosts' group.
    const mixedNet = await createNetwork(acct, {
      cidr: '10.6.0.0/16',
      azs: ['a'],
      egress: 'nat',
      name: 'mixed-groups',
    });
    const sgHosts = await createSecurityGroup(acct, { vpcId: mixedNet.vpcId, name: 'sg-hosts' });
    const sgTask = await createSecurityGroup(acct, { vpcId: mixedNet.vpcId, name: 'sg-task' });
    const ledger = await createCluster(acct, 'ledger');
    await addContainerInstance(acct, {
      cluster: ledger,
      subnetId: mixedNet.subnetIds[0] ?? '',
      securityGroupIds: [sgHosts],
    });
    await bridgeService(acct, {
      cluster: ledger,
      name: 'ledger-batch',
      images: ['public.ecr.aws/docker/library/busybox:1'],
      awslogs: true,
    });
    await fargateService(acct, {
      cluster: ledger,
      name: 'ledger-api',
      subnets: mixedNet.subnetIds,
      securityGroups: [sgTask],
    });
    const hostsOnly = await createSecurityGroup(acct, {
      vpcId: mixedNet.vpcId,
      name: 'endpoints-hosts-only',
      ingress: [{ port: 443, groupId: sgHosts }],
    });
    const mixedEndpoints: Record<string, string> = {};
    for (const service of ['ecs-agent', 'ecs-telemetry', 'ecs', 'logs']) {
      mixedEndpoints[service] = await createEndpoint(acct, {
        vpcId: mixedNet.vpcId,
        service,
        subnetIds: mixedNet.subnetIds,
        securityGroupIds: [hostsOnly],
        privateDns: true,
      });
    }

    // 7. shared: a VPC of another account shared through AWS RAM; this account runs a Fargate service in it.
    const sharedNet = await createNetwork(owner, { cidr: '10.7.0.0/16', azs: ['a', 'b'], name: 'shared' });
    await shareSubnets(owner, acct, { subnetIds: sharedNet.subnetIds });
    const sharedGroup = await createSecurityGroup(acct, { vpcId: sharedNet.vpcId, name: 'catalog' });
    await fargateService(acct, {
      cluster: 'platform',
      name: 'catalog',
      subnets: sharedNet.subnetIds,
      securityGroups: [sharedGroup],
      images: [ecrImage(acct, 'catalog')],
    });

    // 8. ipv6: a dual-stack subnet and an IPv6-only one (egress-only gateway), Fargate awslogs from both.
    const v6Net = await createDualStackNetwork(acct, { cidr: '10.8.0.0/16', azs: ['a'], name: 'ipv6' });
    const v6Only = await createIpv6Subnet(acct, {
      vpcId: v6Net.vpcId,
      ipv6Cidr: ipv6SubnetCidr(v6Net.ipv6Cidr, 5),
      az: 'a',
      name: 'v6-only',
    });
    await acct.ec2.send(
      new AssociateRouteTableCommand({ RouteTableId: v6Net.routeTableId, SubnetId: v6Only }),
    );
    await fargateService(acct, { cluster: 'platform', name: 'edge-v4', subnets: v6Net.subnetIds });
    await fargateService(acct, { cluster: 'platform', name: 'edge-v6', subnets: [v6Only] });

    // 9. firelens: a private subnet, FireLens to Kinesis Data Firehose.
    const fireNet = await createNetwork(acct, { cidr: '10.10.0.0/16', azs: ['a'], name: 'firelens' });
    const clickstream = await registerFireLensTaskDefinition(acct, {
      family: 'clickstream',
      output: { Name: 'kinesis_firehose', region, delivery_stream: 'clicks' },
    });
    await createAwsvpcService(acct, {
      cluster: 'platform',
      name: 'clickstream',
      taskDefinition: clickstream,
      subnets: fireNet.subnetIds,
    });

    // 10. exec: ECS Exec on a cluster that logs sessions to S3 and encrypts them with KMS.
    const execNet = await createNetwork(acct, { cidr: '10.11.0.0/16', azs: ['a'], name: 'exec' });
    const ops = await createExecCluster(acct, 'ops', {
      logging: 'OVERRIDE',
      s3BucketName: 'exec-sessions',
      s3KeyPrefix: 'sessions/',
      kmsKeyId: `arn:aws:kms:${region}:${acct.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    });
    const toolbox = await registerTaskDefinition(acct, {
      family: 'toolbox',
      images: ['public.ecr.aws/nginx/nginx:1'],
    });
    await createAwsvpcService(acct, {
      cluster: ops,
      name: 'toolbox',
      taskDefinition: toolbox,
      subnets: execNet.subnetIds,
      enableExecuteCommand: true,
    });

    // 11. idle: a service scaled to zero, still in scope.
    const idleNet = await createNetwork(acct, { cidr: '10.12.0.0/16', azs: ['a'], name: 'idle' });
    await fargateService(acct, {
      cluster: 'platform',
      name: 'reports',
      subnets: idleNet.subnetIds,
      desiredCount: 0,
    });

    // 12a. healthy (NAT): EC2 hosts in two AZs, the ECS endpoints present, in both AZs, admitting the VPC.
    const healthyNet = await createNetwork(acct, {
      cidr: '10.13.0.0/16',
      azs: ['a', 'b'],
      egress: 'nat',
      name: 'healthy',
    });
    const web = await createCluster(acct, 'web');
    for (const subnetId of healthyNet.subnetIds) await addContainerInstance(acct, { cluster: web, subnetId });
    await bridgeService(acct, {
      cluster: web,
      name: 'frontend',
      images: ['public.ecr.aws/nginx/nginx:1'],
      awslogs: false,
    });
    const healthyGroup = await createSecurityGroup(acct, {
      vpcId: healthyNet.vpcId,
      name: 'endpoints',
      ingress: [{ port: 443, cidr: '10.13.0.0/16' }],
    });
    for (const service of ['ecs-agent', 'ecs-telemetry', 'ecs']) {
      await createEndpoint(acct, {
        vpcId: healthyNet.vpcId,
        service,
        subnetIds: healthyNet.subnetIds,
        securityGroupIds: [healthyGroup],
        privateDns: true,
      });
    }

    // 12b. ignored: tagged out of scope, with a broken logs endpoint (private DNS off, a group admitting nobody).
    const ignoredNet = await createNetwork(acct, { cidr: '10.14.0.0/16', azs: ['a'], name: 'ignored' });
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [ignoredNet.vpcId],
        Tags: [{ Key: 'ecs-endpoint-remediator/ignore', Value: 'true' }],
      }),
    );
    const closed = await createSecurityGroup(acct, { vpcId: ignoredNet.vpcId, name: 'closed' });
    const brokenLogs = await createEndpoint(acct, {
      vpcId: ignoredNet.vpcId,
      service: 'logs',
      subnetIds: ignoredNet.subnetIds,
      securityGroupIds: [closed],
      privateDns: false,
    });
    await fargateService(acct, { cluster: 'platform', name: 'legacy', subnets: ignoredNet.subnetIds });

    const vpcs = {
      hub: hubNet.vpcId,
      'spoke-fargate': spokeFargate.vpcId,
      'spoke-ec2': spokeEc2.vpcId,
      'spoke-nxdomain': spokeNx.vpcId,
      'spoke-forwarded': spokeFwd.vpcId,
      'prefix-list': plNet.vpcId,
      'mixed-groups': mixedNet.vpcId,
      shared: sharedNet.vpcId,
      ipv6: v6Net.vpcId,
      firelens: fireNet.vpcId,
      exec: execNet.vpcId,
      idle: idleNet.vpcId,
      healthy: healthyNet.vpcId,
      ignored: ignoredNet.vpcId,
    };

    // ---- plan ------------------------------------------------------------------------------------
    const pool = poolFor(acct);
    const before = await plan(acct, pool);
    expect(before.failedRegions).toEqual([]);
    expect(before.skippedReads).toEqual([]);

    // Severity and remediation of each finding, from the rules. `high`: some caller has no public path
    // (no egress; IPv6-only towards a non-ECS service) or NXDOMAIN; `medium` behind NAT; `low` when unknown.
    const expected: Record<string, string> = {
      // Served by the hub (zones + peering, the hub's group admits 10/8): only the S3 gateway is local.
      'spoke-fargate: ENDPOINT_MISSING s3 drift': 'high planned',
      // Agent calls (logs, ECR) are served centrally; the host-made calls are not: the ECS three, Run Command
      // (hosts without egress) and the S3 gateway are created here, and the agents restarted afterwards.
      'spoke-ec2: ENDPOINT_MISSING ecs-agent drift': 'high planned',
      'spoke-ec2: ENDPOINT_MISSING ecs-telemetry drift': 'high planned',
      'spoke-ec2: ENDPOINT_MISSING ecs drift': 'high planned',
      'spoke-ec2: ENDPOINT_MISSING ssm drift': 'high planned',
      'spoke-ec2: ENDPOINT_MISSING ssmmessages drift': 'high planned',
      'spoke-ec2: ENDPOINT_MISSING ec2messages drift': 'high planned',
      'spoke-ec2: ENDPOINT_MISSING s3 drift': 'high planned',
      [`spoke-ec2: AGENT_RESTART_REQUIRED ${paymentHosts[0] ?? ''} drift`]: 'high planned',
      [`spoke-ec2: AGENT_RESTART_REQUIRED ${paymentHosts[1] ?? ''} drift`]: 'high planned',
      // The Region-wide zone answers NXDOMAIN for logs and for S3's names, NAT or not; ECR is served.
      'spoke-nxdomain: CENTRAL_DNS_RECORD_MISSING logs drift': 'high manual',
      'spoke-nxdomain: CENTRAL_DNS_RECORD_MISSING s3 drift': 'high manual',
      // Forwarded names are out of sight; the gateway works by route table, so it stays needed.
      'spoke-forwarded: CENTRAL_ENDPOINT_UNREACHABLE ecr.api unknown': 'low manual',
      'spoke-forwarded: CENTRAL_ENDPOINT_UNREACHABLE ecr.dkr unknown': 'low manual',
      'spoke-forwarded: CENTRAL_ENDPOINT_UNREACHABLE logs unknown': 'low manual',
      'spoke-forwarded: ENDPOINT_MISSING s3 drift': 'high planned',
      // The hosts' group admits the bridge service's awslogs (from the hosts), not the Fargate task's own group.
      'mixed-groups: ENDPOINT_SG_NO_HTTPS logs drift': 'medium planned',
      // One finding per need with endpoints, naming the owner; nothing else in a shared VPC.
      'shared: SHARED_VPC_UNVERIFIABLE awslogs unknown': 'low manual',
      'shared: SHARED_VPC_UNVERIFIABLE private-ecr unknown': 'low manual',
      'ipv6: ENDPOINT_MISSING logs drift': 'high planned',
      'firelens: ENDPOINT_MISSING kinesis-firehose drift': 'high planned',
      'exec: ENDPOINT_MISSING kms drift': 'high planned',
      'exec: ENDPOINT_MISSING s3 drift': 'high planned',
      'exec: ENDPOINT_MISSING ssmmessages drift': 'high planned',
      // Scaled to zero: still in scope, still reported (and with generous caps, planned).
      'idle: ENDPOINT_MISSING logs drift': 'high planned',
    };
    const expectedVerdicts: Record<string, string[]> = Object.fromEntries(
      Object.keys(vpcs).map((name) => [
        name,
        Object.keys(expected)
          .filter((key) => key.startsWith(`${name}: `))
          .map((key) => key.slice(name.length + 2))
          .sort(),
      ]),
    );
    // hub (no ECS work), prefix-list (all admitted), healthy and ignored (out of scope): nothing at all.
    expect(verdicts(before, vpcs)).toEqual(expectedVerdicts);
    expect(details(before, vpcs)).toEqual(expected);

    // Which VPCs the plan looked at: every one with ECS work, the ignored one out of scope; not the hub.
    expect(before.vpcs.map((vpc) => vpc.vpcId).sort()).toEqual(
      Object.entries(vpcs)
        .filter(([name]) => name !== 'hub')
        .map(([, id]) => id)
        .sort(),
    );
    expect(before.vpcs.find((vpc) => vpc.vpcId === vpcs.ignored)).toMatchObject({
      inScope: false,
      outOfScopeReason: 'ignore-tag',
    });
    expect(before.vpcs.find((vpc) => vpc.vpcId === vpcs.shared)).toMatchObject({
      ownerId: owner.accountId,
      shared: true,
    });
    for (const finding of before.findings.filter((f) => f.code === 'SHARED_VPC_UNVERIFIABLE'))
      expect(finding.message).toContain(owner.accountId);

    // What the plan does, per VPC. No interface endpoint where a zone, a rule, a share or a prefix list is in
    // charge; nothing at all in the hub, the NXDOMAIN spoke, the prefix-list VPC, the healthy and ignored ones.
    expect(actionsByVpc(before, vpcs)).toEqual({
      hub: [],
      'spoke-fargate': ['CREATE_GATEWAY_ENDPOINT s3'],
      'spoke-ec2': [
        'CREATE_ENDPOINT ec2messages',
        'CREATE_ENDPOINT ecs',
        'CREATE_ENDPOINT ecs-agent',
        'CREATE_ENDPOINT ecs-telemetry',
        'CREATE_ENDPOINT ssm',
        'CREATE_ENDPOINT ssmmessages',
        'CREATE_GATEWAY_ENDPOINT s3',
        'CREATE_SECURITY_GROUP',
        'RESTART_AGENT',
      ],
      'spoke-nxdomain': [],
      'spoke-forwarded': ['CREATE_GATEWAY_ENDPOINT s3'],
      'prefix-list': [],
      'mixed-groups': ['CREATE_SECURITY_GROUP', 'MODIFY_ENDPOINT logs'],
      shared: [],
      ipv6: ['CREATE_ENDPOINT logs', 'CREATE_SECURITY_GROUP'],
      firelens: ['CREATE_ENDPOINT kinesis-firehose', 'CREATE_SECURITY_GROUP'],
      exec: [
        'CREATE_ENDPOINT kms',
        'CREATE_ENDPOINT ssmmessages',
        'CREATE_GATEWAY_ENDPOINT s3',
        'CREATE_SECURITY_GROUP',
      ],
      idle: ['CREATE_ENDPOINT logs', 'CREATE_SECURITY_GROUP'],
      healthy: [],
      ignored: [],
    });
    const creates = before.actions.filter((a) => a.kind === 'CREATE_ENDPOINT');
    for (const name of [
      'spoke-fargate',
      'spoke-nxdomain',
      'spoke-forwarded',
      'prefix-list',
      'shared',
    ] as const)
      expect(
        creates.filter((a) => a.vpcId === vpcs[name]),
        name,
      ).toEqual([]);
    // In the EC2 spoke, nothing the hub serves is created locally.
    expect(
      creates.filter(
        (a) => a.vpcId === vpcs['spoke-ec2'] && ['logs', 'ecr.api', 'ecr.dkr'].includes(a.service),
      ),
    ).toEqual([]);
    expect(creates.find((a) => a.vpcId === vpcs.ipv6)).toMatchObject({ ipAddressType: 'dualstack' });
    expect(before.actions.find((a) => a.kind === 'MODIFY_ENDPOINT')).toMatchObject({
      vpcEndpointId: mixedEndpoints.logs,
    });

    // ---- apply -------------------------------------------------------------------------------------
    const results = await applyAccountPlan(before, pool, undefined, CONFIG);
    expect(
      results.filter((r) => r.outcome === 'failed'),
      JSON.stringify(results.filter((r) => r.outcome !== 'succeeded')),
    ).toEqual([]);
    expect(results.map((r) => r.actionId).sort()).toEqual(before.actions.map((a) => a.id).sort());
    expect(results.filter((r) => r.outcome !== 'succeeded')).toEqual([]);
    const restart = results.find((r) => r.kind === 'RESTART_AGENT');
    expect(restart?.instances?.map((i) => [i.ec2InstanceId, i.outcome]).sort()).toEqual(
      paymentHosts.map((id) => [id, 'restarted']).sort(),
    );

    // AWS state: the hub untouched, the spokes given only what the rules call for, the ignored VPC untouched.
    const hubAfter = await endpointsOf(acct, hubNet.vpcId);
    expect(hubAfter.map(shortName).sort()).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager']);
    expect(hubAfter.every((e) => e.PrivateDnsEnabled === false)).toBe(true);
    expect(await servicesIn(acct, spokeFargate.vpcId)).toEqual(['s3']);
    expect(await servicesIn(acct, spokeEc2.vpcId)).toEqual([
      'ec2messages',
      'ecs',
      'ecs-agent',
      'ecs-telemetry',
      's3',
      'ssm',
      'ssmmessages',
    ]);
    const ec2Interfaces = (await endpointsOf(acct, spokeEc2.vpcId)).filter(
      (e) => e.VpcEndpointType === 'Interface',
    );
    expect(ec2Interfaces.every((e) => e.PrivateDnsEnabled === true)).toBe(true);
    expect(await servicesIn(acct, spokeNx.vpcId)).toEqual([]);
    expect(await servicesIn(acct, spokeFwd.vpcId)).toEqual(['s3']);
    expect(await servicesIn(acct, plNet.vpcId)).toEqual(['ecr.api', 'ecr.dkr', 'logs', 's3']);
    expect(await servicesIn(owner, sharedNet.vpcId)).toEqual([]);
    expect(await servicesIn(acct, execNet.vpcId)).toEqual(['kms', 's3', 'ssmmessages']);
    expect(await endpointsOf(acct, v6Net.vpcId)).toEqual([
      expect.objectContaining({
        IpAddressType: 'dualstack',
        SubnetIds: v6Net.subnetIds,
        PrivateDnsEnabled: true,
      }),
    ]);
    const ignoredAfter = await endpointsOf(acct, ignoredNet.vpcId);
    expect(
      ignoredAfter.map((e) => [e.VpcEndpointId, e.PrivateDnsEnabled, e.Groups?.map((g) => g.GroupId)]),
    ).toEqual([[brokenLogs, false, [closed]]]);

    // ---- plan again ----------------------------------------------------------------------------------
    const after = await plan(acct);
    const remaining: Record<string, string> = Object.fromEntries(
      Object.entries(expected).filter(([, value]) => !value.endsWith(' planned')),
    );
    expect(verdicts(after, vpcs)).toEqual(
      Object.fromEntries(
        Object.keys(vpcs).map((name) => [
          name,
          Object.keys(remaining)
            .filter((key) => key.startsWith(`${name}: `))
            .map((key) => key.slice(name.length + 2))
            .sort(),
        ]),
      ),
    );
    expect(details(after, vpcs)).toEqual(remaining);
    expect(
      after.findings.filter(
        (f) => f.status !== 'unknown' && !['manual', 'disabled'].includes(f.remediation.status),
      ),
    ).toEqual([]);
    expect(after.actions).toEqual([]);
  });
});
