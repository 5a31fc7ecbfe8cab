// What stops a bench run, and with which exit code (the operator CLI's codes, bin/cli/cli-errors.ts):
// a figure that could not be taken honestly is an error, never a blank or a guess in the table.
import { CliError, EXIT_CODES } from '../bin/cli/cli-errors.js';

/** A measured process failed, or a cross-check says the two sides did not make the same thing. */
export class BenchCheckFailed extends CliError {
  /** The section it happened in: `pki`, `handlers`. */
  readonly section: string;
  constructor(section: string, message: string, options?: ErrorOptions) {
    super(`${section}: ${message}`, EXIT_CODES.checkFailed, options);
    this.name = 'BenchCheckFailed';
    this.section = section;
  }
}
