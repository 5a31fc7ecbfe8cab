import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import { type SkippedRemote, skipRemote } from '../application/remote-cluster.js';
import { type DistributeBundleOutput, distributeBundle } from '../application/staged-root-cacerts.js';
import type { CacertsWriteHandoff } from '../contract/map-answers.js';
import { cacertsWriteHandoff } from '../core/rotation/cacerts-write-handoff.js';
import { clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { DistributeBundleOutput } from '../application/staged-root-cacerts.js';

const PHASE = 'distribute-bundle';

/**
 * distribute-bundle, per cluster: backs up `cacerts` as this execution first found it (kept on
 * re-runs), then writes root-cert = current roots + the new root. Nothing else changes.
 */
export async function handler(
  event: unknown,
  context?: LambdaContext,
): Promise<(DistributeBundleOutput | SkippedRemote) & CacertsWriteHandoff> {
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
    async (runtime) =>
      // A remote holds no cacerts: its primary's istiod publishes its bundle.
      cacertsWriteHandoff(
        skipRemote(runtime, { phase: PHASE, cluster, executionId }) ??
          (await distributeBundle(runtime, input)),
      ),
  );
}
