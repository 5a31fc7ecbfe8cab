// `meshtrust retry-promotion <execution>`: finishes a run that stopped in promote-root (FAILED with
// promote-root's error, or ABORTED or TIMED_OUT there). Such a run left every cluster trusting only the
// new root while that root is still AWSPENDING: a rollback would break the fleet (retry-rollback
// refuses) and a new rotation is refused at preflight (a pending root). A new execution is started whose
// input carries the run's staged root and clusters, read from its history; it takes the rotation lock,
// runs promote-root (idempotent) and releases the lock (docs/workflow.md, "Finishing a stopped
// promotion"). Refuses any other end, saying why. Follows the new execution like `rotate`.

import type { Command } from 'commander';
import { readStoppedPromotion } from '../../lambdas/adapters/stepfunctions/ended-execution.js';
import { RESUME_PROMOTION_INPUT_KEY } from '../../lambdas/contract/resume-promotion.js';
import { executionNameOf } from '../../lambdas/core/rotation/execution-name.js';
import {
  type ResumePromotion,
  resumedPromotionName,
  resumePromotionOf,
} from '../../lambdas/core/rotation/resume-promotion.js';
import { callerIdentity } from '../cli/caller-identity.js';
import type { CliContext } from '../cli/cli-context.js';
import { EXIT_CODES } from '../cli/cli-errors.js';
import {
  addFollowOptions,
  addStateMachineOptions,
  openStateMachine,
  type StateMachineAccess,
  startExecution,
} from '../cli/state-machine.js';
import { judgeStoppedRun, type RetryCommandOptions } from '../cli/stopped-run.js';
import { follow } from './rotate.js';

/** The execution input of a resumed promotion (docs/workflow.md, "Execution input"). */
export interface RetryPromotionExecutionInput {
  readonly mode: 'scheduled' | 'emergency';
  readonly reason: string;
  readonly requestedBy: string;
  readonly [RESUME_PROMOTION_INPUT_KEY]: ResumePromotion;
}

export function registerRetryPromotionCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('retry-promotion')
    .argument('<execution>', 'the execution that stopped in promote-root (name or ARN)')
    .description(
      'Finish a run that stopped in promote-root (FAILED with its error, or ABORTED or TIMED_OUT there): every ' +
        'cluster trusts only the new root, which is still pending. Start a new execution that takes the rotation lock, ' +
        "promotes that run's staged root (AWSCURRENT, the old one AWSPREVIOUS, its key retired, the run's cacerts " +
        'backups deleted) and releases the lock; nothing else is written. Refuses any other end, and a stopped run ' +
        "whose functions may still be writing (for the rotation lock's takeover grace). Follows it unless --no-wait.",
    )
    .option('--reason <text>', 'why, for the audit trail (default: "finish the promotion of <execution>")');
  return addFollowOptions(addStateMachineOptions(command))
    .addHelpText(
      'after',
      '\nFix what made promote-root fail first (its error is in `meshtrust status <execution>`), then:\n' +
        '  meshtrust retry-promotion scheduled-20260310T090000Z --reason "INC-9: Secrets Manager throttling over"\n\n' +
        'The new execution is named <rotation>-promote-<UTC time>. Exit codes: 0 started (--no-wait) or promoted, ' +
        '1 refused (the run did not stop in promote-root, it may still be writing, or a rotation runs) or promote-root ' +
        'failed again, 2 usage, 3 AWS access, no stack or no such execution.',
    )
    .action(async (execution: string, options: RetryCommandOptions) => {
      const access = await openStateMachine(options, context.env);
      try {
        await retryPromotion(access, execution, options, context);
      } finally {
        access.close();
      }
    });
}

/** The command's work on an open state machine: read the stopped run, start the promotion, follow it. */
export async function retryPromotion(
  access: StateMachineAccess,
  execution: string,
  options: Pick<RetryCommandOptions, 'reason' | 'wait' | 'pollSeconds'>,
  context: CliContext,
): Promise<void> {
  const { terminal } = context;
  const { name: stoppedName, decision } = await judgeStoppedRun(access, execution, context, {
    read: readStoppedPromotion,
    decide: resumePromotionOf,
    refused: 'not finished',
  });
  const { resumePromotion } = decision;
  const rotationName = executionNameOf(resumePromotion.executionArn);
  const input: RetryPromotionExecutionInput = {
    mode: decision.mode,
    reason: options.reason ?? `finish the promotion of ${stoppedName}`,
    requestedBy: await callerIdentity(context.env, access.region),
    [RESUME_PROMOTION_INPUT_KEY]: resumePromotion,
  };
  const name = resumedPromotionName(rotationName, new Date());
  const started = await startExecution(access, name, input);
  terminal.out(`started ${name}: ${started.executionArn}`);
  terminal.note(
    `finishes the promotion of ${stoppedName}` +
      (rotationName === stoppedName ? '' : ` (itself a resume of ${rotationName})`) +
      `: root ${resumePromotion.stagedRoot.fingerprint.slice(0, 16)}… (version ${resumePromotion.stagedRoot.versionId}) ` +
      `becomes current; ${resumePromotion.clusters.map((cluster) => cluster.name).join(', ')} trust it alone already`,
  );
  if (resumePromotion.stop.Error !== undefined) {
    terminal.note(`it had stopped with ${resumePromotion.stop.Error}: ${resumePromotion.stop.Cause ?? ''}`);
  }
  terminal.note(`requested by ${input.requestedBy}: ${input.reason}`);
  if (!options.wait) {
    terminal.note(`follow it with: meshtrust status ${name}`);
    return;
  }
  const status = await follow(access, started.executionArn, name, options.pollSeconds, context);
  if (status === 'SUCCEEDED') {
    terminal.out(terminal.styleOut('green', 'promoted: the new root is current, the old one previous'));
    return;
  }
  context.exitCode = EXIT_CODES.checkFailed;
}
