// The rotation lock's takeover grace as the CLI applies it before resuming a run stopped outside the
// state machine's paths (meshtrust retry-rollback, retry-promotion): the deployed acquire-lock's, and the
// refusal while the stopped run's functions may still write.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { readFunctionEnvironment } from '../../lambdas/adapters/lambda/function-environment.js';
import { LOCK_TAKING_HANDLER, rotationFunctionArnOf } from '../../lambdas/contract/function-names.js';
import { LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS } from '../../lambdas/contract/function-timeouts.js';
import { LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../../lambdas/contract/rotation-lock.js';
import { takeoverGraceSecondsOf } from '../../lambdas/core/access/deployed-settings.js';
import { decideTakeover, holderRunOf } from '../../lambdas/core/rotation/rotation-lock.js';
import { CliError, EXIT_CODES } from './cli-errors.js';
import type { StateMachineAccess } from './state-machine.js';

/** The rotation lock's takeover grace, and where it was read (or why the default is assumed). */
export interface TakeoverGrace {
  readonly seconds: number;
  /** The function whose configuration gave it; absent when the default is assumed. */
  readonly from?: string;
  /** Why the default is assumed, for the operator; absent when read from the function. */
  readonly fallback?: string;
}

/**
 * acquire-lock's takeover grace as deployed: its LOCK_TAKEOVER_GRACE_SECONDS (the stack sets it to the
 * longest function timeout, which a deployment may change), read with GetFunctionConfiguration from the
 * function the stack names after the state machine's mesh. When it cannot be read, the stack's default
 * (LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS) with a note saying why: acquire-lock still applies its own
 * grace to the resumed run, so a wrong guess here refuses later, never lets a write through.
 */
export async function deployedTakeoverGrace(access: StateMachineAccess): Promise<TakeoverGrace> {
  const assume = (why: string): TakeoverGrace => ({
    seconds: LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS,
    fallback:
      `could not read the rotation lock's takeover grace from acquire-lock's configuration: ${why}; assuming ` +
      `the stack's default, ${LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS} s (acquire-lock applies its own when the ` +
      'resumed run starts, and refuses it until then)',
  });
  const functionArn = rotationFunctionArnOf(access.stateMachineArn, LOCK_TAKING_HANDLER);
  if (functionArn === undefined) {
    return assume(`state machine ${access.stateMachineArn} is not named meshtrust-<mesh id>-rotation`);
  }
  const client = new LambdaClient({ region: access.region });
  try {
    const environment = await readFunctionEnvironment(client, functionArn);
    if (environment === undefined) return assume(`there is no function ${functionArn}`);
    const seconds = takeoverGraceSecondsOf(environment);
    if (seconds === undefined) return assume(`${functionArn} sets no ${LOCK_TAKEOVER_GRACE_SECONDS_ENV}`);
    return { seconds, from: functionArn };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return assume(`${reason} (it needs lambda:GetFunctionConfiguration on ${functionArn})`);
  } finally {
    client.destroy();
  }
}

/**
 * A run stopped outside the state machine's paths (StopExecution, the state machine's timeout) does not
 * stop the function it was waiting for, which may still write until its own timeout: the rotation
 * lock's takeover grace (lambdas/core/rotation/rotation-lock.ts), as acquire-lock is deployed with it.
 * acquire-lock would refuse the resumed run until then (the stopped run holds the lock); refused here
 * first, the operator is told when.
 */
export function refuseWhileItMayWrite(
  executionArn: string,
  status: string,
  stopDate: Date | undefined,
  now: Date,
  grace: TakeoverGrace,
) {
  const decision = decideTakeover({
    holding: { holder: executionArn, acquiredAt: '' },
    run: holderRunOf(status, stopDate),
    now,
    graceSeconds: grace.seconds,
  });
  if (!decision.takeover) {
    const source =
      grace.from === undefined
        ? "the stack's default"
        : `${LOCK_TAKEOVER_GRACE_SECONDS_ENV} of ${grace.from}`;
    throw new CliError(
      `not resumed yet: ${decision.reason} (takeover grace ${grace.seconds} s, ${source})`,
      EXIT_CODES.checkFailed,
    );
  }
}
