import type { RotationPhase } from '../adapters/audit/audit-event.js';
import { readEndedExecution, readStoppedPromotion } from '../adapters/stepfunctions/ended-execution.js';
import { checkPromotionTarget, checkResumedPromotion } from '../core/rotation/resume-promotion.js';
import {
  checkResumedExecution,
  checkResumeTarget,
  type EndedExecution,
} from '../core/rotation/resume-rollback.js';
import type { ResumeCheck } from '../core/rotation/resumed-run.js';
import { REQUEST_TEXT_MAX, type RunRequest } from '../core/rotation/run-request.js';
import { PreconditionFailed, TransientError } from '../core/rotation-errors.js';
import { auditStateChange } from './audit-state-change.js';
import type { RotationRuntime } from './runtime.js';

/** What acquire-lock is given to check: the execution input's claim (resumeRollback or resumePromotion). */
interface ResumedRunCheck {
  readonly phase: RotationPhase;
  readonly executionId: string;
  /** The execution input's claim, as given. */
  readonly claimed: Readonly<Record<string, unknown>>;
  readonly request: RunRequest;
}

/** What differs between a resumed rollback and a finished promotion in that check. */
interface ResumedRunKind {
  /** Before anything is read: both runs the claim names are of this state machine. */
  readonly target: (input: { executionId: string; claimed: unknown }) => ResumeCheck;
  /** The claim against the named run as Step Functions describes it now. */
  readonly verdict: (input: { executionId: string; claimed: unknown; ended: EndedExecution }) => ResumeCheck;
  readonly read: (
    executions: ReturnType<RotationRuntime['executions']>,
    executionArn: string,
  ) => Promise<{ readonly ended: EndedExecution }>;
  /** The audit action of a refusal. */
  readonly action: 'check-resumed-rollback' | 'check-resumed-promotion';
  /** What the new execution does, in the TransientError's text. */
  readonly noun: string;
}

/**
 * A resumed rollback undoes the writes of the run its input names, and the CLI judged that run; this
 * execution judges it again, from Step Functions itself, before taking the lock: the run must be of this
 * state machine and have ended as the input says (RollbackFailed, ABORTED or TIMED_OUT, with the
 * clusters, roots and errors its history shows). Otherwise PreconditionFailed, nothing written, audited
 * as `check-resumed-rollback` refused. A history that cannot be read is a TransientError.
 */
export function checkResumedRollback(
  runtime: Pick<RotationRuntime, 'executions'>,
  check: ResumedRunCheck,
): Promise<void> {
  return checkResumedRun(runtime, check, {
    target: checkResumeTarget,
    verdict: checkResumedExecution,
    read: readEndedExecution,
    action: 'check-resumed-rollback',
    noun: 'resumed rollback',
  });
}

/**
 * A resumed promotion promotes the root the run its input names staged, and the CLI judged that run;
 * this execution judges it again, from Step Functions itself, before taking the lock: the run must be of
 * this state machine and have stopped in promote-root (FAILED with promote-root's error, or ABORTED or
 * TIMED_OUT there), with the staged root and clusters its history shows. Otherwise PreconditionFailed,
 * nothing written, audited as `check-resumed-promotion` refused. A history that cannot be read is a
 * TransientError.
 */
export function checkResumedPromotionRun(
  runtime: Pick<RotationRuntime, 'executions'>,
  check: ResumedRunCheck,
): Promise<void> {
  return checkResumedRun(runtime, check, {
    target: checkPromotionTarget,
    verdict: checkResumedPromotion,
    read: readStoppedPromotion,
    action: 'check-resumed-promotion',
    noun: 'resumed promotion',
  });
}

async function checkResumedRun(
  runtime: Pick<RotationRuntime, 'executions'>,
  check: ResumedRunCheck,
  kind: ResumedRunKind,
): Promise<void> {
  const { phase, executionId, claimed, request } = check;
  const resumedFrom = typeof claimed.resumedFrom === 'string' ? claimed.resumedFrom : '';
  // A run of another state machine is refused before anything is asked of Step Functions.
  const target = kind.target({ executionId, claimed });
  const verdict = !target.ok
    ? target
    : kind.verdict({
        executionId,
        claimed,
        ended: await kind
          .read(runtime.executions(), resumedFrom)
          .then((read) => read.ended)
          .catch((error: unknown) => {
            throw new TransientError(
              `could not read execution ${resumedFrom} to check the ${kind.noun}: ${(error as Error).name}`,
              { cause: error },
            );
          }),
      });
  if (verdict.ok) return;
  auditStateChange({
    phase,
    action: kind.action,
    executionId,
    ...request.actor,
    outcome: 'refused',
    detail: { resumedFrom: resumedFrom.slice(0, REQUEST_TEXT_MAX), ...request.detail },
  });
  throw new PreconditionFailed(verdict.reason);
}
