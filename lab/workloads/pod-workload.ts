// Which workload a pod belongs to, read from the pod's own metadata as the lab's Kubernetes API gives it
// (its controller owner reference), in the lab's terms and not the product's: the rehearsal uses it to
// pair the pods it saw at the start with those at the end, which a restart gives new names and UIDs.

/** The part of a pod's metadata that says who owns it. */
export interface PodOwnerMetadata {
  readonly namespace?: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly {
    readonly kind: string;
    readonly name: string;
    readonly controller?: boolean;
  }[];
}

/**
 * `namespace/Kind/name` of the controller that owns the pod; a Deployment's pod (owned by a ReplicaSet
 * named `<deployment>-<pod-template-hash>`, as the real controllers name it) by its Deployment, since a
 * rollout replaces the ReplicaSet; a pod without a controller by itself (`namespace/Pod/name`).
 */
export function podWorkload(metadata: PodOwnerMetadata): string {
  const namespace = metadata.namespace ?? '';
  const owner =
    metadata.ownerReferences?.find((reference) => reference.controller === true) ??
    metadata.ownerReferences?.[0];
  if (owner === undefined) return `${namespace}/Pod/${metadata.name ?? ''}`;
  const hash = metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash !== undefined && owner.name.endsWith(`-${hash}`)) {
    return `${namespace}/Deployment/${owner.name.slice(0, -hash.length - 1)}`;
  }
  return `${namespace}/${owner.kind}/${owner.name}`;
}

/** The kind of the workload that owns the pod, as podWorkload names it: `Deployment`, ..., or `Pod`. */
export function podWorkloadKind(metadata: PodOwnerMetadata): string {
  return podWorkload(metadata).split('/')[1] ?? 'Pod';
}
