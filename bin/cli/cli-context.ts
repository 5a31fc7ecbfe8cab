import type { ExitCode } from './cli-errors.js';
import type { Terminal } from './terminal.js';

/**
 * What every command gets: where to write, the environment, and where to report its exit code. Its own
 * module, so that the commands depend on it and program.ts on the commands, never in a loop.
 */
export interface CliContext {
  readonly terminal: Terminal;
  readonly env: NodeJS.ProcessEnv;
  /** A command that ran but found a problem sets this (e.g. EXIT_CODES.checkFailed). */
  exitCode: ExitCode;
}
