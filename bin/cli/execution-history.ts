// What an execution's history says, read as pure functions: the phase it is in, each Map's progress per
// cluster, and the approval gate it waits at with the gate's task token. The events are the shape
// GetExecutionHistory returns (oldest first, `previousEventId` linking an event to the one it follows).
import { EXECUTION_ENDED, TASK_ENDED } from '../../lambdas/core/rotation/pending-approval.js';
import { CLUSTER_MAP_STATES, WORKFLOW_STATES } from '../../lib/workflow-states.js';

/** The fields of a Step Functions HistoryEvent these functions read (the SDK's type fits). */
export interface HistoryEventLike {
  readonly id?: number;
  readonly previousEventId?: number;
  readonly type?: string;
  readonly timestamp?: Date | string;
  readonly stateEnteredEventDetails?: { readonly name?: string; readonly input?: string };
  readonly stateExitedEventDetails?: { readonly name?: string };
  readonly taskScheduledEventDetails?: { readonly resource?: string; readonly parameters?: string };
  readonly mapIterationStartedEventDetails?: { readonly name?: string; readonly index?: number };
  readonly mapIterationSucceededEventDetails?: { readonly name?: string; readonly index?: number };
  readonly mapIterationFailedEventDetails?: { readonly name?: string; readonly index?: number };
  readonly mapIterationAbortedEventDetails?: { readonly name?: string; readonly index?: number };
  readonly mapRunStartedEventDetails?: { readonly mapRunArn?: string };
}

const APPROVAL_STATES: readonly string[] = [WORKFLOW_STATES.approveReissue, WORKFLOW_STATES.approveRetire];
/** An approval gate the execution waits at. */
export interface PendingApproval {
  /** The gate's state: approve-reissue or approve-retire. */
  readonly state: string;
  /** reissue or retire, as the gate's payload says. */
  readonly gate?: string;
  /** The capability SendTaskSuccess/SendTaskFailure needs; never print or log it. */
  readonly taskToken: string;
  readonly since?: Date | string;
}

/**
 * The approval gate the execution waits at, if any: the last approve-* state entered and not exited,
 * whose latest TaskScheduled (a `.waitForTaskToken` task) has not ended. Its parameters (JSON text)
 * hold the token in `Payload.taskToken` (Lambda) or `taskToken`.
 */
export function findPendingApproval(events: readonly HistoryEventLike[]): PendingApproval | undefined {
  if (events.some((event) => EXECUTION_ENDED.has(event.type ?? ''))) return undefined;
  const enteredAt = lastIndex(
    events,
    (e) => e.type === 'TaskStateEntered' && APPROVAL_STATES.includes(e.stateEnteredEventDetails?.name ?? ''),
  );
  if (enteredAt < 0) return undefined;
  const state = events[enteredAt]?.stateEnteredEventDetails?.name as string;
  const after = events.slice(enteredAt + 1);
  if (after.some((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === state))
    return undefined;
  const scheduledAt = lastIndex(after, (e) => e.type === 'TaskScheduled');
  const scheduled = after[scheduledAt];
  if (scheduled === undefined || after.slice(scheduledAt + 1).some((e) => TASK_ENDED.has(e.type ?? ''))) {
    return undefined;
  }
  const parameters = parseJson(scheduled.taskScheduledEventDetails?.parameters);
  const payload = (parameters.Payload ?? parameters) as Record<string, unknown>;
  const taskToken = payload.taskToken;
  if (typeof taskToken !== 'string' || taskToken === '') return undefined;
  return {
    state,
    ...(typeof payload.gate === 'string' && { gate: payload.gate }),
    taskToken,
    ...(scheduled.timestamp !== undefined && { since: scheduled.timestamp }),
  };
}

/** The top-level workflow state the execution entered last (its current phase while it runs). */
export function currentState(events: readonly HistoryEventLike[]): string | undefined {
  const topLevel = new Set<string>(Object.values(WORKFLOW_STATES));
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const name = events[i]?.stateEnteredEventDetails?.name;
    if (name !== undefined && topLevel.has(name)) return name;
  }
  return undefined;
}

/**
 * The state an ended execution ended with: the input of the last top-level state it entered (a run that
 * failed: its Fail state's input, which is the whole state, `$.failure` and `$.rollbackFailure`
 * included). Events in any order; undefined when none has a readable input.
 */
export function finalState(events: readonly HistoryEventLike[]): Record<string, unknown> | undefined {
  const topLevel = new Set<string>(Object.values(WORKFLOW_STATES));
  const entered = events
    .filter((event) => topLevel.has(event.stateEnteredEventDetails?.name ?? ''))
    .sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const last = entered[entered.length - 1]?.stateEnteredEventDetails?.input;
  if (last === undefined) return undefined;
  const state = parseJson(last);
  return Object.keys(state).length === 0 ? undefined : state;
}

export type IterationStatus = 'running' | 'succeeded' | 'failed' | 'aborted' | 'timed out';

/** One cluster's iteration of a Map: inline, from the parent's events; Distributed, a child execution. */
export interface MapIteration {
  /** The item's index (inline Maps; a child execution does not say it). */
  readonly index?: number;
  readonly cluster?: string;
  readonly status: IterationStatus;
  /** A Distributed Map's child: its ARN, and its error and cause when it failed. */
  readonly executionArn?: string;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * One Map state's iterations, each named by its cluster where the iteration's input says it. For a
 * Distributed Map (`mapRun`), only the children that did not succeed are listed one by one; `counts`
 * says how many items are where.
 */
export interface MapProgress {
  readonly state: string;
  readonly iterations: readonly MapIteration[];
  readonly mapRun?: {
    readonly arn: string;
    readonly status: string;
    readonly counts: Readonly<
      Record<'pending' | 'running' | 'succeeded' | 'failed' | 'aborted' | 'timedOut', number>
    >;
  };
}

/** Per-cluster progress of every cluster Map state that has started, in the order they started. */
export function mapProgress(events: readonly HistoryEventLike[]): MapProgress[] {
  const maps = new Map<string, Map<number, { index: number; cluster?: string; status: IterationStatus }>>();
  const iterationByEventId = new Map<number, { index: number; cluster?: string; status: IterationStatus }>();
  const clusterMaps = new Set<string>(CLUSTER_MAP_STATES);
  const update = (
    details: { name?: string; index?: number } | undefined,
    status: IterationStatus,
    eventId?: number,
  ) => {
    if (details?.name === undefined || details.index === undefined || !clusterMaps.has(details.name)) return;
    const iterations = maps.get(details.name) ?? new Map();
    maps.set(details.name, iterations);
    const iteration = iterations.get(details.index) ?? { index: details.index, status };
    iteration.status = status;
    iterations.set(details.index, iteration);
    if (eventId !== undefined) iterationByEventId.set(eventId, iteration);
  };
  for (const event of events) {
    update(event.mapIterationStartedEventDetails, 'running', event.id);
    update(event.mapIterationSucceededEventDetails, 'succeeded');
    update(event.mapIterationFailedEventDetails, 'failed');
    update(event.mapIterationAbortedEventDetails, 'aborted');
    // The first state of an iteration follows its MapIterationStarted and carries the item: { cluster, ... }.
    const iteration =
      event.previousEventId === undefined ? undefined : iterationByEventId.get(event.previousEventId);
    const cluster = parseJson(event.stateEnteredEventDetails?.input).cluster;
    if (iteration !== undefined && typeof cluster === 'string') iteration.cluster = cluster;
  }
  return [...maps].map(([state, iterations]) => ({
    state,
    iterations: [...iterations.values()].sort((a, b) => a.index - b.index),
  }));
}

/** A Distributed Map's Map Run, as the parent's MapRunStarted event names it. */
export interface StartedMapRun {
  /** The Map state: its Map Run's label, which the stack sets to the state's name. */
  readonly state: string;
  readonly mapRunArn: string;
}

/**
 * The newest Map Run of each cluster Map, in the order they started. A Map Run's ARN is
 * `arn:<partition>:states:<region>:<account>:mapRun:<state machine>/<label>:<id>`; a label that is no
 * cluster Map's name is not this stack's and is left out.
 */
export function startedMapRuns(events: readonly HistoryEventLike[]): StartedMapRun[] {
  const clusterMaps = new Set<string>(CLUSTER_MAP_STATES);
  const newest = new Map<string, string>();
  for (const event of events) {
    const arn = event.mapRunStartedEventDetails?.mapRunArn;
    const label = arn?.split(':')[6]?.split('/')[1];
    if (arn === undefined || label === undefined || !clusterMaps.has(label)) continue;
    newest.delete(label);
    newest.set(label, arn);
  }
  return [...newest].map(([state, mapRunArn]) => ({ state, mapRunArn }));
}

function lastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i -= 1) if (predicate(items[i] as T)) return i;
  return -1;
}

/** JSON text read as an object; anything else (absent, not JSON, not an object) as `{}`. */
export function parseJson(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
