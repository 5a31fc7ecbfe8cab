// Preflight and `meshtrust plan` over a model lab in topology primary-remote (lab-2 a remote of lab-1),
// for what a remote holds of its own: the Service its proxies reach lab-1's istiod through (Istio's
// remote profile: istio-system/istiod and its EndpointSlice naming the primary's address), and the
// settings its proxies run with (their own env, its mesh config). A remote without reach is refused
// before any write, naming it and what is missing; its proxies' settings count in the proxy trust wait.
import { jest } from '@jest/globals';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { readFleet } from '../../../bin/cli/fleet-reading.js';
import { planReport } from '../../../bin/commands/plan.js';
import { cutRemoteIstiodReach } from '../../../lab/remote-istiod-service.js';
import { readRotationConfig } from '../../../lambdas/application/config.js';
import { PCDS_PUSH_SETTLE_SECONDS } from '../../../lambdas/core/istio/proxy-trust-wait.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { runMeshtrustInProcess } from '../cli/in-process-cli.js';
import { type HandlerLab, type ProxyEnvVar, startHandlerLab, withProxyEnvEdited } from './handler-lab.js';

jest.setTimeout(120_000);

const PRIMARY = 'lab-1';
const REMOTE = 'lab-2';
const PCDS = 'PROXY_CONFIG_XDS_AGENT';

describe('a remote cluster at preflight: its reach to its primary’s istiod and its own proxies', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    // PCDS on, two-minute certificates: a renewal window (about 72 s) is longer than the push's settle time.
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 2,
      topology: 'primary-remote',
      pcds: true,
      workloadCertTtlMs: 120_000,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const remoteStore = () => h.lab.cluster(REMOTE).store;

  it('plans with what it read of the remote: its reach, where its settings come from, the push reaching its proxies', async () => {
    // Act
    const output = await preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
    const report = planReport(await readFleet(readRotationConfig(), new Date()), 'scheduled', new Date());
    // Assess
    expect(report.problems).toEqual([]);
    const remote = report.clusters.find((cluster) => cluster.name === REMOTE);
    expect(remote).toMatchObject({ primary: PRIMARY, pcds: true, workloadCertTtlSeconds: 120 });
    expect(remote?.istiodReach).toMatch(
      /^lab-2 reaches lab-1's istiod through Service istio-system\/istiod \(tcp-istiod \(15012\) -> 198\.51\.100\.2; tcp-webhook \(443\) -> 198\.51\.100\.2\)$/,
    );
    expect(remote?.readFrom).toEqual([
      "lab-1's istiod and mesh config (its injector renders the remote's new pods)",
      'mesh config istio-system/istio',
      expect.stringMatching(/^the istio-proxy env of \d+ running pod\(s\)$/),
    ]);
    // The push reaches every proxy of both clusters: no renewal window to wait out.
    expect(output.plan.istio.map(({ cluster }) => cluster)).toEqual([PRIMARY, REMOTE]);
    expect(output.plan.proxyTrustWait.seconds).toBe(PCDS_PUSH_SETTLE_SECONDS);
  });

  it('prints under the remote what plan read there: where its settings come from and how it reaches istiod', async () => {
    // Act
    const text = await runMeshtrustInProcess(['plan', '--mode', 'scheduled'], {
      ...process.env,
      MESH_ID: '',
      MESHTRUST_MESH_ID: h.meshId,
    });
    // Assess
    expect(text.exitCode).toBe(EXIT_CODES.ok);
    expect(text.stdout).toMatch(
      new RegExp(
        '^cluster lab-2 \\(remote of lab-1, no cacerts of its own\\) .*\\n' +
          ' {2}istio 1\\.29, multi-root on, workload certificates 2m, PCDS on\\n' +
          " {2}its proxies' settings read from: lab-1's istiod and mesh config .*; mesh config istio-system/istio; the istio-proxy env of \\d+ running pod\\(s\\)\\n" +
          " {2}istiod: lab-2 reaches lab-1's istiod through Service istio-system/istiod \\(tcp-istiod \\(15012\\) -> 198\\.51\\.100\\.2; .*\\)$",
        'm',
      ),
    );
  });

  it("waits a renewal window when one of the remote's running proxies lacks PCDS, naming the remote", async () => {
    // Prepare: as if one of lab-2's pods predates PCDS in the mesh config.
    const withoutPcds = (env: readonly ProxyEnvVar[]) => env.filter((e) => e.name !== PCDS);
    await withProxyEnvEdited(h, REMOTE, withoutPcds, async () => {
      // Act
      const output = await preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
      // Assess
      expect(output.plan.proxyTrustWait.reason).toMatch(
        /^lab-2: PCDS on in the mesh config but not in every running proxy .*, proxies learn new roots at renewal/,
      );
      expect(output.plan.proxyTrustWait.seconds).toBe(Math.ceil(120 * 0.51) + 10);
    });
  });

  it.each([
    [
      'its istiod Service has no EndpointSlice',
      {},
      /cluster lab-2 \(a remote of lab-1\): Service istio-system\/istiod has no EndpointSlice \(label kubernetes\.io\/service-name=istiod\) for port tcp-istiod \(15012\), tcp-webhook \(443\), so its proxies .* cannot reach lab-1's istiod/,
    ],
    [
      'it has no istiod Service at all',
      { service: true },
      /cluster lab-2 \(a remote of lab-1\): no Service istio-system\/istiod, so its proxies .* cannot reach lab-1's istiod/,
    ],
  ])(
    'refuses a remote when %s, naming it and what is missing, and writes nothing',
    async (_case, cut, reason) => {
      // Prepare
      const restore = cutRemoteIstiodReach(remoteStore(), cut);
      try {
        const before = await h.writableState();
        // Act
        const refused = preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
        // Assess
        await expect(refused).rejects.toThrow(reason);
        await expect(refused).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: REMOTE });
        expect(await h.writableState()).toEqual(before);
        const report = planReport(await readFleet(readRotationConfig(), new Date()), 'scheduled', new Date());
        expect(report.problems).toContainEqual(expect.stringMatching(reason));
      } finally {
        restore();
      }
    },
  );

  it("refuses a remote whose running proxy dials another istiod Service than its mesh config's, naming the pod", async () => {
    // Prepare: one of lab-2's proxies injected for a revision, with that revision's discovery address
    const canary = (env: readonly ProxyEnvVar[]) => [
      ...env,
      { name: 'PROXY_CONFIG', value: '{"discoveryAddress":"istiod-canary.istio-system.svc:15012"}' },
    ];
    await withProxyEnvEdited(h, REMOTE, canary, async (pod) => {
      // Act
      const refused = preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
      // Assess: the Role names istiod only, so the canary's Service is not even readable
      await expect(refused).rejects.toThrow(
        /cluster lab-2 \(a remote of lab-1\): meshtrust may not read Service istio-system\/istiod-canary .*add istiod-canary to its resourceNames/,
      );
      await expect(refused).rejects.toThrow(
        `(PROXY_CONFIG of running proxy pod(s) ${pod.namespace}/${pod.name})`,
      );
      await expect(refused).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: REMOTE });
    });
  });

  it('refuses it in an intermediate rekey of its primary too, whose restarts reach the remote', async () => {
    // Prepare
    const restore = cutRemoteIstiodReach(remoteStore());
    try {
      // Act
      const refused = preflight({ executionId: h.executionId(), mode: 'intermediate', cluster: PRIMARY });
      // Assess
      await expect(refused).rejects.toThrow(
        /cluster lab-2 \(a remote of lab-1\): Service istio-system\/istiod has no EndpointSlice/,
      );
    } finally {
      restore();
    }
  });
});
