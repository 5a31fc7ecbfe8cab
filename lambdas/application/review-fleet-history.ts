import {
  LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS,
  RESTART_INVOCATION_RESERVE_MS,
} from '../contract/function-timeouts.js';
import {
  estimateHistoryEvents,
  type HistoryEstimate,
  type HistoryEstimateInput,
  historyLimitProblem,
} from '../core/plan/history-estimate.js';
import type { RotationMode } from '../core/plan/phases.js';
import type { RotationConfig } from './config.js';
import type { ClusterReading } from './review-fleet.js';

export interface FleetHistoryReview {
  readonly input: HistoryEstimateInput;
  readonly estimate: HistoryEstimate;
  /** Why preflight refuses: the worst case exceeds the safe share of Step Functions' history limit. */
  readonly refusal?: string;
  /** Clusters whose restart waves the estimate could not count (their workloads could not be listed). */
  readonly note?: string;
}

/**
 * The execution history one run of the plan records at worst (lambdas/core/plan/history-estimate.ts),
 * from what preflight read: the clusters the Maps iterate (`worked`: the fleet, or the cluster an
 * intermediate rekey works on), each with the workloads restart-workloads would restart, and the
 * stack's restart settings. Shared by preflight and `meshtrust plan`.
 */
export function reviewFleetHistory(input: {
  readonly readings: readonly ClusterReading[];
  readonly worked: readonly string[];
  readonly mode: RotationMode;
  readonly config: Pick<RotationConfig, 'restartWaveSize' | 'rolloutTimeoutSeconds' | 'distributedMaps'>;
}): FleetHistoryReview {
  const estimateInput: HistoryEstimateInput = {
    mode: input.mode,
    clusters: input.worked.map((name) => {
      const workloads = input.readings.find((reading) => reading.cluster === name)?.workloads;
      return {
        name,
        workloads: workloads !== undefined && 'restart' in workloads ? workloads.restart : undefined,
      };
    }),
    restartWaveSize: input.config.restartWaveSize,
    rolloutTimeoutSeconds: input.config.rolloutTimeoutSeconds,
    // restart-workloads runs under the long-running timeout and keeps its reserve for the answer.
    restartInvocationSeconds: LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS - RESTART_INVOCATION_RESERVE_MS / 1000,
    distributedMaps: input.config.distributedMaps,
  };
  const estimate = estimateHistoryEvents(estimateInput);
  const refusal = historyLimitProblem(estimateInput, estimate);
  return {
    input: estimateInput,
    estimate,
    ...(refusal !== undefined && { refusal }),
    ...(estimate.uncounted.length > 0 && {
      note:
        `the execution history estimate (${estimate.worstCase} events at worst) counts no restart wave of ` +
        `${estimate.uncounted.join(', ')}, whose workloads could not be listed`,
    }),
  };
}
