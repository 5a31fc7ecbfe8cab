import { fenceCacerts } from '../adapters/kube/cacerts-secret.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { CacertsConflict } from '../adapters/kube/kube-errors.js';
import { withRetry } from '../adapters/retry.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { type ClusterRollbackStage, rollbackChangeFor } from '../core/rotation/rollback-stages.js';
import { auditStateChange } from './audit-state-change.js';
import { writeClusterCacerts } from './cluster-cacerts-write.js';
import { skipRemote } from './remote-cluster.js';
import type { RollbackOutput } from './rollback-output.js';
import type { RotationRuntime } from './runtime.js';

/**
 * One per-cluster rollback stage on one cluster, undoing the writes of execution `rotation` (this one's,
 * or the run a resumed rollback undoes; the audit events are `executionId`'s): restore-trust (whose wait
 * is verify-restored-trust's, verify-restored-trust.ts), restore-intermediate, restore-original. Each
 * answers when it wrote (`cacertsWrittenBy`), for the gate after it. Each is idempotent, leaves the
 * files of a cluster the rotation never wrote to (no backup) as they are, and is a no-op for a remote,
 * which holds no cacerts: its primary's restore is what its istiod serves it again.
 *
 * restore-trust, the first stage on every cluster, first fences the cluster against `rotation`'s forward
 * writes (also one it never wrote to: a late first distribute-bundle would write it a backup and then
 * cacerts): an invocation of a failed Map may still be running, and its write must not land behind the
 * rollback's look at the cluster (docs/reliability.md, finding 7).
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
  const remote = skipRemote(runtime, { phase: 'rollback', cluster, executionId });
  if (remote !== undefined) return { stage, cluster, changed: false, reason: remote.reason };
  if (stage === 'restore-trust') await fenceForwardWrites(await runtime.clusterClient(cluster), step);
  const backup = await runtime.store.readCacertsBackup(executionNameOf(rotation), cluster);
  if (backup === undefined) {
    return {
      stage,
      cluster,
      changed: false,
      reason: 'this execution never wrote to the cluster (no backup)',
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
  };
}

/**
 * Sets the rollback's fence on the cluster's cacerts Secret (adapters/kube/cacerts-secret.ts), naming
 * the execution being undone (`rotation`, also in a resumed rollback), and audits it when it wrote.
 * Written with the resourceVersion precondition, retried on a conflict.
 */
async function fenceForwardWrites(
  client: ClusterClient,
  step: { readonly cluster: string; readonly executionId: string; readonly rotation: string },
): Promise<void> {
  const { cluster, executionId, rotation } = step;
  const rolledBack = executionNameOf(rotation);
  const fenced = await withRetry(() => fenceCacerts(client, rolledBack), {
    attempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 2000,
    operation: `fence istio-system/cacerts of cluster ${cluster}`,
    isRetryable: (error) => error instanceof CacertsConflict,
  });
  if (fenced?.written !== true) return;
  auditStateChange({
    phase: 'rollback',
    action: 'fence-forward-writes',
    cluster,
    executionId,
    outcome: 'succeeded',
    detail: { resourceVersion: fenced.resourceVersion, rolledBack },
  });
}

/** The certificate of the root `rotation` staged, or undefined when it staged none (intermediate mode). */
async function stagedRootOf(runtime: RotationRuntime, rotation: string): Promise<string | undefined> {
  const staged = await runtime.store.tryReadRootVersion(clientRequestTokenFor(rotation, 'root'));
  return staged?.material.certificatePem;
}
