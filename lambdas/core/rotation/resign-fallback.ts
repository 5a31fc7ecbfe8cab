// Which workloads a `resign` cluster still restarts (docs/workflow.md, "Rotation strategy"): after the
// wait on what its proxies serve (resign-wait.ts), only the workloads with a pod still behind, carried
// from invocation to invocation as `resignFallback`. Pure: restart-workloads reads and waits.
import { isBehind, type ResignRound } from './resign-wait.js';
import { type WorkloadPosition, workloadPosition } from './restart-progress.js';

/** The injected workloads the resign wait's last round found behind: the fallback restarts these. */
export function resignFallbackOf(
  injected: readonly WorkloadPosition[],
  round: Pick<ResignRound, 'behindWorkloads'>,
): WorkloadPosition[] {
  return injected.filter((workload) => isBehind(round, workload)).map(workloadPosition);
}

/**
 * The workloads to restart: every injected one, or with a resign fallback the injected ones it names,
 * and nothing else.
 */
export function workloadsToRestart<T extends WorkloadPosition>(
  injected: readonly T[],
  fallback: readonly WorkloadPosition[] | undefined,
): readonly T[] {
  if (fallback === undefined) return injected;
  return injected.filter((workload) =>
    fallback.some(
      (position) =>
        position.namespace === workload.namespace &&
        position.kind === workload.kind &&
        position.name === workload.name,
    ),
  );
}
