import { z } from 'zod';
import { findInjected, type UnmanagedPod } from '../adapters/kube/injected-workloads.js';
import { restartWorkload, waitForRollout } from '../adapters/kube/workload-restart.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { RESTART_PURPOSES, type RestartPurpose, restartIdFor } from '../core/rotation/restart-id.js';
import { restartWaves } from '../core/rotation/restart-waves.js';
import { auditStateChange } from './runtime/audit-state-change.js';
import { clusterStepSchema, parseInput } from './runtime/handler-input.js';
import { waitForIstiodOnCacerts } from './runtime/istiod-loaded.js';
import { runHandler } from './runtime/run-handler.js';
import type { HandlerRuntime } from './runtime/runtime.js';

const PHASE = 'restart-workloads';
/** Keeps the Step Functions payload small on a cluster full of Jobs. */
const MAX_UNMANAGED_LISTED = 50;

const inputSchema = clusterStepSchema.extend({
  purpose: z.enum(RESTART_PURPOSES as [RestartPurpose, ...RestartPurpose[]]).default('rotation'),
});
export type RestartWorkloadsInput = z.infer<typeof inputSchema>;

export interface RestartWorkloadsOutput {
  readonly cluster: string;
  readonly purpose: RestartPurpose;
  readonly restartId: string;
  /** Injected workloads found. */
  readonly workloads: number;
  /** Restarted by this call; the others carried the restart id already (a re-run). */
  readonly restarted: number;
  readonly waves: number;
  /**
   * Injected pods nothing can `rollout restart` (bare pods, Jobs): not restarted; they take the new
   * intermediate at their next renewal (docs/workflow.md). At most 50 listed.
   */
  readonly unmanaged: readonly UnmanagedPod[];
  /** Set when nothing had to restart, saying why. */
  readonly skipped?: string;
}

/**
 * restart-workloads, per cluster: `rollout restart` of every injected Deployment, StatefulSet and
 * DaemonSet, in waves of RESTART_WAVE_SIZE (emergency: one wave), waiting for each wave to be ready,
 * so every pod gets a certificate from the cluster's current intermediate: first, every istiod replica
 * must sign with the intermediate in cacerts (runtime/istiod-loaded.ts). The restart id (from
 * execution, cluster and purpose) is written on each pod template: a re-run restarts nothing twice.
 * purpose `rollback` restarts only a cluster whose intermediate this execution switched.
 */
export async function handler(event: unknown): Promise<RestartWorkloadsOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    { phase: PHASE, executionId: input.executionId, cluster: input.cluster, writes: true },
    (runtime) => restartWorkloads(input, runtime),
  );
}

async function restartWorkloads(
  input: RestartWorkloadsInput,
  runtime: HandlerRuntime,
): Promise<RestartWorkloadsOutput> {
  const { executionId, cluster, purpose, mode } = input;
  const restartId = restartIdFor(executionId, cluster, purpose);
  const auditPhase = purpose === 'rollback' ? 'rollback' : PHASE;
  if (purpose === 'rollback' && !(await intermediateSwitchedBy(runtime, executionId, cluster))) {
    const skipped =
      'this execution did not switch the cluster intermediate; its workloads hold original certificates';
    return { cluster, purpose, restartId, workloads: 0, restarted: 0, waves: 0, unmanaged: [], skipped };
  }
  const client = await runtime.clusterClient(cluster);
  // No pod may come back before istiod signs with the intermediate now in cacerts.
  await waitForIstiodOnCacerts(runtime, client, auditPhase);
  const { workloads, unmanaged } = await findInjected(client);
  const waves = restartWaves(workloads, mode === 'emergency' ? 'all' : runtime.config.restartWaveSize);
  const timeoutMs = runtime.config.rolloutTimeoutSeconds * 1000;
  let restarted = 0;
  for (const wave of waves) {
    const at = new Date();
    for (const workload of wave) {
      if ((await restartWorkload(client, workload, { restartId, at })).restarted) restarted++;
    }
    await Promise.all(wave.map((workload) => waitForRollout(client, workload, { timeoutMs })));
  }
  auditStateChange({
    phase: auditPhase,
    action: 'restart-workloads',
    cluster,
    executionId,
    outcome: restarted > 0 ? 'succeeded' : 'unchanged',
    detail: {
      restartId,
      purpose,
      workloads: workloads.length,
      restarted,
      waves: waves.length,
      unmanaged: unmanaged.length,
    },
  });
  return {
    cluster,
    purpose,
    restartId,
    workloads: workloads.length,
    restarted,
    waves: waves.length,
    unmanaged: unmanaged.slice(0, MAX_UNMANAGED_LISTED),
    ...(workloads.length === 0 && { skipped: 'the cluster has no injected workloads' }),
  };
}

/** Whether this execution stored (and so may have written) a new intermediate for the cluster. */
async function intermediateSwitchedBy(
  runtime: HandlerRuntime,
  executionId: string,
  cluster: string,
): Promise<boolean> {
  const token = clientRequestTokenFor(executionId, `intermediate/${cluster}`);
  return (await runtime.store.tryReadIntermediate(cluster))?.ref.versionId === token;
}
