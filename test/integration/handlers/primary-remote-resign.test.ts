// The `resign` strategy in a primary-remote fleet, driven by hand as the state machine hands each Map
// item its planned strategy: lab-2 is a remote of lab-1 (no istiod, no cacerts; lab-1's istiod signs
// its pods and pushes them its roots). With PCDS on the remote's proxies too, preflight plans both
// `resign`; lab-1's reissue writes A+B+B, and the remote's restart-workloads, behind the istiod gate on
// lab-1, waits until every one of its proxies serves lab-1's new intermediate and restarts none. With a
// remote proxy lacking PCDS, both fall back to `restart`, each saying why. Certificates live ten minutes,
// so no renewal moves a proxy during the test: only the push can.
import { jest } from '@jest/globals';
import {
  expectNoFailedHandshake,
  expectNoKeyMaterial,
  type HandlerLab,
  PUSH_ONLY_LAB,
  podIssuersOf,
  podUidsOf,
  startHandlerLab,
  withProxyEnvEdited,
} from './handler-lab.js';
import { probedPhase, rotationByHand } from './rotation-steps.js';

jest.setTimeout(240_000);

const PRIMARY = 'lab-1';
const REMOTE = 'lab-2';

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ ...PUSH_ONLY_LAB, topology: 'primary-remote' });
});
afterAll(async () => {
  await h?.stop();
});

describe('a primary-remote rotation with the strategy preflight planned', () => {
  it("moves the remote by resign: no remote pod restarted, every remote proxy on the primary's new intermediate", async () => {
    // Prepare
    const outputs: unknown[] = [];
    const phase = probedPhase(h, (output) => outputs.push(output));
    const rotation = rotationByHand(h, {
      executionId: h.executionId('remote-resign'),
      mode: 'scheduled',
      clusters: [PRIMARY, REMOTE],
      plannedStrategies: true,
    });
    const remoteUids = podUidsOf(h, REMOTE);
    const remoteIssuersBefore = podIssuersOf(h, REMOTE);

    // Act: every phase up to verify-workloads, as the state machine runs them
    await rotation.walk({ through: 'await-proxy-trust', phase });
    const reissued = await phase('reissue-intermediate', () => rotation.reissueIntermediate());
    const restarted = await phase('restart-workloads', () => rotation.restartWorkloads('rotation'));
    const verified = await phase('verify-workloads', () => rotation.verifyWorkloads());
    // then the old root retired at once (every proxy moved, so no certificate under it is live)
    await phase('retire-root', () => rotation.retireRoot());
    await phase('promote-root', () => rotation.promoteRoot());
    await h.lab.waitForSettled();
    await phase('after', async () => ({}));

    // Assess: both planned resign, each with its reasons
    const { checked } = rotation;
    expect(checked.clusters).toEqual([
      { name: PRIMARY, strategy: 'resign' },
      { name: REMOTE, strategy: 'resign' },
    ]);
    const [primaryPlan, remotePlan] = checked.plan.strategies;
    expect(primaryPlan?.reasons.at(-1)).toMatch(
      /^primary of remote cluster\(s\) lab-2, which may resign too/,
    );
    expect(remotePlan?.reasons).toContain(
      `every running proxy (${remoteIssuersBefore.size} pod(s)) has PROXY_CONFIG_XDS_AGENT=true`,
    );
    // The primary wrote A+B+B; the remote was skipped
    expect(reissued[0]).toMatchObject({ cluster: PRIMARY, strategy: 'resign' });
    expect(reissued[1]).toMatchObject({ cluster: REMOTE, skipped: true, primary: PRIMARY });
    const primaryIntermediate = h.lab.snapshotCacerts(PRIMARY).caCertFingerprint;
    // The remote waited for its proxies and restarted nothing: the same pods, each on the new intermediate
    expect(restarted[1]).toMatchObject({ cluster: REMOTE, strategy: 'resign', done: true, restarted: 0 });
    expect(restarted[1]?.resign).toMatchObject({
      pods: remoteIssuersBefore.size,
      moved: remoteIssuersBefore.size,
      fallback: 0,
      unmovedUnmanaged: [],
    });
    expect(remoteIssuersBefore.size).toBeGreaterThan(0);
    expect([...remoteIssuersBefore.values()]).not.toContain(primaryIntermediate);
    expect(podUidsOf(h, REMOTE)).toEqual(remoteUids);
    expect([...podIssuersOf(h, REMOTE).keys()].sort()).toEqual([...remoteIssuersBefore.keys()].sort());
    expect(new Set(podIssuersOf(h, REMOTE).values())).toEqual(new Set([primaryIntermediate]));
    expect(restarted[0]).toMatchObject({ cluster: PRIMARY, strategy: 'resign', restarted: 0 });
    // verify-workloads accepts the remote on what its proxies serve
    expect(verified[1]).toMatchObject({ cluster: REMOTE });
    // Not one failed handshake, across clusters, in any phase
    expectNoFailedHandshake(h);
    expect(h.lab.prober.stats().byPhase['restart-workloads']?.attempted ?? 0).toBeGreaterThan(0);
    for (const output of outputs) expectNoKeyMaterial(output);
  });

  it("plans both restart when a remote proxy lacks PCDS, the primary naming the remote's pod", async () => {
    // Prepare
    const rotation = rotationByHand(h, {
      executionId: h.executionId('remote-no-pcds'),
      mode: 'scheduled',
      clusters: [PRIMARY, REMOTE],
      plannedStrategies: true,
    });
    // Act: preflight while one remote pod was injected without PROXY_CONFIG_XDS_AGENT
    const { checked, pod } = await withProxyEnvEdited(
      h,
      REMOTE,
      (env) => env.filter((variable) => variable.name !== 'PROXY_CONFIG_XDS_AGENT'),
      async (pod) => ({ checked: await rotation.preflight(), pod }),
    );
    // Assess
    expect(checked.clusters).toEqual([
      { name: PRIMARY, strategy: 'restart' },
      { name: REMOTE, strategy: 'restart' },
    ]);
    const without = `1 running proxy pod(s) without PROXY_CONFIG_XDS_AGENT=true in their istio-proxy env: ${pod.namespace}/${pod.name} (unset)`;
    expect(checked.plan.strategies).toEqual([
      {
        cluster: PRIMARY,
        strategy: 'restart',
        chosenBy: 'mesh',
        reasons: [
          `moves with remote lab-2 of lab-1, which restarts (${without}): a primary and its remotes move the same way`,
        ],
      },
      { cluster: REMOTE, strategy: 'restart', chosenBy: 'mesh', reasons: [without] },
    ]);
  });
});
