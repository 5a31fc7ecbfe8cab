// The handlers driven in phase order by hand over a 3-cluster lab, as the state machine would call
// them, with the lab's mTLS prober counting handshakes in every phase: a full scheduled rotation, then
// a rotation that fails mid-way and is rolled back stage by stage.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { handler as distributeBundle } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as reissueIntermediate } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as retireRoot } from '../../../lambdas/handlers/retire-root.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import { awaitProxyTrust, expectNoKeyMaterial, type HandlerLab, startHandlerLab } from './handler-lab.js';

jest.setTimeout(240_000);

const outputs: unknown[] = [];

/** Runs one phase with the prober labelled by it, and makes sure at least one probe round ran in it. */
async function phase<T>(h: HandlerLab, name: string, run: () => Promise<T>): Promise<T> {
  h.lab.prober.setPhase(name);
  const result = await run();
  outputs.push(result);
  await h.lab.prober.runRound();
  return result;
}

/** Per cluster, as a Map state with MaxConcurrency would: here all at once. */
function eachCluster<T>(h: HandlerLab, run: (cluster: string) => Promise<T>): Promise<T[]> {
  return Promise.all(h.lab.clusters.map((cluster) => run(cluster.name)));
}

function expectCleanHandshakes(h: HandlerLab, phases: string[]): void {
  const stats = h.lab.prober.stats();
  const failures = h.lab.prober
    .failures()
    .slice(0, 5)
    .map((f) => `${f.phase}: ${f.from} -> ${f.to} (${f.side}) ${f.error}`);
  expect({ failed: stats.failed, failures }).toEqual({ failed: 0, failures: [] });
  for (const name of phases) {
    expect({ phase: name, attempted: (stats.byPhase[name]?.attempted ?? 0) > 0 }).toEqual({
      phase: name,
      attempted: true,
    });
  }
}

describe('a scheduled rotation driven by hand over three clusters', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({ clusters: 3, workloadsPerCluster: 4, workloadCertTtlMs: 10_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('ends with every cluster on the new root only and not one failed handshake', async () => {
    // Prepare
    const executionId = h.executionId('scheduled');
    const mode = 'scheduled' as const;
    // Act
    const checked = await phase(h, 'preflight', () => preflight({ executionId, mode, cluster: null }));
    const stagedRoot = await phase(h, 'stage-root', () => stageRoot({ executionId }));
    const item = (cluster: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
    });
    await phase(h, 'distribute-bundle', () => eachCluster(h, (c) => distributeBundle(item(c))));
    await phase(h, 'verify-trust', () => eachCluster(h, (c) => verifyTrust(item(c))));
    await phase(h, 'await-proxy-trust', () => awaitProxyTrust(checked));
    await phase(h, 'reissue-intermediate', () => eachCluster(h, (c) => reissueIntermediate(item(c))));
    await phase(h, 'restart-workloads', () =>
      eachCluster(h, (c) => restartWorkloads({ ...item(c), purpose: 'rotation' })),
    );
    await phase(h, 'verify-workloads', () => eachCluster(h, (c) => verifyWorkloads(item(c))));
    await phase(h, 'soak', () => sleep(h.lab.options.workloadCertTtlMs).then(() => ({})));
    await phase(h, 'retire-root', () => eachCluster(h, (c) => retireRoot(item(c))));
    const promoted = await phase(h, 'promote-root', () => promoteRoot({ executionId, stagedRoot }));
    await h.lab.waitForSettled();
    await phase(h, 'after', async () => ({}));
    // Assess
    expect(checked.clusters.map((c) => c.name)).toEqual(['lab-1', 'lab-2', 'lab-3']);
    for (const cluster of h.lab.clusters) {
      expect(h.lab.snapshotCacerts(cluster.name).rootFingerprints).toEqual([stagedRoot.fingerprint]);
      expect(cluster.istiod.rejections()).toEqual([]);
    }
    expect(promoted.currentVersionId).toBe(stagedRoot.versionId);
    expectCleanHandshakes(h, [
      'preflight',
      'stage-root',
      'distribute-bundle',
      'verify-trust',
      'await-proxy-trust',
      'reissue-intermediate',
      'restart-workloads',
      'verify-workloads',
      'soak',
      'retire-root',
      'promote-root',
      'after',
    ]);
    for (const output of outputs) expectNoKeyMaterial(output);
  });
});

describe('a rotation that fails after reissue-intermediate on some clusters, rolled back', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({ clusters: 3, workloadsPerCluster: 4, workloadCertTtlMs: 10_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('leaves every cacerts byte-identical to the start, the pending root dropped, no handshake failed', async () => {
    // Prepare
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const executionId = h.executionId('fails');
    const mode = 'scheduled' as const;
    const checked = await phase(h, 'preflight', () => preflight({ executionId, mode, cluster: null }));
    const stagedRoot = await phase(h, 'stage-root', () => stageRoot({ executionId }));
    const item = (cluster: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
    });
    await phase(h, 'distribute-bundle', () => eachCluster(h, (c) => distributeBundle(item(c))));
    await phase(h, 'verify-trust', () => eachCluster(h, (c) => verifyTrust(item(c))));
    await phase(h, 'await-proxy-trust', () => awaitProxyTrust(checked));
    // The Map fails: lab-1 and lab-2 switched, lab-3's step failed before writing.
    await phase(h, 'reissue-intermediate', () =>
      Promise.all(['lab-1', 'lab-2'].map((c) => reissueIntermediate(item(c)))),
    );
    await sleep(h.lab.options.workloadCertTtlMs); // workloads renew under the new intermediates
    // Act
    const rollbackItem = (cluster: string, stage: string) => ({ ...item(cluster), stage });
    await phase(h, 'rollback-trust', () => eachCluster(h, (c) => rollback(rollbackItem(c, 'restore-trust'))));
    const restored = await phase(h, 'rollback-intermediate', () =>
      eachCluster(h, (c) => rollback(rollbackItem(c, 'restore-intermediate'))),
    );
    const restarted = await phase(h, 'rollback-restart', () =>
      eachCluster(h, (c) => restartWorkloads({ ...item(c), purpose: 'rollback' })),
    );
    await phase(h, 'rollback-restore', () =>
      eachCluster(h, (c) => rollback(rollbackItem(c, 'restore-original'))),
    );
    const dropped = await phase(h, 'rollback-drop-pending', () =>
      rollback({ executionId, stage: 'drop-pending-root' }),
    );
    // A second run of every stage changes nothing.
    const again = await Promise.all(
      ['restore-trust', 'restore-intermediate', 'restore-original'].flatMap((stage) =>
        h.lab.clusters.map((c) => rollback(rollbackItem(c.name, stage))),
      ),
    );
    await h.lab.waitForSettled();
    await phase(h, 'after-rollback', async () => ({}));
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
    expect(await rollback({ executionId, stage: 'drop-pending-root' })).toMatchObject({ changed: false });
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
    h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 4, workloadCertTtlMs: 10_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives the retired cluster the old root back first and ends byte-identical with no failed handshake', async () => {
    // Prepare
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const executionId = h.executionId('fails-late');
    const mode = 'emergency' as const;
    const checked = await phase(h, 'late/preflight', () => preflight({ executionId, mode, cluster: null }));
    const stagedRoot = await phase(h, 'late/stage-root', () => stageRoot({ executionId }));
    const item = (cluster: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
    });
    await phase(h, 'late/distribute-bundle', () => eachCluster(h, (c) => distributeBundle(item(c))));
    await phase(h, 'late/verify-trust', () => eachCluster(h, (c) => verifyTrust(item(c))));
    await phase(h, 'late/await-proxy-trust', () => awaitProxyTrust(checked));
    await phase(h, 'late/reissue-intermediate', () => eachCluster(h, (c) => reissueIntermediate(item(c))));
    await phase(h, 'late/restart-workloads', () =>
      eachCluster(h, (c) => restartWorkloads({ ...item(c), purpose: 'rotation' })),
    );
    await phase(h, 'late/verify-workloads', () => eachCluster(h, (c) => verifyWorkloads(item(c))));
    await phase(h, 'late/retire-root', () => retireRoot(item('lab-1'))); // lab-2's step fails
    // Act
    const rollbackItem = (cluster: string, stage: string) => ({ ...item(cluster), stage });
    const trust = await phase(h, 'late/rollback-trust', () =>
      eachCluster(h, (c) => rollback(rollbackItem(c, 'restore-trust'))),
    );
    await phase(h, 'late/rollback-intermediate', () =>
      eachCluster(h, (c) => rollback(rollbackItem(c, 'restore-intermediate'))),
    );
    await phase(h, 'late/rollback-restart', () =>
      eachCluster(h, (c) => restartWorkloads({ ...item(c), purpose: 'rollback' })),
    );
    await phase(h, 'late/rollback-restore', () =>
      eachCluster(h, (c) => rollback(rollbackItem(c, 'restore-original'))),
    );
    // Every stage but the last keeps the backups: a rollback that fails there needs them again.
    const backupsBeforeLastStage = await h.cacertsBackups(executionId);
    // As the state machine sends it: with preflight's clusters, whose backups it deletes.
    const dropPending = { executionId, stage: 'drop-pending-root', clusters: checked.clusters };
    const dropped = await phase(h, 'late/rollback-drop-pending', () => rollback(dropPending));
    const droppedAgain = await rollback(dropPending);
    await h.lab.waitForSettled();
    await phase(h, 'late/after-rollback', async () => ({}));
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
