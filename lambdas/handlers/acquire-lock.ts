import { z } from 'zod';
import { logger } from '../adapters/audit/logger.js';
import type { LockAcquired } from '../adapters/lock/rotation-lock.js';
import { readEndedExecution } from '../adapters/stepfunctions/ended-execution.js';
import { auditStateChange } from '../application/audit-state-change.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { checkResumedExecution, checkResumeTarget } from '../core/rotation/resume-rollback.js';
import { PreconditionFailed, RotationLocked, TransientError } from '../core/rotation-errors.js';
import { executionIdSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'acquire-lock';
const ACTION = 'acquire-rotation-lock';

/** The execution input's free text is cut to this length in the audit event (it is never refused). */
const REQUEST_TEXT_MAX = 512;

const inputSchema = z.object({
  executionId: executionIdSchema,
  /** Who the execution input says asked for the run: a claim, CloudTrail's StartExecution is the proof. */
  requestedBy: z.string().nullable().optional(),
  /** Why, as the execution input says. */
  reason: z.string().nullable().optional(),
  /**
   * The input's resumeRollback (null in a rotation): a resumed rollback is checked against the run it
   * names before the lock is taken (docs/workflow.md, "Resuming a failed rollback").
   */
  resumeRollback: z.record(z.string(), z.unknown()).nullable().optional(),
});
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
 * machine ends the run there. Idempotent: the holder taking it again gets it. Its audit event carries
 * who asked for the run and why (`actor`, `detail.reason`), which the execution log does not keep.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<AcquireLockOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler({ phase: PHASE, executionId: input.executionId, lambdaContext: context }, (runtime) =>
    acquireLock(input, runtime),
  );
}

async function acquireLock(input: AcquireLockInput, runtime: HandlerRuntime): Promise<AcquireLockOutput> {
  const { executionId } = input;
  const request = requestOf(input);
  if (input.resumeRollback !== undefined && input.resumeRollback !== null) {
    await checkResumedRollback(executionId, input.resumeRollback, runtime, request);
  }
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
    phase: PHASE,
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

/**
 * A resumed rollback undoes the writes of the run its input names, and the CLI judged that run; this
 * execution judges it again, from Step Functions itself, before taking the lock: the run must be of this
 * state machine and have ended as the input says (RollbackFailed, ABORTED or TIMED_OUT, with the
 * clusters, roots and errors its history shows). Otherwise PreconditionFailed, nothing written.
 */
async function checkResumedRollback(
  executionId: string,
  claimed: Readonly<Record<string, unknown>>,
  runtime: HandlerRuntime,
  request: ReturnType<typeof requestOf>,
): Promise<void> {
  const resumedFrom = typeof claimed.resumedFrom === 'string' ? claimed.resumedFrom : '';
  // A run of another state machine is refused before anything is asked of Step Functions.
  const target = checkResumeTarget({ executionId, claimed });
  const check = !target.ok
    ? target
    : checkResumedExecution({
        executionId,
        claimed,
        ended: await readEndedExecution(runtime.executions(), resumedFrom)
          .then((read) => read.ended)
          .catch((error: unknown) => {
            throw new TransientError(
              `could not read execution ${resumedFrom} to check the resumed rollback: ${(error as Error).name}`,
              { cause: error },
            );
          }),
      });
  if (check.ok) return;
  auditStateChange({
    phase: PHASE,
    action: 'check-resumed-rollback',
    executionId,
    ...request.actor,
    outcome: 'refused',
    detail: { resumedFrom: resumedFrom.slice(0, REQUEST_TEXT_MAX), ...request.detail },
  });
  throw new PreconditionFailed(check.reason);
}

/** Who asked and why, as audit event fields: only what the input has, each cut to a bounded length. */
function requestOf(input: AcquireLockInput): {
  readonly actor: { readonly actor?: string };
  readonly detail: { readonly reason?: string };
} {
  const cut = (text: string | null | undefined) =>
    text === undefined || text === null || text === '' ? undefined : text.slice(0, REQUEST_TEXT_MAX);
  const actor = cut(input.requestedBy);
  const reason = cut(input.reason);
  return {
    actor: actor === undefined ? {} : { actor },
    detail: reason === undefined ? {} : { reason },
  };
}
