import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import * as z from '../adapters/zod.js';
import { workedClustersSchema } from '../application/delete-cacerts-backups.js';
import { type ReleaseLockOutput, releaseRotationLock } from '../application/release-rotation-lock.js';
import { executionIdSchema, modeSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { ReleaseLockOutput } from '../application/release-rotation-lock.js';

const PHASE = 'release-lock';

const inputSchema = z.object({
  executionId: executionIdSchema,
  /**
   * Given (with `clusters`) only at the end of a run that succeeded: an intermediate rekey's cacerts
   * backups are deleted here, since that mode never reaches promote-root, which deletes a root rotation's.
   */
  mode: z.optional(z.nullable(modeSchema)),
  /** The clusters the run worked on (preflight's), whose backups a succeeded rekey deletes. */
  clusters: workedClustersSchema,
});
export type ReleaseLockInput = z.infer<typeof inputSchema>;

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
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      lambdaContext: context,
      connectLock: connectRotationLock,
    },
    (runtime) => releaseRotationLock(runtime, input),
  );
}
