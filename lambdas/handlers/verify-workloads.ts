import { findInjectedWorkloads } from '../adapters/kube/injected-workloads.js';
import { callKube } from '../adapters/kube/kube-call.js';
import { describeWorkload, readWorkload } from '../adapters/kube/workload-ref.js';
import {
  listWorkloadPods,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  waitForRollout,
} from '../adapters/kube/workload-restart.js';
import { restartIdFor } from '../core/rotation/restart-id.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './runtime/handler-input.js';
import { type LambdaContext, runHandler } from './runtime/run-handler.js';
import type { HandlerRuntime } from './runtime/runtime.js';

const PHASE = 'verify-workloads';

export interface VerifyWorkloadsOutput {
  readonly cluster: string;
  readonly workloads: number;
  readonly pods: number;
}

/**
 * verify-workloads, per cluster (a gate, writes nothing): every injected workload was restarted by
 * this execution, its rollout is complete, and every one of its pods is ready and started after the
 * restart, so no pod can still hold a certificate from the old intermediate.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<VerifyWorkloadsOutput> {
  const input = parseInput(clusterStepSchema, event, PHASE);
  return runHandler(
    { phase: PHASE, executionId: input.executionId, cluster: input.cluster, lambdaContext: context },
    (runtime) => verifyWorkloads(input, runtime),
  );
}

async function verifyWorkloads(
  input: ClusterStepInput,
  runtime: HandlerRuntime,
): Promise<VerifyWorkloadsOutput> {
  const { executionId, cluster } = input;
  const restartId = restartIdFor(executionId, cluster, 'rotation');
  const client = await runtime.clusterClient(cluster);
  const workloads = await findInjectedWorkloads(client);
  const problems: string[] = [];
  let pods = 0;
  for (const ref of workloads) {
    const what = describeWorkload(ref);
    const workload = await callKube(client, `read ${what}`, () => readWorkload(client, ref));
    const template = workload.spec?.template.metadata?.annotations ?? {};
    if (template[RESTART_ID_ANNOTATION] !== restartId) {
      problems.push(`${what} was not restarted by this rotation (run restart-workloads)`);
      continue;
    }
    try {
      await waitForRollout(client, ref, { timeoutMs: 0 });
    } catch (error) {
      problems.push(error instanceof Error ? error.message : `${what} has not finished rolling out`);
      continue;
    }
    // restartedAt has seconds precision; a pod created in that second counts as after it.
    const restartedAt = Date.parse(template[RESTARTED_AT_ANNOTATION] ?? '');
    for (const pod of await listWorkloadPods(client, ref)) {
      pods++;
      if (!pod.ready) problems.push(`pod ${ref.namespace}/${pod.name} of ${what} is not ready`);
      else if (!(pod.createdAt.getTime() >= restartedAt)) {
        problems.push(`pod ${ref.namespace}/${pod.name} of ${what} started before the restart`);
      }
    }
  }
  if (problems.length > 0) {
    throw new VerificationFailed(
      `Workloads of cluster ${cluster} may still hold certificates from the old intermediate: ` +
        `${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}.`,
      { cluster, phase: PHASE },
    );
  }
  return { cluster, workloads: workloads.length, pods };
}
