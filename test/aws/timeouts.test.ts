// Timeouts and heartbeats: an endpoint that accepts connections and never answers (what a private
// subnet without some VPC endpoints looks like) fails in seconds, naming the service and the endpoint;
// long restart waits report their progress.
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTagsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { ListClustersCommand } from '@aws-sdk/client-ecs';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { createClients, requestHandlerOptions } from '../../aws/clients.ts';
import { applyAccountPlan, createClientPool, planAccount } from '../../aws/reconcile.ts';
import { DEFAULT_TIMEOUTS, EndpointTimeoutError, TIMEOUT_ATTEMPTS } from '../../aws/timeouts.ts';
import { ConfigError, defaultConfig, parseConfig } from '../../core/config.ts';
import { newAccount } from '../harness/aws.ts';
import { addContainerInstance, createCluster, createNetwork } from '../harness/seed.ts';
import { runCli } from '../cli/cli-harness.ts';

interface SilentServer {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
  readonly close: () => Promise<void>;
}

/** A TCP server on 127.0.0.1 that accepts every connection and never answers. */
async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}

const opened: SilentServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((server) => server.close()));
});

async function silent(): Promise<SilentServer> {
  const server = await silentServer();
  opened.push(server);
  return server;
}

const credentials = { accessKeyId: 'AKIDTIMEOUTTEST', secretAccessKey: 'secret' };

describe('connection and request timeouts', () => {
  it('the defaults are the config defaults, and the handler throws on its request timeout', () => {
    expect(DEFAULT_TIMEOUTS).toEqual(defaultConfig.timeouts);
    expect(DEFAULT_TIMEOUTS).toEqual({ connectSeconds: 5, requestSeconds: 10 });
    expect(requestHandlerOptions()).toEqual({
      connectionTimeout: 5000,
      requestTimeout: 10_000,
      throwOnRequestTimeout: true,
      socketTimeout: 10_000,
    });
    // Retries of a silent endpoint stay under 30 s with the defaults.
    expect(TIMEOUT_ATTEMPTS * DEFAULT_TIMEOUTS.requestSeconds).toBeLessThan(30);
  });

  it('the config section is validated like the others', () => {
    expect(parseConfig({ timeouts: { requestSeconds: 60 } }).timeouts).toEqual({
      connectSeconds: 5,
      requestSeconds: 60,
    });
    const problems = (input: unknown): string => {
      try {
        parseConfig(input);
        return '';
      } catch (error) {
        return error instanceof ConfigError ? error.problems.join('\n') : String(error);
      }
    };
    expect(problems({ timeouts: { connectSeconds: 0 } })).toMatch(/^timeouts\.connectSeconds: Too small/);
    expect(problems({ timeouts: { requestSeconds: 301 } })).toMatch(/^timeouts\.requestSeconds: Too big/);
    expect(problems({ timeouts: { requestSeconds: 2.5 } })).toMatch(/^timeouts\.requestSeconds: /);
    expect(problems({ timeouts: { readSeconds: 5 } })).toContain('readSeconds');
  });

  it('every client made by createClients carries the timeouts and names its endpoint when they fire', async () => {
    const { url } = await silent();
    const timeouts = { connectSeconds: 1, requestSeconds: 1 };
    const clients = createClients('us-east-1', { endpoint: url, credentials, timeouts });
    const sends: Record<string, Promise<unknown>> = {
      ec2: clients.ec2.send(new DescribeVpcsCommand({})),
      ecs: clients.ecs.send(new ListClustersCommand({})),
      ssm: clients.ssm.send(new DescribeInstanceInformationCommand({})),
      route53: clients.route53.send(new ListHostedZonesCommand({})),
      iam: clients.iam.send(new ListRolesCommand({})),
      route53resolver: clients.resolver.send('ListResolverRules', {}),
    };
    const settled = await Promise.allSettled(Object.values(sends));
    Object.keys(sends).forEach((service, index) => {
      const outcome = settled[index];
      expect(outcome?.status, service).toBe('rejected');
      const error: unknown = outcome?.status === 'rejected' ? outcome.reason : undefined;
      expect(error, service).toBeInstanceOf(EndpointTimeoutError);
      expect(error, service).toMatchObject({
        name: 'TimeoutError',
        service,
        region: 'us-east-1',
        endpoint: url,
        timeout: 'request',
        seconds: 1,
        attempts: TIMEOUT_ATTEMPTS,
      });
      expect((error as Error).message).toBe(
        `${service}.us-east-1: no answer from ${url} within 1 s (request timeout, 2 attempts); ` +
          `a private subnet without the ${service} endpoint or egress?`,
      );
    });
    // Two attempts each, Route 53's ten-attempt adaptive retries included.
    expect(clients.calls.snapshot().byService).toEqual({
      ec2: 2,
      ecs: 2,
      ssm: 2,
      route53: 2,
      iam: 2,
      route53resolver: 2,
    });
    for (const client of [clients.ec2, clients.ecs, clients.ssm, clients.route53, clients.iam]) {
      const handler: unknown = client.config.requestHandler;
      expect(handler).toBeInstanceOf(NodeHttpHandler);
      expect((handler as NodeHttpHandler).httpHandlerConfigs()).toMatchObject({
        connectionTimeout: 1000,
        requestTimeout: 1000,
        throwOnRequestTimeout: true,
        socketTimeout: 1000,
      });
    }
  });

  it('plan against an endpoint that never answers exits 1 in seconds, naming the timeout and the endpoint', async () => {
    const { url, connections } = await silent();
    const home = await mkdtemp(path.join(tmpdir(), 'eer-home-'));
    const run = await runCli(['plan', '--region', 'us-east-1'], {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_ENDPOINT_URL: url,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(connections()).toBeGreaterThan(0);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: us-east-1: \\w+:\\w+ failed: TimeoutError: \\w+\\.us-east-1: no answer from ${url.replaceAll('.', '\\.')} ` +
          `within 10 s \\(request timeout, 2 attempts\\); a private subnet without the \\w+ endpoint or egress\\?$`,
        'm',
      ),
    );
    // The CLI's heartbeat while discovery waits (10 s without a progress line).
    expect(run.stderr).toMatch(/^… still running \(\d+ s\)/m);
  }, 60_000);
});

describe('heartbeats of long restart waits', () => {
  it('an agent that does not reconnect: its wait reports the elapsed time while it lasts', async () => {
    const acct = newAccount();
    const network = await createNetwork(acct, { cidr: '10.31.0.0/16', azs: ['a'] });
    const cluster = await createCluster(acct, 'silent-agent');
    const instance = await addContainerInstance(acct, { cluster, subnetId: network.subnetIds[0] ?? '' });
    await acct.ec2.send(
      new CreateTagsCommand({
        Resources: [instance.instanceId],
        Tags: [{ Key: 'eer-test:reconnect', Value: 'false' }],
      }),
    );
    // Longer than one heartbeat (10 s): the reconnect wait reports at least once.
    const config = parseConfig({ agentRestart: { waitSeconds: 2, verifySeconds: 15 } });
    const pool = createClientPool({ endpoint: acct.endpoint, credentials: acct.credentials });
    const plan = await planAccount({ regions: [acct.region], config, pool });
    const lines: string[] = [];
    const results = await applyAccountPlan(plan, pool, (line) => lines.push(line), config);

    const restart = results.find((r) => r.kind === 'RESTART_AGENT');
    expect(restart?.outcome).toBe('failed');
    expect(restart?.instances?.[0]?.message).toMatch(/did not reconnect/);
    const heartbeats = lines.filter((line) =>
      /^waiting for 1 ECS agent\(s\) to reconnect \(wave 1\/1 of RESTART_AGENT\/us-east-1\/vpc-[0-9a-f]+\/silent-agent\): \d+ s of 15 s$/.test(
        line,
      ),
    );
    expect(heartbeats.length, lines.join('\n')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
