// The model's sidecar injector, against the webhooks of Istio's default profile: namespace label,
// revision label, object selector, and the opt-out that beats them all.
import { describe, expect, it } from '@jest/globals';
import { admitPod, hasSidecar, injectorSelects } from '../../../lab/workloads/sidecar-injection.js';

describe('injectorSelects', () => {
  it.each([
    [{ 'istio-injection': 'enabled' }, {}, true],
    [{ 'istio-injection': 'enabled' }, { 'sidecar.istio.io/inject': 'false' }, false],
    [{ 'istio.io/rev': 'canary' }, {}, true],
    [{ 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }, {}, false],
    [{ 'istio-injection': 'disabled' }, { 'sidecar.istio.io/inject': 'true' }, false],
    [{}, { 'sidecar.istio.io/inject': 'true' }, true],
    [{}, {}, false],
  ])('namespace %j, pod %j: %s', (namespace, pod, expected) => {
    expect(injectorSelects(namespace, pod)).toBe(expected);
  });

  it('honours the legacy opt-out annotation', () => {
    expect(
      injectorSelects({ 'istio-injection': 'enabled' }, {}, { 'sidecar.istio.io/inject': 'false' }),
    ).toBe(false);
  });
});

describe('admitPod', () => {
  const pod = (labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', labels },
    spec: { containers: [{ name: 'app' }] },
  });
  const namespace = (labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'ns', labels },
  });

  it('adds the native sidecar istio-proxy and the tlsMode label to a selected pod, once', () => {
    const admitted = admitPod(pod({ app: 'a' }), namespace({ 'istio-injection': 'enabled' }));
    expect(hasSidecar(admitted)).toBe(true);
    expect(admitted.metadata.labels).toEqual({ app: 'a', 'security.istio.io/tlsMode': 'istio' });
    expect(admitPod(admitted, namespace({ 'istio-injection': 'enabled' }))).toBe(admitted);
  });

  it('leaves a pod the injector does not select as it is', () => {
    const original = pod({ app: 'a' });
    expect(admitPod(original, namespace({}))).toBe(original);
    expect(hasSidecar(original)).toBe(false);
  });
});

describe('admitPod, what the injection template writes into istio-proxy', () => {
  const meshConfig = (proxyMetadata: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: `defaultConfig:\n  proxyMetadata:\n${proxyMetadata}` },
  });
  const injected = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'ns', labels: { 'istio-injection': 'enabled' } },
  };
  const proxyOf = (pod: object) =>
    (
      (pod as { spec?: unknown }).spec as { initContainers: { name: string; image: string; env?: unknown }[] }
    ).initContainers.find((container) => container.name === 'istio-proxy');

  it("writes the mesh config's proxyMetadata as env, sorted by key, and takes istiod's tag for the image", () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { containers: [] },
    };
    const admitted = admitPod(pod, injected, {
      meshConfig: meshConfig('    SECRET_TTL: 60s\n    PROXY_CONFIG_XDS_AGENT: "true"\n'),
      istiodImage: 'docker.io/istio/pilot:1.30.0',
    });
    expect(proxyOf(admitted)).toMatchObject({
      image: 'docker.io/istio/proxyv2:1.30.0',
      env: [
        { name: 'PROXY_CONFIG_XDS_AGENT', value: 'true' },
        { name: 'SECRET_TTL', value: '60s' },
      ],
    });
  });

  it('lets the proxy.istio.io/config annotation override a key, as MergeProxyConfig does', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'ns',
        annotations: { 'proxy.istio.io/config': 'proxyMetadata:\n  PROXY_CONFIG_XDS_AGENT: "false"\n' },
      },
      spec: { containers: [] },
    };
    const admitted = admitPod(pod, injected, {
      meshConfig: meshConfig('    PROXY_CONFIG_XDS_AGENT: "true"\n'),
    });
    expect(proxyOf(admitted)).toMatchObject({ env: [{ name: 'PROXY_CONFIG_XDS_AGENT', value: 'false' }] });
  });
});
