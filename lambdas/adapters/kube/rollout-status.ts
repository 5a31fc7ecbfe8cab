// Whether a workload finished rolling out, decided as `kubectl rollout status` decides it
// (kubectl/pkg/polymorphichelpers/rollout_status.go), plus one stricter check for StatefulSets. Pure:
// it judges one snapshot of the object; workload-restart.ts polls.
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from './kube-objects.js';
import type { Workload, WorkloadKind } from './workload-ref.js';

export type RolloutStatus =
  | { readonly state: 'done' }
  /** Still rolling: `waiting` says what is missing. */
  | { readonly state: 'progressing'; readonly waiting: string }
  /** Will not finish by waiting (progress deadline exceeded, OnDelete strategy). */
  | { readonly state: 'failed'; readonly reason: string };

export function rolloutStatusOf(kind: WorkloadKind, workload: Workload): RolloutStatus {
  switch (kind) {
    case 'Deployment':
      return deploymentStatus(workload as V1Deployment);
    case 'StatefulSet':
      return statefulSetStatus(workload as V1StatefulSet);
    case 'DaemonSet':
      return daemonSetStatus(workload as V1DaemonSet);
  }
}

const progressing = (waiting: string): RolloutStatus => ({ state: 'progressing', waiting });
const done: RolloutStatus = { state: 'done' };

function observed(workload: Workload): boolean {
  const generation = workload.metadata?.generation ?? 0;
  const observedGeneration = workload.status?.observedGeneration ?? 0;
  return observedGeneration > 0 && observedGeneration >= generation;
}

function deploymentStatus(deployment: V1Deployment): RolloutStatus {
  if (!observed(deployment)) return progressing('the controller has not yet observed the new pod template');
  const status = deployment.status ?? {};
  const stalled = status.conditions?.find(
    (condition) => condition.type === 'Progressing' && condition.reason === 'ProgressDeadlineExceeded',
  );
  if (stalled) {
    return {
      state: 'failed',
      reason: `it exceeded its progress deadline (${stalled.message ?? 'ProgressDeadlineExceeded'})`,
    };
  }
  const replicas = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < replicas) return progressing(`${updated} of ${replicas} new replicas updated`);
  const total = status.replicas ?? 0;
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  const available = status.availableReplicas ?? 0;
  if (available < updated) return progressing(`${available} of ${updated} updated replicas available`);
  return done;
}

function statefulSetStatus(statefulSet: V1StatefulSet): RolloutStatus {
  const strategy = statefulSet.spec?.updateStrategy;
  if (strategy?.type !== undefined && strategy.type !== 'RollingUpdate') {
    return {
      state: 'failed',
      reason: `its updateStrategy is ${strategy.type}: pods are replaced only when deleted, so delete them or switch to RollingUpdate`,
    };
  }
  if (!observed(statefulSet)) return progressing('the controller has not yet observed the new pod template');
  const status = statefulSet.status ?? { replicas: 0 };
  const replicas = statefulSet.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  if (ready < replicas) return progressing(`${ready} of ${replicas} pods ready`);
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  const updated = status.updatedReplicas ?? 0;
  if (updated < replicas - partition) {
    return progressing(
      `${updated} of ${replicas - partition} pods updated to revision ${status.updateRevision}`,
    );
  }
  // kubectl stops at the partition check. Without a partition we also want every pod on the new
  // revision, which the controller reports by making currentRevision equal to updateRevision.
  if (partition === 0 && status.currentRevision !== status.updateRevision) {
    return progressing(
      `pods still at revision ${status.currentRevision}, waiting for all at ${status.updateRevision}`,
    );
  }
  return done;
}

function daemonSetStatus(daemonSet: V1DaemonSet): RolloutStatus {
  const strategy = daemonSet.spec?.updateStrategy;
  if (strategy?.type !== undefined && strategy.type !== 'RollingUpdate') {
    return {
      state: 'failed',
      reason: `its updateStrategy is ${strategy.type}: pods are replaced only when deleted, so delete them or switch to RollingUpdate`,
    };
  }
  if (!observed(daemonSet)) return progressing('the controller has not yet observed the new pod template');
  const status = daemonSet.status;
  const desired = status?.desiredNumberScheduled ?? 0;
  const updated = status?.updatedNumberScheduled ?? 0;
  if (updated < desired) return progressing(`${updated} of ${desired} new pods scheduled`);
  const available = status?.numberAvailable ?? 0;
  if (available < desired) return progressing(`${available} of ${desired} updated pods available`);
  return done;
}
