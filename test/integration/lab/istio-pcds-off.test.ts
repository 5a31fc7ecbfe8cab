// The finding that made the rotation wrong, on real Istio: without PCDS (PROXY_CONFIG_XDS_AGENT off,
// Istio's default), a running proxy keeps the roots of its last certificate. istiod loads A+B and
// publishes it to every namespace (what verify-trust checks), yet the proxy still trusts only A, so a
// peer restarted onto a B-chained certificate fails against it until it renews (half of 24 h by
// default). The rotation must wait for proxies, not for ConfigMaps (issue 12).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { createRootCa } from '../../../lambdas/core/pki/index.js';
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

    // Assess
    expect(published).toBe(true);
    expect(moved).toBe(true);
    expect((await kit.appPod('lab-2')).metadata?.uid).toBe(lab2Pod.metadata?.uid);
    expect(holdsCertificate(lab2Roots, rootB.certificatePem)).toBe(false);
    expect(outcome).toEqual(expect.objectContaining({ ok: false, side: 'server' }));
  });
});
