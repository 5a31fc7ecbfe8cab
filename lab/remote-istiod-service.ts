// What Istio's remote profile leaves in a remote cluster's istio-system for its proxies to reach the
// primary's istiod (values.global.remotePilotAddress): Service `istiod` without selector, ports
// tcp-istiod 15012 (xDS and CA) and tcp-webhook 443 -> 15017 (the injection webhook), and an
// EndpointSlice of it naming the primary's address on both port names
// (istio/istio manifests/charts/istio-control/istio-discovery/templates/remote-istiod-service.yaml and
// remote-istiod-endpointslices.yaml). The model routes nothing through them: its remote's pods are
// signed by the primary's istiod model directly. They are there for preflight to read, and for tests to
// break (cutRemoteIstiodReach), as an operator's mistake would.
import type { KubeObject } from './kube/kube-object.js';
import type { KubeObjectStore } from './kube/object-store.js';
import { ISTIO_SYSTEM } from './seed-cluster.js';

export const REMOTE_ISTIOD_SERVICE = 'istiod';

/**
 * The address the model's remote (its index in the fleet) names for its primary: a documentation
 * address (RFC 5737 TEST-NET-2), since the model's clusters have no network of their own.
 */
export function labPrimaryIstiodAddress(remoteIndex: number): string {
  return `198.51.100.${remoteIndex + 1}`;
}

export function seedRemoteIstiodService(
  store: KubeObjectStore,
  options: { readonly primaryAddress: string },
): void {
  const labels = { app: 'istiod', 'istio.io/rev': 'default', 'app.kubernetes.io/name': 'istiod' };
  store.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: REMOTE_ISTIOD_SERVICE, namespace: ISTIO_SYSTEM, labels },
    spec: {
      type: 'ClusterIP',
      ports: [
        { name: 'tcp-istiod', port: 15012, protocol: 'TCP' },
        { name: 'tcp-webhook', port: 443, targetPort: 15017, protocol: 'TCP' },
      ],
    },
  });
  store.create(remoteIstiodSlice(options.primaryAddress));
}

function remoteIstiodSlice(primaryAddress: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: REMOTE_ISTIOD_SERVICE,
      namespace: ISTIO_SYSTEM,
      labels: {
        'kubernetes.io/service-name': REMOTE_ISTIOD_SERVICE,
        'endpointslice.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/name': 'istiod',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [primaryAddress] }],
    ports: [
      { name: 'tcp-istiod', port: 15012, protocol: 'TCP' },
      { name: 'tcp-webhook', port: 15017, protocol: 'TCP' },
    ],
  };
}

/**
 * Breaks the remote's reach to its primary's istiod the way a half-done install or a deleted object
 * does: its istiod Service's EndpointSlice is deleted (`service`: the Service too). Returns what puts it
 * back as it was.
 */
export function cutRemoteIstiodReach(
  store: KubeObjectStore,
  options: { readonly service?: boolean } = {},
): () => void {
  const slice = store.get('EndpointSlice', ISTIO_SYSTEM, REMOTE_ISTIOD_SERVICE);
  store.delete('EndpointSlice', ISTIO_SYSTEM, REMOTE_ISTIOD_SERVICE);
  const service = options.service ? store.get('Service', ISTIO_SYSTEM, REMOTE_ISTIOD_SERVICE) : undefined;
  if (service !== undefined) store.delete('Service', ISTIO_SYSTEM, REMOTE_ISTIOD_SERVICE);
  // create gives each a new uid and resourceVersion, as a re-applied manifest would.
  return () => {
    if (service !== undefined) store.create(service);
    store.create(slice);
  };
}
