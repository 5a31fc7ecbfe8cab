// The other two modes driven by hand over a 2-cluster lab with the prober running: an intermediate
// rekey of one cluster under the current root, then an emergency root rotation (no soak, restarts in
// one wave) of the whole fleet, neither failing a single handshake.
import { jest } from '@jest/globals';
import { certificateFingerprint } from '../../../lambdas/core/pki/index.js';
import { handler as distributeBundleHandler } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as reissueIntermediateHandler } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as retireRootHandler } from '../../../lambdas/handlers/retire-root.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import {
  awaitProxyTrust,
  expectNoKeyMaterial,
  type HandlerLab,
  onPrimary,
  startHandlerLab,
} from './handler-lab.js';

const distributeBundle = onPrimary(distributeBundleHandler);
const reissueIntermediate = onPrimary(reissueIntermediateHandler);
const retireRoot = onPrimary(retireRootHandler);

jest.setTimeout(180_000);

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 4, workloadCertTtlMs: 10_000 });
});
afterAll(async () => {
  await h?.stop();
});

function eachCluster<T>(run: (cluster: string) => Promise<T>): Promise<T[]> {
  return Promise.all(h.lab.clusters.map((cluster) => run(cluster.name)));
}

async function probed<T>(phase: string, run: () => Promise<T>): Promise<T> {
  h.lab.prober.setPhase(phase);
  const result = await run();
  expectNoKeyMaterial(result);
  await h.lab.prober.runRound();
  return result;
}

function failedHandshakes(): string[] {
  return h.lab.prober.failures().map((f) => `${f.phase}: ${f.from} -> ${f.to} (${f.side}) ${f.error}`);
}

describe('intermediate mode', () => {
  it("rekeys lab-2's intermediate under the current root and leaves root-cert and lab-1 alone", async () => {
    // Prepare
    const executionId = h.executionId('rekey');
    const mode = 'intermediate' as const;
    const lab1Before = h.cacertsOf('lab-1');
    const lab2Before = h.cacertsOf('lab-2');
    // Act
    const checked = await probed('rekey/preflight', () => preflight({ executionId, mode, cluster: 'lab-2' }));
    const item = { executionId, mode, cluster: 'lab-2', currentRoot: checked.currentRoot, stagedRoot: null };
    const reissued = await probed('rekey/reissue', () => reissueIntermediate(item));
    const restarted = await probed('rekey/restart', () => restartWorkloads({ ...item, purpose: 'rotation' }));
    await probed('rekey/verify', () => verifyWorkloads(item));
    // Assess
    expect(reissued).toMatchObject({ changed: true, issuerRoot: h.currentRoot.fingerprint });
    expect(reissued.intermediateAfter).not.toBe(certificateFingerprint(lab2Before['ca-cert.pem']));
    expect(restarted.restarted).toBe(restarted.workloads);
    expect(h.cacertsOf('lab-2')['root-cert.pem']).toBe(lab2Before['root-cert.pem']);
    expect(h.cacertsOf('lab-1')).toEqual(lab1Before);
    expect(failedHandshakes()).toEqual([]);
    // lab-2's backup is kept through the last phase: release-lock deletes it once the run has succeeded.
    expect(await h.cacertsBackups(executionId)).toEqual({ 'lab-1': 'none', 'lab-2': 'kept' });
  });
});

describe('emergency mode', () => {
  it('rotates the root without soak, restarting each cluster in one wave, with no failed handshake', async () => {
    // Prepare
    const executionId = h.executionId('emergency');
    const mode = 'emergency' as const;
    // Act
    const checked = await probed('emergency/preflight', () =>
      preflight({ executionId, mode, cluster: null }),
    );
    const stagedRoot = await probed('emergency/stage-root', () => stageRoot({ executionId }));
    const item = (cluster: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
    });
    await probed('emergency/distribute', () => eachCluster((c) => distributeBundle(item(c))));
    await probed('emergency/verify-trust', () => eachCluster((c) => verifyTrust(item(c))));
    await probed('emergency/await-proxy-trust', () => awaitProxyTrust(checked));
    await probed('emergency/reissue', () => eachCluster((c) => reissueIntermediate(item(c))));
    const restarted = await probed('emergency/restart', () =>
      eachCluster((c) => restartWorkloads({ ...item(c), purpose: 'rotation' })),
    );
    await probed('emergency/verify-workloads', () => eachCluster((c) => verifyWorkloads(item(c))));
    await probed('emergency/retire', () => eachCluster((c) => retireRoot(item(c))));
    const promoted = await probed('emergency/promote', () =>
      promoteRoot({ executionId, stagedRoot, clusters: checked.clusters }),
    );
    const again = await promoteRoot({ executionId, stagedRoot, clusters: checked.clusters });
    await h.lab.waitForSettled();
    await probed('emergency/after', async () => ({}));
    // Assess
    expect(checked.plan.restart).toBe('all-at-once');
    expect(restarted.map((r) => r.waves)).toEqual([1, 1]);
    for (const cluster of h.lab.clusters) {
      expect(h.lab.snapshotCacerts(cluster.name).rootFingerprints).toEqual([stagedRoot.fingerprint]);
    }
    expect((await h.store.describeRoot()).current).toBe(stagedRoot.versionId);
    expect(failedHandshakes()).toEqual([]);
    expect(h.lab.prober.stats().byPhase['emergency/retire']?.attempted).toBeGreaterThan(0);
    // The execution's cacerts backups (the old intermediates' keys) are scheduled for deletion, once.
    expect([promoted.backupsDeleted, again.backupsDeleted]).toEqual([2, 0]);
    expect(await h.cacertsBackups(executionId)).toEqual({ 'lab-1': 'deleting', 'lab-2': 'deleting' });
  });
});
