import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import { checkReceivedApproval } from '../application/approval-received.js';
import { type SkippedRemote, skipRemote } from '../application/remote-cluster.js';
import { type RetireRootOutput, retireRoot } from '../application/staged-root-cacerts.js';
import { clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { RetireRootOutput } from '../application/staged-root-cacerts.js';

const PHASE = 'retire-root';

/**
 * retire-root, per cluster: root-cert = {new root}; refused while the cluster's intermediate does not
 * chain to the new root. The root secret is promoted afterwards, by promote-root, once every
 * cluster retired.
 */
export async function handler(
  event: unknown,
  context?: LambdaContext,
): Promise<RetireRootOutput | SkippedRemote> {
  const input = parseInput(clusterStepSchema, event, PHASE);
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
    },
    async (runtime) => {
      // Before any write: the approve-retire gate's result must be one the approval endpoint recorded.
      await checkReceivedApproval(runtime.config, {
        phase: PHASE,
        gate: 'retire',
        executionId,
        cluster,
        event,
      });
      return skipRemote(runtime, { phase: PHASE, cluster, executionId }) ?? retireRoot(runtime, input);
    },
  );
}
