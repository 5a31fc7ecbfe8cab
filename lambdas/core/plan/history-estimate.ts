// How many events one execution of the rotation state machine records in its history, at worst. A
// Standard workflow execution fails when its history reaches 25,000 events; the rotation's Maps run
// every state of every cluster inside the one history, and the restart loops enter their Task again for
// every restart invocation, so a large fleet could reach the limit mid-rotation, after writes. preflight
// refuses a plan whose worst case exceeds a safe share of the limit (docs/workflow.md, "The execution
// history limit"). Pure: the counts come from the plan and the settings, not from any execution.
import type { RotationMode } from './phases.js';

/**
 * Step Functions' quota: an execution whose history reaches this many events fails
 * (`States.Runtime`, "exceeded the maximum number of history events").
 */
export const EXECUTION_HISTORY_LIMIT = 25_000;

/**
 * The share of the limit a plan's worst case may use. The rest is for what the worst case leaves out:
 * retries of transient errors (3 events each, up to 6 per invocation), an interrupted restart
 * invocation retried, and any event the model does not know of.
 */
export const SAFE_HISTORY_SHARE = 0.8;

/** The most events preflight lets a plan's worst case reach: SAFE_HISTORY_SHARE of the limit. */
export const SAFE_HISTORY_EVENTS = Math.floor(EXECUTION_HISTORY_LIMIT * SAFE_HISTORY_SHARE);

/**
 * Events Step Functions records per state, by type, as its history shows them (HistoryEvent types of
 * the Step Functions API). A Lambda Task whose Resource is the function ARN (every Task of ours but the
 * approval gates) records Lambda events; an approval gate (`lambda:invoke.waitForTaskToken`) records
 * Task events. The run's own end (ExecutionSucceeded/Failed) is in `execution`.
 */
export const HISTORY_EVENTS_PER_STATE = {
  /** ExecutionStarted, then ExecutionSucceeded or ExecutionFailed. */
  execution: 2,
  /** PassStateEntered, PassStateExited (also the end of a restart loop's iteration). */
  pass: 2,
  /** ChoiceStateEntered, ChoiceStateExited. */
  choice: 2,
  /** WaitStateEntered, WaitStateExited, whatever the wait's length. */
  wait: 2,
  /** SucceedStateEntered, SucceedStateExited (the run's success). */
  succeed: 2,
  /** FailStateEntered (the ExecutionFailed that follows is in `execution`). */
  fail: 1,
  /** TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded, TaskStateExited. */
  lambdaTask: 5,
  /** Each attempt that failed and was retried: LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionFailed. */
  lambdaRetry: 3,
  /** TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded, TaskStateExited. */
  tokenTask: 6,
  /** MapStateEntered, MapStateStarted, MapStateSucceeded (or Failed), MapStateExited. */
  map: 4,
  /** Per item: MapIterationStarted, MapIterationSucceeded (or Failed); the iteration's states are extra. */
  mapIteration: 2,
  /**
   * A Distributed Map in its parent's history, whatever its items: MapStateEntered, MapStateStarted,
   * MapRunStarted, MapRunSucceeded (or MapRunFailed), MapStateSucceeded (or Failed), MapStateExited.
   * Each item is a child execution of its own: `execution` plus its states, in its own history.
   */
  distributedMap: 6,
} as const;

/**
 * The retries of VerificationFailed that the state machine allows per cluster (Retry `MaxAttempts`),
 * where looking again later is the design: istiod pushes bundles and loads cacerts a kubelet sync
 * later, pods take time to be ready. test/infra/history-estimate.test.ts requires these to be the
 * synthesized definition's.
 */
export const VERIFICATION_RETRIES = {
  'verify-trust': 10,
  'restart-workloads': 10,
  'verify-workloads': 5,
  'rollback-verify-trust': 10,
  'rollback-restart': 10,
} as const;

/** One cluster the Maps work on, with how many workloads restart-workloads restarts there. */
export interface HistoryEstimateCluster {
  readonly name: string;
  /** Controllers restart-workloads restarts (findInjected); undefined when they could not be listed. */
  readonly workloads: number | undefined;
}

export interface HistoryEstimateInput {
  readonly mode: RotationMode;
  /** The clusters every Map iterates: the fleet, or in intermediate mode the one rekeyed. */
  readonly clusters: readonly HistoryEstimateCluster[];
  /** RESTART_WAVE_SIZE: workloads restarted together (emergency mode restarts all at once). */
  readonly restartWaveSize: number;
  /** ROLLOUT_TIMEOUT_SECONDS: the longest a wave may take, counted from its restart. */
  readonly rolloutTimeoutSeconds: number;
  /** restart-workloads' function timeout less the time it keeps for its answer (INVOCATION_RESERVE_MS). */
  readonly restartInvocationSeconds: number;
  /**
   * DISTRIBUTED_MAPS: the per-cluster Maps run each cluster as a child execution with a history of its
   * own (all but `rollback-await-proxy-trust`, a Map of Waits that stays inline).
   * @default false
   */
  readonly distributedMaps?: boolean;
}

/** One state's share of the worst case. */
export interface HistoryEventsOfState {
  /** The state machine state (a Map's count includes its iterations and the states inside them). */
  readonly state: string;
  readonly events: number;
}

/** The child execution of a Distributed Map that records the most events: one cluster's iteration. */
export interface LargestChildHistory {
  /** The Distributed Map that starts it. */
  readonly state: string;
  readonly events: number;
}

export interface HistoryEstimate {
  /**
   * The most events one execution of this plan records: every cluster iterated, every verification
   * looked at as often as its Retry allows, every restart wave as slow as its rollout timeout (the most
   * restart invocations), both approval gates, and a failure at the last step that rolls back, so the
   * rollback walks back every cluster too. Transient retries are not in it (SAFE_HISTORY_SHARE).
   */
  readonly worstCase: number;
  /**
   * The fewest a run of this plan that succeeds records: every check passing at its first look, one
   * restart invocation per cluster, no approval gate, no retry, no rollback.
   */
  readonly fewest: number;
  /** EXECUTION_HISTORY_LIMIT. */
  readonly limit: number;
  /** SAFE_HISTORY_EVENTS: the most preflight lets `worstCase` be, and `largestChild.events`. */
  readonly safeLimit: number;
  /**
   * With `distributedMaps`: the largest child execution at worst, each child's history being its own
   * (`worstCase` and `fewest` are then the parent's). Absent with inline Maps.
   */
  readonly largestChild?: LargestChildHistory;
  /** The worst case per state, in the order they run (forward, then rollback), for the plan's reader. */
  readonly states: readonly HistoryEventsOfState[];
  /** The restart waves counted for the largest cluster (workloads / RESTART_WAVE_SIZE, rounded up). */
  readonly mostRestartWaves: number;
  /** Clusters whose workloads could not be listed: their restart waves are not in the counts. */
  readonly uncounted: readonly string[];
}

const E = HISTORY_EVENTS_PER_STATE;

/** A Lambda Task run once, after `retries` failed attempts. */
function lambdaTask(retries = 0): number {
  return E.lambdaTask + retries * E.lambdaRetry;
}

/** A Map over `clusters` whose iteration costs `perCluster(cluster)` inside, all in one history. */
function inlineMap(
  clusters: readonly HistoryEstimateCluster[],
  perCluster: (cluster: HistoryEstimateCluster) => number,
): number {
  return E.map + clusters.reduce((sum, cluster) => sum + E.mapIteration + perCluster(cluster), 0);
}

/** The most events one child of a Distributed Map over `clusters` records: its execution and states. */
function largestChild(
  clusters: readonly HistoryEstimateCluster[],
  perCluster: (cluster: HistoryEstimateCluster) => number,
): number {
  return E.execution + Math.max(0, ...clusters.map(perCluster));
}

/** The restart waves of one cluster: all at once in emergency mode, else RESTART_WAVE_SIZE at a time. */
export function restartWaveCount(workloads: number, mode: RotationMode, waveSize: number): number {
  if (!Number.isInteger(workloads) || workloads < 0) {
    throw new RangeError(`a cluster's workload count must be a whole number >= 0, got ${workloads}`);
  }
  if (!Number.isInteger(waveSize) || waveSize < 1) {
    throw new RangeError(`the restart wave size must be a whole number >= 1, got ${waveSize}`);
  }
  if (workloads === 0) return 0;
  return mode === 'emergency' ? 1 : Math.ceil(workloads / waveSize);
}

/**
 * The most invocations restart-workloads takes for `waves` waves (lambdas/core/rotation/restart-progress.ts):
 * every invocation after the first finishes at least one wave, since a wave lasts at most the rollout
 * timeout, which is shorter than an invocation; the first may finish none (istiod's gate may use its
 * time). A rollout timeout longer than an invocation (not allowed by the stack) lets a wave span
 * ceil(timeout / invocation) + 1 invocations.
 */
export function restartInvocations(
  waves: number,
  rolloutTimeoutSeconds: number,
  invocationSeconds: number,
): number {
  if (!(rolloutTimeoutSeconds > 0) || !(invocationSeconds > 0)) {
    throw new RangeError(
      `the rollout timeout and the invocation time must be > 0 s, got ${rolloutTimeoutSeconds} and ${invocationSeconds}`,
    );
  }
  const perWave =
    rolloutTimeoutSeconds <= invocationSeconds ? 1 : Math.ceil(rolloutTimeoutSeconds / invocationSeconds) + 1;
  return 1 + waves * perWave;
}

/**
 * One cluster's iteration of a restart Map: its Task and the `<map>-waves-left` Choice once per
 * invocation, then `<map>-cluster-done` (Pass); `retries` VerificationFailed retries of istiod's gate.
 */
function restartLoop(invocations: number, retries: number): number {
  return invocations * (E.lambdaTask + E.choice) + retries * E.lambdaRetry + E.pass;
}

/**
 * The worst case and the fewest history events of one execution of the rotation state machine for
 * this plan (lib/rotation-state-machine.ts; docs/workflow.md, "The execution history limit").
 */
export function estimateHistoryEvents(input: HistoryEstimateInput): HistoryEstimate {
  const { mode, clusters } = input;
  const root = mode !== 'intermediate';
  const uncounted = clusters.filter((cluster) => cluster.workloads === undefined).map(({ name }) => name);
  const waves = (cluster: HistoryEstimateCluster) =>
    restartWaveCount(cluster.workloads ?? 0, mode, input.restartWaveSize);
  const mostRestartWaves = Math.max(0, ...clusters.map(waves));
  const invocations = (cluster: HistoryEstimateCluster) =>
    restartInvocations(waves(cluster), input.rolloutTimeoutSeconds, input.restartInvocationSeconds);
  const R = VERIFICATION_RETRIES;
  // A per-cluster Map's events in this history; a Distributed Map's children, in theirs (`children`).
  const children: LargestChildHistory[] = [];
  const clusterMap = (
    state: string,
    perCluster: (cluster: HistoryEstimateCluster) => number,
  ): [string, number] => {
    if (input.distributedMaps !== true) return [state, inlineMap(clusters, perCluster)];
    children.push({ state, events: largestChild(clusters, perCluster) });
    return [state, E.distributedMap];
  };

  // Worst case, in the order the states run: to the last step that rolls back, then the rollback.
  const states: [string, number][] = [
    ['execution', E.execution],
    ['input-defaults', E.pass],
    ['apply-input-defaults', E.pass],
    ['execution-context', E.pass],
    ['acquire-lock', lambdaTask()],
    ['rotate-or-resume', E.choice],
    ['preflight', lambdaTask()],
    ['mode', E.choice],
  ];
  if (root) {
    states.push(
      ['stage-root', lambdaTask()],
      clusterMap('distribute-bundle', () => lambdaTask()),
      clusterMap('verify-trust', () => lambdaTask(R['verify-trust'])),
      ['await-proxy-trust', E.wait],
    );
  }
  states.push(
    ['approve-reissue', E.tokenTask],
    clusterMap('reissue-intermediate', () => lambdaTask()),
    clusterMap('restart-workloads', (cluster) => restartLoop(invocations(cluster), R['restart-workloads'])),
    clusterMap('verify-workloads', () => lambdaTask(R['verify-workloads'])),
    ['after-workloads', E.choice],
  );
  if (mode === 'scheduled') states.push(['soak', E.wait]);
  if (root)
    states.push(
      ['approve-retire', E.tokenTask],
      clusterMap('retire-root', () => lambdaTask()),
    );
  // The last step that rolls back fails (retire-root; in intermediate mode verify-workloads), and the
  // rollback walks back every cluster: a longer path than promote-root and the release.
  states.push(
    clusterMap('rollback-trust', () => lambdaTask()),
    clusterMap('rollback-verify-trust', () => lambdaTask(R['rollback-verify-trust'])),
    // Per verify-restored-trust answer: its Choice, then its Wait.
    ['rollback-await-proxy-trust', inlineMap(clusters, () => E.choice + E.wait)],
    clusterMap('rollback-intermediate', () => lambdaTask()),
    clusterMap('rollback-restart', (cluster) => restartLoop(invocations(cluster), R['rollback-restart'])),
    clusterMap('rollback-restore', () => lambdaTask()),
    ['rollback-drop-pending', lambdaTask()],
    ['release-lock-after-rollback', lambdaTask()],
    ['rotation-rolled-back', E.fail],
  );
  const worstCase = states.reduce((sum, [, events]) => sum + events, 0);

  // The fewest: the success path, each check at its first look, one restart invocation per cluster.
  // (A Distributed Map's children are not in this history: they count for nothing here.)
  const once = () => lambdaTask();
  const fewestMap = (perCluster: (cluster: HistoryEstimateCluster) => number) =>
    input.distributedMaps === true ? E.distributedMap : inlineMap(clusters, perCluster);
  const fewest =
    E.execution +
    3 * E.pass + // input-defaults, apply-input-defaults, execution-context
    2 * lambdaTask() + // acquire-lock, preflight
    2 * E.choice + // rotate-or-resume, mode
    (root ? lambdaTask() + 2 * fewestMap(once) + E.wait : 0) + // stage-root, distribute, verify, wait
    fewestMap(once) + // reissue-intermediate
    fewestMap(() => restartLoop(1, 0)) +
    fewestMap(once) + // verify-workloads
    E.choice + // after-workloads
    (mode === 'scheduled' ? E.wait : 0) +
    (root ? fewestMap(once) + lambdaTask() : 0) + // retire-root, promote-root
    lambdaTask() + // release-lock
    E.succeed;
  const largest = children.reduce<LargestChildHistory | undefined>(
    (most, child) => (most === undefined || child.events > most.events ? child : most),
    undefined,
  );

  return {
    worstCase,
    fewest,
    limit: EXECUTION_HISTORY_LIMIT,
    safeLimit: SAFE_HISTORY_EVENTS,
    states: states.map(([state, events]) => ({ state, events })),
    mostRestartWaves,
    uncounted,
    ...(largest !== undefined && { largestChild: largest }),
  };
}

/** Whether an estimate fits SAFE_HISTORY_EVENTS: the one history, or the parent's and each child's. */
function fitsSafeShare(estimate: HistoryEstimate): boolean {
  return (
    estimate.worstCase <= estimate.safeLimit &&
    (estimate.largestChild === undefined || estimate.largestChild.events <= estimate.safeLimit)
  );
}

/**
 * The smallest RESTART_WAVE_SIZE at or above the current one whose worst case fits SAFE_HISTORY_EVENTS,
 * or undefined when none does (too many clusters even with one wave each). Emergency mode has one wave
 * per cluster whatever the setting.
 */
export function smallestFittingWaveSize(input: HistoryEstimateInput): number | undefined {
  const fits = (restartWaveSize: number) =>
    fitsSafeShare(estimateHistoryEvents({ ...input, restartWaveSize }));
  const most = Math.max(1, ...input.clusters.map((cluster) => cluster.workloads ?? 0));
  if (!fits(most)) return undefined;
  // The worst case only falls as the waves grow: a binary search between the current size and one wave.
  let low = input.restartWaveSize;
  let high = Math.max(most, low);
  if (fits(low)) return low;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (fits(middle)) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * Why preflight refuses this plan, or undefined when its worst case fits SAFE_HISTORY_EVENTS: the
 * estimate, the limit and what to change, named as the operator sets it.
 */
export function historyLimitProblem(
  input: HistoryEstimateInput,
  estimate: HistoryEstimate = estimateHistoryEvents(input),
): string | undefined {
  if (fitsSafeShare(estimate)) return undefined;
  const child = estimate.largestChild;
  if (child !== undefined && child.events > estimate.safeLimit) return childLimitProblem(input, child);
  const heaviest = [...estimate.states]
    .sort((a, b) => b.events - a.events)
    .slice(0, 2)
    .map(({ state, events }) => `${state} ${events}`)
    .join(', ');
  const waves =
    input.mode === 'emergency'
      ? 'one restart wave per cluster (emergency)'
      : `up to ${estimate.mostRestartWaves} restart wave(s) of ${input.restartWaveSize} in a cluster`;
  const fitting = smallestFittingWaveSize(input);
  const remedy =
    input.mode === 'emergency' || fitting === undefined
      ? `Even one restart wave per cluster does not fit ${input.clusters.length} cluster(s) in one execution` +
        (input.distributedMaps !== true &&
        fitsSafeShare(estimateHistoryEvents({ ...input, distributedMaps: true }))
          ? ' with inline Maps; with Distributed Maps, one child execution per cluster, it fits: deploy the stack ' +
            'with context distributedMaps=true (docs/deploy.md), then start again. ' +
            'Do not narrow the cluster selection (CLUSTERS, the discovery tag) instead, which would leave clusters ' +
            'trusting only the old root'
          : ': a root rotation must reach every cluster that trusts the root, so this fleet is too large for one run of ' +
            'this state machine; do not narrow the cluster selection (CLUSTERS, the discovery tag) for it, which would ' +
            'leave clusters trusting only the old root')
      : `Restart in larger waves: set RESTART_WAVE_SIZE (the construct's restartWaveSize) to at least ${fitting} ` +
        'and deploy, then start again (a larger wave restarts more workloads at once: check the PodDisruptionBudgets)' +
        (input.mode === 'intermediate'
          ? ''
          : '. Leaving clusters out of the cluster selection (CLUSTERS, the discovery tag) is no remedy: a root ' +
            'rotation must reach every cluster that trusts the root');
  return (
    `This rotation could exceed Step Functions' execution history limit: at worst it records ` +
    `${estimate.worstCase} events (${clustersText(input.clusters.length)}, ${waves}; most in ${heaviest}), over the ` +
    `${estimate.safeLimit} preflight allows (${Math.round(SAFE_HISTORY_SHARE * 100)}% of the ` +
    `${estimate.limit} events at which an execution fails, possibly after writes). ${remedy}`
  );
}

/**
 * A Distributed Map's child over the safe share: one cluster's iteration alone, so only its restart
 * waves can make it smaller (the number of clusters does not matter).
 */
function childLimitProblem(input: HistoryEstimateInput, child: LargestChildHistory): string {
  const fitting = smallestFittingWaveSize(input);
  const remedy =
    input.mode === 'emergency' || fitting === undefined
      ? 'Even one restart wave does not fit one cluster in one child execution: restart fewer workloads per cluster'
      : `Restart in larger waves: set RESTART_WAVE_SIZE (the construct's restartWaveSize) to at least ${fitting} ` +
        'and deploy, then start again (a larger wave restarts more workloads at once: check the PodDisruptionBudgets)';
  return (
    `This rotation could exceed Step Functions' execution history limit in one cluster's ${child.state} child ` +
    `execution: at worst it records ${child.events} events, over the ${SAFE_HISTORY_EVENTS} preflight allows ` +
    `(${Math.round(SAFE_HISTORY_SHARE * 100)}% of the ${EXECUTION_HISTORY_LIMIT} events at which an execution ` +
    `fails, possibly after writes). ${remedy}.`
  );
}

function clustersText(count: number): string {
  return `${count} cluster${count === 1 ? '' : 's'}`;
}
