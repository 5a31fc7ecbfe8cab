import { ROLLBACK_FAILED_ERROR } from '../../contract/resume-rollback.js';
import { WORKFLOW_STATES } from '../../contract/workflow-states.js';
import {
  type EndedExecution,
  endedExecutionOf,
  STOPPED_OUTSIDE_STATUSES,
} from '../../core/rotation/resume-rollback.js';
import type { ExecutionDetail, RotationExecutions } from './rotation-executions.js';

/** How many of the newest history events are read to find the state a failed rollback ended with. */
const LATEST_EVENTS = 20;

const TOP_LEVEL_STATES: ReadonlySet<string> = new Set(Object.values(WORKFLOW_STATES));

/**
 * An execution as `resumeRollbackOf` judges it, read the same way by `meshtrust retry-rollback` and by
 * acquire-lock's check of a resumed rollback: DescribeExecution, then its history only where it may be
 * resumable (a failed rollback: its newest events, whose last state's input is its final state; a run
 * ABORTED or TIMED_OUT: every event, for the states it entered). Errors are the SDK's, for the caller.
 */
export async function readEndedExecution(
  executions: Pick<RotationExecutions, 'describe' | 'history' | 'latestHistory'>,
  executionArn: string,
): Promise<{ readonly described: ExecutionDetail; readonly ended: EndedExecution }> {
  const described = await executions.describe(executionArn);
  const events = STOPPED_OUTSIDE_STATUSES.includes(described.status)
    ? await executions.history(executionArn)
    : described.status === 'FAILED' && described.error === ROLLBACK_FAILED_ERROR
      ? await executions.latestHistory(executionArn, LATEST_EVENTS)
      : [];
  const ended = endedExecutionOf(
    {
      executionArn,
      status: described.status,
      ...(described.error !== undefined && { error: described.error }),
    },
    events,
    TOP_LEVEL_STATES,
  );
  return { described, ended };
}

/**
 * An execution as `resumePromotionOf` judges it, read the same way by `meshtrust retry-promotion` and by
 * acquire-lock's check of a resumed promotion: DescribeExecution, then, for a run that ended other than
 * SUCCEEDED, its whole history, for the top-level states it entered (a FAILED run's too: whether
 * promote-root stopped it is told by the states after it) and the input of the last.
 */
export async function readStoppedPromotion(
  executions: Pick<RotationExecutions, 'describe' | 'history'>,
  executionArn: string,
): Promise<{ readonly described: ExecutionDetail; readonly ended: EndedExecution }> {
  const described = await executions.describe(executionArn);
  const ended = ['FAILED', ...STOPPED_OUTSIDE_STATUSES].includes(described.status);
  const events = ended ? await executions.history(executionArn) : [];
  return {
    described,
    ended: endedExecutionOf(
      {
        executionArn,
        status: described.status,
        ...(described.error !== undefined && { error: described.error }),
      },
      events,
      TOP_LEVEL_STATES,
      { statesEntered: ended },
    ),
  };
}
