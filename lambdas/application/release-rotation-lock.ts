import { logger } from '../adapters/audit/logger.js';
import type { RotationMode } from '../core/plan/phases.js';
import { auditStateChange } from './audit-state-change.js';
import { deleteCacertsBackups } from './delete-cacerts-backups.js';
import type { RotationRuntime } from './runtime.js';

const PHASE = 'release-lock';

export interface ReleaseLockOutput {
  readonly lockId: string;
  /** This call removed the lock. */
  readonly released: boolean;
  /** Another execution holds it (it took over a lock this one had lost); left as it is. */
  readonly heldBy?: string;
  /** At the end of a succeeded rekey: clusters whose cacerts backup this call scheduled for deletion. */
  readonly backupsDeleted?: number;
}

/**
 * release-lock's sequence: the mesh's rotation lock released if `executionId` holds it (a lock another
 * execution holds is left and logged), audited `release-rotation-lock`; then, given mode `intermediate`
 * (the end of a succeeded rekey, which never reaches promote-root), the run's cacerts backups scheduled
 * for deletion. After the release, so that a deletion that fails cannot keep the lock.
 */
export async function releaseRotationLock(
  runtime: RotationRuntime,
  run: {
    readonly executionId: string;
    readonly mode?: RotationMode | null;
    /** The clusters the run worked on (preflight's), whose backups a succeeded rekey deletes. */
    readonly clusters: readonly { readonly name: string }[];
  },
): Promise<ReleaseLockOutput> {
  const { executionId } = run;
  const lock = runtime.lock();
  const outcome = await lock.release(executionId);
  const heldBy: { heldBy?: string } = outcome.heldBy === undefined ? {} : { heldBy: outcome.heldBy };
  if (outcome.heldBy !== undefined) {
    logger.warn('the rotation lock is held by another execution; left as it is', {
      lockId: lock.lockId,
      ...heldBy,
    });
  }
  auditStateChange({
    phase: PHASE,
    action: 'release-rotation-lock',
    executionId,
    outcome: outcome.released ? 'succeeded' : 'unchanged',
    detail: { lockId: lock.lockId, ...heldBy },
  });
  const backupsDeleted =
    run.mode === 'intermediate'
      ? await deleteCacertsBackups(runtime, { phase: PHASE, executionId, clusters: run.clusters })
      : undefined;
  return {
    lockId: lock.lockId,
    released: outcome.released,
    ...heldBy,
    ...(backupsDeleted !== undefined && { backupsDeleted }),
  };
}
