import { finalState, type HistoryEventLike, statesEntered } from '../../../bin/cli/execution-history.js';

// What retry-rollback reads of a run stopped outside the state machine's paths: the top-level states it
// entered, in order, and the input of the last one.
describe('statesEntered and finalState of a run aborted inside a Map', () => {
  // Prepare: a run aborted while distribute-bundle's per-cluster Task ran (events out of order, as a
  // reverse read gives them)
  const events: HistoryEventLike[] = [
    { id: 7, type: 'ExecutionAborted' },
    {
      id: 6,
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'distribute-bundle-in-cluster', input: '{"cluster":"eu-1"}' },
    },
    {
      id: 5,
      type: 'MapStateEntered',
      stateEnteredEventDetails: { name: 'distribute-bundle', input: '{"n":5}' },
    },
    { id: 4, type: 'TaskStateExited', stateExitedEventDetails: { name: 'stage-root' } },
    { id: 3, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'stage-root', input: '{"n":3}' } },
    { id: 2, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'preflight', input: '{"n":2}' } },
    { id: 1, type: 'ExecutionStarted' },
  ];

  it('lists the top-level states entered, oldest first, leaving out the states inside Maps', () => {
    // Act, Assess
    expect(statesEntered(events)).toEqual(['preflight', 'stage-root', 'distribute-bundle']);
  });

  it('takes the input of the last top-level state as the state the run was in', () => {
    // Act, Assess
    expect(finalState(events)).toEqual({ n: 5 });
  });
});
