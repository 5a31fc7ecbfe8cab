// The workloads whose pods carry an Istio sidecar, and therefore a workload certificate that must be
// re-issued under the new intermediate: Deployments, StatefulSets and DaemonSets in namespaces that
// Istio's injection webhook selects.
import type { V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import { listNamespaces, type NamespaceInfo } from './trust-bundles.js';
import { RESTART_ID_ANNOTATION, type WorkloadKind, type WorkloadRef } from './workload-ref.js';

export type { WorkloadKind, WorkloadRef } from './workload-ref.js';

export const INJECTION_LABEL = 'istio-injection';
export const REVISION_LABEL = 'istio.io/rev';
const SIDECAR_INJECT = 'sidecar.istio.io/inject';

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

/** Workloads of injected namespaces, sorted by namespace, kind, name; opted-out pod templates left out. */
export async function findInjectedWorkloads(client: ClusterClient): Promise<WorkloadRef[]> {
  const namespaces = await listNamespaces(client);
  const injected = new Set(namespaces.filter(isInjectedNamespace).map((namespace) => namespace.name));
  if (injected.size === 0) return [];
  // Three cluster-wide lists rather than three per namespace: the rotator may restart in every namespace anyway.
  const [deployments, statefulSets, daemonSets] = await Promise.all([
    callKube(client, 'list deployments', () => client.apps.listDeploymentForAllNamespaces()),
    callKube(client, 'list statefulsets', () => client.apps.listStatefulSetForAllNamespaces()),
    callKube(client, 'list daemonsets', () => client.apps.listDaemonSetForAllNamespaces()),
  ]);
  const refs: WorkloadRef[] = [];
  const collect = (
    kind: WorkloadKind,
    items: { metadata?: V1ObjectMeta; spec?: { template: V1PodTemplateSpec } }[],
  ) => {
    for (const item of items) {
      const namespace = item.metadata?.namespace;
      const name = item.metadata?.name;
      if (!namespace || !name || !injected.has(namespace) || optsOut(item.spec?.template)) continue;
      const restartId = item.spec?.template.metadata?.annotations?.[RESTART_ID_ANNOTATION];
      refs.push(restartId === undefined ? { kind, namespace, name } : { kind, namespace, name, restartId });
    }
  };
  collect('Deployment', deployments.items);
  collect('StatefulSet', statefulSets.items);
  collect('DaemonSet', daemonSets.items);
  return refs.sort(
    (a, b) => compare(a.namespace, b.namespace) || compare(a.kind, b.kind) || compare(a.name, b.name),
  );
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
