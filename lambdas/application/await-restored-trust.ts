import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import { namespacesOffRootSet } from '../core/istio/published-root-set.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import type { HandlerRuntime } from './runtime.js';
import { waitUntil } from './wait-until.js';

/**
 * rollback's restore-trust is done only when every namespace's istio-ca-root-cert holds the restored root
 * set (`rootCertPem`, what it wrote): waits up to VERIFY_TIMEOUT_SECONDS for istiod to publish it, then
 * VerificationFailed, which the state machine retries.
 */
export async function awaitRestoredTrust(
  runtime: Pick<HandlerRuntime, 'config'>,
  client: ClusterClient,
  rootCertPem: string,
): Promise<void> {
  const cluster = client.name;
  const result = await waitUntil(runtime.config.verifyTimeoutSeconds * 1000, async () => {
    const behind = namespacesOffRootSet(await readRootCertConfigMaps(client), rootCertPem, cluster);
    return { done: behind.length === 0, value: behind };
  });
  if (!result.done) {
    throw new VerificationFailed(
      `istio-ca-root-cert of cluster ${cluster} does not yet hold the restored root set in ${result.value.join(', ')}; ` +
        'istiod may still be pushing. Run the restore-trust stage again.',
      { cluster, phase: 'rollback' },
    );
  }
}
