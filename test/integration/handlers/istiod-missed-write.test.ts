// A cacerts write istiod never takes (its file watcher missed the change, as the rehearsal's
// `--fault kube:CLUSTER:istiod-drop` plays it) is not waited out again on every retry: once the write is
// past the time istiod takes one (a kubelet sync with its jitter, then its reload:
// lambdas/core/istio/istiod-load-window.ts), verify-trust, restart-workloads' istiod gate and the
// rollback's verify-restored-trust fail the attempt at once with a VerificationFailed naming the missed
// write, a rotation's gates and its rollback's (after restore-trust, after restore-intermediate) alike.
// Within that time they wait as before, and they pass once istiod has taken it, whatever the time.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';
import { ON_PRIMARIES, rotationByHand } from './rotation-steps.js';

jest.setTimeout(120_000);

const VERIFY_TIMEOUT = '15';
const VOLUME_SYNC_DELAY_MS = 500;
let h: HandlerLab;
/** The next cacerts changes lab-1's istiod ignores. */
let dropsLeft = 0;

beforeAll(async () => {
  h = await startHandlerLab({
    clusters: 1,
    workloadsPerCluster: 2,
    workloadCertTtlMs: 10 * 60_000,
    volumeSyncDelayMs: VOLUME_SYNC_DELAY_MS,
    hooks: {
      istiodDropsUpdate: () => {
        if (dropsLeft === 0) return false;
        dropsLeft -= 1;
        return true;
      },
    },
  });
  await h.lab.waitForSettled();
});
afterAll(async () => {
  await h?.stop();
});

/** The writing Map's answers as a retry long after the write hands them on: written `minutes` ago. */
function writtenAgo<T extends object>(answers: readonly T[], minutes: number): T[] {
  const writtenBy = new Date(Date.now() - minutes * 60_000).toISOString();
  return answers.map((answer) => ({ ...answer, cacertsWrittenBy: writtenBy }));
}

/** The answers as a retry `minutes` after their writes gets them: each write time that is there, moved back. */
function movedBack<T extends { readonly cacertsWrittenBy?: string }>(
  answers: readonly T[],
  minutes: number,
): T[] {
  return answers.map((answer) =>
    answer.cacertsWrittenBy === undefined
      ? answer
      : {
          ...answer,
          cacertsWrittenBy: new Date(Date.parse(answer.cacertsWrittenBy) - minutes * 60_000).toISOString(),
        },
  );
}

/**
 * istiod reads the cluster's cacerts files again, as after its restart: here two changes it sees, each
 * synced on its own (kubelet writes nothing for data it has mounted already, so the same data back within
 * one sync would reach no file), the second putting `files` back.
 */
async function istiodRereads(cluster: string, files: Readonly<Record<string, string>>): Promise<void> {
  h.replaceCacerts(cluster, { ...files, 'cert-chain.pem': `${files['cert-chain.pem']}\n` });
  await istiodCaughtUp(cluster);
  h.replaceCacerts(cluster, files);
}

/**
 * Until the cluster's istiod has acted on the last cacerts change (the volume synced, then its reload or
 * its drop), for a test whose proxies, without PCDS, leave the lab unsettled until they renew.
 */
async function istiodCaughtUp(cluster: string): Promise<void> {
  await sleep(VOLUME_SYNC_DELAY_MS * 3);
  await h.lab.cluster(cluster).istiod.idle();
}

/** How long `act` took to settle, and how. */
async function timed(act: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const startedAt = Date.now();
  const error = await act().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return { ms: Date.now() - startedAt, error };
}

describe('a cacerts write istiod missed', () => {
  it("fails restart-workloads' istiod gate at once past the load window, restarting nothing, and passes once istiod took the write", async () => {
    // Prepare: an intermediate rekey whose new intermediate istiod ignores
    const rotation = rotationByHand(h, {
      executionId: h.executionId('drop-gate'),
      mode: 'intermediate',
      writers: ON_PRIMARIES,
    });
    await rotation.preflight('lab-1');
    dropsLeft = 1;
    const reissued = await rotation.reissueIntermediate();
    await h.lab.waitForSettled();
    expect(dropsLeft).toBe(0);
    const restartedBefore = h.lab
      .cluster('lab-1')
      .istiod.identities()
      .map((id) => id.podName);
    const item = { ...rotation.item('lab-1'), purpose: 'rotation' as const };

    // Act: a retry four minutes after the write
    const retry = await timed(() =>
      withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
        restartWorkloads({ ...item, writes: writtenAgo(reissued, 4) }),
      ),
    );

    // Assess
    expect(retry.error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1' });
    expect(String(retry.error)).toMatch(
      /istiod in cluster lab-1 has not loaded the intermediate in istio-system\/cacerts \(.*\) \d+ s after the write \(istiod takes a changed cacerts within 120 s: .*\): istiod-\S+ signs with .*rollout restart deployment\/istiod/,
    );
    expect(
      h.lab
        .cluster('lab-1')
        .istiod.identities()
        .map((id) => id.podName),
    ).toEqual(restartedBefore);

    // Act: istiod reads the files (as after its restart: here a change it sees), then a retry as late
    const files = h.cacertsOf('lab-1');
    await istiodRereads('lab-1', files);
    await h.lab.waitForSettled();
    const restarted = await withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
      restartWorkloads({ ...item, writes: writtenAgo(reissued, 5) }),
    );

    // Assess: the gate passed on what istiod serves, late as it is
    expect(restarted).toMatchObject({ cluster: 'lab-1', done: true });
    expect(restarted.restarted).toBeGreaterThan(0);
  });

  it('fails verify-trust at once, past the load window, naming the missed write; within it, waits as before; rolls back', async () => {
    // Prepare: a root rotation (after the rekey above: nothing pending) whose A+B istiod ignores
    const start = h.cacertsOf('lab-1');
    const rotation = rotationByHand(h, { executionId: h.executionId('drop-trust'), mode: 'scheduled' });
    await rotation.walk({ through: 'stage-root' });
    dropsLeft = 1;
    const distributed = await rotation.distributeBundle();
    await h.lab.waitForSettled();
    expect(dropsLeft).toBe(0);
    const item = { ...rotation.item('lab-1'), writes: distributed };

    // Act: the first attempt, just after the write; then a retry four minutes after it
    const first = await timed(() => withEnv({ VERIFY_TIMEOUT_SECONDS: '2' }, () => verifyTrust(item)));
    const retry = await timed(() =>
      withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
        verifyTrust({ ...item, writes: writtenAgo(distributed, 4) }),
      ),
    );

    // Assess: within the window the attempt waited its timeout and says istiod may still be pushing
    expect(first.error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1' });
    expect(String(first.error)).toMatch(/does not yet hold the root set .* may still be pushing/);
    // Past it, the retry failed at once, naming the missed write and what makes istiod read the files
    expect(retry.error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1' });
    expect(String(retry.error)).toMatch(
      /does not hold the root set .* \d+ s after the write \(istiod takes a changed cacerts within 120 s: .*\): istiod of cluster lab-1 still serves the roots it had before distribute-bundle wrote istio-system\/cacerts\. .*rollout restart deployment\/istiod/,
    );

    // Act: the rollback. cacerts already holds the restored set (the missed write), so restore-trust
    // writes nothing, and istiod, seeing no change, stays on the start's roots (reliability finding 5)
    const trust = await withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
      rotation.rollback('restore-trust'),
    ).catch((error: unknown) => error);
    await rotation.rollback('restore-intermediate');
    await rotation.rollback('restore-original');
    await rotation.dropPendingRoot();
    await h.lab.waitForSettled();

    // Assess: restore-trust took istiod on the start's roots as restored (before: VerificationFailed on
    // every attempt, for ever), and the rollback ended where the rotation started
    expect(trust).toEqual([expect.objectContaining({ cluster: 'lab-1', changed: false })]);
    expect(h.cacertsOf('lab-1')).toEqual(start);
  });

  it("fails rollback-restart's istiod gate at once when istiod missed restore-intermediate's write, saying how the rollback goes on", async () => {
    // Prepare: an intermediate rekey, taken by istiod, then rolled back; istiod ignores the write of the
    // original intermediate back
    const start = h.cacertsOf('lab-1');
    const rotation = rotationByHand(h, {
      executionId: h.executionId('drop-rollback'),
      mode: 'intermediate',
      writers: ON_PRIMARIES,
    });
    await rotation.preflight('lab-1');
    await rotation.reissueIntermediate();
    await h.lab.waitForSettled();
    await rotation.rollback('restore-trust');
    dropsLeft = 1;
    const writeStarted = Date.now();
    const restored = await rotation.rollback('restore-intermediate');
    await h.lab.waitForSettled();
    expect(dropsLeft).toBe(0);
    const item = { ...rotation.item('lab-1'), purpose: 'rollback' as const };

    // Act: rollback-restart's retry four minutes after restore-intermediate's write
    const retry = await timed(() =>
      withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
        restartWorkloads({ ...item, writes: movedBack(restored, 4) }),
      ),
    );

    // Assess: the gate failed at once (before: a whole VERIFY_TIMEOUT_SECONDS on each of its 11
    // attempts), saying what comes after the retries; restore-intermediate said when it wrote
    expect(retry.ms).toBeLessThan(Number(VERIFY_TIMEOUT) * 1000);
    expect(retry.error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1', phase: 'rollback' });
    expect(String(retry.error)).toMatch(
      /istiod in cluster lab-1 has not loaded the intermediate in istio-system\/cacerts \(.*\) \d+ s after the write \(istiod takes a changed cacerts within 120 s: .*\): istiod-\S+ signs with .*rollout restart deployment\/istiod.* the rollback goes on once istiod has taken the write; .*RollbackFailed: then restart istiod and resume the rollback with meshtrust retry-rollback/,
    );
    expect(restored).toEqual([expect.objectContaining({ cluster: 'lab-1', changed: true })]);
    expect(Date.parse(restored[0]?.cacertsWrittenBy ?? '')).toBeGreaterThanOrEqual(writeStarted);

    // Act: the stage again, as a resumed rollback runs it, then the gate as the state machine calls it
    const again = await rotation.rollback('restore-intermediate');
    const unknown = await timed(() =>
      withEnv({ VERIFY_TIMEOUT_SECONDS: '4' }, () => rotation.restartWorkloads('rollback')),
    );

    // Assess: having written nothing, it claims no write time, so the gate waits its timeout as before
    // (polling each second while a poll fits in it)
    expect(again).toEqual([expect.objectContaining({ cluster: 'lab-1', changed: false })]);
    expect(again[0]?.cacertsWrittenBy).toBeNull();
    expect(unknown.ms).toBeGreaterThanOrEqual(3000);
    expect(String(unknown.error)).toMatch(/has not loaded the intermediate .* yet/);

    // Act: istiod reads the files (as after its restart), then the rollback goes on to its end
    const files = h.cacertsOf('lab-1');
    await istiodRereads('lab-1', files);
    await h.lab.waitForSettled();
    const restarted = await withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
      rotation.restartWorkloads('rollback'),
    );
    await rotation.rollback('restore-original');
    await rotation.dropPendingRoot();
    await h.lab.waitForSettled();

    // Assess: the gate passed on what istiod serves, and the rollback ended where the rekey started
    expect(restarted).toEqual([expect.objectContaining({ cluster: 'lab-1', done: true })]);
    expect(restarted[0]?.restarted).toBeGreaterThan(0);
    expect(h.cacertsOf('lab-1')).toEqual(start);
  });

  it("fails verify-restored-trust at once when istiod missed restore-trust's write after retire-root, and passes once istiod took it", async () => {
    // Prepare: an emergency rotation that retired the old root A on lab-1 (its cacerts and istiod on B
    // alone), then rolled back; istiod ignores restore-trust's write of B+A
    const start = h.cacertsOf('lab-1');
    const rotation = rotationByHand(h, {
      executionId: h.executionId('drop-restore-trust'),
      mode: 'emergency',
    });
    // (await-proxy-trust left out: these proxies renew in minutes, and no handshake is counted here)
    await rotation.walk({ through: 'verify-trust' });
    await rotation.walk({ from: 'reissue-intermediate', through: 'verify-workloads' });
    await rotation.retireRoot();
    await istiodCaughtUp('lab-1');
    const { checked, stagedRoot } = rotation;
    dropsLeft = 1;
    const writeStarted = Date.now();
    const written = await rollback({ ...rotation.item('lab-1'), stage: 'restore-trust' });
    await istiodCaughtUp('lab-1');
    expect(dropsLeft).toBe(0);
    const item = { ...rotation.item('lab-1'), stage: 'verify-restored-trust' };

    // Act: the first attempt, just after the write; then rollback-verify-trust's retry four minutes after it
    const first = await timed(() =>
      withEnv({ VERIFY_TIMEOUT_SECONDS: '2' }, () => rollback({ ...item, writes: [written] })),
    );
    const retry = await timed(() =>
      withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
        rollback({ ...item, writes: movedBack([written], 4) }),
      ),
    );

    // Assess: restore-trust wrote B+A and said when; within the window the wait took its timeout
    expect(written).toMatchObject({ stage: 'restore-trust', cluster: 'lab-1', changed: true });
    expect(written.rootsAfter).toEqual(
      expect.arrayContaining([checked.currentRoot.fingerprint, stagedRoot.fingerprint]),
    );
    expect(Date.parse(written.cacertsWrittenBy ?? '')).toBeGreaterThanOrEqual(writeStarted);
    expect(first.error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1' });
    expect(String(first.error)).toMatch(/does not yet hold the restored root set .* may still be pushing/);
    // Past it, the retry failed at once (before: a whole VERIFY_TIMEOUT_SECONDS on each of rollback-trust's
    // 11 attempts), naming the missed write and what comes after the retries
    expect(retry.ms).toBeLessThan((Number(VERIFY_TIMEOUT) * 1000) / 3);
    expect(retry.error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1', phase: 'rollback' });
    expect(String(retry.error)).toMatch(
      /istio-ca-root-cert of cluster lab-1 does not hold the restored root set in .* \d+ s after the write \(istiod takes a changed cacerts within 120 s: .*\): istiod of cluster lab-1 has not published the root set in istio-system\/cacerts\. .*rollout restart deployment\/istiod.* the rollback goes on once istiod has taken the write; .*meshtrust retry-rollback/,
    );

    // Act: istiod reads the files (as after its restart), then the retry as late, and the rest of the rollback
    const files = h.cacertsOf('lab-1');
    await istiodRereads('lab-1', files);
    await istiodCaughtUp('lab-1');
    const verified = await withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () =>
      rollback({ ...item, writes: movedBack([written], 5) }),
    );
    await rotation.rollback('restore-intermediate');
    await withEnv({ VERIFY_TIMEOUT_SECONDS: VERIFY_TIMEOUT }, () => rotation.restartWorkloads('rollback'));
    await rotation.rollback('restore-original');
    await rotation.dropPendingRoot();

    // Assess: the wait passed on what istiod publishes, late as it is, and the rollback ended where the
    // rotation started
    expect(verified).toMatchObject({ stage: 'verify-restored-trust', cluster: 'lab-1', changed: false });
    expect(h.cacertsOf('lab-1')).toEqual(start);
  });
});
