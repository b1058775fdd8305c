// Agent restarts after ECS endpoint changes, through the real SDK against moto extended with SSM Run
// Command (test/harness/moto_ssm.py: instances are steered by eer-test:* tags on their EC2 instance).
// These run without a deployed stack, as the CLI does in an account without one: the AWS shell
// documents, no claims table. test/aws/restart-once.test.ts covers the stack's document and claims.
import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { Command } from '@aws-sdk/client-ssm';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../../schema/plan-output.schema.json' with { type: 'json' };
import type { RestartAgentAction } from '../../core/actions.ts';
import type { Config } from '../../core/config.ts';
import { parseConfig } from '../../core/config.ts';
import type { Plan } from '../../core/plan.ts';
import { toReport } from '../../core/report.ts';
import { RESTARTED_AT_ATTRIBUTE } from '../../core/restarts.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../../aws/reconcile.ts';
import type { Account } from '../harness/aws.ts';
import { newAccount } from '../harness/aws.ts';
import type { AddContainerInstanceOptions } from '../harness/seed.ts';
import {
  addContainerInstance,
  createCluster,
  createEndpoint,
  createNetwork,
  createSecurityGroup,
} from '../harness/seed.ts';

const fast = (agentRestart: Record<string, unknown> = {}): Config =>
  parseConfig({ agentRestart: { waitSeconds: 2, verifySeconds: 1, ...agentRestart } });

const poolFor = (acct: Account) =>
  createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });

function plan(acct: Account, config: Config): Promise<Plan> {
  return planAccount({ regions: [acct.region], config, pool: poolFor(acct) });
}

async function apply(acct: Account, config: Config, only?: (kind: string) => boolean) {
  const pool = poolFor(acct);
  const made = await planAccount({ regions: [acct.region], config, pool });
  const selected = only ? { ...made, actions: made.actions.filter((action) => only(action.kind)) } : made;
  return { plan: made, results: await applyAccountPlan(selected, pool, undefined, config) };
}

async function commands(acct: Account): Promise<Command[]> {
  const listed = (await acct.ssm.send(new ListCommandsCommand({}))).Commands ?? [];
  return [...listed].sort(
    (a, b) => (a.RequestedDateTime?.getTime() ?? 0) - (b.RequestedDateTime?.getTime() ?? 0),
  );
}

async function tag(acct: Account, instanceId: string, tags: Record<string, string>): Promise<void> {
  await acct.ec2.send(
    new CreateTagsCommand({
      Resources: [instanceId],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

/** A cluster of `count` container instances in one private subnet; ids sorted (the rollout order in one AZ). */
async function fleet(
  acct: Account,
  name: string,
  subnetId: string,
  count: number,
  options: Partial<AddContainerInstanceOptions> = {},
) {
  const cluster = await createCluster(acct, name);
  const instances = [];
  for (let index = 0; index < count; index += 1)
    instances.push(await addContainerInstance(acct, { cluster, subnetId, ...options }));
  return { cluster, instances: instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId)) };
}

async function restartedAt(acct: Account, cluster: string, arns: string[]): Promise<(string | undefined)[]> {
  const out = await acct.ecs.send(
    new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }),
  );
  return arns.map(
    (arn) =>
      out.containerInstances
        ?.find((ci) => ci.containerInstanceArn === arn)
        ?.attributes?.find((attribute) => attribute.name === RESTARTED_AT_ATTRIBUTE)?.value,
  );
}

describe('agent restarts after the ECS endpoints are created', () => {
  it('restarts exactly the instances of the VPCs whose ECS endpoints it created, in waves, and no others', async () => {
    const acct = newAccount();
    const changed = await createNetwork(acct, { cidr: '10.20.0.0/16', azs: ['a'] });
    const alpha = await fleet(acct, 'alpha', changed.subnetIds[0] ?? '', 5);
    // A VPC whose ECS endpoints are already right (NAT egress, so it needs only the ECS three).
    const settled = await createNetwork(acct, { cidr: '10.21.0.0/16', azs: ['a'], egress: 'nat' });
    const open = await createSecurityGroup(acct, {
      vpcId: settled.vpcId,
      name: 'open',
      ingress: [{ port: 443, cidr: '10.21.0.0/16' }],
    });
    for (const service of ['ecs-agent', 'ecs-telemetry', 'ecs']) {
      await createEndpoint(acct, {
        vpcId: settled.vpcId,
        service,
        subnetIds: settled.subnetIds,
        securityGroupIds: [open],
      });
    }
    const beta = await fleet(acct, 'beta', settled.subnetIds[0] ?? '', 2);

    const config = fast({ waveSize: 2, wavePercent: 100 });
    const { plan: made, results } = await apply(acct, config);

    const restart = made.actions.find(
      (action): action is RestartAgentAction & { accountId: string; status: 'planned' } => action.kind === 'RESTART_AGENT',
    );
    expect(restart?.vpcId).toBe(changed.vpcId);
    // It waits for the ECS endpoints and for the Run Command endpoints made in the same run.
    const waitsFor = restart?.dependsOn ?? [];
    expect(waitsFor.some((id) => /CREATE_ENDPOINT\/.*\/ecs-agent$/.test(id))).toBe(true);
    expect(waitsFor.some((id) => /CREATE_ENDPOINT\/.*\/ssm$/.test(id))).toBe(true);
    expect(
      made.findings
        .filter((f) => f.code === 'AGENT_RESTART_REQUIRED')
        .map((f) => f.resourceId)
        .sort(),
    ).toEqual(alpha.instances.map((i) => i.instanceId));
    const result = results.find((r) => r.kind === 'RESTART_AGENT');
    expect(result?.outcome).toBe('succeeded');
    // The JSON report of this apply, restarts and per-instance outcomes included, keeps the schema.
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const report = toReport('apply', made, { total: 0, byService: {}, byOperation: {} }, results);
    expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
    expect(result?.instances?.every((i) => i.outcome === 'restarted')).toBe(true);

    const sent = await commands(acct);
    const ids = alpha.instances.map((i) => i.instanceId);
    expect(sent.map((c) => [...(c.InstanceIds ?? [])].sort())).toEqual([
      ids.slice(0, 2),
      ids.slice(2, 4),
      ids.slice(4),
    ]);
    for (const command of sent) {
      expect(command.DocumentName).toBe('AWS-RunShellScript');
      expect(command.Parameters?.commands).toEqual(['systemctl restart ecs']);
      expect(command.Comment).toContain(changed.vpcId);
      expect(command.Comment?.length).toBeLessThanOrEqual(100);
    }
    const targeted = sent.flatMap((c) => c.InstanceIds ?? []);
    for (const untouched of beta.instances) expect(targeted).not.toContain(untouched.instanceId);
    expect(
      (
        await restartedAt(
          acct,
          alpha.cluster,
          alpha.instances.map((i) => i.containerInstanceArn),
        )
      ).every(Boolean),
    ).toBe(true);

    // A second apply restarts nothing.
    const again = await apply(acct, config);
    expect(again.plan.actions).toEqual([]);
    expect(again.plan.findings.filter((f) => f.code === 'AGENT_RESTART_REQUIRED')).toEqual([]);
    expect(await commands(acct)).toHaveLength(3);
  });

  it('chooses the method per platform and reports Bottlerocket and unknown platforms instead of guessing', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.22.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 'mixed');
    const subnetId = network.subnetIds[0] ?? '';
    const windows = await addContainerInstance(acct, { cluster, subnetId, osType: 'windows' });
    const ubuntu = await addContainerInstance(acct, { cluster, subnetId });
    await tag(acct, ubuntu.instanceId, {
      'eer-test:platform-name': 'Ubuntu',
      'eer-test:platform-version': '22.04',
    });
    const bottlerocket = await addContainerInstance(acct, { cluster, subnetId });
    await tag(acct, bottlerocket.instanceId, {
      'eer-test:platform-name': 'Bottlerocket',
      'eer-test:platform-version': '1.20.0',
    });
    const mystery = await addContainerInstance(acct, { cluster, subnetId });
    await tag(acct, mystery.instanceId, { 'eer-test:platform-name': 'Plan 9' });

    const { plan: made, results } = await apply(acct, fast({ waveSize: 10, wavePercent: 100 }));
    const status = (id: string) =>
      made.findings.find((f) => f.code === 'AGENT_RESTART_REQUIRED' && f.resourceId === id)?.remediation;
    expect(status(bottlerocket.instanceId)?.status).toBe('manual');
    expect(status(bottlerocket.instanceId)?.reason).toMatch(/Bottlerocket/);
    expect(status(mystery.instanceId)?.status).toBe('manual');
    expect(status(mystery.instanceId)?.reason).toMatch(/unknown platform/);
    const restart = made.actions.find(
      (a): a is RestartAgentAction & { accountId: string; status: 'planned' } => a.kind === 'RESTART_AGENT',
    );
    expect(restart?.instances.map((i) => [i.ec2InstanceId, i.method]).sort()).toEqual(
      [
        [windows.instanceId, 'powershell'],
        [ubuntu.instanceId, 'docker'],
      ].sort(),
    );
    expect(results.find((r) => r.kind === 'RESTART_AGENT')?.outcome).toBe('succeeded');
    const sent = await commands(acct);
    const byDocument = new Map(sent.map((c) => [c.DocumentName ?? '', c]));
    expect(byDocument.get('AWS-RunPowerShellScript')?.InstanceIds).toEqual([windows.instanceId]);
    expect(byDocument.get('AWS-RunPowerShellScript')?.Parameters?.commands).toEqual([
      'Restart-Service AmazonECS',
    ]);
    expect(byDocument.get('AWS-RunShellScript')?.InstanceIds).toEqual([ubuntu.instanceId]);
    expect(byDocument.get('AWS-RunShellScript')?.Parameters?.commands).toEqual([
      'docker stop ecs-agent',
      'docker start ecs-agent',
    ]);
  });

  it('reports an instance SSM cannot reach as SSM_UNREACHABLE, never a silent skip', async () => {
    const acct = newAccount();
    // NAT egress: no Run Command endpoints are created, so an unmanaged instance stays unreachable.
    const network = await createNetwork(acct, { cidr: '10.23.0.0/16', azs: ['a'], egress: 'nat' });
    const { instances } = await fleet(acct, 'c', network.subnetIds[0] ?? '', 2);
    const [reachable, lost] = instances;
    if (!reachable || !lost) throw new Error('two instances expected');
    await tag(acct, lost.instanceId, { 'eer-test:ssm': 'unmanaged' });

    const { plan: made, results } = await apply(acct, fast());
    const unreachable = made.findings.find((f) => f.code === 'SSM_UNREACHABLE');
    expect(unreachable).toMatchObject({ resourceId: lost.instanceId, remediation: { status: 'manual' } });
    expect(unreachable?.message).toContain('not managed by SSM');
    expect(
      made.findings.find((f) => f.code === 'AGENT_RESTART_REQUIRED' && f.resourceId === lost.instanceId)
        ?.remediation.status,
    ).toBe('blocked');
    expect(results.find((r) => r.kind === 'RESTART_AGENT')?.instances?.map((i) => i.ec2InstanceId)).toEqual([
      reachable.instanceId,
    ]);
    // The obligation stays visible until the instance is reachable and restarted.
    expect((await plan(acct, fast())).findings.map((f) => [f.code, f.resourceId])).toEqual([
      ['SSM_UNREACHABLE', lost.instanceId],
      ['AGENT_RESTART_REQUIRED', lost.instanceId],
    ]);
  });

  it('stops the rollout at the first failed wave; the next run restarts only what is still owed', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.24.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'rolling', network.subnetIds[0] ?? '', 4);
    const second = instances[1]?.instanceId ?? '';
    await tag(acct, second, { 'eer-test:command': 'fail' });

    const { results } = await apply(acct, fast({ waveSize: 1 }));
    const restart = results.find((r) => r.kind === 'RESTART_AGENT');
    expect(restart?.outcome).toBe('failed');
    expect(restart?.instances?.map((i) => i.outcome)).toEqual(['restarted', 'failed', 'skipped', 'skipped']);
    expect(restart?.instances?.[1]?.message).toMatch(/Failed: .*simulated failure/);
    expect(restart?.instances?.[2]?.message).toMatch(/rollout halted/);
    expect(await commands(acct)).toHaveLength(2);

    await acct.ec2.send(new DeleteTagsCommand({ Resources: [second], Tags: [{ Key: 'eer-test:command' }] }));
    const next = await apply(acct, fast({ waveSize: 1 }));
    const owed = next.plan.actions.find(
      (a): a is RestartAgentAction & { accountId: string; status: 'planned' } => a.kind === 'RESTART_AGENT',
    );
    expect(owed?.instances.map((i) => i.ec2InstanceId)).toEqual(instances.slice(1).map((i) => i.instanceId));
    expect(owed?.refreshCutoff).toBe(false);
    expect(next.results.find((r) => r.kind === 'RESTART_AGENT')?.outcome).toBe('succeeded');
  });

  it('recovers a crash between endpoint creation and restart on the next run; new instances owe nothing', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.25.0.0/16', azs: ['a'] });
    const { cluster, instances } = await fleet(acct, 'crashy', network.subnetIds[0] ?? '', 2);
    // The run dies after creating the endpoints, before restarting anything.
    await apply(acct, fast(), (kind) => kind !== 'RESTART_AGENT');
    expect(await commands(acct)).toEqual([]);
    // An instance that joins after the endpoints exist already uses them.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' });

    const { plan: made, results } = await apply(acct, fast());
    expect(
      made.findings
        .filter((f) => f.code === 'AGENT_RESTART_REQUIRED')
        .map((f) => f.resourceId)
        .sort(),
    ).toEqual(instances.map((i) => i.instanceId));
    expect(results.find((r) => r.kind === 'RESTART_AGENT')?.outcome).toBe('succeeded');
    expect((await commands(acct)).flatMap((c) => c.InstanceIds ?? [])).not.toContain(late.instanceId);
  });

  it('fails an instance whose agent does not reconnect after the restart', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.26.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'flaky', network.subnetIds[0] ?? '', 1);
    await tag(acct, instances[0]?.instanceId ?? '', { 'eer-test:reconnect': 'false' });
    const { results } = await apply(acct, fast());
    const restart = results.find((r) => r.kind === 'RESTART_AGENT');
    expect(restart?.outcome).toBe('failed');
    expect(restart?.instances?.[0]?.message).toMatch(/did not reconnect/);
  });

  it('caps restarts per run and leaves the rest to the next run', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.27.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'capped', network.subnetIds[0] ?? '', 3);
    const config = fast({ maxRestartsPerRun: 2, wavePercent: 100 });
    const first = await apply(acct, config);
    expect(first.results.find((r) => r.kind === 'RESTART_AGENT')?.instances?.map((i) => i.outcome)).toEqual([
      'restarted',
      'restarted',
      'skipped',
    ]);
    const second = await apply(acct, config);
    const rest = second.results.find((r) => r.kind === 'RESTART_AGENT')?.instances ?? [];
    expect(rest.map((i) => [i.ec2InstanceId, i.outcome])).toEqual([[instances[2]?.instanceId, 'restarted']]);
  });

  it('updates outdated agents only when enabled, through UpdateContainerAgent', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.28.0.0/16', azs: ['a'] });
    const { instances } = await fleet(acct, 'old', network.subnetIds[0] ?? '', 1, { agentVersion: '1.20.0' });
    const byDefault = await plan(acct, fast());
    expect(byDefault.findings.find((f) => f.code === 'AGENT_OUTDATED')?.remediation.status).toBe('disabled');
    const { results } = await apply(acct, fast({ updateOutdatedAgents: true }));
    expect(results.find((r) => r.kind === 'UPDATE_AGENT')).toMatchObject({
      outcome: 'succeeded',
      resourceId: instances[0]?.instanceId,
      message: 'agent update PENDING',
    });
  });
});
