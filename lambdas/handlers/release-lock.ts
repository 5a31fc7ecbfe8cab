import { z } from 'zod';
import { logger } from '../adapters/audit/logger.js';
import { auditStateChange } from './runtime/audit-state-change.js';
import { executionIdSchema, parseInput } from './runtime/handler-input.js';
import { type LambdaContext, runHandler } from './runtime/run-handler.js';
import type { HandlerRuntime } from './runtime/runtime.js';

const PHASE = 'release-lock';

const inputSchema = z.object({ executionId: executionIdSchema });
export type ReleaseLockInput = z.infer<typeof inputSchema>;

export interface ReleaseLockOutput {
  readonly lockId: string;
  /** This call removed the lock. */
  readonly released: boolean;
  /** Another execution holds it (it took over a lock this one had lost); left as it is. */
  readonly heldBy?: string;
}

/**
 * release-lock: every end of a rotation (succeeded, rolled back, rollback failed, stopped) releases the
 * mesh's rotation lock, if this execution holds it. It never removes another execution's lock, and a
 * repeat finds nothing to release: both are answers, not errors, so the run ends as it would have.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<ReleaseLockOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler({ phase: PHASE, executionId: input.executionId, lambdaContext: context }, (runtime) =>
    releaseLock(input, runtime),
  );
}

async function releaseLock(input: ReleaseLockInput, runtime: HandlerRuntime): Promise<ReleaseLockOutput> {
  const { executionId } = input;
  const lock = runtime.lock();
  const outcome = await lock.release(executionId);
  if (outcome.heldBy !== undefined) {
    logger.warn('the rotation lock is held by another execution; left as it is', {
      lockId: lock.lockId,
      heldBy: outcome.heldBy,
    });
  }
  auditStateChange({
    phase: PHASE,
    action: 'release-rotation-lock',
    executionId,
    outcome: outcome.released ? 'succeeded' : 'unchanged',
    detail: { lockId: lock.lockId, ...(outcome.heldBy !== undefined && { heldBy: outcome.heldBy }) },
  });
  return {
    lockId: lock.lockId,
    released: outcome.released,
    ...(outcome.heldBy !== undefined && { heldBy: outcome.heldBy }),
  };
}
