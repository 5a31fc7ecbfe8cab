// The finding that made the rotation wrong, on real Istio: without PCDS (PROXY_CONFIG_XDS_AGENT off,
// Istio's default), a running proxy keeps the roots of its last certificate. istiod loads A+B and
// publishes it to every namespace (what verify-trust checks), yet the proxy still trusts only A, so a
// peer restarted onto a B-chained certificate fails against it until it renews (half of 24 h by
// default). The rotation must wait for proxies, not for ConfigMaps (issue 12).
//
// Calibration (issue 11, item 4: "which probe pairs fail after restart orders"): the model engine plays
// the same steps, with PCDS off as here, and must give the same verdict for each direction of traffic
// between the restarted cluster and the other one. Where they differ, the model is wrong.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type HandshakeOutcome, mtlsHandshake } from '../../../lab/istio/mtls-handshake.js';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { base64Data } from '../../../lab/seed-cluster.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { type CaMaterial, createIntermediateCa, createRootCa } from '../../../lambdas/core/pki/index.js';
import {
  eventually,
  holdsCertificate,
  type IstioFleetKit,
  sleep,
  startTestFleet,
} from '../../support/istio-fleet-kit.js';

const CLUSTERS = ['lab-1', 'lab-2'];
const VOLUME_SYNC_MS = 2_000;

jest.setTimeout(240_000);

let dir: string;
let fleet: IstioFleet;
let kit: IstioFleetKit;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-istio3-'));
  ({ fleet, kit } = await startTestFleet({
    dir,
    clusters: CLUSTERS,
    proxyMetadata: {},
    volumeSyncPeriodMs: VOLUME_SYNC_MS,
  }));
  for (const cluster of CLUSTERS) await kit.deployApp(cluster);
}, 60 * 60_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('PCDS off: a running proxy keeps the roots of its last certificate', () => {
  it('fails a peer restarted onto a B-chained certificate although its namespace shows A+B', async () => {
    // Prepare: A+B in both clusters' cacerts, published by both istiods.
    const rootB = await createRootCa({ commonName: 'meshtrust lab Root B' });
    for (const cluster of CLUSTERS) {
      const current = await kit.cacerts(cluster);
      await kit.writeCacerts(cluster, {
        ...current,
        'root-cert.pem': `${current['root-cert.pem']}${rootB.certificatePem}`,
      });
    }
    const published = await eventually(async () => {
      const bundles = await Promise.all(CLUSTERS.map((cluster) => kit.publishedRoots(cluster, 'shop')));
      return bundles.every((bundle) => holdsCertificate(bundle, rootB.certificatePem));
    }, 60_000);
    const lab2Pod = await kit.appPod('lab-2');
    // A push would arrive within seconds of istiod's reload; give it ample time not to.
    await sleep(5 * VOLUME_SYNC_MS);

    // Act: lab-1 switches to int_B and restarts its workload onto it.
    const { moved } = await kit.switchIntermediate('lab-1', rootB);
    const lab2Roots = await kit.proxyFile('lab-2', lab2Pod, 'root-cert.pem');
    const outcome = await kit.handshake('lab-1', 'lab-2');
    const back = await kit.handshake('lab-2', 'lab-1');
    const model = await modelVerdicts(rootB);

    // Assess
    expect(published).toBe(true);
    expect(moved).toBe(true);
    expect((await kit.appPod('lab-2')).metadata?.uid).toBe(lab2Pod.metadata?.uid);
    expect(holdsCertificate(lab2Roots, rootB.certificatePem)).toBe(false);
    expect(outcome).toEqual(expect.objectContaining({ ok: false, side: 'server' }));
    expect(back).toEqual(expect.objectContaining({ ok: false, side: 'client' }));
    // Calibration: the model's verdicts, direction by direction, are istiod's and pilot-agent's.
    expect(model).toEqual({ 'lab-1 -> lab-2': verdict(outcome), 'lab-2 -> lab-1': verdict(back) });
  });
});

type Verdict = 'ok' | 'client refuses' | 'server refuses';

function verdict(outcome: HandshakeOutcome): Verdict {
  return outcome.ok ? 'ok' : outcome.side === 'client' ? 'client refuses' : 'server refuses';
}

/**
 * The same steps on the model engine, PCDS off, certificates long enough that nobody renews meanwhile:
 * A+B appended to both clusters' root-cert.pem, lab-1 on an intermediate of B, its workload restarted.
 */
async function modelVerdicts(rootB: CaMaterial): Promise<Record<string, Verdict>> {
  const lab: Lab = await startLab({
    clusters: 2,
    workloadsPerCluster: 1,
    pcds: false,
    workloadCertTtlMs: 10 * 60_000,
    proberIntervalMs: 0,
  });
  try {
    const files = (cluster: string) =>
      Object.fromEntries(
        Object.entries(lab.cluster(cluster).store.get('Secret', 'istio-system', 'cacerts').data ?? {}).map(
          ([key, value]) => [key, Buffer.from(String(value), 'base64').toString('utf8')],
        ),
      );
    const write = async (cluster: string, data: Record<string, string>) => {
      const { store, istiod } = lab.cluster(cluster);
      const secret = store.get('Secret', 'istio-system', 'cacerts');
      store.update({ ...secret, data: base64Data(data) });
      await istiod.idle();
    };
    for (const cluster of CLUSTERS) {
      const current = files(cluster);
      await write(cluster, {
        ...current,
        'root-cert.pem': `${current['root-cert.pem']}${rootB.certificatePem}`,
      });
    }
    const intermediate = await createIntermediateCa({ cluster: 'lab-1', issuer: rootB });
    await write('lab-1', {
      ...files('lab-1'),
      'ca-cert.pem': intermediate.certificatePem,
      'ca-key.pem': intermediate.privateKeyPem,
      'cert-chain.pem': `${intermediate.certificatePem}${rootB.certificatePem}`,
    });
    const lab1 = lab.cluster('lab-1');
    const app = lab1.store.get('Deployment', 'shop', 'app-01');
    lab1.store.update({
      ...app,
      spec: {
        ...app.spec,
        template: {
          ...app.spec.template,
          metadata: {
            ...app.spec.template.metadata,
            annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() },
          },
        },
      },
    });
    // The app's pods only: the gateways in istio-system are not restarted here and keep int_A.
    const apps = (cluster: string) =>
      lab
        .cluster(cluster)
        .istiod.identities()
        .filter((identity) => identity.namespace === 'shop');
    const issuerB = lab1.istiod.current()?.caCertFingerprint;
    const movedToB = await eventually(async () => {
      const identities = apps('lab-1');
      return identities.length > 0 && identities.every((identity) => identity.issuerFingerprint === issuerB);
    }, 30_000);
    if (!movedToB) throw new Error("the model did not move lab-1's app to the B-signed intermediate");
    const identityOf = (cluster: string) => {
      const [identity] = apps(cluster);
      if (!identity) throw new Error(`the model gave ${cluster}'s app no workload identity`);
      const full = lab.cluster(cluster).istiod.identityOf(identity.namespace, identity.podName);
      if (!full) throw new Error(`the model gave ${cluster} no workload identity`);
      return full;
    };
    const shake = (from: string, to: string) =>
      mtlsHandshake(identityOf(from), identityOf(to), { trustDomain: 'cluster.local', timeoutMs: 5_000 });
    return {
      'lab-1 -> lab-2': verdict(await shake('lab-1', 'lab-2')),
      'lab-2 -> lab-1': verdict(await shake('lab-2', 'lab-1')),
    };
  } finally {
    await lab.stop();
  }
}
