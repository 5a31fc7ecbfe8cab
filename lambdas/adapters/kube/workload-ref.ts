// Which workload a restart or a rollout wait is about, and where its kind lives in the API.
import type { ClusterClient } from './cluster-client.js';
import {
  DAEMON_SETS,
  DEPLOYMENTS,
  type KubeResource,
  STATEFUL_SETS,
  type V1DaemonSet,
  type V1Deployment,
  type V1StatefulSet,
} from './kube-objects.js';

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
 * Workloads of one cluster a step reads or restarts at once: far below an API server's limits, enough
 * to overlap their round trips (docs/performance.md: one at a time, a hundred workloads' calls were most
 * of a large cluster's verify-workloads and restart-workloads).
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

/** Where each workload kind lives in the API. */
export const WORKLOAD_RESOURCES: Readonly<Record<WorkloadKind, KubeResource<Workload>>> = {
  Deployment: DEPLOYMENTS,
  StatefulSet: STATEFUL_SETS,
  DaemonSet: DAEMON_SETS,
};

export function readWorkload(client: ClusterClient, ref: WorkloadRef): Promise<Workload> {
  return client.api.read(WORKLOAD_RESOURCES[ref.kind], ref.namespace, ref.name);
}

/** Every workload of a kind in a namespace. */
export async function listWorkloads(
  client: ClusterClient,
  kind: WorkloadKind,
  namespace: string,
): Promise<Workload[]> {
  return (await client.api.list(WORKLOAD_RESOURCES[kind], { namespace })).items;
}
