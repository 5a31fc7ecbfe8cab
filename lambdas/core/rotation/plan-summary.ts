import type { RotationPlan } from '../plan/rotation-plan.js';

/** A plan small enough for a Step Functions payload: the decisions, not every step. */
export interface PlanSummary {
  readonly mode: RotationPlan['mode'];
  readonly currentRoot: string;
  readonly targetRoot: string;
  readonly clusters: readonly string[];
  readonly cluster?: string;
  readonly restart: RotationPlan['restart'];
  /** Phase names in order, with how many steps each has. */
  readonly phases: readonly { readonly name: string; readonly steps: number }[];
}

export function summarisePlan(plan: RotationPlan): PlanSummary {
  return {
    mode: plan.mode,
    currentRoot: plan.currentRoot,
    targetRoot: plan.targetRoot,
    clusters: [...plan.clusters],
    ...(plan.cluster !== undefined && { cluster: plan.cluster }),
    restart: plan.restart,
    phases: plan.phases.map((phase) => ({ name: phase.name, steps: phase.steps.length })),
  };
}
