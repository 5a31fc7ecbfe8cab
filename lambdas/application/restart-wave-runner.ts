// The Kubernetes side of one cluster's restart waves (lambdas/core/rotation/restart-progress.ts plans
// them): which workloads of a wave its PodDisruptionBudgets admit now, which rollouts are behind, and
// the errors a wave ends with when a budget or a rollout holds it past ROLLOUT_TIMEOUT_SECONDS.
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { listDisruptionBudgets, readWaveWorkloads } from '../adapters/kube/disruption-budgets.js';
import { describeWorkload, type WorkloadRef } from '../adapters/kube/workload-ref.js';
import { awaitRollouts, checkPodsHint, type RolloutBehind } from '../adapters/kube/workload-restart.js';
import {
  admitWave,
  describeHeldWorkload,
  type HeldWorkload,
  heldWorkloadsHint,
  type WaveAdmission,
} from '../core/rotation/disruption-budget.js';
import { VerificationFailed } from '../core/rotation-errors.js';

/**
 * Which of the wave's workloads may be restarted now under the cluster's PodDisruptionBudgets
 * (lambdas/core/rotation/disruption-budget.ts). Without a budget in the wave's namespaces the whole wave
 * is admitted unread (restarting is idempotent); otherwise the workloads there are read for their pod
 * labels and whether this restart is rolling them out.
 */
export async function admitUnderBudgets(
  client: ClusterClient,
  wave: readonly WorkloadRef[],
  restartId: string,
): Promise<WaveAdmission<WorkloadRef>> {
  const namespaces = new Set(wave.map((workload) => workload.namespace));
  const budgets = (await listDisruptionBudgets(client)).filter((budget) => namespaces.has(budget.namespace));
  if (budgets.length === 0) return { admitted: [...wave], held: [] };
  const read = await readWaveWorkloads(
    client,
    wave,
    restartId,
    new Set(budgets.map((budget) => budget.namespace)),
  );
  return admitWave(read, budgets);
}

/** The workloads of a wave whose rollouts are not done by `until` (epoch ms), with what each waits for. */
export function rolloutsBehind(
  client: ClusterClient,
  wave: readonly WorkloadRef[],
  until: number,
): Promise<RolloutBehind[]> {
  return awaitRollouts(client, wave, { timeoutMs: Math.max(0, until - Date.now()) });
}

/** A wave whose rollouts did not finish within ROLLOUT_TIMEOUT_SECONDS of its restart. */
export function lateRollouts(
  cluster: string,
  behind: readonly RolloutBehind[],
  rolloutTimeoutSeconds: number,
): VerificationFailed {
  const which = behind.map(({ workload, waiting }) => `${describeWorkload(workload)}: ${waiting}`).join('; ');
  // A StatefulSet's hint says more (a stuck pod must be deleted by hand): it goes first.
  const first = (behind.find(({ workload }) => workload.kind === 'StatefulSet') ?? behind[0])
    ?.workload as WorkloadRef;
  return new VerificationFailed(
    `In cluster ${cluster}, ${behind.length === 1 ? 'a workload' : `${behind.length} workloads`} did not finish rolling out within ${rolloutTimeoutSeconds} s of the wave's restart (ROLLOUT_TIMEOUT_SECONDS): ${which}. ${checkPodsHint(first)}`,
    { cluster },
  );
}

/** A wave a PodDisruptionBudget held back for ROLLOUT_TIMEOUT_SECONDS. */
export function heldByBudgets(
  cluster: string,
  held: readonly HeldWorkload<WorkloadRef>[],
  rolloutTimeoutSeconds: number,
): VerificationFailed {
  const which = held.map(describeHeldWorkload).join('; ');
  return new VerificationFailed(
    `In cluster ${cluster}, ${held.length === 1 ? 'a workload was' : `${held.length} workloads were`} not restarted: a PodDisruptionBudget allowed no disruption for ${rolloutTimeoutSeconds} s after the wave started (ROLLOUT_TIMEOUT_SECONDS), and a rollout restart is held to it as an eviction would be: ${which}. ${heldWorkloadsHint(held)}`,
    { cluster },
  );
}
