// Why the lab's real components could not be built or found, each with what to do about it. A
// LabError, so a lab start that needs the binaries reports it like any other reason it did not start.
import { LabError } from '../lab-errors.js';

export type LabBuildFailure =
  /** No `go` on PATH. */
  | 'go-missing'
  /** `go` runs but cannot serve this module (too old with GOTOOLCHAIN=local, toolchain download failed). */
  | 'go-unusable'
  /** go.mod lacks what the build needs (a component's module, the go directive). */
  | 'go-mod-invalid'
  /** The cache directory cannot be created or written. */
  | 'cache-unwritable'
  /** `go list` or `go build` failed, or did not write every binary. */
  | 'build-failed'
  /** The caller's AbortSignal fired (e.g. Ctrl-C) while building or waiting for another build. */
  | 'interrupted';

export class LabBuildError extends LabError {
  readonly reason: LabBuildFailure;
  /** The full go output, when the build got as far as running go. */
  readonly logFile?: string;

  constructor(
    reason: LabBuildFailure,
    message: string,
    options?: ErrorOptions & { readonly logFile?: string },
  ) {
    super(message, options);
    this.name = 'LabBuildError';
    this.reason = reason;
    if (options?.logFile !== undefined) this.logFile = options.logFile;
  }
}

export const INTERRUPTED_MESSAGE =
  'the lab build was interrupted; nothing was written to the cache. Run `meshtrust lab build` to build again';
