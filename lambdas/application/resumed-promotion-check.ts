import type { RotationPhase } from '../adapters/audit/audit-event.js';
import { readStoppedPromotion } from '../adapters/stepfunctions/ended-execution.js';
import { checkPromotionTarget, checkResumedPromotion } from '../core/rotation/resume-promotion.js';
import { REQUEST_TEXT_MAX, type RunRequest } from '../core/rotation/run-request.js';
import { PreconditionFailed, TransientError } from '../core/rotation-errors.js';
import { auditStateChange } from './audit-state-change.js';
import type { RotationRuntime } from './runtime.js';

/**
 * A resumed promotion promotes the root the run its input names staged, and the CLI judged that run;
 * this execution judges it again, from Step Functions itself, before taking the lock: the run must be of
 * this state machine and have stopped in promote-root (FAILED with promote-root's error, or ABORTED or
 * TIMED_OUT there), with the staged root and clusters its history shows. Otherwise PreconditionFailed,
 * nothing written, audited as `check-resumed-promotion` refused. A history that cannot be read is a
 * TransientError.
 */
export async function checkResumedPromotionRun(
  runtime: Pick<RotationRuntime, 'executions'>,
  check: {
    readonly phase: RotationPhase;
    readonly executionId: string;
    /** The execution input's resumePromotion, as given. */
    readonly claimed: Readonly<Record<string, unknown>>;
    readonly request: RunRequest;
  },
): Promise<void> {
  const { phase, executionId, claimed, request } = check;
  const resumedFrom = typeof claimed.resumedFrom === 'string' ? claimed.resumedFrom : '';
  // A run of another state machine is refused before anything is asked of Step Functions.
  const target = checkPromotionTarget({ executionId, claimed });
  const verdict = !target.ok
    ? target
    : checkResumedPromotion({
        executionId,
        claimed,
        ended: await readStoppedPromotion(runtime.executions(), resumedFrom)
          .then((read) => read.ended)
          .catch((error: unknown) => {
            throw new TransientError(
              `could not read execution ${resumedFrom} to check the resumed promotion: ${(error as Error).name}`,
              { cause: error },
            );
          }),
      });
  if (verdict.ok) return;
  auditStateChange({
    phase,
    action: 'check-resumed-promotion',
    executionId,
    ...request.actor,
    outcome: 'refused',
    detail: { resumedFrom: resumedFrom.slice(0, REQUEST_TEXT_MAX), ...request.detail },
  });
  throw new PreconditionFailed(verdict.reason);
}
