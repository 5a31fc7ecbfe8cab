/**
 * The names the stack gives a mesh's rotation functions, declared once: lib/ names them so, and the CLI
 * reads a deployed function's configuration by that name (its environment holds what the stack decided,
 * e.g. the roles of the CA secrets' resource policy and the rotation lock's takeover grace).
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */

/** `meshtrust-<meshId>-rotation`: a mesh's rotation state machine; fixed so that IAM can name it without a cycle. */
export function rotationStateMachineName(meshId: string): string {
  return `meshtrust-${meshId}-rotation`;
}

/** `meshtrust-<meshId>-<handler>`, e.g. `meshtrust-prod-acquire-lock`. */
export function rotationFunctionName(meshId: string, handler: string): string {
  return `meshtrust-${meshId}-${handler}`;
}

/** The function whose configuration holds the rotation lock's takeover grace: the one that takes the lock. */
export const LOCK_TAKING_HANDLER = 'acquire-lock';
/** A function whose configuration holds the CA secrets' resource policy roles: the one that stages a root. */
export const ROOT_STAGING_HANDLER = 'stage-root';

const STATE_MACHINE_ARN = /^arn:([a-z-]+):states:([a-z0-9-]+):(\d{12}):stateMachine:meshtrust-(.+)-rotation$/;

/**
 * The ARN of a mesh's rotation function `handler`, from the ARN of its rotation state machine: the stack
 * puts both in one account and region, named after the mesh (rotationStateMachineName,
 * rotationFunctionName). Undefined for a state machine the stack did not name.
 */
export function rotationFunctionArnOf(stateMachineArn: string, handler: string): string | undefined {
  const match = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (match === null) return undefined;
  const [, partition, region, account, meshId] = match;
  return `arn:${partition}:lambda:${region}:${account}:function:${rotationFunctionName(meshId as string, handler)}`;
}
