import { MeshTrustError } from '../meshtrust-error.js';

/** Base class for everything that stops a rotation plan from being computed. */
export class PlanError extends MeshTrustError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PlanError';
  }
}

/** The fleet state read by preflight cannot be rotated safely as it is. */
export class InvalidFleetStateError extends PlanError {
  readonly cluster?: string;

  constructor(message: string, context: { cluster?: string } = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidFleetStateError';
    this.cluster = context.cluster;
  }
}

/** The request (mode, new root, target cluster) does not make sense for this fleet. */
export class InvalidPlanRequestError extends PlanError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidPlanRequestError';
  }
}

/** Intermediate mode names a cluster the fleet does not have. */
export class UnknownClusterError extends InvalidPlanRequestError {
  readonly cluster: string;

  constructor(message: string, context: { cluster: string }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnknownClusterError';
    this.cluster = context.cluster;
  }
}
