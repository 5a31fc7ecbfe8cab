// The workloads whose pods carry Istio's proxy, and therefore a workload certificate that must be
// re-issued under the new intermediate: Deployments, StatefulSets and DaemonSets, in any namespace,
// found by their pods (an istio-proxy container, the injector's tlsMode label), by their pod template
// (gateways), or by the namespace the injection webhook selects; and the injected pods nothing owns.

import {
  ownersOfProxiedPods,
  type UnmanagedPod,
  workloadKey,
} from '../../core/rotation/proxied-pod-owners.js';
import type { ProxiedPodOfWorkload } from '../../core/rotation/resign-wait.js';
import type { RolloutWidth } from '../../core/rotation/rollout-width.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import {
  DAEMON_SETS,
  DEPLOYMENTS,
  PODS,
  REPLICA_SETS,
  STATEFUL_SETS,
  type V1ObjectMeta,
  type V1OwnerReference,
  type V1Pod,
  type V1PodTemplateSpec,
} from './kube-objects.js';
import { rolloutWidthOf } from './rollout-strategy.js';
import { listNamespaces, type NamespaceInfo } from './trust-bundles.js';
import { RESTART_ID_ANNOTATION, type Workload, type WorkloadKind, type WorkloadRef } from './workload-ref.js';

export type { UnmanagedPod } from '../../core/rotation/proxied-pod-owners.js';
export type { WorkloadKind, WorkloadRef } from './workload-ref.js';

export const INJECTION_LABEL = 'istio-injection';
export const REVISION_LABEL = 'istio.io/rev';
const SIDECAR_INJECT = 'sidecar.istio.io/inject';
/** The container Istio's injector adds, and gateways run as their own. */
export const PROXY_CONTAINER = 'istio-proxy';
/** The label Istio's injector sets on every pod it injects. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/**
 * Istio's webhooks select a namespace labelled istio-injection=enabled, or one with an istio.io/rev
 * label and no istio-injection label at all (istio-injection=disabled wins over a revision).
 */
export function isInjectedNamespace(namespace: NamespaceInfo): boolean {
  const injection = namespace.labels[INJECTION_LABEL];
  return (
    injection === 'enabled' || (injection === undefined && namespace.labels[REVISION_LABEL] !== undefined)
  );
}

export interface InjectedWorkloads {
  /** Sorted by namespace, kind, name. */
  readonly workloads: WorkloadRef[];
  /** Sorted by namespace, name. Nothing can `rollout restart` them: they renew on their own. */
  readonly unmanaged: UnmanagedPod[];
  /**
   * Every running pod with Istio's proxy, sorted by namespace and name, with the workloadKey of the
   * workload that owns it (absent: an unmanaged pod). The resign wait reads what each one serves.
   */
  readonly proxiedPods: ProxiedPodOfWorkload[];
  /**
   * Each workload's pod template labels, by workloadKey (kind, namespace, name): what a
   * PodDisruptionBudget selects (`meshtrust plan` names the workloads a budget holds now).
   */
  readonly podLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * How many pods each workload's rollout may take down at once, by workloadKey (absent: OnDelete):
   * preflight refuses a rollout wider than a PodDisruptionBudget covering it allows (rollout-width.ts).
   */
  readonly rolloutWidths: ReadonlyMap<string, RolloutWidth>;
  /**
   * Each workload of `workloads` as the list that found it, by workloadKey: verify-workloads judges its
   * rollout and pods on these lists rather than reading each workload again.
   */
  readonly listed: ReadonlyMap<string, Workload>;
  /** Every pod of the cluster as listed, proxied or not, terminating or not. */
  readonly pods: readonly V1Pod[];
}

/**
 * Every workload whose pods run Istio's proxy, in every namespace: those owning a pod with an
 * istio-proxy container (native sidecar or not: gateways, pods injected by object selector, any
 * namespace) or the security.istio.io/tlsMode label the injector sets, and those whose namespace the
 * injector selects (a workload with no pod right now still gets one with a sidecar). Injected pods no
 * workload owns are returned apart.
 */
export async function findInjected(client: ClusterClient): Promise<InjectedWorkloads> {
  // Cluster-wide lists rather than per namespace: the rotator may restart in every namespace anyway.
  const [namespaces, pods, deployments, statefulSets, daemonSets] = await Promise.all([
    listNamespaces(client),
    callKube(client, 'list pods', () => client.api.list(PODS)),
    callKube(client, 'list deployments', () => client.api.list(DEPLOYMENTS)),
    callKube(client, 'list statefulsets', () => client.api.list(STATEFUL_SETS)),
    callKube(client, 'list daemonsets', () => client.api.list(DAEMON_SETS)),
  ]);
  const injected = new Set(namespaces.filter(isInjectedNamespace).map((namespace) => namespace.name));
  const proxied = pods.items.filter((pod) => runsProxy(pod) && pod.metadata?.deletionTimestamp === undefined);
  // A Deployment's pods belong to its ReplicaSets: read those only when some proxied pod has one.
  const replicaSetOwners = new Map<string, V1OwnerReference | undefined>();
  if (proxied.some((pod) => controllerOf(pod.metadata)?.kind === 'ReplicaSet')) {
    const replicaSets = await callKube(client, 'list replicasets', () => client.api.list(REPLICA_SETS));
    for (const replicaSet of replicaSets.items) {
      const key = `${replicaSet.metadata?.namespace}/${replicaSet.metadata?.name}`;
      replicaSetOwners.set(key, controllerOf(replicaSet.metadata));
    }
  }
  const { owning, unmanaged, ownerOfPod } = ownersOfProxiedPods(
    proxied.map((pod) => {
      const controller = controllerOf(pod.metadata);
      return {
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        ...(controller !== undefined && { controller }),
      };
    }),
    (namespace, name) => replicaSetOwners.get(`${namespace}/${name}`),
  );
  const refs: WorkloadRef[] = [];
  const podLabels = new Map<string, Readonly<Record<string, string>>>();
  const rolloutWidths = new Map<string, RolloutWidth>();
  const listed = new Map<string, Workload>();
  const collect = (
    kind: WorkloadKind,
    items: { metadata?: V1ObjectMeta; spec?: { template: V1PodTemplateSpec } }[],
  ) => {
    for (const item of items) {
      const namespace = item.metadata?.namespace;
      const name = item.metadata?.name;
      if (!namespace || !name) continue;
      const template = item.spec?.template;
      const selected =
        owning.has(workloadKey(kind, namespace, name)) ||
        templateRunsProxy(template) ||
        (injected.has(namespace) && !optsOut(template));
      if (!selected) continue;
      const restartId = template?.metadata?.annotations?.[RESTART_ID_ANNOTATION];
      refs.push(restartId === undefined ? { kind, namespace, name } : { kind, namespace, name, restartId });
      const key = workloadKey(kind, namespace, name);
      podLabels.set(key, { ...template?.metadata?.labels });
      const width = rolloutWidthOf(kind, item as Workload);
      if (width !== undefined) rolloutWidths.set(key, width);
      listed.set(key, item as Workload);
    }
  };
  collect('Deployment', deployments.items);
  collect('StatefulSet', statefulSets.items);
  collect('DaemonSet', daemonSets.items);
  return {
    workloads: refs.sort(
      (a, b) => compare(a.namespace, b.namespace) || compare(a.kind, b.kind) || compare(a.name, b.name),
    ),
    unmanaged: [...unmanaged].sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name)),
    proxiedPods: proxied
      .map((pod) => {
        const namespace = pod.metadata?.namespace ?? '';
        const name = pod.metadata?.name ?? '';
        const workload = ownerOfPod.get(`${namespace}/${name}`);
        return { namespace, name, ...(workload !== undefined && { workload }) };
      })
      .sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name)),
    podLabels,
    rolloutWidths,
    listed,
    pods: pods.items,
  };
}

/** A pod that runs Istio's proxy: an istio-proxy container (native sidecar or not), or the injector's label. */
export function runsProxy(pod: V1Pod): boolean {
  return (
    pod.metadata?.labels?.[TLS_MODE_LABEL] !== undefined ||
    [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some(
      (container) => container.name === PROXY_CONTAINER,
    )
  );
}

/** A pod template that runs the proxy itself, as a gateway's does. */
function templateRunsProxy(template: V1PodTemplateSpec | undefined): boolean {
  return [...(template?.spec?.containers ?? []), ...(template?.spec?.initContainers ?? [])].some(
    (container) => container.name === PROXY_CONTAINER,
  );
}

function controllerOf(metadata: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  return metadata?.ownerReferences?.find((reference) => reference.controller === true);
}

// A pod template labelled or annotated sidecar.istio.io/inject=false gets no sidecar and no mesh
// certificate: restarting it would disrupt it for nothing.
function optsOut(template: V1PodTemplateSpec | undefined): boolean {
  const metadata = template?.metadata;
  return (
    metadata?.labels?.[SIDECAR_INJECT] === 'false' || metadata?.annotations?.[SIDECAR_INJECT] === 'false'
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
