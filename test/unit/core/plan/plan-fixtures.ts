// Builders shared by the plan tests: small fleets with readable fingerprints, and plan surgery that
// keeps plans plain data (a reordered plan puts each step in a phase of its own, so the listed order is
// the execution order).
import type { PlanFinding } from '../../../../lambdas/core/plan/check-plan-invariants.js';
import type { ClusterTrustState, FleetState } from '../../../../lambdas/core/plan/fleet-state.js';
import type { PlanStep, RotationPlan } from '../../../../lambdas/core/plan/rotation-plan.js';

export const ROOT_A = 'aa:aa:aa';
export const ROOT_B = 'bb:bb:bb';

export function cluster(name: string, overrides: Partial<ClusterTrustState> = {}): ClusterTrustState {
  return {
    name,
    trustedRoots: [ROOT_A],
    intermediate: `int-${name}`,
    intermediateIssuerRoot: ROOT_A,
    namespaces: ['istio-system', 'shop'],
    ...overrides,
  };
}

export function fleetOf(...names: string[]): FleetState {
  return { currentRoot: ROOT_A, clusters: names.map((name) => cluster(name)) };
}

export function stepsOf(plan: RotationPlan): PlanStep[] {
  return plan.phases.flatMap((phase) => phase.steps);
}

export function withSteps(plan: RotationPlan, steps: PlanStep[]): RotationPlan {
  return { ...plan, phases: steps.map((step) => ({ name: step.phase, steps: [step] })) };
}

/** Moves the step `id` to just before the step `beforeId`. */
export function moveBefore(plan: RotationPlan, id: string, beforeId: string): RotationPlan {
  const steps = stepsOf(plan);
  const moved = steps.find((s) => s.id === id);
  if (moved === undefined) throw new Error(`no step ${id}`);
  const rest = steps.filter((s) => s.id !== id);
  const at = rest.findIndex((s) => s.id === beforeId);
  if (at < 0) throw new Error(`no step ${beforeId}`);
  return withSteps(plan, [...rest.slice(0, at), moved, ...rest.slice(at)]);
}

/** Moves the step `id` to just after the step `afterId`. */
export function moveAfter(plan: RotationPlan, id: string, afterId: string): RotationPlan {
  const steps = stepsOf(plan);
  const moved = steps.find((s) => s.id === id);
  if (moved === undefined) throw new Error(`no step ${id}`);
  const rest = steps.filter((s) => s.id !== id);
  const at = rest.findIndex((s) => s.id === afterId);
  if (at < 0) throw new Error(`no step ${afterId}`);
  return withSteps(plan, [...rest.slice(0, at + 1), moved, ...rest.slice(at + 1)]);
}

export function nonCompliant(findings: PlanFinding[]): PlanFinding[] {
  return findings.filter((f) => f.status === 'non-compliant');
}
