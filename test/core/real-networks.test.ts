/**
 * The patterns large organisations run, one rule at a time: per-workload security groups, prefix
 * lists, IPv6, centralised endpoints behind private hosted zones and Resolver rules, shared VPCs,
 * FireLens and ECS Exec, scaled-to-zero services, and reads that fail.
 */
import { describe, expect, it } from 'vitest';

import { recordFor, resolveService } from '../../core/dns.ts';
import type { HostedZone } from '../../core/model.ts';
import {
  ACCOUNT_ID,
  NO_CAPS,
  account,
  actionOf,
  actionsOf,
  createdServices,
  ecrImage,
  findingOf,
  findingsOf,
  https,
  httpsFromGroups,
  missingServices,
  planOf,
  rule,
} from './fixtures.ts';

const HUB_ACCOUNT = '210987654321';

describe('security groups, per workload', () => {
  /** A private VPC: EC2 hosts (sg-hosts) and a Fargate service (sg-task) in one subnet, a logs endpoint. */
  function mixedSubnet(admitted: readonly string[]) {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.containerInstance(subnet, { groups: ['sg-hosts'] });
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs', 'ssm', 'ssmmessages', 'ec2messages']);
    const logs = a.taskDefinition({ logDriver: 'awslogs' });
    a.fargateService([subnet], { name: 'web', groups: ['sg-task'], taskDefinition: logs });
    a.ec2Service([], { name: 'batch', taskDefinition: logs });
    a.endpoint(vpc, 'logs', { groups: [a.securityGroup(vpc, { ingress: [httpsFromGroups(...admitted)] })] });
    return { a, vpc, subnet };
  }

  it('a rule admitting only the hosts’ group leaves a Fargate task in the same subnet cut off', () => {
    const { a } = mixedSubnet(['sg-hosts']);
    const finding = findingOf(planOf(a.snapshot()), 'ENDPOINT_SG_NO_HTTPS', 'logs');
    expect(finding.status).toBe('drift');
    expect(finding.message).toContain('service web (');
    expect(finding.message).not.toContain('service batch');
  });

  it('admitting both groups leaves nobody cut off', () => {
    const { a } = mixedSubnet(['sg-hosts', 'sg-task']);
    expect(findingsOf(planOf(a.snapshot()), 'ENDPOINT_SG_NO_HTTPS')).toEqual([]);
  });

  it('each deployment’s groups count: a rolling update’s new groups must be admitted too', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    const logs = a.taskDefinition({ logDriver: 'awslogs' });
    a.fargateService([subnet], {
      name: 'api',
      groups: ['sg-old'],
      deployments: [{ subnets: [subnet], groups: ['sg-new'] }],
      taskDefinition: logs,
    });
    a.endpoint(vpc, 'logs', { groups: [a.securityGroup(vpc, { ingress: [httpsFromGroups('sg-old')] })] });
    const finding = findingOf(planOf(a.snapshot()), 'ENDPOINT_SG_NO_HTTPS', 'logs');
    expect(finding.message).toContain('service api');
  });

  it('a prefix-list rule whose entries contain the subnet admits it: no managed group attached for nothing', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a', cidr: '10.0.5.0/24' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const list = a.prefixList(['10.0.0.0/16']);
    const group = a.securityGroup(vpc, { ingress: [rule('tcp', { from: 443, to: 443 }, {})] });
    a.endpoint(vpc, 'logs', { groups: [group] });
    const snapshot = a.snapshot();
    const withList = {
      ...snapshot,
      securityGroups: snapshot.securityGroups.map((g) =>
        g.groupId === group
          ? {
              ...g,
              ingress: [
                {
                  protocol: 'tcp',
                  fromPort: 443,
                  toPort: 443,
                  cidrs: [],
                  prefixListIds: [list],
                  sourceGroupIds: [],
                },
              ],
            }
          : g,
      ),
    };
    const plan = planOf(withList);
    expect(findingsOf(plan, 'ENDPOINT_SG_NO_HTTPS')).toEqual([]);
    expect(plan.actions).toEqual([]);
  });

  it('a prefix list whose entries cannot be read makes the finding unknown, with no action', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const list = a.prefixList(null);
    const group = a.securityGroup(vpc);
    a.endpoint(vpc, 'logs', { groups: [group] });
    const snapshot = a.snapshot();
    const plan = planOf({
      ...snapshot,
      securityGroups: snapshot.securityGroups.map((g) =>
        g.groupId === group
          ? {
              ...g,
              ingress: [
                {
                  protocol: 'tcp',
                  fromPort: 443,
                  toPort: 443,
                  cidrs: [],
                  prefixListIds: [list],
                  sourceGroupIds: [],
                },
              ],
            }
          : g,
      ),
    });
    const finding = findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'logs');
    expect(finding).toMatchObject({ status: 'unknown', severity: 'low', remediation: { status: 'manual' } });
    expect(finding.statusReason).toContain(list);
    expect(plan.actions).toEqual([]);
  });

  it('an IPv6 rule admits a dual-stack subnet towards a dual-stack endpoint', () => {
    const a = account();
    const vpc = a.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const subnet = a.subnet(vpc, { az: 'a', ipv6Cidr: '2600:1f18:aaaa:bb01::/64' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const v6 = a.securityGroup(vpc, {
      ingress: [
        {
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          cidrs: [],
          ipv6Cidrs: ['2600:1f18:aaaa:bb00::/56'],
          sourceGroupIds: [],
        },
      ],
    });
    a.endpoint(vpc, 'logs', { groups: [v6], ipAddressType: 'dualstack' });
    expect(findingsOf(planOf(a.snapshot()), 'ENDPOINT_SG_NO_HTTPS')).toEqual([]);
    // The same group on an IPv4-only endpoint admits nothing: the task connects over IPv4 there.
    const b = account();
    const vpcB = b.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const subnetB = b.subnet(vpcB, { az: 'a', ipv6Cidr: '2600:1f18:aaaa:bb01::/64' });
    b.fargateService([subnetB], { taskDefinition: b.taskDefinition({ logDriver: 'awslogs' }) });
    const v6b = b.securityGroup(vpcB, {
      ingress: [
        { protocol: 'tcp', fromPort: 443, toPort: 443, cidrs: [], ipv6Cidrs: ['::/0'], sourceGroupIds: [] },
      ],
    });
    b.endpoint(vpcB, 'logs', { groups: [v6b] });
    expect(findingsOf(planOf(b.snapshot()), 'ENDPOINT_SG_NO_HTTPS')).toHaveLength(1);
  });

  it('a standalone task whose ENI groups could not be read is unknown against a group-referencing rule', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.task({
      launchType: 'FARGATE',
      subnets: [subnet],
      groups: null,
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }),
    });
    a.endpoint(vpc, 'logs', { groups: [a.securityGroup(vpc, { ingress: [httpsFromGroups('sg-task')] })] });
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_SG_NO_HTTPS', 'logs').status).toBe('unknown');
  });
});

describe('central endpoints behind private hosted zones (hub and spoke)', () => {
  /**
   * A spoke without egress running a Fargate service that logs with awslogs; a hub VPC (no ECS) with a
   * logs endpoint, private DNS off; peering between them with routes both ways.
   */
  function hubAndSpoke(
    options: { hubGroupCidr?: string; peering?: boolean; route?: 'pcx' | 'tgw' | 'none' } = {},
  ) {
    const a = account();
    const spoke = a.vpc({ cidr: '10.1.0.0/16' });
    const hub = a.vpc({ cidr: '10.9.0.0/16' });
    const pcx = options.peering === false ? 'pcx-gone' : a.peering(spoke, hub);
    const target = options.route === 'tgw' ? 'tgw-0001' : pcx;
    const toHub = options.route === 'none' ? [] : [{ destination: '10.9.0.0/16', target, active: true }];
    const toSpoke = options.route === 'none' ? [] : [{ destination: '10.1.0.0/16', target, active: true }];
    const subnet = a.subnet(spoke, { az: 'a', cidr: '10.1.0.0/24', routes: toHub });
    const hubSubnet = a.subnet(hub, { az: 'a', cidr: '10.9.0.0/24', routes: toSpoke });
    a.fargateService([subnet], { name: 'web', taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const hubGroup = a.securityGroup(hub, { ingress: [https(options.hubGroupCidr ?? '10.0.0.0/8')] });
    const central = a.centralEndpoint(hub, 'logs', { subnets: [hubSubnet], groups: [hubGroup] });
    return { a, spoke, hub, subnet, central };
  }

  it('a spoke whose zone points every name at a reachable hub endpoint is served: nothing to create', () => {
    const { a, spoke, central } = hubAndSpoke();
    a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [spoke],
      [{ name: 'logs.us-east-1.amazonaws.com', alias: central.dnsName }],
    );
    const plan = planOf(a.snapshot());
    expect(plan.findings).toEqual([]);
    expect(createdServices(plan)).toEqual([]);
  });

  it('a hub endpoint whose groups do not admit the spoke is CENTRAL_ENDPOINT_UNREACHABLE, manual', () => {
    const { a, spoke, central } = hubAndSpoke({ hubGroupCidr: '10.9.0.0/16' });
    a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [spoke],
      [{ name: 'logs.us-east-1.amazonaws.com', alias: central.dnsName }],
    );
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(finding).toMatchObject({ status: 'drift', severity: 'high', resourceId: central.id });
    expect(finding.message).toContain('security groups do not allow TCP 443 from service web');
    expect(finding.remediation.status).toBe('manual');
    expect(createdServices(plan)).toEqual([]);
  });

  it('no route to the hub (peering missing) is unreachable; a transit gateway route is unknown', () => {
    const none = hubAndSpoke({ route: 'none' });
    none.a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [none.spoke],
      [{ name: 'logs.us-east-1.amazonaws.com', alias: none.central.dnsName }],
    );
    expect(findingOf(planOf(none.a.snapshot()), 'CENTRAL_ENDPOINT_UNREACHABLE').message).toContain(
      'no route',
    );

    const tgw = hubAndSpoke({ route: 'tgw' });
    tgw.a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [tgw.spoke],
      [{ name: 'logs.us-east-1.amazonaws.com', alias: tgw.central.dnsName }],
    );
    const finding = findingOf(planOf(tgw.a.snapshot()), 'CENTRAL_ENDPOINT_UNREACHABLE');
    expect(finding).toMatchObject({ status: 'unknown', severity: 'low' });
    expect(finding.statusReason).toContain('transit gateway');
  });

  it('a zone for the whole Region holding only ECR records answers NXDOMAIN for logs: CENTRAL_DNS_RECORD_MISSING, NAT or not', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    const hub = a.vpc({ cidr: '10.9.0.0/16' });
    const api = a.centralEndpoint(hub, 'ecr.api');
    const dkr = a.centralEndpoint(hub, 'ecr.dkr');
    a.hostedZone(
      'us-east-1.amazonaws.com',
      [vpc],
      [
        { name: 'api.ecr.us-east-1.amazonaws.com', alias: api.dnsName },
        { name: '*.dkr.ecr.us-east-1.amazonaws.com', alias: dkr.dnsName },
      ],
    );
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'CENTRAL_DNS_RECORD_MISSING', 'logs');
    expect(finding).toMatchObject({ severity: 'high', remediation: { status: 'manual' } });
    expect(finding.message).toContain('NXDOMAIN');
    expect(createdServices(plan)).not.toContain('logs');
    expect(createdServices(plan)).not.toContain('ecr.api');
  });

  it('ecr.dkr needs the wildcard record: a zone with only its apex does not serve image pulls', () => {
    const zone: HostedZone = {
      hostedZoneId: 'Z1',
      name: 'dkr.ecr.us-east-1.amazonaws.com',
      vpcIds: ['vpc-1'],
      records: [{ name: 'dkr.ecr.us-east-1.amazonaws.com', type: 'A', aliasTarget: 'x' }],
    };
    const view = { zones: [zone], rules: [], unreadable: [] };
    expect(resolveService(view, ['*.dkr.ecr.us-east-1.amazonaws.com']).kind).toBe('record-missing');
    const withWildcard = {
      ...zone,
      records: [...(zone.records ?? []), { name: '*.dkr.ecr.us-east-1.amazonaws.com', type: 'A' }],
    };
    expect(
      resolveService({ ...view, zones: [withWildcard] }, ['*.dkr.ecr.us-east-1.amazonaws.com']).kind,
    ).toBe('central');
    // The wildcard answers a registry host name too.
    expect(recordFor(withWildcard, `${ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com`)?.name).toBe(
      '*.dkr.ecr.us-east-1.amazonaws.com',
    );
  });

  it('the most specific zone answers; a forwarding rule wins over a zone of the same name; a more specific system rule wins over a forwarding rule', () => {
    const zone = (name: string): HostedZone => ({ hostedZoneId: name, name, vpcIds: [], records: [] });
    const name = 'logs.us-east-1.amazonaws.com';
    const forward = { resolverRuleId: 'r1', domainName: 'amazonaws.com', ruleType: 'FORWARD', vpcIds: [] };
    const system = {
      resolverRuleId: 'r2',
      domainName: 'us-east-1.amazonaws.com',
      ruleType: 'SYSTEM',
      vpcIds: [],
    };
    const sameName = { ...forward, domainName: name };
    expect(resolveService({ zones: [zone(name)], rules: [sameName], unreadable: [] }, [name]).kind).toBe(
      'forwarded',
    );
    expect(resolveService({ zones: [], rules: [forward], unreadable: [] }, [name]).kind).toBe('forwarded');
    expect(resolveService({ zones: [], rules: [forward, system], unreadable: [] }, [name]).kind).toBe(
      'local',
    );
    expect(
      resolveService({ zones: [zone('amazonaws.com'), zone(name)], rules: [], unreadable: [] }, [name]),
    ).toMatchObject({ kind: 'record-missing', missing: [{ name, zone: name }] });
  });

  it('a Resolver forwarding rule covering the name: served elsewhere, unverifiable (low), nothing created', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.resolverRule('amazonaws.com', 'FORWARD', [vpc]);
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(finding).toMatchObject({ status: 'unknown', severity: 'low' });
    expect(missingServices(plan)).toEqual([]);
    expect(plan.actions).toEqual([]);
  });

  it('a hub account’s zone whose records this account cannot read: served, unverifiable (low)', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.hostedZone('logs.us-east-1.amazonaws.com', [vpc], null, HUB_ACCOUNT);
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(finding.status).toBe('unknown');
    expect(finding.message).toContain(HUB_ACCOUNT);
    expect(plan.actions).toEqual([]);
  });

  it('an alias to an endpoint this account cannot see (another account’s): unverifiable', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [vpc],
      [
        {
          name: 'logs.us-east-1.amazonaws.com',
          alias: 'vpce-0f0f0f0f0f0f0f0f0-abcdefgh.logs.us-east-1.vpce.amazonaws.com',
        },
      ],
    );
    const finding = findingOf(planOf(a.snapshot()), 'CENTRAL_ENDPOINT_UNREACHABLE', 'logs');
    expect(finding.status).toBe('unknown');
    expect(finding.statusReason).toContain('not an endpoint this account can see');
  });

  it('Route 53 unreadable: a missing endpoint is unknown and never created; existing local endpoints are still checked', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ logDriver: 'awslogs', secretRefs: ['/app/db'] }),
    });
    a.endpoint(vpc, 'ssm', { privateDns: true, groups: [a.securityGroup(vpc)] });
    a.skippedRead({
      operation: 'route53:ListHostedZonesByVPC',
      reason: 'AccessDenied: denied',
      resourceId: vpc,
    });
    const plan = planOf(a.snapshot());
    const missing = findingOf(plan, 'ENDPOINT_MISSING', 'logs');
    expect(missing).toMatchObject({ status: 'unknown', severity: 'low', remediation: { status: 'manual' } });
    expect(missing.statusReason).toContain('route53:ListHostedZonesByVPC');
    expect(findingOf(plan, 'ENDPOINT_SG_NO_HTTPS', 'ssm').status).toBe('drift');
    expect(createdServices(plan)).toEqual([]);
    expect(plan.skippedReads).toEqual([
      {
        accountId: ACCOUNT_ID,
        region: 'us-east-1',
        operation: 'route53:ListHostedZonesByVPC',
        reason: 'AccessDenied: denied',
        resourceId: vpc,
      },
    ]);
  });
});

describe('shared VPCs', () => {
  it('a VPC owned by another account: each need once as SHARED_VPC_UNVERIFIABLE, no ENDPOINT_MISSING, no action', () => {
    const a = account();
    const vpc = a.vpc({ ownerId: HUB_ACCOUNT });
    const subnet = a.subnet(vpc, { az: 'a' });
    a.containerInstance(subnet);
    a.fargateService([subnet], {
      taskDefinition: a.taskDefinition({ image: ecrImage(), logDriver: 'awslogs' }),
    });
    const plan = planOf(a.snapshot());
    expect(findingsOf(plan, 'ENDPOINT_MISSING')).toEqual([]);
    expect(plan.actions).toEqual([]);
    const shared = findingsOf(plan, 'SHARED_VPC_UNVERIFIABLE');
    expect(shared.map((finding) => finding.id.split('/').at(-1)).sort()).toEqual(
      ['awslogs', 'ec2-capacity', 'private-ecr', 'run-command'].sort(),
    );
    expect(shared.every((finding) => finding.status === 'unknown' && finding.severity === 'low')).toBe(true);
    expect(shared[0]?.message).toContain(HUB_ACCOUNT);
    expect(plan.vpcs[0]).toMatchObject({ vpcId: vpc, ownerId: HUB_ACCOUNT, shared: true });
    expect(findingsOf(plan, 'AGENT_RESTART_REQUIRED')).toEqual([]);
  });
});

describe('IPv6', () => {
  it('an IPv6-only subnet with only an egress-only gateway reaches the ECS endpoints (dual-stack) but not logs', () => {
    const a = account();
    const vpc = a.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const subnet = a.subnet(vpc, {
      az: 'a',
      ipv6Only: true,
      ipv6Cidr: '2600:1f18:aaaa:bb01::/64',
      routes: [{ destination: '::/0', target: 'eigw-0001', active: true }],
    });
    a.containerInstance(subnet);
    a.ec2Service([], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const plan = planOf(a.snapshot(), NO_CAPS);
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'ecs-agent').severity).toBe('medium');
    expect(findingOf(plan, 'ENDPOINT_MISSING', 'logs').severity).toBe('high');
    expect(plan.vpcs[0]?.workloadSubnets[0]?.egress).toBe('ipv6-internet');
  });

  it('DNS64 with a 64:ff9b::/96 route to a NAT gateway is egress for every service', () => {
    const a = account();
    const vpc = a.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const subnet = a.subnet(vpc, {
      az: 'a',
      ipv6Only: true,
      dns64: true,
      ipv6Cidr: '2600:1f18:aaaa:bb01::/64',
      routes: [{ destination: '64:ff9b::/96', target: 'nat-0001', active: true }],
    });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    expect(findingOf(planOf(a.snapshot()), 'ENDPOINT_MISSING', 'logs').severity).toBe('medium');
  });

  it('endpoints for IPv6-only work are ipv6 in IPv6-only subnets; with IPv4 work too, dualstack in dual-stack subnets', () => {
    const v6 = account();
    const vpc = v6.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const only = v6.subnet(vpc, { az: 'a', ipv6Only: true, ipv6Cidr: '2600:1f18:aaaa:bb01::/64' });
    v6.offer('logs', { ipAddressTypes: ['ipv4', 'ipv6'] });
    v6.fargateService([only], { taskDefinition: v6.taskDefinition({ logDriver: 'awslogs' }) });
    const create = actionOf(planOf(v6.snapshot()), 'CREATE_ENDPOINT', 'logs');
    expect(create).toMatchObject({ ipAddressType: 'ipv6', subnetIds: [only] });
    expect(actionOf(planOf(v6.snapshot()), 'CREATE_SECURITY_GROUP').ingressCidrs).toEqual([
      '2600:1f18:aaaa:bb01::/64',
    ]);

    const mixed = account();
    const vpcM = mixed.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const onlyM = mixed.subnet(vpcM, { az: 'a', ipv6Only: true, ipv6Cidr: '2600:1f18:aaaa:bb01::/64' });
    const v4 = mixed.subnet(vpcM, { az: 'a', cidr: '10.0.7.0/24' });
    const dual = mixed.subnet(vpcM, { az: 'a', cidr: '10.0.8.0/24', ipv6Cidr: '2600:1f18:aaaa:bb02::/64' });
    const td = mixed.taskDefinition({ logDriver: 'awslogs' });
    mixed.fargateService([onlyM, v4], { taskDefinition: td });
    const createM = actionOf(planOf(mixed.snapshot()), 'CREATE_ENDPOINT', 'logs');
    expect(createM).toMatchObject({ ipAddressType: 'dualstack', subnetIds: [dual] });
  });

  it('an IPv4-only endpoint cannot serve IPv6-only work: ENDPOINT_IP_TYPE_MISMATCH, manual', () => {
    const a = account();
    const vpc = a.vpc({ ipv6Cidr: '2600:1f18:aaaa:bb00::/56' });
    const only = a.subnet(vpc, { az: 'a', ipv6Only: true, ipv6Cidr: '2600:1f18:aaaa:bb01::/64' });
    a.subnet(vpc, { az: 'a', cidr: '10.0.9.0/24' });
    a.fargateService([only], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.endpoint(vpc, 'logs');
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'ENDPOINT_IP_TYPE_MISMATCH', 'logs').remediation.status).toBe('manual');
    expect(findingsOf(plan, 'ENDPOINT_SG_NO_HTTPS')).toEqual([]);
  });
});

describe('what a task really needs', () => {
  function fargate(containers: Parameters<ReturnType<typeof account>['taskDefinition']>, exec = false) {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition(...containers), exec });
    return a;
  }

  it.each([
    ['cloudwatch_logs', 'logs'],
    ['cloudwatch', 'logs'],
    ['kinesis_firehose', 'kinesis-firehose'],
    ['firehose', 'kinesis-firehose'],
    ['kinesis_streams', 'kinesis-streams'],
    ['kinesis', 'kinesis-streams'],
    ['s3', 's3'],
  ])('a FireLens output %s needs %s', (plugin, service) => {
    const a = fargate([
      { name: 'router', firelens: { type: 'fluentbit' } },
      { name: 'app', logDriver: 'awsfirelens', logOptions: { Name: plugin, region: 'us-east-1' } },
    ]);
    expect(missingServices(planOf(a.snapshot()))).toEqual([service]);
  });

  it('a FireLens output to another Region needs nothing here', () => {
    const a = fargate([
      { name: 'app', logDriver: 'awsfirelens', logOptions: { Name: 'cloudwatch_logs', region: 'eu-west-1' } },
    ]);
    expect(missingServices(planOf(a.snapshot()))).toEqual([]);
  });

  it('a FireLens config file baked into the image: the need is unknown, not none', () => {
    const a = fargate([
      {
        name: 'router',
        firelens: {
          type: 'fluentbit',
          options: { 'config-file-type': 'file', 'config-file-value': '/extra.conf' },
        },
      },
    ]);
    const plan = planOf(a.snapshot());
    expect(findingOf(plan, 'NEED_UNKNOWN')).toMatchObject({ status: 'unknown', severity: 'low' });
    expect(plan.vpcs[0]?.needs).toEqual([
      expect.objectContaining({ need: 'firelens-unknown', services: [], unknown: true }),
    ]);
  });

  it('a FireLens config file from S3 (EC2) needs the S3 gateway, from the host', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const subnet = a.subnet(vpc, { az: 'a' });
    a.containerInstance(subnet);
    a.ec2Service([], {
      taskDefinition: a.taskDefinition({
        name: 'router',
        firelens: {
          type: 'fluentbit',
          options: { 'config-file-type': 's3', 'config-file-value': 'arn:aws:s3:::cfg/x.conf' },
        },
      }),
    });
    const plan = planOf(a.snapshot());
    expect(missingServices(plan)).toEqual(['ecs', 'ecs-agent', 'ecs-telemetry', 's3']);
    expect(findingsOf(plan, 'NEED_UNKNOWN')).toHaveLength(1);
  });

  it('ECS Exec needs ssmmessages; the cluster’s session logging and encryption add logs, s3 and kms', () => {
    const plain = fargate([{}], true);
    expect(missingServices(planOf(plain.snapshot()))).toEqual(['ssmmessages']);

    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.cluster('default', {
      logging: 'OVERRIDE',
      s3BucketName: 'exec-logs',
      cloudWatchLogGroupName: '/exec',
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1',
    });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({}), exec: true });
    expect(missingServices(planOf(a.snapshot()))).toEqual(['kms', 'logs', 's3', 'ssmmessages']);
  });

  it('ECS Exec with DEFAULT logging uses the task definition’s awslogs: logs is needed only with awslogs', () => {
    const a = fargate([{ logDriver: 'awslogs' }], true);
    const plan = planOf(a.snapshot());
    expect(missingServices(plan)).toEqual(['logs', 'ssmmessages']);
    expect(plan.vpcs[0]?.needs.map((need) => need.need).sort()).toEqual([
      'awslogs',
      'ecs-exec',
      'ecs-exec-logs',
    ]);
  });

  it('the cap goes to running work first: a service scaled to zero ranks below, whatever the VPC ids', () => {
    const a = account();
    const idleVpc = a.vpc();
    const idleSubnet = a.subnet(idleVpc, { az: 'a' });
    const liveVpc = a.vpc();
    const liveSubnet = a.subnet(liveVpc, { az: 'a' });
    const td = a.taskDefinition({ logDriver: 'awslogs' });
    a.fargateService([idleSubnet], { taskDefinition: td, desiredCount: 0, runningCount: 0 });
    a.fargateService([liveSubnet], { taskDefinition: td, desiredCount: 2, runningCount: 2 });
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 1 } });
    const creates = actionsOf(plan, 'CREATE_ENDPOINT');
    expect(creates.find((c) => c.status === 'planned')?.vpcId).toBe(liveVpc);
    expect(creates.find((c) => c.vpcId === idleVpc)?.status).toBe('deferred');
    // Still in scope: its finding is reported.
    expect(findingsOf(planOf(a.snapshot())).some((f) => f.vpcId === idleVpc)).toBe(true);
  });
});

describe('endpoint policies', () => {
  const EXEC_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/ecsTaskExecutionRole`;
  const INSTANCE_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/ecsInstanceRole`;
  const policy = (...statements: object[]) =>
    JSON.stringify({ Version: '2012-10-17', Statement: statements });

  /** A private Fargate service pulling `app` from private ECR, with healthy ECR and S3 endpoints. */
  function ecrPull(options: { dkrPolicy?: string; s3Policy?: string; managed?: boolean } = {}) {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    const td = a.taskDefinition({ image: ecrImage() });
    a.roles(td, { executionRoleArn: EXEC_ROLE });
    a.fargateService([subnet], { name: 'web', taskDefinition: td });
    a.endpoint(vpc, 'ecr.api');
    a.endpoint(vpc, 'ecr.dkr', {
      ...(options.dkrPolicy === undefined ? {} : { policy: options.dkrPolicy }),
      ...(options.managed ? { managed: true } : {}),
    });
    const gateway = a.gateway(vpc);
    const withS3 = a.snapshot();
    return {
      a,
      vpc,
      snapshot: {
        ...withS3,
        endpoints: withS3.endpoints.map((e) =>
          e.vpcEndpointId === gateway && options.s3Policy !== undefined
            ? { ...e, policyDocument: options.s3Policy }
            : e,
        ),
      },
    };
  }

  it('a policy that allows another repository only denies the pull, naming the call and the role', () => {
    const { snapshot } = ecrPull({
      dkrPolicy: policy({
        Effect: 'Allow',
        Principal: '*',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/other`,
      }),
    });
    const plan = planOf(snapshot);
    const finding = findingOf(plan, 'ENDPOINT_POLICY_DENIES', 'ecr.dkr');
    expect(finding).toMatchObject({ status: 'drift', severity: 'high', remediation: { status: 'manual' } });
    expect(finding.message).toContain('ecr:BatchGetImage');
    expect(finding.message).toContain(EXEC_ROLE);
    expect(finding.remediation.reason).toContain('never changed');
  });

  it('an owned endpoint’s policy is reset to full access only when the config allows it', () => {
    const denying = policy({ Effect: 'Deny', Principal: '*', Action: 'ecr:*', Resource: '*' });
    const { snapshot } = ecrPull({ dkrPolicy: denying, managed: true });
    expect(findingOf(planOf(snapshot), 'ENDPOINT_POLICY_DENIES').remediation.status).toBe('disabled');
    const plan = planOf(snapshot, { remediation: { resetOwnedEndpointPolicies: true } });
    expect(actionOf(plan, 'MODIFY_ENDPOINT', 'ecr.dkr')).toMatchObject({ resetPolicy: true });
    expect(findingOf(plan, 'ENDPOINT_POLICY_DENIES').remediation.status).toBe('planned');
  });

  it('an S3 gateway policy that forgets the ECR layer bucket denies image layers', () => {
    const { snapshot } = ecrPull({
      s3Policy: policy({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::my-bucket/*',
      }),
    });
    const finding = findingOf(planOf(snapshot), 'ENDPOINT_POLICY_DENIES', 's3');
    expect(finding.message).toContain('prod-us-east-1-starport-layer-bucket');
  });

  it('the ECR guide’s policies (full access; the layer bucket allowed) deny nothing', () => {
    const { snapshot } = ecrPull({
      dkrPolicy: policy({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }),
      s3Policy: policy({
        Sid: 'Access-to-specific-bucket-only',
        Principal: '*',
        Action: ['s3:GetObject'],
        Effect: 'Allow',
        Resource: ['arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*'],
      }),
    });
    expect(findingsOf(planOf(snapshot), 'ENDPOINT_POLICY_DENIES')).toEqual([]);
  });

  it('a decision that depends on a condition cannot be verified: unknown, low, never broken', () => {
    const { snapshot } = ecrPull({
      dkrPolicy: policy({
        Effect: 'Allow',
        Principal: '*',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-0123' } },
      }),
    });
    const finding = findingOf(planOf(snapshot), 'ENDPOINT_POLICY_DENIES', 'ecr.dkr');
    expect(finding).toMatchObject({ status: 'unknown', severity: 'low', remediation: { status: 'manual' } });
  });

  it('the agent’s ECS calls go with the instance role: named and allowed, denied, or unknown when the role is not known', () => {
    const build = (role: string | undefined, allowed: string) => {
      const a = account();
      const vpc = a.vpc({ egress: 'nat' });
      const subnet = a.subnet(vpc, { az: 'a' });
      a.containerInstance(subnet, role === undefined ? {} : { role });
      a.endpoints(vpc, ['ecs-telemetry', 'ecs']);
      a.endpoint(vpc, 'ecs-agent', {
        policy: policy({ Effect: 'Allow', Principal: { AWS: allowed }, Action: 'ecs:*', Resource: '*' }),
      });
      return planOf(a.snapshot());
    };
    expect(findingsOf(build(INSTANCE_ROLE, INSTANCE_ROLE), 'ENDPOINT_POLICY_DENIES')).toEqual([]);
    const denied = findingOf(build(INSTANCE_ROLE, EXEC_ROLE), 'ENDPOINT_POLICY_DENIES', 'ecs-agent');
    expect(denied.message).toContain('ecs:Poll');
    expect(findingOf(build(undefined, INSTANCE_ROLE), 'ENDPOINT_POLICY_DENIES').status).toBe('unknown');
  });

  it('a service that does not support endpoint policies is not judged by one', () => {
    const { a, snapshot } = ecrPull({
      dkrPolicy: policy({ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }),
    });
    a.offer('ecr.dkr', { policySupported: false });
    const offers = a.snapshot().endpointServices;
    expect(findingsOf(planOf({ ...snapshot, endpointServices: offers }), 'ENDPOINT_POLICY_DENIES')).toEqual(
      [],
    );
  });
});

describe('caps and the managed group', () => {
  it('no group is created for endpoints the endpoint cap holds back', () => {
    const a = account();
    for (let n = 0; n < 2; n += 1) {
      const vpc = a.vpc();
      const subnet = a.subnet(vpc, { az: 'a' });
      a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    }
    const plan = planOf(a.snapshot(), { limits: { maxEndpointsCreatedPerRun: 1 } });
    const groups = actionsOf(plan, 'CREATE_SECURITY_GROUP');
    expect(groups.map((group) => group.status)).toEqual(['planned', 'deferred']);
    expect(groups[1]?.deferredReason).toContain('its endpoints wait');
  });

  it('a forwarding rule leaves the S3 gateway needed: it routes by route table, whatever DNS answers', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ image: ecrImage() }) });
    a.resolverRule('amazonaws.com', 'FORWARD', [vpc]);
    const plan = planOf(a.snapshot());
    expect(createdServices(plan)).toEqual(['s3']);
    expect(
      findingsOf(plan, 'CENTRAL_ENDPOINT_UNREACHABLE')
        .map((f) => f.service)
        .sort(),
    ).toEqual(['ecr.api', 'ecr.dkr']);
  });
});

describe('review fixes', () => {
  it('on EC2 the image pull may go with the instance role or the execution role: a policy that names only one is unknown', () => {
    const exec = `arn:aws:iam::${ACCOUNT_ID}:role/exec`;
    const instance = `arn:aws:iam::${ACCOUNT_ID}:role/instance`;
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const subnet = a.subnet(vpc, { az: 'a' });
    a.containerInstance(subnet, { role: instance });
    a.endpoints(vpc, ['ecs-agent', 'ecs-telemetry', 'ecs', 'ecr.api', 's3']);
    const td = a.taskDefinition({ image: ecrImage() });
    a.roles(td, { executionRoleArn: exec });
    a.ec2Service([], { taskDefinition: td });
    const onlyExec = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: exec }, Action: 'ecr:*', Resource: '*' }],
    });
    a.endpoint(vpc, 'ecr.dkr', { policy: onlyExec });
    const finding = findingOf(planOf(a.snapshot()), 'ENDPOINT_POLICY_DENIES', 'ecr.dkr');
    expect(finding.status).toBe('unknown');
    expect(finding.statusReason).toContain('different decisions');
  });

  it('an IPv4-only spoke needs routes only to the IPv4 side of a dual-stack central endpoint', () => {
    const a = account();
    const spoke = a.vpc({ cidr: '10.1.0.0/16' });
    const hub = a.vpc({ cidr: '10.9.0.0/16', ipv6Cidr: '2600:1f18:9999:9900::/56' });
    const pcx = a.peering(spoke, hub);
    const subnet = a.subnet(spoke, {
      az: 'a',
      cidr: '10.1.0.0/24',
      routes: [{ destination: '10.9.0.0/16', target: pcx, active: true }],
    });
    const hubSubnet = a.subnet(hub, {
      az: 'a',
      cidr: '10.9.0.0/24',
      ipv6Cidr: '2600:1f18:9999:9901::/64',
      routes: [{ destination: '10.1.0.0/16', target: pcx, active: true }],
    });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const group = a.securityGroup(hub, { ingress: [https('10.0.0.0/8')] });
    const central = a.centralEndpoint(hub, 'logs', {
      subnets: [hubSubnet],
      groups: [group],
      ipAddressType: 'dualstack',
    });
    a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [spoke],
      [{ name: 'logs.us-east-1.amazonaws.com', alias: central.dnsName }],
    );
    expect(planOf(a.snapshot()).findings).toEqual([]);
  });

  it('a name no zone covers resolves publicly: its severity follows the egress, not NXDOMAIN', () => {
    const a = account();
    const vpc = a.vpc({ egress: 'nat' });
    const subnet = a.subnet(vpc, { az: 'a' });
    a.fargateService([subnet], { taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.offer('logs', {
      privateDnsNames: ['logs.us-east-1.amazonaws.com', 'logs-fips.us-east-1.amazonaws.com'],
    });
    a.hostedZone(
      'logs.us-east-1.amazonaws.com',
      [vpc],
      [{ name: 'logs.us-east-1.amazonaws.com', alias: 'x.vpce.amazonaws.com' }],
    );
    const finding = findingOf(planOf(a.snapshot()), 'CENTRAL_DNS_RECORD_MISSING', 'logs');
    expect(finding.severity).toBe('medium');
    expect(finding.message).toContain('no zone covers it');
  });
});

describe('workload egress', () => {
  /** A private Fargate service (group sg-app, with the given outbound rules) and a healthy logs endpoint. */
  function egressTo(egress: ReturnType<typeof https>[]) {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a', cidr: '10.0.0.0/24' });
    const app = a.securityGroup(vpc, { name: 'app', egress });
    a.fargateService([subnet], { groups: [app], taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    const endpointGroup = a.securityGroup(vpc, { ingress: [httpsFromGroups(app)] });
    a.endpoint(vpc, 'logs', { groups: [endpointGroup] });
    return { a, app, endpointGroup };
  }

  it('the AWS default outbound rule (all traffic anywhere) lets the workload out', () => {
    const { a } = egressTo([rule('-1', {}, { cidrs: ['0.0.0.0/0'] })]);
    expect(findingsOf(planOf(a.snapshot()), 'WORKLOAD_SG_NO_HTTPS_EGRESS')).toEqual([]);
  });

  it('outbound narrowed to port 80 blocks the workload’s calls to the endpoint: reported, manual, never fixed', () => {
    const { a } = egressTo([rule('tcp', { from: 80, to: 80 }, { cidrs: ['0.0.0.0/0'] })]);
    const plan = planOf(a.snapshot());
    const finding = findingOf(plan, 'WORKLOAD_SG_NO_HTTPS_EGRESS', 'logs');
    expect(finding).toMatchObject({ status: 'drift', severity: 'high', remediation: { status: 'manual' } });
    expect(finding.message).toContain('service ');
    expect(plan.actions).toEqual([]);
  });

  it('outbound to the endpoint’s group, or to a CIDR holding its subnets, lets it out', () => {
    const byGroup = egressTo([]);
    const snapshot = byGroup.a.snapshot();
    const withRule = {
      ...snapshot,
      securityGroups: snapshot.securityGroups.map((group) =>
        group.groupId === byGroup.app
          ? { ...group, egress: [httpsFromGroups(byGroup.endpointGroup)] }
          : group,
      ),
    };
    expect(findingsOf(planOf(withRule), 'WORKLOAD_SG_NO_HTTPS_EGRESS')).toEqual([]);
    const { a } = egressTo([https('10.0.0.0/16')]);
    expect(findingsOf(planOf(a.snapshot()), 'WORKLOAD_SG_NO_HTTPS_EGRESS')).toEqual([]);
  });

  it('groups whose outbound rules were not read are not judged', () => {
    const a = account();
    const vpc = a.vpc();
    const subnet = a.subnet(vpc, { az: 'a' });
    const app = a.securityGroup(vpc, { name: 'app' });
    a.fargateService([subnet], { groups: [app], taskDefinition: a.taskDefinition({ logDriver: 'awslogs' }) });
    a.endpoint(vpc, 'logs', { groups: [a.securityGroup(vpc, { ingress: [httpsFromGroups(app)] })] });
    expect(findingsOf(planOf(a.snapshot()), 'WORKLOAD_SG_NO_HTTPS_EGRESS')).toEqual([]);
  });
});
