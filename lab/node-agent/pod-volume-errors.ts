// Errors of the node agent's pod volumes. A pod spec is input: each error names the pod and the volume
// (or mount) it is about, so the node agent's problem report says what to fix.
import { LabError } from '../lab-errors.js';

export class PodVolumeError extends LabError {
  /** namespace/name of the pod. */
  readonly pod: string;
  /** The volume the error is about, when there is one. */
  readonly volume: string | undefined;

  constructor(pod: string, volume: string | undefined, message: string, options?: ErrorOptions) {
    super(`pod ${pod}${volume === undefined ? '' : ` volume ${volume}`}: ${message}`, options);
    this.name = 'PodVolumeError';
    this.pod = pod;
    this.volume = volume;
  }
}

/**
 * A Secret or ConfigMap a non-optional volume needs is missing, or lacks a key an item names. kubelet
 * keeps such a pod in ContainerCreating and retries; so does the node agent.
 */
export class VolumeSourceMissingError extends PodVolumeError {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly namespace: string;
  readonly objectName: string;
  /** The missing key, when the object exists but an item names a key it lacks. */
  readonly key: string | undefined;

  constructor(
    pod: string,
    volume: string,
    object: { kind: 'Secret' | 'ConfigMap'; namespace: string; name: string; key?: string },
    options?: ErrorOptions,
  ) {
    const what =
      object.key === undefined
        ? `${object.kind} ${object.namespace}/${object.name} not found`
        : `${object.kind} ${object.namespace}/${object.name} has no key ${JSON.stringify(object.key)}`;
    super(pod, volume, `${what} and the volume is not optional; the pod waits until it exists`, options);
    this.name = 'VolumeSourceMissingError';
    this.kind = object.kind;
    this.namespace = object.namespace;
    this.objectName = object.name;
    this.key = object.key;
  }
}

/** A mountPath, subPath or item path that would reach outside the pod's root folder or its volume. */
export class UnsafeVolumePathError extends PodVolumeError {
  /** Which field held the path: `mountPath`, `subPath`, `items[].path`, ... */
  readonly field: string;
  readonly value: string;

  constructor(pod: string, volume: string | undefined, field: string, value: string, why: string) {
    super(pod, volume, `${field} ${JSON.stringify(value)} refused: ${why}`);
    this.name = 'UnsafeVolumePathError';
    this.field = field;
    this.value = value;
  }
}

/** A volume or mount the lab cannot lay out: an unsupported volume type, clashing mounts, ... */
export class UnsupportedVolumeError extends PodVolumeError {
  constructor(pod: string, volume: string | undefined, message: string) {
    super(pod, volume, message);
    this.name = 'UnsupportedVolumeError';
  }
}
