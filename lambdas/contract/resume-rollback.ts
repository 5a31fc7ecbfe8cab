/**
 * Resuming a rollback that failed (docs/deploy.md, "Failed rollback"): the names the state machine
 * (lib/rotation-state-machine.ts), the rollback handlers and the CLI (`meshtrust retry-rollback`) share.
 * A run that ends in RollbackFailed cannot be redriven into its rollback (it ended at a Fail state after
 * the Catch), so a new execution is started whose input carries what the rollback stages read of the
 * failed run's state; it takes the lock and goes straight to rollback-trust. Every lookup of the
 * rollback (cacerts backups, the staged root, the intermediates it stored, restart ids) is by the
 * execution whose writes are undone, named in the state as `rollbackOf`; the lock and the audit events
 * belong to the execution that runs. The value's shape, and how it is read from the failed run's final
 * state, is lambdas/core/rotation/resume-rollback.ts. Nothing here imports anything.
 */

/** Execution input key: what a resumed rollback needs of the failed run's state (core ResumeRollback). */
export const RESUME_ROLLBACK_INPUT_KEY = 'resumeRollback';

/**
 * State key, and the rollback handlers' event key: the execution whose writes the rollback undoes.
 * null in a rotation (its rollback undoes its own writes); the failed rotation's id in a resumed rollback.
 */
export const ROLLBACK_OF_KEY = 'rollbackOf';

/** The error of the Fail state a run ends in when its rollback did not complete. */
export const ROLLBACK_FAILED_ERROR = 'RollbackFailed';
