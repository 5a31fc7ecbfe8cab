// The model engine's stand-in for Istio's sidecar injector: which pods get an `istio-proxy`, stated here
// from the webhooks of Istio's default profile (MutatingWebhookConfiguration istio-sidecar-injector),
// not from meshtrust's code. namespace.sidecar-injector: namespace istio-injection=enabled; the revision
// webhook: namespace istio.io/rev set and no istio-injection label; object.sidecar-injector: neither
// namespace label, pod label sidecar.istio.io/inject=true. A pod labelled (or, the legacy way,
// annotated) sidecar.istio.io/inject=false is never injected. An injected pod gets what the real
// injector adds that matters here: the native sidecar container istio-proxy and the tlsMode label.
// Like Istio's injection template, the container's env holds every proxyMetadata key of the mesh
// config's defaultConfig, overridden key by key by the pod's proxy.istio.io/config annotation
// (MergeProxyConfig in pkg/config/mesh), written once at admission; its image is proxyv2 with istiod's
// own tag (the injector's default hub and tag are istiod's).
import { parse } from 'yaml';
import type { KubeObject } from '../kube/kube-object.js';
import type { KubeObjectStore } from '../kube/object-store.js';

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

/** What the injector reads besides the pod: the mesh config and istiod's image. */
export interface InjectorInputs {
  /** ConfigMap istio-system/istio. */
  readonly meshConfig?: KubeObject;
  /** istiod's container image, whose tag the proxy image takes. */
  readonly istiodImage?: string;
}

const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
const DEFAULT_PROXY_IMAGE = 'docker.io/istio/proxyv2:lab';

/**
 * The injector's inputs as a cluster's store holds them (default revision). `istiodStore`: the store of
 * the cluster whose istiod injects, when not this one (a remote's primary: its injection webhook calls
 * the primary's istiod, which renders the proxy with its own image).
 */
export function injectorInputsOf(
  store: KubeObjectStore,
  istiodStore: KubeObjectStore = store,
): InjectorInputs {
  const meshConfig = store.tryGet('ConfigMap', 'istio-system', 'istio');
  const istiod = istiodStore.tryGet('Deployment', 'istio-system', 'istiod') as
    | { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }
    | undefined;
  const istiodImage = istiod?.spec?.template?.spec?.containers?.[0]?.image;
  return {
    ...(meshConfig !== undefined && { meshConfig }),
    ...(istiodImage !== undefined && { istiodImage }),
  };
}

/** The pod as the injector would admit it: with istio-proxy when it selects the pod, else unchanged. */
export function admitPod(
  pod: KubeObject,
  namespace: KubeObject | undefined,
  inputs: InjectorInputs = {},
): KubeObject {
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
        {
          name: PROXY_CONTAINER,
          image: proxyImageOf(inputs.istiodImage),
          restartPolicy: 'Always',
          ...proxyEnvOf(inputs.meshConfig, annotations[PROXY_CONFIG_ANNOTATION]),
        },
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

function proxyImageOf(istiodImage: string | undefined): string {
  const tag = istiodImage?.split('/').at(-1)?.split(':')[1];
  return tag === undefined ? DEFAULT_PROXY_IMAGE : `docker.io/istio/proxyv2:${tag}`;
}

/** `env` of the istio-proxy container: the merged proxyMetadata, sorted by key as Go templates range. */
function proxyEnvOf(meshConfig: KubeObject | undefined, annotation: string | undefined): { env?: object[] } {
  const mesh = readYaml((meshConfig?.data as Record<string, string> | undefined)?.mesh);
  const fromMesh = metadataOf((mesh?.defaultConfig as Record<string, unknown> | undefined)?.proxyMetadata);
  const fromPod = metadataOf(readYaml(annotation)?.proxyMetadata);
  const merged = { ...fromMesh, ...fromPod };
  const keys = Object.keys(merged).sort();
  if (keys.length === 0) return {};
  return { env: keys.map((name) => ({ name, value: merged[name] })) };
}

function readYaml(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const document = parse(text, { version: '1.1' });
    return typeof document === 'object' && document !== null
      ? (document as Record<string, unknown>)
      : undefined;
  } catch {
    // The real injector refuses the pod; the model injects without it (no test relies on either).
    return undefined;
  }
}

function metadataOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, String(entry)]));
}
