// Whether one workload holds certificates of the new intermediate (verify-workloads): restarted by this
// rotation, its rollout done and its pods ready and younger than the restart; or, not restarted in a
// root rotation, each of its pods ready and serving a leaf under the new root. Judged on the cluster's
// lists that found the workloads (findInjected): a cluster of a hundred workloads is five or six lists,
// not a read and a pod list per workload. The findings are
// lambdas/core/rotation/workload-move-findings.ts's.
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import type { InjectedWorkloads } from '../adapters/kube/injected-workloads.js';
import { describeWorkload, WORKLOADS_AT_ONCE, type WorkloadRef } from '../adapters/kube/workload-ref.js';
import {
  podsSelectedBy,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  unfinishedRollout,
} from '../adapters/kube/workload-restart.js';
import { workloadKey } from '../core/rotation/proxied-pod-owners.js';
import {
  notRestartedFinding,
  resignedPodFindings,
  restartedPodFindings,
  uncheckedFinding,
} from '../core/rotation/workload-move-findings.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import type { NewRootLookup } from './new-root-published.js';
import { readServedUnderRoot } from './served-under-root.js';

/** What the cluster's lists said when they found the workloads: each workload and every pod. */
export type ListedCluster = Pick<InjectedWorkloads, 'listed' | 'pods'>;

export interface WorkloadCheck {
  readonly problems: readonly string[];
  /** Pods looked at. */
  readonly pods: number;
}

/**
 * Checks one injected workload of `cluster` (the lists that found it). `newRoot`: the new root of a
 * root rotation (absent: a workload this rotation did not restart is a problem as such).
 */
export async function checkWorkloadMoved(
  client: ClusterClient,
  cluster: ListedCluster,
  ref: WorkloadRef,
  options: { readonly restartId: string; readonly newRoot: NewRootLookup | undefined },
): Promise<WorkloadCheck> {
  const what = describeWorkload(ref);
  const workload = cluster.listed.get(workloadKey(ref.kind, ref.namespace, ref.name));
  if (workload === undefined) {
    // Cannot happen with findInjected's lists (they found it); a gate that cannot judge refuses.
    throw new VerificationFailed(
      `${what} in cluster ${client.name} is not among the workloads its lists returned.`,
      {
        cluster: client.name,
      },
    );
  }
  const template = workload.spec?.template.metadata?.annotations ?? {};
  const selected = () => podsSelectedBy(client.name, ref, workload, cluster.pods);
  if (template[RESTART_ID_ANNOTATION] === options.restartId) {
    // The rollout judged on the same lists as its pods.
    const unfinished = unfinishedRollout(client.name, ref, workload);
    if (unfinished !== undefined) return { problems: [unfinished], pods: 0 };
    const pods = selected();
    const restartedAt = template[RESTARTED_AT_ANNOTATION];
    return {
      problems: restartedPodFindings({ what, namespace: ref.namespace }, pods, restartedAt),
      pods: pods.length,
    };
  }
  if (options.newRoot === undefined) return { problems: [notRestartedFinding(what)], pods: 0 };
  // Not restarted: it passes only if each of its proxies re-signed under the new root.
  const root = await options.newRoot();
  if ('problems' in root) return { problems: [...root.problems, uncheckedFinding(what)], pods: 0 };
  const served = [];
  for (const pod of selected()) {
    const podRef = { namespace: ref.namespace, name: pod.name };
    served.push(pod.ready ? { ...pod, served: await readServedUnderRoot(client, podRef, root) } : pod);
  }
  return { problems: resignedPodFindings({ what, namespace: ref.namespace }, served), pods: served.length };
}

/**
 * Every workload's check, a few at once (a workload this rotation did not restart has each proxy's
 * served certificate read through its pod's port), their problems in the workloads' order and the pods
 * looked at.
 */
export async function checkWorkloadsMoved<W>(
  workloads: readonly W[],
  checkOne: (workload: W) => Promise<WorkloadCheck>,
): Promise<WorkloadCheck> {
  const checks = await mapWithConcurrency(workloads, WORKLOADS_AT_ONCE, checkOne);
  return {
    problems: checks.flatMap((checked) => checked.problems),
    pods: checks.reduce((sum, checked) => sum + checked.pods, 0),
  };
}
