// How many pods a workload's own rollout may take down at once, and whether that is more than a
// PodDisruptionBudget covering it ever allows (issue 12). A `rollout restart` is a rollout, not an
// eviction: the API server holds it to the workload's strategy (Deployment and DaemonSet
// `spec.strategy`/`updateStrategy.rollingUpdate.maxUnavailable`), never to a PDB. restart-workloads
// restarts a workload only while its budgets allow that many disruptions (admitWave), and preflight
// refuses a workload whose rollout takes down more than its budget allows at most, since waiting could
// never help. Pure: the adapters read the objects, these functions resolve and judge.
import { budgetsCovering, type DisruptionBudget, type WaveWorkload } from './disruption-budget.js';
import type { WorkloadPosition } from './restart-progress.js';

/** A workload's update strategy as written (apps/v1), with the replica count its percentages resolve against. */
export interface RolloutStrategy {
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  /** `RollingUpdate` (the default), `Recreate` (Deployment) or `OnDelete` (StatefulSet, DaemonSet). */
  readonly type?: string;
  readonly maxUnavailable?: number | string;
  readonly maxSurge?: number | string;
  /** Deployment and StatefulSet `spec.replicas` (default 1); DaemonSet `status.desiredNumberScheduled`. */
  readonly replicas: number;
}

/** How many pods the rollout may take down at once, and what in the strategy says so, for messages. */
export interface RolloutWidth {
  readonly pods: number;
  /** `maxUnavailable: 25% of 12 replicas`, `strategy Recreate, 4 replicas`. */
  readonly written: string;
}

/**
 * The pods a rollout of `strategy` may take down at once, as the controllers resolve it: a Deployment's
 * maxUnavailable (default 25%) rounds down and its maxSurge (default 25%) up, and when both come to 0
 * one pod may be unavailable (the API refuses both 0 as written); a DaemonSet's maxUnavailable (default
 * 1) rounds up; a StatefulSet's (default 1, honoured with the MaxUnavailableStatefulSet feature) rounds
 * up, at least 1. A Deployment's Recreate takes every replica down. OnDelete restarts nothing by itself:
 * undefined. RangeError for a percentage or number that is not one.
 */
export function rolloutWidth(strategy: RolloutStrategy): RolloutWidth | undefined {
  const { kind, type = 'RollingUpdate', replicas } = strategy;
  if (type === 'OnDelete') return undefined;
  if (kind === 'Deployment' && type === 'Recreate') {
    return { pods: replicas, written: `strategy Recreate, ${replicas} replica(s)` };
  }
  const written = (value: number | string) =>
    `maxUnavailable: ${value}${typeof value === 'string' ? ` of ${replicas} replica(s)` : ''}`;
  switch (kind) {
    case 'Deployment': {
      const maxUnavailable = strategy.maxUnavailable ?? '25%';
      const unavailable = scaled(maxUnavailable, replicas, false);
      const surge = scaled(strategy.maxSurge ?? '25%', replicas, true);
      return { pods: unavailable === 0 && surge === 0 ? 1 : unavailable, written: written(maxUnavailable) };
    }
    case 'DaemonSet': {
      const maxUnavailable = strategy.maxUnavailable ?? 1;
      return { pods: scaled(maxUnavailable, replicas, true), written: written(maxUnavailable) };
    }
    case 'StatefulSet': {
      const maxUnavailable = strategy.maxUnavailable ?? 1;
      return { pods: Math.max(1, scaled(maxUnavailable, replicas, true)), written: written(maxUnavailable) };
    }
  }
}

/** An int-or-percent against `total`, as Kubernetes' GetScaledValueFromIntOrPercent. */
function scaled(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`expected a count >= 0, got ${value}`);
    return value;
  }
  const match = /^(\d+)%$/.exec(value.trim());
  if (match === null) {
    if (/^\d+$/.test(value.trim())) return Number(value.trim());
    throw new RangeError(`expected a count or a percentage such as 25%, got ${JSON.stringify(value)}`);
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * The most disruptions a budget ever allows: `expectedPods - desiredHealthy` from its status (the
 * disruption controller resolves minAvailable/maxUnavailable and percentages against the pods it
 * covers). Undefined while the status says nothing yet (stale, or no pod expected).
 */
export function budgetTolerance(budget: DisruptionBudget): number | undefined {
  if (budget.stale || budget.expectedPods <= 0) return undefined;
  return Math.max(0, budget.expectedPods - budget.desiredHealthy);
}

/** A workload whose own rollout takes down more pods at once than a budget covering it ever allows. */
export interface RolloutOverBudget<T extends WorkloadPosition = WorkloadPosition> {
  readonly workload: T;
  readonly width: RolloutWidth;
  readonly budget: DisruptionBudget;
  readonly tolerance: number;
}

/**
 * The workloads a restart could only take below a budget: their rollout takes down more than one pod
 * at once (wider than the one disruption the wave rule counts a restart as) and more than a budget
 * covering them allows at most. Waiting cannot help, since the budget never allows that many, so
 * preflight refuses them. A rollout of one pod at a time under a budget that allows none is not here: the
 * restart waits for its owners to relax the budget, up to the rollout timeout (docs/workflow.md).
 */
export function rolloutsOverBudget<T extends WorkloadPosition>(
  workloads: readonly (Pick<WaveWorkload<T>, 'workload' | 'podLabels'> & { readonly width?: RolloutWidth })[],
  budgets: readonly DisruptionBudget[],
): RolloutOverBudget<T>[] {
  return workloads.flatMap(({ workload, podLabels, width }) => {
    if (width === undefined || width.pods <= 1) return [];
    for (const budget of budgetsCovering({ workload, podLabels }, budgets)) {
      const tolerance = budgetTolerance(budget);
      if (tolerance !== undefined && width.pods > tolerance) return [{ workload, width, budget, tolerance }];
    }
    return [];
  });
}

/**
 * `Deployment shop/web: its rollout takes down up to 3 pods at once (maxUnavailable: 25% of 12
 * replica(s)), but PodDisruptionBudget shop/web (minAvailable: 10) allows at most 2 ...`, with what to
 * change.
 */
export function describeRolloutOverBudget(found: RolloutOverBudget<WorkloadPosition>): string {
  const { workload, width, budget, tolerance } = found;
  return (
    `${workload.kind} ${workload.namespace}/${workload.name}: its rollout takes down up to ${width.pods} pods at once ` +
    `(${width.written}), but PodDisruptionBudget ${budget.namespace}/${budget.name} (${budget.spec}) allows at most ` +
    `${tolerance} disruption(s) (${budget.desiredHealthy} of ${budget.expectedPods} expected pods required), and a ` +
    'rollout restart is not held to a PodDisruptionBudget, so restarting it would take its pods below the budget. ' +
    `Set its strategy's maxUnavailable to ${tolerance} or less (maxSurge starts new pods first instead), ` +
    "or, if the budget's owners agree, relax the PodDisruptionBudget; then start again"
  );
}
