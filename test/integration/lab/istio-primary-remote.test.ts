// The istio engine's primary-remote topology, as real Istio builds it: lab-2 is a remote of lab-1. It
// runs no istiod and holds no cacerts; its pods are injected, signed and configured by lab-1's real
// istiod, which watches lab-2's real API server through a remote secret (istioctl
// create-remote-secret) and publishes istio-ca-root-cert into lab-2's namespaces. So lab-2's
// workloads hold leaves signed by lab-1's intermediate, and handshakes across the two clusters work.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type IstioLab, startIstioLab } from '../../../lab/istio-install/start-istio-lab.js';
import { runKubectl } from '../../../lab/kube/kubectl-runner.js';
import { parseCertificatesPem } from '../../../lambdas/core/pki/index.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';

jest.setTimeout(120_000);

let dir: string;
let lab: IstioLab;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-istio-pr-'));
  lab = await startIstioLab({
    binaries: await controlPlaneBinaries(),
    dir,
    clusters: 2,
    workloadsPerCluster: 1,
    topology: 'primary-remote',
    region: 'eu-west-1',
    meshId: 'lab',
    istiodEnv: { ISTIO_MULTIROOT_MESH: 'true' },
    proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
    istiodReplicas: 1,
    volumeSyncPeriodMs: 2_000,
    // Istio labs cannot run side by side on one machine; another test file's may be running.
    waitForOtherLabMs: 30 * 60_000,
  });
}, 60 * 60_000);

afterAll(async () => {
  await lab?.stop();
  await rm(dir, { recursive: true, force: true });
});

function fingerprintOf(pem: string | undefined): string | undefined {
  return pem === undefined ? undefined : parseCertificatesPem(pem)[0]?.fingerprint;
}

async function kubectl(cluster: string, args: string[]) {
  const found = lab.fleet.controlPlane.clusters.find((candidate) => candidate.name === cluster);
  if (!found) throw new Error(`no cluster ${cluster}`);
  return runKubectl(args, { kubeconfig: found.adminKubeconfig, cacheDir: join(dir, 'kube-cache') });
}

describe('istio engine, topology primary-remote', () => {
  it('names lab-2 a remote of lab-1, starting on lab-1 intermediate', () => {
    // Assess
    const [lab1, lab2] = lab.clusters;
    expect(lab2?.primary).toBe('lab-1');
    expect(lab1?.primary).toBeUndefined();
    expect(fingerprintOf(lab2?.initialIntermediate.certificatePem)).toBe(
      fingerprintOf(lab1?.initialIntermediate.certificatePem),
    );
  });

  it('runs no istiod and holds no cacerts in the remote', async () => {
    // Act
    const cacerts = await kubectl('lab-2', ['-n', 'istio-system', 'get', 'secret', 'cacerts']);
    const istiodPods = await kubectl('lab-2', [
      '-n',
      'istio-system',
      'get',
      'pods',
      '-l',
      'app=istiod',
      '-o',
      'name',
    ]);
    const remoteSecrets = await kubectl('lab-1', [
      '-n',
      'istio-system',
      'get',
      'secrets',
      '-l',
      'istio/multiCluster=true',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);

    // Assess
    expect(cacerts.exitCode).not.toBe(0);
    expect(cacerts.stderr).toMatch(/NotFound/);
    expect(istiodPods.stdout.trim()).toBe('');
    expect(remoteSecrets.stdout).toMatch(/istio-remote-secret-lab-2/);
  });

  it("publishes lab-1's root into the remote's namespaces", async () => {
    // Act
    const published = await kubectl('lab-2', [
      '-n',
      'shop',
      'get',
      'configmap',
      'istio-ca-root-cert',
      '-o',
      'jsonpath={.data.root-cert\\.pem}',
    ]);

    // Assess
    expect(published.stdout.trim()).toBe(lab.rootA.certificatePem.trim());
  });

  it("signs the remote's workloads and gateways with lab-1's intermediate", async () => {
    // Act
    const held = await lab.workloadCertificates();
    const remote = held.filter((certificate) => certificate.cluster === 'lab-2');

    // Assess: 1 app, the object-selected probe, the ingress and the east-west gateway.
    expect(remote.map((certificate) => certificate.pod.split('/')[0]).sort()).toEqual([
      'istio-system',
      'istio-system',
      'shop',
      'tools',
    ]);
    const lab1Intermediate = fingerprintOf(lab.clusters[0]?.initialIntermediate.certificatePem);
    expect(lab1Intermediate).toBeDefined();
    for (const certificate of remote) expect(certificate.issuer).toBe(lab1Intermediate);
  });

  it('makes handshakes across the primary and its remote', async () => {
    // Act
    const round = await lab.prober.runRound();
    const stats = lab.prober.stats();

    // Assess
    expect(round.failures).toEqual([]);
    expect(stats.byClusterPair['lab-1 -> lab-2']?.attempted).toBeGreaterThan(0);
    expect(stats.byClusterPair['lab-2 -> lab-1']?.attempted).toBeGreaterThan(0);
    expect(stats.byClusterPair['lab-2 -> lab-2']?.attempted).toBeGreaterThan(0);
  });
});
