// The PodDisruptionBudgets (policy/v1) restart-workloads holds its restarts to, and what the budget rule
// (lambdas/core/rotation/disruption-budget.ts) needs to know of a wave's workloads: their pod template's
// labels, whether this restart restarted them already, whether that rollout is still running, and how
// many pods their rollout takes down at once.

import type { DisruptionBudget, WaveWorkload } from '../../core/rotation/disruption-budget.js';
import { workloadKey } from '../../core/rotation/proxied-pod-owners.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import { POD_DISRUPTION_BUDGETS, type V1PodDisruptionBudget } from './kube-objects.js';
import { rolloutStatusOf } from './rollout-status.js';
import { rolloutWidthOf } from './rollout-strategy.js';
import { readWorkloads } from './workload-reads.js';
import { RESTART_ID_ANNOTATION, type WorkloadRef } from './workload-ref.js';

/** Every PodDisruptionBudget of the cluster (one cluster-wide list). */
export async function listDisruptionBudgets(client: ClusterClient): Promise<DisruptionBudget[]> {
  const list = await callKube(client, 'list poddisruptionbudgets', () =>
    client.api.list(POD_DISRUPTION_BUDGETS),
  );
  return list.items.map(toDisruptionBudget);
}

export function toDisruptionBudget(pdb: V1PodDisruptionBudget): DisruptionBudget {
  const spec = pdb.spec ?? {};
  const status = pdb.status;
  const selector = spec.selector ?? undefined;
  return {
    namespace: pdb.metadata?.namespace ?? '',
    name: pdb.metadata?.name ?? '',
    ...(selector !== undefined && {
      selector: {
        ...(selector.matchLabels !== undefined && { matchLabels: selector.matchLabels }),
        ...(selector.matchExpressions !== undefined && {
          matchExpressions: selector.matchExpressions.map(({ key, operator, values }) => ({
            key,
            operator,
            ...(values !== undefined && { values }),
          })),
        }),
      },
    }),
    spec:
      spec.maxUnavailable !== undefined
        ? `maxUnavailable: ${spec.maxUnavailable}`
        : `minAvailable: ${spec.minAvailable ?? 1}`,
    disruptionsAllowed: status?.disruptionsAllowed ?? 0,
    currentHealthy: status?.currentHealthy ?? 0,
    desiredHealthy: status?.desiredHealthy ?? 0,
    expectedPods: status?.expectedPods ?? 0,
    // No status yet, or one for an older spec: the eviction API would refuse too.
    stale: status === undefined || (status.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0),
  };
}

/**
 * The wave's workloads as the budget rule sees them now: pod template labels, and `pending` (not
 * restarted by `restartId` yet), `rolling` or `done`. Only those in `namespaces` are read (where a budget
 * is), with workload-reads.ts (a list per namespace and kind of two or more); the others are `pending`
 * with no labels, which no budget can cover.
 */
export async function readWaveWorkloads<T extends WorkloadRef>(
  client: ClusterClient,
  wave: readonly T[],
  restartId: string,
  namespaces: ReadonlySet<string>,
): Promise<WaveWorkload<T>[]> {
  const read = await readWorkloads(
    client,
    wave.filter((workload) => namespaces.has(workload.namespace)),
  );
  return wave.map((workload): WaveWorkload<T> => {
    const object = read.get(workloadKey(workload.kind, workload.namespace, workload.name));
    if (object === undefined) return { workload, podLabels: {}, state: 'pending' };
    const template = object.spec?.template.metadata;
    const podLabels = { ...template?.labels };
    // What its rollout may take down at once: it waits until its budgets allow that many.
    const width = rolloutWidthOf(workload.kind, object);
    const rolloutPods = width !== undefined && width.pods > 1 ? { rolloutPods: width.pods } : {};
    if (template?.annotations?.[RESTART_ID_ANNOTATION] !== restartId) {
      return { workload, podLabels, state: 'pending', ...rolloutPods };
    }
    const rollout = rolloutStatusOf(workload.kind, object);
    return { workload, podLabels, state: rollout.state === 'done' ? 'done' : 'rolling', ...rolloutPods };
  });
}
