import { MeshTrustError } from './meshtrust-error.js';

/**
 * The errors a rotation step raises (a branch of the MeshTrustError family). The state machine's Retry and Catch match on the error name,
 * which the Lambda runtime reports as `errorType`, so every class sets `this.name` and a subclass
 * that must keep the state machine's behaviour has to keep its parent's name.
 *
 * - `TransientError`: the step may succeed if run again (throttling, 5xx, conflicts); the state
 *   machine retries it.
 * - `PreconditionFailed`: something is not as the step requires and nothing has been written; the
 *   run stops (before the first write) or goes to rollback.
 * - `VerificationFailed`: a gate did not pass (trust not distributed, istiod kept the old CA).
 *
 * Messages say what is wrong and what to do; they never hold key material.
 */

/** Where in the rotation an error happened. */
export interface RotationErrorContext {
  /** The cluster the step was working on, when there is one. */
  readonly cluster?: string;
  /** The phase (state name) the step belongs to, e.g. `stage-root`. */
  readonly phase?: string;
}

export interface RotationErrorOptions extends ErrorOptions, RotationErrorContext {}

/** Base of the errors a rotation step raises with the phase and cluster it happened in. */
export class RotationError extends MeshTrustError {
  readonly cluster?: string;
  readonly phase?: string;

  constructor(message: string, options: RotationErrorOptions = {}) {
    const { cluster, phase, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'RotationError';
    if (cluster !== undefined) this.cluster = cluster;
    if (phase !== undefined) this.phase = phase;
  }
}

/** The step may succeed if run again; the state machine retries it with backoff. */
export class TransientError extends RotationError {
  constructor(message: string, options?: RotationErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** A requirement of the step does not hold; the step stopped before writing anything. */
export class PreconditionFailed extends RotationError {
  constructor(message: string, options?: RotationErrorOptions) {
    super(message, options);
    this.name = 'PreconditionFailed';
  }
}

/** A verification gate did not pass: the fleet is not (yet) in the state the next phase needs. */
export class VerificationFailed extends RotationError {
  constructor(message: string, options?: RotationErrorOptions) {
    super(message, options);
    this.name = 'VerificationFailed';
  }
}

/**
 * Another execution holds the mesh's rotation lock: this one stopped before writing anything. A
 * PreconditionFailed by kind, with a name of its own so that the execution's error says why.
 */
export class RotationLocked extends PreconditionFailed {
  /** The execution ARN that holds the lock, when known. */
  readonly holder?: string;

  constructor(message: string, options: RotationErrorOptions & { readonly holder?: string } = {}) {
    const { holder, ...rest } = options;
    super(message, rest);
    this.name = 'RotationLocked';
    if (holder !== undefined) this.holder = holder;
  }
}

/**
 * The approval gate before this step was answered around the approval endpoint: its result names no
 * approval the endpoint recorded (a direct SendTaskSuccess). Nothing has been written; the run rolls
 * back, as for a rejected approval (contract/approval.ts, APPROVAL_BYPASSED_ERROR).
 */
export class ApprovalBypassed extends PreconditionFailed {
  constructor(message: string, options?: RotationErrorOptions) {
    super(message, options);
    this.name = 'ApprovalBypassed';
  }
}
