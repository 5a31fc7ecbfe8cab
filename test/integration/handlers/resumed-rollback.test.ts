// A rollback that failed part-way, resumed by another execution (meshtrust retry-rollback): the handlers
// driven by hand over a 2-cluster lab as the state machine calls them, the resumed run's stages given
// `rollbackOf`, the failed run's id. The prober counts handshakes in every phase.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { ROLLOUT_TIMEOUT_SECONDS_ENV } from '../../../lambdas/contract/function-environment.js';
import type { CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';
import { probedPhase, rotationByHand } from './rotation-steps.js';

jest.setTimeout(240_000);

const outputs: unknown[] = [];

describe('a rollback that failed at rollback-restart, resumed by a new execution', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    // 8 s of renewal margin: the handlers run in the lab's own process (rotation-by-hand.test.ts).
    h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 3, workloadCertTtlMs: 16_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("undoes the failed run's writes, restarts only what it had not, and ends byte-identical with no failed handshake", async () => {
    // Prepare: a scheduled rotation (execution `failed`) switches both intermediates and restarts,
    // then fails; its rollback restores trust and intermediates, restarts lab-1, and fails on lab-2.
    const start = new Map<string, CacertsFiles>(h.lab.clusters.map((c) => [c.name, h.cacertsOf(c.name)]));
    const phase = probedPhase(h, (output) => outputs.push(output));
    const failed = h.executionId('rotation');
    const rotation = rotationByHand(h, { executionId: failed, mode: 'scheduled' });
    await rotation.walk({ through: 'restart-workloads', phase });
    await phase('rollback-trust', () => rotation.rollback('restore-trust'));
    await phase('rollback-intermediate', () => rotation.rollback('restore-intermediate'));
    await phase('rollback-restart', () => rotation.restartWorkloads('rollback', ['lab-1']));
    // ... and lab-2's restart failed: the run ended in RollbackFailed, lab-2's workloads still hold
    // certificates of the new intermediate, no cluster is on its original cacerts, B is pending.
    await sleep(h.lab.options.workloadCertTtlMs);
    const resumed = h.executionId('rollback');

    // A new execution's stages, without rollbackOf, find nothing of theirs to undo (the test's control).
    const [withoutRollbackOf] = await rotation.asExecution(resumed).rollback('restore-original', ['lab-2']);
    expect(withoutRollbackOf).toMatchObject({ changed: false, reason: expect.stringMatching(/no backup/) });

    // Act: the resumed execution walks the whole rollback again, undoing `failed`'s writes.
    const resumedRollback = rotation.asExecution(resumed, failed);
    const trust = await phase('resumed-rollback-trust', () => resumedRollback.rollback('restore-trust'));
    const intermediate = await phase('resumed-rollback-intermediate', () =>
      resumedRollback.rollback('restore-intermediate'),
    );
    const restarted = await phase('resumed-rollback-restart', () =>
      resumedRollback.restartWorkloads('rollback'),
    );
    const restored = await phase('resumed-rollback-restore', () =>
      resumedRollback.rollback('restore-original'),
    );
    const dropped = await phase('resumed-rollback-drop-pending', () => resumedRollback.dropPendingRoot());
    await h.lab.waitForSettled();
    await phase('after', async () => ({}));
    const { stagedRoot } = rotation;

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
    const again = (
      await Promise.all(
        ['restore-trust', 'restore-intermediate', 'restore-original'].map((name) =>
          resumedRollback.rollback(name),
        ),
      )
    ).flat();
    expect(again.map((r) => r.changed)).toEqual(again.map(() => false));
  });
});

describe('a rollback whose restart a stuck pod failed, resumed once the operator deleted that pod', () => {
  const STUCK_CLUSTER = 'lab-2';
  /** Set while the next workload pod created in STUCK_CLUSTER is to be held unready (then cleared). */
  let holdNext = false;
  let stuck: KubeObject | undefined;
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 3,
      workloadCertTtlMs: 10_000,
      hooks: {
        podHeldUnready: (cluster, pod) => {
          if (!holdNext || cluster !== STUCK_CLUSTER || pod.metadata.namespace === 'istio-system')
            return false;
          holdNext = false;
          stuck = pod;
          return true;
        },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives the wave the failed run restarted a fresh rollout timeout from the resume, so it finishes', async () => {
    // Prepare: a run that reissued and failed; its rollback restores trust and the intermediate, and
    // its rollback-restart of lab-2 fails: one new pod never becomes ready (ROLLOUT_TIMEOUT_SECONDS 6).
    const failed = h.executionId('stuck-rotation');
    const rotation = rotationByHand(h, { executionId: failed, mode: 'scheduled' });
    const failedStartedAt = new Date().toISOString();
    await rotation.walk({ through: 'reissue-intermediate' });
    await rotation.rollback('restore-trust');
    await rotation.rollback('restore-intermediate');
    const timeout = { [ROLLOUT_TIMEOUT_SECONDS_ENV]: '6' };
    holdNext = true;
    // As the state machine invokes rollback-restart: with the execution's start.
    const rollbackRestart = (run: typeof rotation, executionStartedAt: string) =>
      withEnv(timeout, () =>
        restartWorkloads({ ...run.item(STUCK_CLUSTER), purpose: 'rollback', executionStartedAt }),
      );
    await expect(rollbackRestart(rotation, failedStartedAt)).rejects.toMatchObject({
      name: 'VerificationFailed',
      message: expect.stringMatching(/did not finish rolling out within 6 s of the wave's restart/),
    });
    expect(stuck).toBeDefined();
    // The run ended RollbackFailed; the operator fixes the cause and resumes the rollback (a new
    // execution under the failed run's restart id), deleting the stuck pod once the resume has begun.
    const resumed = rotation.asExecution(h.executionId('stuck-rollback'), failed);
    const resumedStartedAt = new Date().toISOString();
    const deleted = sleep(3_000).then(() => {
      const pod = stuck as KubeObject;
      h.lab.cluster(STUCK_CLUSTER).store.delete('Pod', pod.metadata.namespace, pod.metadata.name);
    });
    // Act
    const answer = await rollbackRestart(resumed, resumedStartedAt);
    await deleted;
    // Assess: the stuck wave, restarted long ago by the failed run, was given a fresh timeout from the
    // resume instead of being reported late at once, and finished; then the rest was restarted.
    expect(answer).toMatchObject({ cluster: STUCK_CLUSTER, done: true });
    expect(answer.restarted).toBeGreaterThan(0);
  });
});
