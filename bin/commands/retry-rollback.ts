// `meshtrust retry-rollback <execution>`: resumes the rollback of an execution that ended in
// RollbackFailed, or rolls back one that was ABORTED or TIMED_OUT part-way (no Catch ran). Step
// Functions' redrive cannot (the run ended at a Fail state after the Catch, or outside the state
// machine's paths), so a new execution is started whose input carries the run's clusters, roots and
// errors, read from its history; it takes the rotation lock and goes straight to rollback-trust
// (docs/workflow.md, "Resuming a failed rollback"). Refuses any other end, saying why. Follows the new
// execution like `rotate`.

import type { Command } from 'commander';
import { readEndedExecution } from '../../lambdas/adapters/stepfunctions/ended-execution.js';
import { RESUME_ROLLBACK_INPUT_KEY, ROLLBACK_FAILED_ERROR } from '../../lambdas/contract/resume-rollback.js';
import type { RotationMode } from '../../lambdas/core/plan/phases.js';
import { executionNameOf } from '../../lambdas/core/rotation/execution-name.js';
import {
  type ResumeRollback,
  ROTATION_ROLLED_BACK,
  resumedRollbackName,
  resumeRollbackOf,
  STOPPED_OUTSIDE_STATUSES,
} from '../../lambdas/core/rotation/resume-rollback.js';
import { callerIdentity } from '../cli/caller-identity.js';
import type { CliContext } from '../cli/cli-context.js';
import { EXIT_CODES } from '../cli/cli-errors.js';
import { printFailedChildren } from '../cli/map-runs.js';
import {
  addFollowOptions,
  addStateMachineOptions,
  openStateMachine,
  type StateMachineAccess,
  startExecution,
} from '../cli/state-machine.js';
import { judgeStoppedRun, type RetryCommandOptions } from '../cli/stopped-run.js';
import { follow } from './rotate.js';

/** The execution input of a resumed rollback (docs/workflow.md, "Execution input"). */
export interface RetryRollbackExecutionInput {
  readonly mode: RotationMode;
  readonly reason: string;
  readonly requestedBy: string;
  readonly [RESUME_ROLLBACK_INPUT_KEY]: ResumeRollback;
}

export function registerRetryRollbackCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('retry-rollback')
    .argument(
      '<execution>',
      `the execution that ended in ${ROLLBACK_FAILED_ERROR}, ABORTED or TIMED_OUT (name or ARN)`,
    )
    .description(
      `Resume the rollback of an execution that ended in ${ROLLBACK_FAILED_ERROR}, or roll back one that was ABORTED or ` +
        'TIMED_OUT after its first write (no rollback ran): start a new execution that takes the rotation lock and walks ' +
        "the whole rollback (rollback-trust ... rollback-drop-pending) on that run's clusters, undoing its writes; stages " +
        'already done find nothing to do. Refuses any other end, and a stopped run whose functions may still be writing ' +
        "(for the rotation lock's takeover grace after it stopped, read from the deployed acquire-lock function's " +
        'configuration, else the default longest function timeout). Follows it unless --no-wait.',
    )
    .option(
      '--reason <text>',
      'why, for the audit trail (default: "resume the failed rollback of <execution>")',
    );
  return addFollowOptions(addStateMachineOptions(command))
    .addHelpText(
      'after',
      '\nFix what made the rollback fail first (its error is in `meshtrust status <execution>`), then:\n' +
        '  meshtrust retry-rollback scheduled-20260310T090000Z --reason "INC-7: EKS endpoint of prod-eu-1 reachable again"\n\n' +
        'The new execution is named <rotation>-rollback-<UTC time>. Exit codes: 0 started (--no-wait) or rolled back, ' +
        '1 refused (nothing to resume, the stopped run may still be writing, or a rotation runs) or the rollback failed ' +
        'again, 2 usage, 3 AWS access, no stack ' +
        'or no such execution.',
    )
    .action(async (execution: string, options: RetryCommandOptions) => {
      const access = await openStateMachine(options, context.env);
      try {
        await retryRollback(access, execution, options, context);
      } finally {
        access.close();
      }
    });
}

/** The command's work on an open state machine: read the failed run, start the resume, follow it. */
export async function retryRollback(
  access: StateMachineAccess,
  execution: string,
  options: Pick<RetryCommandOptions, 'reason' | 'wait' | 'pollSeconds'>,
  context: CliContext,
): Promise<void> {
  const { terminal } = context;
  const {
    name: failedName,
    described,
    decision,
  } = await judgeStoppedRun(access, execution, context, {
    read: readEndedExecution,
    decide: resumeRollbackOf,
    refused: 'not resumed',
  });
  const stoppedOutside = STOPPED_OUTSIDE_STATUSES.includes(described.status);
  const { resumeRollback } = decision;
  const rotationName = executionNameOf(resumeRollback.executionArn);
  const input: RetryRollbackExecutionInput = {
    mode: decision.mode,
    reason:
      options.reason ??
      (stoppedOutside
        ? `roll back ${failedName} (${described.status})`
        : `resume the failed rollback of ${failedName}`),
    requestedBy: await callerIdentity(context.env, access.region),
    [RESUME_ROLLBACK_INPUT_KEY]: resumeRollback,
  };
  const name = resumedRollbackName(rotationName, new Date());
  const started = await startExecution(access, name, input);
  terminal.out(`started ${name}: ${started.executionArn}`);
  terminal.note(
    `${stoppedOutside ? `rolls back ${failedName} (${described.status})` : `resumes the failed rollback of ${failedName}`}` +
      (rotationName === failedName ? '' : ` (itself a resume), undoing the writes of ${rotationName}`) +
      ` on ${resumeRollback.clusters.map((cluster) => cluster.name).join(', ')}`,
  );
  const why = resumeRollback.rollbackFailure;
  if (why?.Error !== undefined && !stoppedOutside) {
    terminal.note(`its rollback had failed with ${why.Error}: ${why.Cause ?? ''}`);
    // A Distributed Map's error (States.ExceedToleratedFailureThreshold) names no cluster: its failed children do.
    await printFailedChildren(access, described.executionArn, context, terminal.note);
  }
  const stopped = stoppedOutside ? (why ?? resumeRollback.failure) : undefined;
  if (stopped?.Cause !== undefined) terminal.note(stopped.Cause);
  if (resumeRollback.restored) {
    terminal.note(
      'every cluster was restored already: it resumes at rollback-drop-pending and reads no cacerts backup',
    );
  }
  terminal.note(`requested by ${input.requestedBy}: ${input.reason}`);
  if (!options.wait) {
    terminal.note(`follow it with: meshtrust status ${name}`);
    return;
  }
  const status = await follow(access, started.executionArn, name, options.pollSeconds, context);
  // A rollback ends FAILED with RotationRolledBack when it completed: that is this command's success.
  const after = await access.executions.describe(started.executionArn).catch(() => undefined);
  if (status === 'FAILED' && after?.error === ROTATION_ROLLED_BACK) {
    terminal.out(
      terminal.styleOut(
        'green',
        `rolled back: every cluster is back on its original cacerts, no root pending`,
      ),
    );
    return;
  }
  context.exitCode = EXIT_CODES.checkFailed;
}
