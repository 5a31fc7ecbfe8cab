// The Kubernetes adapter's reading of istiod and its mesh config, on objects as Istio's own installer
// renders them (fixtures/: istioctl manifest generate of the Istio pinned in lab/go) and on odd ones.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { istiodDeploymentOf, meshConfigOf } from '../../../../lambdas/adapters/kube/istio-settings.js';
import type { V1ConfigMap, V1Deployment } from '../../../../lambdas/adapters/kube/kube-objects.js';
import { reviewIstioSettings } from '../../../../lambdas/core/istio/istio-settings.js';

const fixture = <T>(name: string): T =>
  parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;

describe('istiodDeploymentOf', () => {
  it("reads istioctl's istiod Deployment: revision, replicas, version from the image, env values, valueFrom by reference", () => {
    // Prepare
    const deployment = fixture<V1Deployment>('istiod-deployment.yaml');
    // Act
    const istiod = istiodDeploymentOf(deployment);
    // Assess
    expect(istiod).toMatchObject({
      namespace: 'istio-system',
      name: 'istiod',
      revision: 'default',
      replicas: 2,
      readyReplicas: 2,
      image: 'docker.io/istio/pilot:1.29.2',
      istioVersion: '1.29',
      envFrom: [],
    });
    expect(istiod.env).toMatchObject({
      ISTIO_MULTIROOT_MESH: { value: 'true' },
      DEFAULT_WORKLOAD_CERT_TTL: { value: '48h' },
      PILOT_CERT_PROVIDER: { value: 'istiod' },
      PLATFORM: { value: '' },
      POD_NAME: { valueFrom: 'fieldRef (metadata.name)' },
      GOMAXPROCS: { valueFrom: 'resourceFieldRef (limits.cpu)' },
    });
  });

  it('takes the revision from REVISION, else the istio.io/rev label; the discovery container; the last of duplicate env names', () => {
    // Prepare
    const deployment: V1Deployment = {
      metadata: { name: 'istiod-canary', namespace: 'istio-system', labels: { 'istio.io/rev': 'canary' } },
      spec: {
        selector: {},
        template: {
          spec: {
            containers: [
              { name: 'sidecar', image: 'other:9.9' },
              {
                name: 'discovery',
                image: 'docker.io/istio/pilot:1.31-dev',
                env: [
                  { name: 'ISTIO_MULTIROOT_MESH', value: 'false' },
                  { name: 'ISTIO_MULTIROOT_MESH', value: 'true' },
                  { name: 'SECRET', valueFrom: { secretKeyRef: { name: 'istiod-extra', key: 'token' } } },
                ],
                envFrom: [
                  { configMapRef: { name: 'istio-env' } },
                  { secretRef: { name: 'istio-secret-env' } },
                ],
              },
            ],
          },
        },
      },
    };
    const withRevisionEnv: V1Deployment = {
      ...deployment,
      spec: {
        selector: {},
        template: {
          spec: { containers: [{ name: 'discovery', env: [{ name: 'REVISION', value: '1-31' }] }] },
        },
      },
    };
    // Act
    const canary = istiodDeploymentOf(deployment);
    const revisioned = istiodDeploymentOf(withRevisionEnv);
    // Assess
    expect(canary).toMatchObject({ revision: 'canary', istioVersion: '1.31', replicas: 1, readyReplicas: 0 });
    expect(canary.env.ISTIO_MULTIROOT_MESH).toEqual({ value: 'true' });
    expect(canary.env.SECRET).toEqual({ valueFrom: 'secretKeyRef (Secret istiod-extra key token)' });
    expect(canary.envFrom).toEqual(['configMap istio-env', 'secret istio-secret-env']);
    expect(revisioned.revision).toBe('1-31');
    expect(revisioned.istioVersion).toBeUndefined();
  });
});

describe('meshConfigOf', () => {
  it("reads the proxy metadata of istioctl's mesh config ConfigMap", () => {
    // Prepare
    const configMap = fixture<V1ConfigMap>('istio-mesh-configmap.yaml');
    // Act
    const reading = meshConfigOf({ name: 'istio', revision: 'default', mesh: configMap.data?.mesh });
    // Assess
    expect(reading).toEqual({
      namespace: 'istio-system',
      name: 'istio',
      revision: 'default',
      state: 'read',
      proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true', SECRET_TTL: '12h' },
      // Where its proxies dial istiod: a remote's reach is checked through it.
      discoveryAddress: 'istiod.istio-system.svc:15012',
    });
  });

  it('reads YAML 1.1 as Kubernetes does and keeps non-string scalars as text', () => {
    // Act
    const reading = meshConfigOf({
      name: 'istio',
      revision: 'default',
      mesh: 'defaultConfig:\n  proxyMetadata:\n    PROXY_CONFIG_XDS_AGENT: yes\n    SECRET_TTL: 86400\n',
    });
    // Assess
    expect(reading.proxyMetadata).toEqual({ PROXY_CONFIG_XDS_AGENT: 'true', SECRET_TTL: '86400' });
  });

  it('gives no proxy metadata for an empty mesh config, or one without defaultConfig, and says absent for no text', () => {
    // Act
    const readings = [
      '',
      'trustDomain: cluster.local\n',
      'defaultConfig:\n  discoveryAddress: x:15012\n',
      undefined,
    ].map((mesh) => meshConfigOf({ name: 'istio', revision: 'default', mesh }));
    // Assess
    expect(readings.map((reading) => [reading.state, reading.proxyMetadata])).toEqual([
      ['read', {}],
      ['read', {}],
      ['read', {}],
      ['absent', {}],
    ]);
  });

  it('says why a mesh config does not read: bad YAML, not a map, proxy metadata of the wrong shape', () => {
    // Act
    const readings = [
      'defaultConfig:\n  proxyMetadata: [\n',
      '- a list\n',
      'defaultConfig:\n  proxyMetadata: [a, b]\n',
      'defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: {hours: 24}\n',
    ].map((mesh) => meshConfigOf({ name: 'istio-canary', revision: 'canary', mesh }));
    // Assess
    expect(readings.map((reading) => reading.state)).toEqual([
      'unreadable',
      'unreadable',
      'unreadable',
      'unreadable',
    ]);
    expect(readings[0]?.problem).toMatch(/^YAML error: /);
    expect(readings.slice(1).map((reading) => reading.problem)).toEqual([
      'the mesh key is not a YAML map',
      'defaultConfig.proxyMetadata is not a map',
      'defaultConfig.proxyMetadata.SECRET_TTL is not a string',
    ]);
  });
});

describe("istioctl's rendering, reviewed", () => {
  it('gives Istio 1.29, multi-root on, 12 h certificates (SECRET_TTL wins over DEFAULT_WORKLOAD_CERT_TTL) and PCDS on', () => {
    // Prepare
    const istiod = istiodDeploymentOf(fixture<V1Deployment>('istiod-deployment.yaml'));
    const mesh = fixture<V1ConfigMap>('istio-mesh-configmap.yaml').data?.mesh;
    // Act
    const review = reviewIstioSettings({
      clusters: [
        {
          cluster: 'eu',
          istiods: [istiod],
          meshConfigs: [meshConfigOf({ name: 'istio', revision: 'default', mesh })],
        },
      ],
      mode: 'scheduled',
    });
    // Assess
    expect(review.clusters).toEqual([
      { cluster: 'eu', istioVersion: '1.29', multiRoot: 'on', workloadCertTtlSeconds: 43200, pcds: true },
    ]);
  });
});
