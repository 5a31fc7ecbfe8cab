// The events Step Functions itself would record for a rehearsal's execution. The rehearsal runs the
// synthesized definition on aws-local-stepfunctions, whose event log (history.json) has one event per
// state entered, exited, failed, retried or caught; Step Functions records more per state (a Lambda
// Task's scheduled, started and succeeded events, a Map's started and succeeded events). This maps each
// local event to the HistoryEvent types Step Functions records for it, so that a rehearsal's real
// history can be counted as Step Functions would count it against its 25,000-event limit, and compared
// with preflight's estimate (lambdas/core/plan/history-estimate.ts) without using the estimate's figures.

/** One event of history.json, as aws-local-stepfunctions gives it (the fields used here). */
export interface LocalHistoryEvent {
  readonly type: string;
  readonly index?: number;
  readonly state?: { readonly name: string; readonly type?: string };
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
 * shows, in order. `tokenTasks`: names of the `.waitForTaskToken` Task states (approval gates).
 */
export function awsHistoryEvents(
  history: readonly LocalHistoryEvent[],
  tokenTasks: ReadonlySet<string> = new Set(),
): string[] {
  // Iterations of a Map run the same states at once: a state's attempts are told apart by its index.
  const lastAttemptFailed = new Map<string, boolean>();
  const events: string[] = [];
  for (const event of history) {
    const key = `${event.state?.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered' || event.type === 'StateRetried') lastAttemptFailed.set(key, false);
    if (event.type === 'StateFailed') lastAttemptFailed.set(key, true);
    const token = event.state !== undefined && tokenTasks.has(event.state.name);
    events.push(...awsEventsOf(event, token, lastAttemptFailed.get(key) ?? false));
  }
  return events;
}
