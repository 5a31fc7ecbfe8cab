// The cluster client: it trusts only the cluster's CA, signs every request with a fresh-enough EKS
// token, retries throttling and 5xx, and names the cluster when it gives up.
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { verifyEksToken } from '../../../lab/eks/eks-token-authenticator.js';
import { type KubeApiServer, startKubeApiServer } from '../../../lab/kube/kube-api-server.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import {
  createServingCertificates,
  type ServingCertificates,
} from '../../../lab/tls/serving-certificates.js';
import { createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import { listNamespaces } from '../../../lambdas/adapters/kube/trust-bundles.js';
import { PreconditionFailed, TransientError } from '../../../lambdas/core/rotation-errors.js';
import { FAST_RETRY, type LabCluster, REGION, startLabCluster } from './kube-lab-cluster.js';

let lab: LabCluster;
let impostor: KubeApiServer;
const tokensSeenByImpostor: string[] = [];
let fakeTls: ServingCertificates;

beforeAll(async () => {
  lab = await startLabCluster({ name: 'lab-client', podStartDelayMs: 20 });
  lab.store.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'shop', labels: { team: 'web' } },
  });
  // Another API server, with its own serving CA, that records any token it is sent.
  impostor = await startKubeApiServer({
    clusterName: 'impostor',
    store: new KubeObjectStore(),
    authenticate: async (token) => {
      tokensSeenByImpostor.push(token);
      return { username: 'anyone', groups: [] };
    },
    authorize: () => true,
  });
  fakeTls = await createServingCertificates({ clusterName: 'fake-api' });
});

afterAll(async () => {
  await lab?.stop();
  await impostor?.stop();
});

/** An HTTPS server answering each request with the next of the given responses (the last repeats). */
async function startScriptedServer(
  responses: { status: number; body: object }[],
): Promise<{ url: string; requests: string[]; stop: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer(
    { key: fakeTls.keyPem, cert: fakeTls.certChainPem },
    (req: IncomingMessage, res) => {
      requests.push(`${req.method} ${req.url}`);
      const response = responses[Math.min(requests.length - 1, responses.length - 1)] as {
        status: number;
        body: object;
      };
      res
        .writeHead(response.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(response.body));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const namespaceList = {
  apiVersion: 'v1',
  kind: 'NamespaceList',
  metadata: { resourceVersion: '7' },
  items: [{ metadata: { name: 'default', labels: {} } }],
};
const status = (code: number, reason: string) => ({
  apiVersion: 'v1',
  kind: 'Status',
  status: 'Failure',
  code,
  reason,
  message: `lab says ${reason}`,
});

describe('createClusterClient', () => {
  it('talks to the cluster with an EKS token of the rotator, trusting the CA of DescribeCluster', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const namespaces = await listNamespaces(client);
    // Assess
    expect(client.name).toBe('lab-client');
    expect(namespaces).toContainEqual({
      name: 'shop',
      labels: { team: 'web', 'kubernetes.io/metadata.name': 'shop' },
    });
  });

  it('refuses a server whose certificate is not signed by the cluster CA, before sending the token', async () => {
    // Prepare: the impostor's endpoint with the real cluster's CA.
    const client = createClusterClient({
      cluster: { name: 'lab-client', endpoint: impostor.url, caPem: lab.server.caPem },
      tokenProvider: async () => 'a-token-the-impostor-must-never-see',
      retry: FAST_RETRY,
    });
    // Act
    const call = listNamespaces(client);
    // Assess
    await expect(call).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(call).rejects.toThrow(
      /lab-client: the API server's TLS certificate does not verify against the cluster's CA/,
    );
    expect(tokensSeenByImpostor).toEqual([]);
  });

  it('refuses an endpoint that is not https and a cluster without CA', () => {
    // Prepare
    const tokenProvider = async () => 'unused';
    // Act
    const plain = () =>
      createClusterClient({
        cluster: { name: 'c1', endpoint: 'http://127.0.0.1:1', caPem: lab.server.caPem },
        tokenProvider,
      });
    const noCa = () =>
      createClusterClient({ cluster: { name: 'c2', endpoint: lab.server.url, caPem: '' }, tokenProvider });
    // Assess
    expect(plain).toThrow(PreconditionFailed);
    expect(plain).toThrow(/Cluster c1 has API endpoint "http:\/\/127\.0\.0\.1:1", not an https URL/);
    expect(noCa).toThrow(/Cluster c2 has no CA certificate/);
  });

  it('retries 429 and 5xx and succeeds when the server recovers', async () => {
    // Prepare
    const server = await startScriptedServer([
      { status: 429, body: status(429, 'TooManyRequests') },
      { status: 503, body: status(503, 'ServiceUnavailable') },
      { status: 200, body: namespaceList },
    ]);
    const client = createClusterClient({
      cluster: { name: 'flaky', endpoint: server.url, caPem: fakeTls.caPem },
      tokenProvider: async () => 'token',
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
    });
    // Act
    const namespaces = await listNamespaces(client);
    await server.stop();
    // Assess
    expect(namespaces).toEqual([{ name: 'default', labels: {} }]);
    expect(server.requests).toEqual([
      'GET /api/v1/namespaces',
      'GET /api/v1/namespaces',
      'GET /api/v1/namespaces',
    ]);
  });

  it('gives up with a TransientError naming the cluster when 5xx persists', async () => {
    // Prepare
    const server = await startScriptedServer([{ status: 500, body: status(500, 'InternalError') }]);
    const client = createClusterClient({
      cluster: { name: 'broken', endpoint: server.url, caPem: fakeTls.caPem },
      tokenProvider: async () => 'token',
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
    });
    // Act
    const call = listNamespaces(client);
    // Assess
    await expect(call).rejects.toBeInstanceOf(TransientError);
    await expect(call).rejects.toMatchObject({ name: 'TransientError', cluster: 'broken' });
    await expect(call).rejects.toThrow(
      /Could not list namespaces in cluster broken: the API server failed \(500: lab says InternalError\)/,
    );
    await server.stop();
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('reports an endpoint that does not answer as TransientError', async () => {
    // Prepare: a port that was just free.
    const server = await startScriptedServer([{ status: 200, body: namespaceList }]);
    await server.stop();
    const client = createClusterClient({
      cluster: { name: 'gone', endpoint: server.url, caPem: fakeTls.caPem },
      tokenProvider: async () => 'token',
      retry: FAST_RETRY,
    });
    // Act
    const call = listNamespaces(client);
    // Assess
    await expect(call).rejects.toBeInstanceOf(TransientError);
    await expect(call).rejects.toThrow(
      /Could not list namespaces in cluster gone: no answer from the API server \(ECONNREFUSED\)/,
    );
  });
});

describe('createEksTokenProvider', () => {
  it('reuses a token until one minute before it expires, then makes one the cluster accepts', async () => {
    // Prepare
    let clock = new Date();
    const provider = createEksTokenProvider({
      clusterName: lab.name,
      region: REGION,
      credentials: lab.identities.rotator.credentials,
      now: () => clock,
    });
    const start = clock.getTime();
    // Act
    const first = await provider();
    clock = new Date(start + 12 * 60_000);
    const reused = await provider();
    clock = new Date(start + 13 * 60_000 + 1);
    const refreshed = await provider();
    // Assess
    expect(reused).toBe(first);
    expect(refreshed).not.toBe(first);
    const verdict = await verifyEksToken(refreshed, {
      clusterName: lab.name,
      identities: lab.identities,
      region: REGION,
      now: () => clock,
    });
    expect(verdict).toMatchObject({ ok: true });
  });
});
