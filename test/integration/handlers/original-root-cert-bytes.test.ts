// The handlers against clusters whose original root-cert.pem is not canonical PEM (CRLF line ends,
// openssl's subject=/issuer= lines, no final newline), with the lab's istiod behaving as Istio 1.29:
// it takes a changed root-cert.pem only when one file's bytes contain the other's. Every write must be
// taken (no rejection, istiod runs what the Secret holds) and no handshake may fail. The byte checks
// use Buffer.indexOf, not meshtrust's helpers.
import { jest } from '@jest/globals';
import type { RootCertStyle } from '../../../lab/lab-options.js';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { type HandlerLab, startHandlerLab } from './handler-lab.js';
import { ON_PRIMARIES, probedPhase, type RotationByHand, rotationByHand } from './rotation-steps.js';

jest.setTimeout(180_000);

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** Where `inner` starts inside `outer`, byte for byte, or -1. */
const offsetOf = (outer: string, inner: string) => bytes(outer).indexOf(bytes(inner));

function rootCertOf(h: HandlerLab, cluster: string): string {
  return h.cacertsOf(cluster)['root-cert.pem'];
}

/** Every istiod took every write and holds exactly what its Secret holds; no handshake failed. */
function expectIstiodRunsTheSecrets(h: HandlerLab): void {
  for (const cluster of h.lab.clusters) {
    expect({ cluster: cluster.name, rejections: cluster.istiod.rejections() }).toEqual({
      cluster: cluster.name,
      rejections: [],
    });
    const secret = h.cacertsOf(cluster.name);
    const held = cluster.istiod.current();
    expect(bytes(held?.rootCertPem ?? '').equals(bytes(secret['root-cert.pem']))).toBe(true);
    expect(held?.caCertPem).toBe(secret['ca-cert.pem']);
  }
  const failures = h.lab.prober
    .failures()
    .map((f) => `${f.phase}: ${f.from} -> ${f.to} (${f.side}) ${f.error}`);
  expect(failures).toEqual([]);
}

/** Two clusters whose original root-cert.pem has `rootCertStyle`, with istiod as Istio 1.29. */
function startIstio129Lab(rootCertStyle: RootCertStyle): Promise<HandlerLab> {
  return startHandlerLab({
    clusters: 2,
    workloadsPerCluster: 3,
    workloadCertTtlMs: 10_000,
    rootCertStyle,
    istioVersion: '1.29',
  });
}

/** The prober's phase and a probe round after it, only where the test names one. */
function probed<T>(h: HandlerLab, phase: string, run: () => Promise<T>): Promise<T> {
  return probedPhase(h)(phase, run);
}

/** A rotation of this lab's clusters (all primaries). */
function rotationOf(h: HandlerLab, executionId: string, mode: 'intermediate' | 'emergency') {
  return rotationByHand(h, { executionId, mode, writers: ON_PRIMARIES });
}

/** From preflight to verify-workloads of an emergency rotation, probing the Maps; `after` runs after each. */
async function rotateThroughVerifyWorkloads(
  h: HandlerLab,
  rotation: RotationByHand<typeof ON_PRIMARIES>,
  after: (phase: string) => void = () => {},
): Promise<void> {
  await rotation.preflight();
  await rotation.stageRoot();
  await probed(h, 'distribute', () => rotation.distributeBundle());
  after('distribute');
  await probed(h, 'verify-trust', () => rotation.verifyTrust());
  await rotation.awaitProxyTrust();
  await probed(h, 'reissue', () => rotation.reissueIntermediate());
  after('reissue');
  await probed(h, 'restart', () => rotation.restartWorkloads('rotation'));
  await probed(h, 'verify-workloads', () => rotation.verifyWorkloads());
}

describe.each(['crlf', 'openssl-text', 'no-final-newline'] as RootCertStyle[])(
  'clusters whose original root-cert.pem has the style %s, istiod as Istio 1.29',
  (rootCertStyle) => {
    let h: HandlerLab;
    beforeAll(async () => {
      h = await startIstio129Lab(rootCertStyle);
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('intermediate mode: istiod takes the new intermediate, root-cert.pem stays byte-identical', async () => {
      // Prepare
      const rotation = rotationOf(h, h.executionId(`rekey-${rootCertStyle}`), 'intermediate');
      const original = rootCertOf(h, 'lab-1');
      // Act
      await rotation.preflight('lab-1');
      const [reissued] = await probed(h, 'rekey/reissue', () => rotation.reissueIntermediate(['lab-1']));
      await probed(h, 'rekey/restart', () => rotation.restartWorkloads('rotation', ['lab-1']));
      await rotation.verifyWorkloads(['lab-1']);
      // Assess
      expect(bytes(rootCertOf(h, 'lab-1')).equals(bytes(original))).toBe(true);
      expect(h.lab.cluster('lab-1').istiod.current()?.caCertFingerprint).toBe(reissued.intermediateAfter);
      expectIstiodRunsTheSecrets(h);
    });

    it('emergency rotation: each root-cert.pem written contains the one before or is part of it, and istiod takes it', async () => {
      // Prepare
      const rotation = rotationOf(h, h.executionId(`emergency-${rootCertStyle}`), 'emergency');
      const names = rotation.clusters;
      const snapshot = () => new Map(names.map((name) => [name, rootCertOf(h, name)]));
      const original = snapshot();
      const snapshots = new Map<string, Map<string, string>>();
      // Act
      await rotateThroughVerifyWorkloads(h, rotation, (phase) => snapshots.set(phase, snapshot()));
      await probed(h, 'retire', () => rotation.retireRoot());
      const retired = snapshot();
      await rotation.promoteRoot();
      await h.lab.waitForSettled();
      await probed(h, 'after', async () => ({}));
      const distributed = snapshots.get('distribute') as Map<string, string>;
      const reissued = snapshots.get('reissue') as Map<string, string>;
      const { stagedRoot } = rotation;
      // Assess
      for (const name of names) {
        expect(offsetOf(distributed.get(name) as string, original.get(name) as string)).toBe(0);
        expect(bytes(reissued.get(name) as string).equals(bytes(distributed.get(name) as string))).toBe(true);
        expect(offsetOf(reissued.get(name) as string, retired.get(name) as string)).toBeGreaterThan(0);
        expect(h.lab.snapshotCacerts(name).rootFingerprints).toEqual([stagedRoot.fingerprint]);
      }
      expectIstiodRunsTheSecrets(h);
    });
  },
);

describe('a rotation rolled back after retire-root, original root-cert.pem with CRLF line ends, Istio 1.29', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startIstio129Lab('crlf');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('ends byte-identical to the start with every rollback write taken by istiod', async () => {
    // Prepare
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const rotation = rotationOf(h, h.executionId('crlf-rollback'), 'emergency');
    const names = rotation.clusters;
    await rotateThroughVerifyWorkloads(h, rotation);
    await probed(h, 'retire', () => rotation.retireRoot(['lab-1'])); // lab-2's step fails
    const retired = rootCertOf(h, 'lab-1');
    // Act
    const trust = await probed(h, 'rollback-trust', () => rotation.rollback('restore-trust'));
    const trusted = rootCertOf(h, 'lab-1');
    // as the state machine does: lab-1's proxies learn the restored old root before any restart
    await probed(h, 'rollback-await-proxy-trust', () => rotation.awaitRestoredProxyTrust(trust));
    await probed(h, 'rollback-intermediate', () => rotation.rollback('restore-intermediate'));
    await probed(h, 'rollback-restart', () => rotation.restartWorkloads('rollback'));
    await probed(h, 'rollback-restore', () => rotation.rollback('restore-original'));
    await rotation.dropPendingRoot();
    await h.lab.waitForSettled();
    await probed(h, 'after-rollback', async () => ({}));
    // Assess
    const original = start.get('lab-1')?.['root-cert.pem'] as string;
    // restore-trust writes distribute-bundle's text again (the original, then B), which holds B's bytes
    expect(offsetOf(trusted, original)).toBe(0);
    expect(offsetOf(trusted, retired)).toBeGreaterThan(0);
    for (const name of names) expect(h.cacertsOf(name)).toEqual(start.get(name));
    expect(bytes(rootCertOf(h, 'lab-1')).equals(bytes(original))).toBe(true);
    expectIstiodRunsTheSecrets(h);
  });
});
