// Exit codes and the errors that carry them. Every command ends in one of these codes (docs/cli.md).

export const EXIT_CODES = {
  /** Done; for checks: nothing failed. */
  ok: 0,
  /** A check ran and found a problem (e.g. a probe round with failed handshakes). */
  checkFailed: 1,
  /** The command line is wrong: unknown option, missing or invalid value. */
  usage: 2,
  /** The environment is not ready: a tool missing, a lab not running, a file unreadable. */
  environment: 3,
  /** meshtrust itself failed unexpectedly (a bug): rerun with --debug and report it. */
  internal: 4,
  /** Stopped by SIGINT (Ctrl-C) before it was done: 128 + 2, as a shell reports it. */
  interrupted: 130,
  /** Stopped by SIGTERM before it was done: 128 + 15. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** An error the CLI reports as one line (no stack unless --debug) and ends with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.usage, options);
    this.name = 'UsageError';
  }
}

export class EnvironmentError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT_CODES.environment, options);
    this.name = 'EnvironmentError';
  }
}
