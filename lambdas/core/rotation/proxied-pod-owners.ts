// Which workload a restart must reach for each pod that runs Istio's proxy: its controller, or for a
// ReplicaSet the Deployment above it. A pod no Deployment, StatefulSet or DaemonSet owns (a bare pod,
// a Job's, a bare ReplicaSet's) cannot be `rollout restart`ed and is returned apart. Pure: the
// Kubernetes adapter lists pods and ReplicaSets.

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

export interface ProxiedPod {
  readonly namespace: string;
  readonly name: string;
  /** The ownerReference with controller: true, if any. */
  readonly controller?: OwnerRef;
}

/** An injected pod that no Deployment, StatefulSet or DaemonSet owns. */
export interface UnmanagedPod {
  readonly namespace: string;
  readonly name: string;
  /** `Job nightly`, `ReplicaSet legacy-7d9f`; absent for a bare pod. */
  readonly owner?: string;
}

const RESTARTABLE_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** `Kind/namespace/name`, the key `owning` holds. */
export function workloadKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function ownersOfProxiedPods(
  pods: readonly ProxiedPod[],
  replicaSetController: (namespace: string, name: string) => OwnerRef | undefined,
): {
  readonly owning: ReadonlySet<string>;
  readonly unmanaged: UnmanagedPod[];
  /** Each owned pod (`namespace/name`) to the workloadKey of the workload a restart must reach. */
  readonly ownerOfPod: ReadonlyMap<string, string>;
} {
  const owning = new Set<string>();
  const unmanaged: UnmanagedPod[] = [];
  const ownerOfPod = new Map<string, string>();
  for (const { namespace, name, controller } of pods) {
    let owner = controller;
    if (owner?.kind === 'ReplicaSet') {
      const deployment = replicaSetController(namespace, owner.name);
      if (deployment?.kind !== 'Deployment') {
        unmanaged.push({ namespace, name, owner: `ReplicaSet ${owner.name}` });
        continue;
      }
      owner = deployment;
    }
    if (owner !== undefined && RESTARTABLE_KINDS.includes(owner.kind)) {
      const key = workloadKey(owner.kind, namespace, owner.name);
      owning.add(key);
      ownerOfPod.set(`${namespace}/${name}`, key);
    } else {
      unmanaged.push({
        namespace,
        name,
        ...(owner !== undefined && { owner: `${owner.kind} ${owner.name}` }),
      });
    }
  }
  return { owning, unmanaged, ownerOfPod };
}
