// Whether one workload holds certificates of the new intermediate (verify-workloads): restarted by this
// rotation, its rollout done and its pods ready and younger than the restart; or, not restarted in a
// root rotation, each of its pods ready and serving a leaf under the new root. The findings are
// lambdas/core/rotation/workload-move-findings.ts's.
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { callKube } from '../adapters/kube/kube-call.js';
import {
  describeWorkload,
  readWorkload,
  WORKLOADS_AT_ONCE,
  type Workload,
  type WorkloadRef,
} from '../adapters/kube/workload-ref.js';
import {
  listSelectedPods,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  unfinishedRollout,
} from '../adapters/kube/workload-restart.js';
import {
  notRestartedFinding,
  resignedPodFindings,
  restartedPodFindings,
  uncheckedFinding,
} from '../core/rotation/workload-move-findings.js';
import type { NewRootLookup } from './new-root-published.js';
import { readServedUnderRoot } from './served-under-root.js';

export interface WorkloadCheck {
  readonly problems: readonly string[];
  /** Pods looked at. */
  readonly pods: number;
}

/**
 * Checks one injected workload. `newRoot`: the new root of a root rotation (absent: a workload this
 * rotation did not restart is a problem as such).
 */
export async function checkWorkloadMoved(
  client: ClusterClient,
  ref: WorkloadRef,
  options: { readonly restartId: string; readonly newRoot: NewRootLookup | undefined },
): Promise<WorkloadCheck> {
  const what = describeWorkload(ref);
  const workload = await callKube(client, `read ${what}`, () => readWorkload(client, ref));
  const template = workload.spec?.template.metadata?.annotations ?? {};
  if (template[RESTART_ID_ANNOTATION] === options.restartId) {
    return checkRestarted(client, ref, workload, template[RESTARTED_AT_ANNOTATION]);
  }
  if (options.newRoot === undefined) return { problems: [notRestartedFinding(what)], pods: 0 };
  // Not restarted: it passes only if each of its proxies re-signed under the new root.
  const root = await options.newRoot();
  if ('problems' in root) return { problems: [...root.problems, uncheckedFinding(what)], pods: 0 };
  const pods = [];
  for (const pod of await listSelectedPods(client, ref, workload)) {
    const podRef = { namespace: ref.namespace, name: pod.name };
    pods.push(pod.ready ? { ...pod, served: await readServedUnderRoot(client, podRef, root) } : pod);
  }
  return { problems: resignedPodFindings({ what, namespace: ref.namespace }, pods), pods: pods.length };
}

/**
 * Every workload's check, a few at once (each is a few reads waiting on the API server; one at a time
 * they were most of a large cluster's verify-workloads, docs/performance.md): their problems in the
 * workloads' order and the pods looked at.
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

async function checkRestarted(
  client: ClusterClient,
  ref: WorkloadRef,
  workload: Workload,
  restartedAt: string | undefined,
): Promise<WorkloadCheck> {
  // The rollout judged on the read that found the restart: one read and one pod list per workload.
  const unfinished = unfinishedRollout(client.name, ref, workload);
  if (unfinished !== undefined) return { problems: [unfinished], pods: 0 };
  const pods = await listSelectedPods(client, ref, workload);
  return {
    problems: restartedPodFindings(
      { what: describeWorkload(ref), namespace: ref.namespace },
      pods,
      restartedAt,
    ),
    pods: pods.length,
  };
}
