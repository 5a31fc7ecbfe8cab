// Reading an execution history (bin/cli/execution-history.ts) on the shape GetExecutionHistory returns
// for this state machine: moto answers every history with a fixed sample, so the events below follow
// the AWS documentation of history events (TaskStateEntered, then TaskScheduled whose `parameters` JSON
// carries the Lambda Payload with the `.waitForTaskToken` token; Map iterations linked by previousEventId).
import {
  currentState,
  findPendingApproval,
  type HistoryEventLike,
  mapProgress,
} from '../../../bin/cli/execution-history.js';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf0Xexample-task-token';
const FUNCTION = 'arn:aws:lambda:eu-west-1:123456789012:function:meshtrust-prod-record-approval';

function entered(
  id: number,
  previousEventId: number,
  type: string,
  name: string,
  input = '{}',
): HistoryEventLike {
  return { id, previousEventId, type, stateEnteredEventDetails: { name, input } };
}
function exited(id: number, previousEventId: number, type: string, name: string): HistoryEventLike {
  return { id, previousEventId, type, stateExitedEventDetails: { name } };
}
function iteration(
  id: number,
  previousEventId: number,
  type: string,
  name: string,
  index: number,
): HistoryEventLike {
  const key = `mapIteration${type.replace('MapIteration', '')}EventDetails` as keyof HistoryEventLike;
  return { id, previousEventId, type, [key]: { name, index } } as HistoryEventLike;
}

/** A scheduled-mode run with the approval gate on, up to approve-reissue waiting for its token. */
const waitingAtReissueGate: HistoryEventLike[] = [
  { id: 1, previousEventId: 0, type: 'ExecutionStarted' },
  entered(2, 1, 'TaskStateEntered', 'preflight'),
  exited(3, 2, 'TaskStateExited', 'preflight'),
  entered(4, 3, 'TaskStateEntered', 'stage-root'),
  exited(5, 4, 'TaskStateExited', 'stage-root'),
  entered(6, 5, 'MapStateEntered', 'distribute-bundle'),
  { id: 7, previousEventId: 6, type: 'MapStateStarted' },
  iteration(8, 7, 'MapIterationStarted', 'distribute-bundle', 0),
  entered(
    9,
    8,
    'TaskStateEntered',
    'distribute-bundle-in-cluster',
    '{"cluster":"prod-eu-1","mode":"scheduled"}',
  ),
  iteration(10, 7, 'MapIterationStarted', 'distribute-bundle', 1),
  entered(
    11,
    10,
    'TaskStateEntered',
    'distribute-bundle-in-cluster',
    '{"cluster":"prod-us-1","mode":"scheduled"}',
  ),
  exited(12, 9, 'TaskStateExited', 'distribute-bundle-in-cluster'),
  iteration(13, 12, 'MapIterationSucceeded', 'distribute-bundle', 0),
  exited(14, 11, 'TaskStateExited', 'distribute-bundle-in-cluster'),
  iteration(15, 14, 'MapIterationFailed', 'distribute-bundle', 1),
  exited(16, 15, 'MapStateExited', 'distribute-bundle'),
  entered(17, 16, 'TaskStateEntered', 'approve-reissue', '{"mode":"scheduled"}'),
  {
    id: 18,
    previousEventId: 17,
    type: 'TaskScheduled',
    timestamp: '2026-11-25T12:00:00.000Z',
    taskScheduledEventDetails: {
      resource: 'invoke.waitForTaskToken',
      parameters: JSON.stringify({
        FunctionName: FUNCTION,
        Payload: { executionId: 'arn:...:scheduled-1', gate: 'reissue', mode: 'scheduled', taskToken: TOKEN },
      }),
    },
  },
  { id: 19, previousEventId: 18, type: 'TaskStarted' },
  { id: 20, previousEventId: 19, type: 'TaskSubmitted' },
];

describe('findPendingApproval', () => {
  it("finds the gate's task token in the TaskScheduled parameters of the waiting approve state", () => {
    // Prepare, Act
    const pending = findPendingApproval(waitingAtReissueGate);
    // Assess
    expect(pending).toEqual({
      state: 'approve-reissue',
      gate: 'reissue',
      taskToken: TOKEN,
      since: '2026-11-25T12:00:00.000Z',
    });
  });

  it('finds nothing once the gate task has succeeded (approved) or the state was left', () => {
    // Prepare
    const approved = [...waitingAtReissueGate, { id: 21, previousEventId: 20, type: 'TaskSucceeded' }];
    const left = [...approved, exited(22, 21, 'TaskStateExited', 'approve-reissue')];
    // Act, Assess
    expect(findPendingApproval(approved)).toBeUndefined();
    expect(findPendingApproval(left)).toBeUndefined();
  });

  it('finds nothing after the execution ended, and nothing before any gate', () => {
    // Prepare
    const aborted = [...waitingAtReissueGate, { id: 21, previousEventId: 20, type: 'ExecutionAborted' }];
    // Act, Assess
    expect(findPendingApproval(aborted)).toBeUndefined();
    expect(findPendingApproval(waitingAtReissueGate.slice(0, 16))).toBeUndefined();
  });

  it('takes the token of the retried task when the first schedule failed', () => {
    // Prepare
    const retried: HistoryEventLike[] = [
      ...waitingAtReissueGate.slice(0, 18),
      { id: 19, previousEventId: 18, type: 'TaskFailed' },
      {
        id: 20,
        previousEventId: 19,
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          parameters: JSON.stringify({ Payload: { gate: 'reissue', taskToken: 'second' } }),
        },
      },
    ];
    // Act, Assess
    expect(findPendingApproval(retried)?.taskToken).toBe('second');
  });
});

describe('currentState and mapProgress', () => {
  it('names the last top-level state entered, not a Map iteration', () => {
    // Prepare, Act, Assess
    expect(currentState(waitingAtReissueGate)).toBe('approve-reissue');
    expect(currentState(waitingAtReissueGate.slice(0, 12))).toBe('distribute-bundle');
  });

  it("reports each Map iteration by the cluster in its first state's input", () => {
    // Prepare, Act
    const progress = mapProgress(waitingAtReissueGate);
    // Assess
    expect(progress).toEqual([
      {
        state: 'distribute-bundle',
        iterations: [
          { index: 0, cluster: 'prod-eu-1', status: 'succeeded' },
          { index: 1, cluster: 'prod-us-1', status: 'failed' },
        ],
      },
    ]);
  });
});
