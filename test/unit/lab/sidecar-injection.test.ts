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
