import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { type RootCertConfigMap, readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import type { RotationRuntime } from './runtime.js';
import { waitUntil } from './wait-until.js';

/**
 * The "bundle published" wait of verify-trust and rollback's restore-trust: reads every namespace's
 * istio-ca-root-cert (istiod publishes the root-cert.pem it loaded there) until `judge`, a pure function
 * of what it read, finds it done, or VERIFY_TIMEOUT_SECONDS pass. Returns the last judgement; the caller
 * words the refusal.
 */
export async function awaitPublishedRoots<T extends { readonly done: boolean }>(
  runtime: Pick<RotationRuntime, 'config'>,
  client: ClusterClient,
  judge: (configMaps: readonly RootCertConfigMap[]) => T,
): Promise<T> {
  const result = await waitUntil(runtime.config.verifyTimeoutSeconds * 1000, async () => {
    const value = judge(await readRootCertConfigMaps(client));
    return { done: value.done, value };
  });
  return result.value;
}
