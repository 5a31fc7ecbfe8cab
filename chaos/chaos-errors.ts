// What stops a chaos run before or between its cases, and with which exit code (the operator CLI's
// codes, bin/cli/cli-errors.ts). A case that ends other than expected is no error: it is a result.
import { CliError, EXIT_CODES } from '../bin/cli/cli-errors.js';

/**
 * The synthesized definition has a shape the matrix cannot derive cases or expectations from (a Choice
 * on something other than the mode, a loop, a dangling Next): chaos/ needs to learn it first.
 */
export class ChaosMatrixError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(`chaos matrix: ${message}`, EXIT_CODES.internal, options);
    this.name = 'ChaosMatrixError';
  }
}
