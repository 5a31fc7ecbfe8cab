// `meshtrust approve EXECUTION` / `meshtrust reject EXECUTION --reason TEXT`: answer the approval gate an
// execution waits at (approve-reissue or approve-retire) through the stack's approval URL (AWS_IAM), so
// the approver the run records is the IAM identity AWS verified for this request, not a name the CLI
// sends. The CLI checks the execution history for a pending gate first and never sends or prints the
// task token. Exit 1 when the execution waits at no gate.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { type Command, Option } from 'commander';
import { meshStackName, readStackOutput } from '../../lambdas/adapters/stepfunctions/stack-outputs.js';
import { APPROVAL_REJECTED_ERROR, APPROVAL_URL_OUTPUT } from '../../lambdas/contract/approval.js';
import { sendApprovalAnswer } from '../cli/approval-url.js';
import { meshIdOf } from '../cli/aws-options.js';
import type { CliContext } from '../cli/cli-context.js';
import { CliError, EnvironmentError, EXIT_CODES, UsageError } from '../cli/cli-errors.js';
import { findPendingApproval } from '../cli/execution-history.js';
import {
  addStateMachineOptions,
  asCliError,
  executionArnOf,
  openStateMachine,
  type StateMachineOptions,
} from '../cli/state-machine.js';

export { APPROVAL_REJECTED_ERROR };

interface AnswerOptions extends StateMachineOptions {
  readonly reason?: string;
  readonly approvalUrl?: string;
}

const approvalUrlOption = () =>
  new Option(
    '--approval-url <url>',
    `the stack's approval endpoint (default: output ${APPROVAL_URL_OUTPUT} of the stack)`,
  );

export function registerApproveCommands(program: Command, context: CliContext): void {
  addStateMachineOptions(
    program
      .command('approve')
      .argument('<execution>', 'execution name or ARN')
      .description(
        'Approve the gate the execution waits at (approve-reissue or approve-retire): the run goes on.',
      )
      .option('--reason <text>', 'a note for the audit trail')
      .addOption(approvalUrlOption()),
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
      .requiredOption('--reason <text>', 'why, for the audit trail (required)')
      .addOption(approvalUrlOption()),
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
    const url = options.approvalUrl ?? (await approvalUrlFromStack(options, context.env, access.region));
    const answered = await sendApprovalAnswer({
      url,
      region: access.region,
      answer: {
        execution: executionArn,
        verdict,
        ...(options.reason !== undefined && { reason: options.reason }),
      },
    }).catch((error: unknown) => {
      throw asCliError(error, `answer the gate ${pending.state} of ${described.name} at ${url}`);
    });
    const { status, body } = answered;
    if (status === 409) {
      throw new CliError(
        `${described.name}: ${String(body.error ?? 'waits at no approval gate')}`,
        EXIT_CODES.checkFailed,
      );
    }
    if (status !== 200) {
      throw new EnvironmentError(
        `the approval endpoint refused (HTTP ${status}): ${String(body.error ?? body.Message ?? body.message ?? '')}. ` +
          'Approvers need lambda:InvokeFunctionUrl on it (docs/deploy.md, approvals)',
      );
    }
    const done = verdict === 'approve' ? 'approved' : 'rejected (the run rolls back)';
    context.terminal.out(`${described.name}: ${pending.state} ${done} by ${String(body.approvedBy)}`);
  } finally {
    access.close();
  }
}

async function approvalUrlFromStack(
  options: AnswerOptions,
  env: NodeJS.ProcessEnv,
  region: string,
): Promise<string> {
  const meshId = meshIdOf(options, env);
  const stackName = options.stackName ?? (meshId ? meshStackName(meshId) : undefined);
  if (stackName === undefined) {
    throw new UsageError('say where to answer: --approval-url URL, --stack-name NAME or --mesh-id ID');
  }
  const cloudFormation = new CloudFormationClient({ region });
  try {
    return await readStackOutput(cloudFormation, stackName, APPROVAL_URL_OUTPUT);
  } catch (error) {
    throw asCliError(error, `read output ${APPROVAL_URL_OUTPUT} of stack ${stackName} (is approval on?)`);
  } finally {
    cloudFormation.destroy();
  }
}
