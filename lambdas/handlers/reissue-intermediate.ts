import { connectRootKeys } from '../adapters/kms/connect-root-keys.js';
import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import * as z from '../adapters/zod.js';
import { checkReceivedApproval } from '../application/approval-received.js';
import { type ReissueIntermediateOutput, reissueIntermediate } from '../application/reissue-intermediate.js';
import { type SkippedRemote, skipRemote } from '../application/remote-cluster.js';
import type { CacertsWriteHandoff } from '../contract/map-answers.js';
import { ROTATION_STRATEGIES } from '../core/istio/rotation-strategy.js';
import { cacertsWriteHandoff } from '../core/rotation/cacerts-write-handoff.js';
import { clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { ReissueIntermediateOutput } from '../application/reissue-intermediate.js';

const PHASE = 'reissue-intermediate';

const inputSchema = z.extend(clusterStepSchema, {
  /** The cluster's strategy from preflight's plan (its item of `$.preflight.clusters`). */
  strategy: z._default(z.enum(ROTATION_STRATEGIES), 'restart'),
});
export type ReissueIntermediateInput = z.input<typeof inputSchema>;

/**
 * reissue-intermediate, per cluster: a new intermediate signed by the new root (intermediate mode:
 * by the current root), stored in the cluster's intermediate secret under a version id derived from
 * the execution, then cacerts = {int, key, int + root, root-cert unchanged}. A re-run reuses the
 * stored intermediate, so the cluster never sees a second one. A cluster whose strategy is `resign`
 * gets root-cert.pem with the new root appended once more (A+B+B), which makes istiod push a changed
 * trust anchor by PCDS: every running proxy then takes a certificate from the new intermediate without
 * a restart (docs/workflow.md, "Rotation strategy").
 */
export async function handler(
  event: unknown,
  context?: LambdaContext,
): Promise<(ReissueIntermediateOutput | SkippedRemote) & CacertsWriteHandoff> {
  const input = parseInput(inputSchema, event, PHASE);
  const { executionId, cluster } = input;
  return runHandler(
    {
      phase: PHASE,
      executionId,
      cluster,
      writes: true,
      lambdaContext: context,
      connectCluster: connectEksCluster,
      connectLock: connectRotationLock,
      connectRootKeys,
    },
    async (runtime) => {
      // Before any write: the approve-reissue gate's result must be one the approval endpoint recorded.
      await checkReceivedApproval(runtime.config, {
        phase: PHASE,
        gate: 'reissue',
        executionId,
        cluster,
        event,
      });
      // A remote's proxies are signed by its primary's istiod, whose own reissue moves them.
      return cacertsWriteHandoff(
        skipRemote(runtime, { phase: PHASE, cluster, executionId }) ??
          (await reissueIntermediate(runtime, input)),
      );
    },
  );
}
