/**
 * Egress, CIDR containment and who may reach port 443.
 */
import { describe, expect, it } from 'vitest';

import type { IngressRule, RouteTable, SecurityGroup, Subnet } from '../../core/model.ts';
import type { CallerInterface } from '../../core/network.ts';
import {
  admitsHttpsFrom,
  allowsHttps,
  cidrContains,
  egressOf,
  hasEgress,
  routeTableOf,
} from '../../core/network.ts';
import { https, httpsFromGroups, rule } from './fixtures.ts';

const VPC = 'vpc-0001';
const subnet: Subnet = {
  subnetId: 'subnet-0001',
  vpcId: VPC,
  availabilityZone: 'us-east-1a',
  cidrBlock: '10.0.1.0/24',
};

function table(
  id: string,
  options: { main?: boolean; subnets?: string[]; target?: string; active?: boolean; vpcId?: string },
): RouteTable {
  return {
    routeTableId: id,
    vpcId: options.vpcId ?? VPC,
    main: options.main ?? false,
    subnetIds: options.subnets ?? [],
    routes: [
      { destination: '10.0.0.0/16', target: 'local', active: true },
      ...(options.target
        ? [{ destination: '0.0.0.0/0', target: options.target, active: options.active ?? true }]
        : []),
    ],
  };
}

describe('routeTableOf', () => {
  it('an explicit association wins over the main table', () => {
    const main = table('rtb-main', { main: true, target: 'igw-1' });
    const explicit = table('rtb-explicit', { subnets: [subnet.subnetId] });
    expect(routeTableOf(subnet, [main, explicit])?.routeTableId).toBe('rtb-explicit');
  });

  it('without an explicit association, the VPC’s main table serves the subnet', () => {
    const other = table('rtb-other', { subnets: ['subnet-9999'] });
    const main = table('rtb-main', { main: true });
    expect(routeTableOf(subnet, [other, main])?.routeTableId).toBe('rtb-main');
  });

  it('another VPC’s main table does not serve the subnet', () => {
    expect(routeTableOf(subnet, [table('rtb-elsewhere', { main: true, vpcId: 'vpc-0002' })])).toBeUndefined();
  });
});

describe('egressOf', () => {
  it.each([
    ['igw-1', 'internet-gateway'],
    ['nat-1', 'nat-gateway'],
    ['tgw-1', 'other'],
    ['pcx-1', 'other'],
    ['eni-1', 'other'],
    ['vpce-1', 'other'],
  ] as const)('a default route to %s is %s', (target, expected) => {
    const egress = egressOf(subnet, [table('rtb-1', { main: true, target })]);
    expect(egress).toBe(expected);
    expect(hasEgress(egress)).toBe(true);
  });

  it('no default route is no egress', () => {
    expect(egressOf(subnet, [table('rtb-1', { main: true })])).toBe('none');
  });

  it('a blackhole default route is no egress', () => {
    expect(egressOf(subnet, [table('rtb-1', { main: true, target: 'nat-gone', active: false })])).toBe(
      'none',
    );
    expect(hasEgress('none')).toBe(false);
  });

  it('an IPv6-only default route is no IPv4 egress', () => {
    const v6: RouteTable = {
      ...table('rtb-1', { main: true }),
      routes: [{ destination: '::/0', target: 'eigw-1', active: true }],
    };
    expect(egressOf(subnet, [v6])).toBe('none');
  });

  it('the explicit table decides, even when the main table has egress', () => {
    const main = table('rtb-main', { main: true, target: 'igw-1' });
    const explicit = table('rtb-private', { subnets: [subnet.subnetId] });
    expect(egressOf(subnet, [main, explicit])).toBe('none');
    expect(egressOf(subnet, [main])).toBe('internet-gateway');
  });

  it('a subnet with no route table at all has no egress', () => {
    expect(egressOf(subnet, [])).toBe('none');
  });
});

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/16', '10.0.1.0/24', true],
    ['10.0.1.0/24', '10.0.1.0/24', true],
    ['0.0.0.0/0', '192.168.7.0/24', true],
    ['10.0.1.0/24', '10.0.0.0/16', false],
    ['10.0.0.0/24', '10.0.1.0/24', false],
    ['10.0.1.7/24', '10.0.1.128/25', true], // host bits are ignored, as AWS normalises them
    ['10.0.0.0/16', 'pl-12345', false],
    ['10.0.0.0/33', '10.0.0.0/24', false],
    ['300.0.0.0/8', '10.0.0.0/24', false],
    ['::/0', '10.0.0.0/24', false],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(cidrContains(outer, inner)).toBe(expected);
  });
});

describe('allowsHttps', () => {
  it.each<[string, IngressRule, boolean]>([
    ['tcp 443', https('10.0.0.0/16'), true],
    ['tcp 0-65535', rule('tcp', { from: 0, to: 65535 }, { cidrs: ['10.0.0.0/16'] }), true],
    ['tcp 400-500', rule('tcp', { from: 400, to: 500 }, { cidrs: ['10.0.0.0/16'] }), true],
    ['tcp with no ports', rule('tcp', {}, { cidrs: ['10.0.0.0/16'] }), true],
    ['protocol number 6', rule('6', { from: 443, to: 443 }, { cidrs: ['10.0.0.0/16'] }), true],
    ['all traffic (-1)', rule('-1', {}, { cidrs: ['10.0.0.0/16'] }), true],
    ['TCP in capitals', rule('TCP', { from: 443, to: 443 }, { cidrs: ['10.0.0.0/16'] }), true],
    ['udp 443', rule('udp', { from: 443, to: 443 }, { cidrs: ['10.0.0.0/16'] }), false],
    ['tcp 80', rule('tcp', { from: 80, to: 80 }, { cidrs: ['10.0.0.0/16'] }), false],
    ['tcp 444-8443', rule('tcp', { from: 444, to: 8443 }, { cidrs: ['10.0.0.0/16'] }), false],
    ['icmp', rule('icmp', { from: -1, to: -1 }, { cidrs: ['10.0.0.0/16'] }), false],
  ])('%s → %s', (_label, candidate, expected) => {
    expect(allowsHttps(candidate)).toBe(expected);
  });
});

describe('admitsHttpsFrom', () => {
  const source: CallerInterface = { subnet, securityGroupIds: new Set(['sg-workload']) };
  const group = (...ingress: IngressRule[]): SecurityGroup => ({
    groupId: 'sg-endpoint',
    vpcId: VPC,
    groupName: 'endpoint',
    tags: {},
    ingress,
  });

  it.each<[string, IngressRule, 'yes' | 'no']>([
    ['the VPC CIDR', https('10.0.0.0/16'), 'yes'],
    ['the subnet CIDR', https('10.0.1.0/24'), 'yes'],
    ['0.0.0.0/0', https('0.0.0.0/0'), 'yes'],
    ['the workloads’ security group', httpsFromGroups('sg-workload'), 'yes'],
    ['another subnet’s CIDR', https('10.0.2.0/24'), 'no'],
    ['half of the subnet', https('10.0.1.0/25'), 'no'],
    ['an unrelated security group', httpsFromGroups('sg-other'), 'no'],
    ['the VPC CIDR over udp', rule('udp', { from: 443, to: 443 }, { cidrs: ['10.0.0.0/16'] }), 'no'],
    ['the workloads’ group on all traffic', rule('-1', {}, { groups: ['sg-workload'] }), 'yes'],
  ])('a 443 rule from %s: %s', (_label, candidate, expected) => {
    expect(admitsHttpsFrom([group(candidate)], source)).toBe(expected);
  });

  it('any one of several groups is enough', () => {
    expect(admitsHttpsFrom([group(), group(https('10.0.0.0/8'))], source)).toBe('yes');
  });

  it('no groups admit nothing', () => {
    expect(admitsHttpsFrom([], source)).toBe('no');
  });

  it('a rule needs both the port and the source in the same rule', () => {
    const split = group(
      rule('tcp', { from: 22, to: 22 }, { cidrs: ['10.0.0.0/16'] }),
      https('192.168.0.0/16'),
    );
    expect(admitsHttpsFrom([split], source)).toBe('no');
  });
});
