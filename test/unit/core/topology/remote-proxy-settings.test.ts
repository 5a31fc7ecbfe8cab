import type {
  ClusterIstioSettings,
  IstiodDeployment,
  MeshConfigReading,
} from '../../../../lambdas/core/istio/istio-settings.js';
import { PCDS_PUSH_SETTLE_SECONDS, proxyTrustWait } from '../../../../lambdas/core/istio/proxy-trust-wait.js';
import {
  chooseFleetStrategies,
  type ProxiedPodReading,
} from '../../../../lambdas/core/istio/rotation-strategy.js';
import { soakPlan } from '../../../../lambdas/core/istio/soak.js';
import { parseRemoteClusters } from '../../../../lambdas/core/topology/mesh-topology.js';
import {
  type RemoteIstioInput,
  reviewRemoteIstio,
} from '../../../../lambdas/core/topology/remote-proxy-settings.js';
import { strategiesWithTopology } from '../../../../lambdas/core/topology/review-remotes.js';

const HOUR = 3600;

/** The primary as reviewIstioSettings records it: PCDS on, 1 h certificates. */
const primarySettings: ClusterIstioSettings = {
  cluster: 'lab-1',
  istioVersion: '1.29',
  multiRoot: 'on',
  workloadCertTtlSeconds: HOUR,
  pcds: true,
};
const primaryIstiod: IstiodDeployment = {
  namespace: 'istio-system',
  name: 'istiod',
  revision: 'default',
  replicas: 1,
  readyReplicas: 1,
  env: { ISTIO_MULTIROOT_MESH: { value: 'true' }, DEFAULT_WORKLOAD_CERT_TTL: { value: '6h' } },
  envFrom: [],
};
function remoteMeshConfig(proxyMetadata: Record<string, string>): MeshConfigReading {
  return { namespace: 'istio-system', name: 'istio', revision: 'default', state: 'read', proxyMetadata };
}
function proxy(name: string, env: { pcds?: string; ttl?: string } = {}): ProxiedPodReading {
  return {
    namespace: 'shop',
    name,
    ...(env.pcds !== undefined && { pcdsEnv: { value: env.pcds } }),
    ...(env.ttl !== undefined && { secretTtlEnv: { value: env.ttl } }),
    envFrom: [],
    proxyVersion: '1.29',
  };
}
function input(overrides: Partial<RemoteIstioInput> = {}): RemoteIstioInput {
  return {
    remote: 'lab-2',
    primary: 'lab-1',
    primarySettings,
    primaryIstiods: [primaryIstiod],
    meshConfig: remoteMeshConfig({ PROXY_CONFIG_XDS_AGENT: 'true', SECRET_TTL: '1h' }),
    proxies: [proxy('a-1', { pcds: 'true', ttl: '1h' })],
    ...overrides,
  };
}

describe('reviewRemoteIstio', () => {
  it("takes version and multi-root from the primary's istiod and PCDS and TTL from what reaches the remote", () => {
    // Act
    const { settings, findings } = reviewRemoteIstio(input());
    // Assess
    expect(settings).toMatchObject({
      cluster: 'lab-2',
      primary: 'lab-1',
      istioVersion: '1.29',
      multiRoot: 'on',
      workloadCertTtlSeconds: HOUR,
      pcds: true,
    });
    expect(settings.readFrom).toEqual([
      "lab-1's istiod and mesh config (its injector renders the remote's new pods)",
      'mesh config istio-system/istio',
      'the istio-proxy env of 1 running pod(s)',
    ]);
    expect(findings).toEqual([]);
  });

  it("counts a remote proxy's own longer SECRET_TTL, which its agent requests whatever the mesh configs say", () => {
    // Act
    const { settings } = reviewRemoteIstio(
      input({ proxies: [proxy('a-1', { ttl: '1h' }), proxy('b-1', { ttl: '30h' })] }),
    );
    // Assess
    expect(settings.workloadCertTtlSeconds).toBe(30 * HOUR);
  });

  it("gives a proxy that requests no lifetime the primary istiod's DEFAULT_WORKLOAD_CERT_TTL", () => {
    // Act
    const { settings } = reviewRemoteIstio(input({ proxies: [proxy('a-1', { ttl: '0s' })] }));
    // Assess
    expect(settings.workloadCertTtlSeconds).toBe(6 * HOUR);
  });

  it("takes Istio's 24 h for a proxy without SECRET_TTL in its env", () => {
    expect(reviewRemoteIstio(input({ proxies: [proxy('a-1')] })).settings.workloadCertTtlSeconds).toBe(
      24 * HOUR,
    );
  });

  it('leaves the TTL unknown, and says so, when a proxy sets it from a source meshtrust does not resolve', () => {
    // Prepare
    const fromSecret: ProxiedPodReading = {
      ...proxy('a-1'),
      secretTtlEnv: { valueFrom: 'configMapKeyRef (x)' },
    };
    // Act
    const { settings, findings } = reviewRemoteIstio(input({ proxies: [fromSecret] }));
    // Assess
    expect(settings.workloadCertTtlSeconds).toBeUndefined();
    expect(findings.map((finding) => finding.reason)).toContainEqual(
      expect.stringMatching(
        /^cluster lab-2 \(a remote of lab-1\): the workload certificate TTL of its proxies is unknown/,
      ),
    );
  });

  it("turns PCDS off when the remote's own mesh config does not set it, with a note naming the ConfigMap", () => {
    // Act
    const { settings, findings } = reviewRemoteIstio(
      input({ meshConfig: remoteMeshConfig({ SECRET_TTL: '1h' }) }),
    );
    // Assess
    expect(settings.pcds).toBe(false);
    expect(findings[0]?.reason).toMatch(
      /PROXY_CONFIG_XDS_AGENT is unset in defaultConfig\.proxyMetadata of its mesh config istio-system\/istio/,
    );
  });

  it("keeps PCDS off when the primary's mesh config, which injects the remote's new pods, does not set it", () => {
    expect(
      reviewRemoteIstio(input({ primarySettings: { ...primarySettings, pcds: false } })).settings.pcds,
    ).toBe(false);
  });

  it("falls back to the primary's settings when the remote has no mesh config of its own", () => {
    // Act
    const { settings } = reviewRemoteIstio(
      input({
        meshConfig: {
          namespace: 'istio-system',
          name: 'istio',
          revision: 'default',
          state: 'absent',
          proxyMetadata: {},
        },
      }),
    );
    // Assess
    expect(settings.pcds).toBe(true);
    expect(settings.readFrom).toContain("mesh config istio-system/istio (absent: the primary's applies)");
  });

  it("counts on no push where the remote's mesh config could not be read", () => {
    // Act
    const { settings, findings } = reviewRemoteIstio(
      input({
        meshConfig: {
          namespace: 'istio-system',
          name: 'istio',
          revision: 'default',
          state: 'forbidden',
          proxyMetadata: {},
          problem: '403',
        },
      }),
    );
    // Assess
    expect(settings.pcds).toBe(false);
    expect(findings).toHaveLength(1);
  });
});

describe('a remote in the fleet: proxy trust wait and soak', () => {
  const remotes = parseRemoteClusters('lab-2=lab-1');
  const fleet = (remote: RemoteIstioInput) => {
    const settings = [primarySettings, reviewRemoteIstio(remote).settings];
    const strategy = strategiesWithTopology(
      chooseFleetStrategies({
        clusters: settings,
        proxies: new Map([
          ['lab-1', [proxy('p-1', { pcds: 'true', ttl: '1h' })]],
          ['lab-2', remote.proxies ?? []],
        ]),
        mode: 'scheduled',
        setting: 'auto',
      }),
      remotes,
    );
    return { settings, strategy };
  };

  it("counts on the push for the remote only when it reaches the remote's running proxies too", () => {
    // Act
    const reached = fleet(input());
    const missed = fleet(
      input({ proxies: [proxy('a-1', { pcds: 'true', ttl: '1h' }), proxy('old-1', { ttl: '1h' })] }),
    );
    // Assess
    expect(reached.strategy.pushReaches).toEqual(['lab-1', 'lab-2']);
    expect(proxyTrustWait(reached.settings, reached.strategy.pushReaches).seconds).toBe(
      PCDS_PUSH_SETTLE_SECONDS,
    );
    expect(missed.strategy.pushReaches).toEqual(['lab-1']);
    const wait = proxyTrustWait(missed.settings, missed.strategy.pushReaches);
    expect(wait.seconds).toBe(Math.ceil(HOUR * 0.51) + 10);
    expect(wait.reason).toMatch(/^lab-2: PCDS on in the mesh config but not in every running proxy/);
  });

  it("plans the primary and the remote resign when the conditions hold on the remote's own proxies too", () => {
    // Act
    const { strategy } = fleet(input());
    // Assess
    expect(
      strategy.strategies.map(({ cluster, strategy, chosenBy }) => [cluster, strategy, chosenBy]),
    ).toEqual([
      ['lab-1', 'resign', 'mesh'],
      ['lab-2', 'resign', 'mesh'],
    ]);
    expect(strategy.strategies[1]?.reasons).toContain(
      'every running proxy (1 pod(s)) has PROXY_CONFIG_XDS_AGENT=true',
    );
  });

  it("restarts both when a remote's running proxy lacks PCDS, the primary naming the remote's proxy", () => {
    // Act
    const { strategy } = fleet(
      input({ proxies: [proxy('a-1', { pcds: 'true', ttl: '1h' }), proxy('old-1')] }),
    );
    // Assess
    expect(strategy.strategies.map(({ cluster, strategy }) => [cluster, strategy])).toEqual([
      ['lab-1', 'restart'],
      ['lab-2', 'restart'],
    ]);
    expect(strategy.strategies[1]?.reasons).toEqual([
      '1 running proxy pod(s) without PROXY_CONFIG_XDS_AGENT=true in their istio-proxy env: shop/old-1 (unset)',
    ]);
    expect(strategy.strategies[0]?.reasons).toEqual([
      expect.stringMatching(
        /^moves with remote lab-2 of lab-1, which restarts \(1 running proxy pod\(s\) without .*shop\/old-1/,
      ),
    ]);
  });

  it('restarts both when a condition is unknown on the remote, naming it', () => {
    // Prepare: a remote proxy whose image names no Istio version
    const unnamed = {
      ...proxy('a-1', { pcds: 'true', ttl: '1h' }),
      proxyVersion: undefined,
      proxyImage: 'proxy:latest',
    };
    // Act
    const { strategy } = fleet(input({ proxies: [unnamed] }));
    // Assess
    expect(strategy.strategies.map(({ strategy }) => strategy)).toEqual(['restart', 'restart']);
    expect(strategy.strategies[1]?.reasons).toEqual([
      '1 proxy pod(s) whose image names no Istio version: shop/a-1 (proxy:latest)',
    ]);
    expect(strategy.strategies[0]?.reasons[0]).toMatch(
      /remote lab-2 of lab-1, which restarts \(1 proxy pod\(s\) whose image names no Istio version/,
    );
  });

  it("waits and soaks for the remote's longer certificates", () => {
    // Act
    const { settings, strategy } = fleet(input({ proxies: [proxy('a-1', { ttl: '30h' })] }));
    // Assess
    expect(proxyTrustWait(settings, strategy.pushReaches).reason).toMatch(/^lab-2: .* of a 30h certificate/);
    expect(soakPlan(HOUR, settings)).toMatchObject({ seconds: 30 * HOUR });
    expect(soakPlan(HOUR, settings).reason).toMatch(/30h in lab-2$/);
  });
});
