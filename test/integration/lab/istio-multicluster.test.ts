// Two clusters of the istio engine under one root, with real mTLS handshakes between their workloads,
// each side presenting and verifying with what its real pilot-agent holds. It shows what the model
// engine used to get wrong: a B-signed intermediate in one cluster breaks traffic with a cluster that
// does not trust B yet; and a running proxy learns a new root without a restart because istiod pushes
// it (PCDS, PROXY_CONFIG_XDS_AGENT=true). istio-pcds-off.test.ts shows the same mesh without PCDS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { type CaMaterial, createRootCa } from '../../../lambdas/core/pki/index.js';
import {
  eventually,
  holdsCertificate,
  type IstioFleetKit,
  startTestFleet,
} from '../../support/istio-fleet-kit.js';

const CLUSTERS = ['lab-1', 'lab-2'];

jest.setTimeout(240_000);

let dir: string;
let fleet: IstioFleet;
let kit: IstioFleetKit;
let rootB: CaMaterial;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-istio2-'));
  ({ fleet, kit } = await startTestFleet({
    dir,
    clusters: CLUSTERS,
    proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
    volumeSyncPeriodMs: 2_000,
  }));
  for (const cluster of CLUSTERS) await kit.deployApp(cluster);
  rootB = await createRootCa({ commonName: 'meshtrust lab Root B' });
}, 60 * 60_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('two istio-engine clusters under one root', () => {
  it('complete real mTLS handshakes between their workloads, both ways', async () => {
    // Act
    const outcomes = [await kit.handshake('lab-1', 'lab-2'), await kit.handshake('lab-2', 'lab-1')];

    // Assess
    expect(outcomes).toEqual([{ ok: true }, { ok: true }]);
  });

  it('fail once lab-1 signs with an intermediate of root B that lab-2 does not trust (negative control)', async () => {
    // Prepare: lab-1 trusts A+B (B appended to the bytes of A).
    await kit.appendRoot('lab-1', rootB.certificatePem);
    const before = await kit.appPod('lab-1');

    // Act: lab-1 signs with int_B and its workload comes back with a certificate from it.
    const { moved } = await kit.switchIntermediate('lab-1', rootB);
    const outcomes = [await kit.handshake('lab-1', 'lab-2'), await kit.handshake('lab-2', 'lab-1')];

    // Assess
    expect(moved).toBe(true);
    expect((await kit.appPod('lab-1')).metadata?.uid).not.toBe(before.metadata?.uid);
    expect(outcomes).toEqual([
      expect.objectContaining({ ok: false, side: 'server' }),
      expect.objectContaining({ ok: false, side: 'client' }),
    ]);
  });

  it("recover without restarting lab-2's workload once lab-2's istiod pushes A+B to its proxies (PCDS)", async () => {
    // Prepare
    const before = await kit.appPod('lab-2');
    const current = await kit.cacerts('lab-2');

    // Act: lab-2 appends B to its root-cert.pem bytes; nothing in lab-2 is restarted.
    await kit.writeCacerts('lab-2', {
      ...current,
      'root-cert.pem': `${current['root-cert.pem']}${rootB.certificatePem}`,
    });
    const pushed = await eventually(
      async () =>
        holdsCertificate(await kit.proxyFile('lab-2', before, 'root-cert.pem'), rootB.certificatePem),
      60_000,
    );
    const outcomes = [await kit.handshake('lab-1', 'lab-2'), await kit.handshake('lab-2', 'lab-1')];

    // Assess
    expect(pushed).toBe(true);
    expect((await kit.appPod('lab-2')).metadata?.uid).toBe(before.metadata?.uid);
    expect(outcomes).toEqual([{ ok: true }, { ok: true }]);
  });
});
