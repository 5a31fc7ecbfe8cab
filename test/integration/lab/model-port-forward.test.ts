// pods/portforward on the model engine and the Envoy admin model behind it: the product's
// readServedCertificate, as the rotator with its EKS token and the lab's RBAC (deploy/kubernetes/rbac.yaml),
// reads through the model API server's WebSocket port-forward the chain the istiod model says the pod's
// proxy holds, and follows it when a cacerts change re-signs the pod; the real kubectl port-forward
// (SPDY over a WebSocket, and plain SPDY) reaches the same dump. The negative controls: a port nobody
// serves, a pod that does not exist, a pod without a sidecar, a caller without the rule.
// The verifier (the gate verify-workloads) reads the same, through the same port-forward grant.
// rbac.yaml's admission policy meshtrust-envoy-admin-only holds on the model as on a real cluster: the
// rotator's and the verifier's forwards must name their ports, all 15000, so their kubectl forwards
// (ports named inside the SPDY streams) and a forward to 15020 are refused. What only an administrator may do (kubectl
// itself, another port) goes through a second API server over the same model cluster (its store and
// istiod model), which trusts one static admin token, as a cluster's own administrator credentials would.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { WebSocket } from 'ws';
import { parseAllDocuments } from 'yaml';
import type { LabIdentity } from '../../../lab/eks/lab-identities.js';
import { startEnvoyAdminModel } from '../../../lab/istio/envoy-admin-model.js';
import { CACERTS_SECRET_NAME, ISTIO_SYSTEM_NAMESPACE } from '../../../lab/istio/istiod-model.js';
import { type KubeApiServer, startKubeApiServer } from '../../../lab/kube/kube-api-server.js';
import { writeStaticTokenKubeconfig } from '../../../lab/kube/static-token-kubeconfig.js';
import {
  admitLabConnect,
  ENVOY_ADMIN_PORT_FORWARD_MESSAGE,
  ENVOY_ADMIN_PORT_FORWARD_POLICY,
} from '../../../lab/lab-rbac.js';
import { base64Data } from '../../../lab/seed-cluster.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { type ClusterClient, createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import { openPortForward, PortForwardRefused } from '../../../lambdas/adapters/kube/kube-port-forward.js';
import { createKubeConnection, type KubeConnection } from '../../../lambdas/adapters/kube/kube-rest.js';
import { readServedCertificate } from '../../../lambdas/adapters/kube/served-certificate.js';
import { servedChainPem } from '../../../lambdas/core/istio/served-certificate.js';
import {
  assembleCacerts,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  parseCertificatesPem,
} from '../../../lambdas/core/pki/index.js';
import { PreconditionFailed, VerificationFailed } from '../../../lambdas/core/rotation-errors.js';

jest.setTimeout(60_000);

const CLUSTER = 'lab-1';
let lab: Lab;
let dir: string;
/** The administrator's API server over lab-1's store and istiod model, and its Envoy admin model. */
let admin: { api: KubeApiServer; stopEnvoyAdmin(): void };
const ADMIN_TOKEN = 'model-port-forward-admin';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-model-port-forward-'));
  // PCDS on, certificates too long-lived to renew during the test: only a pushed root set re-signs.
  lab = await startLab({
    clusters: 1,
    workloadsPerCluster: 3,
    pcds: true,
    workloadCertTtlMs: 120_000,
    proberIntervalMs: 0,
    pushDelayMs: 100,
  });
  const cluster = lab.cluster(CLUSTER);
  const envoyAdmin = startEnvoyAdminModel({ store: cluster.store, istiod: cluster.istiod });
  const api = await startKubeApiServer({
    clusterName: CLUSTER,
    store: cluster.store,
    authenticate: async (token) =>
      token === ADMIN_TOKEN ? { username: 'lab-admin', groups: ['system:masters'] } : undefined,
    authorize: () => true,
    podPortForward: envoyAdmin.dial,
    admitConnect: admitLabConnect,
  });
  admin = { api, stopEnvoyAdmin: () => envoyAdmin.stop() };
});

afterAll(async () => {
  admin?.stopEnvoyAdmin();
  await admin?.api.stop();
  await lab?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The administrator's connection to its API server (a port-forward reads only the connection). */
function asAdmin(): { readonly connection: KubeConnection } {
  return {
    connection: createKubeConnection({
      server: admin.api.url,
      caPem: admin.api.caPem,
      tokenProvider: async () => ADMIN_TOKEN,
    }),
  };
}

function clientAs(identity: LabIdentity): ClusterClient {
  const cluster = lab.cluster(CLUSTER);
  return createClusterClient({
    cluster: { name: cluster.name, endpoint: cluster.endpoint, caPem: cluster.caPem },
    tokenProvider: createEksTokenProvider({
      clusterName: cluster.name,
      region: lab.region,
      credentials: identity.credentials,
    }),
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
}

/** An injected app pod of the cluster: shop/app-NN, holding a workload identity. */
function appPod(): { namespace: string; name: string } {
  const [identity] = lab.cluster(CLUSTER).istiod.identities();
  if (!identity) throw new Error('no pod holds an identity');
  return { namespace: identity.namespace, name: identity.podName };
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One port-forward of the product (kube-port-forward.ts) to `port`: what arrived on the data and the error channel. */
async function forwardOnce(
  client: { readonly connection: KubeConnection },
  pod: { namespace: string; name: string },
  port: number,
  request: string,
): Promise<{ data: string; error: string }> {
  const forward = await openPortForward(client.connection, pod.namespace, pod.name, port);
  let data = '';
  let error = '';
  forward.fromPod.on('data', (chunk: Buffer) => {
    data += chunk.toString('utf8');
  });
  forward.errors.on('data', (chunk: Buffer) => {
    error += chunk.toString('utf8');
  });
  await new Promise<void>((resolve) => {
    forward.fromPod.on('end', () => resolve());
    forward.toPod.write(request);
  });
  return { data, error };
}

describe('readServedCertificate on the model engine', () => {
  it("reads, as the rotator, the chain the istiod model holds for the pod: its leaf and the cluster's intermediate", async () => {
    // Prepare
    const pod = appPod();
    const identity = lab.cluster(CLUSTER).istiod.identityOf(pod.namespace, pod.name);
    const [leaf] = parseCertificatesPem(identity?.certChainPem ?? '');

    // Act
    const served = await readServedCertificate(clientAs(lab.identities.rotator), pod);

    // Assess
    expect(served).toMatchObject({
      namespace: pod.namespace,
      pod: pod.name,
      leafFingerprint: leaf?.fingerprint,
      issuerFingerprint: identity?.issuerFingerprint,
    });
    expect(served.issuerFingerprint).toBe(
      certificateFingerprint(lab.cluster(CLUSTER).initialIntermediate.certificatePem),
    );
  });

  it('follows the pod when a root-cert.pem change pushed by PCDS re-signs it from a new intermediate', async () => {
    // Prepare
    const pod = appPod();
    const cluster = lab.cluster(CLUSTER);
    const before = await readServedCertificate(clientAs(lab.identities.rotator), pod);
    const rootB = await createRootCa({ commonName: 'port-forward test Root B' });
    const intermediateB = await createIntermediateCa({ cluster: CLUSTER, issuer: rootB });
    const rootCertPem = lab.snapshotCacerts(CLUSTER).files['root-cert.pem'];
    const files = assembleCacerts({
      intermediate: intermediateB,
      chainAbove: [rootB.certificatePem],
      trustedRoots: `${rootCertPem}${rootB.certificatePem}`,
    });

    // Act: root-cert.pem A -> A+B (bytes appended) with int_B, as the resign strategy writes it
    const secret = cluster.store.get('Secret', ISTIO_SYSTEM_NAMESPACE, CACERTS_SECRET_NAME);
    cluster.store.update({ ...secret, data: base64Data(files) });
    const issuerB = certificateFingerprint(intermediateB.certificatePem);
    await waitFor(() => cluster.istiod.identityOf(pod.namespace, pod.name)?.issuerFingerprint === issuerB);
    const after = await readServedCertificate(clientAs(lab.identities.rotator), pod);

    // Assess
    expect(after.issuerFingerprint).toBe(issuerB);
    expect(after.issuerFingerprint).not.toBe(before.issuerFingerprint);
    expect(after.leafFingerprint).not.toBe(before.leafFingerprint);
    expect(after.leafFingerprint).toBe(
      parseCertificatesPem(cluster.istiod.identityOf(pod.namespace, pod.name)?.certChainPem ?? '')[0]
        ?.fingerprint,
    );
  });

  it('reads, as the verifier (the gate verify-workloads), the same leaf and intermediate as the rotator', async () => {
    // Prepare
    const pod = appPod();
    const identity = lab.cluster(CLUSTER).istiod.identityOf(pod.namespace, pod.name);
    const [leaf] = parseCertificatesPem(identity?.certChainPem ?? '');

    // Act
    const served = await readServedCertificate(clientAs(lab.identities.verifier), pod);

    // Assess
    expect(served).toMatchObject({
      namespace: pod.namespace,
      pod: pod.name,
      leafFingerprint: leaf?.fingerprint,
      issuerFingerprint: identity?.issuerFingerprint,
    });
  });

  it.each([
    ['the viewer (people, the CLI)', 'viewer'],
    ['the expiry check', 'expiryCheck'],
  ] as const)(
    'refuses %s, whose group has no pods/portforward rule (403), naming both groups that may',
    async (_, who) => {
      // Prepare
      const pod = appPod();

      // Act
      const reading = readServedCertificate(clientAs(lab.identities[who]), pod);

      // Assess
      await expect(reading).rejects.toThrow(PreconditionFailed);
      await expect(reading).rejects.toThrow(/forbidden \(HTTP 403\).*pods\/portforward/);
      await expect(reading).rejects.toThrow(
        /meshtrust-rotator for the rotation's phases, meshtrust-verifier for the gates verify-trust and verify-workloads.*ClusterRole meshtrust-envoy-admin.*policy meshtrust-envoy-admin-only.*apply deploy\/kubernetes\/rbac\.yaml/,
      );
    },
  );

  it('fails on a pod that does not exist (404 before any upgrade)', async () => {
    // Act
    const reading = readServedCertificate(clientAs(lab.identities.rotator), {
      namespace: 'shop',
      name: 'no-such-pod',
    });

    // Assess
    await expect(reading).rejects.toThrow(PreconditionFailed);
    await expect(reading).rejects.toThrow(/answered 404/);
  });

  it('fails verification on a pod without a sidecar: nothing answers on its port 15000', async () => {
    // Prepare
    const [debugShell] = lab.cluster(CLUSTER).store.list('Pod', { namespace: 'tools' }).items;

    // Act
    const reading = readServedCertificate(clientAs(lab.identities.rotator), {
      namespace: 'tools',
      name: debugShell?.metadata.name ?? '',
    });

    // Assess
    await expect(reading).rejects.toThrow(VerificationFailed);
    await expect(reading).rejects.toThrow(/nothing answered on the pod's port 15000.*connection refused/);
  });
});

describe("the model's pods/portforward and Envoy admin, as the product's port-forward and a raw WebSocket see them", () => {
  it('answers the config dump on 15000 with the chain, the roots and a redacted key, never the key', async () => {
    // Prepare
    const pod = appPod();
    const identity = lab.cluster(CLUSTER).istiod.identityOf(pod.namespace, pod.name);

    // Act
    const { data, error } = await forwardOnce(
      clientAs(lab.identities.rotator),
      pod,
      15000,
      // HTTP/1.0: the body comes whole, not chunked
      'GET /config_dump?resource=dynamic_active_secrets HTTP/1.0\r\nHost: localhost\r\n\r\n',
    );

    // Assess
    const [head = '', body = ''] = data.split('\r\n\r\n');
    expect(error).toBe('');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    const dump = JSON.parse(body) as {
      configs: {
        name: string;
        secret: Record<string, Record<string, { inline_bytes: string }>>;
      }[];
    };
    const byName = Object.fromEntries(dump.configs.map((config) => [config.name, config.secret]));
    const decode = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');
    expect(decode(byName.default?.tls_certificate?.certificate_chain?.inline_bytes)).toBe(
      identity?.certChainPem,
    );
    expect(decode(byName.default?.tls_certificate?.private_key?.inline_bytes)).toBe('[redacted]');
    expect(decode(byName.ROOTCA?.validation_context?.trusted_ca?.inline_bytes)).toBe(
      identity?.trustBundlePem,
    );
    expect(body).not.toContain('PRIVATE KEY');
    expect(data).not.toContain(
      Buffer.from(identity?.keyPem ?? 'x')
        .toString('base64')
        .slice(0, 40),
    );
  });

  it("reports a port nobody serves on the port's error channel, as the kubelet does", async () => {
    // Act
    const { data, error } = await forwardOnce(asAdmin(), appPod(), 15020, 'GET / HTTP/1.1\r\n\r\n');

    // Assess
    expect(data).toBe('');
    expect(error).toMatch(/^error forwarding port 15020 to pod .*connection refused$/);
  });

  it.each(['rotator', 'verifier'] as const)(
    "refuses the %s a forward to another port than 15000 (rbac.yaml's admission policy)",
    async (who) => {
      // Act
      const opening = forwardOnce(clientAs(lab.identities[who]), appPod(), 15020, 'GET / HTTP/1.1\r\n\r\n');

      // Assess
      await expect(opening).rejects.toBeInstanceOf(PortForwardRefused);
      await expect(opening).rejects.toMatchObject({ status: 403 });
    },
  );

  it("refuses the verifier's forward that names no port: admission cannot see which it opens", () => {
    // Prepare
    const verifier = { username: lab.identities.verifier.arn, groups: ['meshtrust-verifier'] };
    const forward = { namespace: 'shop', name: 'app-00', subresource: 'portforward' } as const;

    // Act
    const named = admitLabConnect(verifier, { ...forward, ports: [15000] });
    const unnamed = admitLabConnect(verifier, forward);
    const elsewhere = admitLabConnect(verifier, { ...forward, ports: [15000, 15020] });

    // Assess
    expect(named).toBeUndefined();
    expect(unnamed?.message).toContain(`ValidatingAdmissionPolicy '${ENVOY_ADMIN_PORT_FORWARD_POLICY}'`);
    expect(elsewhere?.message).toContain(ENVOY_ADMIN_PORT_FORWARD_MESSAGE);
  });

  it("states rbac.yaml's meshtrust-envoy-admin-only: its groups, port and message", async () => {
    // Prepare
    const documents = parseAllDocuments(await readFile('deploy/kubernetes/rbac.yaml', 'utf8')).map(
      (document) =>
        document.toJS() as { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> },
    );

    // Act
    const policy = documents.find(
      (document) =>
        document.kind === 'ValidatingAdmissionPolicy' &&
        document.metadata?.name === ENVOY_ADMIN_PORT_FORWARD_POLICY,
    );

    // Assess
    expect(policy?.spec?.matchConditions).toEqual([
      {
        name: 'from-meshtrust-rotator-or-verifier',
        expression:
          "'meshtrust-rotator' in request.userInfo.groups || 'meshtrust-verifier' in request.userInfo.groups",
      },
    ]);
    expect(policy?.spec?.validations).toEqual([
      {
        expression: 'has(object.ports) && size(object.ports) > 0 && object.ports.all(port, port == 15000)',
        reason: 'Forbidden',
        message: ENVOY_ADMIN_PORT_FORWARD_MESSAGE,
      },
    ]);
  });

  it('speaks v4.channel.k8s.io: the port, 2 bytes little endian, first on data channel 0 and error channel 1', async () => {
    // Prepare
    const pod = appPod();
    const cluster = lab.cluster(CLUSTER);
    const token = await createEksTokenProvider({
      clusterName: CLUSTER,
      region: lab.region,
      credentials: lab.identities.rotator.credentials,
    })();
    const url = `${cluster.endpoint.replace('https', 'wss')}/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/portforward?ports=15000`;

    // Act
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
      ca: cluster.caPem,
      headers: { authorization: `Bearer ${token}` },
    });
    const messages: Buffer[] = [];
    ws.on('message', (data: Buffer) => messages.push(data));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const protocol = ws.protocol;
    ws.send(
      Buffer.concat([
        Buffer.of(0),
        Buffer.from('GET /config_dump HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      ]),
    );
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));

    // Assess
    expect(protocol).toBe('v4.channel.k8s.io');
    expect(messages.slice(0, 2)).toEqual([Buffer.of(0, 0x98, 0x3a), Buffer.of(1, 0x98, 0x3a)]);
    expect(messages.slice(2).every((message) => message[0] === 0)).toBe(true);
    expect(Buffer.concat(messages.slice(2).map((message) => message.subarray(1))).toString()).toMatch(
      /^HTTP\/1\.1 200 OK[\s\S]*SecretsConfigDump/,
    );
  });
});

/**
 * `kubectl port-forward pod/NAME :PORT` as `identity`: the local port once kubectl prints it (rejects
 * with kubectl's stderr if it exits first), and its stderr when it has exited.
 */
async function kubectlPortForward(
  who: LabIdentity | 'admin',
  pod: { namespace: string; name: string },
  port: number,
  env: Record<string, string> = {},
): Promise<{ localPort: Promise<number>; exited: Promise<string>; stop(): void }> {
  const cluster = lab.cluster(CLUSTER);
  const kubeconfig = join(dir, `${who === 'admin' ? 'admin' : who.name}.kubeconfig`);
  await writeStaticTokenKubeconfig(
    kubeconfig,
    who === 'admin'
      ? { clusterName: CLUSTER, server: admin.api.url, caPem: admin.api.caPem, token: ADMIN_TOKEN }
      : {
          clusterName: CLUSTER,
          server: cluster.endpoint,
          caPem: cluster.caPem,
          token: await createEksTokenProvider({
            clusterName: CLUSTER,
            region: lab.region,
            credentials: who.credentials,
          })(),
        },
  );
  const child: ChildProcess = spawn(
    'kubectl',
    [
      '--kubeconfig',
      kubeconfig,
      '--cache-dir',
      join(dir, 'cache'),
      '-n',
      pod.namespace,
      'port-forward',
      `pod/${pod.name}`,
      `:${port}`,
    ],
    { env: { ...process.env, KUBECONFIG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<string>((resolve) => child.once('exit', () => resolve(stderr)));
  const localPort = new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const forwarding = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (forwarding) resolve(Number(forwarding[1]));
    });
    void exited.then((text) => reject(new Error(`kubectl port-forward exited: ${text}`)));
  });
  localPort.catch(() => undefined);
  return { localPort, exited, stop: () => child.kill() };
}

/** One HTTP GET on the forwarded local port: status and body, or the socket's error. */
function httpGet(port: number, path: string): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path, headers: { connection: 'close' } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    })
      .on('error', (error) => resolve({ body: '', error: error.message }))
      .end();
  });
}

const ISTIOCTL_SECRETS_QUERY = '/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets';

describe('kubectl port-forward on the model engine', () => {
  const transports: [string, Record<string, string>][] = [
    ["SPDY over a WebSocket (kubectl's default)", {}],
    ['plain SPDY (its fallback)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ];

  it.each(transports)(
    "reaches the pod's Envoy admin on 15000 and reads the chain the model holds, over %s",
    async (_, env) => {
      // Prepare
      const pod = appPod();
      const forward = await kubectlPortForward('admin', pod, 15000, env);

      try {
        // Act
        const first = await httpGet(await forward.localPort, ISTIOCTL_SECRETS_QUERY);
        const second = await httpGet(await forward.localPort, ISTIOCTL_SECRETS_QUERY);

        // Assess
        const identity = lab.cluster(CLUSTER).istiod.identityOf(pod.namespace, pod.name);
        expect(first.status).toBe(200);
        expect(servedChainPem(JSON.parse(first.body))).toBe(identity?.certChainPem);
        expect(second.status).toBe(200);
        expect(second.body).toBe(first.body);
      } finally {
        forward.stop();
        await forward.exited;
      }
    },
  );

  it("fails on a port nobody serves, with the kubelet's error, as on a real cluster", async () => {
    // Prepare
    const forward = await kubectlPortForward('admin', appPod(), 15020);

    // Act
    const answer = await httpGet(await forward.localPort, '/');
    const stderr = await forward.exited;

    // Assess
    expect(answer.status).toBeUndefined();
    expect(stderr).toMatch(/error forwarding port 15020 to pod .*connection refused/);
    expect(stderr).toMatch(/lost connection to pod/);
  });

  it.each(transports)(
    "is refused to the rotator over %s: it names its port only inside the stream (rbac.yaml's admission policy)",
    async (_, env) => {
      // Prepare
      const forward = await kubectlPortForward(lab.identities.rotator, appPod(), 15000, env);

      // Act
      const stderr = await forward.exited;

      // Assess
      await expect(forward.localPort).rejects.toThrow();
      expect(stderr).toContain(
        `ValidatingAdmissionPolicy '${ENVOY_ADMIN_PORT_FORWARD_POLICY}' with binding '${ENVOY_ADMIN_PORT_FORWARD_POLICY}' denied request: ${ENVOY_ADMIN_PORT_FORWARD_MESSAGE}`,
      );
    },
  );

  it("is refused to the verifier too: it names its port only inside the stream (rbac.yaml's admission policy)", async () => {
    // Prepare
    const forward = await kubectlPortForward(lab.identities.verifier, appPod(), 15000);

    // Act
    const stderr = await forward.exited;

    // Assess
    await expect(forward.localPort).rejects.toThrow();
    expect(stderr).toContain(`ValidatingAdmissionPolicy '${ENVOY_ADMIN_PORT_FORWARD_POLICY}'`);
  });

  it('is refused to the viewer, whose group may not create pods/portforward', async () => {
    // Prepare
    const forward = await kubectlPortForward(lab.identities.viewer, appPod(), 15000);

    // Act
    const stderr = await forward.exited;

    // Assess
    await expect(forward.localPort).rejects.toThrow();
    expect(stderr).toMatch(/forbidden: User ".*" cannot create resource "pods\/portforward"/);
  });
});
