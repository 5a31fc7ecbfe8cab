import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import { connectExecutions } from '../adapters/stepfunctions/connect-executions.js';
import * as z from '../adapters/zod.js';
import { type AcquiredRotationLock, acquireRotationLock } from '../application/acquire-rotation-lock.js';
import { checkResumedPromotionRun, checkResumedRollback } from '../application/resumed-run-check.js';
import type { RotationRuntime } from '../application/runtime.js';
import { runRequestOf } from '../core/rotation/run-request.js';
import { executionIdSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'acquire-lock';

const inputSchema = z.object({
  executionId: executionIdSchema,
  /** Who the execution input says asked for the run: a claim, CloudTrail's StartExecution is the proof. */
  requestedBy: z.optional(z.nullable(z.string())),
  /** Why, as the execution input says. */
  reason: z.optional(z.nullable(z.string())),
  /**
   * The input's resumeRollback (null in a rotation): a resumed rollback is checked against the run it
   * names before the lock is taken (docs/workflow.md, "Resuming a failed rollback").
   */
  resumeRollback: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  /**
   * The input's resumePromotion (null in a rotation): a resumed promotion is checked against the run it
   * names before the lock is taken (docs/workflow.md, "Finishing a stopped promotion").
   */
  resumePromotion: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});
export type AcquireLockInput = z.infer<typeof inputSchema>;
export type AcquireLockOutput = AcquiredRotationLock;

/**
 * acquire-lock: the first Task of every rotation takes the mesh's rotation lock for its execution, so
 * no two rotations of one mesh ever write at once. Held by another execution that still runs (or
 * stopped less than a function timeout ago): RotationLocked naming it, nothing written, and the state
 * machine ends the run there. Idempotent: the holder taking it again gets it. Its audit event carries
 * who asked for the run and why (`actor`, `detail.reason`), which the execution log does not keep.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<AcquireLockOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      lambdaContext: context,
      connectLock: connectRotationLock,
      connectExecutions,
    },
    (runtime) => acquireLock(input, runtime),
  );
}

async function acquireLock(input: AcquireLockInput, runtime: RotationRuntime): Promise<AcquireLockOutput> {
  const { executionId } = input;
  const request = runRequestOf(input);
  if (input.resumeRollback !== undefined && input.resumeRollback !== null) {
    await checkResumedRollback(runtime, {
      phase: PHASE,
      executionId,
      claimed: input.resumeRollback,
      request,
    });
  }
  if (input.resumePromotion !== undefined && input.resumePromotion !== null) {
    await checkResumedPromotionRun(runtime, {
      phase: PHASE,
      executionId,
      claimed: input.resumePromotion,
      request,
    });
  }
  return acquireRotationLock(runtime, { phase: PHASE, executionId, request });
}
