// The errors of the rehearsal (`meshtrust rehearse`): one base class, each subclass naming what went
// wrong and what to do about it.

export class RehearsalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RehearsalError';
  }
}

/** The rehearsal was asked for something it cannot do (a bad flag value); nothing was started. */
export class RehearsalOptionsError extends RehearsalError {
  readonly option: string;
  constructor(option: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RehearsalOptionsError';
    this.option = option;
  }
}

/** The report directory (--out) cannot be created or written; found before anything starts. */
export class ReportDirectoryError extends RehearsalError {
  readonly directory: string;
  constructor(directory: string, reason: string, options?: ErrorOptions) {
    super(`the report directory ${directory} cannot be used: ${reason}; choose another --out`, options);
    this.name = 'ReportDirectoryError';
    this.directory = directory;
  }
}

/**
 * SIGINT/SIGTERM stopped the rehearsal before its execution started: what it had started is stopped,
 * and there is nothing to report yet.
 */
export class RehearsalInterruptedError extends RehearsalError {
  /** The signal's name, e.g. SIGINT. */
  readonly signal: string;
  constructor(signal: string, when: string, options?: ErrorOptions) {
    super(`interrupted by ${signal} ${when}; everything it started is stopped, nothing to report`, options);
    this.name = 'RehearsalInterruptedError';
    this.signal = signal;
  }
}

/** `cdk synth` failed or cdk.out does not hold what the rehearsal needs. */
export class CloudAssemblyError extends RehearsalError {
  readonly directory: string;
  constructor(message: string, directory: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CloudAssemblyError';
    this.directory = directory;
  }
}

/** A Lambda function's bundle could not be started (not: the function returned an error). */
export class FunctionRuntimeError extends RehearsalError {
  readonly functionName: string;
  constructor(message: string, functionName: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FunctionRuntimeError';
    this.functionName = functionName;
  }
}

/**
 * What a function invocation failed with, as Lambda reports it to Step Functions: `name` is the
 * function's errorType, so the state machine's Retry and Catch match it exactly as they would in AWS.
 */
export class FunctionInvocationError extends Error {
  readonly functionName: string;
  constructor(errorType: string, message: string, functionName: string) {
    super(message);
    this.name = errorType;
    this.functionName = functionName;
  }
}

/** The scan of the report directory found key material: the report must not be shared. */
export class PrivateKeyInReportError extends RehearsalError {
  readonly files: readonly string[];
  constructor(files: readonly string[]) {
    super(
      `Private key material found in ${files.length} rehearsal file(s): ${files.join(', ')}. Do not share ` +
        'this directory; delete it, and report this as a meshtrust bug (a key must never leave the CA store).',
    );
    this.name = 'PrivateKeyInReportError';
    this.files = files;
  }
}
