// How restart-workloads spreads a cluster's restart waves over as many invocations as it takes. One
// invocation restarts the waves that fit in its time and returns a cursor; the state machine hands the
// cursor back to the next invocation until the restart is done (docs/workflow.md, "Restart waves across
// invocations"). Pure: the handler reads the clock and the cluster, these functions decide.
import { restartWaves } from './restart-waves.js';

/**
 * Where a workload sorts among a cluster's injected workloads: by namespace, then kind, then name,
 * the order in which the Kubernetes adapter lists them.
 */
export interface WorkloadPosition {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
}

/** What one invocation hands the next: how far the restart got. */
export interface RestartCursor {
  /**
   * The last workload of the last wave whose rollouts finished; absent before the first. A position,
   * not an index: a workload deleted meanwhile shifts no later workload into a wave already done.
   */
  readonly resumeAfter?: WorkloadPosition;
  /**
   * When the wave after `resumeAfter` was started (ISO 8601), when an earlier invocation started it and
   * ran out of time waiting for its rollouts: its rollout timeout counts from then, not from each
   * invocation.
   */
  readonly waveStartedAt?: string;
}

/** Orders positions as the adapter lists workloads: namespace, then kind, then name. */
export function compareWorkloadPositions(a: WorkloadPosition, b: WorkloadPosition): number {
  return compare(a.namespace, b.namespace) || compare(a.kind, b.kind) || compare(a.name, b.name);
}

/** Only the fields of a position, for a cursor (a workload reference may carry more). */
export function workloadPosition(workload: WorkloadPosition): WorkloadPosition {
  return { namespace: workload.namespace, kind: workload.kind, name: workload.name };
}

/**
 * The waves still to restart: the workloads after the cursor's position, `waveSize` at a time (or all
 * in one wave). The first wave is the one the cursor's `waveStartedAt` belongs to, if it is set.
 * A workload that appeared since, sorting before the cursor, is not in them, as it would not be in a
 * list taken once: its pods were created after istiod signed with the new intermediate.
 */
export function remainingWaves<T extends WorkloadPosition>(
  workloads: readonly T[],
  cursor: RestartCursor,
  waveSize: number | 'all',
): T[][] {
  const after = cursor.resumeAfter;
  const remaining =
    after === undefined
      ? [...workloads]
      : workloads.filter((workload) => compareWorkloadPositions(workload, after) > 0);
  return restartWaves(remaining, waveSize);
}

/**
 * The time (epoch ms) by which an invocation stops starting waves and waiting for rollouts, so that it
 * returns its cursor before Lambda stops it: `remainingMs` (the context's getRemainingTimeInMillis, or
 * the function timeout) less `reserveMs` for the last poll, the audit event and the answer.
 */
export function invocationDeadline(now: number, remainingMs: number, reserveMs: number): number {
  if (!Number.isFinite(remainingMs) || remainingMs < 0) {
    throw new RangeError(
      `the remaining time of an invocation must be a number of ms >= 0, got ${remainingMs}`,
    );
  }
  if (!Number.isFinite(reserveMs) || reserveMs < 0) {
    throw new RangeError(`the time reserved at the end of an invocation must be >= 0 ms, got ${reserveMs}`);
  }
  return now + Math.max(0, remainingMs - reserveMs);
}

/**
 * Whether an invocation starts the next wave. It does while its deadline is ahead, and always when it
 * has not moved the restart on yet (no wave finished or waited on): so each invocation makes progress
 * and the loop ends, even if an invocation starts with less time than its reserve.
 */
export function mayStartWave(now: number, deadline: number, progressed: boolean): boolean {
  return now < deadline || !progressed;
}

/** How long this invocation waits for a wave's rollouts, and what it means if they are not done then. */
export interface WaveWait {
  /** Wait until this time (epoch ms). */
  readonly until: number;
  /**
   * `fail`: the wave's rollout timeout is reached, the rollouts are late (VerificationFailed);
   * `resume-later`: the invocation is out of time, the next one goes on waiting for the same wave.
   */
  readonly ifNotDone: 'fail' | 'resume-later';
}

/**
 * The wait for a wave started at `waveStartedAt`: until its rollout timeout, or until the invocation's
 * deadline if that comes first. A wave may so span invocations; its timeout does not restart with each.
 */
export function waveWait(waveStartedAt: number, rolloutTimeoutMs: number, deadline: number): WaveWait {
  const rolloutDeadline = waveStartedAt + rolloutTimeoutMs;
  return rolloutDeadline <= deadline
    ? { until: rolloutDeadline, ifNotDone: 'fail' }
    : { until: deadline, ifNotDone: 'resume-later' };
}

/** The time a cursor's `waveStartedAt` names (epoch ms); RangeError for text that is not a time. */
export function waveStartedAtMs(cursor: RestartCursor): number | undefined {
  if (cursor.waveStartedAt === undefined) return undefined;
  const ms = Date.parse(cursor.waveStartedAt);
  if (Number.isNaN(ms)) {
    throw new RangeError(
      `the cursor's waveStartedAt must be an ISO 8601 time, got ${JSON.stringify(cursor.waveStartedAt)}`,
    );
  }
  return ms;
}

/** What may be restarted of a wave now, and what is held back (by a PodDisruptionBudget, disruption-budget.ts). */
export interface Admission<T, Held> {
  /** Workloads not restarted yet that may be restarted now. */
  readonly admitted: readonly T[];
  /** Workloads not restarted yet that must wait, with what holds each. */
  readonly held: readonly Held[];
}

/** The I/O one invocation's waves need, given by the handler (the cluster and the clock). */
export interface WaveRunner<T, Behind, Held = never> {
  /** The time now, epoch ms. */
  now(): number;
  /**
   * Which of the wave's workloads may be restarted now and which must wait; asked again after each
   * pause while some wait. Workloads this restart already restarted are in neither list.
   */
  admit(wave: readonly T[]): Promise<Admission<T, Held>>;
  /** Waits before admit is asked again, at most until `until` (epoch ms). */
  pause(until: number): Promise<void>;
  /** Restarts the workloads, each at most once per restart id; how many it restarted now. */
  restart(workloads: readonly T[]): Promise<number>;
  /**
   * The earliest time (epoch ms, whole seconds as the restartedAt annotation has it) one of the wave's
   * workloads was restarted with this restart id, if one was: an earlier invocation restarted the wave
   * and failed late, and the state machine's Retry runs it again from the same cursor; or, in a resumed
   * rollback, the failed run restarted it.
   */
  restartedBefore(wave: readonly T[]): Promise<number | undefined>;
  /** Waits until `until` (epoch ms) for the wave's rollouts; the workloads not done by then. */
  behind(wave: readonly T[], until: number): Promise<readonly Behind[]>;
}

/** What one invocation's waves came to. */
export interface WavesOutcome<Behind, Held = never> {
  /** Every wave finished: nothing remains for this restart. */
  readonly done: boolean;
  /** Where the next invocation goes on (meaningful when not done). */
  readonly cursor: RestartCursor;
  /** Workloads this invocation restarted. */
  readonly restarted: number;
  /** Waves whose rollouts finished in this invocation. */
  readonly wavesFinished: number;
  /**
   * Set when a wave's rollouts were not done at its rollout timeout: the workloads behind. The run
   * stops there (the handler raises VerificationFailed).
   */
  readonly late?: readonly Behind[];
  /**
   * Set when workloads of a wave were still held back (admit) at its rollout timeout: what holds them.
   * The run stops there (the handler raises VerificationFailed).
   */
  readonly held?: readonly Held[];
  /**
   * Set when the invocation's deadline came while workloads of the wave in flight were still held
   * back: what holds them. The next invocation goes on waiting (not an error yet).
   */
  readonly waitingOn?: readonly Held[];
}

export interface RestartWavesOptions {
  /** When the invocation stops starting waves and waiting (invocationDeadline), epoch ms. */
  readonly deadline: number;
  readonly rolloutTimeoutMs: number;
  /**
   * When this execution started (epoch ms): a restart with this restart id from before then was made by
   * the run a resumed rollback resumes (it restarts under that run's id). Absent: every restart found is
   * this execution's.
   */
  readonly executionStartedAt?: number;
}

/**
 * Runs one invocation's share of a restart: the waves after the cursor, one after the other, each
 * restarted and then waited for, until all are done, the invocation's deadline comes (then `done:
 * false` and a cursor, with the wave in flight noted by its start), or a wave is late. Within a wave,
 * workloads the runner holds back (a PodDisruptionBudget allows no disruption now) are asked about again
 * after each pause and restarted once admitted, all within the wave's rollout timeout; still held then,
 * the outcome names them (`held`). Each invocation moves the restart on (mayStartWave), and a wave's
 * rollout timeout counts from its start across invocations and Retries (waveTakenUp), so a restart of
 * any size ends: done, late or held.
 */
export async function runRestartWaves<T extends WorkloadPosition, Behind, Held = never>(
  waves: readonly (readonly T[])[],
  start: RestartCursor,
  options: RestartWavesOptions,
  runner: WaveRunner<T, Behind, Held>,
): Promise<WavesOutcome<Behind, Held>> {
  let cursor = start;
  let restarted = 0;
  let wavesFinished = 0;
  let progressed = false;
  for (const wave of waves) {
    const continued = waveStartedAtMs(cursor);
    if (continued === undefined && !mayStartWave(runner.now(), options.deadline, progressed)) {
      return { done: false, cursor, restarted, wavesFinished };
    }
    const { startedAt, wait } =
      continued === undefined
        ? waveTakenUp(runner.now(), await runner.restartedBefore(wave), options)
        : { startedAt: continued, wait: waveWait(continued, options.rolloutTimeoutMs, options.deadline) };
    const inFlight = { ...cursor, waveStartedAt: new Date(startedAt).toISOString() };
    // A continued wave is admitted and restarted again too, which changes only what an earlier
    // invocation left out (it was stopped mid-wave, a workload was held, or one joined the wave since).
    for (;;) {
      const { admitted, held } = await runner.admit(wave);
      restarted += await runner.restart(admitted);
      progressed = true;
      if (held.length === 0) break;
      if (runner.now() >= wait.until) {
        if (wait.ifNotDone === 'fail') return { done: false, cursor, restarted, wavesFinished, held };
        return { done: false, cursor: inFlight, restarted, wavesFinished, waitingOn: held };
      }
      await runner.pause(wait.until);
    }
    const behind = await runner.behind(wave, wait.until);
    if (behind.length > 0) {
      if (wait.ifNotDone === 'fail') return { done: false, cursor, restarted, wavesFinished, late: behind };
      return { done: false, cursor: inFlight, restarted, wavesFinished };
    }
    const last = wave[wave.length - 1];
    if (last !== undefined) cursor = { resumeAfter: workloadPosition(last) };
    wavesFinished++;
  }
  return { done: true, cursor, restarted, wavesFinished };
}

/**
 * When the timeout of a wave the cursor does not continue counts from, and the wait for it, given the
 * earliest restart of its workloads with this restart id (`restartedBefore`, if any):
 * - none: the wave starts now.
 * - this execution's: an earlier invocation restarted it and failed late, and the state machine's Retry
 *   runs it again from the same cursor. It keeps its timeout from that restart, as a wave handed on in
 *   the cursor does: still late, it fails at once instead of after another whole timeout.
 * - from before this execution started: the run this resumed rollback resumes restarted it and failed,
 *   and whatever held its rollouts (a stuck pod) may have been fixed since. The resume gives it a fresh
 *   timeout from now, bounded: a wave still behind when that timeout ends is handed on in the cursor
 *   (`resume-later`), not failed, so that the Retry of a VerificationFailed never takes it up afresh
 *   again; the next invocation, continuing it from the cursor, fails it at that timeout.
 */
export function waveTakenUp(
  now: number,
  restartedBefore: number | undefined,
  options: RestartWavesOptions,
): { readonly startedAt: number; readonly wait: WaveWait } {
  const { rolloutTimeoutMs, deadline, executionStartedAt } = options;
  // restartedAt has whole seconds: a restart in this execution's first second is not taken for the
  // earlier run's.
  const earlierRun =
    restartedBefore !== undefined &&
    executionStartedAt !== undefined &&
    restartedBefore < Math.floor(executionStartedAt / 1000) * 1000;
  if (earlierRun) {
    return {
      startedAt: now,
      wait: { until: Math.min(now + rolloutTimeoutMs, deadline), ifNotDone: 'resume-later' },
    };
  }
  const startedAt = Math.min(now, restartedBefore ?? Infinity);
  return { startedAt, wait: waveWait(startedAt, rolloutTimeoutMs, deadline) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
