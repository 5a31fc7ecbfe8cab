/**
 * The names the stack gives a mesh's rotation functions, declared once: lib/ names them so, and the CLI
 * reads a deployed function's configuration by that name (its environment holds what the stack decided,
 * e.g. the roles of the CA secrets' resource policy and the rotation lock's takeover grace).
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */

/** `meshtrust-<meshId>-<handler>`, e.g. `meshtrust-prod-acquire-lock`. */
export function rotationFunctionName(meshId: string, handler: string): string {
  return `meshtrust-${meshId}-${handler}`;
}

/** The function whose configuration holds the rotation lock's takeover grace: the one that takes the lock. */
export const LOCK_TAKING_HANDLER = 'acquire-lock';
/** A function whose configuration holds the CA secrets' resource policy roles: the one that stages a root. */
export const ROOT_STAGING_HANDLER = 'stage-root';
