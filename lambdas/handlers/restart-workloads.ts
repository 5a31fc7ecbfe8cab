import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { findInjected, type UnmanagedPod } from '../adapters/kube/injected-workloads.js';
import { restartWorkload } from '../adapters/kube/workload-restart.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { auditStateChange } from '../application/audit-state-change.js';
import { positionOf, type ResignSummary, waitForResign } from '../application/await-resign.js';
import { waitForIstiodOnCacerts } from '../application/istiod-loaded.js';
import { primaryServing } from '../application/remote-cluster.js';
import {
  admitUnderBudgets,
  heldByBudgets,
  lateRollouts,
  rolloutsBehind,
} from '../application/restart-wave-runner.js';
import type { HandlerRuntime } from '../application/runtime.js';
import {
  LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS,
  RESTART_INVOCATION_RESERVE_MS,
} from '../contract/function-timeouts.js';
import { ROLLBACK_OF_KEY } from '../contract/resume-rollback.js';
import { ROTATION_STRATEGIES, type RotationStrategy } from '../core/istio/rotation-strategy.js';
import { describeHeldWorkload } from '../core/rotation/disruption-budget.js';
import { isBehind } from '../core/rotation/resign-wait.js';
import { RESTART_PURPOSES, type RestartPurpose, restartIdFor } from '../core/rotation/restart-id.js';
import {
  invocationDeadline,
  type RestartCursor,
  remainingWaves,
  runRestartWaves,
  type WorkloadPosition,
} from '../core/rotation/restart-progress.js';
import { clusterStepSchema, executionIdSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'restart-workloads';
/** Keeps the Step Functions payload small on a cluster full of Jobs. */
const MAX_UNMANAGED_LISTED = 50;
/**
 * Kept at the end of every invocation for the last rollout poll, the audit event and the answer, so
 * the invocation returns its cursor before Lambda stops it (declared in the contract, since preflight's
 * execution history estimate counts with it too).
 */
export const INVOCATION_RESERVE_MS = RESTART_INVOCATION_RESERVE_MS;
/** How often a wave with workloads held back by a PodDisruptionBudget reads the budgets again. */
export const DISRUPTION_BUDGET_POLL_MS = 2_000;

const workloadPositionSchema = z.object({
  namespace: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
});

/** What the resign wait found; carried from invocation to invocation as it was. */
const resignSummarySchema: z.ZodType<ResignSummary> = z.object({
  pods: z.number().int().min(0),
  moved: z.number().int().min(0),
  waitedSeconds: z.number().int().min(0),
  fallback: z.number().int().min(0),
  fallbackWorkloads: z.array(z.string()),
  unmovedUnmanaged: z.array(z.string()),
  behind: z.array(z.string()),
});

/** The previous invocation's output, as the state machine hands it back (only what resumes is read). */
const progressSchema = z.object({
  restarted: z.number().int().min(0),
  waves: z.number().int().min(0),
  invocations: z.number().int().min(1),
  resumeAfter: workloadPositionSchema.optional(),
  waveStartedAt: z.iso.datetime({ offset: true }).optional(),
  resign: resignSummarySchema.optional(),
  /** resign: the workloads the fallback restarts, while some remain. */
  resignFallback: z.array(workloadPositionSchema).optional(),
});

const inputSchema = clusterStepSchema.extend({
  purpose: z.enum(RESTART_PURPOSES as [RestartPurpose, ...RestartPurpose[]]).default('rotation'),
  /** The cluster's strategy from preflight's plan (its item of `$.preflight.clusters`). */
  strategy: z.enum(ROTATION_STRATEGIES).default('restart'),
  /** Absent on the first invocation for the cluster; then the output of the one before. */
  progress: progressSchema.optional(),
  /**
   * purpose rollback: the execution whose switch of the intermediate is undone, when it is not this one
   * (a resumed rollback, lambdas/contract/resume-rollback.ts). Its restart id is used, so a workload the
   * failed rollback restarted already is not restarted again.
   */
  [ROLLBACK_OF_KEY]: executionIdSchema.nullable().optional(),
});
export type RestartWorkloadsInput = z.input<typeof inputSchema>;
type ParsedInput = z.infer<typeof inputSchema>;

export interface RestartWorkloadsOutput {
  readonly cluster: string;
  readonly purpose: RestartPurpose;
  /**
   * How the workloads moved to the new intermediate: `restart`, or `resign` (a root rotation on a
   * cluster with PCDS: the proxies re-signed by themselves, and only those behind at the deadline
   * were restarted). A rollback always restarts.
   */
  readonly strategy: RotationStrategy;
  /** resign: what the wait on the proxies found, and which workloads fell back to a restart. */
  readonly resign?: ResignSummary;
  /** resign, while the fallback has waves left: every workload it restarts. */
  readonly resignFallback?: readonly WorkloadPosition[];
  readonly restartId: string;
  /**
   * false: waves remain, and the state machine invokes the handler again with this output as
   * `progress`; true: every injected workload was restarted and rolled out.
   */
  readonly done: boolean;
  /** Injected workloads found (by this invocation). */
  readonly workloads: number;
  /**
   * Restarted by this restart so far, over every invocation; the others carried the restart id already
   * (a re-run). An invocation that Lambda stopped is not counted: its restarts are found done.
   */
  readonly restarted: number;
  /** Waves whose rollouts finished, over every invocation. */
  readonly waves: number;
  /** Invocations so far, this one included. */
  readonly invocations: number;
  /** The last workload of the last finished wave: the next invocation goes on after it. */
  readonly resumeAfter?: WorkloadPosition;
  /** When the wave after resumeAfter was started, if this invocation ran out of time waiting for it. */
  readonly waveStartedAt?: string;
  /**
   * The wave's workloads a PodDisruptionBudget still held back when this invocation ran out of time,
   * each with the budget and its status (docs/workflow.md, "PodDisruptionBudgets"); the next
   * invocation goes on waiting. At most 50 listed.
   */
  readonly heldByBudgets?: readonly string[];
  /**
   * Injected pods nothing can `rollout restart` (bare pods, Jobs): not restarted; they take the new
   * intermediate at their next renewal (docs/workflow.md). At most 50 listed.
   */
  readonly unmanaged: readonly UnmanagedPod[];
  /** Set when nothing had to restart, saying why. */
  readonly skipped?: string;
}

/** The part of the Lambda context the handler reads: its request id, and the time left. */
export interface InvocationContext extends LambdaContext {
  getRemainingTimeInMillis(): number;
}

/**
 * restart-workloads, per cluster: `rollout restart` of every injected Deployment, StatefulSet and
 * DaemonSet, in waves of RESTART_WAVE_SIZE (emergency: one wave), waiting for each wave to be ready,
 * so every pod gets a certificate from the cluster's current intermediate. A workload is restarted only
 * while the PodDisruptionBudgets covering it allow a disruption (core/rotation/disruption-budget.ts):
 * held, it is looked at again within the wave's rollout timeout. First, every istiod replica
 * must sign with the intermediate in cacerts (application/istiod-loaded.ts). The restart id (from
 * execution, cluster and purpose) is written on each pod template: a re-run restarts nothing twice.
 * purpose `rollback` restarts only a cluster whose intermediate this execution switched.
 *
 * One invocation runs the waves that fit in its remaining time (the Lambda context's, or the function
 * timeout without one) and returns `done: false` with a cursor when waves remain; the state machine
 * loops back with that output as `progress` until `done: true`. A wave still rolling out at the end of
 * an invocation is waited for by the next, its rollout timeout counted from when it started.
 */
export async function handler(event: unknown, context?: InvocationContext): Promise<RestartWorkloadsOutput> {
  // Read first: the handler's own set-up counts against the time too.
  const remainingMs =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis()
      : LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS * 1000;
  const deadline = invocationDeadline(Date.now(), remainingMs, INVOCATION_RESERVE_MS);
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      cluster: input.cluster,
      writes: true,
      lambdaContext: context,
    },
    (runtime) => restartWorkloads(input, runtime, deadline),
  );
}

async function restartWorkloads(
  input: ParsedInput,
  runtime: HandlerRuntime,
  deadline: number,
): Promise<RestartWorkloadsOutput> {
  const { executionId, cluster, purpose, mode, progress } = input;
  // Only a root rotation pushes new roots that make proxies re-sign (reissue-intermediate decides alike).
  const strategy: RotationStrategy =
    purpose === 'rotation' && mode !== 'intermediate' ? input.strategy : 'restart';
  // The rotation whose intermediate switch a rollback restart undoes: this one, or a failed run's.
  const rotation = (purpose === 'rollback' ? input[ROLLBACK_OF_KEY] : undefined) ?? executionId;
  const restartId = restartIdFor(rotation, cluster, purpose);
  const auditPhase = purpose === 'rollback' ? 'rollback' : PHASE;
  const invocations = (progress?.invocations ?? 0) + 1;
  if (purpose === 'rollback' && !(await intermediateSwitchedBy(runtime, rotation, cluster))) {
    const skipped =
      'this execution did not switch the cluster intermediate; its workloads hold original certificates';
    return {
      cluster,
      purpose,
      strategy,
      restartId,
      done: true,
      workloads: 0,
      restarted: 0,
      waves: 0,
      invocations,
      unmanaged: [],
      skipped,
    };
  }
  const client = await runtime.clusterClient(cluster);
  // No pod may come back before istiod signs with the intermediate now in cacerts. An invocation that
  // goes on from a cursor follows one that passed this gate.
  if (progress === undefined) await waitForIstiodOnCacerts(runtime, client, auditPhase);
  const { workloads: injected, unmanaged, proxiedPods } = await findInjected(client);
  let resign = progress?.resign;
  let fallback = progress?.resignFallback;
  if (strategy === 'resign' && progress === undefined) {
    const waited = await waitForResign(runtime, client, proxiedPods, deadline, executionId, PHASE);
    resign = waited.summary;
    fallback = injected.filter((workload) => isBehind(waited.round, workload)).map(positionOf);
  }
  // resign: the fallback restarts the workloads still behind, and nothing else.
  const workloads =
    fallback === undefined
      ? injected
      : injected.filter((workload) =>
          fallback.some(
            (position) =>
              position.namespace === workload.namespace &&
              position.kind === workload.kind &&
              position.name === workload.name,
          ),
        );
  const cursor: RestartCursor = {
    ...(progress?.resumeAfter !== undefined && { resumeAfter: progress.resumeAfter }),
    ...(progress?.waveStartedAt !== undefined && { waveStartedAt: progress.waveStartedAt }),
  };
  const waves = remainingWaves(
    workloads,
    cursor,
    mode === 'emergency' ? 'all' : runtime.config.restartWaveSize,
  );
  const outcome = await runRestartWaves(
    waves,
    cursor,
    { deadline, rolloutTimeoutMs: runtime.config.rolloutTimeoutSeconds * 1000 },
    {
      now: () => Date.now(),
      admit: (wave) => admitUnderBudgets(client, wave, restartId),
      pause: (until) => sleep(Math.max(0, Math.min(DISRUPTION_BUDGET_POLL_MS, until - Date.now()))),
      restart: async (admitted) => {
        const at = new Date();
        let restarted = 0;
        for (const workload of admitted) {
          if ((await restartWorkload(client, workload, { restartId, at })).restarted) restarted++;
        }
        return restarted;
      },
      behind: (wave, until) => rolloutsBehind(client, wave, until),
    },
  );
  if (outcome.held !== undefined) {
    throw heldByBudgets(cluster, outcome.held, runtime.config.rolloutTimeoutSeconds);
  }
  if (outcome.late !== undefined) {
    throw lateRollouts(cluster, outcome.late, runtime.config.rolloutTimeoutSeconds);
  }
  const { done, restarted, wavesFinished } = outcome;
  const restartedBefore = progress?.restarted ?? 0;
  const total = restartedBefore + restarted;
  const wavesSoFar = (progress?.waves ?? 0) + wavesFinished;
  auditStateChange({
    phase: auditPhase,
    action: 'restart-workloads',
    cluster,
    executionId,
    outcome: restarted > 0 ? 'succeeded' : 'unchanged',
    detail: {
      restartId,
      purpose,
      strategy,
      workloads: workloads.length,
      restarted,
      restartedSoFar: total,
      waves: wavesFinished,
      wavesSoFar,
      invocation: invocations,
      ...(outcome.waitingOn !== undefined && { heldByBudgets: outcome.waitingOn.length }),
      ...(rotation !== executionId && { rollbackOf: rotation }),
      done,
      unmanaged: unmanaged.length,
    },
  });
  return {
    cluster,
    purpose,
    strategy,
    ...(resign !== undefined && { resign }),
    ...(!done && fallback !== undefined && { resignFallback: fallback }),
    restartId,
    done,
    workloads: injected.length,
    restarted: total,
    waves: wavesSoFar,
    invocations,
    ...(!done && outcome.cursor.resumeAfter !== undefined && { resumeAfter: outcome.cursor.resumeAfter }),
    ...(!done &&
      outcome.cursor.waveStartedAt !== undefined && { waveStartedAt: outcome.cursor.waveStartedAt }),
    ...(outcome.waitingOn !== undefined && {
      heldByBudgets: outcome.waitingOn.slice(0, MAX_UNMANAGED_LISTED).map(describeHeldWorkload),
    }),
    unmanaged: unmanaged.slice(0, MAX_UNMANAGED_LISTED),
    ...(injected.length === 0
      ? { skipped: 'the cluster has no injected workloads' }
      : workloads.length === 0 && { skipped: 'every proxy re-signed with the new intermediate' }),
  };
}

/**
 * Whether this execution stored (and so may have written) a new intermediate for the cluster, or for a
 * remote cluster's primary, whose istiod signs the remote's workloads.
 */
async function intermediateSwitchedBy(
  runtime: HandlerRuntime,
  executionId: string,
  cluster: string,
): Promise<boolean> {
  const signer = primaryServing(runtime, cluster) ?? cluster;
  const token = clientRequestTokenFor(executionId, `intermediate/${signer}`);
  return (await runtime.store.tryReadIntermediate(signer))?.ref.versionId === token;
}
