import type { RotationPhase } from '../adapters/audit/audit-event.js';
import { readEndedExecution } from '../adapters/stepfunctions/ended-execution.js';
import { checkResumedExecution, checkResumeTarget } from '../core/rotation/resume-rollback.js';
import { REQUEST_TEXT_MAX, type RunRequest } from '../core/rotation/run-request.js';
import { PreconditionFailed, TransientError } from '../core/rotation-errors.js';
import { auditStateChange } from './audit-state-change.js';
import type { RotationRuntime } from './runtime.js';

/**
 * A resumed rollback undoes the writes of the run its input names, and the CLI judged that run; this
 * execution judges it again, from Step Functions itself, before taking the lock: the run must be of this
 * state machine and have ended as the input says (RollbackFailed, ABORTED or TIMED_OUT, with the
 * clusters, roots and errors its history shows). Otherwise PreconditionFailed, nothing written, audited
 * as `check-resumed-rollback` refused. A history that cannot be read is a TransientError.
 */
export async function checkResumedRollback(
  runtime: Pick<RotationRuntime, 'executions'>,
  check: {
    readonly phase: RotationPhase;
    readonly executionId: string;
    /** The execution input's resumeRollback, as given. */
    readonly claimed: Readonly<Record<string, unknown>>;
    readonly request: RunRequest;
  },
): Promise<void> {
  const { phase, executionId, claimed, request } = check;
  const resumedFrom = typeof claimed.resumedFrom === 'string' ? claimed.resumedFrom : '';
  // A run of another state machine is refused before anything is asked of Step Functions.
  const target = checkResumeTarget({ executionId, claimed });
  const verdict = !target.ok
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
  if (verdict.ok) return;
  auditStateChange({
    phase,
    action: 'check-resumed-rollback',
    executionId,
    ...request.actor,
    outcome: 'refused',
    detail: { resumedFrom: resumedFrom.slice(0, REQUEST_TEXT_MAX), ...request.detail },
  });
  throw new PreconditionFailed(verdict.reason);
}
