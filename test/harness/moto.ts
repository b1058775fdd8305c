// Starts and stops the patched moto server (test/harness/moto_server.py) on a loopback port.
// No vitest import: scripts (npm run demo) use this too.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/harness/moto.ts). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface MotoServer {
  /** e.g. http://127.0.0.1:40123 */
  endpoint: string;
  port: number;
  /** Stops the server; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Port on 127.0.0.1; 0 (the default) lets the server bind any free port and report it. */
  port?: number;
  /** How long to wait for `READY <port>`; default 60 s (the first start compiles moto's imports). */
  timeoutMs?: number;
  /** The launcher, relative to the repository root; default the harness's (bench/ has its own). */
  script?: string;
}

const STDERR_KEEP = 16_000;

/**
 * Spawns `${MOTO_PYTHON ?? '.venv/bin/python'} test/harness/moto_server.py` and waits for its
 * `READY <port>` line. The port is chosen by the server itself (bind to port 0), so there is no race
 * between picking a free port and binding it. The server exits when this process's pipe to its stdin
 * closes, so it never outlives the test run even if stop() is never called.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = path.resolve(repoRoot, process.env.MOTO_PYTHON ?? '.venv/bin/python');
  const script = path.join(repoRoot, options.script ?? 'test/harness/moto_server.py');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(python, [script, '--port', String(options.port ?? 0), '--exit-on-stdin-eof'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new Error(
          `moto server did not start (${why}): ${python} ${script}\n--- stderr ---\n${stderr || '(empty)'}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      fail(`no READY line within ${timeoutMs} ms`);
    }, timeoutMs);
    child.once('error', (err) => {
      fail(err.message);
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      fail(`exited with ${signal ?? `code ${String(code)}`}`);
    };
    child.once('exit', onExit);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^READY (\d+)$/m.exec(stdout);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        resolve(Number(match[1]));
      }
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop(): Promise<void> {
      if (stopping) return stopping;
      if (child.exitCode !== null || child.signalCode !== null) return (stopping = Promise.resolve());
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      stopping = exited.then(() => {
        clearTimeout(force);
      });
      return stopping;
    },
  };
}

/** Drops all state of every account on the server (POST /moto-api/reset). */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status} ${await res.text()}`);
}
