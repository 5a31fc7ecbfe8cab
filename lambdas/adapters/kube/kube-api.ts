// The operations meshtrust's adapters make on a cluster's objects, each one HTTP request (kube-rest.ts):
// read, list, create, replace, a strategic merge patch, and a GET through a pod's proxy.
import { collectionPath, type KubeList, type KubeResource, objectPath, PODS } from './kube-objects.js';
import { type KubeConnection, kubeJson, kubeText } from './kube-rest.js';

export interface ListOptions {
  /** Without one, every namespace's objects. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface KubeApi {
  read<T>(resource: KubeResource<T>, namespace: string | undefined, name: string): Promise<T>;
  list<T>(resource: KubeResource<T>, options?: ListOptions): Promise<KubeList<T>>;
  create<T>(resource: KubeResource<T>, namespace: string, body: T): Promise<T>;
  /** PUT: refused with 409 when body.metadata.resourceVersion is no longer the object's. */
  replace<T>(resource: KubeResource<T>, namespace: string, name: string, body: T): Promise<T>;
  /** A strategic merge patch, as `kubectl patch` sends by default (merges lists by their keys). */
  strategicPatch<T>(resource: KubeResource<T>, namespace: string, name: string, patch: object): Promise<T>;
  /** GET `path` of a pod's port through the API server's pods/proxy; the answer as text. */
  podProxyGet(namespace: string, pod: string, port: number, path: string): Promise<string>;
}

export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export function createKubeApi(connection: KubeConnection): KubeApi {
  return {
    read: (resource, namespace, name) =>
      kubeJson(connection, { method: 'GET', path: objectPath(resource, namespace, name) }),
    list: (resource, options = {}) => {
      const { namespace, ...query } = options;
      return kubeJson(connection, { method: 'GET', path: collectionPath(resource, namespace), query });
    },
    create: (resource, namespace, body) =>
      kubeJson(connection, { method: 'POST', path: collectionPath(resource, namespace), body }),
    replace: (resource, namespace, name, body) =>
      kubeJson(connection, { method: 'PUT', path: objectPath(resource, namespace, name), body }),
    strategicPatch: (resource, namespace, name, patch) =>
      kubeJson(connection, {
        method: 'PATCH',
        path: objectPath(resource, namespace, name),
        body: patch,
        contentType: STRATEGIC_MERGE_PATCH,
      }),
    podProxyGet: (namespace, pod, port, path) =>
      kubeText(connection, {
        method: 'GET',
        // NAME:PORT, the colon as it is (kubectl get --raw sends it so).
        path: `${collectionPath(PODS, namespace)}/${encodeURIComponent(pod)}:${port}/proxy/${path.replace(/^\/+/, '')}`,
      }),
  };
}
