// The stopped run a retry command carries on (meshtrust retry-rollback, retry-promotion): read from Step
// Functions, judged, and refused while its functions may still write; and the options both commands take.
import type {
  ExecutionDetail,
  RotationExecutions,
} from '../../lambdas/adapters/stepfunctions/rotation-executions.js';
import { executionNameOf } from '../../lambdas/core/rotation/execution-name.js';
import {
  type EndedExecution,
  STOPPED_OUTSIDE_STATUSES,
} from '../../lambdas/core/rotation/resume-rollback.js';
import type { CliContext } from './cli-context.js';
import { CliError, EXIT_CODES } from './cli-errors.js';
import {
  asCliError,
  executionArnOf,
  type StateMachineAccess,
  type StateMachineOptions,
} from './state-machine.js';
import { deployedTakeoverGrace, refuseWhileItMayWrite } from './takeover-grace.js';

export interface RetryCommandOptions extends StateMachineOptions {
  readonly reason?: string;
  readonly wait: boolean;
  readonly pollSeconds: number;
}

type Decision = { readonly resumable: true } | { readonly resumable: false; readonly reason: string };

/** What a retry command reads of the stopped run and makes of it. */
export interface StoppedRunKind<D extends Decision> {
  readonly read: (
    executions: RotationExecutions,
    executionArn: string,
  ) => Promise<{ readonly described: ExecutionDetail; readonly ended: EndedExecution }>;
  readonly decide: (ended: EndedExecution) => D;
  /** The refusal's first words ("not resumed", "not finished"). */
  readonly refused: string;
}

/**
 * The run `execution` names, read with `kind.read` (a failure: an AWS access error naming it) and judged
 * with `kind.decide`: not to be carried on, a CliError (exit 1) with why; stopped outside the state
 * machine's paths (ABORTED, TIMED_OUT), refused too while its functions may still be writing (the
 * rotation lock's takeover grace, a note when the default is assumed).
 */
export async function judgeStoppedRun<D extends Decision>(
  access: StateMachineAccess,
  execution: string,
  context: CliContext,
  kind: StoppedRunKind<D>,
): Promise<{
  readonly arn: string;
  readonly name: string;
  readonly described: ExecutionDetail;
  readonly decision: Extract<D, { readonly resumable: true }>;
}> {
  const arn = executionArnOf(access.stateMachineArn, execution);
  const name = executionNameOf(arn);
  const { described, ended } = await kind.read(access.executions, arn).catch((error: unknown) => {
    throw asCliError(error, `describe execution ${name} and read its history`);
  });
  const decision: Decision = kind.decide(ended);
  if (!decision.resumable) throw new CliError(`${kind.refused}: ${decision.reason}`, EXIT_CODES.checkFailed);
  if (STOPPED_OUTSIDE_STATUSES.includes(described.status)) {
    const grace = await deployedTakeoverGrace(access);
    if (grace.fallback !== undefined) context.terminal.note(grace.fallback);
    refuseWhileItMayWrite(arn, described.status, described.stopDate, new Date(), grace);
  }
  return { arn, name, described, decision: decision as Extract<D, { readonly resumable: true }> };
}
