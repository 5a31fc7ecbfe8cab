import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { type ClusterRollbackStage, rollbackChangeFor } from '../core/rotation/rollback-stages.js';
import { writeClusterCacerts } from './cluster-cacerts-write.js';
import { skipRemote } from './remote-cluster.js';
import type { RollbackOutput } from './rollback-output.js';
import type { RotationRuntime } from './runtime.js';

/**
 * One per-cluster rollback stage on one cluster, undoing the writes of execution `rotation` (this one's,
 * or the run a resumed rollback undoes; the audit events are `executionId`'s): restore-trust (whose wait
 * is verify-restored-trust's, verify-restored-trust.ts), restore-intermediate, restore-original. Each
 * answers when it wrote (`cacertsWrittenBy`), for the gate after it. Each is idempotent and a
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
  const remote = skipRemote(runtime, { phase: 'rollback', cluster, executionId });
  if (remote !== undefined) return { stage, cluster, changed: false, reason: remote.reason };
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

/** The certificate of the root `rotation` staged, or undefined when it staged none (intermediate mode). */
async function stagedRootOf(runtime: RotationRuntime, rotation: string): Promise<string | undefined> {
  const staged = await runtime.store.tryReadRootVersion(clientRequestTokenFor(rotation, 'root'));
  return staged?.material.certificatePem;
}
