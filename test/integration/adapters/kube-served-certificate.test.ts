// readServedCertificate on an istio-engine cluster: the rotator, with its EKS token and the RBAC of
// deploy/kubernetes/rbac.yaml, port-forwards through the real kube-apiserver (the product's
// kube-port-forward.ts, a WebSocket) and the node's kubelet-streaming to the app pod's Envoy admin port,
// where the lab's Envoy admin stand-in serves the chain the pod's real pilot-agent holds. The issuer it
// reports must be the intermediate istiod signed with, before and after a switch of intermediate
// (issue 17: wait until proxies serve int_B). The verifier (the gate verify-workloads) reads the same;
// the viewer and the expiry check, without pods/portforward, are refused; a pod with no proxy has
// nothing on port 15000. rbac.yaml's policy meshtrust-envoy-admin-only keeps the rotator's and the
// verifier's port-forwards to port 15000: another port, or kubectl's forward that names no port in the
// request, is refused by the real API server, while the administrator's are not.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { KubeConfig, PortForward, type V1Pod } from '@kubernetes/client-node';
import type { LabIdentities, LabIdentity } from '../../../lab/eks/lab-identities.js';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { renderStaticTokenKubeconfig } from '../../../lab/kube/static-token-kubeconfig.js';
import { createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import { openPortForward } from '../../../lambdas/adapters/kube/kube-port-forward.js';
import { readServedCertificate } from '../../../lambdas/adapters/kube/served-certificate.js';
import { certificateFingerprint, parseCertificatesPem } from '../../../lambdas/core/pki/index.js';
import { PreconditionFailed, VerificationFailed } from '../../../lambdas/core/rotation-errors.js';
import { type IstioFleetKit, startTestFleet } from '../../support/istio-fleet-kit.js';

const CLUSTER = 'lab-1';

jest.setTimeout(240_000);

let dir: string;
let fleet: IstioFleet;
let kit: IstioFleetKit;
let identities: LabIdentities;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-served-cert-'));
  ({ fleet, kit, identities } = await startTestFleet({
    dir,
    clusters: [CLUSTER],
    proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
    volumeSyncPeriodMs: 2_000,
  }));
  await kit.deployApp(CLUSTER);
}, 60 * 60_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

function clientAs(identity: LabIdentity) {
  const cluster = fleet.controlPlane.clusters[0];
  if (!cluster) throw new Error('no cluster');
  return createClusterClient({
    cluster: { name: cluster.name, endpoint: cluster.endpoint, caPem: cluster.caPem },
    tokenProvider: createEksTokenProvider({
      clusterName: cluster.name,
      region: 'eu-west-1',
      credentials: identity.credentials,
    }),
    retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
  });
}

function refOf(pod: V1Pod) {
  return { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '' };
}

describe('readServedCertificate', () => {
  it("gives the rotator the served leaf and, as its issuer, the cluster's intermediate", async () => {
    // Prepare
    const pod = await kit.appPod(CLUSTER);
    const heldLeaf = async () =>
      parseCertificatesPem(await kit.proxyFile(CLUSTER, pod, 'cert-chain.pem'))[0]?.fingerprint;
    const intermediate = fleet.intermediates.get(CLUSTER);

    // Act: the proxy may renew while the read is under way, so its leaf is read before and after
    const before = await heldLeaf();
    const served = await readServedCertificate(clientAs(identities.rotator), refOf(pod));
    const after = await heldLeaf();

    // Assess
    expect(served).toMatchObject({
      namespace: 'shop',
      pod: pod.metadata?.name,
      issuerFingerprint: certificateFingerprint(intermediate?.certificatePem ?? ''),
    });
    expect([before, after]).toContain(served.leafFingerprint);
  });

  it('reports the new intermediate once the restarted proxy serves a certificate from it (issue 17)', async () => {
    // Prepare
    const { intermediate, moved } = await kit.switchIntermediate(CLUSTER, fleet.rootA);
    const pod = await kit.appPod(CLUSTER);

    // Act
    const served = await readServedCertificate(clientAs(identities.rotator), refOf(pod));

    // Assess
    expect(moved).toBe(true);
    expect(served.issuerFingerprint).toBe(certificateFingerprint(intermediate.certificatePem));
    expect(served.issuerFingerprint).not.toBe(
      certificateFingerprint(fleet.intermediates.get(CLUSTER)?.certificatePem ?? ''),
    );
  });

  it('gives the verifier, as verify-workloads runs, what it gives the rotator', async () => {
    // Prepare
    const pod = await kit.appPod(CLUSTER);

    // Act: the proxy may renew between the two reads, so the leaf it holds after them is read too
    const asRotator = await readServedCertificate(clientAs(identities.rotator), refOf(pod));
    const asVerifier = await readServedCertificate(clientAs(identities.verifier), refOf(pod));
    const heldAfter = parseCertificatesPem(await kit.proxyFile(CLUSTER, pod, 'cert-chain.pem'))[0]
      ?.fingerprint;

    // Assess
    expect(asVerifier).toMatchObject({
      pod: pod.metadata?.name,
      issuerFingerprint: asRotator.issuerFingerprint,
    });
    expect([asRotator.leafFingerprint, heldAfter]).toContain(asVerifier.leafFingerprint);
  });

  it.each([
    ['the viewer', 'viewer'],
    ['the expiry check', 'expiryCheck'],
  ] as const)('refuses %s, who may not port-forward, naming pods/portforward', async (_, who) => {
    // Prepare
    const pod = await kit.appPod(CLUSTER);

    // Act
    const reading = readServedCertificate(clientAs(identities[who]), refOf(pod));

    // Assess
    await expect(reading).rejects.toThrow(PreconditionFailed);
    await expect(reading).rejects.toThrow(/forbidden.*pods\/portforward.*meshtrust-envoy-admin/);
  });

  it('fails verification on a pod without a proxy: nothing answers on its port 15000', async () => {
    // Prepare
    const [istiod] = (
      JSON.parse(
        await kit.kubectl(CLUSTER, ['-n', 'istio-system', 'get', 'pods', '-l', 'app=istiod', '-o', 'json']),
      ) as { items: V1Pod[] }
    ).items;
    if (!istiod) throw new Error('no istiod pod');

    // Act
    const reading = readServedCertificate(clientAs(identities.rotator), refOf(istiod));

    // Assess
    await expect(reading).rejects.toThrow(VerificationFailed);
    await expect(reading).rejects.toThrow(/nothing answered on the pod's port 15000/);
  });
});

/** Opens the product's (WebSocket) port-forward; what happened: refused at the upgrade, or opened. */
async function openForward(client: ReturnType<typeof clientAs>, pod: V1Pod, port: number): Promise<string> {
  try {
    const forward = await openPortForward(
      client.connection,
      pod.metadata?.namespace ?? '',
      pod.metadata?.name ?? '',
      port,
    );
    forward.close();
    return 'opened';
  } catch (error) {
    return `refused: ${(error as { message?: string }).message}`;
  }
}

/** The administrator's (client certificate) forward, through client-node as a cluster's own tools would. */
async function openAdminForward(kubeconfigPath: string, pod: V1Pod, port: number): Promise<string> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  try {
    const ws = await new PortForward(config).portForward(
      pod.metadata?.namespace ?? '',
      pod.metadata?.name ?? '',
      [port],
      new PassThrough(),
      new PassThrough(),
      new PassThrough(),
    );
    if (typeof ws !== 'function') ws.close();
    return 'opened';
  } catch (error) {
    return `refused: ${(error as { message?: string }).message}`;
  }
}

describe("rbac.yaml's policy meshtrust-envoy-admin-only on the real API server", () => {
  it.each(['rotator', 'verifier'] as const)(
    'refuses the %s a port-forward to any port but 15000, and lets the administrator open it',
    async (who) => {
      // Prepare
      const pod = await kit.appPod(CLUSTER);
      const cluster = fleet.controlPlane.clusters[0];
      if (!cluster) throw new Error('no cluster');

      // Act
      const elsewhere = await openForward(clientAs(identities[who]), pod, 15020);
      const toEnvoyAdmin = await openForward(clientAs(identities[who]), pod, 15000);
      const asAdmin = await openAdminForward(cluster.adminKubeconfig, pod, 15020);

      // Assess
      expect(elsewhere).toMatch(/^refused: .*403/);
      expect(toEnvoyAdmin).toBe('opened');
      expect(asAdmin).toBe('opened');
    },
  );

  it.each(['rotator', 'verifier'] as const)(
    "refuses the %s kubectl's port-forward, which names its port only inside the stream",
    async (who) => {
      // Prepare
      const pod = await kit.appPod(CLUSTER);
      const cluster = fleet.controlPlane.clusters[0];
      if (!cluster) throw new Error('no cluster');
      const token = await createEksTokenProvider({
        clusterName: cluster.name,
        region: 'eu-west-1',
        credentials: identities[who].credentials,
      })();
      const kubeconfig = join(dir, `${who}.kubeconfig`);
      await writeFile(
        kubeconfig,
        renderStaticTokenKubeconfig({
          clusterName: cluster.name,
          server: cluster.endpoint,
          caPem: cluster.caPem,
          token,
        }),
        { mode: 0o600 },
      );

      // Act
      const result = await promisify(execFile)(
        'kubectl',
        ['--kubeconfig', kubeconfig, '-n', 'shop', 'port-forward', `pod/${pod.metadata?.name}`, ':15000'],
        { timeout: 30_000, env: { ...process.env, KUBECONFIG: '' } },
      ).then(
        () => 'ran',
        (error: { stderr?: string }) => `failed: ${error.stderr ?? ''}`,
      );

      // Assess
      expect(result).toMatch(
        /^failed: .*meshtrust-rotator and meshtrust-verifier may port-forward only to Envoy's admin port 15000/s,
      );
    },
  );
});
