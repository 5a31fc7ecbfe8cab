import { MeshTrustError } from '../../core/meshtrust-error.js';

/** What went wrong talking to Step Functions or CloudFormation, with the names an operator acts on. */
export class StepFunctionsError extends MeshTrustError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StepFunctionsError';
  }
}

/** Another execution of the rotation state machine runs: a second one must not start. */
export class ExecutionAlreadyRunningError extends StepFunctionsError {
  readonly runningExecutionArn: string;
  constructor(message: string, runningExecutionArn: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ExecutionAlreadyRunningError';
    this.runningExecutionArn = runningExecutionArn;
  }
}

/** The stack, or the output naming the state machine, is not there. */
export class StackOutputNotFoundError extends StepFunctionsError {
  readonly stackName: string;
  readonly outputKey: string;
  constructor(message: string, context: { stackName: string; outputKey: string }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StackOutputNotFoundError';
    this.stackName = context.stackName;
    this.outputKey = context.outputKey;
  }
}
