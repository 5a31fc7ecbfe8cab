// promote-root run by a resumed promotion (meshtrust retry-promotion), against moto and a model lab: the
// rotation staged B and backed up each cluster's cacerts, then stopped before promote-root's write; the
// new execution's promote-root, given promotionOf, makes B current and A previous and deletes the
// rotation's backups (not its own, which do not exist); run again it changes nothing.
import { jest } from '@jest/globals';
import { handler as distributeBundleHandler } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { expectNoKeyMaterial, type HandlerLab, onPrimary, startHandlerLab } from './handler-lab.js';

const distributeBundle = onPrimary(distributeBundleHandler);

jest.setTimeout(120_000);

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 1 });
});
afterAll(async () => {
  await h?.stop();
});

describe('promote-root in a resumed promotion (promotionOf)', () => {
  it("promotes the stopped rotation's pending root and deletes that rotation's cacerts backups; a re-run changes nothing", async () => {
    // Prepare: the rotation staged B and made its backups; its promote-root never wrote (B pending)
    const rotation = h.executionId('rotation');
    const resumed = h.executionId('rotation-promote');
    const before = await h.store.describeRoot();
    const stagedRoot = await stageRoot({ executionId: rotation });
    const clusters = h.lab.clusters.map(({ name }) => ({ name }));
    for (const { name } of clusters) {
      await distributeBundle({
        executionId: rotation,
        mode: 'scheduled',
        cluster: name,
        currentRoot: h.currentRoot,
        stagedRoot,
      });
    }
    expect(await h.store.describeRoot()).toMatchObject({ pending: stagedRoot.versionId });
    expect(Object.values(await h.cacertsBackups(rotation))).toEqual(['kept', 'kept']);

    // Act
    const promoted = await promoteRoot({ executionId: resumed, stagedRoot, clusters, promotionOf: rotation });
    const again = await promoteRoot({ executionId: resumed, stagedRoot, clusters, promotionOf: rotation });

    // Assess
    expect(promoted).toMatchObject({
      currentVersionId: stagedRoot.versionId,
      previousVersionId: before.current,
      fingerprint: stagedRoot.fingerprint,
      retiredKey: { changed: true },
      backupsDeleted: 2,
    });
    const stages = await h.store.describeRoot();
    expect(stages).toMatchObject({ current: stagedRoot.versionId, previous: before.current });
    expect(stages.pending).toBeUndefined();
    expect(Object.values(await h.cacertsBackups(rotation))).toEqual(['deleting', 'deleting']);
    expect(again).toMatchObject({
      currentVersionId: stagedRoot.versionId,
      retiredKey: { changed: false },
      backupsDeleted: 0,
    });
    expectNoKeyMaterial(promoted);
  });
});
