// Step Functions as the rehearsal's functions see an execution waiting at an approval gate: the
// execution-history proxy's answers (RUNNING, the gate's TaskScheduled event with its token) and the
// gate's token answered once by SendTaskSuccess/SendTaskFailure, every other token refused as Step
// Functions refuses it.
import { pendingApprovalGate } from '../../../lambdas/core/rotation/pending-approval.js';
import { ApprovalGates, mintTaskToken, type OpenGate } from '../../../rehearsal/approval-gates.js';
import {
  answerStepFunctions,
  type RecordedExecution,
  type StepFunctionsAnswer,
  type StepFunctionsSources,
} from '../../../rehearsal/execution-history-proxy.js';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:meshtrust-lab-rotation';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-lab-rotation:rehearsal-1';
const OTHER = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-lab-rotation:rehearsal-2';
const DESCRIBE = 'AWSStepFunctions.DescribeExecution';
const HISTORY = 'AWSStepFunctions.GetExecutionHistory';
const SUCCESS = 'AWSStepFunctions.SendTaskSuccess';
const FAILURE = 'AWSStepFunctions.SendTaskFailure';

function gateOf(taskToken: string, executionArn = EXECUTION): OpenGate {
  return {
    executionArn,
    state: 'approve-reissue',
    resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    parameters: JSON.stringify({
      FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:meshtrust-lab-record-approval',
      Payload: { executionId: executionArn, gate: 'reissue', mode: 'scheduled', taskToken },
    }),
    taskToken,
    scheduledAt: new Date('2026-03-10T10:05:00Z'),
  };
}

/** The events of a GetExecutionHistory answer. */
function eventsOf(answer: StepFunctionsAnswer | undefined): { type: string; id: number }[] {
  return (answer?.body.events ?? []) as { type: string; id: number }[];
}

function sourcesWith(gates: ApprovalGates, recorded?: RecordedExecution): StepFunctionsSources {
  return { recorded: (arn) => (arn === recorded?.executionArn ? recorded : undefined), gates };
}

describe('an execution waiting at an approval gate, through the execution-history proxy', () => {
  it('is RUNNING, and its history gives answer-approval the gate and its token', () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    gates.executionStarted(EXECUTION, new Date('2026-03-10T10:00:00Z'));
    gates.open(gateOf(token));
    const sources = sourcesWith(gates);

    // Act
    const described = answerStepFunctions(DESCRIBE, { executionArn: EXECUTION }, sources);
    const history = answerStepFunctions(HISTORY, { executionArn: EXECUTION, maxResults: 1000 }, sources);

    // Assess
    expect(described).toEqual({
      status: 200,
      body: {
        executionArn: EXECUTION,
        stateMachineArn: MACHINE,
        name: 'rehearsal-1',
        status: 'RUNNING',
        startDate: Date.parse('2026-03-10T10:00:00Z') / 1000,
      },
    });
    const events = eventsOf(history);
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
    ]);
    expect(events[2]).toMatchObject({
      taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' },
    });
    // What answer-approval makes of it (lambdas/core/rotation/pending-approval.ts).
    expect(pendingApprovalGate(events as never)).toEqual({ gate: 'reissue', taskToken: token });
  });

  it('shows the newest events first, at most maxResults, as GetExecutionHistory pages them', () => {
    // Prepare
    const gates = new ApprovalGates();
    gates.open(gateOf(mintTaskToken()));

    // Act
    const page = answerStepFunctions(
      HISTORY,
      { executionArn: EXECUTION, reverseOrder: true, maxResults: 2 },
      sourcesWith(gates),
    );

    // Assess
    expect(eventsOf(page)).toEqual([
      expect.objectContaining({ id: 5, type: 'TaskSubmitted' }),
      expect.objectContaining({ id: 4, type: 'TaskStarted' }),
    ]);
  });

  it('leaves an execution that waits at no gate to moto, and an ended one to what the run recorded', () => {
    // Prepare
    const gates = new ApprovalGates();
    gates.open(gateOf(mintTaskToken()));
    const ended: RecordedExecution = {
      executionArn: OTHER,
      stateMachineArn: MACHINE,
      name: 'rehearsal-2',
      status: 'SUCCEEDED',
      startDate: new Date('2026-03-10T09:00:00Z'),
      stopDate: new Date('2026-03-10T09:05:00Z'),
      events: [],
    };
    const unknown = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-lab-rotation:elsewhere';

    // Act
    const toMoto = answerStepFunctions(DESCRIBE, { executionArn: unknown }, sourcesWith(gates, ended));
    const recorded = answerStepFunctions(DESCRIBE, { executionArn: OTHER }, sourcesWith(gates, ended));

    // Assess
    expect(toMoto).toBeUndefined();
    expect(recorded?.body).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('no longer waits once answered: DescribeExecution and its history go back to moto', () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    gates.open(gateOf(token));
    const sources = sourcesWith(gates);

    // Act
    const sent = answerStepFunctions(SUCCESS, { taskToken: token, output: '{"approvalId":"a"}' }, sources);
    const after = answerStepFunctions(HISTORY, { executionArn: EXECUTION }, sources);

    // Assess
    expect(sent).toEqual({ status: 200, body: {} });
    expect(after).toBeUndefined();
  });
});

describe('SendTaskSuccess and SendTaskFailure through the execution-history proxy', () => {
  it("hands SendTaskSuccess's output to the gate the token names", () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    const gate = gates.open(gateOf(token));
    const other = gates.open(gateOf(mintTaskToken(), OTHER));

    // Act
    const sent = answerStepFunctions(
      SUCCESS,
      { taskToken: token, output: '{"approvalId":"a"}' },
      sourcesWith(gates),
    );

    // Assess
    expect(sent).toEqual({ status: 200, body: {} });
    expect(gate.answer()).toEqual({ kind: 'success', output: '{"approvalId":"a"}' });
    expect(other.answer()).toBeUndefined();
  });

  it("hands SendTaskFailure's error and cause to the gate", () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    const gate = gates.open(gateOf(token));

    // Act
    answerStepFunctions(
      FAILURE,
      { taskToken: token, error: 'ApprovalRejected', cause: 'rejected by alice' },
      sourcesWith(gates),
    );

    // Assess
    expect(gate.answer()).toEqual({ kind: 'failure', error: 'ApprovalRejected', cause: 'rejected by alice' });
  });

  it('answers a token a second time TaskTimedOut, as Step Functions does a closed task', () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    const gate = gates.open(gateOf(token));
    const sources = sourcesWith(gates);
    answerStepFunctions(SUCCESS, { taskToken: token, output: '{}' }, sources);

    // Act
    const again = answerStepFunctions(FAILURE, { taskToken: token, error: 'ApprovalRejected' }, sources);
    gate.close();
    const afterClose = answerStepFunctions(SUCCESS, { taskToken: token, output: '{}' }, sources);

    // Assess
    expect(again).toEqual({ status: 400, body: expect.objectContaining({ __type: 'TaskTimedOut' }) });
    expect(afterClose?.body).toMatchObject({ __type: 'TaskTimedOut' });
    expect(gate.answer()).toEqual({ kind: 'success', output: '{}' });
  });

  it('refuses a token it never issued TaskDoesNotExist, and one not shaped like a token InvalidToken', () => {
    // Prepare
    const gates = new ApprovalGates();
    const gate = gates.open(gateOf(mintTaskToken()));
    const sources = sourcesWith(gates);

    // Act
    const unissued = answerStepFunctions(SUCCESS, { taskToken: mintTaskToken(), output: '{}' }, sources);
    const runnersToken = answerStepFunctions(
      SUCCESS,
      { taskToken: 'rehearsal-task-token', output: '{}' },
      sources,
    );
    const none = answerStepFunctions(FAILURE, {}, sources);

    // Assess
    expect(unissued).toEqual({ status: 400, body: expect.objectContaining({ __type: 'TaskDoesNotExist' }) });
    expect(runnersToken?.body).toMatchObject({ __type: 'InvalidToken' });
    expect(none?.body).toMatchObject({ __type: 'InvalidToken' });
    expect(gate.answer()).toBeUndefined();
  });

  it('refuses an output that is not JSON (InvalidOutput), leaving the gate waiting', () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    const gate = gates.open(gateOf(token));

    // Act
    const sent = answerStepFunctions(SUCCESS, { taskToken: token, output: 'approved' }, sourcesWith(gates));

    // Assess
    expect(sent?.body).toMatchObject({ __type: 'InvalidOutput' });
    expect(gate.answer()).toBeUndefined();
  });

  it('never repeats the token in an answer', () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    gates.open(gateOf(token)).close();

    // Act
    const answers = [
      answerStepFunctions(SUCCESS, { taskToken: token, output: '{}' }, sourcesWith(gates)),
      answerStepFunctions(SUCCESS, { taskToken: `${token.slice(0, -1)}x`, output: '{}' }, sourcesWith(gates)),
    ];

    // Assess
    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(token.slice(2, 40));
  });

  it('leaves task responses to moto when the run has no gates', () => {
    // Act
    const sent = answerStepFunctions(
      SUCCESS,
      { taskToken: mintTaskToken(), output: '{}' },
      {
        recorded: () => undefined,
      },
    );

    // Assess
    expect(sent).toBeUndefined();
  });
});

describe('mintTaskToken', () => {
  it('mints a different opaque token each time', () => {
    // Act
    const tokens = new Set(Array.from({ length: 50 }, () => mintTaskToken()));

    // Assess
    expect(tokens.size).toBe(50);
  });

  it('refuses to open two gates with one token', () => {
    // Prepare
    const gates = new ApprovalGates();
    const token = mintTaskToken();
    gates.open(gateOf(token));

    // Act, Assess
    expect(() => gates.open(gateOf(token, OTHER))).toThrow(/reuses a task token/);
  });
});
