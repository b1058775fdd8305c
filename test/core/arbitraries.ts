/**
 * fast-check arbitraries: whole accounts (one or two Regions, several VPCs) with random ECS work and
 * random endpoint drift, built through the fixtures so a failing case can be read back as a scenario.
 */
import fc from 'fast-check';

import type { EndpointState, IngressRule, RegionSnapshot } from '../../core/model.ts';
import type { InterfaceService } from '../../core/services.ts';
import { INTERFACE_SERVICES } from '../../core/services.ts';
import type { EgressKind } from './fixtures.ts';
import {
  IGNORE_TAGS,
  OTHER_REGION,
  account,
  ecrImage,
  https,
  httpsFromGroups,
  parameterArn,
  rule,
  secretArn,
} from './fixtures.ts';

export type DeleteMode = 'never' | 'owned' | 'any';

/** True about once in `n` draws. */
const oneIn = (n: number): fc.Arbitrary<boolean> => fc.integer({ min: 1, max: n }).map((draw) => draw === 1);

type SgKind =
  'vpc' | 'subnet-a' | 'open' | 'workload-group' | 'udp' | 'all-traffic' | 'wide-tcp' | 'none' | 'managed';

export interface EndpointSpec {
  readonly service: InterfaceService;
  readonly state: EndpointState;
  readonly privateDns: boolean;
  /** Which of the VPC's subnets (by index, modulo) host it; empty: none. */
  readonly subnets: readonly number[];
  readonly sg: SgKind;
  readonly wrongRegion: boolean;
  readonly managed: boolean;
}

export interface WorkSpec {
  readonly kind:
    'ec2-instance' | 'fargate' | 'fargate-spot' | 'asg-provider' | 'ec2-bridge' | 'fargate-task' | 'external';
  readonly subnets: readonly number[];
  readonly taskDefinition: number;
  readonly agentVersion: '1.24.0' | '1.89.0' | null;
}

export interface VpcSpec {
  readonly ignored: boolean;
  readonly dns: null | { readonly support: boolean; readonly hostnames: boolean; readonly custom: boolean };
  readonly mainEgress: EgressKind;
  readonly subnets: ReadonlyArray<{ readonly az: number; readonly egress: EgressKind | null }>;
  readonly work: readonly WorkSpec[];
  readonly endpoints: readonly EndpointSpec[];
  readonly gateway: null | { readonly routeTables: 'all' | 'main' | 'none'; readonly state: EndpointState };
  readonly managedGroup: null | 'all-subnets' | 'first-subnet' | 'empty';
}

export interface TaskDefinitionSpec {
  readonly image: 'public' | 'private' | 'other-region';
  readonly awslogs: boolean;
  readonly secrets: ReadonlyArray<'sm' | 'ssm-arn' | 'ssm-name' | 'sm-other-region'>;
  readonly repositoryCredentials: boolean;
}

export interface RegionSpec {
  readonly vpcs: readonly VpcSpec[];
  readonly taskDefinitions: readonly TaskDefinitionSpec[];
  /** Interface services the Region does not offer. */
  readonly notOffered: readonly InterfaceService[];
  /** Whether AZ d (used by some subnets) is offered by every service. */
  readonly azDOffered: boolean;
}

export interface AccountSpec {
  readonly regions: readonly RegionSpec[];
}

export interface ConfigSpec {
  readonly enableVpcDnsAttributes: boolean;
  readonly deleteWrongRegionEndpoints: DeleteMode;
  /** Indexes (into all VPC ids of the account) to include / exclude; empty include = all. */
  readonly include: readonly number[];
  readonly exclude: readonly number[];
}

const egress = fc.constantFrom<EgressKind>('none', 'none', 'nat', 'igw', 'tgw', 'blackhole');
const state = fc.constantFrom<EndpointState>(
  'available',
  'available',
  'available',
  'available',
  'pending',
  'failed',
  'deleted',
  'deleting',
);
const indexes = fc.uniqueArray(fc.nat(5), { maxLength: 3 });

const endpointSpec: fc.Arbitrary<EndpointSpec> = fc.record({
  service: fc.constantFrom(...INTERFACE_SERVICES),
  state,
  privateDns: fc.boolean(),
  subnets: indexes,
  sg: fc.constantFrom<SgKind>(
    'vpc',
    'vpc',
    'subnet-a',
    'open',
    'workload-group',
    'udp',
    'all-traffic',
    'wide-tcp',
    'none',
    'managed',
  ),
  wrongRegion: oneIn(6),
  managed: fc.boolean(),
});

const workSpec: fc.Arbitrary<WorkSpec> = fc.record({
  kind: fc.constantFrom<WorkSpec['kind']>(
    'ec2-instance',
    'ec2-instance',
    'fargate',
    'fargate-spot',
    'asg-provider',
    'ec2-bridge',
    'fargate-task',
    'external',
  ),
  subnets: fc.uniqueArray(fc.nat(5), { minLength: 1, maxLength: 3 }),
  taskDefinition: fc.nat(3),
  agentVersion: fc.constantFrom<WorkSpec['agentVersion']>('1.89.0', '1.89.0', '1.24.0', null),
});

const vpcSpec: fc.Arbitrary<VpcSpec> = fc.record({
  ignored: oneIn(7),
  dns: fc.option(fc.record({ support: fc.boolean(), hostnames: fc.boolean(), custom: fc.boolean() }), {
    freq: 5,
  }),
  mainEgress: egress,
  subnets: fc.array(fc.record({ az: fc.nat(3), egress: fc.option(egress, { freq: 2 }) }), {
    minLength: 1,
    maxLength: 4,
  }),
  work: fc.array(workSpec, { maxLength: 4 }),
  endpoints: fc.array(endpointSpec, { maxLength: 6 }),
  gateway: fc.option(
    fc.record({ routeTables: fc.constantFrom<'all' | 'main' | 'none'>('all', 'main', 'none'), state }),
    { freq: 2 },
  ),
  managedGroup: fc.constantFrom<VpcSpec['managedGroup']>(null, null, 'all-subnets', 'first-subnet', 'empty'),
});

const taskDefinitionSpec: fc.Arbitrary<TaskDefinitionSpec> = fc.record({
  image: fc.constantFrom<TaskDefinitionSpec['image']>('public', 'private', 'private', 'other-region'),
  awslogs: fc.boolean(),
  secrets: fc.uniqueArray(
    fc.constantFrom<'sm' | 'ssm-arn' | 'ssm-name' | 'sm-other-region'>(
      'sm',
      'ssm-arn',
      'ssm-name',
      'sm-other-region',
    ),
    { maxLength: 2 },
  ),
  repositoryCredentials: oneIn(5),
});

const regionSpec: fc.Arbitrary<RegionSpec> = fc.record({
  vpcs: fc.array(vpcSpec, { minLength: 1, maxLength: 3 }),
  taskDefinitions: fc.array(taskDefinitionSpec, { minLength: 1, maxLength: 3 }),
  notOffered: fc.uniqueArray(fc.constantFrom(...INTERFACE_SERVICES), { maxLength: 1 }).map((list) =>
    // Mostly everything is offered.
    list.length > 0 && list[0] === 'ecs' ? [] : list,
  ),
  azDOffered: fc.boolean(),
});

export const accountSpec: fc.Arbitrary<AccountSpec> = fc.record({
  regions: fc.array(regionSpec, { minLength: 1, maxLength: 2 }),
});

export const configSpec: fc.Arbitrary<ConfigSpec> = fc.record({
  enableVpcDnsAttributes: fc.boolean(),
  deleteWrongRegionEndpoints: fc.constantFrom<DeleteMode>('never', 'owned', 'any'),
  include: fc.oneof(
    { weight: 4, arbitrary: fc.constant<number[]>([]) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.nat(6), { minLength: 1, maxLength: 2 }) },
  ),
  exclude: fc.oneof(
    { weight: 4, arbitrary: fc.constant<number[]>([]) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.nat(6), { minLength: 1, maxLength: 1 }) },
  ),
});

const REGIONS = ['us-east-1', 'eu-west-1'];
const AZ_LETTERS = ['a', 'b', 'c', 'd'];

/** What the spec says of a VPC, independently of the core's analysis. */
export interface BuiltVpc {
  readonly region: string;
  readonly vpcId: string;
  readonly ignored: boolean;
  /** Container instances, or awsvpc services/tasks that are not EXTERNAL, in its subnets. */
  readonly hasEcsWork: boolean;
  readonly dnsOff: boolean;
}

export interface BuiltAccount {
  readonly snapshots: RegionSnapshot[];
  /** Every VPC id, in creation order over the Regions. */
  readonly vpcIds: string[];
  readonly vpcs: BuiltVpc[];
}

/** Builds the snapshots an account spec describes. */
export function buildAccount(spec: AccountSpec): BuiltAccount {
  const vpcIds: string[] = [];
  const vpcs: BuiltVpc[] = [];
  const snapshots = spec.regions.map((regionSpec, regionIndex) => {
    const region = REGIONS[regionIndex] ?? 'ap-south-1';
    const a = account(region, regionIndex * 0x1000);
    const allAzs = regionSpec.azDOffered ? ['a', 'b', 'c', 'd'] : ['a', 'b', 'c'];
    for (const service of INTERFACE_SERVICES) {
      if (regionSpec.notOffered.includes(service)) a.offer(service, null);
      else a.offer(service, { azs: allAzs });
    }
    const taskDefinitions = regionSpec.taskDefinitions.map((td) =>
      a.taskDefinition({
        image:
          td.image === 'public'
            ? 'public.ecr.aws/nginx/nginx:1'
            : ecrImage(td.image === 'private' ? region : OTHER_REGION),
        ...(td.awslogs ? { logDriver: 'awslogs' } : {}),
        secretRefs: td.secrets.map((secret) => {
          switch (secret) {
            case 'sm':
              return secretArn(region);
            case 'ssm-arn':
              return parameterArn(region);
            case 'ssm-name':
              return 'app/db-url';
            case 'sm-other-region':
              return secretArn(OTHER_REGION);
          }
        }),
        ...(td.repositoryCredentials ? { repositoryCredentials: secretArn(region, 'registry') } : {}),
      }),
    );
    regionSpec.vpcs.forEach((vpcSpec, vpcIndex) => {
      const vpc = a.vpc({
        tags: vpcSpec.ignored ? IGNORE_TAGS : {},
        dns: vpcSpec.dns
          ? {
              support: vpcSpec.dns.support,
              hostnames: vpcSpec.dns.hostnames,
              dhcpDnsServers: vpcSpec.dns.custom ? ['10.0.0.53'] : ['AmazonProvidedDNS'],
            }
          : { support: true, hostnames: true },
        egress: vpcSpec.mainEgress,
      });
      vpcIds.push(vpc);
      vpcs.push({
        region,
        vpcId: vpc,
        ignored: vpcSpec.ignored,
        hasEcsWork: vpcSpec.work.some((work) => work.kind !== 'external' && work.kind !== 'ec2-bridge'),
        dnsOff: vpcSpec.dns !== null && !(vpcSpec.dns.support && vpcSpec.dns.hostnames),
      });
      const subnets = vpcSpec.subnets.map((subnet) =>
        a.subnet(vpc, {
          az: AZ_LETTERS[subnet.az] ?? 'a',
          ...(subnet.egress === null ? {} : { egress: subnet.egress }),
        }),
      );
      const pick = (list: readonly number[]): string[] => [
        ...new Set(list.map((index) => subnets[index % subnets.length] ?? '')),
      ];
      const cluster = `cluster-${String(vpcIndex)}`;
      const workloadGroup = `sg-work${String(regionIndex)}${String(vpcIndex)}`;
      for (const work of vpcSpec.work) {
        const taskDefinition = taskDefinitions[work.taskDefinition % taskDefinitions.length] ?? '';
        const placed = pick(work.subnets);
        switch (work.kind) {
          case 'ec2-instance':
            for (const subnet of placed) {
              a.containerInstance(subnet, {
                cluster,
                agentVersion: work.agentVersion,
                groups: [workloadGroup],
              });
            }
            break;
          case 'fargate':
            a.fargateService(placed, { cluster, taskDefinition, groups: [workloadGroup] });
            break;
          case 'fargate-spot':
            a.service(placed, { cluster, capacityProviders: ['FARGATE_SPOT'], taskDefinition });
            break;
          case 'asg-provider':
            a.service(placed, {
              cluster,
              capacityProviders: ['asg'],
              taskDefinition,
              groups: [workloadGroup],
            });
            break;
          case 'ec2-bridge':
            a.ec2Service([], { cluster, taskDefinition });
            break;
          case 'fargate-task':
            a.task({ cluster, launchType: 'FARGATE', subnets: placed, taskDefinition });
            break;
          case 'external':
            a.service(placed, { cluster, launchType: 'EXTERNAL', taskDefinition });
            break;
        }
      }
      const cidr = a.cidrOf(vpc);
      const firstCidr = a.subnetOf(subnets[0] ?? '').cidrBlock;
      let managedGroup: string | undefined;
      if (vpcSpec.managedGroup !== null) {
        const ingress: IngressRule[] =
          vpcSpec.managedGroup === 'all-subnets'
            ? [https(...subnets.map((subnet) => a.subnetOf(subnet).cidrBlock))]
            : vpcSpec.managedGroup === 'first-subnet'
              ? [https(firstCidr)]
              : [];
        managedGroup = a.managedGroup(vpc, ingress);
      }
      const groupFor = (kind: SgKind): string[] => {
        switch (kind) {
          case 'vpc':
            return [a.openGroup(vpc)];
          case 'subnet-a':
            return [a.securityGroup(vpc, { ingress: [https(firstCidr)] })];
          case 'open':
            return [a.securityGroup(vpc, { ingress: [https('0.0.0.0/0')] })];
          case 'workload-group':
            return [a.securityGroup(vpc, { ingress: [httpsFromGroups(workloadGroup)] })];
          case 'udp':
            return [
              a.securityGroup(vpc, { ingress: [rule('udp', { from: 443, to: 443 }, { cidrs: [cidr] })] }),
            ];
          case 'all-traffic':
            return [a.securityGroup(vpc, { ingress: [rule('-1', {}, { cidrs: [cidr] })] })];
          case 'wide-tcp':
            return [
              a.securityGroup(vpc, { ingress: [rule('tcp', { from: 0, to: 65535 }, { cidrs: [cidr] })] }),
            ];
          case 'none':
            return [];
          case 'managed':
            return managedGroup ? [managedGroup] : [];
        }
      };
      for (const endpoint of vpcSpec.endpoints) {
        // One subnet per AZ, as AWS enforces.
        const byAz = new Map<string, string>();
        for (const subnet of pick(endpoint.subnets)) {
          const az = a.subnetOf(subnet).availabilityZone;
          if (!byAz.has(az)) byAz.set(az, subnet);
        }
        a.endpoint(vpc, endpoint.service, {
          state: endpoint.state,
          privateDns: endpoint.privateDns,
          subnets: [...byAz.values()],
          groups: groupFor(endpoint.sg),
          managed: endpoint.managed,
          ...(endpoint.wrongRegion ? { region: region === 'us-east-1' ? 'us-west-2' : 'us-east-1' } : {}),
        });
      }
      if (vpcSpec.gateway) {
        const { routeTables } = vpcSpec.gateway;
        a.gateway(vpc, {
          state: vpcSpec.gateway.state,
          ...(routeTables === 'all'
            ? {}
            : { routeTables: routeTables === 'main' ? [a.mainRouteTable(vpc)] : [] }),
        });
      }
    });
    // Discovery never lists endpoints in state `deleted`; a few stay in, to check they are ignored anyway.
    return a.snapshot();
  });
  return { snapshots, vpcIds, vpcs };
}

/** The config document of a config spec over the account's VPC ids. */
export function configOf(
  spec: ConfigSpec,
  vpcIds: readonly string[],
  limits: { maxEndpointsCreatedPerRun: number; maxActionsPerRun: number },
) {
  const ids = (list: readonly number[]): string[] => [
    ...new Set(list.filter((index) => index < vpcIds.length).map((index) => vpcIds[index] ?? '')),
  ];
  return {
    scope: { includeVpcIds: ids(spec.include), excludeVpcIds: ids(spec.exclude) },
    remediation: {
      enableVpcDnsAttributes: spec.enableVpcDnsAttributes,
      deleteWrongRegionEndpoints: spec.deleteWrongRegionEndpoints,
    },
    limits,
  };
}
