// pilot-agent's status server listens on ":15020", every interface of the machine (pilot-agent
// status/server.go), and nothing configures it onto one address; a value of 0 is refused. The lab
// shares one network namespace between its pods and keeps every server on loopback, so it holds the
// port itself: one socket bound to [::]:15020 (both IPv4 and IPv6), never listening, without
// SO_REUSEADDR. Every agent's listen then fails with "address already in use", which pilot-agent
// logs and lives with (the status server only answers kubelet probes and Envoy stats, and the lab has
// neither). A bound socket that does not listen accepts no connection: it is no server.
// Node cannot bind without listening, so a small Python process holds the socket until the lab ends
// (its stdin closes when the lab's process dies, however it dies).
import { type ChildProcess, spawn } from 'node:child_process';
import { LabError } from '../lab-errors.js';

export const PILOT_AGENT_STATUS_PORT = 15020;

const HOLDER = `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
try:
    s.bind(("::", int(sys.argv[1])))
except OSError as error:
    print("busy", error, flush=True)
    sys.exit(3)
print("held", flush=True)
sys.stdin.read()
`;

export interface PortGuard {
  release(): Promise<void>;
}

/**
 * Holds `port`; if another process holds it (another istio lab), tries again every second for up to
 * `waitMs`, telling `onWait` once, then gives up with a LabError that says so.
 */
export async function holdPort(
  port: number = PILOT_AGENT_STATUS_PORT,
  options: { readonly waitMs?: number; readonly onWait?: (message: string) => void } = {},
): Promise<PortGuard> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let told = false;
  for (;;) {
    try {
      return await tryHoldPort(port);
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      if (!told) options.onWait?.(`waiting for port ${port}: ${(error as Error).message}`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function tryHoldPort(port: number): Promise<PortGuard> {
  const child: ChildProcess = spawn('python3', ['-c', HOLDER, String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) resolve(text.trim());
    });
    child.once('error', (error) => resolve(`error ${error.message}`));
    child.once('exit', (code) => resolve(text.trim() || `exit ${code}`));
  });
  if (answer !== 'held') {
    child.kill();
    throw new LabError(
      `the istio lab engine needs port ${port} for itself (pilot-agent's status server would otherwise listen on ` +
        `every interface), but cannot hold it: ${answer}. Another istio lab is probably running on this machine; ` +
        `stop it (or wait for it to end) and try again.`,
    );
  }
  return {
    release: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
      }),
  };
}
