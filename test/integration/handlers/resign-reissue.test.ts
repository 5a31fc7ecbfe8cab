// reissue-intermediate with each cluster's strategy from preflight, on a lab whose mesh has PCDS on and
// whose istiod behaves as Istio 1.29 (bytes rule) with CRLF original root files: for `resign` the
// written root-cert.pem is the distributed bytes with the new root appended once more (A+B+B), istiod
// takes it, and every running proxy takes a certificate from the new intermediate by the push, before
// any restart. `restart` leaves root-cert.pem as it was and moves no running proxy. Certificates live
// ten minutes here, so no renewal can move a proxy during the test. The lab's istiod model pushes on a
// changed root-cert.pem as real istiod does (calibrated by test/integration/lab/istio-resign.test.ts).
import { jest } from '@jest/globals';
import { handler as distributeBundleHandler } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as reissueIntermediateHandler } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import {
  awaitProxyTrust,
  type HandlerLab,
  onPrimary,
  PUSH_ONLY_LAB,
  podIssuersOf,
  podUidsOf,
  startHandlerLab,
  withEnv,
} from './handler-lab.js';

const distributeBundle = onPrimary(distributeBundleHandler);
const reissueIntermediate = onPrimary(reissueIntermediateHandler);

jest.setTimeout(240_000);

const MOVE_TIMEOUT_MS = 30_000;

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ ...PUSH_ONLY_LAB, rootCertStyle: 'crlf' });
});
afterAll(async () => {
  await h?.stop();
});

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return check();
}

describe('reissue-intermediate with the strategy preflight chose, PCDS on, istiod as Istio 1.29', () => {
  it('resign: appends the new root to the bytes, istiod takes it, running proxies move without a restart; restart: none moves', async () => {
    // Prepare: a scheduled rotation up to the switch, every proxy trusting A+B
    const executionId = h.executionId('resign');
    const mode = 'scheduled' as const;
    const checked = await preflight({ executionId, mode, cluster: null });
    const stagedRoot = await stageRoot({ executionId });
    const item = (cluster: string, strategy: string) => ({
      executionId,
      mode,
      cluster,
      currentRoot: checked.currentRoot,
      stagedRoot,
      strategy,
    });
    for (const { name } of checked.clusters) await distributeBundle(item(name, 'restart'));
    const trusted = [];
    for (const { name } of checked.clusters) trusted.push(await verifyTrust(item(name, 'restart')));
    // verify-trust read every proxy's roots: with PCDS, each holds A+B by the push
    for (const output of trusted) {
      expect(output.proxies?.atRenewal).toBe(0);
      expect(output.proxies?.confirmed).toBe(podIssuersOf(h, output.cluster).size);
    }
    await awaitProxyTrust(checked);
    const distributed = h.cacertsOf('lab-1')['root-cert.pem'];
    const before = { 'lab-1': podIssuersOf(h, 'lab-1'), 'lab-2': podIssuersOf(h, 'lab-2') };
    const restartBefore = h.cacertsOf('lab-2')['root-cert.pem'];
    // The gate refuses a cluster whose proxies still serve leaves of the old intermediate.
    await expect(verifyWorkloads(item('lab-1', 'resign'))).rejects.toThrow(
      /was not restarted by this rotation and pod \S+ serves a leaf of .*, which the new root did not sign/,
    );

    // Act: lab-1 as preflight chose (resign), lab-2 forced to restart
    const resigned = await reissueIntermediate(item('lab-1', checked.clusters[0]?.strategy ?? ''));
    const restarted = await reissueIntermediate(item('lab-2', 'restart'));
    const moved = await eventually(
      () => [...podIssuersOf(h, 'lab-1').values()].every((issuer) => issuer === resigned.intermediateAfter),
      MOVE_TIMEOUT_MS,
    );

    // Assess: preflight chose resign for lab-1; its bytes are A+B then B once more
    expect(checked.clusters[0]).toEqual({ name: 'lab-1', strategy: 'resign' });
    expect(resigned.strategy).toBe('resign');
    const written = h.cacertsOf('lab-1')['root-cert.pem'];
    expect(Buffer.from(written).indexOf(Buffer.from(distributed))).toBe(0);
    expect(written.slice(distributed.length).replace(/\r\n/g, '\n').trim()).toBe(stagedRootPem().trim());
    for (const cluster of h.lab.clusters) expect(cluster.istiod.rejections()).toEqual([]);
    expect(h.lab.cluster('lab-1').istiod.current()?.caCertFingerprint).toBe(resigned.intermediateAfter);
    // Every running proxy of lab-1 moved, and the same pods hold the certificates (none restarted)
    expect(moved).toBe(true);
    expect([...podIssuersOf(h, 'lab-1').keys()].sort()).toEqual([...before['lab-1'].keys()].sort());
    expect(before['lab-1'].size).toBeGreaterThan(0);
    // lab-2: root-cert.pem unchanged, every proxy still on its old intermediate
    expect(restarted.strategy).toBe('restart');
    expect(h.cacertsOf('lab-2')['root-cert.pem']).toBe(restartBefore);
    expect(podIssuersOf(h, 'lab-2')).toEqual(before['lab-2']);
    expect([...podIssuersOf(h, 'lab-2').values()]).not.toContain(restarted.intermediateAfter);
    // and traffic held across the switch
    await h.lab.prober.runRound();
    expect(h.lab.prober.failures()).toEqual([]);

    // Act: restart-workloads for each, as the state machine gives it the strategy (lab-2 is told
    // resign although nothing was pushed to it: the fallback restarts what did not move).
    const uidsBefore = podUidsOf(h, 'lab-1');
    const lab1 = await restartWorkloads({ ...item('lab-1', 'resign'), purpose: 'rotation' });
    const lab2 = await withEnv({ ROLLOUT_TIMEOUT_SECONDS: '5' }, () =>
      restartWorkloads({ ...item('lab-2', 'resign'), purpose: 'rotation' }),
    );

    // Assess: lab-1 restarted nothing, every proxy serves the new intermediate, the same pods run
    expect(lab1).toMatchObject({ strategy: 'resign', done: true, restarted: 0, waves: 0 });
    expect(lab1.resign).toMatchObject({ fallback: 0, fallbackWorkloads: [], unmovedUnmanaged: [] });
    expect(lab1.resign?.pods).toBe(before['lab-1'].size);
    expect(lab1.resign?.moved).toBe(before['lab-1'].size);
    expect(lab1.skipped).toBe('every proxy re-signed with the new intermediate');
    expect(podUidsOf(h, 'lab-1')).toEqual(uidsBefore);
    // lab-2: no proxy moved within 5 s, so every workload was restarted, and the output names them
    expect(lab2).toMatchObject({ strategy: 'resign', done: true });
    expect(lab2.resign?.moved).toBe(0);
    expect(lab2.resign?.fallback).toBe(lab2.workloads);
    expect(lab2.restarted).toBe(lab2.workloads);
    expect(lab2.resign?.behind[0]).toMatch(/serves a leaf of /);
    // and the gate passes both: lab-1 on what its proxies serve, lab-2 on its restarts
    await expect(verifyWorkloads(item('lab-1', 'resign'))).resolves.toMatchObject({ cluster: 'lab-1' });
    await expect(verifyWorkloads(item('lab-2', 'resign'))).resolves.toMatchObject({ cluster: 'lab-2' });
    await h.lab.prober.runRound();
    expect(h.lab.prober.failures()).toEqual([]);
  });
});

/** The new root's PEM as stage-root stored it (lab-2 holds it once after distribute-bundle). */
function stagedRootPem(): string {
  const blocks = h
    .cacertsOf('lab-2')
    ['root-cert.pem'].replace(/\r\n/g, '\n')
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return blocks?.at(-1) ?? '';
}
