// An approval gate's task token is a capability: whoever holds it approves or rejects the rotation.
// Step Functions puts it in the gate's input, so no log group may receive state inputs: the state
// machine logs without execution data, and nothing else the stack deploys logs an event whole.
import {
  type Asl,
  type AslState,
  aslOf,
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

const TASK_TOKEN = '$$.Task.Token';

/** Every state of a definition, those inside Map item processors included, as [name, state]. */
function allStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...allStates(state.ItemProcessor?.States ?? {}),
  ]);
}

/** The JSON text of a state's fields that Step Functions evaluates, without its Comment. */
function evaluatedText(state: AslState): string {
  const { Comment: _comment, ...fields } = state;
  return JSON.stringify(fields);
}

describe('the approval task token and the log groups', () => {
  let stacks: [string, SynthesizedMeshTrustStack][];
  let asl: Asl;

  beforeAll(() => {
    const withApproval = synthMeshTrustStack({ approval: true });
    stacks = [
      ['approval on', withApproval],
      ['approval off', synthMeshTrustStack({ approval: false })],
    ];
    asl = aslOf(withApproval);
  });

  it('never reach the execution log: every state machine logs events without execution data', () => {
    for (const [variant, { template }] of stacks) {
      // GIVEN
      const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');

      // THEN
      expect({ variant, count: machines.length }).toEqual({ variant, count: 1 });
      for (const [, machine] of machines) {
        const logging = machine.LoggingConfiguration as Record<string, unknown> | undefined;
        // The trail of events stays (level ALL); their data (inputs, outputs) never goes.
        expect({ variant, logging }).toMatchObject({
          variant,
          logging: { Level: 'ALL', IncludeExecutionData: false },
        });
      }
    }
  });

  it('is handed only to record-approval, by the two approval gates', () => {
    // WHEN
    const holding = allStates(asl.States).filter(([, state]) => evaluatedText(state).includes(TASK_TOKEN));

    // THEN
    expect(holding.map(([name]) => name).sort()).toEqual(['approve-reissue', 'approve-retire']);
    const recordApproval = new Set(
      holding.map(([, state]) => (state.Parameters as { FunctionName?: string }).FunctionName),
    );
    expect(recordApproval.size).toBe(1);
    expect([...recordApproval][0]).toMatch(/recordapproval/i);
    for (const [, state] of holding) {
      // Into the Lambda's event only: not into the state's result, which later states would carry.
      expect(JSON.stringify(state.ResultSelector ?? {})).not.toContain(TASK_TOKEN);
      expect(state.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    }
  });

  it('never reach a function log group: no function logs its event whole', () => {
    for (const [variant, { template }] of stacks) {
      // GIVEN
      const functions = resourcesOfType(template, 'AWS::Lambda::Function');

      // THEN
      expect(functions.length).toBeGreaterThan(10);
      for (const [id, fn] of functions) {
        const variables =
          (fn.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        // Powertools' logEvent switch, and the log levels at which libraries dump requests.
        expect({ variant, id, logEvent: variables.POWERTOOLS_LOGGER_LOG_EVENT }).toEqual({
          variant,
          id,
          logEvent: undefined,
        });
        for (const level of [
          variables.POWERTOOLS_LOG_LEVEL,
          variables.LOG_LEVEL,
          variables.AWS_LAMBDA_LOG_LEVEL,
        ]) {
          expect({ variant, id, level }).not.toMatchObject({
            level: expect.stringMatching(/^(debug|trace)$/i),
          });
        }
      }
    }
  });
});
