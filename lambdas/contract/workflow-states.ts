/**
 * The state names of the rotation state machine (lib/rotation-state-machine.ts), declared here so that
 * the stack, the CLI and the handlers that read an execution's history (acquire-lock's check of a
 * resumed rollback) share them; lib/workflow-states.ts re-exports them with what only the stack needs.
 * Nothing here imports anything.
 *
 * They are exactly as docs/workflow.md lists them. The rehearsal's local runner overrides Task states by
 * name, and operators find a step in the execution history by the same name as its handler file and
 * audit event `phase`.
 */
export const WORKFLOW_STATES = {
  inputDefaults: 'input-defaults',
  applyInputDefaults: 'apply-input-defaults',
  executionContext: 'execution-context',
  acquireLock: 'acquire-lock',
  rotateOrResume: 'rotate-or-resume',
  resumeRollback: 'resume-rollback',
  resumeFrom: 'resume-from',
  resumePromotion: 'resume-promotion',
  unsupportedInput: 'unsupported-input',
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
  rollbackVerifyTrust: 'rollback-verify-trust',
  rollbackAwaitProxyTrust: 'rollback-await-proxy-trust',
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
