import { z } from 'zod';
import { logger } from '../adapters/audit/logger.js';
import type { LockAcquired } from '../adapters/lock/rotation-lock.js';
import { RotationLocked } from '../core/rotation-errors.js';
import { auditStateChange } from './runtime/audit-state-change.js';
import { executionIdSchema, parseInput } from './runtime/handler-input.js';
import { runHandler } from './runtime/run-handler.js';
import type { HandlerRuntime } from './runtime/runtime.js';

const PHASE = 'acquire-lock';
const ACTION = 'acquire-rotation-lock';

const inputSchema = z.object({ executionId: executionIdSchema });
export type AcquireLockInput = z.infer<typeof inputSchema>;

export interface AcquireLockOutput {
  readonly lockId: string;
  readonly holder: string;
  readonly acquiredAt: string;
  /** taken: it was free; held: this execution held it already (a Retry); taken-over: see previousHolder. */
  readonly how: LockAcquired['how'];
  /** The execution that lost the lock because it no longer runs (taken-over only). */
  readonly previousHolder?: string;
}

/**
 * acquire-lock: the first Task of every rotation takes the mesh's rotation lock for its execution, so
 * no two rotations of one mesh ever write at once. Held by another execution that still runs (or
 * stopped less than a function timeout ago): RotationLocked naming it, nothing written, and the state
 * machine ends the run there. Idempotent: the holder taking it again gets it.
 */
export async function handler(event: unknown): Promise<AcquireLockOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler({ phase: PHASE, executionId: input.executionId }, (runtime) =>
    acquireLock(input, runtime),
  );
}

async function acquireLock(input: AcquireLockInput, runtime: HandlerRuntime): Promise<AcquireLockOutput> {
  const { executionId } = input;
  const lock = runtime.lock();
  let acquired: LockAcquired;
  try {
    acquired = await lock.acquire(executionId);
  } catch (error) {
    if (error instanceof RotationLocked) {
      auditStateChange({
        phase: PHASE,
        action: ACTION,
        executionId,
        outcome: 'refused',
        detail: { lockId: lock.lockId, ...(error.holder !== undefined && { holder: error.holder }) },
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
    phase: PHASE,
    action: ACTION,
    executionId,
    outcome: acquired.how === 'held' ? 'unchanged' : 'succeeded',
    detail: {
      lockId: lock.lockId,
      how: acquired.how,
      ...(previousHolder !== undefined && { previousHolder }),
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
