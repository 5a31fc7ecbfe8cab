// The handlers driven in phase order by hand over a 3-cluster lab, as the state machine would call
// them, with the lab's mTLS prober counting handshakes in every phase: a full scheduled rotation, then
// a rotation that fails mid-way and is rolled back stage by stage.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { FORWARD_PHASES } from '../../support/workflow-paths.js';
import {
  expectCleanHandshakes,
  expectNoKeyMaterial,
  type HandlerLab,
  startHandlerLab,
} from './handler-lab.js';
import { probedPhase, rotationByHand } from './rotation-steps.js';

jest.setTimeout(240_000);

/**
 * The handlers run in the lab's own process here, their key generation beside its renewals: 8 s of
 * renewal margin (10 s certificates, 5 s of margin, let one expire on a loaded host, 2 December 2026).
 */
const WORKLOAD_CERT_TTL_MS = 16_000;

const outputs: unknown[] = [];
const keep = (output: unknown) => outputs.push(output);

describe('a scheduled rotation driven by hand over three clusters', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({
      clusters: 3,
      workloadsPerCluster: 4,
      workloadCertTtlMs: WORKLOAD_CERT_TTL_MS,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('ends with every cluster on the new root only and not one failed handshake', async () => {
    // Prepare
    const phase = probedPhase(h, keep);
    const rotation = rotationByHand(h, { executionId: h.executionId('scheduled'), mode: 'scheduled' });
    // Act
    await rotation.walk({ through: 'retire-root', phase });
    const promoted = await phase('promote-root', () => rotation.promoteRoot());
    const { checked, stagedRoot } = rotation;
    await h.lab.waitForSettled();
    await phase('after', async () => ({}));
    // Assess
    expect(checked.clusters.map((c) => c.name)).toEqual(['lab-1', 'lab-2', 'lab-3']);
    for (const cluster of h.lab.clusters) {
      expect(h.lab.snapshotCacerts(cluster.name).rootFingerprints).toEqual([stagedRoot.fingerprint]);
      expect(cluster.istiod.rejections()).toEqual([]);
    }
    expect(promoted.currentVersionId).toBe(stagedRoot.versionId);
    // Every phase the rotation walked, and the settled fleet after it.
    expectCleanHandshakes(h, [...FORWARD_PHASES, 'after']);
    for (const output of outputs) expectNoKeyMaterial(output);
  });
});

describe('a rotation that fails after reissue-intermediate on some clusters, rolled back', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({
      clusters: 3,
      workloadsPerCluster: 4,
      workloadCertTtlMs: WORKLOAD_CERT_TTL_MS,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('leaves every cacerts byte-identical to the start, the pending root dropped, no handshake failed', async () => {
    // Prepare
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const phase = probedPhase(h, keep);
    const rotation = rotationByHand(h, { executionId: h.executionId('fails'), mode: 'scheduled' });
    await rotation.walk({ through: 'await-proxy-trust', phase });
    // The Map fails: lab-1 and lab-2 switched, lab-3's step failed before writing.
    await phase('reissue-intermediate', () => rotation.reissueIntermediate(['lab-1', 'lab-2']));
    await sleep(h.lab.options.workloadCertTtlMs); // workloads renew under the new intermediates
    // Act
    await phase('rollback-trust', () => rotation.rollback('restore-trust'));
    const restored = await phase('rollback-intermediate', () => rotation.rollback('restore-intermediate'));
    const restarted = await phase('rollback-restart', () => rotation.restartWorkloads('rollback'));
    await phase('rollback-restore', () => rotation.rollback('restore-original'));
    const dropped = await phase('rollback-drop-pending', () => rotation.dropPendingRoot());
    // A second run of every stage changes nothing.
    const again = (
      await Promise.all(
        ['restore-trust', 'restore-intermediate', 'restore-original'].map((stage) =>
          rotation.rollback(stage),
        ),
      )
    ).flat();
    await h.lab.waitForSettled();
    await phase('after-rollback', async () => ({}));
    const { stagedRoot } = rotation;
    // Assess
    expect(restored.map((r) => r.changed)).toEqual([true, true, false]);
    expect(restarted.map((r) => r.restarted > 0)).toEqual([true, true, false]);
    expect(dropped).toMatchObject({
      changed: true,
      droppedVersionId: stagedRoot.versionId,
      retiredKey: { kind: 'kms', changed: true },
    });
    // The staged root's KMS key is retired with it, and a second drop changes nothing.
    expect((await h.writableState()).rootKeys).toEqual([expect.stringMatching(/:PendingDeletion$/)]);
    expect(await rotation.dropPendingRoot()).toMatchObject({ changed: false });
    expect(again.every((r) => r.changed === false)).toBe(true);
    for (const cluster of h.lab.clusters) {
      expect(h.cacertsOf(cluster.name)).toEqual(start.get(cluster.name));
      expect(cluster.istiod.rejections()).toEqual([]);
    }
    expect((await h.store.describeRoot()).pending).toBeUndefined();
    expectCleanHandshakes(h, [
      'distribute-bundle',
      'reissue-intermediate',
      'rollback-trust',
      'rollback-intermediate',
      'rollback-restart',
      'rollback-restore',
      'after-rollback',
    ]);
    for (const output of [...outputs, ...again]) expectNoKeyMaterial(output);
  });
});

describe('a rotation that fails after retire-root on one cluster, rolled back', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 4,
      workloadCertTtlMs: WORKLOAD_CERT_TTL_MS,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives the retired cluster the old root back first and ends byte-identical with no failed handshake', async () => {
    // Prepare
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const phase = probedPhase(h, keep);
    const executionId = h.executionId('fails-late');
    const rotation = rotationByHand(h, { executionId, mode: 'emergency' });
    await rotation.walk({ through: 'verify-workloads', phase, label: (name) => `late/${name}` });
    await phase('late/retire-root', () => rotation.retireRoot(['lab-1'])); // lab-2's step fails
    // Act
    const trust = await phase('late/rollback-trust', () => rotation.rollback('restore-trust'));
    // lab-1's proxies that renewed since its retire trust B alone: the wait restore-trust asks for.
    await phase('late/rollback-await-proxy-trust', () => rotation.awaitRestoredProxyTrust(trust));
    await phase('late/rollback-intermediate', () => rotation.rollback('restore-intermediate'));
    await phase('late/rollback-restart', () => rotation.restartWorkloads('rollback'));
    await phase('late/rollback-restore', () => rotation.rollback('restore-original'));
    // Every stage but the last keeps the backups: a rollback that fails there needs them again.
    const backupsBeforeLastStage = await h.cacertsBackups(executionId);
    // As the state machine sends it: with preflight's clusters, whose backups it deletes.
    const dropped = await phase('late/rollback-drop-pending', () =>
      rotation.dropPendingRoot({ withPreflightClusters: true }),
    );
    const droppedAgain = await rotation.dropPendingRoot({ withPreflightClusters: true });
    await h.lab.waitForSettled();
    await phase('late/after-rollback', async () => ({}));
    const { checked, stagedRoot } = rotation;
    // Assess
    // The retired cluster gets distribute-bundle's text back (A then B), which holds B's text as retire
    // wrote it and the start's: istiod accepts it whichever of the two it last loaded.
    expect(trust.map((t) => [t.changed, t.rootsAfter])).toEqual([
      [true, [checked.currentRoot.fingerprint, stagedRoot.fingerprint]],
      [false, [checked.currentRoot.fingerprint, stagedRoot.fingerprint]],
    ]);
    for (const cluster of h.lab.clusters) {
      expect(h.cacertsOf(cluster.name)).toEqual(start.get(cluster.name));
      expect(cluster.istiod.rejections()).toEqual([]);
    }
    expect((await h.store.describeRoot()).pending).toBeUndefined();
    // The cacerts backups (the start's intermediate keys) are scheduled for deletion by the last
    // stage, once every cluster is restored; a repeat deletes nothing more.
    expect(backupsBeforeLastStage).toEqual({ 'lab-1': 'kept', 'lab-2': 'kept' });
    expect([dropped.backupsDeleted, droppedAgain.backupsDeleted]).toEqual([2, 0]);
    expect(await h.cacertsBackups(executionId)).toEqual({ 'lab-1': 'deleting', 'lab-2': 'deleting' });
    expectNoKeyMaterial(droppedAgain);
    expectCleanHandshakes(h, [
      'late/retire-root',
      'late/rollback-trust',
      'late/rollback-restore',
      'late/after-rollback',
    ]);
  });
});
