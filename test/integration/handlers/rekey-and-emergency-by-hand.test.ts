// The other two modes driven by hand over a 2-cluster lab with the prober running: an intermediate
// rekey of one cluster under the current root, then an emergency root rotation (no soak, restarts in
// one wave) of the whole fleet, neither failing a single handshake.
import { jest } from '@jest/globals';
import { certificateFingerprint } from '../../../lambdas/core/pki/index.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab } from './handler-lab.js';
import { ON_PRIMARIES, type Phase, probedPhase, rotationByHand } from './rotation-steps.js';

jest.setTimeout(180_000);

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 4, workloadCertTtlMs: 10_000 });
});
afterAll(async () => {
  await h?.stop();
});

/** Each phase probed, its output scanned for key material. */
const probed: Phase = (name, run) => probedPhase(h, expectNoKeyMaterial)(name, run);

function failedHandshakes(): string[] {
  return h.lab.prober.failures().map((f) => `${f.phase}: ${f.from} -> ${f.to} (${f.side}) ${f.error}`);
}

describe('intermediate mode', () => {
  it("rekeys lab-2's intermediate under the current root and leaves root-cert and lab-1 alone", async () => {
    // Prepare
    const executionId = h.executionId('rekey');
    const rotation = rotationByHand(h, {
      executionId,
      mode: 'intermediate',
      clusters: ['lab-2'],
      writers: ON_PRIMARIES,
    });
    const lab1Before = h.cacertsOf('lab-1');
    const lab2Before = h.cacertsOf('lab-2');
    // Act
    await probed('rekey/preflight', () => rotation.preflight('lab-2'));
    const [reissued] = await probed('rekey/reissue', () => rotation.reissueIntermediate());
    const [restarted] = await probed('rekey/restart', () => rotation.restartWorkloads('rotation'));
    await probed('rekey/verify', () => rotation.verifyWorkloads());
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
    const rotation = rotationByHand(h, { executionId, mode: 'emergency', writers: ON_PRIMARIES });
    const label = (name: string) => `emergency/${name}`;
    // Act
    await rotation.walk({ through: 'reissue-intermediate', phase: probed, label });
    const restarted = await probed('emergency/restart-workloads', () =>
      rotation.restartWorkloads('rotation'),
    );
    await rotation.walk({ from: 'verify-workloads', through: 'retire-root', phase: probed, label });
    const promoted = await probed('emergency/promote-root', () =>
      rotation.promoteRoot({ withPreflightClusters: true }),
    );
    const again = await rotation.promoteRoot({ withPreflightClusters: true });
    const { checked, stagedRoot } = rotation;
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
    expect(h.lab.prober.stats().byPhase['emergency/retire-root']?.attempted).toBeGreaterThan(0);
    // The execution's cacerts backups (the old intermediates' keys) are scheduled for deletion, once.
    expect([promoted.backupsDeleted, again.backupsDeleted]).toEqual([2, 0]);
    expect(await h.cacertsBackups(executionId)).toEqual({ 'lab-1': 'deleting', 'lab-2': 'deleting' });
  });
});
