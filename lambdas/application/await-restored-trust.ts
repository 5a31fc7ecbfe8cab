import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { describeLoadDelay, istiodLoadDueAt, missedWriteAdvice } from '../core/istio/istiod-load-window.js';
import { namespacesOffRootSet } from '../core/istio/published-root-set.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { awaitPublishedRoots } from './await-published-roots.js';
import type { RotationRuntime } from './runtime.js';

/**
 * rollback's restore-trust is done only when every namespace's istio-ca-root-cert holds the restored root
 * set (`rootCertPem`, what it wrote): verify-restored-trust waits up to VERIFY_TIMEOUT_SECONDS for istiod
 * to publish it, then VerificationFailed, which the state machine retries. `writtenBy`: a time at or after
 * restore-trust's writes (its Map's answers): once that is past the time istiod takes a write
 * (core/istio/istiod-load-window.ts), the attempt fails at once, naming the write istiod missed, instead of
 * waiting its whole timeout on every retry. Undefined (no answer wrote): it waits its timeout.
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
  options: {
    readonly untakenWrite?: { readonly startRootCertPem: string };
    readonly writtenBy?: Date | undefined;
  } = {},
): Promise<void> {
  const cluster = client.name;
  const { untakenWrite, writtenBy } = options;
  const { kubeletSyncPeriodSeconds } = runtime.config;
  const { done, behind, overdue } = await awaitPublishedRoots(
    runtime,
    client,
    (configMaps) => {
      const off = namespacesOffRootSet(configMaps, rootCertPem, cluster);
      if (off.length === 0) return { done: true, behind: off };
      const onStart =
        untakenWrite !== undefined &&
        configMaps.some((configMap) => configMap.rootCertPem !== undefined) &&
        namespacesOffRootSet(configMaps, untakenWrite.startRootCertPem, cluster).length === 0;
      return { done: onStart, behind: off };
    },
    istiodLoadDueAt(writtenBy, kubeletSyncPeriodSeconds),
  );
  if (!done && overdue && writtenBy !== undefined) {
    throw new VerificationFailed(
      `istio-ca-root-cert of cluster ${cluster} does not hold the restored root set in ${behind.join(', ')} ` +
        `${describeLoadDelay(writtenBy, new Date(), kubeletSyncPeriodSeconds)}: istiod of cluster ${cluster} ` +
        `has not published the root set in istio-system/cacerts. ${missedWriteAdvice('rollback')}`,
      { cluster, phase: 'rollback' },
    );
  }
  if (!done) {
    throw new VerificationFailed(
      `istio-ca-root-cert of cluster ${cluster} does not yet hold the restored root set in ${behind.join(', ')}; ` +
        'istiod may still be pushing. Run the verify-restored-trust stage again.',
      { cluster, phase: 'rollback' },
    );
  }
}
