// What preflight makes of each cluster's istiod Deployments and mesh config: a refusal naming cluster
// and setting, a note, and the settings the plan records. One describe per rule.
import {
  type ClusterIstioReading,
  type IstiodDeployment,
  istioNotes,
  istioRefusals,
  type MeshConfigReading,
  reviewIstioSettings,
} from '../../../../lambdas/core/istio/istio-settings.js';
import type { RotationMode } from '../../../../lambdas/core/plan/phases.js';

function istiod(overrides: Partial<IstiodDeployment> = {}): IstiodDeployment {
  return {
    namespace: 'istio-system',
    name: 'istiod',
    revision: 'default',
    replicas: 2,
    readyReplicas: 2,
    image: 'docker.io/istio/pilot:1.29.2',
    istioVersion: '1.29',
    env: { ISTIO_MULTIROOT_MESH: { value: 'true' }, PILOT_CERT_PROVIDER: { value: 'istiod' } },
    envFrom: [],
    ...overrides,
  };
}

function meshConfig(
  proxyMetadata: Record<string, string> = {},
  overrides: Partial<MeshConfigReading> = {},
): MeshConfigReading {
  return {
    namespace: 'istio-system',
    name: 'istio',
    revision: 'default',
    state: 'read',
    proxyMetadata,
    ...overrides,
  };
}

function cluster(
  name: string,
  istiods: IstiodDeployment[] = [istiod()],
  meshConfigs: MeshConfigReading[] = [meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true' })],
): ClusterIstioReading {
  return { cluster: name, istiods, meshConfigs };
}

function review(clusters: ClusterIstioReading[], mode: RotationMode = 'scheduled') {
  const reviewed = reviewIstioSettings({ clusters, mode });
  return { ...reviewed, refusals: istioRefusals(reviewed), notes: istioNotes(reviewed) };
}

describe('a healthy fleet', () => {
  it('records version, multi-root, TTL and PCDS per cluster, with no refusal and no note', () => {
    // Act
    const result = review([cluster('lab-1'), cluster('lab-2')]);
    // Assess
    expect(result.clusters).toEqual([
      { cluster: 'lab-1', istioVersion: '1.29', multiRoot: 'on', workloadCertTtlSeconds: 86400, pcds: true },
      { cluster: 'lab-2', istioVersion: '1.29', multiRoot: 'on', workloadCertTtlSeconds: 86400, pcds: true },
    ]);
    expect(result.refusals).toEqual([]);
    expect(result.notes).toEqual([]);
  });
});

describe('istiod-multiroot-on', () => {
  it('refuses a root rotation when lab-2 leaves ISTIO_MULTIROOT_MESH unset, naming cluster, Deployment and setting', () => {
    // Prepare
    const off = istiod({ env: { PILOT_CERT_PROVIDER: { value: 'istiod' } } });
    // Act
    const result = review([cluster('lab-1'), cluster('lab-2', [off])]);
    // Assess
    expect(result.refusals).toHaveLength(1);
    expect(result.refusals[0]).toMatchObject({ rule: 'istiod-multiroot-on', cluster: 'lab-2' });
    expect(result.refusals[0]?.reason).toContain(
      'cluster lab-2: istiod Deployment istio-system/istiod has ISTIO_MULTIROOT_MESH unset; a root rotation needs it true on every istiod',
    );
    expect(result.clusters.map((settings) => settings.multiRoot)).toEqual(['on', 'off']);
  });

  it('takes every Go spelling of true, and refuses false and what Go does not read as a boolean', () => {
    // Prepare
    const withValue = (value: string) => cluster('c', [istiod({ env: { ISTIO_MULTIROOT_MESH: { value } } })]);
    // Act
    const verdicts = ['1', 'True', 'false', 'yes', ''].map((value) =>
      review([withValue(value)], 'emergency'),
    );
    // Assess
    expect(verdicts.map((verdict) => verdict.clusters[0]?.multiRoot)).toEqual([
      'on',
      'on',
      'off',
      'off',
      'off',
    ]);
    expect(verdicts.map((verdict) => verdict.refusals.length)).toEqual([0, 0, 1, 1, 1]);
    expect(verdicts[2]?.refusals[0]?.reason).toContain('has ISTIO_MULTIROOT_MESH set to "false"');
    expect(verdicts[3]?.refusals[0]?.reason).toContain(
      '"yes", which is not a Go boolean, so istiod takes its default, false',
    );
  });

  it('refuses a flag it cannot see: set from a ConfigMap key, or possibly by envFrom', () => {
    // Prepare
    const fromConfigMap = istiod({
      env: { ISTIO_MULTIROOT_MESH: { valueFrom: 'configMapKeyRef (ConfigMap istiod-env key multiroot)' } },
    });
    const fromEnvFrom = istiod({ env: {}, envFrom: ['configMap istio-env'] });
    // Act
    const result = review([cluster('a', [fromConfigMap]), cluster('b', [fromEnvFrom])]);
    // Assess
    expect(result.clusters.map((settings) => settings.multiRoot)).toEqual(['unknown', 'unknown']);
    expect(result.refusals.map((finding) => finding.cluster)).toEqual(['a', 'b']);
    expect(result.refusals[0]?.reason).toContain('ConfigMap istiod-env key multiroot');
    expect(result.refusals[1]?.reason).toContain(
      'envFrom (configMap istio-env) may set ISTIO_MULTIROOT_MESH',
    );
  });

  it('refuses when one revision of a cluster lacks it, though the other has it', () => {
    // Prepare
    const canary = istiod({ name: 'istiod-canary', revision: 'canary', env: {} });
    const configs = [meshConfig(), meshConfig({}, { name: 'istio-canary', revision: 'canary' })];
    // Act
    const result = review([cluster('lab-1', [istiod(), canary], configs)]);
    // Assess
    expect(result.clusters[0]?.multiRoot).toBe('off');
    expect(result.refusals.map((finding) => finding.reason)).toEqual([
      expect.stringContaining('istiod Deployment istio-system/istiod-canary has ISTIO_MULTIROOT_MESH unset'),
    ]);
  });

  it('only notes it for an intermediate rekey, which keeps root-cert.pem as it is', () => {
    // Act
    const result = review([cluster('lab-2', [istiod({ env: {} })])], 'intermediate');
    // Assess
    expect(result.refusals).toEqual([]);
    expect(result.clusters[0]?.multiRoot).toBe('off');
    expect(result.notes).toEqual([
      expect.stringMatching(/lab-2.*ISTIO_MULTIROOT_MESH unset; an intermediate rekey/),
    ]);
  });
});

describe('istiod-present and istiod-ready', () => {
  it('refuses a cluster without istiod and an istiod with no ready replica', () => {
    // Act
    const result = review([cluster('empty', [], []), cluster('down', [istiod({ readyReplicas: 0 })])]);
    // Assess
    expect(result.refusals.map((finding) => [finding.rule, finding.cluster])).toEqual([
      ['istiod-present', 'empty'],
      ['istiod-ready', 'down'],
    ]);
    expect(result.refusals[1]?.reason).toContain('has no ready replica (0 of 2)');
  });

  it('only notes an istiod with some replicas not ready', () => {
    // Act
    const result = review([cluster('lab-1', [istiod({ readyReplicas: 1 })])]);
    // Assess
    expect(result.refusals).toEqual([]);
    expect(result.notes).toEqual([
      'cluster lab-1: istiod Deployment istio-system/istiod has 1 of 2 replicas ready',
    ]);
  });
});

describe('workload certificate TTL', () => {
  const ttlOf = (proxyMetadata: Record<string, string>, env: IstiodDeployment['env'] = {}) => {
    const settings = istiod({ env: { ISTIO_MULTIROOT_MESH: { value: 'true' }, ...env } });
    const result = review([
      cluster('c', [settings], [meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true', ...proxyMetadata })]),
    ]);
    return { ttl: result.clusters[0]?.workloadCertTtlSeconds, notes: result.notes };
  };

  it("is pilot-agent's SECRET_TTL from the proxy metadata, 24h when unset", () => {
    // Act
    const ttls = (<Record<string, string>[]>[
      {},
      { SECRET_TTL: '12h' },
      { SECRET_TTL: '1h30m' },
      { SECRET_TTL: '86400s' },
      { SECRET_TTL: '1500ms' },
    ]).map((metadata) => ttlOf(metadata).ttl);
    // Assess: whole seconds, as the agent puts it in its CSR
    expect(ttls).toEqual([86400, 43200, 5400, 86400, 1]);
  });

  it("is not istiod's DEFAULT_WORKLOAD_CERT_TTL while the agent asks for a lifetime", () => {
    // Act
    const { ttl } = ttlOf({}, { DEFAULT_WORKLOAD_CERT_TTL: { value: '48h' } });
    // Assess
    expect(ttl).toBe(86400);
  });

  it("is istiod's DEFAULT_WORKLOAD_CERT_TTL (24h when unset) when the agent asks for none", () => {
    // Act
    const withDefault = ttlOf({ SECRET_TTL: '0s' }, { DEFAULT_WORKLOAD_CERT_TTL: { value: '48h' } });
    const withoutDefault = ttlOf({ SECRET_TTL: '-1h' });
    // Assess
    expect([withDefault.ttl, withoutDefault.ttl]).toEqual([172800, 86400]);
  });

  it('falls back to 24h, with a note, where Go would ignore a value that is not a duration', () => {
    // Act
    const secretTtl = ttlOf({ SECRET_TTL: '1d' });
    const istiodDefault = ttlOf({ SECRET_TTL: '0' }, { DEFAULT_WORKLOAD_CERT_TTL: { value: '2 days' } });
    // Assess
    expect([secretTtl.ttl, istiodDefault.ttl]).toEqual([86400, 86400]);
    expect(secretTtl.notes).toEqual([
      expect.stringContaining(
        'SECRET_TTL "1d" in defaultConfig.proxyMetadata of istio-system/istio is not a Go duration',
      ),
    ]);
    expect(istiodDefault.notes).toEqual([
      expect.stringContaining('DEFAULT_WORKLOAD_CERT_TTL "2 days", not a Go duration'),
    ]);
  });

  it('is unknown, with a note, when the agent asks for none and istiod takes its default from elsewhere', () => {
    // Act
    const { ttl, notes } = ttlOf(
      { SECRET_TTL: '0s' },
      { DEFAULT_WORKLOAD_CERT_TTL: { valueFrom: 'fieldRef (x)' } },
    );
    // Assess
    expect(ttl).toBeUndefined();
    expect(notes).toEqual([
      expect.stringContaining('the workload certificate TTL of revision default is unknown'),
    ]);
  });

  it("is the longest of a cluster's revisions", () => {
    // Prepare
    const canary = istiod({ name: 'istiod-canary', revision: 'canary' });
    const configs = [
      meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true', SECRET_TTL: '1h' }),
      meshConfig(
        { PROXY_CONFIG_XDS_AGENT: 'true', SECRET_TTL: '36h' },
        { name: 'istio-canary', revision: 'canary' },
      ),
    ];
    // Act
    const result = review([cluster('lab-1', [istiod(), canary], configs)]);
    // Assess
    expect(result.clusters[0]?.workloadCertTtlSeconds).toBe(36 * 3600);
  });
});

describe('proxy-config-xds-on (PCDS)', () => {
  it('is on only when PROXY_CONFIG_XDS_AGENT is true in the proxy metadata of every revision', () => {
    // Prepare
    const canary = istiod({ name: 'istiod-canary', revision: 'canary' });
    const configs = [
      meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true' }),
      meshConfig({ PROXY_CONFIG_XDS_AGENT: 'false' }, { name: 'istio-canary', revision: 'canary' }),
    ];
    // Act
    const mixed = review([cluster('lab-1', [istiod(), canary], configs)]);
    const unset = review([cluster('lab-2', [istiod()], [meshConfig({})])]);
    // Assess
    expect([mixed.clusters[0]?.pcds, unset.clusters[0]?.pcds]).toEqual([false, false]);
    expect(mixed.notes).toEqual([
      expect.stringContaining(
        'cluster lab-1: PCDS is off for revision canary (PROXY_CONFIG_XDS_AGENT is "false" in defaultConfig.proxyMetadata of istio-system/istio-canary)',
      ),
    ]);
    expect(unset.notes).toEqual([expect.stringContaining('PROXY_CONFIG_XDS_AGENT is unset')]);
    expect([...mixed.refusals, ...unset.refusals]).toEqual([]);
  });
});

describe('proxy-renewal-known (SECRET_GRACE_PERIOD_RATIO)', () => {
  it("records the latest renewal point only where a revision sets the ratio, the latest of the cluster's revisions", () => {
    // Prepare
    const canary = istiod({ name: 'istiod-canary', revision: 'canary' });
    const configs = [
      meshConfig({ SECRET_GRACE_PERIOD_RATIO: '0.2', SECRET_GRACE_PERIOD_RATIO_JITTER: '0' }),
      meshConfig({}, { name: 'istio-canary', revision: 'canary' }),
    ];
    // Act
    const set = review([cluster('lab-1', [istiod(), canary], configs)]);
    const unset = review([cluster('lab-2', [istiod()], [meshConfig({})])]);
    // Assess
    expect(set.clusters[0]?.latestRenewalFraction).toBeCloseTo(0.8);
    expect(unset.clusters[0]).not.toHaveProperty('latestRenewalFraction');
  });

  it('notes a ratio Go would not parse, naming cluster, setting and mesh config, and refuses nothing', () => {
    // Act
    const result = review([cluster('lab-1', [istiod()], [meshConfig({ SECRET_GRACE_PERIOD_RATIO: '0,2' })])]);
    // Assess
    expect(result.notes).toContain(
      'cluster lab-1: SECRET_GRACE_PERIOD_RATIO "0,2" is not a number Go parses; pilot-agent uses 0.5 (defaultConfig.proxyMetadata of istio-system/istio)',
    );
    expect(result.clusters[0]?.latestRenewalFraction).toBeCloseTo(0.51);
    expect(result.refusals).toEqual([]);
  });
});

describe('mesh-config-readable', () => {
  it("notes a missing mesh config and takes Istio's defaults: PCDS off, 24h", () => {
    // Act
    const result = review([cluster('lab-1', [istiod()], [meshConfig({}, { state: 'absent' })])]);
    // Assess
    expect(result.refusals).toEqual([]);
    expect(result.clusters[0]).toMatchObject({ pcds: false, workloadCertTtlSeconds: 86400 });
    expect(result.notes[0]).toContain(
      "no mesh config ConfigMap istio-system/istio (key mesh) for revision default; istiod runs Istio's default",
    );
  });

  it('refuses a revision whose mesh config RBAC does not let it read, saying which name to add to which Role', () => {
    // Prepare
    const canary = istiod({ name: 'istiod-canary', revision: 'canary' });
    const forbidden = meshConfig(
      {},
      { name: 'istio-canary', revision: 'canary', state: 'forbidden', problem: '403 forbidden' },
    );
    // Act
    const result = review([
      cluster('lab-1', [istiod(), canary], [meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true' }), forbidden]),
    ]);
    // Assess
    expect(result.refusals).toHaveLength(1);
    expect(result.refusals[0]?.reason).toMatch(
      /cluster lab-1: the mesh config of revision canary, ConfigMap istio-system\/istio-canary.*Add istio-canary to the resourceNames of Role meshtrust-mesh-config/,
    );
    expect(result.clusters[0]?.pcds).toBe(false);
    expect(result.clusters[0]?.workloadCertTtlSeconds).toBeUndefined();
  });

  it('refuses a mesh config that does not read as YAML', () => {
    // Act
    const result = review([
      cluster(
        'lab-1',
        [istiod()],
        [meshConfig({}, { state: 'unreadable', problem: 'YAML error: bad indentation' })],
      ),
    ]);
    // Assess
    expect(result.refusals.map((finding) => finding.reason)).toEqual([
      expect.stringContaining('does not read as a mesh config (YAML error: bad indentation)'),
    ]);
  });

  it('notes a SHARED_MESH_CONFIG it does not read', () => {
    // Prepare
    const shared = istiod({
      env: { ISTIO_MULTIROOT_MESH: { value: 'true' }, SHARED_MESH_CONFIG: { value: 'istio-user' } },
    });
    // Act
    const result = review([cluster('lab-1', [shared])]);
    // Assess
    expect(result.notes).toEqual([
      expect.stringContaining('sets SHARED_MESH_CONFIG, whose mesh config meshtrust does not read'),
    ]);
  });
});

describe('istio-version-known and istio-versions-agree', () => {
  it('notes versions that differ between clusters, naming each, and does not refuse', () => {
    // Act
    const result = review([
      cluster('lab-1'),
      cluster('lab-2', [istiod({ image: 'docker.io/istio/pilot:1.30.1', istioVersion: '1.30' })]),
    ]);
    // Assess
    expect(result.refusals).toEqual([]);
    expect(result.clusters.map((settings) => settings.istioVersion)).toEqual(['1.29', '1.30']);
    expect(result.notes).toEqual([
      expect.stringContaining(
        'Istio versions differ across the fleet (lab-1 istiod 1.29, lab-2 istiod 1.30)',
      ),
    ]);
  });

  it("records a cluster's oldest revision, and no version when one image names none", () => {
    // Prepare
    const older = istiod({ name: 'istiod-1-28', revision: '1-28', istioVersion: '1.28' });
    const unnamed = istiod({ image: 'mirror/pilot:latest', istioVersion: undefined });
    const configs = [
      meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true' }),
      meshConfig({ PROXY_CONFIG_XDS_AGENT: 'true' }, { name: 'istio-1-28', revision: '1-28' }),
    ];
    // Act
    const result = review([cluster('two', [istiod(), older], configs), cluster('unnamed', [unnamed])]);
    // Assess
    expect(result.clusters.map((settings) => settings.istioVersion)).toEqual(['1.28', undefined]);
    expect(result.notes).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'the image of istiod Deployment istio-system/istiod (mirror/pilot:latest) names no Istio version',
        ),
      ]),
    );
    expect(result.refusals).toEqual([]);
  });
});
