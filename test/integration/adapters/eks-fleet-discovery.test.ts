import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EKSClient } from '@aws-sdk/client-eks';
import { type EksApiServer, type LabEksCluster, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import { createLabIdentities } from '../../../lab/eks/lab-identities.js';
import { discoverClusters } from '../../../lambdas/adapters/eks/fleet-discovery.js';
import { PreconditionFailed, TransientError } from '../../../lambdas/core/rotation-errors.js';

const REGION = 'eu-west-1';
const MESH_TAG = 'meshtrust.io/mesh';
// More clusters than one ListClusters page (100), most of them not in any mesh.
const BYSTANDERS = Array.from({ length: 101 }, (_, index) => `bystander-${String(index).padStart(3, '0')}`);
const MESH_MEMBERS: Record<string, string> = {
  'blue-west': 'blue',
  'blue-east': 'blue',
  'blue-north': 'blue',
  'green-one': 'green',
  'amber-creating': 'amber',
};
const ALL_NAMES = [...BYSTANDERS.slice(0, 50), ...Object.keys(MESH_MEMBERS), ...BYSTANDERS.slice(50)];
const identities = createLabIdentities({ clusterNames: ALL_NAMES });

// A certificate (its key goes to /dev/null) standing in for the clusters' API CA.
const CA_PEM = execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    '/dev/null',
    '-nodes',
  ].concat(['-subj', '/CN=lab-api-ca', '-days', '1']),
  { stdio: ['ignore', 'pipe', 'ignore'] },
).toString('utf8');

const clusterFor = (name: string, index: number): LabEksCluster => ({
  name,
  endpoint: `https://127.0.0.1:${7000 + index}`,
  caPem: CA_PEM,
  version: '1.32',
  tags: MESH_MEMBERS[name] ? { [MESH_TAG]: MESH_MEMBERS[name] } : { team: 'someone-else' },
  status: name === 'amber-creating' ? 'CREATING' : 'ACTIVE',
});

/** Forwards to the lab EKS API after a short delay and records how many requests were in flight at once. */
async function startCountingProxy(
  target: string,
): Promise<{ url: string; maxInFlight: () => number; server: Server }> {
  const { port } = new URL(target);
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((request, response) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => inFlight--);
    const upstream = httpRequest(
      { host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        setTimeout(() => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        }, 10);
      },
    );
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxInFlight: () => maxInFlight,
    server,
  };
}

describe('discoverClusters', () => {
  let lab: EksApiServer;
  let eks: EKSClient;

  beforeAll(async () => {
    lab = await startEksApiServer({ region: REGION, clusters: ALL_NAMES.map(clusterFor), identities });
    eks = new EKSClient({ region: REGION, endpoint: lab.url, credentials: identities.rotator.credentials });
  });

  afterAll(async () => {
    eks.destroy();
    await lab.stop();
  });

  it('finds the mesh clusters by tag across all ListClusters pages, sorted by name, with endpoint and CA', async () => {
    // Act
    const clusters = await discoverClusters({ eks, meshId: 'blue' });

    // Assess
    expect(clusters.map((cluster) => cluster.name)).toEqual(['blue-east', 'blue-north', 'blue-west']);
    expect(clusters[0]).toEqual({
      name: 'blue-east',
      arn: `arn:aws:eks:${REGION}:000000000000:cluster/blue-east`,
      endpoint: `https://127.0.0.1:${7000 + ALL_NAMES.indexOf('blue-east')}`,
      caPem: CA_PEM,
      version: '1.32',
    });
  });

  it('matches a configured tag value instead of the mesh id', async () => {
    // Act: the stack's clusterTag may name a value other than the mesh id
    const clusters = await discoverClusters({ eks, meshId: 'payments', tagValue: 'green' });

    // Assess
    expect(clusters.map((cluster) => cluster.name)).toEqual(['green-one']);
  });

  it('finds the clusters of a mesh whose tag is on the last ListClusters page', async () => {
    // Prepare
    const lastPageOnly = ALL_NAMES.slice(100);
    const tagged = await startEksApiServer({
      region: REGION,
      clusters: ALL_NAMES.map(
        (name, index): LabEksCluster => ({
          ...clusterFor(name, index),
          tags: lastPageOnly.includes(name) ? { [MESH_TAG]: 'late' } : {},
        }),
      ),
      identities,
    });
    const client = new EKSClient({
      region: REGION,
      endpoint: tagged.url,
      credentials: identities.viewer.credentials,
    });

    try {
      // Act
      const clusters = await discoverClusters({ eks: client, meshId: 'late' });

      // Assess
      expect(clusters.map((cluster) => cluster.name)).toEqual([...lastPageOnly].sort());
    } finally {
      client.destroy();
      await tagged.stop();
    }
  });

  it('uses an explicit list instead of tags, including a cluster without the mesh tag', async () => {
    // Act
    const clusters = await discoverClusters({
      eks,
      meshId: 'blue',
      explicitClusters: ['bystander-007', 'blue-west', 'bystander-007'],
    });

    // Assess
    expect(clusters.map((cluster) => cluster.name)).toEqual(['blue-west', 'bystander-007']);
  });

  it('refuses an explicit list naming a cluster that does not exist, and names it', async () => {
    // Act
    const error = await discoverClusters({
      eks,
      meshId: 'blue',
      explicitClusters: ['blue-west', 'blue-south'],
    }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PreconditionFailed);
    expect(error).toMatchObject({ cluster: 'blue-south', message: expect.stringContaining('"blue-south"') });
  });

  it('refuses a mesh cluster that is not ACTIVE, naming it and its status', async () => {
    // Act
    const error = await discoverClusters({ eks, meshId: 'amber' }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PreconditionFailed);
    expect(error).toMatchObject({ cluster: 'amber-creating', message: expect.stringContaining('CREATING') });
  });

  it('keeps at most `concurrency` DescribeCluster calls in flight', async () => {
    // Prepare
    const proxy = await startCountingProxy(lab.url);
    const client = new EKSClient({
      region: REGION,
      endpoint: proxy.url,
      credentials: identities.rotator.credentials,
    });

    try {
      // Act
      const clusters = await discoverClusters({ eks: client, meshId: 'blue', concurrency: 3 });

      // Assess
      expect(clusters).toHaveLength(3);
      expect(proxy.maxInFlight()).toBe(3);
    } finally {
      client.destroy();
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it('reaches the lab through AWS_ENDPOINT_URL_EKS, as product code does', async () => {
    // Prepare
    const saved = process.env.AWS_ENDPOINT_URL_EKS;
    process.env.AWS_ENDPOINT_URL_EKS = lab.url;
    const client = new EKSClient({ region: REGION, credentials: identities.rotator.credentials });

    try {
      // Act
      const clusters = await discoverClusters({ eks: client, meshId: 'green' });

      // Assess
      expect(clusters.map((cluster) => cluster.name)).toEqual(['green-one']);
    } finally {
      client.destroy();
      if (saved === undefined) {
        delete process.env.AWS_ENDPOINT_URL_EKS;
      } else {
        process.env.AWS_ENDPOINT_URL_EKS = saved;
      }
    }
  });

  it('reports an unreachable EKS API as a TransientError the state machine retries', async () => {
    // Prepare
    const gone = await startEksApiServer({ region: REGION, clusters: [], identities });
    await gone.stop();
    const client = new EKSClient({
      region: REGION,
      endpoint: gone.url,
      credentials: identities.rotator.credentials,
      maxAttempts: 1,
    });

    // Act
    const error = await discoverClusters({ eks: client, meshId: 'blue' }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(TransientError);
    client.destroy();
  });

  it('reports credentials EKS does not know as a PreconditionFailed, not a retry', async () => {
    // Prepare
    const stranger = createLabIdentities({ clusterNames: [] }).rotator.credentials;
    const client = new EKSClient({
      region: REGION,
      endpoint: lab.url,
      credentials: stranger,
      maxAttempts: 1,
    });

    // Act
    const error = await discoverClusters({ eks: client, meshId: 'blue' }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PreconditionFailed);
    expect(error).toMatchObject({ message: expect.stringContaining('UnrecognizedClientException') });
    client.destroy();
  });
});
