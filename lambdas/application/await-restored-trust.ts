import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { namespacesOffRootSet } from '../core/istio/published-root-set.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { awaitPublishedRoots } from './await-published-roots.js';
import type { RotationRuntime } from './runtime.js';

/**
 * rollback's restore-trust is done only when every namespace's istio-ca-root-cert holds the restored root
 * set (`rootCertPem`, what it wrote): waits up to VERIFY_TIMEOUT_SECONDS for istiod to publish it, then
 * VerificationFailed, which the state machine retries.
 */
export async function awaitRestoredTrust(
  runtime: Pick<RotationRuntime, 'config'>,
  client: ClusterClient,
  rootCertPem: string,
): Promise<void> {
  const cluster = client.name;
  const { done, behind } = await awaitPublishedRoots(runtime, client, (configMaps) => {
    const off = namespacesOffRootSet(configMaps, rootCertPem, cluster);
    return { done: off.length === 0, behind: off };
  });
  if (!done) {
    throw new VerificationFailed(
      `istio-ca-root-cert of cluster ${cluster} does not yet hold the restored root set in ${behind.join(', ')}; ` +
        'istiod may still be pushing. Run the restore-trust stage again.',
      { cluster, phase: 'rollback' },
    );
  }
}
