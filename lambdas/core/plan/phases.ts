/**
 * The forward phases of a root rotation, in order. The names are the ones used for the state machine
 * states, the handler files, the audit events and the docs (DESIGN section 2), so a reader can find a
 * step by its name everywhere.
 */
export const PHASES = [
  'preflight',
  'stage-root',
  'distribute-bundle',
  'verify-trust',
  'reissue-intermediate',
  'restart-workloads',
  'soak',
  'retire-root',
] as const;

export type PhaseName = (typeof PHASES)[number];

/** The Catch path of the workflow (the audit events' phase). It never appears in a forward plan. */
export const ROLLBACK_PHASE = 'rollback';

/**
 * The stages of the rollback, in the order they run: the rotation walked back (trust A+B again, the
 * original intermediate, restart, the original cacerts, drop the pending root). Named like the state
 * machine states that run them, which run in every mode: a stage with nothing to undo is a no-op.
 */
export const ROLLBACK_PHASES = [
  'rollback-trust',
  'rollback-intermediate',
  'rollback-restart',
  'rollback-restore',
  'rollback-drop-pending',
] as const;

export type RollbackPhaseName = (typeof ROLLBACK_PHASES)[number];

export const ROTATION_MODES = ['scheduled', 'emergency', 'intermediate'] as const;

/**
 * - `scheduled`: new root, full order with one workload-cert TTL of soak before the old root retires.
 * - `emergency`: new root, no soak; all clusters restart at once and the old root retires after that.
 * - `intermediate`: rekey one cluster's intermediate under the current root; no new root.
 */
export type RotationMode = (typeof ROTATION_MODES)[number];
