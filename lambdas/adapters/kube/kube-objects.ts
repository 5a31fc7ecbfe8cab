// The Kubernetes objects meshtrust reads and writes, as the API server's JSON carries them, and where each
// kind lives in the API. The shapes are @kubernetes/client-node's model types, imported as types only
// (nothing of that package is bundled), with each Date a string: kube-rest.ts parses JSON as it is, and
// the API server sends times as RFC 3339 text.
import type * as k8s from '@kubernetes/client-node';

/** T as JSON carries it: every Date an RFC 3339 string. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type V1Container = Json<k8s.V1Container>;
export type V1DaemonSet = Json<k8s.V1DaemonSet>;
export type V1Deployment = Json<k8s.V1Deployment>;
export type V1EndpointSlice = Json<k8s.V1EndpointSlice>;
export type V1EnvVar = Json<k8s.V1EnvVar>;
export type V1EnvVarSource = Json<k8s.V1EnvVarSource>;
export type V1Namespace = Json<k8s.V1Namespace>;
export type V1ObjectMeta = Json<k8s.V1ObjectMeta>;
export type V1OwnerReference = Json<k8s.V1OwnerReference>;
export type V1Pod = Json<k8s.V1Pod>;
export type V1PodDisruptionBudget = Json<k8s.V1PodDisruptionBudget>;
export type V1PodTemplateSpec = Json<k8s.V1PodTemplateSpec>;
export type V1ReplicaSet = Json<k8s.V1ReplicaSet>;
export type V1Secret = Json<k8s.V1Secret>;
export type V1Service = Json<k8s.V1Service>;
export type V1StatefulSet = Json<k8s.V1StatefulSet>;
export type V1ConfigMap = Json<k8s.V1ConfigMap>;

/** A kind of object, as its API path names it; T is the object's JSON. */
export interface KubeResource<T> {
  /** The group-version's path: /api/v1 for the core group, /apis/GROUP/VERSION otherwise. */
  readonly api: string;
  /** The resource's plural name in paths, e.g. secrets. */
  readonly plural: string;
  /** Only the compiler reads it: what an answer of this resource is. */
  readonly object?: T;
}

/** What a list answers: the objects, and where the list stands. */
export interface KubeList<T> {
  readonly items: T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

const core = <T>(plural: string): KubeResource<T> => ({ api: '/api/v1', plural });
const apps = <T>(plural: string): KubeResource<T> => ({ api: '/apis/apps/v1', plural });

export const NAMESPACES = core<V1Namespace>('namespaces');
export const PODS = core<V1Pod>('pods');
export const SECRETS = core<V1Secret>('secrets');
export const CONFIG_MAPS = core<V1ConfigMap>('configmaps');
export const SERVICES = core<V1Service>('services');
export const DEPLOYMENTS = apps<V1Deployment>('deployments');
export const STATEFUL_SETS = apps<V1StatefulSet>('statefulsets');
export const DAEMON_SETS = apps<V1DaemonSet>('daemonsets');
export const REPLICA_SETS = apps<V1ReplicaSet>('replicasets');
export const POD_DISRUPTION_BUDGETS: KubeResource<V1PodDisruptionBudget> = {
  api: '/apis/policy/v1',
  plural: 'poddisruptionbudgets',
};
export const ENDPOINT_SLICES: KubeResource<V1EndpointSlice> = {
  api: '/apis/discovery.k8s.io/v1',
  plural: 'endpointslices',
};

/** The path of a resource's collection: cluster-wide without a namespace (NAMESPACES has none). */
export function collectionPath(resource: KubeResource<unknown>, namespace?: string): string {
  return namespace === undefined
    ? `${resource.api}/${resource.plural}`
    : `${resource.api}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
}

/** The path of one object. */
export function objectPath(
  resource: KubeResource<unknown>,
  namespace: string | undefined,
  name: string,
): string {
  return `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
}
