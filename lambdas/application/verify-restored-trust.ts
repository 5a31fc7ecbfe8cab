import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { type CacertsWriteAnswer, latestCacertsWrite } from '../core/istio/istiod-load-window.js';
import { cacertsFingerprints } from '../core/rotation/cacerts-fingerprints.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { awaitRestoredTrust } from './await-restored-trust.js';
import { readClusterCacerts } from './cluster-cacerts.js';
import { primaryServing } from './remote-cluster.js';
import { awaitRestoredProxyTrust, type RestoredProxyTrust } from './restored-proxy-trust.js';
import type { RollbackOutput } from './rollback-output.js';
import type { RotationRuntime } from './runtime.js';

const STAGE = 'verify-restored-trust';

/**
 * verify-restored-trust on one cluster: restore-trust's wait, within one VERIFY_TIMEOUT_SECONDS. istiod
 * publishes the root set restore-trust left in cacerts (or, where restore-trust wrote nothing, possibly
 * exactly the start's roots: await-restored-trust.ts), then the proxies with PCDS hold the start's roots;
 * the others' renewal window is answered for rollback-await-proxy-trust. Writes nothing.
 *
 * `writes`: restore-trust's answers, every cluster's, as the state machine hands them on. They say when
 * each cluster was written, so an attempt past the time istiod takes a write (core/istio/istiod-load-
 * window.ts) fails at once rather than after a whole wait, and whether this cluster was written at all.
 * A stage of its own, not the end of restore-trust: a retry of restore-trust found the set written and
 * no longer knew when.
 */
export async function verifyRestoredTrust(
  runtime: RotationRuntime,
  step: {
    readonly cluster: string;
    readonly rotation: string;
    readonly writes?: readonly CacertsWriteAnswer[] | undefined;
  },
): Promise<RollbackOutput> {
  const { cluster, rotation, writes } = step;
  const unchanged = { stage: STAGE, cluster, changed: false } as const;
  const primary = primaryServing(runtime, cluster);
  if (primary !== undefined) {
    return {
      ...unchanged,
      proxyTrustWaitSeconds: 0,
      ...(await remoteTrust(runtime, rotation, cluster, primary)),
    };
  }
  const backup = await runtime.store.readCacertsBackup(executionNameOf(rotation), cluster);
  if (backup === undefined) {
    return {
      ...unchanged,
      reason: 'this execution never wrote to the cluster (no backup)',
      proxyTrustWaitSeconds: 0,
    };
  }
  const client = await runtime.clusterClient(cluster);
  const deadline = Date.now() + runtime.config.verifyTimeoutSeconds * 1000;
  // What restore-trust left in cacerts: the restored set istiod must publish.
  const { files } = await readClusterCacerts(client, 'rollback');
  // restore-trust found the set written already (its answer for this cluster says it changed nothing).
  const written = writes?.find((answer) => answer.cluster === cluster);
  const untakenWrite =
    written?.changed === false ? { startRootCertPem: backup.files['root-cert.pem'] } : undefined;
  await awaitRestoredTrust(runtime, client, files['root-cert.pem'], {
    ...(untakenWrite !== undefined && { untakenWrite }),
    writtenBy: latestCacertsWrite(writes),
  });
  // The roots the restored intermediate chains to: every proxy held them before the rotation.
  const restored = cacertsFingerprints(backup.files, cluster).roots;
  return {
    ...unchanged,
    ...(await awaitRestoredProxyTrust(client, restored, Math.max(0, deadline - Date.now()))),
  };
}

/**
 * A remote's proxies learn the restored roots from its primary's istiod, as the primary's own do: they
 * must hold the primary's start roots before the restored intermediate signs (nothing to wait for when
 * the rotation never wrote to the primary). Its iteration may run before the primary's is verified: the
 * pushed proxies are then retried, the others answered their renewal window, whose istiod settings are
 * read through the primary (the remote has no istiod).
 */
async function remoteTrust(
  runtime: RotationRuntime,
  rotation: string,
  cluster: string,
  primary: string,
): Promise<Partial<RestoredProxyTrust>> {
  const backup = await runtime.store.readCacertsBackup(executionNameOf(rotation), primary);
  if (backup === undefined) return {};
  const [client, primaryClient]: [ClusterClient, ClusterClient] = await Promise.all([
    runtime.clusterClient(cluster),
    runtime.clusterClient(primary),
  ]);
  const restored = cacertsFingerprints(backup.files, primary).roots;
  return awaitRestoredProxyTrust(client, restored, runtime.config.verifyTimeoutSeconds * 1000, primaryClient);
}
