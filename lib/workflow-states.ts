/**
 * The state names of the rotation state machine, exactly as docs/workflow.md lists them. The
 * rehearsal's local runner overrides Task states by name, and operators find a step in the execution
 * history by the same name as its handler file and audit event `phase`.
 */
export const WORKFLOW_STATES = {
  inputDefaults: 'input-defaults',
  applyInputDefaults: 'apply-input-defaults',
  acquireLock: 'acquire-lock',
  preflight: 'preflight',
  mode: 'mode',
  unsupportedMode: 'unsupported-mode',
  stageRoot: 'stage-root',
  distributeBundle: 'distribute-bundle',
  verifyTrust: 'verify-trust',
  awaitProxyTrust: 'await-proxy-trust',
  approveReissue: 'approve-reissue',
  reissueIntermediate: 'reissue-intermediate',
  restartWorkloads: 'restart-workloads',
  verifyWorkloads: 'verify-workloads',
  afterWorkloads: 'after-workloads',
  soak: 'soak',
  approveRetire: 'approve-retire',
  retireRoot: 'retire-root',
  promoteRoot: 'promote-root',
  rollbackTrust: 'rollback-trust',
  rollbackIntermediate: 'rollback-intermediate',
  rollbackRestart: 'rollback-restart',
  rollbackRestore: 'rollback-restore',
  rollbackDropPending: 'rollback-drop-pending',
  releaseLock: 'release-lock',
  releaseLockAfterRollback: 'release-lock-after-rollback',
  releaseLockAfterFailedRollback: 'release-lock-after-failed-rollback',
  releaseLockAfterStop: 'release-lock-after-stop',
  rotationSucceeded: 'rotation-succeeded',
  rotationRolledBack: 'rotation-rolled-back',
  rotationFailed: 'rotation-failed',
  rotationStopped: 'rotation-stopped',
} as const;

export type WorkflowStateName = (typeof WORKFLOW_STATES)[keyof typeof WORKFLOW_STATES];

/**
 * The per-cluster Task inside a Map state. State names are unique across a state machine, so the
 * Task that runs `distribute-bundle` for one cluster is `distribute-bundle-in-cluster`.
 */
export function clusterTaskName(mapState: WorkflowStateName): string {
  return `${mapState}-in-cluster`;
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
  WORKFLOW_STATES.rollbackIntermediate,
  WORKFLOW_STATES.rollbackRestart,
  WORKFLOW_STATES.rollbackRestore,
] as const;

/** The rollback path's states, in the order they run: a failure in one ends the run in RollbackFailed. */
export const ROLLBACK_STATES = [
  WORKFLOW_STATES.rollbackTrust,
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
