// The kinds the lab serves: enough for the rotation workflow (cacerts, trust bundles, workloads, the
// PodDisruptionBudgets their restarts respect, and a remote's istiod Service and EndpointSlices).
// One table drives the REST routes, discovery and OpenAPI, so they cannot disagree.

export interface ResourceKind {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly namespaced: boolean;
  /** Workload kinds bump metadata.generation on spec change and carry a rollout status. */
  readonly workload: boolean;
  /**
   * Bumps metadata.generation on spec change and starts with an empty status, as workloads do, without
   * being one (PodDisruptionBudget: its status.observedGeneration says whether the status is current).
   */
  readonly generation?: boolean;
  readonly hasStatus: boolean;
}

export const resourceKinds: readonly ResourceKind[] = [
  core('Namespace', 'namespaces', 'namespace', ['ns'], false, true),
  core('Secret', 'secrets', 'secret', [], true, false),
  core('ConfigMap', 'configmaps', 'configmap', ['cm'], true, false),
  core('Pod', 'pods', 'pod', ['po'], true, true),
  // A remote cluster's istiod Service and its EndpointSlice, as Istio's remote profile renders them
  // (primary-remote): what preflight reads of a remote's reach to its primary's istiod.
  core('Service', 'services', 'service', ['svc'], true, true),
  apps('Deployment', 'deployments', 'deployment', ['deploy']),
  apps('StatefulSet', 'statefulsets', 'statefulset', ['sts']),
  apps('DaemonSet', 'daemonsets', 'daemonset', ['ds']),
  // Its status is the lab's disruption controller's (lab/workloads/rollout-controller.ts).
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    listKind: 'PodDisruptionBudgetList',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    shortNames: ['pdb'],
    namespaced: true,
    workload: false,
    generation: true,
    hasStatus: true,
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    listKind: 'EndpointSliceList',
    plural: 'endpointslices',
    singular: 'endpointslice',
    shortNames: [],
    namespaced: true,
    workload: false,
    hasStatus: false,
  },
];

export const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

export function apiVersionOf(kind: ResourceKind): string {
  return kind.group === '' ? kind.version : `${kind.group}/${kind.version}`;
}

export function findKindByName(kindName: string): ResourceKind | undefined {
  return resourceKinds.find((k) => k.kind === kindName);
}

export function findKindByPlural(group: string, version: string, plural: string): ResourceKind | undefined {
  return resourceKinds.find((k) => k.group === group && k.version === version && k.plural === plural);
}

function core(
  kind: string,
  plural: string,
  singular: string,
  shortNames: string[],
  namespaced: boolean,
  hasStatus: boolean,
): ResourceKind {
  return {
    group: '',
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    plural,
    singular,
    shortNames,
    namespaced,
    workload: false,
    hasStatus,
  };
}

function apps(kind: string, plural: string, singular: string, shortNames: string[]): ResourceKind {
  return {
    group: 'apps',
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    plural,
    singular,
    shortNames,
    namespaced: true,
    workload: true,
    hasStatus: true,
  };
}
