// When the lab's rollout controller has finished with a workload: its status, written for the current
// generation, counts every desired pod updated and ready. Nothing more is written to it until it changes.
import type { KubeObject } from '../kube/kube-object.js';

/** A Deployment's, StatefulSet's or DaemonSet's rollout is complete by its status. */
export function isRolledOut(workload: KubeObject): boolean {
  const status = workload.status ?? {};
  if ((status.observedGeneration ?? 0) < (workload.metadata.generation ?? 0)) return false;
  if (workload.kind === 'DaemonSet') {
    const desired = status.desiredNumberScheduled ?? 0;
    return status.updatedNumberScheduled === desired && status.numberAvailable === desired;
  }
  const replicas = workload.spec?.replicas ?? 1;
  return (
    status.updatedReplicas === replicas &&
    status.readyReplicas === replicas &&
    (status.replicas ?? 0) === replicas
  );
}
