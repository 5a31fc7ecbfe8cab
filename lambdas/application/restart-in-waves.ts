// One invocation's share of a cluster's restart (docs/workflow.md, "Restart waves across invocations"):
// the waves after the cursor (lambdas/core/rotation/restart-progress.ts decides them), each admitted
// under the cluster's PodDisruptionBudgets, restarted and awaited (restart-wave-runner.ts), until they
// are done or the invocation's deadline comes. A wave held or late at its rollout timeout ends the step.
import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { WORKLOADS_AT_ONCE, type Workload, type WorkloadRef } from '../adapters/kube/workload-ref.js';
import { restartedWith, restartWorkload } from '../adapters/kube/workload-restart.js';
import type { RotationMode } from '../core/plan/phases.js';
import type { HeldWorkload } from '../core/rotation/disruption-budget.js';
import { workloadKey } from '../core/rotation/proxied-pod-owners.js';
import {
  type RestartCursor,
  remainingWaves,
  runRestartWaves,
  type WavesOutcome,
} from '../core/rotation/restart-progress.js';
import { admitUnderBudgets, heldByBudgets, lateRollouts, rolloutsBehind } from './restart-wave-runner.js';
import type { RotationRuntime } from './runtime.js';

/** How often a wave with workloads held back by a PodDisruptionBudget reads the budgets again. */
export const DISRUPTION_BUDGET_POLL_MS = 2_000;

/**
 * Runs the waves after `cursor` that fit before `deadline` (epoch ms), `RESTART_WAVE_SIZE` workloads
 * at a time (emergency: one wave), each restart carrying `restartId`. VerificationFailed for a wave a
 * budget held, or whose rollouts did not finish, within ROLLOUT_TIMEOUT_SECONDS of its start (a wave
 * restarted before `executionStartedAt`, by the run a resumed rollback resumes, starts when taken up).
 */
export async function restartInWaves(
  runtime: RotationRuntime,
  client: ClusterClient,
  workloads: readonly WorkloadRef[],
  options: {
    readonly cursor: RestartCursor;
    readonly mode: RotationMode;
    readonly restartId: string;
    readonly deadline: number;
    /** When this execution started, epoch ms (restart-progress.ts, RestartWavesOptions). */
    readonly executionStartedAt?: number;
    /**
     * The workloads as this invocation's lists returned them, by workloadKey (findInjected's `listed`):
     * a wave taken up learns from them whether this restart id restarted it before, and a restart they
     * say is due patches without reading the workload first.
     */
    readonly listed?: ReadonlyMap<string, Workload>;
  },
): Promise<WavesOutcome<unknown, HeldWorkload<WorkloadRef>>> {
  const { cursor, mode, restartId, deadline, executionStartedAt, listed } = options;
  const { restartWaveSize, rolloutTimeoutSeconds } = runtime.config;
  const listedOf = (workload: WorkloadRef) =>
    listed?.get(workloadKey(workload.kind, workload.namespace, workload.name));
  const waves = remainingWaves(workloads, cursor, mode === 'emergency' ? 'all' : restartWaveSize);
  const outcome = await runRestartWaves(
    waves,
    cursor,
    {
      deadline,
      rolloutTimeoutMs: rolloutTimeoutSeconds * 1000,
      ...(executionStartedAt !== undefined && { executionStartedAt }),
    },
    {
      now: () => Date.now(),
      admit: (wave) => admitUnderBudgets(client, wave, restartId),
      pause: (until) => sleep(Math.max(0, Math.min(DISRUPTION_BUDGET_POLL_MS, until - Date.now()))),
      restart: async (admitted) => {
        const at = new Date();
        const restarts = await mapWithConcurrency(admitted, WORKLOADS_AT_ONCE, (workload) =>
          restartWorkload(client, workload, { restartId, at, listed: listedOf(workload) }),
        );
        return restarts.filter((restart) => restart.restarted).length;
      },
      behind: (wave, until) => rolloutsBehind(client, wave, until),
      restartedBefore: async (wave) => {
        const times = await mapWithConcurrency(wave, WORKLOADS_AT_ONCE, (workload) =>
          restartedWith(client, workload, restartId, listedOf(workload)),
        );
        const known = times.flatMap((at) => (at === undefined ? [] : [at.getTime()]));
        return known.length === 0 ? undefined : Math.min(...known);
      },
    },
  );
  if (outcome.held !== undefined) throw heldByBudgets(client.name, outcome.held, rolloutTimeoutSeconds);
  if (outcome.late !== undefined) throw lateRollouts(client.name, outcome.late, rolloutTimeoutSeconds);
  return outcome;
}
