// The rotation strategy against the model lab and moto: preflight and `meshtrust plan` choose restart
// where PCDS is off and resign where the mesh config and every running proxy have it, refuse a forced
// resign the fleet cannot do before any write, and count on istiod's push only where it reaches every
// running proxy.
// The lab's injector writes the mesh config's proxyMetadata into each istio-proxy's env, as Istio's
// injection template does; nothing here shares the product's reading of it.
import { readFleet } from '../../../bin/cli/fleet-reading.js';
import { describeStrategy, planReport } from '../../../bin/commands/plan.js';
import { readRotationConfig } from '../../../lambdas/application/config.js';
import { PCDS_PUSH_SETTLE_SECONDS } from '../../../lambdas/core/istio/proxy-trust-wait.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import {
  type HandlerLab,
  type ProxyEnvVar,
  startHandlerLab,
  withEnv,
  withProxyEnvEdited,
} from './handler-lab.js';

const PCDS = 'PROXY_CONFIG_XDS_AGENT';

interface LabPod {
  metadata: { namespace: string; name: string };
  spec: { initContainers?: { name: string; env?: { name: string; value?: string }[] }[] };
}

/** The istio-proxy env of every injected pod of the lab, read from its store (what the API serves). */
function proxyEnvs(h: HandlerLab, cluster: string): Record<string, string>[] {
  return (h.lab.cluster(cluster).store.list('Pod').items as unknown as LabPod[]).flatMap((pod) =>
    (pod.spec.initContainers ?? [])
      .filter((container) => container.name === 'istio-proxy')
      .map((container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']))),
  );
}

describe('rotation strategy, PCDS off (as Istio ships)', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 2, pcds: false });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('plans restart for every cluster, saying that PCDS is off in the mesh config and in the proxies', async () => {
    // Prepare: the lab's proxies were injected without PCDS (the lab's own injector, not meshtrust).
    expect(proxyEnvs(h, 'lab-1').length).toBeGreaterThan(0);
    expect(proxyEnvs(h, 'lab-1').every((env) => env[PCDS] === undefined)).toBe(true);
    // Act
    const output = await preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
    // Assess
    expect(output.plan.strategies.map(({ cluster, strategy }) => [cluster, strategy])).toEqual([
      ['lab-1', 'restart'],
      ['lab-2', 'restart'],
    ]);
    const reasons = output.plan.strategies[0]?.reasons.join('\n') ?? '';
    expect(reasons).toContain(`${PCDS} is not true in the defaultConfig.proxyMetadata`);
    expect(reasons).toMatch(
      /running proxy pod\(s\) without PROXY_CONFIG_XDS_AGENT=true in their istio-proxy env/,
    );
  });

  it('refuses a forced resign at preflight, naming what to change, and writes nothing', async () => {
    // Prepare
    const before = await h.writableState();
    // Act
    const error = await withEnv({ ROTATION_STRATEGY: 'resign' }, () =>
      preflight({ executionId: h.executionId(), mode: 'emergency', cluster: null }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(PreconditionFailed);
    const message = (error as Error).message;
    expect(message).toContain(
      'cluster lab-1: the rotation strategy setting forces resign, which this cluster cannot do',
    );
    expect(message).toContain(
      `set ${PCDS}: "true" in meshConfig.defaultConfig.proxyMetadata of every revision`,
    );
    expect(message).toContain('set the rotation strategy to auto or restart');
    expect(await h.writableState()).toEqual(before);
  });
});

describe('rotation strategy, PCDS on', () => {
  let h: HandlerLab;
  beforeAll(async () => {
    // Two-minute certificates: a renewal window (about 72 s) is longer than the push's settle time.
    h = await startHandlerLab({
      clusters: 2,
      workloadsPerCluster: 2,
      pcds: true,
      workloadCertTtlMs: 120_000,
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('plans resign for every cluster, and plan says which workloads would still be restarted', async () => {
    // Prepare: every injected proxy got PCDS in its env from the mesh config.
    expect(proxyEnvs(h, 'lab-2').every((env) => env[PCDS] === 'true')).toBe(true);
    // Act
    const output = await preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
    const report = planReport(
      await readFleet({ ...readRotationConfig(), rotationStrategy: 'auto' }, new Date()),
      'scheduled',
      new Date(),
    );
    // Assess
    expect(
      output.plan.strategies.map(({ cluster, strategy, chosenBy }) => [cluster, strategy, chosenBy]),
    ).toEqual([
      ['lab-1', 'resign', 'mesh'],
      ['lab-2', 'resign', 'mesh'],
    ]);
    expect(report.problems).toEqual([]);
    const lab1 = report.clusters.find((cluster) => cluster.name === 'lab-1');
    expect(lab1?.strategy?.strategy).toBe('resign');
    const printed = describeStrategy(
      lab1?.strategy ?? { strategy: 'restart', chosenBy: 'mesh', reasons: [] },
    );
    expect(printed[0]).toBe(
      'rotation strategy: resign (proxies re-sign at reissue, no restart; a workload whose proxies have not moved by ROLLOUT_TIMEOUT_SECONDS is restarted)',
    );
  });

  it('falls back to restart for a cluster where one running proxy was injected without PCDS', async () => {
    // Prepare: as if lab-2's first injected pod predates PCDS in the mesh config.
    const withoutPcds = (env: readonly ProxyEnvVar[]) => env.filter((e) => e.name !== PCDS);
    await withProxyEnvEdited(h, 'lab-2', withoutPcds, async (pod) => {
      // Act
      const output = await preflight({ executionId: h.executionId(), mode: 'emergency', cluster: null });
      // Assess
      expect(output.plan.strategies.map(({ cluster, strategy }) => [cluster, strategy])).toEqual([
        ['lab-1', 'resign'],
        ['lab-2', 'restart'],
      ]);
      expect(output.plan.strategies[1]?.reasons.join('\n')).toContain(`${pod.namespace}/${pod.name} (unset)`);
      // That proxy learns the new root only at renewal: the wait before the switch is a renewal window,
      // although lab-2's mesh config has PCDS.
      expect(output.plan.proxyTrustWait.reason).toMatch(
        /^lab-2: PCDS on in the mesh config but not in every running proxy .*, proxies learn new roots at renewal/,
      );
      expect(output.plan.proxyTrustWait.seconds).toBeGreaterThan(PCDS_PUSH_SETTLE_SECONDS);
    });
  });

  it('restarts when the setting forces restart, and says so', async () => {
    const output = await withEnv({ ROTATION_STRATEGY: 'restart' }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    );
    expect(output.plan.strategies.map(({ strategy, chosenBy }) => [strategy, chosenBy])).toEqual([
      ['restart', 'setting'],
      ['restart', 'setting'],
    ]);
  });
});
