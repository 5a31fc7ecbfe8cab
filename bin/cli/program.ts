// The meshtrust command tree and how a run ends: commander parses, commands run, and every outcome —
// help, a usage mistake, a failed check, an error — becomes one documented exit code (cli-errors.ts).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';
import { registerApproveCommands } from '../commands/approve.js';
import { registerHistoryCommand } from '../commands/history.js';
import { registerImportRootCommand } from '../commands/import-root.js';
import { registerLabCommand } from '../commands/lab.js';
import { registerLabBuildCommand } from '../commands/lab-build.js';
import { registerLabProbeCommand } from '../commands/lab-probe.js';
import { registerPlanCommand } from '../commands/plan.js';
import { registerRehearseCommand } from '../commands/rehearse.js';
import { registerRetryPromotionCommand } from '../commands/retry-promotion.js';
import { registerRetryRollbackCommand } from '../commands/retry-rollback.js';
import { registerRotateCommand } from '../commands/rotate.js';
import { registerStatusCommand } from '../commands/status.js';
import { registerVerifyCommand } from '../commands/verify.js';
import type { CliContext } from './cli-context.js';
import { CliError, EXIT_CODES, type ExitCode } from './cli-errors.js';
import { commanderExitCode, withCliConventions } from './commander-conventions.js';
import { createTerminal, type Terminal } from './terminal.js';

export function createProgram(context: CliContext): Command {
  const { terminal } = context;
  const program = new Command('meshtrust')
    .description(
      'Rotate the root CA of a multi-cluster Istio mesh on Amazon EKS, and rehearse it on a local lab.',
    )
    .version(packageVersion(), '-V, --version', 'print the meshtrust version')
    .option('--debug', 'show stack traces of errors')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a check failed, 2 usage error, 3 environment or setup problem, 4 internal error,\n' +
        '130/143 interrupted by SIGINT/SIGTERM.\n' +
        'Docs: docs/cli.md',
    );
  // Before any subcommand is registered: they inherit these settings.
  withCliConventions(program, terminal);
  const lab = registerLabCommand(program, context);
  registerLabProbeCommand(lab, context);
  registerLabBuildCommand(lab, context);
  registerPlanCommand(program, context);
  registerRehearseCommand(program, context);
  registerVerifyCommand(program, context);
  registerImportRootCommand(program, context);
  registerRotateCommand(program, context);
  registerStatusCommand(program, context);
  registerHistoryCommand(program, context);
  registerApproveCommands(program, context);
  registerRetryRollbackCommand(program, context);
  registerRetryPromotionCommand(program, context);
  return program;
}

/** Runs one command line (process.argv shape) and resolves with its exit code; never throws. */
export async function runCli(
  argv: readonly string[],
  context: CliContext = { terminal: createTerminal(), env: process.env, exitCode: EXIT_CODES.ok },
): Promise<ExitCode> {
  const program = createProgram(context);
  try {
    await program.parseAsync([...argv]);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    reportError(error, context.terminal, argv.includes('--debug'));
    return error instanceof CliError ? error.exitCode : EXIT_CODES.internal;
  }
}

function reportError(error: unknown, terminal: Terminal, debug: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  terminal.note(terminal.styleErr('red', `error: ${message}`));
  if (debug && error instanceof Error) {
    terminal.note(terminal.styleErr('dim', error.stack ?? ''));
    if (error.cause !== undefined)
      terminal.note(terminal.styleErr('dim', `caused by: ${describeCause(error.cause)}`));
  } else if (!(error instanceof CliError)) {
    terminal.note('This is unexpected: run the command again with --debug and report the output.');
  } else if (error.cause instanceof Error && !error.message.includes(error.cause.message)) {
    terminal.note(terminal.styleErr('dim', '(add --debug for details)'));
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}

function packageVersion(): string {
  try {
    const text = readFileSync(`${PROJECT_ROOT}package.json`, 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
