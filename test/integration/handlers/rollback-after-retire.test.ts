// A rollback after retire-root took the old root A from some clusters: their running proxies trust B
// alone until they learn A+B again (a PCDS push, else their next renewal). The rollback must not let
// any workload get a certificate of the restored intermediate (chained to A) before then: here the
// proxies renew slowly and have no PCDS, so only the wait restore-trust asks for keeps every handshake.
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import {
  expectCleanHandshakes,
  expectNoKeyMaterial,
  type HandlerLab,
  startHandlerLab,
} from './handler-lab.js';
import { probedPhase, rotationByHand } from './rotation-steps.js';

jest.setTimeout(300_000);

/** Long enough that no proxy renews between restore-trust and the restored intermediate's restarts. */
const WORKLOAD_CERT_TTL_MS = 40_000;

describe('a rollback after one cluster retired the old root, with proxies that learn roots at renewal', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 3,
      workloadCertTtlMs: WORKLOAD_CERT_TTL_MS,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('waits until the retired cluster’s proxies trust the old root again before restoring the intermediate', async () => {
    // Prepare: an emergency run retired A on lab-1, then failed on lab-2; lab-1's proxies renewed since,
    // so they trust B alone.
    const outputs: unknown[] = [];
    const phase = probedPhase(h, (output) => outputs.push(output));
    const rotation = rotationByHand(h, { executionId: h.executionId('after-retire'), mode: 'emergency' });
    await rotation.walk({ through: 'verify-workloads', phase });
    await phase('retire-root', () => rotation.retireRoot(['lab-1']));
    await sleep(WORKLOAD_CERT_TTL_MS);
    const { checked, stagedRoot } = rotation;
    // Act
    const trust = await phase('rollback-trust', () => rotation.rollback('restore-trust'));
    const waited = await phase('rollback-await-proxy-trust', () => rotation.awaitRestoredProxyTrust(trust));
    await phase('rollback-intermediate', () => rotation.rollback('restore-intermediate'));
    await phase('rollback-restart', () => rotation.restartWorkloads('rollback'));
    await phase('rollback-restore', () => rotation.rollback('restore-original'));
    await h.lab.waitForSettled();
    await phase('after-rollback', async () => ({}));
    // Assess: lab-1's proxies lacked A (no PCDS), so restore-trust asked for their renewal window; lab-2
    // had held A+B all along and asked for nothing.
    expect(trust.map((t) => [t.cluster, t.changed, t.rootsAfter])).toEqual([
      ['lab-1', true, [checked.currentRoot.fingerprint, stagedRoot.fingerprint]],
      ['lab-2', false, [checked.currentRoot.fingerprint, stagedRoot.fingerprint]],
    ]);
    expect(trust.map((t) => (t.proxyTrustWaitSeconds ?? 0) > 0)).toEqual([true, false]);
    expect(waited.seconds).toBe(Math.max(...trust.map((t) => t.proxyTrustWaitSeconds ?? 0)));
    expectCleanHandshakes(h, ['rollback-restart']);
    for (const output of outputs) expectNoKeyMaterial(output);
  });
});
