// The time by which a step that runs in a loop of invocations (restart-workloads) stops starting work,
// so that it answers before Lambda stops it: the Lambda context's remaining time, or the function
// timeout without a context (tests, the CLI), less what it keeps for its answer.
import { LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS } from '../contract/function-timeouts.js';
import { invocationDeadline } from '../core/rotation/restart-progress.js';
import type { LambdaContext } from './run-handler.js';

/** The part of the Lambda context such a handler reads: its request id, and the time left. */
export interface InvocationContext extends LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** The deadline (epoch ms). Read it first thing: the handler's own set-up counts against the time too. */
export function invocationDeadlineOf(context: InvocationContext | undefined, reserveMs: number): number {
  const remainingMs =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis()
      : LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS * 1000;
  return invocationDeadline(Date.now(), remainingMs, reserveMs);
}
