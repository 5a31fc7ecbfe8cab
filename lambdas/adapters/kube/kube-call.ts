// One Kubernetes API call with retries on throttling, 5xx and network failures, and its failure mapped
// to the rotation's errors (kube-errors.ts), naming the cluster.
import { TransientError } from '../../core/rotation-errors.js';
import { isTransientKubeError, withRetry } from '../retry.js';
import type { ClusterClient } from './cluster-client.js';
import { isTlsVerificationError, kubeStatusOf, toClusterError } from './kube-errors.js';

export interface KubeCallOptions {
  /**
   * Also retry 409 Conflict. Only when fn re-reads the object before writing, so that a retry can
   * succeed; a write with a fixed resourceVersion would only conflict again.
   * @default false
   */
  readonly retryConflicts?: boolean;
  /** HTTP statuses the caller handles itself: they are neither retried nor mapped (e.g. 404, 409). */
  readonly passStatuses?: readonly number[];
}

/**
 * Runs fn (which may run more than once) and returns its result, or throws a PreconditionFailed or
 * TransientError naming the cluster and action. Statuses in passStatuses reach the caller as
 * the cluster client's KubeApiError itself.
 */
export async function callKube<T>(
  client: ClusterClient,
  action: string,
  fn: () => Promise<T>,
  options: KubeCallOptions = {},
): Promise<T> {
  const passed = (error: unknown): boolean => {
    const status = kubeStatusOf(error);
    return status !== undefined && (options.passStatuses ?? []).includes(status);
  };
  const isRetryable = (error: unknown): boolean =>
    !passed(error) &&
    !isTlsVerificationError(error) &&
    (kubeStatusOf(error) !== 409 || options.retryConflicts === true) &&
    isTransientKubeError(error);
  try {
    return await withRetry(fn, {
      ...client.retry,
      isRetryable,
      operation: `${action} in cluster ${client.name}`,
    });
  } catch (error) {
    if (passed(error)) throw error;
    if (error instanceof TransientError && error.cluster === undefined) {
      // withRetry's "still failed after N attempts": say which cluster, keep the last API error as cause.
      throw toClusterError(error.cause, { cluster: client.name, action });
    }
    throw toClusterError(error, { cluster: client.name, action });
  }
}
