import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { findInjected } from '../adapters/kube/injected-workloads.js';
import { newRootLookup } from '../application/new-root-published.js';
import type { RotationRuntime } from '../application/runtime.js';
import { checkWorkloadMoved, checkWorkloadsMoved } from '../application/workload-moved.js';
import { restartIdFor } from '../core/rotation/restart-id.js';
import { workloadsRefusal } from '../core/rotation/workload-move-findings.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'verify-workloads';

export interface VerifyWorkloadsOutput {
  readonly cluster: string;
  readonly workloads: number;
  readonly pods: number;
}

/**
 * verify-workloads, per cluster (a gate, writes nothing): no pod can still hold a certificate from the
 * old intermediate. Every injected workload either was restarted by this execution, its rollout is
 * complete and every one of its pods is ready and started after the restart; or (a root rotation, the
 * `resign` strategy) every one of its pods is ready and its proxy serves a leaf whose issuer the new
 * root signed, as read from its Envoy admin port (adapters/kube/served-certificate.ts).
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<VerifyWorkloadsOutput> {
  const input = parseInput(clusterStepSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      cluster: input.cluster,
      lambdaContext: context,
      connectCluster: connectEksCluster,
    },
    (runtime) => verifyWorkloads(input, runtime),
  );
}

async function verifyWorkloads(
  input: ClusterStepInput,
  runtime: RotationRuntime,
): Promise<VerifyWorkloadsOutput> {
  const { executionId, cluster, stagedRoot } = input;
  const restartId = restartIdFor(executionId, cluster, 'rotation');
  const client = await runtime.clusterClient(cluster);
  // One set of cluster-wide lists: every workload is judged on them.
  const found = await findInjected(client);
  const { workloads } = found;
  // Read once, when a workload this rotation did not restart first needs it.
  const newRoot = stagedRoot === null ? undefined : newRootLookup(client, stagedRoot.fingerprint);
  const { problems, pods } = await checkWorkloadsMoved(workloads, (ref) =>
    checkWorkloadMoved(client, found, ref, { restartId, newRoot }),
  );
  const refusal = workloadsRefusal(cluster, problems);
  if (refusal !== undefined) throw new VerificationFailed(refusal, { cluster, phase: PHASE });
  return { cluster, workloads: workloads.length, pods };
}
