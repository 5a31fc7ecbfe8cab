// What a `resign` cluster's restart works from (docs/workflow.md, "Rotation strategy"): on its first
// invocation the wait until every proxy serves the new intermediate (await-resign.ts) and the workloads
// still behind then, which fall back to a restart; on every later one, what the first found, as the
// previous answer carries it. A `restart` cluster waits for nothing and restarts every workload.
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import type { InjectedWorkloads } from '../adapters/kube/injected-workloads.js';
import type { RotationStrategy } from '../core/istio/rotation-strategy.js';
import { resignFallbackOf } from '../core/rotation/resign-fallback.js';
import type { RestartProgress } from '../core/rotation/restart-answer.js';
import type { WorkloadPosition } from '../core/rotation/restart-progress.js';
import { type ResignSummary, waitForResign } from './await-resign.js';
import type { RotationRuntime } from './runtime.js';

export interface ResignProgress {
  /** What the wait found; absent for a `restart` cluster. */
  readonly resign: ResignSummary | undefined;
  /** The workloads the fallback restarts; absent: every injected workload is restarted. */
  readonly fallback: readonly WorkloadPosition[] | undefined;
}

export async function resignProgress(
  runtime: RotationRuntime,
  client: ClusterClient,
  found: InjectedWorkloads,
  context: {
    readonly strategy: RotationStrategy;
    readonly progress: RestartProgress<ResignSummary> | undefined;
    /** When the invocation stops waiting (epoch ms). */
    readonly deadline: number;
    readonly executionId: string;
  },
): Promise<ResignProgress> {
  const { strategy, progress, deadline, executionId } = context;
  if (strategy !== 'resign' || progress !== undefined) {
    return { resign: progress?.resign, fallback: progress?.resignFallback };
  }
  const waited = await waitForResign(
    runtime,
    client,
    found.proxiedPods,
    deadline,
    executionId,
    'restart-workloads',
  );
  return { resign: waited.summary, fallback: resignFallbackOf(found.workloads, waited.round) };
}
