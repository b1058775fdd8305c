// The benchmark's pure logic: the synthetic accounts, the lower-bound arithmetic and the comparison
// with Cloud Custodian. Behaviour only; the benchmark itself reports timings (npm run bench).
import { describe, expect, it } from 'vitest';
import {
  SHARED_DETECTION_CODES,
  SHARED_SUBSET_SKIPPED_OPERATIONS,
  compareFindings,
  countsDelta,
  custodianPolicyName,
  median,
  ratio,
  sameSharedFindings,
  sharedSubsetConfig,
} from '../../bench/compare.ts';
import { isChecked, parseConfig } from '../../core/config.ts';
import { FINDING_CODES } from '../../core/findings.ts';
import { MODELLED_OPERATIONS, accountFacts, lowerBound, withoutOperations } from '../../bench/lower-bound.ts';
import { PROBE, SIZES, buildSpec, spread } from '../../bench/spec.ts';
import type { AccountSpec } from '../../bench/spec.ts';

const ACCOUNT = '123456789012';

/** A hand-made account whose bound is worked out below call by call. */
function tiny(): AccountSpec {
  const vpc = (key: string, extra: Partial<AccountSpec['vpcs'][number]> = {}) => ({
    key,
    egress: 'nat' as const,
    ignored: false,
    idle: false,
    dnsHostnames: true,
    customDns: false,
    azs: 2,
    endpointGroup: true,
    ...extra,
  });
  return {
    size: 'S',
    region: 'us-east-1',
    accountId: ACCOUNT,
    vpcs: [
      vpc('a'),
      vpc('b', { egress: 'none', azs: 3, customDns: true, endpointGroup: false }),
      vpc('ignored', { ignored: true }),
      vpc('idle', { idle: true }),
    ],
    clusters: [
      { name: 'big', kind: 'ec2' },
      { name: 'empty', kind: 'ec2' },
      { name: 'fargate', kind: 'fargate' },
    ],
    // 250 container instances in "big": 3 list pages, 3 describes; one host stopped.
    instances: Array.from({ length: 250 }, (_, i) => ({
      cluster: 'big',
      vpc: 'a',
      az: i % 2,
      agentVersion: '1.80.0',
      stopped: i === 0,
    })),
    taskDefinitions: [],
    services: [
      // 11 EC2 services in "big": 1 list page, 2 describes; their task definitions land in "a".
      ...Array.from({ length: 11 }, (_, i) => ({
        cluster: 'big',
        name: `ec2-${i}`,
        taskDefinition: `td-${i % 3}`,
        launchType: 'EC2' as const,
      })),
      {
        cluster: 'fargate',
        name: 'in-b',
        taskDefinition: 'td-b',
        launchType: 'FARGATE',
        subnets: [{ vpc: 'b', az: 0 }],
      },
      {
        cluster: 'fargate',
        name: 'in-ignored',
        taskDefinition: 'td-ignored',
        launchType: 'FARGATE',
        subnets: [{ vpc: 'ignored', az: 1 }],
      },
    ],
    tasks: [{ cluster: 'fargate', taskDefinition: 'td-b', subnets: [{ vpc: 'b', az: 2 }] }],
    endpoints: [
      { vpc: 'a', service: 's3' },
      { vpc: 'a', service: 'logs' },
      { vpc: 'b', service: 'logs' },
      { vpc: 'ignored', service: 'logs' },
    ],
  };
}

describe('lowerBound', () => {
  it('adds ceil(items / page or batch) per call, and one call per list that may be empty', () => {
    const bound = lowerBound(tiny());
    expect(bound.byOperation).toEqual({
      'ecs:ListClusters': 1,
      'ecs:ListContainerInstances': 3 + 1 + 1, // big: 250/100; empty and fargate: one call each
      'ecs:DescribeContainerInstances': 3,
      'ecs:ListServices': 1 + 1 + 1,
      'ecs:DescribeServices': 2 + 0 + 1, // 11 services: 2 batches of 10; fargate: 2 services
      'ecs:ListTasks': 3,
      'ecs:DescribeTasks': 1,
      'ecs:DescribeTaskDefinition': 4, // td-0..2 (EC2 in "a") and td-b; not td-ignored
      'ec2:DescribeInstances': 1,
      'ec2:DescribeSubnets': 1, // 3 + 3 + 3 subnets of the VPCs hosting work
      'ec2:DescribeVpcs': 1,
      'ec2:DescribeVpcAttribute': 4, // a and b, two attributes each
      'ec2:DescribeDhcpOptions': 1, // b's custom set
      'ec2:DescribeRouteTables': 1,
      'ec2:DescribeVpcEndpoints': 1 + 1, // the VPCs' endpoints; the Region's tagged as the remediator's
      // a's endpoint group, and b's default group (in-b names no group): one listing of 2 groups;
      // in-ignored's default group is not needed.
      'ec2:DescribeSecurityGroups': 1,
      'ec2:DescribeVpcEndpointServices': 1,
      'ec2:DescribeNetworkInterfaces': 1, // the ENI of the one standalone task (in b)
      'route53:ListHostedZonesByVPC': 2, // a and b, one each: no batch form
      'route53resolver:ListResolverRuleAssociations': 1, // once for the Region, though none exist
    });
    expect(bound.total).toBe(Object.values(bound.byOperation).reduce((a, b) => a + b, 0));
    expect(bound.byService.ecs).toBe(23);
    expect(bound.byService.ec2).toBe(14);
    expect(bound.byService.route53).toBe(2);
    expect(bound.byService.route53resolver).toBe(1);
    expect(bound.total).toBe(23 + 14 + 2 + 1);
  });

  it('reads task ENIs only for standalone tasks in scope, and zones only of in-scope VPCs', () => {
    const spec = tiny();
    // The standalone task moved to the ignored VPC: its ENI's groups decide nothing.
    const bound = lowerBound({
      ...spec,
      tasks: [{ cluster: 'fargate', taskDefinition: 'td-b', subnets: [{ vpc: 'ignored', az: 0 }] }],
    });
    expect(bound.byOperation['ec2:DescribeNetworkInterfaces']).toBeUndefined();
    // Still a and b in scope (b through its service): one zone listing each.
    expect(bound.byOperation['route53:ListHostedZonesByVPC']).toBe(2);
    const facts = accountFacts(spec);
    expect(facts.inScopeTaskInterfaces).toBe(1);
    expect([...facts.defaultGroupVpcs]).toEqual(['b']);
  });

  it('models every operation it counts', () => {
    for (const size of ['S', 'M', 'L', 'XL'] as const) {
      const spec = buildSpec(size, ACCOUNT);
      for (const bound of [lowerBound(spec), lowerBound(spec, new Set([PROBE.vpc]), 'indexed')]) {
        for (const operation of Object.keys(bound.byOperation)) {
          expect(MODELLED_OPERATIONS.has(operation)).toBe(true);
        }
      }
    }
  });

  it('knows which VPCs host work and which are in scope', () => {
    const facts = accountFacts(tiny());
    expect([...facts.workVpcs].sort()).toEqual(['a', 'b', 'ignored']);
    expect([...facts.inScopeVpcs].sort()).toEqual(['a', 'b']);
    expect([...facts.neededTaskDefinitions].sort()).toEqual(['td-0', 'td-1', 'td-2', 'td-b']);
  });

  it('a host that is stopped hosts no work', () => {
    const spec = tiny();
    const onlyStopped: AccountSpec = {
      ...spec,
      instances: [{ cluster: 'big', vpc: 'idle', az: 0, agentVersion: '1.80.0', stopped: true }],
    };
    expect(accountFacts(onlyStopped).workVpcs.has('idle')).toBe(false);
  });

  it('event-scoped: only the clusters with work in the VPC, only that VPC', () => {
    const bound = lowerBound(tiny(), new Set(['b']));
    expect(bound.byOperation).toEqual({
      'ecs:ListClusters': 1,
      'ecs:ListContainerInstances': 1,
      'ecs:ListServices': 1,
      'ecs:DescribeServices': 1,
      'ecs:ListTasks': 1,
      'ecs:DescribeTasks': 1,
      'ecs:DescribeTaskDefinition': 1,
      'ec2:DescribeSubnets': 1,
      'ec2:DescribeVpcs': 1,
      'ec2:DescribeVpcAttribute': 2,
      'ec2:DescribeDhcpOptions': 1,
      'ec2:DescribeRouteTables': 1,
      'ec2:DescribeVpcEndpoints': 1,
      'ec2:DescribeSecurityGroups': 1, // b's default group
      'ec2:DescribeVpcEndpointServices': 1,
      'ec2:DescribeNetworkInterfaces': 1, // the task in b
      'route53:ListHostedZonesByVPC': 1, // b alone
      'route53resolver:ListResolverRuleAssociations': 1,
    });
  });

  it('grows linearly with the account, never with VPCs × clusters', () => {
    const s = lowerBound(buildSpec('S', ACCOUNT)).total;
    const m = lowerBound(buildSpec('M', ACCOUNT)).total;
    const l = lowerBound(buildSpec('L', ACCOUNT)).total;
    const xl = lowerBound(buildSpec('XL', ACCOUNT)).total;
    const resources = (size: 'S' | 'M' | 'L' | 'XL') => {
      const p = SIZES[size];
      return p.vpcs + p.clusters + p.containerInstances + p.services + p.taskDefinitions + p.endpoints;
    };
    // Calls per resource stay within a small band from S to XL (a product would grow ~ size).
    const perResource = [s / resources('S'), m / resources('M'), l / resources('L'), xl / resources('XL')];
    expect(Math.max(...perResource) / Math.min(...perResource)).toBeLessThan(3);
    expect(l).toBeLessThan(resources('L'));
    // XL is 5 × L in every count, and so, within the pages' rounding, is its bound.
    expect(xl / l).toBeGreaterThan(4.9);
    expect(xl / l).toBeLessThan(5.1);
  });
});

describe('buildSpec', () => {
  it('builds the sizes of the issue, deterministically', () => {
    for (const size of ['S', 'M', 'L', 'XL'] as const) {
      const spec = buildSpec(size, ACCOUNT);
      const p = SIZES[size];
      expect(spec.vpcs).toHaveLength(p.vpcs);
      expect(spec.clusters).toHaveLength(p.clusters);
      expect(spec.instances).toHaveLength(p.containerInstances);
      expect(spec.services).toHaveLength(p.services);
      expect(spec.taskDefinitions).toHaveLength(p.taskDefinitions);
      expect(spec.endpoints).toHaveLength(p.endpoints);
      expect(spec.tasks).toHaveLength(p.tasks);
      expect(new Set(spec.vpcs.map((v) => v.key)).size).toBe(p.vpcs);
      expect(buildSpec(size, ACCOUNT)).toEqual(spec);
    }
  });

  it('makes XL five times L in every count', () => {
    for (const [key, value] of Object.entries(SIZES.L)) {
      expect(SIZES.XL[key as keyof typeof SIZES.XL]).toBe(5 * value);
    }
  });

  it('mixes EC2 and Fargate, images, secrets, egress and scope', () => {
    const spec = buildSpec('M', ACCOUNT);
    expect(new Set(spec.services.map((s) => s.launchType))).toEqual(new Set(['EC2', 'FARGATE']));
    const images = spec.taskDefinitions.flatMap((td) => td.containers.map((c) => c.image));
    expect(images.some((i) => i.includes('.dkr.ecr.us-east-1.'))).toBe(true);
    expect(images.some((i) => i.startsWith('docker.io/'))).toBe(true);
    const secrets = spec.taskDefinitions.flatMap((td) => td.containers.flatMap((c) => c.secrets));
    expect(secrets.some((s) => s.startsWith('arn:aws:secretsmanager:'))).toBe(true);
    expect(secrets.some((s) => s.startsWith('arn:aws:ssm:'))).toBe(true);
    expect(new Set(spec.vpcs.map((v) => v.egress))).toEqual(new Set(['nat', 'igw', 'none']));
    expect(spec.vpcs.some((v) => v.ignored)).toBe(true);
    expect(spec.vpcs.some((v) => v.idle)).toBe(true);
    // Every service references a task definition and subnets of VPCs that exist.
    const families = new Set(spec.taskDefinitions.map((td) => td.family));
    const vpcs = new Set(spec.vpcs.map((v) => v.key));
    for (const service of spec.services) {
      expect(families.has(service.taskDefinition)).toBe(true);
      for (const subnet of service.subnets ?? []) expect(vpcs.has(subnet.vpc)).toBe(true);
    }
  });

  it('holds the work of the probe VPC the same at every size: its event-scoped bound does not grow', () => {
    const probe = new Set([PROBE.vpc]);
    const [s, m, l, xl] = [
      buildSpec('S', ACCOUNT),
      buildSpec('M', ACCOUNT),
      buildSpec('L', ACCOUNT),
      buildSpec('XL', ACCOUNT),
    ];
    const workIn = (spec: AccountSpec) => ({
      instances: spec.instances.filter((i) => i.vpc === PROBE.vpc),
      services: spec.services.filter((sv) => sv.subnets?.some((sub) => sub.vpc === PROBE.vpc)),
      clusters: [
        ...new Set([
          ...spec.instances.filter((i) => i.vpc === PROBE.vpc).map((i) => i.cluster),
          ...[...spec.services, ...spec.tasks]
            .filter((item) => item.subnets?.some((sub) => sub.vpc === PROBE.vpc))
            .map((item) => item.cluster),
        ]),
      ].sort(),
      endpoints: spec.endpoints.filter((e) => e.vpc === PROBE.vpc),
    });
    expect(workIn(s).clusters).toEqual(['ec2-0', 'fargate-2']);
    expect(workIn(m)).toEqual(workIn(s));
    expect(workIn(l)).toEqual(workIn(s));
    expect(workIn(xl)).toEqual(workIn(s));
    // The probe's clusters work nowhere else.
    for (const spec of [s, m, l, xl]) {
      const elsewhere = [...spec.instances, ...spec.tasks, ...spec.services].filter(
        (item) =>
          ['ec2-0', 'fargate-2'].includes(item.cluster) &&
          ('vpc' in item ? item.vpc !== PROBE.vpc : item.subnets?.some((sub) => sub.vpc !== PROBE.vpc)),
      );
      expect(elsewhere).toEqual([]);
    }
    const bound = (spec: AccountSpec) => lowerBound(spec, probe, 'indexed');
    expect(bound(m)).toEqual(bound(s));
    expect(bound(l)).toEqual(bound(s));
    expect(bound(xl)).toEqual(bound(s));
  });

  it('spreads a total into near-equal shares', () => {
    expect(spread(10, 3)).toEqual([4, 3, 3]);
    expect(spread(2, 4)).toEqual([1, 1, 0, 0]);
  });
});

describe('compareFindings', () => {
  it('counts our ENDPOINT_MISSING findings that Custodian flags too, per VPC and service', () => {
    const ours = [
      { code: 'ENDPOINT_MISSING', vpcId: 'vpc-1', service: 'ecs-agent' },
      { code: 'ENDPOINT_MISSING', vpcId: 'vpc-1', service: 'ecr.dkr' },
      { code: 'ENDPOINT_MISSING', vpcId: 'vpc-2', service: 'ssmmessages' }, // no Custodian policy
      { code: 'ENDPOINT_SG_NO_HTTPS', vpcId: 'vpc-2', service: 'logs' }, // not a missing endpoint
    ];
    const flagged = {
      [custodianPolicyName('ecs-agent')]: ['vpc-1', 'vpc-3'],
      [custodianPolicyName('ecr.dkr')]: ['vpc-2'],
      [custodianPolicyName('logs')]: ['vpc-2'],
    };
    expect(custodianPolicyName('ecr.dkr')).toBe('vpc-missing-ecr-dkr-endpoint');
    expect(compareFindings(ours, flagged)).toEqual({
      sharedFindings: 2,
      findingsReproduced: 1,
      custodianOnly: 3,
      custodianFlagged: 4,
    });
  });
});

describe('the shared subset', () => {
  it('is a valid config with every check off but the detection Custodian can express', () => {
    const config = parseConfig(sharedSubsetConfig());
    for (const code of FINDING_CODES) {
      expect(isChecked(config, code)).toBe(SHARED_DETECTION_CODES.includes(code));
    }
  });

  it('compares two runs by their findings of the shared detection only', () => {
    const full = [
      { code: 'ENDPOINT_MISSING', vpcId: 'vpc-1', service: 'ecs' },
      { code: 'VPC_DNS_DISABLED', vpcId: 'vpc-1' },
    ];
    expect(sameSharedFindings(full, [{ code: 'ENDPOINT_MISSING', vpcId: 'vpc-1', service: 'ecs' }])).toBe(
      true,
    );
    expect(sameSharedFindings(full, [{ code: 'ENDPOINT_MISSING', vpcId: 'vpc-1', service: 'logs' }])).toBe(
      false,
    );
    expect(sameSharedFindings(full, [])).toBe(false);
  });

  it('its bound leaves out the reads only the skipped checks need', () => {
    const bound = lowerBound(tiny());
    const subset = withoutOperations(bound, SHARED_SUBSET_SKIPPED_OPERATIONS);
    expect(subset.byOperation['ec2:DescribeVpcAttribute']).toBeUndefined();
    expect(subset.byOperation['ec2:DescribeNetworkInterfaces']).toBeUndefined();
    // 4 attribute reads, 1 DHCP options read, 1 ENI read.
    expect(subset.total).toBe(bound.total - 4 - 1 - 1);
    expect(subset.byService.ec2).toBe((bound.byService.ec2 ?? 0) - (bound.total - subset.total));
    // ENDPOINT_MISSING stays on, and with it how each VPC resolves service names.
    expect(subset.byService.route53).toBe(2);
    expect(subset.byService.route53resolver).toBe(1);
    for (const operation of SHARED_SUBSET_SKIPPED_OPERATIONS)
      expect(MODELLED_OPERATIONS.has(operation)).toBe(true);
  });
});

describe('arithmetic helpers', () => {
  it('ratio, median and count deltas', () => {
    expect(ratio(110, 100)).toBe(1.1);
    expect(ratio(0, 0)).toBe(1);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(countsDelta({ 'ec2:A': 2, 'ec2:B': 1 }, { 'ec2:A': 5, 'ec2:B': 1, 'ecs:C': 1 })).toEqual({
      'ec2:A': 3,
      'ecs:C': 1,
    });
  });
});
