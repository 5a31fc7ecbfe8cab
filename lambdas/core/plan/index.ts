export { checkPlanInvariants, PLAN_RULES, type PlanFinding, type PlanRule } from './check-plan-invariants.js';
export type { ClusterTrustState, FleetState } from './fleet-state.js';
export {
  EXECUTION_HISTORY_LIMIT,
  estimateHistoryEvents,
  HISTORY_EVENTS_PER_STATE,
  type HistoryEstimate,
  type HistoryEstimateInput,
  historyLimitProblem,
  SAFE_HISTORY_EVENTS,
  SAFE_HISTORY_SHARE,
} from './history-estimate.js';
export {
  PHASES,
  type PhaseName,
  ROLLBACK_PHASE,
  ROLLBACK_PHASES,
  ROTATION_MODES,
  type RollbackPhaseName,
  type RotationMode,
} from './phases.js';
export {
  InvalidFleetStateError,
  InvalidPlanRequestError,
  PlanError,
  UnknownClusterError,
} from './plan-errors.js';
export { NEW_ROOT_PLACEHOLDER, type PlanRotationInput, planRotation } from './plan-rotation.js';
export type {
  ClusterStep,
  FleetStep,
  PlannedPhase,
  PlannedRollbackStage,
  PlanStep,
  RotationPlan,
  WriteTarget,
} from './rotation-plan.js';
export { describeUnmanagedPod, unmanagedPodsNote } from './unmanaged-pods.js';
export { validateFleetState } from './validate-fleet-state.js';
