// Starts moto_server, the AWS API emulator, for the lab (`meshtrust lab`) and the integration tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './control-plane/free-port.js';
import { guardProcessGroup } from './process-group-guard.js';

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly pid: number;
  /** Stops the server and everything it started (its process group). */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
/**
 * Ports tried before giving up. A free port is found by binding it and letting it go, so another
 * process can take it before moto_server binds it (two test lanes starting servers at once did).
 */
const PORT_ATTEMPTS = 3;

/** moto_server could not be started: missing, crashed, or never answered. */
export class MotoServerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MotoServerError';
  }
}

/** moto_server exited because its port was taken: another port may do. */
class MotoPortTakenError extends MotoServerError {}

export interface MotoServerOptions {
  /** Where the server listens, asked again when a port was taken meanwhile; default: a free port. */
  readonly choosePort?: () => Promise<number>;
}

/**
 * Starts `moto_server` (AWS API emulator) on 127.0.0.1 and a free port and waits until it answers;
 * when another process took that port first, on another (PORT_ATTEMPTS in all).
 * It runs in its own process group (the moto_server on PATH may be a shim that starts python), so
 * stop() ends the whole group; a terminal's Ctrl-C does not reach it, so its owner decides when it
 * stops. A guard kills the group if this process ends without stop(), even by SIGKILL.
 */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const choosePort = options.choosePort ?? (() => freePort('127.0.0.1'));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOn(await choosePort());
    } catch (error) {
      if (!(error instanceof MotoPortTakenError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function startOn(port: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const guard = child.pid === undefined ? undefined : guardProcessGroup(child.pid);
  let stderr = '';
  // Its own announcement that it listens: another server on a taken port could answer the endpoint.
  let announced = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    announced ||= stderr.includes(`Running on ${endpoint}`);
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
    // 'close', not 'exit': after stderr has ended, so the message holds all moto_server said.
    child.once('close', (code, signal) => {
      const message = `moto_server exited before it was ready (code ${code}, signal ${signal}): ${stderr}`;
      reject(
        /address already in use|is in use by another program/i.test(stderr)
          ? new MotoPortTakenError(message)
          : new MotoServerError(message),
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
  const polling = new AbortController();
  try {
    await Promise.race([waitUntilAnswering(endpoint, () => announced, polling.signal), spawnFailure]);
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    polling.abort();
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

/** Until this moto_server has said it listens and the endpoint answers; stops polling when aborted. */
async function waitUntilAnswering(
  endpoint: string,
  announced: () => boolean,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !signal.aborted) {
    if (announced() && (await answers(`${endpoint}/moto-api/`))) return;
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
