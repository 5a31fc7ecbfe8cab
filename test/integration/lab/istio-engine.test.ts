// The istio engine runs real Istio: istiod (pilot-discovery) installed from istioctl's manifests with
// the lab's plug-in CA, istiod's own sidecar injector, and a real pilot-agent per injected pod and
// gateway (ingress and east-west), all on a real Kubernetes control plane. These tests judge what those
// components did with independent tools (openssl, the certificates the agents wrote), never with the
// product's rules.
// The negative control shows what the model engine used to miss: real istiod drops a cacerts
// whose root-cert.pem holds only a new root, and goes on signing with the old intermediate.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { createIntermediateCa, createRootCa } from '../../../lambdas/core/pki/index.js';
import { type IstioFleetKit, startTestFleet } from '../../support/istio-fleet-kit.js';
import { opensslVerify } from '../../support/openssl-verify.js';

const run = promisify(execFile);
const CLUSTER = 'lab-1';
const VOLUME_SYNC_MS = 2_000;

jest.setTimeout(180_000);

let dir: string;
let fleet: IstioFleet;
let kit: IstioFleetKit;
let listenersBefore: Set<string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-istio-'));
  listenersBefore = await listeningAddresses();
  ({ fleet, kit } = await startTestFleet({
    dir,
    clusters: [CLUSTER],
    proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
    volumeSyncPeriodMs: VOLUME_SYNC_MS,
  }));
  await kit.deployApp(CLUSTER);
}, 60 * 60_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

function kubectl(args: string[], input?: string): Promise<string> {
  return kit.kubectl(CLUSTER, args, input);
}

async function runningPods(namespace: string, selector: string): Promise<V1Pod[]> {
  const list = JSON.parse(await kubectl(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json'])) as {
    items: V1Pod[];
  };
  return list.items.filter((pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp);
}

/** The workload certificate a pod's pilot-agent wrote (OUTPUT_CERTS), as openssl reads it. */
async function proxyCertificate(
  pod: V1Pod,
): Promise<{ subjectAltName: string; issuer: string; chainFile: string }> {
  const files = join(fleet.podRootfs(CLUSTER, pod.metadata?.uid ?? ''), 'etc/istio/proxy');
  const chainFile = join(files, 'cert-chain.pem');
  const { stdout } = await run('openssl', [
    'x509',
    '-in',
    chainFile,
    '-noout',
    '-issuer',
    '-ext',
    'subjectAltName',
  ]);
  return {
    issuer: /issuer=(.*)/.exec(stdout)?.[1]?.trim() ?? '',
    subjectAltName: /URI:(\S+)/.exec(stdout)?.[1] ?? '',
    chainFile,
  };
}

/** `ss -ltn`'s local addresses of listening TCP sockets. */
async function listeningAddresses(): Promise<Set<string>> {
  const { stdout } = await run('ss', ['-Hltn']);
  return new Set(
    stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3] ?? '')
      .filter(Boolean),
  );
}

describe('Istio installed from its own manifests, with the lab plug-in CA', () => {
  it('gives the ingress gateway a certificate from the cluster intermediate, chained to root A', async () => {
    // Prepare
    const [gateway] = await runningPods('istio-system', 'app=istio-ingressgateway');

    // Act
    const certificate = await proxyCertificate(gateway as V1Pod);

    // Assess
    expect(certificate.issuer).toContain(`L = ${CLUSTER}`);
    expect(certificate.subjectAltName).toBe(
      'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
    );
    expect(await opensslVerify({ file: certificate.chainFile }, fleet.rootA.certificatePem, dir)).toMatch(
      /: OK$/,
    );
  });

  it('runs the east-west gateway as pilot-agent in router mode, with its own identity and the mesh proxy metadata', async () => {
    // Prepare
    const [gateway] = await runningPods('istio-system', 'istio=eastwestgateway');
    const proxy = gateway?.spec?.containers?.find((container) => container.name === 'istio-proxy');
    const env = new Map((proxy?.env ?? []).map((entry) => [entry.name, entry.value]));

    // Act
    const certificate = await proxyCertificate(gateway as V1Pod);

    // Assess: what Istio's multi-network install gives it, rendered by istioctl, not by the lab
    expect(proxy?.args?.slice(0, 2)).toEqual(['proxy', 'router']);
    expect(gateway?.metadata?.labels).toMatchObject({
      app: 'istio-eastwestgateway',
      'topology.istio.io/network': CLUSTER,
    });
    expect(env.get('ISTIO_META_ROUTER_MODE')).toBe('sni-dnat');
    // The gateway chart writes the mesh's proxy metadata into the agent's env, as the injector does.
    expect(env.get('PROXY_CONFIG_XDS_AGENT')).toBe('true');
    expect(gateway?.spec?.serviceAccountName).toBe('istio-eastwestgateway-service-account');
    // Its agent asked istiod for a certificate, as the ingress gateway's did.
    expect(certificate.subjectAltName).toBe(
      'spiffe://cluster.local/ns/istio-system/sa/istio-eastwestgateway-service-account',
    );
    expect(certificate.issuer).toContain(`L = ${CLUSTER}`);
    expect(await opensslVerify({ file: certificate.chainFile }, fleet.rootA.certificatePem, dir)).toMatch(
      /: OK$/,
    );
  });

  it("injects istio-proxy into a labelled namespace's pods with istiod's own webhook", async () => {
    // Act
    const [pod] = await runningPods('shop', 'app=app');

    // Assess
    const names = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['istio-proxy', 'app']));
    expect(pod?.metadata?.labels?.['security.istio.io/tlsMode']).toBe('istio');
  });

  it("gives the injected pod's pilot-agent a SPIFFE certificate of its service account", async () => {
    // Prepare
    const [pod] = await runningPods('shop', 'app=app');

    // Act
    const certificate = await proxyCertificate(pod as V1Pod);

    // Assess
    expect(certificate.subjectAltName).toBe('spiffe://cluster.local/ns/shop/sa/app');
    expect(certificate.issuer).toContain(`L = ${CLUSTER}`);
    expect(await opensslVerify({ file: certificate.chainFile }, fleet.rootA.certificatePem, dir)).toMatch(
      /: OK$/,
    );
  });

  it("lets kube-apiserver's pod proxy reach istiod's monitoring port, as kubectl get --raw does", async () => {
    // Prepare: the API server proxies only to routable pod addresses; the lab's pods show one
    const [istiod] = await runningPods('istio-system', 'app=istiod');
    const name = istiod?.metadata?.name ?? '';

    // Act
    const metrics = await kubectl([
      'get',
      '--raw',
      `/api/v1/namespaces/istio-system/pods/${name}:15014/proxy/metrics`,
    ]);

    // Assess: istiod's own CA metrics, with the expiry of the intermediate it signs with
    expect(istiod?.status?.podIP).toMatch(/^10\.101\.\d+\.\d+$/);
    const expiry = /^citadel_server_cert_chain_expiry_timestamp (\S+)$/m.exec(metrics)?.[1];
    const intermediate = fleet.intermediates.get(CLUSTER);
    expect(Number(expiry) * 1000).toBe(
      Date.parse(new X509Certificate(intermediate?.certificatePem ?? '').validTo),
    );
  });

  it('starts no server outside the loopback range', async () => {
    // Act
    const now = await listeningAddresses();

    // Assess
    const added = [...now].filter((address) => !listenersBefore.has(address));
    expect(added.length).toBeGreaterThan(0);
    const outside = added.filter((address) => !/^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$/.test(address));
    expect(outside).toEqual([]);
  });
});

describe('negative control: what real istiod does with a root-cert.pem holding only a new root', () => {
  it('drops the write and keeps signing with the old intermediate', async () => {
    // Prepare: a complete, valid plug-in CA under a new root B, with B alone in root-cert.pem.
    const rootB = await createRootCa({ commonName: 'meshtrust lab Root B' });
    const intermediateB = await createIntermediateCa({
      cluster: CLUSTER,
      issuer: rootB,
      commonName: 'Intermediate B',
    });
    const files = {
      'ca-cert.pem': intermediateB.certificatePem,
      'ca-key.pem': intermediateB.privateKeyPem,
      'cert-chain.pem': `${intermediateB.certificatePem}${rootB.certificatePem}`,
      'root-cert.pem': rootB.certificatePem,
    };
    const [istiod] = await runningPods('istio-system', 'app=istiod');
    const istiodLog = join(
      fleet.podRootfs(CLUSTER, istiod?.metadata?.uid ?? ''),
      '..',
      'logs',
      `istio-system.${istiod?.metadata?.name}.discovery.log`,
    );

    // Act: write it, let the kubelet stand-in sync the volume, then restart the workload.
    await kit.writeCacerts(CLUSTER, files);
    let log = '';
    for (
      let waited = 0;
      waited < 30_000 && !log.includes('Updating new ROOT-CA not supported');
      waited += 500
    ) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      log = await readFile(istiodLog, 'utf8');
    }
    await kubectl(['-n', 'shop', 'rollout', 'restart', 'deployment/app']);
    await kubectl(['-n', 'shop', 'rollout', 'status', 'deployment/app', '--timeout=120s']);
    let pods: V1Pod[] = [];
    for (let waited = 0; waited < 30_000; waited += 500) {
      pods = await runningPods('shop', 'app=app');
      if (pods.length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const certificate = await proxyCertificate(pods[0] as V1Pod);

    // Assess
    expect(log).toContain('Updating new ROOT-CA not supported');
    expect(certificate.issuer).not.toContain('Intermediate B');
    expect(await opensslVerify({ file: certificate.chainFile }, fleet.rootA.certificatePem, dir)).toMatch(
      /: OK$/,
    );
    expect(await opensslVerify({ file: certificate.chainFile }, rootB.certificatePem, dir)).not.toMatch(
      /: OK$/,
    );
  });
});
