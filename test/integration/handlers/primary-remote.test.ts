// A rotation driven by hand, phase by phase, over a model lab in topology primary-remote: lab-2 is a
// remote of lab-1 (no istiod, no cacerts; lab-1's istiod signs its pods and publishes its
// istio-ca-root-cert). The handlers never write lab-2, restart its workloads only once lab-1's istiod
// signs with lab-1's new intermediate, verify them as any cluster's, and not one handshake fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import { RESTARTED_AT_ANNOTATION } from '../../../lambdas/adapters/kube/workload-ref.js';
import { REMOTE_CLUSTERS_ENV } from '../../../lambdas/contract/topology.js';
import { RENEWAL_SLACK_SECONDS } from '../../../lambdas/core/istio/proxy-trust-wait.js';
import type { RotationMode } from '../../../lambdas/core/plan/phases.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import {
  expectNoFailedHandshake,
  expectNoKeyMaterial,
  type HandlerLab,
  startHandlerLab,
  withEnv,
} from './handler-lab.js';
import { probedPhase, type RotationByHand, rotationByHand } from './rotation-steps.js';

jest.setTimeout(240_000);

const PRIMARY = 'lab-1';
const REMOTE = 'lab-2';

describe('a scheduled rotation of a primary-remote fleet driven by hand', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    // A volume sync delay, so that istiod loads a written cacerts only a while later: the gate before
    // the remote's restart has something to wait for.
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 3,
      workloadCertTtlMs: 8_000,
      volumeSyncDelayMs: 1_500,
      topology: 'primary-remote',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const remoteCacerts = () => h.lab.cluster(REMOTE).store.tryGet('Secret', 'istio-system', 'cacerts');
  /** The intermediates that signed the remote's workload identities (its primary's istiod signs them). */
  const remoteIssuers = () => [
    ...new Set(
      h.lab
        .cluster(REMOTE)
        .istiod.identities()
        .map((id) => id.issuerFingerprint),
    ),
  ];

  /** A rotation of the primary and its remote driven by hand, under an execution of its own. */
  const rotationOfBoth = (name: string, mode: RotationMode) =>
    rotationByHand(h, { executionId: h.executionId(name), mode, clusters: [PRIMARY, REMOTE] });
  /** The rollback's stages after its wait for proxy trust, then the lab settled and probed once more. */
  async function restoreIntermediateOnwards(rotation: RotationByHand) {
    await rotation.rollback('restore-intermediate');
    const restarted = await rotation.restartWorkloads('rollback');
    await rotation.rollback('restore-original');
    await rotation.dropPendingRoot();
    await h.lab.waitForSettled();
    await h.lab.prober.runRound();
    return restarted;
  }

  it.each([
    [
      'undeclared',
      '',
      /cluster lab-2 is a primary \(REMOTE_CLUSTERS does not declare it a remote\) but has no istio-system\/cacerts; .* as lab-2=<primary>/,
    ],
    [
      'declared with a primary not in the fleet',
      'lab-2=lab1',
      /declares lab-2 a remote of lab1, which is not in the mesh's fleet \(the fleet is lab-1, lab-2\)/,
    ],
    [
      'declared the other way round',
      'lab-1=lab-2',
      /cluster lab-1 is declared a remote of lab-2 in REMOTE_CLUSTERS but has istio-system\/cacerts/,
    ],
  ])(
    'refuses at preflight a remote %s, naming the cluster and what to change, and writes nothing',
    async (_case, declared, reason) => {
      // Prepare
      const before = await h.writableState();
      // Act
      const refused = withEnv({ [REMOTE_CLUSTERS_ENV]: declared }, () =>
        preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
      );
      // Assess
      await expect(refused).rejects.toThrow(reason);
      await expect(refused).rejects.toMatchObject({ name: 'PreconditionFailed' });
      expect(await h.writableState()).toEqual(before);
    },
  );

  it('never writes the remote, restarts it after its primary reissued, and fails no handshake', async () => {
    // Prepare
    const executionId = h.executionId('primary-remote');
    const outputs: unknown[] = [];
    const phase = probedPhase(h, (output) => outputs.push(output));
    const rotation = rotationByHand(h, { executionId, mode: 'scheduled', clusters: [PRIMARY, REMOTE] });
    const remoteBefore = remoteCacerts();
    const primaryIntermediateBefore = h.lab.snapshotCacerts(PRIMARY).caCertFingerprint;

    // Act
    const checked = await phase('preflight', () => rotation.preflight());
    const stagedRoot = await phase('stage-root', () => rotation.stageRoot());
    const distributed = await phase('distribute-bundle', () => rotation.distributeBundle());
    const trusted = await phase('verify-trust', () => rotation.verifyTrust());
    await phase('await-proxy-trust', () => rotation.awaitProxyTrust());
    const reissued = await phase('reissue-intermediate', () => rotation.reissueIntermediate());
    const reissuedAt = Date.now();
    const restarted = await phase('restart-workloads', () => rotation.restartWorkloads('rotation'));
    const verified = await phase('verify-workloads', () => rotation.verifyWorkloads());
    await phase('soak', () => rotation.soak());
    const retired = await phase('retire-root', () => rotation.retireRoot());
    await phase('promote-root', () => rotation.promoteRoot());
    await h.lab.waitForSettled();
    await phase('after', async () => ({}));

    // Assess: the plan knows the remote, and the Maps work on both clusters, the remote by restart
    expect(checked.plan.remotes).toEqual([{ name: REMOTE, primary: PRIMARY }]);
    expect(checked.clusters).toEqual([
      { name: PRIMARY, strategy: 'restart' },
      { name: REMOTE, strategy: 'restart' },
    ]);
    // Nothing written to the remote: no cacerts before or after, skipped with why, no backup
    expect(remoteBefore).toBeUndefined();
    expect(remoteCacerts()).toBeUndefined();
    for (const answers of [distributed, reissued, retired]) {
      expect(answers[1]).toMatchObject({ cluster: REMOTE, skipped: true, primary: PRIMARY });
      // A primary's answer is no skip (the writing Maps' say so: contract/map-answers.ts).
      expect((answers[0] as { skipped?: boolean }).skipped ?? false).toBe(false);
    }
    expect(await h.cacertsBackups(executionId)).toMatchObject({ [PRIMARY]: 'kept', [REMOTE]: 'none' });
    // The remote's bundles, published by the primary's istiod, held both roots at verify-trust
    expect(trusted[1]?.cluster).toBe(REMOTE);
    expect([...(trusted[1]?.roots ?? [])].sort()).toEqual(
      [checked.currentRoot.fingerprint, stagedRoot.fingerprint].sort(),
    );
    // Its workloads restarted after the primary's reissue, and serve the primary's new intermediate
    expect(restarted[1]).toMatchObject({ cluster: REMOTE, done: true });
    expect(restarted[1]?.restarted).toBeGreaterThan(0);
    const restartedAt = h.lab
      .cluster(REMOTE)
      .store.list('Deployment')
      .items.map((d) => d.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION])
      .filter((at): at is string => at !== undefined);
    expect(restartedAt.length).toBeGreaterThan(0);
    // restartedAt has seconds precision.
    for (const at of restartedAt)
      expect(Date.parse(at)).toBeGreaterThanOrEqual(Math.floor(reissuedAt / 1000) * 1000 - 1000);
    expect(verified[1]).toMatchObject({ cluster: REMOTE });
    expect(verified[1]?.pods).toBeGreaterThan(0);
    const primaryIntermediate = h.lab.snapshotCacerts(PRIMARY).caCertFingerprint;
    expect(primaryIntermediate).not.toBe(primaryIntermediateBefore);
    expect(remoteIssuers()).toEqual([primaryIntermediate]);
    // Not one failed handshake, across clusters, in any phase
    expectNoFailedHandshake(h);
    expect(h.lab.prober.stats().byPhase['restart-workloads']?.attempted ?? 0).toBeGreaterThan(0);
    for (const output of outputs) expectNoKeyMaterial(output);
  });

  it("rolls back a run that reissued, restarting the remote's workloads onto the primary's original intermediate", async () => {
    // Prepare: a rotation that fails after reissue-intermediate, as the Catch sees it
    const rotation = rotationOfBoth('primary-remote-rollback', 'scheduled');
    const primaryStart = h.cacertsOf(PRIMARY);
    await rotation.walk({ through: 'reissue-intermediate' });
    await sleep(h.lab.options.workloadCertTtlMs); // the remote's pods renew under the primary's new intermediate
    h.lab.prober.setPhase('rollback');
    // Act
    const trust = await rotation.rollback('restore-trust');
    const restarted = await restoreIntermediateOnwards(rotation);
    // Assess
    expect(trust[1]).toMatchObject({
      cluster: REMOTE,
      changed: false,
      reason: expect.stringMatching(/remote cluster of lab-1/),
    });
    expect(restarted[1]?.restarted).toBeGreaterThan(0);
    expect(remoteCacerts()).toBeUndefined();
    expect(h.cacertsOf(PRIMARY)).toEqual(primaryStart);
    const primaryIntermediate = h.lab.snapshotCacerts(PRIMARY).caCertFingerprint;
    expect(remoteIssuers()).toEqual([primaryIntermediate]);
    expectNoFailedHandshake(h);
  });

  it("waits the mesh's renewal window for the remote's proxies after its primary retired the old root, not Istio's default", async () => {
    // Prepare: an emergency run retired A on the primary, then failed; the remote's proxies (signed by
    // the primary's istiod, no PCDS) renewed since, so they trust B alone.
    const rotation = rotationOfBoth('primary-remote-after-retire', 'emergency');
    const primaryStart = h.cacertsOf(PRIMARY);
    await rotation.walk({ through: 'verify-workloads' });
    await rotation.retireRoot();
    await sleep(h.lab.options.workloadCertTtlMs);
    h.lab.prober.setPhase('rollback');
    // Act: the remote's restore-trust first (the Map may run it before its primary's restore), so that
    // none of its proxies can hold A yet when they are read.
    const remoteTrust = await rotation.rollback('restore-trust', [REMOTE]);
    const primaryTrust = await rotation.rollback('restore-trust', [PRIMARY]);
    // Assess: the remote's window is its proxies' renewal window as preflight plans it (the lab's 8 s
    // SECRET_TTL, renewed by 51% of it, plus slack), read through its primary, not Istio's 24 h default's
    // (about 12 h) for want of an istiod of its own.
    const ttlSeconds = h.lab.options.workloadCertTtlMs / 1000;
    const window = Math.ceil(ttlSeconds * 0.51) + RENEWAL_SLACK_SECONDS;
    expect(remoteTrust[0]).toMatchObject({
      cluster: REMOTE,
      changed: false,
      proxyTrustWaitSeconds: window,
      proxyTrustWaitReason: expect.stringMatching(
        /lack a restored root .*lab-2: PCDS off.* of a 8s certificate$/,
      ),
    });
    // ... and that wait keeps every handshake through the rest of the rollback.
    await rotation.awaitRestoredProxyTrust([...primaryTrust, ...remoteTrust]);
    const restarted = await restoreIntermediateOnwards(rotation);
    expect(restarted[1]?.restarted).toBeGreaterThan(0);
    expect(h.cacertsOf(PRIMARY)).toEqual(primaryStart);
    expectNoFailedHandshake(h);
  });
});
