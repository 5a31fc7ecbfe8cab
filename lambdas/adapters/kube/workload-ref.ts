// Which workload a restart or a rollout wait is about, and how to reach its kind through client-node.
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterClient } from './cluster-client.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** The annotation on the pod template that says which restart (execution) last restarted it. */
export const RESTART_ID_ANNOTATION = 'meshtrust.io/restart-id';
/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  /** The meshtrust.io/restart-id annotation on the pod template, when it has one. */
  readonly restartId?: string;
}

export type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;

/** `Deployment shop/web`, for messages. */
export function describeWorkload(ref: Pick<WorkloadRef, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/**
 * Workloads of one cluster a step reads or restarts at once: far below client-node's and an API
 * server's limits, enough to overlap their round trips (docs/performance.md: one at a time, a hundred
 * workloads' calls were most of a large cluster's verify-workloads and restart-workloads).
 */
export const WORKLOADS_AT_ONCE = 8;

/** The refs by kind and namespace (`Kind/namespace`), in first-seen order: what one list or one watch covers. */
export function byKindAndNamespace<T extends WorkloadRef>(refs: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const ref of refs) {
    const key = `${ref.kind}/${ref.namespace}`;
    groups.set(key, [...(groups.get(key) ?? []), ref]);
  }
  return groups;
}

export function readWorkload(client: ClusterClient, ref: WorkloadRef): Promise<Workload> {
  const request = { name: ref.name, namespace: ref.namespace };
  switch (ref.kind) {
    case 'Deployment':
      return client.apps.readNamespacedDeployment(request);
    case 'StatefulSet':
      return client.apps.readNamespacedStatefulSet(request);
    case 'DaemonSet':
      return client.apps.readNamespacedDaemonSet(request);
  }
}

/** Every workload of a kind in a namespace. */
export async function listWorkloads(
  client: ClusterClient,
  kind: WorkloadKind,
  namespace: string,
): Promise<Workload[]> {
  switch (kind) {
    case 'Deployment':
      return (await client.apps.listNamespacedDeployment({ namespace })).items;
    case 'StatefulSet':
      return (await client.apps.listNamespacedStatefulSet({ namespace })).items;
    case 'DaemonSet':
      return (await client.apps.listNamespacedDaemonSet({ namespace })).items;
  }
}
