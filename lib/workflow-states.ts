import { WORKFLOW_STATES } from '../lambdas/contract/workflow-states.js';
import type { PhaseName, RollbackPhaseName } from '../lambdas/core/plan/phases.js';

export { WORKFLOW_STATES };

export type WorkflowStateName = (typeof WORKFLOW_STATES)[keyof typeof WORKFLOW_STATES];

/**
 * The per-cluster Task inside a Map state. State names are unique across a state machine, so the
 * Task that runs `distribute-bundle` for one cluster is `distribute-bundle-in-cluster`.
 */
export function clusterTaskName(mapState: WorkflowStateName): string {
  return `${mapState}-in-cluster`;
}

/**
 * The Maps whose per-cluster Task runs restart-workloads. Restarting a large cluster can take longer
 * than one invocation may run, so inside each Map the Task loops: it restarts the waves that fit in its
 * time and answers `done: false` with a cursor (into `$.progress`), and `<map>-waves-left` sends the
 * cluster back into the Task until the answer is `done: true`; `<map>-cluster-done` then ends the
 * cluster's iteration with that answer (docs/workflow.md, "Restart waves across invocations").
 */
export const RESTART_LOOP_MAP_STATES = [
  WORKFLOW_STATES.restartWorkloads,
  WORKFLOW_STATES.rollbackRestart,
] as const;

export type RestartLoopMapState = (typeof RESTART_LOOP_MAP_STATES)[number];

/** The Choice inside a restart Map: back into `<map>-in-cluster` while the cluster has waves left. */
export function clusterWavesLeftName(mapState: RestartLoopMapState): string {
  return `${mapState}-waves-left`;
}

/** The end of one cluster's restart inside a restart Map: its output is the handler's last answer. */
export function clusterDoneName(mapState: RestartLoopMapState): string {
  return `${mapState}-cluster-done`;
}

/**
 * The Map over verify-restored-trust's answers (`$.rollback.trustVerified`) that waits each cluster's
 * `proxyTrustWaitSeconds` at once: inside, `<map>-asks` sends an answer that names a wait to
 * `<map>-in-cluster` (Wait) and any other to `<map>-none` (Succeed), so an answer without the field (a
 * handler of an older release) waits nothing rather than failing the run with States.Runtime, which
 * no Catch takes.
 */
export function waitAsksName(mapState: typeof WORKFLOW_STATES.rollbackAwaitProxyTrust): string {
  return `${mapState}-asks`;
}

/** The end of an iteration of the wait Map that waits nothing (see waitAsksName). */
export function noWaitName(mapState: typeof WORKFLOW_STATES.rollbackAwaitProxyTrust): string {
  return `${mapState}-none`;
}

/** The Map states over `$.preflight.clusters`, in the order they run. */
export const CLUSTER_MAP_STATES = [
  WORKFLOW_STATES.distributeBundle,
  WORKFLOW_STATES.verifyTrust,
  WORKFLOW_STATES.reissueIntermediate,
  WORKFLOW_STATES.restartWorkloads,
  WORKFLOW_STATES.verifyWorkloads,
  WORKFLOW_STATES.retireRoot,
  WORKFLOW_STATES.rollbackTrust,
  WORKFLOW_STATES.rollbackVerifyTrust,
  WORKFLOW_STATES.rollbackIntermediate,
  WORKFLOW_STATES.rollbackRestart,
  WORKFLOW_STATES.rollbackRestore,
] as const;

/** The rollback path's states, in the order they run: a failure in one ends the run in RollbackFailed. */
export const ROLLBACK_STATES = [
  WORKFLOW_STATES.rollbackTrust,
  WORKFLOW_STATES.rollbackVerifyTrust,
  WORKFLOW_STATES.rollbackAwaitProxyTrust,
  WORKFLOW_STATES.rollbackIntermediate,
  WORKFLOW_STATES.rollbackRestart,
  WORKFLOW_STATES.rollbackRestore,
  WORKFLOW_STATES.rollbackDropPending,
] as const;

/**
 * The states that release the rotation lock, one before each end of a run that held it. A failure of
 * one is caught and the run ends as it would have: the lock then waits for a takeover.
 */
export const RELEASE_LOCK_STATES = [
  WORKFLOW_STATES.releaseLock,
  WORKFLOW_STATES.releaseLockAfterRollback,
  WORKFLOW_STATES.releaseLockAfterFailedRollback,
  WORKFLOW_STATES.releaseLockAfterStop,
] as const;

/** Errors every Task retries with backoff: ours (TransientError) and the Lambda service's own. */
export const TRANSIENT_ERRORS = [
  'TransientError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.TooManyRequestsException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * Errors of an invocation that Lambda stopped before it answered: its timeout (`States.Timeout` for a
 * Task whose Resource is the function ARN, `Sandbox.Timedout` as Lambda names it now) or an unhandled
 * failure Lambda could not name (`Lambda.Unknown`, which also covers a timeout). Retried only where the
 * step is idempotent and picks up where it stopped: restart-workloads, whose restart id keeps a
 * workload from being restarted twice. Anywhere else they go to the state's Catch, as before.
 */
export const INTERRUPTED_INVOCATION_ERRORS = [
  'States.Timeout',
  'Sandbox.Timedout',
  'Lambda.Unknown',
] as const;

/**
 * The phase of the rotation plan (`planRotation`, lambdas/core/plan) that each state carries out, or
 * null for a state that only moves the run along: input defaults, the rotation lock, mode choices,
 * approval gates and the ends. Several states may carry out one phase, one after the other:
 * - `await-proxy-trust` is the proxies' half of verify-trust (the plan's verify-trust step stands for
 *   "every workload of the cluster trusts the new set", which istiod's publication alone does not prove);
 *   `rollback-verify-trust` (istiod published the restored set, proxies with PCDS hold it) and
 *   `rollback-await-proxy-trust` (the others' renewal) are rollback-trust's wait, after its write;
 * - `verify-workloads` is the "wait until ready" of restart-workloads: every pod restarted and ready;
 * - `promote-root` is retire-root's fleet step, which the plan runs after every cluster's retire.
 * The infra test test/infra/plan-matches-state-machine.test.ts walks the synthesized definition for each
 * mode and requires `planPhaseOrder` of its forward and rollback paths to equal the plan's, so the
 * invariant checker (`checkPlanInvariants`) proves properties of the order that actually runs.
 */
export const PLAN_PHASE_OF_STATE = {
  [WORKFLOW_STATES.inputDefaults]: null,
  [WORKFLOW_STATES.applyInputDefaults]: null,
  [WORKFLOW_STATES.executionContext]: null,
  [WORKFLOW_STATES.acquireLock]: null,
  [WORKFLOW_STATES.rotateOrResume]: null,
  [WORKFLOW_STATES.resumeRollback]: null,
  [WORKFLOW_STATES.resumeFrom]: null,
  [WORKFLOW_STATES.resumePromotion]: null,
  [WORKFLOW_STATES.unsupportedInput]: null,
  [WORKFLOW_STATES.preflight]: 'preflight',
  [WORKFLOW_STATES.mode]: null,
  [WORKFLOW_STATES.unsupportedMode]: null,
  [WORKFLOW_STATES.stageRoot]: 'stage-root',
  [WORKFLOW_STATES.distributeBundle]: 'distribute-bundle',
  [WORKFLOW_STATES.verifyTrust]: 'verify-trust',
  [WORKFLOW_STATES.awaitProxyTrust]: 'verify-trust',
  [WORKFLOW_STATES.approveReissue]: null,
  [WORKFLOW_STATES.reissueIntermediate]: 'reissue-intermediate',
  [WORKFLOW_STATES.restartWorkloads]: 'restart-workloads',
  [WORKFLOW_STATES.verifyWorkloads]: 'restart-workloads',
  [WORKFLOW_STATES.afterWorkloads]: null,
  [WORKFLOW_STATES.soak]: 'soak',
  [WORKFLOW_STATES.approveRetire]: null,
  [WORKFLOW_STATES.retireRoot]: 'retire-root',
  [WORKFLOW_STATES.promoteRoot]: 'retire-root',
  [WORKFLOW_STATES.rollbackTrust]: 'rollback-trust',
  [WORKFLOW_STATES.rollbackVerifyTrust]: 'rollback-trust',
  [WORKFLOW_STATES.rollbackAwaitProxyTrust]: 'rollback-trust',
  [WORKFLOW_STATES.rollbackIntermediate]: 'rollback-intermediate',
  [WORKFLOW_STATES.rollbackRestart]: 'rollback-restart',
  [WORKFLOW_STATES.rollbackRestore]: 'rollback-restore',
  [WORKFLOW_STATES.rollbackDropPending]: 'rollback-drop-pending',
  [WORKFLOW_STATES.releaseLock]: null,
  [WORKFLOW_STATES.releaseLockAfterRollback]: null,
  [WORKFLOW_STATES.releaseLockAfterFailedRollback]: null,
  [WORKFLOW_STATES.releaseLockAfterStop]: null,
  [WORKFLOW_STATES.rotationSucceeded]: null,
  [WORKFLOW_STATES.rotationRolledBack]: null,
  [WORKFLOW_STATES.rotationFailed]: null,
  [WORKFLOW_STATES.rotationStopped]: null,
} as const satisfies Record<WorkflowStateName, PhaseName | RollbackPhaseName | null>;

/**
 * The plan phases a run through `states` (state names in the order they ran) carries out: each state
 * mapped by PLAN_PHASE_OF_STATE, states without a phase left out, and consecutive states of one phase
 * counted once. A phase whose states are not consecutive appears twice, as it ran.
 */
export function planPhaseOrder(states: readonly string[]): (PhaseName | RollbackPhaseName)[] {
  const order: (PhaseName | RollbackPhaseName)[] = [];
  for (const state of states) {
    if (!Object.hasOwn(PLAN_PHASE_OF_STATE, state)) {
      throw new RangeError(`state ${state} is not a state of the rotation state machine (WORKFLOW_STATES)`);
    }
    const phase = PLAN_PHASE_OF_STATE[state as WorkflowStateName];
    if (phase !== null && order[order.length - 1] !== phase) order.push(phase);
  }
  return order;
}
