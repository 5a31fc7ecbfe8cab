// What one restart-workloads invocation answers, and what it takes back from the answer before it: the
// state machine hands the answer of an invocation that did not finish to the next as `progress`
// (docs/workflow.md, "Restart waves across invocations"). Pure: the handler reads and restarts, these
// functions count and word. `Resign` is what the resign wait found (application/await-resign.ts),
// carried from invocation to invocation as it was.
import { describeHeldWorkload, type HeldWorkload } from './disruption-budget.js';
import type { UnmanagedPod } from './proxied-pod-owners.js';
import type { RestartPurpose } from './restart-id.js';
import type { RestartCursor, WavesOutcome, WorkloadPosition } from './restart-progress.js';
import type { RestartScope } from './restart-scope.js';

/** Keeps the Step Functions payload small on a cluster full of Jobs. */
const MAX_LISTED = 50;

/** The previous invocation's answer, as far as the next one reads it. */
export interface RestartProgress<Resign> {
  readonly restarted: number;
  readonly waves: number;
  readonly invocations: number;
  readonly resumeAfter?: WorkloadPosition | undefined;
  readonly waveStartedAt?: string | undefined;
  readonly resign?: Resign | undefined;
  /** resign: the workloads the fallback restarts, while some remain. */
  readonly resignFallback?: readonly WorkloadPosition[] | undefined;
}

export interface RestartAnswer<Resign> {
  readonly cluster: string;
  readonly purpose: RestartPurpose;
  /**
   * How the workloads moved to the new intermediate: `restart`, or `resign` (a root rotation on a
   * cluster with PCDS: the proxies re-signed by themselves, and only those behind at the deadline
   * were restarted). A rollback always restarts.
   */
  readonly strategy: RestartScope['strategy'];
  /** resign: what the wait on the proxies found, and which workloads fell back to a restart. */
  readonly resign?: Resign;
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

/** What one invocation found and did, for its answer and its audit event. */
export interface RestartInvocation<Resign> {
  readonly request: {
    readonly executionId: string;
    readonly cluster: string;
    readonly purpose: RestartPurpose;
  };
  readonly scope: RestartScope;
  /** Absent on the first invocation for the cluster. */
  readonly progress: RestartProgress<Resign> | undefined;
  /** Every injected workload of the cluster, and the injected pods nothing can restart. */
  readonly found: {
    readonly workloads: readonly WorkloadPosition[];
    readonly unmanaged: readonly UnmanagedPod[];
  };
  readonly resign: Resign | undefined;
  readonly fallback: readonly WorkloadPosition[] | undefined;
  /** The injected workloads this restart covers: all, or the resign fallback's. */
  readonly workloads: readonly WorkloadPosition[];
  readonly outcome: WavesOutcome<unknown, HeldWorkload>;
}

/** Where this invocation goes on: the cursor the previous one answered, if any. */
export function restartCursorOf(progress: RestartProgress<unknown> | undefined): RestartCursor {
  return {
    ...(progress?.resumeAfter !== undefined && { resumeAfter: progress.resumeAfter }),
    ...(progress?.waveStartedAt !== undefined && { waveStartedAt: progress.waveStartedAt }),
  };
}

/** Counts over every invocation, this one included. */
function soFar(progress: RestartProgress<unknown> | undefined, outcome?: WavesOutcome<unknown, unknown>) {
  return {
    restarted: (progress?.restarted ?? 0) + (outcome?.restarted ?? 0),
    waves: (progress?.waves ?? 0) + (outcome?.wavesFinished ?? 0),
    invocations: (progress?.invocations ?? 0) + 1,
  };
}

/**
 * purpose rollback, where the rotation did not switch the cluster's intermediate: nothing to restart,
 * the workloads hold certificates of the original one.
 */
export function notSwitchedAnswer<Resign>(
  request: RestartInvocation<Resign>['request'],
  scope: RestartScope,
  progress: RestartProgress<Resign> | undefined,
): RestartAnswer<Resign> {
  return {
    cluster: request.cluster,
    purpose: request.purpose,
    strategy: scope.strategy,
    restartId: scope.restartId,
    done: true,
    workloads: 0,
    restarted: 0,
    waves: 0,
    invocations: soFar(progress).invocations,
    unmanaged: [],
    skipped:
      'this execution did not switch the cluster intermediate; its workloads hold original certificates',
  };
}

/** The invocation's answer: counts over every invocation, and the cursor while waves remain. */
export function restartAnswer<Resign>(invocation: RestartInvocation<Resign>): RestartAnswer<Resign> {
  const { request, scope, progress, found, resign, fallback, workloads, outcome } = invocation;
  const { done, cursor, waitingOn } = outcome;
  return {
    cluster: request.cluster,
    purpose: request.purpose,
    strategy: scope.strategy,
    ...(resign !== undefined && { resign }),
    ...(!done && fallback !== undefined && { resignFallback: fallback }),
    restartId: scope.restartId,
    done,
    workloads: found.workloads.length,
    ...soFar(progress, outcome),
    ...(!done && cursor.resumeAfter !== undefined && { resumeAfter: cursor.resumeAfter }),
    ...(!done && cursor.waveStartedAt !== undefined && { waveStartedAt: cursor.waveStartedAt }),
    ...(waitingOn !== undefined && {
      heldByBudgets: waitingOn.slice(0, MAX_LISTED).map(describeHeldWorkload),
    }),
    unmanaged: found.unmanaged.slice(0, MAX_LISTED),
    ...(found.workloads.length === 0
      ? { skipped: 'the cluster has no injected workloads' }
      : workloads.length === 0 && { skipped: 'every proxy re-signed with the new intermediate' }),
  };
}

/**
 * The invocation's audit event, but for who and where: `succeeded` when it restarted a workload, with
 * what this invocation did and the counts so far.
 */
export function restartAuditOf(invocation: RestartInvocation<unknown>): {
  readonly outcome: 'succeeded' | 'unchanged';
  readonly detail: Readonly<Record<string, string | number | boolean>>;
} {
  const { request, scope, progress, found, workloads, outcome } = invocation;
  const total = soFar(progress, outcome);
  return {
    outcome: outcome.restarted > 0 ? 'succeeded' : 'unchanged',
    detail: {
      restartId: scope.restartId,
      purpose: request.purpose,
      strategy: scope.strategy,
      workloads: workloads.length,
      restarted: outcome.restarted,
      restartedSoFar: total.restarted,
      waves: outcome.wavesFinished,
      wavesSoFar: total.waves,
      invocation: total.invocations,
      ...(outcome.waitingOn !== undefined && { heldByBudgets: outcome.waitingOn.length }),
      ...(scope.rotation !== request.executionId && { rollbackOf: scope.rotation }),
      done: outcome.done,
      unmanaged: found.unmanaged.length,
    },
  };
}
