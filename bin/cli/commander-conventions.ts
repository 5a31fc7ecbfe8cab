// What every meshtrust command line shares, the operator CLI and `npm run bench` alike: commander
// throws instead of exiting, a usage mistake shows a hint and a suggestion for a typo, output goes
// through the terminal, and commander's outcomes map to the documented exit codes (cli-errors.ts).
import type { Command, CommanderError } from 'commander';
import { EXIT_CODES, type ExitCode } from './cli-errors.js';
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
