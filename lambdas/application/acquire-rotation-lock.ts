import type { RotationPhase } from '../adapters/audit/audit-event.js';
import { logger } from '../adapters/audit/logger.js';
import type { LockAcquired } from '../adapters/lock/rotation-lock.js';
import type { RunRequest } from '../core/rotation/run-request.js';
import { RotationLocked } from '../core/rotation-errors.js';
import { auditStateChange } from './audit-state-change.js';
import type { RotationRuntime } from './runtime.js';

const ACTION = 'acquire-rotation-lock';

/** The rotation lock as acquire-lock took it. */
export interface AcquiredRotationLock {
  readonly lockId: string;
  readonly holder: string;
  readonly acquiredAt: string;
  /** taken: it was free; held: this execution held it already (a Retry); taken-over: see previousHolder. */
  readonly how: LockAcquired['how'];
  /** The execution that lost the lock because it no longer runs (taken-over only). */
  readonly previousHolder?: string;
}

/**
 * Takes the mesh's rotation lock for `executionId` (adapters/lock/rotation-lock.ts: a conditional write,
 * a stale holder taken over) and audits it as `acquire-rotation-lock` with who asked for the run and
 * why: refused with the holder when another execution holds it (RotationLocked, rethrown), unchanged
 * when this one held it already, succeeded otherwise; a takeover is also logged as a warning.
 */
export async function acquireRotationLock(
  runtime: Pick<RotationRuntime, 'lock'>,
  run: { readonly phase: RotationPhase; readonly executionId: string; readonly request: RunRequest },
): Promise<AcquiredRotationLock> {
  const { phase, executionId, request } = run;
  const lock = runtime.lock();
  let acquired: LockAcquired;
  try {
    acquired = await lock.acquire(executionId);
  } catch (error) {
    if (error instanceof RotationLocked) {
      auditStateChange({
        phase,
        action: ACTION,
        executionId,
        ...request.actor,
        outcome: 'refused',
        detail: {
          lockId: lock.lockId,
          ...(error.holder !== undefined && { holder: error.holder }),
          ...request.detail,
        },
      });
    }
    throw error;
  }
  const previousHolder = acquired.previous?.holder;
  if (previousHolder !== undefined) {
    logger.warn('took over the rotation lock of an execution that no longer runs', {
      lockId: lock.lockId,
      previousHolder,
      reason: acquired.reason,
    });
  }
  auditStateChange({
    phase,
    action: ACTION,
    executionId,
    ...request.actor,
    outcome: acquired.how === 'held' ? 'unchanged' : 'succeeded',
    detail: {
      lockId: lock.lockId,
      how: acquired.how,
      ...(previousHolder !== undefined && { previousHolder }),
      ...request.detail,
    },
  });
  return {
    lockId: lock.lockId,
    holder: acquired.holding.holder,
    acquiredAt: acquired.holding.acquiredAt,
    how: acquired.how,
    ...(previousHolder !== undefined && { previousHolder }),
  };
}
