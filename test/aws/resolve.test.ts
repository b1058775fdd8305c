// The ids events name, resolved to VPCs against moto (aws/resolve.ts): route tables, NAT gateways
// (deleted ones too), network interfaces, security groups by name (the default VPC's, as EC2 reads a
// name), and one Describe per kind of id for a whole batch; an id that is gone widens to the Region.
import {
  CreateNetworkInterfaceCommand,
  DeleteNatGatewayCommand,
  DescribeNatGatewaysCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { HintTargets } from '../../core/events.ts';
import { resolveTargets } from '../../aws/resolve.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import { createNetwork, createSecurityGroup } from '../harness/seed.ts';

const NONE: HintTargets = { vpcIds: [], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] };

/** The account's EC2 client, with the name of every command it sends recorded in `calls`. */
function counting(acct: Account): { ec2: EC2Client; calls: string[] } {
  const calls: string[] = [];
  const ec2 = {
    send: (command: { constructor: { name: string } }) => {
      calls.push(command.constructor.name.replace(/Command$/, ''));
      return (acct.ec2.send as (c: unknown) => Promise<unknown>)(command);
    },
  } as unknown as EC2Client;
  return { ec2, calls };
}

async function defaultVpcOf(acct: Account): Promise<string> {
  const out = await acct.ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  const id = out.Vpcs?.[0]?.VpcId;
  if (!id) throw new Error('moto made no default VPC');
  return id;
}

describe('resolveTargets', () => {
  it('route tables, NAT gateways and network interfaces: their VPCs, one Describe per kind for the batch', async () => {
    const acct = newAccount();
    const a = await createNetwork(acct, { cidr: '10.1.0.0/16', azs: ['a', 'b'], egress: 'nat' });
    const b = await createNetwork(acct, { cidr: '10.2.0.0/16', azs: ['a'], egress: 'igw' });
    const eni = await acct.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: b.subnetIds[0] ?? '' }));
    const { ec2, calls } = counting(acct);

    const resolution = await resolveTargets(ec2, {
      ...NONE,
      routeTableIds: [
        a.egress?.routeTableId ?? '',
        a.egress?.publicRouteTableId ?? '',
        b.egress?.routeTableId ?? '',
      ],
      natGatewayIds: [a.egress?.natGatewayId ?? ''],
      networkInterfaceIds: [eni.NetworkInterface?.NetworkInterfaceId ?? ''],
    });

    expect(resolution).toEqual({ whole: false, vpcIds: [a.vpcId, b.vpcId].sort() });
    expect(calls).toEqual(['DescribeRouteTables', 'DescribeNatGateways', 'DescribeNetworkInterfaces']);
  });

  it('a NAT gateway being deleted, or deleted, still names its VPC; one not found at all widens to the Region', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.3.0.0/16', azs: ['a'], egress: 'nat' });
    const natGatewayId = network.egress?.natGatewayId ?? '';
    await acct.ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: natGatewayId }));
    const states = await acct.ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [natGatewayId] }));
    expect(states.NatGateways?.[0]?.State?.toLowerCase()).toMatch(/^delet(ing|ed)$/);

    expect(await resolveTargets(acct.ec2, { ...NONE, natGatewayIds: [natGatewayId] })).toEqual({
      whole: false,
      vpcIds: [network.vpcId],
    });
    expect(
      await resolveTargets(acct.ec2, {
        ...NONE,
        natGatewayIds: [natGatewayId, 'nat-0123456789abcdef0'],
        routeTableIds: ['rtb-0123456789abcdef0'],
        networkInterfaceIds: ['eni-0123456789abcdef0'],
      }),
    ).toEqual({
      whole: true,
      reason: 'not found: rtb-0123456789abcdef0, nat-0123456789abcdef0, eni-0123456789abcdef0',
    });
  });

  it('a security group by name: the VPC of the only group of that name, else the default VPC’s', async () => {
    const acct = newAccount();
    const defaultVpc = await defaultVpcOf(acct);
    const workload = await createNetwork(acct, { cidr: '10.4.0.0/16', azs: ['a'] });
    // Another VPC: a name is looked up among several.
    await createNetwork(acct, { cidr: '10.5.0.0/16', azs: ['a'] });
    await createSecurityGroup(acct, { vpcId: workload.vpcId, name: 'only-here' });
    await createSecurityGroup(acct, { vpcId: defaultVpc, name: 'web' });
    await createSecurityGroup(acct, { vpcId: workload.vpcId, name: 'web' });
    const names = (securityGroupNames: string[]) => ({ ...NONE, securityGroupNames });

    // One group of that name: its VPC, with the one DescribeSecurityGroups.
    const { ec2, calls } = counting(acct);
    expect(await resolveTargets(ec2, names(['only-here']))).toEqual({
      whole: false,
      vpcIds: [workload.vpcId],
    });
    expect(calls).toEqual(['DescribeSecurityGroups']);
    // In the default VPC and another: the default VPC's (EC2's reading of a name without a VPC). Every
    // VPC has a group named "default".
    expect(await resolveTargets(acct.ec2, names(['web']))).toEqual({ whole: false, vpcIds: [defaultVpc] });
    expect(await resolveTargets(acct.ec2, names(['default', 'only-here']))).toEqual({
      whole: false,
      vpcIds: [defaultVpc, workload.vpcId].sort(),
    });
  });

  it('a security group name in several VPCs none of which is the default, or in none: the whole Region', async () => {
    const acct = newAccount();
    const a = await createNetwork(acct, { cidr: '10.6.0.0/16', azs: ['a'] });
    const b = await createNetwork(acct, { cidr: '10.7.0.0/16', azs: ['a'] });
    await createSecurityGroup(acct, { vpcId: a.vpcId, name: 'twice' });
    await createSecurityGroup(acct, { vpcId: b.vpcId, name: 'twice' });
    expect(await resolveTargets(acct.ec2, { ...NONE, securityGroupNames: ['twice'] })).toEqual({
      whole: true,
      reason: 'security group names in several VPCs, none the default VPC: twice',
    });
    expect(await resolveTargets(acct.ec2, { ...NONE, securityGroupNames: ['nowhere'] })).toEqual({
      whole: true,
      reason: 'not found: security group nowhere',
    });
  });

  it('the kinds of before still resolve beside the new ones, each with its one Describe', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.8.0.0/16', azs: ['a'], egress: 'igw' });
    const group = await createSecurityGroup(acct, { vpcId: network.vpcId, name: 'workload' });
    const { ec2, calls } = counting(acct);
    expect(
      await resolveTargets(ec2, {
        ...NONE,
        vpcIds: ['vpc-0feedfeedfeedfeed'],
        securityGroupIds: [group],
        subnetIds: network.subnetIds,
        routeTableIds: [network.egress?.routeTableId ?? ''],
      }),
    ).toEqual({ whole: false, vpcIds: [network.vpcId, 'vpc-0feedfeedfeedfeed'].sort() });
    expect(calls).toEqual(['DescribeSecurityGroups', 'DescribeSubnets', 'DescribeRouteTables']);
  });
});
