import type { FleetStrategyReview } from '../istio/rotation-strategy.js';
import { checkPlanInvariants } from '../plan/check-plan-invariants.js';
import type { ClusterTrustState, FleetState } from '../plan/fleet-state.js';
import type { RotationMode } from '../plan/phases.js';
import { PlanError } from '../plan/plan-errors.js';
import { planRotation } from '../plan/plan-rotation.js';
import type { RotationPlan } from '../plan/rotation-plan.js';
import type { ClusterReview } from './review-cluster-cacerts.js';

export interface PlanReviewedFleetInput {
  /** Fingerprint of the root the CA store holds as current. */
  readonly currentRoot: string;
  /** One review per cluster, none with problems (the caller refuses those first). */
  readonly reviews: readonly ClusterReview[];
  readonly mode: RotationMode;
  readonly cluster?: string;
  /** The clusters planned `resign` (preflight's strategies), which their steps say. @default none */
  readonly resign?: readonly string[];
}

export type PlanReviewedFleetResult =
  | { readonly ok: true; readonly plan: RotationPlan; readonly fleet: FleetState }
  | { readonly ok: false; readonly problem: string };

/**
 * The plan preflight computes and `meshtrust plan` prints, from reviewed clusters: planRotation, then
 * checkPlanInvariants. One function for both so the dry run cannot drift from what the workflow does.
 */
export function planReviewedFleet(input: PlanReviewedFleetInput): PlanReviewedFleetResult {
  const fleet: FleetState = {
    currentRoot: input.currentRoot,
    clusters: input.reviews.map((review) => review.trustState as ClusterTrustState),
  };
  let plan: RotationPlan;
  try {
    plan = planRotation({
      fleet,
      mode: input.mode,
      ...(input.cluster ? { cluster: input.cluster } : {}),
      ...(input.resign !== undefined && { resign: input.resign }),
    });
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    return {
      ok: false,
      problem: `No safe rotation plan for this fleet: ${error.message}. Nothing was written.`,
    };
  }
  const unsafe = checkPlanInvariants(plan, fleet).filter((finding) => finding.status === 'non-compliant');
  if (unsafe.length > 0) {
    return {
      ok: false,
      problem: `The rotation plan breaks its invariants: ${unsafe.map((f) => `${f.rule}: ${f.reason}`).join('; ')}. Nothing was written.`,
    };
  }
  return { ok: true, plan, fleet };
}

/** The clusters a strategy review planned `resign`, for planReviewedFleet. */
export function resignedClusters(review: Pick<FleetStrategyReview, 'strategies'>): string[] {
  return review.strategies.filter(({ strategy }) => strategy === 'resign').map(({ cluster }) => cluster);
}
