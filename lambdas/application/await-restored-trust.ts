import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { namespacesOffRootSet } from '../core/istio/published-root-set.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { awaitPublishedRoots } from './await-published-roots.js';
import type { RotationRuntime } from './runtime.js';

/**
 * rollback's restore-trust is done only when every namespace's istio-ca-root-cert holds the restored root
 * set (`rootCertPem`, what it wrote): waits up to VERIFY_TIMEOUT_SECONDS for istiod to publish it, then
 * VerificationFailed, which the state machine retries.
 *
 * `untakenWrite`: restore-trust wrote nothing (cacerts already held the restored set, as the run's
 * distribute-bundle wrote it). Then istiod publishing exactly the start's roots everywhere is done too:
 * istiod never took the run's root write (a missed write: it reloads only on a file change, and nothing
 * changes any more), so nothing of the run reached this cluster's proxies, and no intermediate chained to
 * the new root was signed anywhere (reissue-intermediate runs only after verify-trust saw every cluster's
 * istiod publish the new set). Waiting for the restored set there would wait for ever (reliability
 * finding 5); the rollback's last stage writes the start's cacerts back, which istiod then loads.
 */
export async function awaitRestoredTrust(
  runtime: Pick<RotationRuntime, 'config'>,
  client: ClusterClient,
  rootCertPem: string,
  untakenWrite?: { readonly startRootCertPem: string },
): Promise<void> {
  const cluster = client.name;
  const { done, behind } = await awaitPublishedRoots(runtime, client, (configMaps) => {
    const off = namespacesOffRootSet(configMaps, rootCertPem, cluster);
    if (off.length === 0) return { done: true, behind: off };
    const onStart =
      untakenWrite !== undefined &&
      configMaps.some((configMap) => configMap.rootCertPem !== undefined) &&
      namespacesOffRootSet(configMaps, untakenWrite.startRootCertPem, cluster).length === 0;
    return { done: onStart, behind: off };
  });
  if (!done) {
    throw new VerificationFailed(
      `istio-ca-root-cert of cluster ${cluster} does not yet hold the restored root set in ${behind.join(', ')}; ` +
        'istiod may still be pushing. Run the restore-trust stage again.',
      { cluster, phase: 'rollback' },
    );
  }
}
