// The running pods that carry Istio's proxy, as the rotation strategy needs them
// (lambdas/core/istio/rotation-strategy.ts): PROXY_CONFIG_XDS_AGENT in the istio-proxy container's env
// (what its pilot-agent runs with: the injector wrote it there); for remote clusters, SECRET_TTL (the
// lifetime it requests) and PROXY_CONFIG's discoveryAddress (where it dials istiod); the pod's
// proxy.istio.io/config annotation (what a replacement pod gets on top of the mesh config) and the Istio version its image
// names. Reads only; RBAC: `list` on pods, which the rotator and the viewer have.

import { parse } from 'yaml';
import { type EnvSetting, PCDS_METADATA, SECRET_TTL_METADATA } from '../../core/istio/istio-settings.js';
import { istioVersionOfImage } from '../../core/istio/istio-version.js';
import { PROXY_CONFIG_ANNOTATION, type ProxiedPodReading } from '../../core/istio/rotation-strategy.js';
import type { ClusterClient } from './cluster-client.js';
import { PROXY_CONTAINER, runsProxy } from './injected-workloads.js';
import { callKube } from './kube-call.js';
import { PODS, type V1Container, type V1Pod } from './kube-objects.js';

export type { ProxiedPodReading } from '../../core/istio/rotation-strategy.js';

/** The env the injector writes the pod's merged proxy config into, as JSON. */
const PROXY_CONFIG_ENV = 'PROXY_CONFIG';

/** Every pod of the cluster that runs Istio's proxy and is not being deleted, sorted by namespace and name. */
export async function readProxiedPods(client: ClusterClient): Promise<ProxiedPodReading[]> {
  const pods = await callKube(client, 'list pods', () => client.api.list(PODS));
  return pods.items
    .filter((pod) => runsProxy(pod) && pod.metadata?.deletionTimestamp === undefined)
    .map(proxiedPodOf)
    .sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
}

/** One pod as the strategy judges it. Pure; exported for tests. */
export function proxiedPodOf(pod: V1Pod): ProxiedPodReading {
  const containers: V1Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const proxy = containers.find((container) => container.name === PROXY_CONTAINER);
  const pcdsEnv = envOf(proxy, PCDS_METADATA);
  const secretTtlEnv = envOf(proxy, SECRET_TTL_METADATA);
  const discoveryAddress = discoveryAddressOf(envOf(proxy, PROXY_CONFIG_ENV));
  const annotation = annotationOf(pod.metadata?.annotations?.[PROXY_CONFIG_ANNOTATION]);
  const proxyVersion = istioVersionOfImage(proxy?.image);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(pcdsEnv !== undefined && { pcdsEnv }),
    ...(secretTtlEnv !== undefined && { secretTtlEnv }),
    ...(discoveryAddress !== undefined && { discoveryAddress }),
    envFrom: (proxy?.envFrom ?? []).map((source) =>
      source.configMapRef
        ? `configMap ${source.configMapRef.name}`
        : source.secretRef
          ? `secret ${source.secretRef.name}`
          : 'an unnamed source',
    ),
    ...(annotation !== undefined && { annotation }),
    ...(proxyVersion !== undefined && { proxyVersion }),
    ...(proxy?.image !== undefined && { proxyImage: proxy.image }),
  };
}

/**
 * The proxy config's discoveryAddress in PROXY_CONFIG, which Istio's injection template writes as the
 * JSON of the merged proxy config (manifests/charts/istio-control/istio-discovery/files/
 * injection-template.yaml); undefined when unset, set from elsewhere, not JSON, or without one.
 */
function discoveryAddressOf(setting: EnvSetting | undefined): string | undefined {
  if (setting === undefined || 'valueFrom' in setting) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(setting.value);
  } catch {
    return undefined;
  }
  const address = isMap(config) ? config.discoveryAddress : undefined;
  return typeof address === 'string' && address !== '' ? address : undefined;
}

/** One variable of the istio-proxy container's env (Kubernetes keeps the last of duplicate names). */
function envOf(proxy: V1Container | undefined, name: string): EnvSetting | undefined {
  const variable = proxy?.env?.filter((entry) => entry.name === name).at(-1);
  if (variable === undefined) return undefined;
  return variable.valueFrom !== undefined
    ? { valueFrom: describeSource(variable.valueFrom) }
    : { value: variable.value ?? '' };
}

/** The annotation's proxyMetadata.PROXY_CONFIG_XDS_AGENT (YAML or JSON, as Istio reads it), or why not. */
function annotationOf(text: string | undefined): ProxiedPodReading['annotation'] {
  if (text === undefined) return undefined;
  let document: unknown;
  try {
    document = parse(text, { version: '1.1' });
  } catch (error) {
    return {
      problem: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'YAML error',
    };
  }
  if (document === null || document === undefined) return {};
  if (!isMap(document)) return { problem: 'not a YAML map' };
  const metadata = document.proxyMetadata;
  if (metadata === undefined || metadata === null) return {};
  if (!isMap(metadata)) return { problem: 'proxyMetadata is not a map' };
  const value = metadata[PCDS_METADATA];
  if (value === undefined || value === null) return {};
  if (typeof value === 'object') return { problem: `proxyMetadata.${PCDS_METADATA} is not a string` };
  return { pcds: String(value) };
}

function describeSource(source: NonNullable<V1Container['env']>[number]['valueFrom']): string {
  if (source?.configMapKeyRef) {
    return `configMapKeyRef (ConfigMap ${source.configMapKeyRef.name} key ${source.configMapKeyRef.key})`;
  }
  if (source?.secretKeyRef)
    return `secretKeyRef (Secret ${source.secretKeyRef.name} key ${source.secretKeyRef.key})`;
  if (source?.fieldRef) return `fieldRef (${source.fieldRef.fieldPath})`;
  return 'valueFrom';
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
