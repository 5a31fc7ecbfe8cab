// The model engine's stand-in for Istio's sidecar injector: which pods get an `istio-proxy`, stated here
// from the webhooks of Istio's default profile (MutatingWebhookConfiguration istio-sidecar-injector),
// not from meshtrust's code. namespace.sidecar-injector: namespace istio-injection=enabled; the revision
// webhook: namespace istio.io/rev set and no istio-injection label; object.sidecar-injector: neither
// namespace label, pod label sidecar.istio.io/inject=true. A pod labelled (or, the legacy way,
// annotated) sidecar.istio.io/inject=false is never injected. An injected pod gets what the real
// injector adds that matters here: the native sidecar container istio-proxy and the tlsMode label.
import type { KubeObject } from '../kube/kube-object.js';

export const PROXY_CONTAINER = 'istio-proxy';
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';
const INJECT = 'sidecar.istio.io/inject';

export function injectorSelects(
  namespaceLabels: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>,
  podAnnotations: Readonly<Record<string, string>> = {},
): boolean {
  if (podLabels[INJECT] === 'false' || podAnnotations[INJECT] === 'false') return false;
  const injection = namespaceLabels['istio-injection'];
  if (injection === 'enabled') return true;
  if (injection !== undefined) return false;
  if (namespaceLabels['istio.io/rev'] !== undefined) return true;
  return podLabels[INJECT] === 'true';
}

/** The pod as the injector would admit it: with istio-proxy when it selects the pod, else unchanged. */
export function admitPod(pod: KubeObject, namespace: KubeObject | undefined): KubeObject {
  const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
  const annotations = (pod.metadata.annotations ?? {}) as Record<string, string>;
  if (hasSidecar(pod) || !injectorSelects(namespace?.metadata.labels ?? {}, labels, annotations)) return pod;
  const spec = (pod.spec ?? {}) as { initContainers?: object[] };
  return {
    ...pod,
    metadata: { ...pod.metadata, labels: { ...labels, [TLS_MODE_LABEL]: 'istio' } },
    spec: {
      ...spec,
      initContainers: [
        ...(spec.initContainers ?? []),
        { name: PROXY_CONTAINER, image: 'docker.io/istio/proxyv2:lab', restartPolicy: 'Always' },
      ],
    },
  };
}

/** Whether the pod runs Istio's proxy (and so holds a workload certificate). */
export function hasSidecar(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as { containers?: { name?: string }[]; initContainers?: { name?: string }[] };
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].some(
    (container) => container.name === PROXY_CONTAINER,
  );
}
