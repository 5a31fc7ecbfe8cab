// What preflight reads of one running pod with Istio's proxy (proxiedPodOf): for a remote cluster's
// proxies, the lifetime its agent requests and where it dials istiod, from the env its injector wrote.
import type { V1Pod } from '../../../../lambdas/adapters/kube/kube-objects.js';
import { proxiedPodOf } from '../../../../lambdas/adapters/kube/proxied-pods.js';

function pod(env: { name: string; value?: string; valueFrom?: object }[]): V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'cart-1' },
    spec: {
      containers: [{ name: 'app', image: 'shop/cart:1' }],
      initContainers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.29.2', env: env as never }],
    },
  };
}

describe('proxiedPodOf', () => {
  it("reads SECRET_TTL and the PROXY_CONFIG discoveryAddress Istio's injection template writes", () => {
    // Act
    const reading = proxiedPodOf(
      pod([
        {
          name: 'PROXY_CONFIG',
          value: '{"discoveryAddress":"istiod-1-29.istio-system.svc:15012","proxyMetadata":{}}\n',
        },
        { name: 'SECRET_TTL', value: '12h' },
        { name: 'PROXY_CONFIG_XDS_AGENT', value: 'true' },
      ]),
    );
    // Assess
    expect(reading).toMatchObject({
      namespace: 'shop',
      name: 'cart-1',
      pcdsEnv: { value: 'true' },
      secretTtlEnv: { value: '12h' },
      discoveryAddress: 'istiod-1-29.istio-system.svc:15012',
      proxyVersion: '1.29',
    });
  });

  it('keeps a SECRET_TTL set from elsewhere as a reference, and no address from a PROXY_CONFIG that is not JSON', () => {
    // Act
    const reading = proxiedPodOf(
      pod([
        { name: 'PROXY_CONFIG', value: 'discoveryAddress: istiod.istio-system.svc:15012' },
        { name: 'SECRET_TTL', valueFrom: { configMapKeyRef: { name: 'proxy-env', key: 'ttl' } } },
      ]),
    );
    // Assess
    expect(reading.secretTtlEnv).toEqual({ valueFrom: 'configMapKeyRef (ConfigMap proxy-env key ttl)' });
    expect(reading.discoveryAddress).toBeUndefined();
  });
});
