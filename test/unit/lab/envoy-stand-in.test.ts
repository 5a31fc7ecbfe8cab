// The Envoy stand-in against a fake ADS server (test/support/fake-ads-server.ts, grpc-js on a Unix
// socket under os.tmpdir()) that reads requests and writes responses with the independent protobufjs
// descriptor of test/support/xds-descriptor.ts, so the stand-in's own codec is checked on the way too.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EnvoyStandIn,
  EnvoyStandInError,
  LISTENER_TYPE_URL,
  readGrpcBootstrapNode,
  startEnvoyStandIn,
  type XdsNode,
} from '../../../lab/node-agent/envoy-stand-in.js';
import { type FakeAdsServer, startFakeAdsServer } from '../../support/fake-ads-server.js';

// What pilot-agent writes for GRPC_XDS_BOOTSTRAP (shape of istio's pkg/istio-agent/testdata/grpc-bootstrap.json).
const BOOTSTRAP_METADATA = {
  GENERATOR: 'grpc',
  INSTANCE_IPS: '127.0.0.2',
  ISTIO_VERSION: '1.29-dev',
  NAMESPACE: 'shop',
  SERVICE_ACCOUNT: 'app-01',
  METADATA_DISCOVERY: 'false',
  PILOT_SAN: ['istiod.istio-system.svc'],
  PROXY_CONFIG: { discoveryAddress: 'istiod.istio-system.svc:15012', concurrency: 2, proxyMetadata: {} },
};
const NODE_ID = 'sidecar~127.0.0.2~app-01-7d9f-x2k.shop~shop.svc.cluster.local';

function bootstrapJson(): string {
  return JSON.stringify({
    xds_servers: [
      {
        server_uri: 'unix:///./etc/istio/proxy/XDS',
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: NODE_ID, metadata: BOOTSTRAP_METADATA, locality: {}, UserAgentVersionType: null },
    server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('readGrpcBootstrapNode', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootstrap-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the id and the plain-JSON metadata of the node pilot-agent wrote', async () => {
    // Prepare
    const path = join(dir, 'grpc-bootstrap.json');
    await writeFile(path, bootstrapJson());
    // Act
    const node = await readGrpcBootstrapNode(path);
    // Assess
    expect(node).toEqual({ id: NODE_ID, metadata: BOOTSTRAP_METADATA });
  });

  it('says which file is missing or has no node id', async () => {
    // Prepare
    const missing = join(dir, 'absent.json');
    const noNode = join(dir, 'no-node.json');
    await writeFile(noNode, JSON.stringify({ xds_servers: [] }));
    // Act
    const readMissing = readGrpcBootstrapNode(missing);
    const readNoNode = readGrpcBootstrapNode(noNode);
    // Assess
    await expect(readMissing).rejects.toThrow(EnvoyStandInError);
    await expect(readMissing).rejects.toThrow(`cannot read the gRPC xDS bootstrap ${missing}`);
    await expect(readNoNode).rejects.toThrow(`the gRPC xDS bootstrap ${noNode} has no node.id`);
  });
});

describe('startEnvoyStandIn against a fake ADS server', () => {
  let dir: string;
  let socketPath: string;
  let bootstrapPath: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'standin-'));
    // The lab's layout: the agent's socket at <pod root>/etc/istio/proxy/XDS.
    await mkdir(join(dir, 'etc/istio/proxy'), { recursive: true });
    socketPath = join(dir, 'etc/istio/proxy/XDS');
    bootstrapPath = join(dir, 'etc/istio/proxy/grpc-bootstrap.json');
    await writeFile(bootstrapPath, bootstrapJson());
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function fakeAds(): Promise<FakeAdsServer> {
    const ads = await startFakeAdsServer(`unix://${socketPath}`);
    cleanups.push(async () => {
      await ads.stop();
      await rm(socketPath, { force: true });
    });
    return ads;
  }

  function standIn(options: Partial<Parameters<typeof startEnvoyStandIn>[0]> = {}): EnvoyStandIn {
    const started = startEnvoyStandIn({
      socketPath,
      node: () => readGrpcBootstrapNode(bootstrapPath),
      ...options,
    });
    cleanups.push(() => started.stop());
    return started;
  }

  it('opens one stream whose first request is the bootstrap node and a wildcard LDS subscription', async () => {
    // Prepare
    const ads = await fakeAds();
    // Act
    standIn();
    const first = await waitFor('a first request', () => ads.streams[0]?.requests[0]);
    // Assess
    expect(first).toEqual({
      node: { id: NODE_ID, metadata: BOOTSTRAP_METADATA },
      type_url: LISTENER_TYPE_URL,
      resource_names: [],
    });
    expect(ads.streams).toHaveLength(1);
  });

  it('ACKs every response with its version and nonce, the subscription again and no node', async () => {
    // Prepare
    const ads = await fakeAds();
    const seen: string[] = [];
    const stand = standIn({ onResponse: (response) => seen.push(response.nonce) });
    const stream = await waitFor('a stream', () => ads.streams[0]);
    // Act
    stream.send({ version_info: 'v1', type_url: LISTENER_TYPE_URL, nonce: 'n1', resources: [] });
    stream.send({
      version_info: 'v2',
      type_url: LISTENER_TYPE_URL,
      nonce: 'n2',
      resources: [{ type_url: LISTENER_TYPE_URL, value: Uint8Array.from([8, 1]) }],
    });
    await waitFor('two ACKs', () => stream.requests.length >= 3);
    // Assess
    expect(stream.requests.slice(1)).toEqual([
      { version_info: 'v1', response_nonce: 'n1', type_url: LISTENER_TYPE_URL, resource_names: [] },
      { version_info: 'v2', response_nonce: 'n2', type_url: LISTENER_TYPE_URL, resource_names: [] },
    ]);
    expect(seen).toEqual(['n1', 'n2']);
    expect(stand.stats()).toEqual({
      responses: 2,
      byType: { [LISTENER_TYPE_URL]: 2 },
      connected: true,
      streams: 1,
    });
  });

  it('ACKs a named subscription with its names and leaves a type it never asked for unACKed', async () => {
    // Prepare
    const ads = await fakeAds();
    const names = ['xds.istio.io/grpc/lds/inbound/127.0.0.2:8443'];
    const stand = standIn({ subscription: { typeUrl: LISTENER_TYPE_URL, resourceNames: names } });
    const stream = await waitFor('a stream', () => ads.streams[0]);
    // Act
    stream.send({
      version_info: 'c1',
      type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      nonce: 'x',
    });
    stream.send({ version_info: 'v1', type_url: LISTENER_TYPE_URL, nonce: 'n1' });
    await waitFor('an ACK', () => stream.requests.length >= 2);
    await sleep(100);
    // Assess
    expect(stream.requests.map((r) => [r.resource_names, r.response_nonce])).toEqual([
      [names, undefined],
      [names, 'n1'],
    ]);
    expect(stand.stats().byType).toEqual({
      'type.googleapis.com/envoy.config.cluster.v3.Cluster': 1,
      [LISTENER_TYPE_URL]: 1,
    });
  });

  it('waits for the socket the agent creates later, then connects', async () => {
    // Prepare
    const problems: string[] = [];
    standIn({ initialBackoffMs: 50, onError: (error) => problems.push(error.problem) });
    await waitFor('a missing-socket report', () => problems.includes('socket-missing'));
    // Act
    const ads = await fakeAds();
    const first = await waitFor('a first request', () => ads.streams[0]?.requests[0]);
    // Assess
    expect(first.node?.id).toBe(NODE_ID);
  });

  it('waits for the bootstrap file too, reading the node again on each connection', async () => {
    // Prepare
    await rm(bootstrapPath);
    const ads = await fakeAds();
    const problems: string[] = [];
    standIn({ initialBackoffMs: 50, onError: (error) => problems.push(error.problem) });
    await waitFor('a node-unavailable report', () => problems.includes('node-unavailable'));
    // Act
    await writeFile(bootstrapPath, bootstrapJson());
    const first = await waitFor('a first request', () => ads.streams[0]?.requests[0]);
    // Assess
    expect(first.node?.id).toBe(NODE_ID);
  });

  it('reports a node the codec refuses and opens no stream with it', async () => {
    // Prepare
    const ads = await fakeAds();
    const problems: EnvoyStandInError[] = [];
    const node = { id: 'n', metadata: { BAD: 10n } } as unknown as XdsNode;
    // Act
    standIn({ node, initialBackoffMs: 20, onError: (error) => problems.push(error) });
    await waitFor('two reports', () => problems.length >= 2);
    // Assess
    expect(problems[0]?.problem).toBe('node-unavailable');
    expect(problems[0]?.message).toMatch(/node metadata\.BAD is a bigint/);
    expect(ads.streams).toHaveLength(0);
  });

  it('reconnects after the agent restarts and sends the node again', async () => {
    // Prepare
    const first = await fakeAds();
    const stand = standIn({ initialBackoffMs: 50 });
    const firstStream = await waitFor('a stream', () => first.streams[0]);
    firstStream.send({ version_info: 'v1', type_url: LISTENER_TYPE_URL, nonce: 'n1' });
    await waitFor('connected', () => stand.stats().connected);
    // Act
    await first.stop();
    await waitFor('disconnected', () => !stand.stats().connected);
    const second = await fakeAds();
    const again = await waitFor('a request on the new server', () => second.streams[0]?.requests[0]);
    // Assess
    expect(again).toEqual({
      node: { id: NODE_ID, metadata: BOOTSTRAP_METADATA },
      type_url: LISTENER_TYPE_URL,
      resource_names: [],
    });
    expect(stand.stats().streams).toBe(2);
  });

  it('stop() ends the stream, leaves no socket or timer behind and never connects again', async () => {
    // Prepare
    const first = await fakeAds();
    const baseline = handles();
    const stand = standIn({ initialBackoffMs: 20 });
    const stream = await waitFor('a stream', () => first.streams[0]);
    // Act
    await stand.stop();
    // Assess
    await expect(stream.ended).resolves.toBeUndefined();
    expect(stand.stats().connected).toBe(false);
    // The fake server's end of the connection closes a moment after the stand-in's.
    await waitFor('the sockets and timers of before', () => handles() === baseline, 2000);
    await first.stop();
    const second = await fakeAds();
    await sleep(200);
    expect(second.streams).toHaveLength(0);
  });

  it('stop() during the backoff clears the timer at once', async () => {
    // Prepare
    const problems: string[] = [];
    const stand = standIn({
      initialBackoffMs: 60_000,
      maxBackoffMs: 60_000,
      onError: (e) => problems.push(e.problem),
    });
    await waitFor('a missing-socket report', () => problems.includes('socket-missing'));
    const timersBefore = countTimeouts();
    // Act
    const startedAt = Date.now();
    await stand.stop();
    // Assess
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(countTimeouts()).toBe(timersBefore - 1);
  });

  it('refuses a relative or too long socket path before doing anything', () => {
    // Prepare
    const relative = () => startEnvoyStandIn({ socketPath: './etc/istio/proxy/XDS', node: { id: 'n' } });
    const tooLong = () => startEnvoyStandIn({ socketPath: `/tmp/${'p'.repeat(110)}/XDS`, node: { id: 'n' } });
    // Act, Assess
    expect(relative).toThrow(/socketPath must be absolute, got "\.\/etc\/istio\/proxy\/XDS"/);
    expect(tooLong).toThrow(/socketPath is 119 bytes, more than the 107 a Unix socket address holds/);
  });
});

function countTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** Sockets (Unix and TCP) and timers open now, e.g. "PipeWrap,PipeWrap,Timeout". */
function handles(): string {
  const kinds = new Set(['PipeWrap', 'TCPWrap', 'Timeout']);
  return process
    .getActiveResourcesInfo()
    .filter((kind) => kinds.has(kind))
    .sort()
    .join();
}
