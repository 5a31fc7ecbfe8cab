// The handlers against clusters whose original root-cert.pem is not canonical PEM (CRLF line ends,
// openssl's subject=/issuer= lines, no final newline), with the lab's istiod behaving as Istio 1.29:
// it takes a changed root-cert.pem only when one file's bytes contain the other's. Every write must be
// taken (no rejection, istiod runs what the Secret holds) and no handshake may fail. The byte checks
// use Buffer.indexOf, not meshtrust's helpers.
import { jest } from '@jest/globals';
import type { RootCertStyle } from '../../../lab/lab-options.js';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { handler as distributeBundleHandler } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as reissueIntermediateHandler } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as retireRootHandler } from '../../../lambdas/handlers/retire-root.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import { awaitProxyTrust, type HandlerLab, onPrimary, startHandlerLab } from './handler-lab.js';

const distributeBundle = onPrimary(distributeBundleHandler);
const reissueIntermediate = onPrimary(reissueIntermediateHandler);
const retireRoot = onPrimary(retireRootHandler);

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

async function probed<T>(h: HandlerLab, phase: string, run: () => Promise<T>): Promise<T> {
  h.lab.prober.setPhase(phase);
  const result = await run();
  await h.lab.prober.runRound();
  return result;
}

describe.each(['crlf', 'openssl-text', 'no-final-newline'] as RootCertStyle[])(
  'clusters whose original root-cert.pem has the style %s, istiod as Istio 1.29',
  (rootCertStyle) => {
    let h: HandlerLab;
    beforeAll(async () => {
      h = await startHandlerLab({
        clusters: 2,
        workloadsPerCluster: 3,
        workloadCertTtlMs: 10_000,
        rootCertStyle,
        istioVersion: '1.29',
      });
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('intermediate mode: istiod takes the new intermediate, root-cert.pem stays byte-identical', async () => {
      // Prepare
      const executionId = h.executionId(`rekey-${rootCertStyle}`);
      const mode = 'intermediate' as const;
      const original = rootCertOf(h, 'lab-1');
      // Act
      const checked = await preflight({ executionId, mode, cluster: 'lab-1' });
      const item = {
        executionId,
        mode,
        cluster: 'lab-1',
        currentRoot: checked.currentRoot,
        stagedRoot: null,
      };
      const reissued = await probed(h, 'rekey/reissue', () => reissueIntermediate(item));
      await probed(h, 'rekey/restart', () => restartWorkloads({ ...item, purpose: 'rotation' }));
      await verifyWorkloads(item);
      // Assess
      expect(bytes(rootCertOf(h, 'lab-1')).equals(bytes(original))).toBe(true);
      expect(h.lab.cluster('lab-1').istiod.current()?.caCertFingerprint).toBe(reissued.intermediateAfter);
      expectIstiodRunsTheSecrets(h);
    });

    it('emergency rotation: each root-cert.pem written contains the one before or is part of it, and istiod takes it', async () => {
      // Prepare
      const executionId = h.executionId(`emergency-${rootCertStyle}`);
      const mode = 'emergency' as const;
      const names = h.lab.clusters.map((cluster) => cluster.name);
      const snapshot = () => new Map(names.map((name) => [name, rootCertOf(h, name)]));
      const original = snapshot();
      const eachCluster = <T>(run: (cluster: string) => Promise<T>) => Promise.all(names.map(run));
      // Act
      const checked = await preflight({ executionId, mode, cluster: null });
      const stagedRoot = await stageRoot({ executionId });
      const item = (cluster: string) => ({
        executionId,
        mode,
        cluster,
        currentRoot: checked.currentRoot,
        stagedRoot,
      });
      await probed(h, 'distribute', () => eachCluster((c) => distributeBundle(item(c))));
      const distributed = snapshot();
      await probed(h, 'verify-trust', () => eachCluster((c) => verifyTrust(item(c))));
      await awaitProxyTrust(checked);
      await probed(h, 'reissue', () => eachCluster((c) => reissueIntermediate(item(c))));
      const reissued = snapshot();
      await probed(h, 'restart', () =>
        eachCluster((c) => restartWorkloads({ ...item(c), purpose: 'rotation' })),
      );
      await probed(h, 'verify-workloads', () => eachCluster((c) => verifyWorkloads(item(c))));
      await probed(h, 'retire', () => eachCluster((c) => retireRoot(item(c))));
      const retired = snapshot();
      await promoteRoot({ executionId, stagedRoot });
      await h.lab.waitForSettled();
      await probed(h, 'after', async () => ({}));
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
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 3,
      workloadCertTtlMs: 10_000,
      rootCertStyle: 'crlf',
      istioVersion: '1.29',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('ends byte-identical to the start with every rollback write taken by istiod', async () => {
    // Prepare
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const executionId = h.executionId('crlf-rollback');
    const mode = 'emergency' as const;
    const names = h.lab.clusters.map((cluster) => cluster.name);
    const eachCluster = <T>(run: (cluster: string) => Promise<T>) => Promise.all(names.map(run));
    const checked = await preflight({ executionId, mode, cluster: null });
    const stagedRoot = await stageRoot({ executionId });
    const item = (cluster: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
    });
    await probed(h, 'distribute', () => eachCluster((c) => distributeBundle(item(c))));
    await probed(h, 'verify-trust', () => eachCluster((c) => verifyTrust(item(c))));
    await awaitProxyTrust(checked);
    await probed(h, 'reissue', () => eachCluster((c) => reissueIntermediate(item(c))));
    await probed(h, 'restart', () =>
      eachCluster((c) => restartWorkloads({ ...item(c), purpose: 'rotation' })),
    );
    await probed(h, 'verify-workloads', () => eachCluster((c) => verifyWorkloads(item(c))));
    await probed(h, 'retire', () => retireRoot(item('lab-1'))); // lab-2's step fails
    const retired = rootCertOf(h, 'lab-1');
    // Act
    const stage = (cluster: string, name: string) => ({ ...item(cluster), stage: name });
    await probed(h, 'rollback-trust', () => eachCluster((c) => rollback(stage(c, 'restore-trust'))));
    const trusted = rootCertOf(h, 'lab-1');
    await probed(h, 'rollback-intermediate', () =>
      eachCluster((c) => rollback(stage(c, 'restore-intermediate'))),
    );
    await probed(h, 'rollback-restart', () =>
      eachCluster((c) => restartWorkloads({ ...item(c), purpose: 'rollback' })),
    );
    await probed(h, 'rollback-restore', () => eachCluster((c) => rollback(stage(c, 'restore-original'))));
    await rollback({ executionId, stage: 'drop-pending-root' });
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
