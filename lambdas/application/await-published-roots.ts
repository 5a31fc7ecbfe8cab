import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { type RootCertConfigMap, readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import type { RotationRuntime } from './runtime.js';
import { waitUntilDue } from './wait-until.js';

/**
 * The "bundle published" wait of verify-trust and rollback's restore-trust: reads every namespace's
 * istio-ca-root-cert (istiod publishes the root-cert.pem it loaded there) until `judge`, a pure function
 * of what it read, finds it done, or VERIFY_TIMEOUT_SECONDS pass, or `dueAt` (when istiod must have
 * taken the write: core/istio/istiod-load-window.ts) passes, which it then reports as `overdue`.
 * Returns the last judgement; the caller words the refusal.
 */
export async function awaitPublishedRoots<T extends { readonly done: boolean }>(
  runtime: Pick<RotationRuntime, 'config'>,
  client: ClusterClient,
  judge: (configMaps: readonly RootCertConfigMap[]) => T,
  dueAt?: Date,
): Promise<T & { readonly overdue: boolean }> {
  const result = await waitUntilDue(runtime.config.verifyTimeoutSeconds * 1000, dueAt, async () => {
    const value = judge(await readRootCertConfigMaps(client));
    return { done: value.done, value };
  });
  return { ...result.value, overdue: result.overdue };
}
