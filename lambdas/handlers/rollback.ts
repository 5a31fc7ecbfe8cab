import { connectRootKeys } from '../adapters/kms/connect-root-keys.js';
import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import * as z from '../adapters/zod.js';
import { workedClustersSchema } from '../application/delete-cacerts-backups.js';
import { dropPendingRoot } from '../application/drop-pending-root.js';
import { rollBackCluster } from '../application/rollback-cluster.js';
import type { RollbackOutput } from '../application/rollback-output.js';
import { verifyRestoredTrust } from '../application/verify-restored-trust.js';
import { ROLLBACK_OF_KEY } from '../contract/resume-rollback.js';
import { cacertsWriteHandoff } from '../core/rotation/cacerts-write-handoff.js';
import { ROLLBACK_STAGES, rollbackClusterOf } from '../core/rotation/rollback-stages.js';
import { cacertsWritesSchema, executionIdSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { RollbackOutput } from '../application/rollback-output.js';

const PHASE = 'rollback';

const inputSchema = z.object({
  executionId: executionIdSchema,
  stage: z.enum(ROLLBACK_STAGES),
  cluster: z.optional(z.nullable(z.string().check(z.minLength(1)))),
  /**
   * The execution whose writes are undone, when it is not this one: a resumed rollback
   * (lambdas/contract/resume-rollback.ts). Null or absent: this execution's own.
   */
  [ROLLBACK_OF_KEY]: z.optional(z.nullable(executionIdSchema)),
  /** drop-pending-root: the clusters the run worked on (preflight's), whose cacerts backups it deletes. */
  clusters: workedClustersSchema,
  /**
   * verify-restored-trust: restore-trust's answers, every cluster's, as the state machine hands them on:
   * when each cluster was written, so a write istiod missed fails the attempt at once past the time
   * istiod takes one, and whether this cluster was written at all.
   */
  writes: cacertsWritesSchema,
});
export type RollbackInput = z.infer<typeof inputSchema>;

/**
 * rollback, one stage per call (docs/workflow.md: a reverse rotation, not a blind restore):
 * restore-trust (root-cert = current ∪ start roots), verify-restored-trust (istiod published that set in
 * every namespace, the proxies hold the start's roots; writes nothing), restore-intermediate
 * (the original intermediate back, roots kept), restore-original (cacerts byte-identical to the
 * backup), drop-pending-root (this execution's AWSPENDING removed, then its cacerts backups scheduled
 * for deletion: it runs only once every cluster is restored). Each is idempotent and a no-op for a
 * cluster the execution never touched (no backup).
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<RollbackOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  const { executionId, stage } = input;
  const cluster = input.cluster ?? undefined;
  // Whose writes are undone (backups, staged root, root key); the lock and the audit events are this run's.
  const rotation = input[ROLLBACK_OF_KEY] ?? executionId;
  return runHandler(
    {
      phase: PHASE,
      executionId,
      ...(cluster && { cluster }),
      writes: true,
      lambdaContext: context,
      connectCluster: connectEksCluster,
      connectLock: connectRotationLock,
      connectRootKeys,
    },
    async (runtime) => {
      switch (stage) {
        case 'drop-pending-root':
          return dropPendingRoot(runtime, { executionId, rotation, clusters: input.clusters });
        case 'verify-restored-trust':
          return verifyRestoredTrust(runtime, {
            cluster: rollbackClusterOf(stage, cluster),
            rotation,
            writes: input.writes,
          });
        default: {
          const worked = rollbackClusterOf(stage, cluster);
          // restore-trust's and restore-intermediate's answers are the `writes` of the gate after them.
          const answer = await rollBackCluster(runtime, { stage, cluster: worked, executionId, rotation });
          return cacertsWriteHandoff({ ...answer, cluster: worked });
        }
      }
    },
  );
}
