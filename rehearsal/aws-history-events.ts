// The events Step Functions itself would record for a rehearsal's execution. The rehearsal runs the
// synthesized definition on aws-local-stepfunctions, whose event log (history.json) has one event per
// state entered, exited, failed, retried or caught; Step Functions records more per state (a Lambda
// Task's scheduled, started and succeeded events, a Map's started and succeeded events). This maps each
// local event to the HistoryEvent types Step Functions records for it, so that a rehearsal's real
// history can be counted as Step Functions would count it against its 25,000-event limit, and compared
// with preflight's estimate (lambdas/core/plan/history-estimate.ts) without using the estimate's figures.
// A Distributed Map's items run as child executions (distributed-map-emulation.ts): the parent records
// the Map and its Map Run, not the items, and each child's own log is counted as an execution of its own.
// The Map Run's events are those AWS recorded in LocalStack's snapshot tests
// (tests/aws/services/stepfunctions/v2/scenarios/test_base_scenarios.snapshot.json, test_map_state_label:
// MapStateEntered, MapStateStarted, MapRunStarted, MapRunSucceeded, MapStateSucceeded, MapStateExited;
// a failed run: MapRunStarted, MapRunFailed, MapStateFailed).
import { childTaskName } from './distributed-map-definition.js';

/** One event of history.json, as aws-local-stepfunctions gives it (the fields used here). */
export interface LocalHistoryEvent {
  readonly type: string;
  readonly index?: number;
  readonly state?: { readonly name: string; readonly type?: string };
  /** A MapIteration event's Map. */
  readonly parentState?: { readonly name: string };
}

/** What the parent of a Distributed Map records for it, beside the inline Map's events. */
function distributedMapEventsOf(event: LocalHistoryEvent, failed: boolean): string[] | undefined {
  switch (event.type) {
    case 'StateEntered':
      return ['MapStateEntered', 'MapStateStarted', 'MapRunStarted'];
    case 'StateExited':
      return failed ? ['MapStateExited'] : ['MapRunSucceeded', 'MapStateSucceeded', 'MapStateExited'];
    case 'StateFailed':
      return ['MapRunFailed', 'MapStateFailed'];
    default:
      return undefined;
  }
}

/** Pass, Choice, Wait, Succeed: `<Type>StateEntered`, `<Type>StateExited`. */
const PLAIN_STATES = new Set(['Pass', 'Choice', 'Wait', 'Succeed']);

/**
 * The HistoryEvent types Step Functions records for one local event, for a definition whose Tasks
 * with a Lambda function ARN as Resource record Lambda events, and whose `tokenTasks` (the
 * `.waitForTaskToken` approval gates) record Task events. `failed` says whether the state's last
 * attempt failed (a Task caught after a failure exits without a success event).
 */
function awsEventsOf(event: LocalHistoryEvent, token: boolean, failed: boolean): string[] {
  const type = event.state?.type;
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return [event.type];
    case 'ExecutionTimeout':
      return ['ExecutionTimedOut'];
    case 'StateEntered':
      if (type === 'Task') {
        return token
          ? ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted']
          : ['TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted'];
      }
      if (type === 'Map') return ['MapStateEntered', 'MapStateStarted'];
      if (type === 'Fail') return ['FailStateEntered'];
      if (type !== undefined && PLAIN_STATES.has(type)) return [`${type}StateEntered`];
      break;
    case 'StateExited':
      if (type === 'Task')
        return failed
          ? ['TaskStateExited']
          : [token ? 'TaskSucceeded' : 'LambdaFunctionSucceeded', 'TaskStateExited'];
      if (type === 'Map') return failed ? ['MapStateExited'] : ['MapStateSucceeded', 'MapStateExited'];
      if (type !== undefined && PLAIN_STATES.has(type)) return [`${type}StateExited`];
      break;
    case 'StateFailed':
      if (type === 'Task') return [token ? 'TaskFailed' : 'LambdaFunctionFailed'];
      if (type === 'Map') return ['MapStateFailed'];
      // A Fail state fails the execution: FailStateEntered (above), then ExecutionFailed.
      if (type === 'Fail') return [];
      break;
    case 'StateRetried':
      // The attempt after a failure: scheduled and started again (its end is its own event).
      return token
        ? ['TaskScheduled', 'TaskStarted', 'TaskSubmitted']
        : ['LambdaFunctionScheduled', 'LambdaFunctionStarted'];
    case 'StateCaught':
      // The Catch itself records nothing; the state then exits (StateExited, above).
      return [];
  }
  throw new RangeError(
    `no Step Functions history event is known for a local ${event.type} of a ${type ?? 'state'} (${event.state?.name ?? 'execution'})`,
  );
}

/**
 * The HistoryEvent types Step Functions would record for the execution a rehearsal's history.json
 * shows, in order. `tokenTasks`: names of the `.waitForTaskToken` Task states (approval gates);
 * `distributedMaps`: names of the Distributed Map states, whose items the parent does not record.
 */
export function awsHistoryEvents(
  history: readonly LocalHistoryEvent[],
  tokenTasks: ReadonlySet<string> = new Set(),
  distributedMaps: ReadonlySet<string> = new Set(),
): string[] {
  const standIns = new Set([...distributedMaps].map(childTaskName));
  // Iterations of a Map run the same states at once: a state's attempts are told apart by its index.
  const lastAttemptFailed = new Map<string, boolean>();
  const events: string[] = [];
  for (const event of history) {
    // A Distributed Map's items are child executions: none of their events is the parent's.
    if (event.parentState !== undefined && distributedMaps.has(event.parentState.name)) continue;
    if (event.index !== undefined && event.state !== undefined && standIns.has(event.state.name)) continue;
    const key = `${event.state?.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered' || event.type === 'StateRetried') lastAttemptFailed.set(key, false);
    if (event.type === 'StateFailed') lastAttemptFailed.set(key, true);
    const failed = lastAttemptFailed.get(key) ?? false;
    const distributed =
      event.index === undefined && event.state !== undefined && distributedMaps.has(event.state.name)
        ? distributedMapEventsOf(event, failed)
        : undefined;
    const token = event.state !== undefined && tokenTasks.has(event.state.name);
    events.push(...(distributed ?? awsEventsOf(event, token, failed)));
  }
  return events;
}
