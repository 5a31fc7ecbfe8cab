/**
 * A MeshTrustRotation was configured with a value it cannot deploy. Thrown at synth time, before any
 * resource exists; the message names the construct path, the property and the value received.
 */
export class MeshTrustConfigError extends Error {
  /** Construct path of the construct whose props were rejected. */
  readonly constructPath: string;
  /** The property that holds the bad value. */
  readonly property: string;

  constructor(constructPath: string, property: string, message: string, options?: ErrorOptions) {
    super(`${constructPath}: ${message}`, options);
    this.name = 'MeshTrustConfigError';
    this.constructPath = constructPath;
    this.property = property;
  }
}
