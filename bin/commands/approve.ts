// `meshtrust approve EXECUTION` / `meshtrust reject EXECUTION --reason TEXT`: answer the approval gate an
// execution waits at (approve-reissue or approve-retire). The gate's task token is read from the
// execution history, used once and never printed. Exit 1 when the execution waits at no gate.
import type { Command } from 'commander';
import { callerIdentity } from '../cli/caller-identity.js';
import { CliError, EXIT_CODES } from '../cli/cli-errors.js';
import { findPendingApproval } from '../cli/execution-history.js';
import type { CliContext } from '../cli/program.js';
import {
  addStateMachineOptions,
  asCliError,
  executionArnOf,
  openStateMachine,
  type StateMachineOptions,
} from '../cli/state-machine.js';

/** The error a rejected gate fails with; the state machine's Catch sends the run to rollback. */
export const APPROVAL_REJECTED_ERROR = 'ApprovalRejected';

interface AnswerOptions extends StateMachineOptions {
  readonly reason?: string;
}

export function registerApproveCommands(program: Command, context: CliContext): void {
  addStateMachineOptions(
    program
      .command('approve')
      .argument('<execution>', 'execution name or ARN')
      .description(
        'Approve the gate the execution waits at (approve-reissue or approve-retire): the run goes on.',
      )
      .option('--reason <text>', 'a note for the audit trail'),
  )
    .addHelpText('after', '\nExit codes: 0 approved, 1 it waits at no gate, 2 usage, 3 AWS access.')
    .action(async (execution: string, options: AnswerOptions) => {
      await answer(execution, options, 'approve', context);
    });
  addStateMachineOptions(
    program
      .command('reject')
      .argument('<execution>', 'execution name or ARN')
      .description(
        `Reject the gate the execution waits at: the task fails with ${APPROVAL_REJECTED_ERROR} and the run rolls back.`,
      )
      .requiredOption('--reason <text>', 'why, for the audit trail (required)'),
  )
    .addHelpText('after', '\nExit codes: 0 rejected, 1 it waits at no gate, 2 usage, 3 AWS access.')
    .action(async (execution: string, options: AnswerOptions) => {
      await answer(execution, options, 'reject', context);
    });
}

async function answer(
  execution: string,
  options: AnswerOptions,
  verdict: 'approve' | 'reject',
  context: CliContext,
): Promise<void> {
  const access = await openStateMachine(options, context.env);
  try {
    const executionArn = executionArnOf(access.stateMachineArn, execution);
    const [described, events] = await Promise.all([
      access.executions.describe(executionArn),
      access.executions.history(executionArn),
    ]).catch((error: unknown) => {
      throw asCliError(error, `read execution ${execution}`);
    });
    const pending = described.status === 'RUNNING' ? findPendingApproval(events) : undefined;
    if (pending === undefined) {
      throw new CliError(
        `execution ${described.name} (${described.status}) waits at no approval gate; see meshtrust status ${described.name}`,
        EXIT_CODES.checkFailed,
      );
    }
    const by = await callerIdentity(context.env, access.region);
    const at = new Date().toISOString();
    try {
      if (verdict === 'approve') {
        await access.executions.approve(pending.taskToken, {
          approvedBy: by,
          approvedAt: at,
          ...(options.reason !== undefined && { reason: options.reason }),
        });
      } else {
        await access.executions.reject(
          pending.taskToken,
          APPROVAL_REJECTED_ERROR,
          `rejected by ${by} at ${at}: ${options.reason ?? ''}`,
        );
      }
    } catch (error) {
      throw asCliError(error, `answer the gate ${pending.state} of ${described.name}`);
    }
    const done = verdict === 'approve' ? 'approved' : 'rejected (the run rolls back)';
    context.terminal.out(`${described.name}: ${pending.state} ${done} by ${by}`);
  } finally {
    access.close();
  }
}
