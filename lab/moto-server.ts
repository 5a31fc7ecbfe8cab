// Starts moto_server, the AWS API emulator, for the lab (`meshtrust lab`) and the integration tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardProcessGroup } from './process-group-guard.js';

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly pid: number;
  /** Stops the server and everything it started (its process group). */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/** moto_server could not be started: missing, crashed, or never answered. */
export class MotoServerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MotoServerError';
  }
}

/**
 * Starts `moto_server` (AWS API emulator) on 127.0.0.1 and a free port and waits until it answers.
 * It runs in its own process group (the moto_server on PATH may be a shim that starts python), so
 * stop() ends the whole group; a terminal's Ctrl-C does not reach it, so its owner decides when it
 * stops. A guard kills the group if this process ends without stop(), even by SIGKILL.
 */
export async function startMotoServer(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const guard = child.pid === undefined ? undefined : guardProcessGroup(child.pid);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const spawnFailure = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new MotoServerError(
              'moto_server is not on PATH. Install moto[server] (pip install "moto[server]"): the lab and the ' +
                'integration tests use it to emulate Secrets Manager and KMS.',
            )
          : error,
      );
    });
    child.once('exit', (code, signal) => {
      reject(
        new MotoServerError(
          `moto_server exited before it was ready (code ${code}, signal ${signal}): ${stderr}`,
        ),
      );
    });
  });
  // Rejects again when the server stops later; that rejection is expected, not unhandled.
  spawnFailure.catch(() => undefined);
  const server: MotoServer = {
    endpoint,
    pid: child.pid ?? -1,
    stop: async () => {
      await stopProcessGroup(child);
      guard?.release();
    },
  };
  try {
    await Promise.race([waitUntilAnswering(endpoint), spawnFailure]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return server;
}

/** Kills the group synchronously; for process exit handlers, where nothing async runs. */
export function killMotoServerNow(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function waitUntilAnswering(endpoint: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answers(`${endpoint}/moto-api/`)) return;
    await sleep(100);
  }
  throw new MotoServerError(`moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s`);
}

// node:http without an agent rather than fetch: fetch keeps the connection alive in a pool that
// holds jest's process open for seconds after the server is gone.
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const stopped = await Promise.race([
    exited.then(() => true),
    sleep(5000, undefined, { ref: false }).then(() => false),
  ]);
  if (!stopped) {
    killMotoServerNow(child.pid);
    await exited;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new MotoServerError('could not find a free port'));
      });
    });
  });
}
