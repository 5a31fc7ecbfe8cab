// What every meshtrust command line shares, the operator CLI and `npm run bench` alike: commander
// throws instead of exiting, a usage mistake shows a hint and a suggestion for a typo, output goes
// through the terminal, and commander's outcomes map to the documented exit codes (cli-errors.ts).
import { type Command, CommanderError } from 'commander';
import { CliError, EXIT_CODES, type ExitCode } from './cli-errors.js';
import type { Terminal } from './terminal.js';

/** Applies the shared settings; subcommands created afterwards with .command() inherit them. */
export function withCliConventions(command: Command, terminal: Terminal): Command {
  return command
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => terminal.stdout.write(text),
      writeErr: (text) => terminal.stderr.write(text),
      outputError: (text, write) => write(terminal.styleErr('red', text)),
    });
}

/** The exit code of a run commander ended (it has already printed the help or the message). */
export function commanderExitCode(error: CommanderError): ExitCode {
  switch (error.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return EXIT_CODES.ok;
    case 'commander.help':
      // Help shown because no command was given is a usage error; asked-for help is not.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    default:
      return EXIT_CODES.usage;
  }
}

/**
 * Parses `argv` with a program whose action reports its own exit code through `exitCode()`, and turns
 * every way it can end into one: commander's outcomes, a CliError's code, or internal (4) with the
 * stack of anything else. For the single-command runners (`npm run bench`, `npm run chaos`).
 */
export async function runSingleCommand(
  program: Command,
  argv: readonly string[],
  terminal: Terminal,
  exitCode: () => ExitCode,
): Promise<ExitCode> {
  try {
    await program.parseAsync([...argv]);
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    terminal.note(
      terminal.styleErr('red', `error: ${error instanceof Error ? error.message : String(error)}`),
    );
    if (!(error instanceof CliError) && error instanceof Error) terminal.note(error.stack ?? '');
    return error instanceof CliError ? error.exitCode : EXIT_CODES.internal;
  }
}
