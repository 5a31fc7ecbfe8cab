/**
 * The root of meshtrust's error family. Every error that the handlers, the core and the adapters raise
 * on purpose extends it, so a caller tells a refusal or a known failure (`instanceof MeshTrustError`)
 * from a bug or a library's error. Each class sets `this.name` to its own name, which is what Lambda
 * reports as `errorType` and what the state machine's Retry and Catch match (see rotation-errors.ts for
 * the names it matches). `cause` passes through.
 *
 * Messages say what is wrong and what to do; they never hold key material.
 */
export class MeshTrustError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MeshTrustError';
  }
}
