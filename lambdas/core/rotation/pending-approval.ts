/**
 * The approval gate an execution waits at, read from its history (GetExecutionHistory's events, oldest
 * first): the latest `.waitForTaskToken` Task scheduled with an approval payload (`Payload.gate` reissue
 * or retire and `Payload.taskToken`, as record-approval is invoked) that has not ended, in an execution
 * that has not ended. Pure: no state names (the handlers' contract does not hold them), only the
 * payload record-approval is given.
 */

/** The fields of a Step Functions HistoryEvent read here (the SDK's type fits). */
export interface ApprovalHistoryEvent {
  readonly id?: number;
  readonly type?: string;
  readonly taskScheduledEventDetails?: { readonly resource?: string; readonly parameters?: string };
}

export type ApprovalGate = 'reissue' | 'retire';

export interface PendingGate {
  readonly gate: ApprovalGate;
  /** The capability SendTaskSuccess/SendTaskFailure needs: never log, return or print it. */
  readonly taskToken: string;
}

/** History event types that end a task: a gate that saw one is answered. */
export const TASK_ENDED: ReadonlySet<string> = new Set([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskSubmitFailed',
  'TaskStartFailed',
]);
/** History event types that end an execution. */
export const EXECUTION_ENDED: ReadonlySet<string> = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);

export function pendingApprovalGate(events: readonly ApprovalHistoryEvent[]): PendingGate | undefined {
  if (events.some((event) => EXECUTION_ENDED.has(event.type ?? ''))) return undefined;
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i] as ApprovalHistoryEvent;
    // Any Task that ended after the latest gate was scheduled means that gate was answered: the
    // history of one execution runs its top-level Tasks one at a time.
    if (TASK_ENDED.has(event.type ?? '')) return undefined;
    if (event.type !== 'TaskScheduled') continue;
    const details = event.taskScheduledEventDetails;
    if (!(details?.resource ?? '').endsWith('.waitForTaskToken')) return undefined;
    const payload = payloadOf(details?.parameters);
    const gate = payload.gate;
    const taskToken = payload.taskToken;
    if ((gate !== 'reissue' && gate !== 'retire') || typeof taskToken !== 'string' || taskToken === '') {
      return undefined;
    }
    return { gate, taskToken };
  }
  return undefined;
}

function payloadOf(parameters: string | undefined): Record<string, unknown> {
  if (parameters === undefined) return {};
  try {
    const value: unknown = JSON.parse(parameters);
    if (typeof value !== 'object' || value === null) return {};
    const payload = (value as { Payload?: unknown }).Payload;
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
