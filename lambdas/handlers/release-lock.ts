import { z } from 'zod';
import { logger } from '../adapters/audit/logger.js';
import { auditStateChange } from '../application/audit-state-change.js';
import { deleteCacertsBackups, workedClustersSchema } from '../application/delete-cacerts-backups.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { executionIdSchema, modeSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'release-lock';

const inputSchema = z.object({
  executionId: executionIdSchema,
  /**
   * Given (with `clusters`) only at the end of a run that succeeded: an intermediate rekey's cacerts
   * backups are deleted here, since that mode never reaches promote-root, which deletes a root rotation's.
   */
  mode: modeSchema.nullable().optional(),
  /** The clusters the run worked on (preflight's), whose backups a succeeded rekey deletes. */
  clusters: workedClustersSchema,
});
export type ReleaseLockInput = z.infer<typeof inputSchema>;

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
 * release-lock: every end of a rotation (succeeded, rolled back, rollback failed, stopped) releases the
 * mesh's rotation lock, if this execution holds it. It never removes another execution's lock, and a
 * repeat finds nothing to release: both are answers, not errors, so the run ends as it would have.
 * At the end of a succeeded intermediate rekey it then schedules the deletion of the execution's cacerts
 * backups (the replaced intermediates' keys): the rekeyed cluster was restarted and verified, nothing can
 * roll the run back any more. After the release, so that a deletion that fails cannot keep the lock.
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
  const backupsDeleted =
    input.mode === 'intermediate'
      ? await deleteCacertsBackups(runtime, { phase: PHASE, executionId, clusters: input.clusters })
      : undefined;
  return {
    lockId: lock.lockId,
    released: outcome.released,
    ...(outcome.heldBy !== undefined && { heldBy: outcome.heldBy }),
    ...(backupsDeleted !== undefined && { backupsDeleted }),
  };
}
