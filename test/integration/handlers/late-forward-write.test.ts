// A Lambda invocation is not stopped when its Map fails: a forward cacerts write of the failed run may
// still be in flight when the rollback begins, and land after the rollback looked at the cluster
// (docs/reliability.md, finding 7). The rollback's restore-trust fences every cluster against its run's
// forward writes; here the late write is made, deterministically, right after restore-trust, as the
// chaos run saw it, and must be refused, the rollback then ending byte-identical to the start.
import { jest } from '@jest/globals';
import { ROLLED_BACK_ANNOTATION } from '../../../lambdas/adapters/kube/cacerts-secret.js';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { executionNameOf } from '../../../lambdas/core/rotation/execution-name.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab } from './handler-lab.js';
import { type Phase, probedPhase, type RotationByHand, rotationByHand } from './rotation-steps.js';

jest.setTimeout(240_000);

/** The rollback's stages after restore-trust, as the state machine runs them. */
async function finishRollback(
  rotation: RotationByHand,
  phase: Phase,
  trust: readonly object[],
): Promise<void> {
  await phase('rollback-await-proxy-trust', () => rotation.awaitRestoredProxyTrust(trust));
  await phase('rollback-intermediate', () => rotation.rollback('restore-intermediate'));
  await phase('rollback-restart', () => rotation.restartWorkloads('rollback'));
  await phase('rollback-restore', () => rotation.rollback('restore-original'));
  await phase('rollback-drop-pending', () => rotation.dropPendingRoot());
}

/** The fence each cluster's cacerts Secret carries (undefined: none). */
function fencesOf(h: HandlerLab): Record<string, string | undefined> {
  return Object.fromEntries(
    h.lab.clusters.map((c) => [
      c.name,
      c.store.get('Secret', 'istio-system', 'cacerts').metadata.annotations?.[ROLLED_BACK_ANNOTATION],
    ]),
  );
}

/**
 * The rollback's end: every cluster's four files byte-identical to the start, nothing istiod refused, the
 * fence kept naming the undone run (a write later still is refused too; the next rotation has another
 * name), and no handshake failing once the fleet settled.
 */
async function expectRolledBackAsAtStart(
  h: HandlerLab,
  end: { readonly phase: Phase; readonly start: Map<string, CacertsFiles>; readonly failed: string },
): Promise<void> {
  await h.lab.waitForSettled();
  await end.phase('after-rollback', async () => ({}));
  for (const cluster of h.lab.clusters) {
    expect(h.cacertsOf(cluster.name)).toEqual(end.start.get(cluster.name));
    expect(cluster.istiod.rejections()).toEqual([]);
  }
  const undone = executionNameOf(end.failed);
  expect(fencesOf(h)).toEqual({ 'lab-1': undone, 'lab-2': undone });
  const after = h.lab.prober.stats().byPhase['after-rollback'];
  const failures = h.lab.prober.failures().filter((f) => f.phase === 'after-rollback');
  expect({ attempted: (after?.attempted ?? 0) > 0, failures }).toEqual({ attempted: true, failures: [] });
}

describe('a forward write of the run being rolled back, still in flight when its Map failed', () => {
  let h: HandlerLab;
  let start: Map<string, CacertsFiles>;
  const outputs: unknown[] = [];
  beforeEach(async () => {
    h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 2, workloadCertTtlMs: 10_000 });
    start = new Map(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
  });
  afterEach(async () => {
    await h?.stop();
  });

  it('refuses a late retire-root on a cluster restore-trust found unchanged, and the rollback ends as at start', async () => {
    // Prepare: an emergency run's retire-root wrote lab-2 (then failed there); lab-1's invocation was still
    // running when rollback-trust looked at lab-1 and found A+B, nothing to restore.
    const phase = probedPhase(h, (output) => outputs.push(output));
    const failed = h.executionId('late-retire');
    const rotation = rotationByHand(h, { executionId: failed, mode: 'emergency' });
    await rotation.walk({ through: 'verify-workloads', phase });
    await phase('retire-root', () => rotation.retireRoot(['lab-2']));
    const trust = await phase('rollback-trust', () => rotation.rollback('restore-trust'));
    const afterTrust = h.cacertsOf('lab-1');
    // Act: lab-1's retire-root write lands now, after restore-trust.
    const late = rotation.retireRoot(['lab-1']);
    // Assess: refused, nothing written; the rest of the rollback then completes.
    await expect(late).rejects.toMatchObject({
      name: 'PreconditionFailed',
      cluster: 'lab-1',
      phase: 'retire-root',
      message: expect.stringContaining('the run is being rolled back'),
    });
    expect(h.cacertsOf('lab-1')).toEqual(afterTrust);
    expect(trust.map((t) => [t.cluster, t.changed])).toEqual([
      ['lab-1', false],
      ['lab-2', true],
    ]);
    await finishRollback(rotation, phase, trust);
    await expectRolledBackAsAtStart(h, { phase, start, failed });
    for (const output of outputs) expectNoKeyMaterial(output);
  });

  it('refuses a late first distribute-bundle on a cluster with no backup, fenced by a resumed rollback', async () => {
    // Prepare: distribute-bundle wrote lab-1 and failed; lab-2's invocation had not yet read. The
    // rollback is resumed by another execution (rollbackOf), which fences with the failed run's name.
    const phase = probedPhase(h, (output) => outputs.push(output));
    const failed = h.executionId('late-distribute');
    const rotation = rotationByHand(h, { executionId: failed, mode: 'scheduled' });
    await rotation.walk({ through: 'stage-root', phase });
    await phase('distribute-bundle', () => rotation.distributeBundle(['lab-1']));
    const resumed = rotation.asExecution(h.executionId('late-distribute-resumed'), failed);
    const trust = await phase('rollback-trust', () => resumed.rollback('restore-trust'));
    const lab2Version = h.lab.cluster('lab-2').store.get('Secret', 'istio-system', 'cacerts')
      .metadata.resourceVersion;
    // Act: lab-2's distribute-bundle runs now, its first read after the fence.
    const late = rotation.distributeBundle(['lab-2']);
    // Assess: refused before it backs up or writes anything.
    await expect(late).rejects.toMatchObject({
      name: 'PreconditionFailed',
      cluster: 'lab-2',
      phase: 'distribute-bundle',
    });
    // lab-1 holds A+B, which restore-trust keeps (restore-original drops B); lab-2 was never written.
    expect(trust.map((t) => [t.cluster, t.changed])).toEqual([
      ['lab-1', false],
      ['lab-2', false],
    ]);
    expect(
      h.lab.cluster('lab-2').store.get('Secret', 'istio-system', 'cacerts').metadata.resourceVersion,
    ).toBe(lab2Version);
    expect(await h.cacertsBackups(failed)).toEqual({ 'lab-1': 'kept', 'lab-2': 'none' });
    await finishRollback(resumed, phase, trust);
    await expectRolledBackAsAtStart(h, { phase, start, failed });
    for (const output of outputs) expectNoKeyMaterial(output);
  });
});
