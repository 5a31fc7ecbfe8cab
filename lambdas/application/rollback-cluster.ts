import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { cacertsFingerprints } from '../core/rotation/cacerts-fingerprints.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { type ClusterRollbackStage, rollbackChangeFor } from '../core/rotation/rollback-stages.js';
import { awaitRestoredTrust } from './await-restored-trust.js';
import { writeClusterCacerts } from './cluster-cacerts-write.js';
import { type SkippedRemote, skipRemote } from './remote-cluster.js';
import { awaitRestoredProxyTrust, type RestoredProxyTrust } from './restored-proxy-trust.js';
import type { RollbackOutput } from './rollback-output.js';
import type { RotationRuntime } from './runtime.js';

/**
 * One per-cluster rollback stage on one cluster, undoing the writes of execution `rotation` (this one's,
 * or the run a resumed rollback undoes; the audit events are `executionId`'s): restore-trust, then until
 * istiod has published what it wrote; restore-intermediate; restore-original. Each is idempotent and a
 * no-op for a cluster the rotation never wrote to (no backup) and for a remote, which holds no cacerts:
 * its primary's restore is what its istiod serves it again.
 */
export async function rollBackCluster(
  runtime: RotationRuntime,
  step: {
    readonly stage: ClusterRollbackStage;
    readonly cluster: string;
    readonly executionId: string;
    readonly rotation: string;
  },
): Promise<RollbackOutput> {
  const { stage, cluster, executionId, rotation } = step;
  // restore-trust always answers a wait: the state after it reads one from every cluster's answer.
  const noWait = stage === 'restore-trust' ? { proxyTrustWaitSeconds: 0 } : {};
  const remote = skipRemote(runtime, { phase: 'rollback', cluster, executionId });
  if (remote !== undefined) {
    const skipped = { stage, cluster, changed: false, reason: remote.reason, ...noWait };
    return stage === 'restore-trust'
      ? { ...skipped, ...(await remoteTrust(runtime, rotation, remote)) }
      : skipped;
  }
  const backup = await runtime.store.readCacertsBackup(executionNameOf(rotation), cluster);
  if (backup === undefined) {
    return {
      stage,
      cluster,
      changed: false,
      reason: 'this execution never wrote to the cluster (no backup)',
      ...noWait,
    };
  }
  const client = await runtime.clusterClient(cluster);
  const stagedRootPem = stage === 'restore-trust' ? await stagedRootOf(runtime, rotation) : undefined;
  const { applied, after, writtenBy } = await writeClusterCacerts(
    client,
    {
      phase: 'rollback',
      action: stage,
      cluster,
      executionId,
      ...(rotation !== executionId && { detail: { rollbackOf: rotation } }),
    },
    rollbackChangeFor(stage, cluster, backup.files, stagedRootPem),
  );
  const proxyTrust =
    stage === 'restore-trust'
      ? await restoredTrust(
          runtime,
          client,
          applied.after['root-cert.pem'],
          // The roots the restored intermediate chains to: every proxy held them before the rotation.
          cacertsFingerprints(backup.files, cluster).roots,
          applied.changed ? undefined : { startRootCertPem: backup.files['root-cert.pem'] },
        )
      : {};
  return {
    stage,
    cluster,
    changed: applied.changed,
    intermediateAfter: after.intermediate,
    rootsAfter: after.roots,
    resourceVersion: applied.resourceVersion,
    // Only a write of this call has a time. cacerts found restored (by a resumed rollback, a retry) was
    // written by an earlier call at a time not known here: claiming now would name a write never made.
    ...(applied.changed && { cacertsWrittenBy: writtenBy.toISOString() }),
    ...proxyTrust,
  };
}

/**
 * restore-trust's waits, within one VERIFY_TIMEOUT_SECONDS: istiod publishes the restored root set, the
 * proxies with PCDS hold the start's roots (`restored`); the others' renewal window is answered for
 * rollback-await-proxy-trust when one of them lacks a root.
 */
async function restoredTrust(
  runtime: RotationRuntime,
  client: ClusterClient,
  rootCertPem: string,
  restored: readonly string[],
  untakenWrite: { readonly startRootCertPem: string } | undefined,
): Promise<RestoredProxyTrust> {
  const deadline = Date.now() + runtime.config.verifyTimeoutSeconds * 1000;
  await awaitRestoredTrust(runtime, client, rootCertPem, untakenWrite);
  return awaitRestoredProxyTrust(client, restored, Math.max(0, deadline - Date.now()));
}

/**
 * A remote's proxies learn the restored roots from its primary's istiod, as the primary's own do: they
 * must hold the primary's start roots before the restored intermediate signs (nothing to wait for when
 * the rotation never wrote to the primary). Its iteration may run before the primary's restore: the
 * pushed proxies are then retried, the others answered their renewal window, whose istiod settings are
 * read through the primary (the remote has no istiod).
 */
async function remoteTrust(
  runtime: RotationRuntime,
  rotation: string,
  remote: SkippedRemote,
): Promise<Partial<RestoredProxyTrust>> {
  const backup = await runtime.store.readCacertsBackup(executionNameOf(rotation), remote.primary);
  if (backup === undefined) return {};
  const [client, primary] = await Promise.all([
    runtime.clusterClient(remote.cluster),
    runtime.clusterClient(remote.primary),
  ]);
  const restored = cacertsFingerprints(backup.files, remote.primary).roots;
  return awaitRestoredProxyTrust(client, restored, runtime.config.verifyTimeoutSeconds * 1000, primary);
}

/** The certificate of the root `rotation` staged, or undefined when it staged none (intermediate mode). */
async function stagedRootOf(runtime: RotationRuntime, rotation: string): Promise<string | undefined> {
  const staged = await runtime.store.tryReadRootVersion(clientRequestTokenFor(rotation, 'root'));
  return staged?.material.certificatePem;
}
