// `kubectl port-forward` into a lab pod through the real kube-apiserver: the API server's
// pods/portforward connects to the kubelet of the pod's node (Node InternalIP and
// daemonEndpoints.kubeletEndpoint.Port, with its kubelet client certificate), which in the lab is
// lab/go's kubelet-streaming serving Kubernetes' own port-forward protocol code, and the stream ends
// at the pod's loopback address. The smallest lab with a listening pod: one control plane whose pod
// runtime serves HTTP on each pod's address. The first run on a machine builds the binaries.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type LabControlPlane, startControlPlane } from '../../../lab/control-plane/start-control-plane.js';
import { createLabIdentities } from '../../../lab/eks/lab-identities.js';
import { runKubectl } from '../../../lab/kube/kubectl-runner.js';
import { type PodRuntime, podKey } from '../../../lab/node-agent/pod-runtime.js';
import {
  holdPort,
  PILOT_AGENT_STATUS_PORT,
  type PortGuard,
} from '../../../lab/node-agent/status-port-guard.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';

const POD_PORT = 8080;
/** A port nothing in the pod listens on: the negative control. */
const SILENT_PORT = 8081;

jest.setTimeout(120_000);

let dir: string;
let guard: PortGuard;
let controlPlane: LabControlPlane;

/** Every pod serves one HTTP answer naming itself on its own address, port POD_PORT. */
function httpPodRuntime(): PodRuntime {
  const servers = new Map<string, Server>();
  return {
    start: async (pod, address) => {
      const answer = `pod ${podKey(pod)} at ${address}\n`;
      const server = createServer((_request, response) => response.end(answer));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(POD_PORT, address, () => resolve());
      });
      servers.set(podKey(pod), server);
    },
    stop: async (key) => {
      const server = servers.get(key);
      servers.delete(key);
      server?.closeAllConnections();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-port-forward-'));
  // Pods get the lab's pod addresses, which an istio lab running meanwhile would use too.
  guard = await holdPort(PILOT_AGENT_STATUS_PORT, { waitMs: 30 * 60_000 });
  controlPlane = await startControlPlane({
    binaries: await controlPlaneBinaries(),
    dir: join(dir, 'fleet'),
    clusterNames: ['lab-1'],
    identities: createLabIdentities({ clusterNames: ['lab-1'] }),
    region: 'eu-west-1',
    podRuntime: async () => httpPodRuntime(),
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'lab/web:1' }] },
  };
  await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
  await kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
}, 60 * 60_000);

afterAll(async () => {
  await controlPlane?.stop();
  await guard?.release();
  await rm(dir, { recursive: true, force: true });
});

function lab1() {
  const [cluster] = controlPlane.clusters;
  if (!cluster) throw new Error('no cluster');
  return cluster;
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await runKubectl(args, {
    kubeconfig: lab1().adminKubeconfig,
    cacheDir: join(dir, 'kube-cache'),
    input,
    timeoutMs: 90_000,
  });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

interface PortForward {
  readonly child: ChildProcess;
  readonly localPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** The real `kubectl port-forward pod/web :<port>`, once it says where it listens. */
async function portForward(podPort: number): Promise<PortForward> {
  const child = spawn(
    'kubectl',
    [
      '--kubeconfig',
      lab1().adminKubeconfig,
      '--cache-dir',
      join(dir, 'kube-cache'),
      'port-forward',
      '--address',
      '127.0.0.1',
      'pod/web',
      `:${podPort}`,
    ],
    { env: { ...process.env, KUBECONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const localPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl port-forward said nothing: ${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ended (${code}): ${stderr}`));
    });
  });
  return {
    child,
    localPort,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('kubectl port-forward into a lab pod, through the real kube-apiserver', () => {
  it("publishes the node's kubelet streaming port on the Node, as a kubelet does", async () => {
    // Act
    const port = await kubectl([
      'get',
      'node',
      'lab-1-node',
      '-o',
      'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}',
    ]);

    // Assess
    expect(Number(port)).toBeGreaterThan(0);
  });

  it("reaches the pod's port and reads what the pod serves", async () => {
    // Prepare
    const podIp = await kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}']);
    const forward = await portForward(POD_PORT);

    try {
      // Act
      const answer = await (await fetch(`http://127.0.0.1:${forward.localPort}/`)).text();

      // Assess: the pod answered from its loopback address, which stands for its podIP 10.x.
      expect(podIp).toMatch(/^10\.101\./);
      expect(answer).toBe(`pod default/web at ${podIp.replace(/^10\./, '127.')}\n`);
      const log = await readFile(join(lab1().dir, 'kubelet-streaming.log'), 'utf8');
      expect(log).toContain('port-forward to default/web');
    } finally {
      await forward.stop();
    }
  });

  it('fails a connection to a port nobody in the pod listens on (negative control)', async () => {
    // Prepare
    const forward = await portForward(SILENT_PORT);

    try {
      // Act
      const outcome = await fetch(`http://127.0.0.1:${forward.localPort}/`).then(
        (response) => `answered ${response.status}`,
        (error: unknown) => `failed: ${String(error)}`,
      );

      // Assess
      expect(outcome).toMatch(/^failed/);
      await waitFor(() => /connection refused/.test(forward.stderr()));
      expect(forward.stderr()).toContain(`${SILENT_PORT}`);
    } finally {
      await forward.stop();
    }
  });

  it('refuses a client without a certificate of the cluster client CA', async () => {
    // Prepare
    const port = Number(
      await kubectl([
        'get',
        'node',
        'lab-1-node',
        '-o',
        'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}',
      ]),
    );
    const address = await kubectl([
      'get',
      'node',
      'lab-1-node',
      '-o',
      'jsonpath={.status.addresses[0].address}',
    ]);

    // Act
    const outcome = await new Promise<string>((resolve) => {
      const request = httpsRequest(
        { host: address, port, path: '/portForward/default/web', ca: lab1().caPem, method: 'GET' },
        (response) => resolve(`answered ${response.statusCode}`),
      );
      request.on('error', (error) => resolve(`failed: ${error.message}`));
      request.end();
    });

    // Assess
    expect(address).toMatch(/^127\./);
    expect(outcome).toMatch(/^failed: .*certificate/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
