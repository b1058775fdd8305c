import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../core/errors.ts';
import type { ReconcileHint } from '../../core/events.ts';
import {
  EventParseError,
  coalesceHints,
  judgeEventBody,
  parseEvent,
  parseEventBody,
} from '../../core/events.ts';

const eventsDir = new URL('../../events/', import.meta.url);
const sample = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`${name}.json`, eventsDir), 'utf8')) as Record<string, unknown>;

function withDetail(name: string, patch: (detail: Record<string, unknown>) => void): Record<string, unknown> {
  const event = sample(name);
  patch(event.detail as Record<string, unknown>);
  return event;
}

function problems(input: unknown): readonly string[] {
  try {
    parseEvent(input);
  } catch (error) {
    if (error instanceof EventParseError) return error.problems;
    throw error;
  }
  throw new Error('parsed');
}

describe('parseEvent', () => {
  it('reads every EventBridge sample in events/ (the SNS one is the notifier’s)', () => {
    const names = readdirSync(eventsDir).filter((f) => f.endsWith('.json') && f !== 'sns-alert.json');
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const name of names)
      expect(() => parseEvent(sample(name.replace(/\.json$/, ''))), name).not.toThrow();
  });

  it('reads XML-derived id lists: one {tag, content}, several, or "" for none', () => {
    const one = parseEvent(sample('ec2-delete-vpc-endpoints'));
    const several = parseEvent(sample('ec2-delete-vpc-endpoints-several'));
    const none = parseEvent(
      withDetail('ec2-delete-vpc-endpoints', (d) => {
        d.requestParameters = { DeleteVpcEndpointsRequest: { VpcEndpointId: '' } };
      }),
    );
    const ids = (p: ReturnType<typeof parseEvent>) =>
      p.status === 'hint' && p.hint.scope.kind === 'targets'
        ? p.hint.scope.targets.vpcEndpointIds
        : undefined;
    expect(ids(one)).toEqual(['vpce-0b22220000000001']);
    expect(ids(several)).toEqual(['vpce-0b22220000000001', 'vpce-0b22220000000002']);
    expect(ids(none)).toEqual([]);
  });

  it('uses CloudTrail’s eventID as the occurrence id, so redeliveries share it', () => {
    const parsed = parseEvent(sample('ec2-delete-vpc-endpoints'));
    expect(parsed.status === 'hint' && parsed.hint.eventId).toBe('7b2d8e1f-3c4a-4d5b-8e6f-7a8b9c0d1e02');
  });

  it('ignores failed calls and stopped container instances', () => {
    expect(parseEvent(sample('ec2-delete-vpc-endpoints-failed'))).toMatchObject({
      status: 'ignored',
      code: 'call-failed',
      reason: 'the call failed (Client.UnauthorizedOperation)',
    });
    const inactive = sample('ecs-container-instance-state-change');
    (inactive.detail as Record<string, unknown>).status = 'INACTIVE';
    expect(parseEvent(inactive)).toMatchObject({ status: 'ignored', code: 'instance-inactive' });
  });

  it('reads an inherited key (constructor, __proto__, toString) as an event source the rules do not match', () => {
    for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const event = withDetail('ec2-modify-vpc-attribute', (d) => {
        d.eventSource = key;
        d.eventName = key;
      });
      expect(() => parseEvent(event), key).toThrow(EventParseError);
      expect(judgeEventBody(JSON.stringify(event)), key).toEqual({
        status: 'terminal',
        reason: 'unmatched',
        problems: [`detail: ${key}:${key} is not an event the rules match`],
      });
    }
    // The message, as it came.
    expect(judgeEventBody('{"detail":{"eventSource":"constructor"}}')).toMatchObject({
      status: 'terminal',
      reason: 'malformed',
    });
  });

  it('names the path of what does not fit', () => {
    expect(problems({})).toEqual(
      expect.arrayContaining([expect.stringMatching(/^id: /), expect.stringMatching(/^detail-type: /)]),
    );
    expect(
      problems(
        withDetail('ec2-create-vpc-endpoint', (d) => {
          d.requestParameters = { CreateVpcEndpointRequest: { VpcId: 'subnet-1' } };
        }),
      ),
    ).toEqual(['detail.requestParameters.CreateVpcEndpointRequest.VpcId: expected a VPC id']);
    expect(
      problems(
        withDetail('ec2-create-vpc-endpoint', (d) => {
          d.eventName = 'TerminateInstances';
        }),
      ),
    ).toEqual(['detail: ec2:TerminateInstances is not an event the rules match']);
    expect(() => parseEventBody('not json')).toThrow(/body: not JSON/);
  });
});

describe('judgeEventBody', () => {
  it('never throws: a parse error is terminal with its reason, a hint or an ignored event passes through', () => {
    expect(judgeEventBody('not json')).toMatchObject({ status: 'terminal', reason: 'not-json' });
    expect(judgeEventBody('[]')).toMatchObject({ status: 'terminal', reason: 'malformed' });
    expect(judgeEventBody(JSON.stringify({ ...sample('scheduled-sweep'), 'detail-type': 'Nope' }))).toEqual({
      status: 'terminal',
      reason: 'unmatched',
      problems: ['detail-type: "Nope" is not an event the rules match'],
    });
    expect(judgeEventBody(JSON.stringify(sample('scheduled-sweep')))).toMatchObject({ status: 'hint' });
    expect(judgeEventBody(JSON.stringify(sample('ec2-delete-vpc-endpoints-failed')))).toMatchObject({
      status: 'ignored',
      code: 'call-failed',
    });
  });

  it('an EventParseError is a TerminalError: it is never retried', () => {
    const error = new EventParseError(['x: y'], 'not-json');
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.reason).toBe('not-json');
    expect(new EventParseError(['x: y']).reason).toBe('malformed');
  });
});

describe('the ECS clusters an event names', () => {
  const targetsOf = (input: unknown) => {
    const parsed = parseEvent(input);
    if (parsed.status !== 'hint' || parsed.hint.scope.kind !== 'targets') throw new Error('no targets');
    return parsed.hint.scope.targets;
  };

  it('reads the cluster of ECS calls (name or ARN; none is the default cluster) and of container instance events', () => {
    expect(targetsOf(sample('ecs-create-service')).clusterArns).toEqual([
      'arn:aws:ecs:us-east-1:111122223333:cluster/prod',
    ]);
    expect(targetsOf(sample('ecs-run-task')).clusterArns).toEqual([
      'arn:aws:ecs:us-east-1:111122223333:cluster/batch',
    ]);
    const byArn = withDetail('ecs-create-service', (d) => {
      (d.requestParameters as Record<string, unknown>).cluster =
        'arn:aws:ecs:us-east-1:111122223333:cluster/by-arn';
    });
    expect(targetsOf(byArn).clusterArns).toEqual(['arn:aws:ecs:us-east-1:111122223333:cluster/by-arn']);
    const byDefault = withDetail('ecs-create-service', (d) => {
      delete (d.requestParameters as Record<string, unknown>).cluster;
    });
    expect(targetsOf(byDefault).clusterArns).toEqual(['arn:aws:ecs:us-east-1:111122223333:cluster/default']);
    expect(targetsOf(sample('ecs-container-instance-state-change')).clusterArns).toEqual([
      'arn:aws:ecs:us-east-1:111122223333:cluster/ec2-prod',
    ]);
    // EC2 events name no cluster: the field is absent, not empty.
    expect(targetsOf(sample('ec2-delete-vpc-endpoints'))).not.toHaveProperty('clusterArns');
  });

  it('names no cluster it cannot identify (no account, an ARN of another service)', () => {
    const noAccount = sample('ecs-create-service');
    delete noAccount.account;
    delete (noAccount.detail as Record<string, unknown>).recipientAccountId;
    expect(targetsOf(noAccount)).not.toHaveProperty('clusterArns');
    const odd = withDetail('ecs-create-service', (d) => {
      (d.requestParameters as Record<string, unknown>).cluster = 'arn:aws:iam::111122223333:role/x';
    });
    expect(targetsOf(odd)).not.toHaveProperty('clusterArns');
  });

  it('coalesces the clusters of a burst with its VPCs', () => {
    const hint = (eventId: string, clusterArns?: string[]): ReconcileHint => ({
      eventId,
      trigger: 'ecs:CreateService',
      time: '2026-11-28T10:00:00Z',
      scope: {
        kind: 'targets',
        region: 'us-east-1',
        targets: {
          vpcIds: [],
          vpcEndpointIds: [],
          securityGroupIds: [],
          subnetIds: [`subnet-${eventId}`],
          ...(clusterArns ? { clusterArns } : {}),
        },
      },
    });
    const { work } = coalesceHints(
      [
        hint('0a', ['arn:aws:ecs:us-east-1:1:cluster/b']),
        hint('0b', ['arn:aws:ecs:us-east-1:1:cluster/a']),
        hint('0c'),
      ],
      ['us-east-1'],
    );
    expect(work).toHaveLength(1);
    const unit = work[0];
    if (unit?.whole !== false) throw new Error('expected targets');
    expect(unit.targets.clusterArns).toEqual([
      'arn:aws:ecs:us-east-1:1:cluster/a',
      'arn:aws:ecs:us-east-1:1:cluster/b',
    ]);
    const none = coalesceHints([hint('0c')], ['us-east-1']).work[0];
    expect(none?.whole === false && none.targets).not.toHaveProperty('clusterArns');
  });
});

describe('coalesceHints', () => {
  const hint = (eventId: string, scope: ReconcileHint['scope']): ReconcileHint => ({
    eventId,
    trigger: 't',
    time: '2026-11-28T10:00:00Z',
    scope,
  });
  const targets = (region: string, partial: { vpcIds?: string[]; vpcEndpointIds?: string[] }) =>
    ({
      kind: 'targets',
      region,
      targets: { vpcIds: [], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [], ...partial },
    }) as const;

  it('merges a burst into one unit per Region; a Region-wide hint or a sweep widens it', () => {
    const { work, outOfScope } = coalesceHints(
      [
        hint('a', targets('us-east-1', { vpcIds: ['vpc-1'] })),
        hint('b', targets('us-east-1', { vpcIds: ['vpc-1'], vpcEndpointIds: ['vpce-1'] })),
        hint('c', targets('eu-west-1', { vpcIds: ['vpc-2'] })),
        hint('d', { kind: 'region', region: 'eu-west-1' }),
        hint('e', targets('ap-south-1', { vpcIds: ['vpc-3'] })),
      ],
      ['us-east-1', 'eu-west-1'],
    );
    expect(work).toEqual([
      {
        region: 'us-east-1',
        whole: false,
        eventIds: ['a', 'b'],
        targets: { vpcIds: ['vpc-1'], vpcEndpointIds: ['vpce-1'], securityGroupIds: [], subnetIds: [] },
      },
      { region: 'eu-west-1', whole: true, eventIds: ['c', 'd'] },
    ]);
    expect(outOfScope.map((h) => h.eventId)).toEqual(['e']);
    // Only the id lists it knows are read from a hint's targets: an odd key is not looked up.
    const odd = JSON.parse(
      '{"vpcIds":["vpc-9"],"vpcEndpointIds":[],"securityGroupIds":[],"subnetIds":[],"__proto__":["x"],"constructor":["y"]}',
    ) as ReturnType<typeof targets>['targets'];
    expect(
      coalesceHints([hint('o', { kind: 'targets', region: 'us-east-1', targets: odd })], ['us-east-1']).work,
    ).toEqual([
      {
        region: 'us-east-1',
        whole: false,
        eventIds: ['o'],
        targets: { vpcIds: ['vpc-9'], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] },
      },
    ]);
    expect(coalesceHints([hint('s', { kind: 'sweep' })], ['us-east-1', 'eu-west-1']).work).toEqual([
      { region: 'us-east-1', whole: true, eventIds: ['s'] },
      { region: 'eu-west-1', whole: true, eventIds: ['s'] },
    ]);
  });

  it('a sweep keeps the targets of the events that came with it (reconciled as theirs if a split run has the Region); a Region-wide event drops them', () => {
    const named = hint('a', targets('us-east-1', { vpcIds: ['vpc-1'] }));
    expect(coalesceHints([hint('s', { kind: 'sweep' }), named], ['us-east-1']).work).toEqual([
      {
        region: 'us-east-1',
        whole: true,
        eventIds: ['s', 'a'],
        targets: { vpcIds: ['vpc-1'], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] },
      },
    ]);
    expect(
      coalesceHints(
        [hint('s', { kind: 'sweep' }), named, hint('r', { kind: 'region', region: 'us-east-1' })],
        ['us-east-1'],
      ).work,
    ).toEqual([{ region: 'us-east-1', whole: true, eventIds: ['s', 'a', 'r'] }]);
  });
});

describe('the drift events beyond endpoints (routes, egress, DHCP options, groups, interfaces, Route 53)', () => {
  const hintOf = (input: unknown) => {
    const parsed = parseEvent(input);
    if (parsed.status !== 'hint') throw new Error(`not a hint: ${JSON.stringify(parsed)}`);
    return parsed.hint;
  };
  const NONE = { vpcIds: [], vpcEndpointIds: [], securityGroupIds: [], subnetIds: [] };
  const inRegion = (targets: Record<string, string[]>, region = 'us-east-1') => ({
    kind: 'targets',
    region,
    targets: { ...NONE, ...targets },
  });

  it.each([
    ['ec2-create-route', 'ec2:CreateRoute', { routeTableIds: ['rtb-0a77770000000001'] }],
    ['ec2-replace-route', 'ec2:ReplaceRoute', { routeTableIds: ['rtb-0a77770000000001'] }],
    ['ec2-delete-route', 'ec2:DeleteRoute', { routeTableIds: ['rtb-0a77770000000001'] }],
    ['ec2-associate-route-table', 'ec2:AssociateRouteTable', { routeTableIds: ['rtb-0a77770000000001'] }],
    [
      'ec2-replace-route-table-association',
      'ec2:ReplaceRouteTableAssociation',
      { routeTableIds: ['rtb-0a77770000000001'] },
    ],
    ['ec2-detach-internet-gateway', 'ec2:DetachInternetGateway', { vpcIds: ['vpc-0a11110000000001'] }],
    ['ec2-delete-nat-gateway', 'ec2:DeleteNatGateway', { natGatewayIds: ['nat-0b88880000000001'] }],
    ['ec2-associate-dhcp-options', 'ec2:AssociateDhcpOptions', { vpcIds: ['vpc-0a11110000000001'] }],
    [
      'ec2-revoke-security-group-egress',
      'ec2:RevokeSecurityGroupEgress',
      { securityGroupIds: ['sg-0c33330000000001'] },
    ],
    [
      'ec2-revoke-security-group-ingress-by-name',
      'ec2:RevokeSecurityGroupIngress',
      { securityGroupNames: ['ecs-endpoints'] },
    ],
    [
      'ec2-modify-network-interface-attribute',
      'ec2:ModifyNetworkInterfaceAttribute',
      { networkInterfaceIds: ['eni-0f66660000000001'] },
    ],
  ])('%s names %s’s ids in the call’s Region', (name, trigger, targets) => {
    const hint = hintOf(sample(name));
    expect(hint.trigger).toBe(trigger);
    expect(hint.scope).toEqual(inRegion(targets));
    // The CloudTrail eventID, as for every CloudTrail event.
    expect(hint.eventId).toBe((sample(name).detail as { eventID: string }).eventID);
  });

  it('the Region of the call is awsRegion (an EC2 call in eu-west-1 names ids of eu-west-1)', () => {
    const event = sample('ec2-delete-route');
    event.region = 'eu-west-1';
    (event.detail as Record<string, unknown>).awsRegion = 'eu-west-1';
    expect(hintOf(event).scope).toEqual(inRegion({ routeTableIds: ['rtb-0a77770000000001'] }, 'eu-west-1'));
  });

  it('DisassociateRouteTable names only the association, gone after the call: the whole Region', () => {
    expect(hintOf(sample('ec2-disassociate-route-table')).scope).toEqual({
      kind: 'region',
      region: 'us-east-1',
    });
  });

  it('reads DeleteNatGateway in its XML-derived shape and in plain JSON', () => {
    const plain = withDetail('ec2-delete-nat-gateway', (d) => {
      d.requestParameters = { natGatewayId: 'nat-0b88880000000002' };
    });
    expect(hintOf(plain).scope).toEqual(inRegion({ natGatewayIds: ['nat-0b88880000000002'] }));
    expect(
      problems(
        withDetail('ec2-delete-nat-gateway', (d) => {
          d.requestParameters = { DeleteNatGatewayRequest: { NatGatewayId: 'igw-1' } };
        }),
      ),
    ).toEqual([expect.stringMatching(/^detail\.requestParameters/)]);
  });

  it('RevokeSecurityGroupIngress by id or by name; neither is malformed, not a crash', () => {
    expect(hintOf(sample('ec2-revoke-security-group-ingress')).scope).toEqual(
      inRegion({ securityGroupIds: ['sg-0c33330000000001'] }),
    );
    const neither = withDetail('ec2-revoke-security-group-ingress-by-name', (d) => {
      d.requestParameters = { ipPermissions: {} };
    });
    expect(judgeEventBody(JSON.stringify(neither))).toMatchObject({
      status: 'terminal',
      reason: 'malformed',
    });
    const empty = withDetail('ec2-revoke-security-group-ingress-by-name', (d) => {
      d.requestParameters = { groupName: '' };
    });
    expect(judgeEventBody(JSON.stringify(empty))).toMatchObject({ status: 'terminal', reason: 'malformed' });
  });

  it('a failed call of each new kind is ignored', () => {
    for (const name of [
      'ec2-delete-route',
      'ec2-delete-nat-gateway',
      'route53-associate-vpc-with-hosted-zone',
    ]) {
      const failed = withDetail(name, (d) => {
        d.errorCode = 'Client.UnauthorizedOperation';
        d.responseElements = null;
      });
      expect(parseEvent(failed), name).toMatchObject({ status: 'ignored', code: 'call-failed' });
    }
  });

  describe('Route 53 (received in us-east-1)', () => {
    it('an association names the VPC in the VPC’s Region, not us-east-1', () => {
      for (const [name, trigger] of [
        ['route53-associate-vpc-with-hosted-zone', 'route53:AssociateVPCWithHostedZone'],
        ['route53-disassociate-vpc-from-hosted-zone', 'route53:DisassociateVPCFromHostedZone'],
        ['route53-create-hosted-zone', 'route53:CreateHostedZone'],
      ] as const) {
        const hint = hintOf(sample(name));
        expect(hint.trigger, name).toBe(trigger);
        expect(hint.scope, name).toEqual(inRegion({ vpcIds: ['vpc-0a11110000000001'] }));
        const elsewhere = withDetail(name, (d) => {
          (d.requestParameters as { vPC: { vPCRegion: string } }).vPC.vPCRegion = 'eu-west-1';
        });
        expect(hintOf(elsewhere).scope, name).toEqual(
          inRegion({ vpcIds: ['vpc-0a11110000000001'] }, 'eu-west-1'),
        );
      }
    });

    it('a record change names only its zone: every Region the deployment reconciles', () => {
      const hint = hintOf(sample('route53-change-resource-record-sets'));
      expect(hint.trigger).toBe('route53:ChangeResourceRecordSets');
      expect(hint.scope).toEqual({ kind: 'sweep' });
      // A zone id given as its path is a zone id too.
      const path = withDetail('route53-change-resource-record-sets', (d) => {
        (d.requestParameters as Record<string, unknown>).hostedZoneId = '/hostedzone/Z0EXAMPLE1PHZ0000001';
      });
      expect(hintOf(path).scope).toEqual({ kind: 'sweep' });
      const { work } = coalesceHints([hint], ['us-east-1', 'eu-west-1']);
      expect(work.map((w) => [w.region, w.whole])).toEqual([
        ['us-east-1', true],
        ['eu-west-1', true],
      ]);
    });

    it('a public zone (no VPC) names no Region: read as a record change', () => {
      const publicZone = withDetail('route53-create-hosted-zone', (d) => {
        delete (d.requestParameters as Record<string, unknown>).vPC;
      });
      expect(hintOf(publicZone).scope).toEqual({ kind: 'sweep' });
    });

    it('names the path of a VPC member that does not fit', () => {
      expect(
        problems(
          withDetail('route53-associate-vpc-with-hosted-zone', (d) => {
            (d.requestParameters as Record<string, unknown>).vPC = { VPCId: 'vpc-0a11110000000001' };
          }),
        ),
      ).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^detail\.requestParameters\.vPC\.vPCId: /),
          expect.stringMatching(/^detail\.requestParameters\.vPC\.vPCRegion: /),
        ]),
      );
      // Another Route 53 call is one the rules do not match.
      expect(
        problems(
          withDetail('route53-change-resource-record-sets', (d) => {
            d.eventName = 'DeleteHostedZone';
          }),
        ),
      ).toEqual(['detail: route53:DeleteHostedZone is not an event the rules match']);
    });
  });

  it('coalesces the new id lists with the others; a list no hint named is absent', () => {
    const hints = [
      'ec2-delete-route',
      'ec2-delete-nat-gateway',
      'ec2-modify-network-interface-attribute',
      'ec2-revoke-security-group-ingress-by-name',
      'ec2-revoke-security-group-egress',
      'route53-associate-vpc-with-hosted-zone',
    ].map((name) => hintOf(sample(name)));
    expect(coalesceHints(hints, ['us-east-1']).work).toEqual([
      {
        region: 'us-east-1',
        whole: false,
        eventIds: hints.map((h) => h.eventId),
        targets: {
          vpcIds: ['vpc-0a11110000000001'],
          vpcEndpointIds: [],
          securityGroupIds: ['sg-0c33330000000001'],
          subnetIds: [],
          routeTableIds: ['rtb-0a77770000000001'],
          natGatewayIds: ['nat-0b88880000000001'],
          networkInterfaceIds: ['eni-0f66660000000001'],
          securityGroupNames: ['ecs-endpoints'],
        },
      },
    ]);
    const one = coalesceHints([hintOf(sample('ec2-delete-route'))], ['us-east-1']).work[0];
    expect(one?.whole === false && Object.keys(one.targets).sort()).toEqual(
      ['routeTableIds', 'securityGroupIds', 'subnetIds', 'vpcEndpointIds', 'vpcIds'].sort(),
    );
  });
});
