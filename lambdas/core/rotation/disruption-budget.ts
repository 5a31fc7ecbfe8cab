// Which workloads of a restart wave may be restarted now without taking a service below what its
// PodDisruptionBudgets declare (docs/workflow.md, "PodDisruptionBudgets"). A `rollout restart` is not an
// eviction, so the API server does not hold it to a PDB; restart-workloads holds itself to it. Pure: the
// handler reads the budgets and the wave's workloads, these functions decide and word the refusal.
import { type LabelSelector, labelSelectorMatches } from './label-selector.js';
import type { WorkloadPosition } from './restart-progress.js';

/** A PodDisruptionBudget (policy/v1) as read from the cluster: what the rule needs of it. */
export interface DisruptionBudget {
  readonly namespace: string;
  readonly name: string;
  /** `spec.selector`; absent (null) selects no pod, `{}` every pod of the namespace (policy/v1). */
  readonly selector?: LabelSelector;
  /** `spec.minAvailable` or `spec.maxUnavailable` as written, for messages (`minAvailable: 2`). */
  readonly spec: string;
  /** `status.disruptionsAllowed` (0 when the disruption controller has not written a status). */
  readonly disruptionsAllowed: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedPods: number;
  /**
   * `status.observedGeneration` is older than `metadata.generation`: the status describes a spec that
   * changed since, so it allows nothing, as the eviction API refuses then.
   */
  readonly stale: boolean;
}

/** A workload of the wave, with what the rule needs of it. */
export interface WaveWorkload<T extends WorkloadPosition = WorkloadPosition> {
  readonly workload: T;
  /** Its pod template's labels: the labels of the pods a restart replaces. */
  readonly podLabels: Readonly<Record<string, string>>;
  /**
   * `pending`: not restarted by this restart yet; `rolling`: restarted by it, rollout not finished (it
   * takes pods down now); `done`: restarted and rolled out.
   */
  readonly state: 'pending' | 'rolling' | 'done';
  /**
   * How many pods its rollout may take down at once (rolloutWidth in rollout-width.ts); it counts as that
   * many disruptions, at least one, against each budget covering it.
   * @default 1
   */
  readonly rolloutPods?: number;
}

/** A workload the rule holds back, and the budget that holds it. */
export interface HeldWorkload<T extends WorkloadPosition = WorkloadPosition> {
  readonly workload: T;
  readonly budget: DisruptionBudget;
  /** Restarts of the wave covered by the same budget, in flight now (they use its allowance). */
  readonly rollingUnderBudget: number;
  /** The pods its rollout takes down at once, when more than one: what it waits for the budget to allow. */
  readonly rolloutPods?: number;
}

/** What the rule decided for a wave: restart these now, hold those. */
export interface WaveAdmission<T extends WorkloadPosition = WorkloadPosition> {
  readonly admitted: T[];
  readonly held: HeldWorkload<T>[];
}

/**
 * Whether a PDB selector selects pods with `labels`, as Kubernetes matches a LabelSelector. An absent
 * selector selects nothing; an empty one everything (policy/v1). An operator this code does not know
 * selects nothing here, which holds nothing back; the API server rejects such a selector anyway.
 */
export function selectorSelects(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return selector !== undefined && labelSelectorMatches(selector, labels) === true;
}

/** The budgets that cover a workload: same namespace, selector selecting its pod template's labels. */
export function budgetsCovering(
  workload: Pick<WaveWorkload, 'workload' | 'podLabels'>,
  budgets: readonly DisruptionBudget[],
): DisruptionBudget[] {
  return budgets.filter(
    (budget) =>
      budget.namespace === workload.workload.namespace &&
      selectorSelects(budget.selector, workload.podLabels),
  );
}

/**
 * The rule. Each restart counts as its rollout's width (the pods it may take down at once, at least one)
 * of disruptions against every budget that covers the workload, for as long as its rollout runs (a
 * rolling update replaces pods a few at a time, and the PDB counts pods). So a budget's allowance now is
 * `status.disruptionsAllowed` (0 when stale) less the widths of the wave's restarts it covers that are
 * still rolling out, and the wave's pending workloads, in wave order, are admitted while every budget
 * covering them has at least their width left, each admitted one using its width. A workload no budget
 * covers is admitted. Counting the wave's rolling restarts even when the status already shows them (it
 * lags) errs on the side of waiting: they stop counting once rolled out.
 */
export function admitWave<T extends WorkloadPosition>(
  wave: readonly WaveWorkload<T>[],
  budgets: readonly DisruptionBudget[],
): WaveAdmission<T> {
  const key = (budget: DisruptionBudget) => `${budget.namespace}/${budget.name}`;
  const allowance = new Map(budgets.map((b) => [key(b), b.stale ? 0 : Math.max(0, b.disruptionsAllowed)]));
  const rolling = new Map<string, number>();
  const cost = (item: WaveWorkload<T>) => Math.max(1, item.rolloutPods ?? 1);
  for (const item of wave.filter(({ state }) => state === 'rolling')) {
    for (const budget of budgetsCovering(item, budgets)) {
      allowance.set(key(budget), (allowance.get(key(budget)) ?? 0) - cost(item));
      rolling.set(key(budget), (rolling.get(key(budget)) ?? 0) + 1);
    }
  }
  const admitted: T[] = [];
  const held: HeldWorkload<T>[] = [];
  for (const item of wave.filter(({ state }) => state === 'pending')) {
    const covering = budgetsCovering(item, budgets);
    const blocking = covering.find((budget) => (allowance.get(key(budget)) ?? 0) < cost(item));
    if (blocking !== undefined) {
      held.push({
        workload: item.workload,
        budget: blocking,
        rollingUnderBudget: rolling.get(key(blocking)) ?? 0,
        ...(cost(item) > 1 && { rolloutPods: cost(item) }),
      });
      continue;
    }
    for (const budget of covering) {
      allowance.set(key(budget), (allowance.get(key(budget)) ?? 0) - cost(item));
      rolling.set(key(budget), (rolling.get(key(budget)) ?? 0) + 1);
    }
    admitted.push(item.workload);
  }
  return { admitted, held };
}

/**
 * The workloads a budget would hold back now, before any restart: those covered by a budget that
 * allows no disruption (or whose status is stale). What `meshtrust plan` warns of; the restart waits
 * for them (admitWave), up to the wave's rollout timeout.
 */
export function blockedNow<T extends WorkloadPosition>(
  workloads: readonly Pick<WaveWorkload<T>, 'workload' | 'podLabels'>[],
  budgets: readonly DisruptionBudget[],
): HeldWorkload<T>[] {
  return workloads.flatMap((item) => {
    const blocking = budgetsCovering(item, budgets).find(
      (budget) => budget.stale || budget.disruptionsAllowed <= 0,
    );
    return blocking === undefined
      ? []
      : [{ workload: item.workload, budget: blocking, rollingUnderBudget: 0 }];
  });
}

/**
 * `PodDisruptionBudget shop/web (minAvailable: 3) allows 0 disruptions: 2 of 3 expected pods healthy,
 * 3 required`, and why the wave counts less when its own restarts use the allowance.
 */
export function describeHeldWorkload(held: HeldWorkload<WorkloadPosition>): string {
  const { workload, budget, rollingUnderBudget } = held;
  const status = budget.stale
    ? 'its status predates its last spec change (observedGeneration < generation), so it allows none until the disruption controller catches up'
    : `allows ${budget.disruptionsAllowed} disruption(s): ${budget.currentHealthy} of ${budget.expectedPods} expected pods healthy, ${budget.desiredHealthy} required`;
  const inFlight =
    rollingUnderBudget > 0
      ? `; ${rollingUnderBudget} restart(s) of this wave under it still rolling out`
      : '';
  const width =
    held.rolloutPods === undefined
      ? ''
      : `; its rollout takes down ${held.rolloutPods} pods at once, so it waits until the budget allows ${held.rolloutPods}`;
  return `${workload.kind} ${workload.namespace}/${workload.name}: PodDisruptionBudget ${budget.namespace}/${budget.name} (${budget.spec}) ${status}${inFlight}${width}`;
}

/** What an operator can do about workloads a PDB still holds at the deadline. */
export function heldWorkloadsHint(held: readonly HeldWorkload<WorkloadPosition>[]): string {
  const first = held[0];
  const where = first === undefined ? '' : ` -n ${first.budget.namespace}`;
  const which = first === undefined ? '' : ` ${first.budget.name}`;
  return (
    `Make the budget allow a disruption: bring its pods back to ready (kubectl${where} get pdb${which}; ` +
    `kubectl${where} get pods), wait for the node drain or rollout that uses it to finish, or, if its owners ` +
    'agree, relax minAvailable/maxUnavailable for the rotation. The state machine retries the step; a ' +
    'workload already restarted is not restarted again.'
  );
}
