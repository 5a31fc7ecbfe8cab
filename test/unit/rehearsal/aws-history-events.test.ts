// A rehearsal's local event log, recounted as the HistoryEvent types Step Functions records.
import { describe, expect, it } from '@jest/globals';
import { awsHistoryEvents, type LocalHistoryEvent } from '../../../rehearsal/aws-history-events.js';

const task = (type: string, name: string, index?: number): LocalHistoryEvent => ({
  type,
  ...(index === undefined ? {} : { index }),
  state: { name, type: 'Task' },
});

describe('awsHistoryEvents', () => {
  it('records a Lambda Task retried once as two attempts and one success', () => {
    // Act
    const events = awsHistoryEvents([
      task('StateEntered', 'stage-root'),
      task('StateFailed', 'stage-root'),
      task('StateRetried', 'stage-root'),
      task('StateExited', 'stage-root'),
    ]);
    // Assess
    expect(events).toEqual([
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
    ]);
  });

  it('records a Map whose iteration failed and was caught, without a success for either', () => {
    // Act
    const events = awsHistoryEvents([
      { type: 'StateEntered', state: { name: 'retire-root', type: 'Map' } },
      { type: 'MapIterationStarted', index: 0 },
      task('StateEntered', 'retire-root-in-cluster', 0),
      task('StateFailed', 'retire-root-in-cluster', 0),
      { type: 'MapIterationFailed', index: 0 },
      { type: 'StateFailed', state: { name: 'retire-root', type: 'Map' } },
      { type: 'StateCaught', state: { name: 'retire-root', type: 'Map' } },
      { type: 'StateExited', state: { name: 'retire-root', type: 'Map' } },
      { type: 'StateEntered', state: { name: 'rotation-rolled-back', type: 'Fail' } },
      { type: 'StateFailed', state: { name: 'rotation-rolled-back', type: 'Fail' } },
      { type: 'ExecutionFailed' },
    ]);
    // Assess
    expect(events).toEqual([
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'MapIterationFailed',
      'MapStateFailed',
      'MapStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
  });

  it('records an approval gate with the Task events of a task token', () => {
    // Act
    const events = awsHistoryEvents(
      [task('StateEntered', 'approve-retire'), task('StateExited', 'approve-retire')],
      new Set(['approve-retire']),
    );
    // Assess
    expect(events).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
  });

  it('refuses an event it has no mapping for rather than counting it as nothing', () => {
    expect(() =>
      awsHistoryEvents([{ type: 'StateEntered', state: { name: 'fan-out', type: 'Parallel' } }]),
    ).toThrow('no Step Functions history event is known for a local StateEntered of a Parallel (fan-out)');
  });
});
