// What a remote cluster's own API says about its Istio: its mesh config (istio-system/istio) and, for
// every address its proxies dial for istiod (each running proxy's PROXY_CONFIG discoveryAddress, as its
// injector wrote it, and the mesh config's defaultConfig.discoveryAddress or Istio's default, for the
// pods to come), the Service that address names, with its EndpointSlices (label
// kubernetes.io/service-name), which Istio's remote profile points at the primary's address. Reads only; the judgement is lambdas/core/topology (remote-istiod-reach.ts,
// remote-proxy-settings.ts). RBAC (deploy/kubernetes/rbac.yaml, Role meshtrust-remote-istiod in
// istio-system): `get` on Service istiod by name and `list` on endpointslices; the mesh config's `get` is
// Role meshtrust-mesh-config's. A 403 is returned as a reading, for preflight to name the Role.

import type { MeshConfigReading } from '../../core/istio/istio-settings.js';
import {
  DEFAULT_DISCOVERY_ADDRESS,
  type EndpointSliceReading,
  type EndpointSlicesReading,
  type RemoteIstiodReachReading,
  type RemoteServiceReading,
  serviceOfAddress,
} from '../../core/topology/remote-istiod-reach.js';
import type { ClusterClient } from './cluster-client.js';
import { readMeshConfig } from './istio-settings.js';
import { callKube } from './kube-call.js';
import { describeKubeFailure, kubeStatusOf } from './kube-errors.js';
import { ENDPOINT_SLICES, SERVICES, type V1EndpointSlice, type V1Service } from './kube-objects.js';

export type { RemoteIstiodReachReading } from '../../core/topology/remote-istiod-reach.js';

/** The label the EndpointSlices of a Service carry (set by Istio's remote profile on its own slice). */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** What was read of one remote cluster: its mesh config and its reach to its primary's istiod. */
export interface RemoteIstioReading {
  readonly meshConfig: MeshConfigReading;
  /** One per distinct address its proxies dial for istiod, the mesh config's first. */
  readonly reaches: readonly RemoteIstiodReachReading[];
}

/** Pods named in an address's source before "and N more". */
const PODS_NAMED = 3;

/**
 * Reads the remote's mesh config, then for every address its proxies dial (`proxies`: each running
 * proxy's PROXY_CONFIG discoveryAddress, where set) the Service it names and that Service's slices.
 */
export async function readRemoteIstio(
  client: ClusterClient,
  names: { readonly remote: string; readonly primary: string },
  proxies: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly discoveryAddress?: string;
  }[] = [],
): Promise<RemoteIstioReading> {
  const meshConfig = await readMeshConfig(client, 'default');
  const configMap = `ConfigMap ${meshConfig.namespace}/${meshConfig.name}`;
  const sources = new Map<string, string[]>();
  sources.set(meshConfig.discoveryAddress ?? DEFAULT_DISCOVERY_ADDRESS, [
    meshConfig.discoveryAddress === undefined
      ? `Istio's default; ${configMap} sets none`
      : `defaultConfig.discoveryAddress of ${configMap}`,
  ]);
  const byAddress = new Map<string, string[]>();
  for (const pod of proxies) {
    if (pod.discoveryAddress === undefined) continue;
    byAddress.set(pod.discoveryAddress, [
      ...(byAddress.get(pod.discoveryAddress) ?? []),
      `${pod.namespace}/${pod.name}`,
    ]);
  }
  for (const [address, pods] of byAddress) {
    const named =
      pods.slice(0, PODS_NAMED).join(', ') +
      (pods.length > PODS_NAMED ? ` and ${pods.length - PODS_NAMED} more` : '');
    sources.set(address, [...(sources.get(address) ?? []), `PROXY_CONFIG of running proxy pod(s) ${named}`]);
  }
  const reaches: RemoteIstiodReachReading[] = [];
  for (const [discoveryAddress, from] of sources) {
    reaches.push(
      await readReach(client, { ...names, discoveryAddress, discoveryAddressSource: from.join('; ') }),
    );
  }
  return { meshConfig, reaches };
}

/** The Service one discovery address names and that Service's slices, as read. */
async function readReach(
  client: ClusterClient,
  base: Omit<RemoteIstiodReachReading, 'service' | 'slices'>,
): Promise<RemoteIstiodReachReading> {
  const target = serviceOfAddress(base.discoveryAddress);
  if (target === undefined) return base;
  const service = await readService(client, target.namespace, target.name);
  if (service.state !== 'found' || service.type === 'ExternalName') return { ...base, service };
  const slices = await readSlices(client, target.namespace, target.name);
  return { ...base, service, slices };
}

async function readService(
  client: ClusterClient,
  namespace: string,
  name: string,
): Promise<RemoteServiceReading> {
  try {
    const service = await callKube(
      client,
      `read service ${namespace}/${name}`,
      () => client.api.read(SERVICES, namespace, name),
      { passStatuses: [403, 404] },
    );
    return serviceReadingOf(service);
  } catch (error) {
    const status = kubeStatusOf(error);
    if (status === 404) return { state: 'absent' };
    if (status === 403) return { state: 'forbidden', problem: `403 ${describeKubeFailure(error).message}` };
    throw error;
  }
}

async function readSlices(
  client: ClusterClient,
  namespace: string,
  name: string,
): Promise<EndpointSlicesReading> {
  try {
    const list = await callKube(
      client,
      `list endpointslices in ${namespace} (${SERVICE_NAME_LABEL}=${name})`,
      () => client.api.list(ENDPOINT_SLICES, { namespace, labelSelector: `${SERVICE_NAME_LABEL}=${name}` }),
      { passStatuses: [403] },
    );
    return { state: 'read', slices: list.items.map(sliceReadingOf) };
  } catch (error) {
    if (kubeStatusOf(error) === 403) {
      return { state: 'forbidden', problem: `403 ${describeKubeFailure(error).message}` };
    }
    throw error;
  }
}

/** One Service as the reach rule judges it. Pure; exported for tests. */
export function serviceReadingOf(service: V1Service): RemoteServiceReading {
  const spec = service.spec ?? {};
  return {
    state: 'found',
    ...(spec.type !== undefined && { type: spec.type }),
    ...(spec.externalName !== undefined && { externalName: spec.externalName }),
    selector: Object.keys(spec.selector ?? {}).length > 0,
    ports: (spec.ports ?? []).map((port) => ({
      ...(port.name !== undefined && { name: port.name }),
      port: port.port,
    })),
  };
}

/** One EndpointSlice as the reach rule judges it. Pure; exported for tests. */
export function sliceReadingOf(slice: V1EndpointSlice): EndpointSliceReading {
  return {
    name: slice.metadata?.name ?? '',
    ports: (slice.ports ?? []).map((port) => ({
      ...(port.name !== undefined && { name: port.name }),
      ...(port.port !== undefined && { port: port.port }),
    })),
    // EndpointSlice API: an unset ready condition is to be read as ready.
    endpoints: (slice.endpoints ?? []).map((endpoint) => ({
      addresses: [...endpoint.addresses],
      ready: endpoint.conditions?.ready !== false,
    })),
  };
}
