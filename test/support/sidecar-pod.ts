import type { KubeObject, OwnerReference } from '../../lab/kube/kube-object.js';

/**
 * A pod with Istio's proxy (an istio-proxy container and the injector's tlsMode label) for a lab
 * cluster's store, owned by `owner` or by nothing (a bare pod).
 */
export function sidecarPod(namespace: string, name: string, owner?: OwnerReference): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { 'security.istio.io/tlsMode': 'istio' },
      ...(owner === undefined ? {} : { ownerReferences: [owner] }),
    },
    spec: { containers: [{ name: 'app' }, { name: 'istio-proxy' }] },
  };
}

/** The controller reference a Job's pod carries. */
export function jobOwner(name: string): OwnerReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name, uid: `job-${name}`, controller: true };
}
