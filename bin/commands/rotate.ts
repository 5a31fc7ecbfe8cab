// `meshtrust rotate`: starts an execution of the deployed rotation state machine with who and why in its
// input, refuses while another one runs, and follows it (phase changes, approval gates) until it ends
// unless --no-wait. Exit 0 when it succeeded, 1 when it failed, was aborted or timed out.

import type { Command } from 'commander';
import { Option } from 'commander';
import { ROTATION_MODES, type RotationMode } from '../../lambdas/core/plan/phases.js';
import { REQUEST_TEXT_MAX } from '../../lambdas/core/rotation/run-request.js';
import { callerIdentity } from '../cli/caller-identity.js';
import type { CliContext } from '../cli/cli-context.js';
import { EXIT_CODES, UsageError } from '../cli/cli-errors.js';
import { currentState, findPendingApproval } from '../cli/execution-history.js';
import { printFailedChildren } from '../cli/map-runs.js';
import {
  addFollowOptions,
  addStateMachineOptions,
  asCliError,
  openStateMachine,
  type StateMachineAccess,
  type StateMachineOptions,
  startExecution,
} from '../cli/state-machine.js';

export interface RotateCommandOptions extends StateMachineOptions {
  readonly mode: RotationMode;
  readonly cluster?: string;
  readonly reason?: string;
  readonly wait: boolean;
  readonly pollSeconds: number;
}

/** The execution input the state machine reads (docs/workflow.md, "Execution input"). */
export interface RotationExecutionInput {
  readonly mode: RotationMode;
  readonly cluster?: string;
  readonly reason: string;
  readonly requestedBy: string;
}

export function registerRotateCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('rotate')
    .description(
      'Start a rotation: an execution of the deployed state machine with mode, reason and who asked in its input. ' +
        'Refuses while another runs; follows it until it ends (phases, approval gates) unless --no-wait.',
    )
    .addOption(
      new Option('--mode <mode>', 'rotation mode').choices([...ROTATION_MODES]).makeOptionMandatory(),
    )
    .option('--cluster <name>', 'the cluster whose intermediate is rekeyed (--mode intermediate only)')
    .option(
      '--reason <text>',
      `why, for the audit trail, at most ${REQUEST_TEXT_MAX} characters (default: "<mode> rotation started with meshtrust rotate")`,
    );
  return addFollowOptions(addStateMachineOptions(command))
    .addHelpText(
      'after',
      '\nExamples:\n  meshtrust plan --mode scheduled && meshtrust rotate --mode scheduled --reason "annual rotation 2026"\n' +
        '  meshtrust rotate --mode emergency --reason "INC-123: intermediate key of prod-eu-1 leaked" --no-wait\n\n' +
        'Exit codes: 0 started (--no-wait) or succeeded, 1 refused (one runs already) or the execution failed, ' +
        '2 usage, 3 AWS access or no stack.',
    )
    .action(async (options: RotateCommandOptions) => {
      await runRotate(options, context);
    });
}

async function runRotate(options: RotateCommandOptions, context: CliContext): Promise<void> {
  const { terminal } = context;
  if (options.mode === 'intermediate' && options.cluster === undefined) {
    throw new UsageError('--mode intermediate rekeys one cluster: name it with --cluster NAME');
  }
  if (options.mode !== 'intermediate' && options.cluster !== undefined) {
    throw new UsageError(
      `--cluster is for --mode intermediate; --mode ${options.mode} rotates every cluster`,
    );
  }
  // The audit trail keeps REQUEST_TEXT_MAX characters of it, and the execution's state keeps it whole
  // beside every Map's kept answers (docs/workflow.md, "The execution history limit"): say so, not cut it.
  if (options.reason !== undefined && options.reason.length > REQUEST_TEXT_MAX) {
    throw new UsageError(
      `--reason is ${options.reason.length} characters; the audit trail keeps at most ${REQUEST_TEXT_MAX}: shorten it ` +
        '(link a ticket for the details)',
    );
  }
  const access = await openStateMachine(options, context.env);
  try {
    const input: RotationExecutionInput = {
      mode: options.mode,
      ...(options.cluster !== undefined && { cluster: options.cluster }),
      reason: options.reason ?? `${options.mode} rotation started with meshtrust rotate`,
      requestedBy: await callerIdentity(context.env, access.region),
    };
    const name = executionNameFor(options.mode, new Date());
    const started = await startExecution(access, name, input);
    terminal.out(`started ${name}: ${started.executionArn}`);
    terminal.note(`requested by ${input.requestedBy}: ${input.reason}`);
    if (!options.wait) {
      terminal.note(`follow it with: meshtrust status ${name}`);
      return;
    }
    const status = await follow(access, started.executionArn, name, options.pollSeconds, context);
    if (status !== 'SUCCEEDED') context.exitCode = EXIT_CODES.checkFailed;
  } finally {
    access.close();
  }
}

/** `<mode>-<UTC timestamp>`: readable, sortable, unique per second, within Step Functions' 80 characters. */
export function executionNameFor(mode: RotationMode, at: Date): string {
  return `${mode}-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * Follows an execution until it ends: each top-level state it enters and each approval gate it waits
 * at, as they come, then `<name>: <status>` (and the error). Resolves with the final status.
 */
export async function follow(
  access: StateMachineAccess,
  executionArn: string,
  name: string,
  pollSeconds: number,
  context: CliContext,
): Promise<string> {
  const { terminal } = context;
  const startedAt = Date.now();
  const elapsed = () => `[${Math.round((Date.now() - startedAt) / 1000)}s]`.padStart(8);
  let lastState: string | undefined;
  let lastGate: string | undefined;
  for (;;) {
    const execution = await access.executions.describe(executionArn).catch((error: unknown) => {
      throw asCliError(error, `describe execution ${name}`);
    });
    if (execution.status === 'RUNNING') {
      const events = await access.executions.history(executionArn).catch(() => []);
      const state = currentState(events);
      if (state !== undefined && state !== lastState) terminal.note(`${elapsed()} ${state}`);
      lastState = state ?? lastState;
      const gate = findPendingApproval(events)?.state;
      if (gate !== undefined && gate !== lastGate) {
        terminal.note(
          terminal.styleErr(
            'yellow',
            `${elapsed()} waiting for approval at ${gate}: meshtrust approve ${name} (or: meshtrust reject ${name} --reason TEXT)`,
          ),
        );
      }
      lastGate = gate;
      await new Promise((resolve) => setTimeout(resolve, pollSeconds * 1000));
      continue;
    }
    const colour = execution.status === 'SUCCEEDED' ? 'green' : 'red';
    terminal.out(terminal.styleOut(colour, `${name}: ${execution.status}`));
    if (execution.error !== undefined) {
      terminal.out(`  ${execution.error}: ${execution.cause ?? ''}`);
      await printFailedChildren(access, executionArn, context);
      terminal.note(`see what it did: meshtrust status ${name}; verify the fleet: meshtrust verify`);
    }
    return execution.status;
  }
}
