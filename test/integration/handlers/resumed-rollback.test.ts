// A rollback that failed part-way, resumed by another execution (meshtrust retry-rollback): the handlers
// driven by hand over a 2-cluster lab as the state machine calls them, the resumed run's stages given
// `rollbackOf`, the failed run's id. The prober counts handshakes in every phase.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { handler as distributeBundle } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as reissueIntermediate } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { awaitProxyTrust, expectNoKeyMaterial, type HandlerLab, startHandlerLab } from './handler-lab.js';

jest.setTimeout(240_000);

const outputs: unknown[] = [];

async function phase<T>(h: HandlerLab, name: string, run: () => Promise<T>): Promise<T> {
  h.lab.prober.setPhase(name);
  const result = await run();
  outputs.push(result);
  await h.lab.prober.runRound();
  return result;
}

function eachCluster<T>(h: HandlerLab, run: (cluster: string) => Promise<T>): Promise<T[]> {
  return Promise.all(h.lab.clusters.map((cluster) => run(cluster.name)));
}

describe('a rollback that failed at rollback-restart, resumed by a new execution', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 3, workloadCertTtlMs: 10_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("undoes the failed run's writes, restarts only what it had not, and ends byte-identical with no failed handshake", async () => {
    // Prepare: a scheduled rotation (execution `failed`) switches both intermediates and restarts,
    // then fails; its rollback restores trust and intermediates, restarts lab-1, and fails on lab-2.
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const failed = h.executionId('rotation');
    const mode = 'scheduled' as const;
    const checked = await phase(h, 'preflight', () =>
      preflight({ executionId: failed, mode, cluster: null }),
    );
    const stagedRoot = await phase(h, 'stage-root', () => stageRoot({ executionId: failed }));
    const item = (executionId: string, cluster: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
    });
    await phase(h, 'distribute-bundle', () => eachCluster(h, (c) => distributeBundle(item(failed, c))));
    await phase(h, 'verify-trust', () => eachCluster(h, (c) => verifyTrust(item(failed, c))));
    await phase(h, 'await-proxy-trust', () => awaitProxyTrust(checked));
    await phase(h, 'reissue-intermediate', () => eachCluster(h, (c) => reissueIntermediate(item(failed, c))));
    await phase(h, 'restart-workloads', () =>
      eachCluster(h, (c) => restartWorkloads({ ...item(failed, c), purpose: 'rotation' })),
    );
    const stage = (executionId: string, cluster: string, name: string, rollbackOf?: string) => ({
      ...item(executionId, cluster),
      stage: name,
      ...(rollbackOf !== undefined && { rollbackOf }),
    });
    await phase(h, 'rollback-trust', () =>
      eachCluster(h, (c) => rollback(stage(failed, c, 'restore-trust'))),
    );
    await phase(h, 'rollback-intermediate', () =>
      eachCluster(h, (c) => rollback(stage(failed, c, 'restore-intermediate'))),
    );
    await phase(h, 'rollback-restart', () =>
      restartWorkloads({ ...item(failed, 'lab-1'), purpose: 'rollback' }),
    );
    // ... and lab-2's restart failed: the run ended in RollbackFailed, lab-2's workloads still hold
    // certificates of the new intermediate, no cluster is on its original cacerts, B is pending.
    await sleep(h.lab.options.workloadCertTtlMs);
    const resumed = h.executionId('rollback');

    // A new execution's stages, without rollbackOf, find nothing of theirs to undo (the test's control).
    const withoutRollbackOf = await rollback(stage(resumed, 'lab-2', 'restore-original'));
    expect(withoutRollbackOf).toMatchObject({ changed: false, reason: expect.stringMatching(/no backup/) });

    // Act: the resumed execution walks the whole rollback again, undoing `failed`'s writes.
    const trust = await phase(h, 'resumed-rollback-trust', () =>
      eachCluster(h, (c) => rollback(stage(resumed, c, 'restore-trust', failed))),
    );
    const intermediate = await phase(h, 'resumed-rollback-intermediate', () =>
      eachCluster(h, (c) => rollback(stage(resumed, c, 'restore-intermediate', failed))),
    );
    const restarted = await phase(h, 'resumed-rollback-restart', () =>
      eachCluster(h, (c) =>
        restartWorkloads({ ...item(resumed, c), purpose: 'rollback', rollbackOf: failed }),
      ),
    );
    const restored = await phase(h, 'resumed-rollback-restore', () =>
      eachCluster(h, (c) => rollback(stage(resumed, c, 'restore-original', failed))),
    );
    const dropped = await phase(h, 'resumed-rollback-drop-pending', () =>
      rollback({ executionId: resumed, stage: 'drop-pending-root', rollbackOf: failed }),
    );
    await h.lab.waitForSettled();
    await phase(h, 'after', async () => ({}));

    // Assess
    // What the failed rollback had done is found done: no-ops, and lab-1's workloads are not restarted twice.
    expect(trust.map((r) => r.changed)).toEqual([false, false]);
    expect(intermediate.map((r) => r.changed)).toEqual([false, false]);
    expect(restarted.map((r) => ({ cluster: r.cluster, restarted: r.restarted > 0 }))).toEqual([
      { cluster: 'lab-1', restarted: false },
      { cluster: 'lab-2', restarted: true },
    ]);
    expect(restored.map((r) => r.changed)).toEqual([true, true]);
    expect(dropped).toMatchObject({ changed: true, droppedVersionId: stagedRoot.versionId });
    for (const cluster of h.lab.clusters) {
      expect(h.cacertsOf(cluster.name)).toEqual(start.get(cluster.name));
      expect(cluster.istiod.rejections()).toEqual([]);
    }
    expect((await h.store.describeRoot()).pending).toBeUndefined();
    const stats = h.lab.prober.stats();
    expect({ failed: stats.failed, failures: h.lab.prober.failures().slice(0, 5) }).toEqual({
      failed: 0,
      failures: [],
    });
    for (const name of ['resumed-rollback-restart', 'resumed-rollback-restore', 'after']) {
      expect({ name, attempted: (stats.byPhase[name]?.attempted ?? 0) > 0 }).toEqual({
        name,
        attempted: true,
      });
    }
    for (const output of outputs) expectNoKeyMaterial(output);
    // Run again (a Retry of the resumed run, or a second resume): nothing changes.
    const again = await Promise.all(
      ['restore-trust', 'restore-intermediate', 'restore-original'].flatMap((name) =>
        h.lab.clusters.map((c) => rollback(stage(resumed, c.name, name, failed))),
      ),
    );
    expect(again.map((r) => r.changed)).toEqual(again.map(() => false));
  });
});
