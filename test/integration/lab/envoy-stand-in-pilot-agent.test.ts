// The premise of the Envoy stand-in, checked on the real pilot-agent the lab builds (lab/go pins its
// version): with DISABLE_ENVOY=true the agent opens no stream to istiod until an xDS client connects
// to its socket; once the stand-in does, the agent forwards its LDS request (with the node from the
// agent's own gRPC bootstrap), adds its PCDS request, forwards LDS responses to the stand-in and the
// stand-in's ACKs back, and takes a ProxyConfig push as a new trust bundle. istiod is a fake here
// (test/support/fake-ads-server.ts, plaintext: the agent runs with controlPlaneAuthPolicy NONE).
//
// The agent's CA is unreachable on purpose (CA_ADDR 127.0.0.1:1): no istiod is needed, but the agent
// then retries its certificate forever. With DISABLE_ENVOY its PCDS handler waits for that
// certificate (UpdateConfigTrustBundle -> OnSecretUpdate -> getWorkloadCerts), so the PCDS push is the
// last thing this test sends, and its effect is read from the agent's debug log.
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import {
  type EnvoyStandIn,
  LISTENER_TYPE_URL,
  PROXY_CONFIG_TYPE_URL,
  readGrpcBootstrapNode,
  startEnvoyStandIn,
} from '../../../lab/node-agent/envoy-stand-in.js';
import { type FakeAdsServer, startFakeAdsServer } from '../../support/fake-ads-server.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';
import { makeTestCa } from '../../support/test-ca.js';
import { referenceEncodeProxyConfig } from '../../support/xds-descriptor.js';

// The first run on a machine builds Kubernetes, etcd and Istio (tens of minutes on 2 cores).
jest.setTimeout(60_000);

const BOOTSTRAP = './etc/istio/proxy/grpc-bootstrap.json';
const NODE_ID = 'sidecar~127.0.0.2~app-01-7d9f-x2k.shop~shop.svc.cluster.local';

let podRoot: string;
let istiod: FakeAdsServer;
let agent: ChildProcess;
let agentLog = '';
let standIn: EnvoyStandIn | undefined;

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; agent log tail:\n${agentLog.slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  const binaries = await controlPlaneBinaries();
  podRoot = await mkdtemp(join(tmpdir(), 'meshtrust-standin-agent-'));
  // The agent refuses to start without the root it would use to reach the CA.
  await mkdir(join(podRoot, 'var/run/secrets/istio'), { recursive: true });
  await writeFile(
    join(podRoot, 'var/run/secrets/istio/root-cert.pem'),
    (await makeTestCa('stand-in test root')).certificatePem,
  );
  istiod = await startFakeAdsServer('127.0.0.1:0');
  agent = spawn(
    binaries.path('pilot-agent'),
    ['proxy', 'sidecar', '--log_output_level', 'xdsproxy:debug,cache:debug'],
    {
      cwd: podRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: podRoot,
        DISABLE_ENVOY: 'true',
        PROXY_CONFIG_XDS_AGENT: 'true',
        GRPC_XDS_BOOTSTRAP: BOOTSTRAP,
        OUTPUT_CERTS: './etc/istio/proxy',
        POD_NAME: 'app-01-7d9f-x2k',
        POD_NAMESPACE: 'shop',
        INSTANCE_IP: '127.0.0.2',
        SERVICE_ACCOUNT: 'app-01',
        CA_ADDR: '127.0.0.1:1',
        PROXY_CONFIG: JSON.stringify({
          discoveryAddress: `127.0.0.1:${istiod.port}`,
          controlPlaneAuthPolicy: 'NONE',
        }),
      },
    },
  );
  const collect = (chunk: Buffer) => {
    agentLog = (agentLog + chunk.toString()).slice(-200_000);
  };
  agent.stdout?.on('data', collect);
  agent.stderr?.on('data', collect);
  // The agent writes the bootstrap right after it starts listening on its XDS socket.
  const bootstrap = join(podRoot, BOOTSTRAP);
  const deadline = Date.now() + 20_000;
  while (!(await exists(bootstrap))) {
    if (agent.exitCode !== null || Date.now() > deadline) {
      throw new Error(`pilot-agent wrote no ${BOOTSTRAP}; log tail:\n${agentLog.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 60 * 60_000);

afterAll(async () => {
  await standIn?.stop();
  if (agent !== undefined && agent.exitCode === null && agent.signalCode === null) {
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill('SIGTERM');
    const killer = setTimeout(() => agent.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
  await istiod?.stop();
  if (podRoot !== undefined) await rm(podRoot, { recursive: true, force: true });
});

describe('pilot-agent with DISABLE_ENVOY=true and the Envoy stand-in on its XDS socket', () => {
  it('opens no stream to istiod while no xDS client is connected (why the stand-in exists)', async () => {
    // Prepare: the agent is up, its socket and bootstrap written (beforeAll).
    // Act
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Assess
    expect(istiod.streams).toHaveLength(0);
  });

  it('forwards the LDS request with the bootstrap node and adds its own PCDS request', async () => {
    // Prepare
    const node = await readGrpcBootstrapNode(join(podRoot, BOOTSTRAP));
    // Act
    standIn = startEnvoyStandIn({
      socketPath: join(podRoot, 'etc/istio/proxy/XDS'),
      node: () => readGrpcBootstrapNode(join(podRoot, BOOTSTRAP)),
    });
    const upstream = await waitFor('two requests upstream', () => istiod.streams[0]?.requests.length === 2);
    // Assess
    expect(upstream).toBe(true);
    expect(node).toMatchObject({
      id: NODE_ID,
      metadata: { GENERATOR: 'grpc', NAMESPACE: 'shop', SERVICE_ACCOUNT: 'app-01' },
    });
    expect(istiod.streams[0]?.requests).toEqual([
      { node: { id: NODE_ID, metadata: node.metadata }, type_url: LISTENER_TYPE_URL, resource_names: [] },
      { type_url: PROXY_CONFIG_TYPE_URL, resource_names: [] },
    ]);
  });

  it('passes LDS responses to the stand-in and its ACKs back to istiod', async () => {
    // Prepare
    const stream = await waitFor('the upstream stream', () => istiod.streams[0]);
    // Act
    stream.send({ version_info: 'v1', type_url: LISTENER_TYPE_URL, nonce: 'lds-1', resources: [] });
    const ack = await waitFor('the ACK upstream', () =>
      stream.requests.find((r) => r.response_nonce === 'lds-1'),
    );
    // Assess
    expect(ack).toEqual({
      version_info: 'v1',
      response_nonce: 'lds-1',
      type_url: LISTENER_TYPE_URL,
      resource_names: [],
    });
    expect(standIn?.stats()).toMatchObject({ responses: 1, connected: true, streams: 1 });
  });

  it('takes a PCDS push itself as a new trust bundle; the stand-in never sees it', async () => {
    // Prepare
    const stream = await waitFor('the upstream stream', () => istiod.streams[0]);
    const newRoot = (await makeTestCa('stand-in test root B')).certificatePem;
    expect(agentLog).not.toContain('update new trust bundle');
    // Act
    stream.send({
      version_info: 'p1',
      type_url: PROXY_CONFIG_TYPE_URL,
      nonce: 'pcds-1',
      resources: [{ type_url: PROXY_CONFIG_TYPE_URL, value: referenceEncodeProxyConfig([newRoot]) }],
    });
    // Assess
    await waitFor('the agent to take the bundle', () => agentLog.includes('update new trust bundle'));
    expect(standIn?.stats().byType).toEqual({ [LISTENER_TYPE_URL]: 1 });
  });

  it('closes its stream to istiod when the stand-in stops, as when Envoy goes away', async () => {
    // Prepare
    const stream = await waitFor('the upstream stream', () => istiod.streams[0]);
    // Act
    await standIn?.stop();
    // Assess
    await expect(stream.ended).resolves.toBeUndefined();
  });
});
