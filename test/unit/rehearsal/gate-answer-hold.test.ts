// The chaos runner's kill point between answer-approval's approval record and Step Functions taking its
// answer: with MESHTRUST_REHEARSAL_HOLD_GATE_ANSWER_SECONDS the rehearsal's Step Functions proxy holds a
// SendTaskSuccess that answers a waiting gate, says so in a line the runner looks for, and only then
// hands the answer to the gate; without it nothing is held. The proxy answers task responses itself, so
// no moto is needed here.
import { ApprovalGates, mintTaskToken, type OpenGate } from '../../../rehearsal/approval-gates.js';
import {
  type ExecutionHistoryProxy,
  startExecutionHistoryProxy,
} from '../../../rehearsal/execution-history-proxy.js';
import {
  GATE_ANSWER_HOLD_ENV,
  gateAnswerHeldIn,
  gateAnswerHeldNote,
  gateAnswerHoldSeconds,
} from '../../../rehearsal/gate-answer-hold.js';
import { RehearsalOptionsError } from '../../../rehearsal/rehearsal-errors.js';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:meshtrust-rotation:rehearsal-1';

function openGate(gates: ApprovalGates, taskToken: string) {
  return gates.open({
    executionArn: EXECUTION,
    state: 'approve-reissue',
    resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    parameters: '{}',
    taskToken,
    scheduledAt: new Date(),
  });
}

/** The proxy with `hold` as its holdTaskAnswer, over gates of its own; the target is never reached. */
async function holdingProxy(
  gates: ApprovalGates,
  hold: (gate: OpenGate) => Promise<void>,
): Promise<ExecutionHistoryProxy> {
  return startExecutionHistoryProxy({
    target: 'http://127.0.0.1:9',
    recorded: () => undefined,
    gates,
    holdTaskAnswer: hold,
  });
}

async function sendTaskSuccess(proxy: ExecutionHistoryProxy, taskToken: string): Promise<Response> {
  return fetch(proxy.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AWSStepFunctions.SendTaskSuccess',
    },
    body: JSON.stringify({ taskToken, output: '{"approvalId":"a-1"}' }),
  });
}

describe('gateAnswerHoldSeconds', () => {
  it('reads whole seconds from its variable, and nothing when it is unset or empty', () => {
    // Act / Assess
    expect(gateAnswerHoldSeconds({ [GATE_ANSWER_HOLD_ENV]: '20' })).toBe(20);
    expect(gateAnswerHoldSeconds({})).toBeUndefined();
    expect(gateAnswerHoldSeconds({ [GATE_ANSWER_HOLD_ENV]: '' })).toBeUndefined();
  });

  it('refuses anything but 1 to 3600 whole seconds, naming the variable', () => {
    // Act / Assess
    for (const value of ['0', '1.5', '-3', 'soon', '3601']) {
      expect(() => gateAnswerHoldSeconds({ [GATE_ANSWER_HOLD_ENV]: value })).toThrow(RehearsalOptionsError);
      expect(() => gateAnswerHoldSeconds({ [GATE_ANSWER_HOLD_ENV]: value })).toThrow(GATE_ANSWER_HOLD_ENV);
    }
  });
});

describe('gateAnswerHeldIn', () => {
  it("finds the note of the gate's own hold in a run's output, not another gate's", () => {
    // Prepare
    const output = `  31.2 s phase approve-reissue\n  31.9 s ${gateAnswerHeldNote('approve-reissue', 20)}\n`;

    // Act / Assess
    expect(gateAnswerHeldIn(output, 'approve-reissue')).toBe(true);
    expect(gateAnswerHeldIn(output, 'approve-retire')).toBe(false);
    expect(gateAnswerHeldIn('  31.2 s phase approve-reissue\n', 'approve-reissue')).toBe(false);
  });
});

describe('the execution-history proxy holding a gate answer', () => {
  let proxy: ExecutionHistoryProxy | undefined;

  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('holds a SendTaskSuccess of a waiting gate until the hold ends: meanwhile the gate waits, unanswered', async () => {
    // Prepare
    const gates = new ApprovalGates();
    const held: OpenGate[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    proxy = await holdingProxy(gates, async (gate) => {
      held.push(gate);
      await released;
    });
    const token = mintTaskToken();
    const gate = openGate(gates, token);

    // Act
    const answering = sendTaskSuccess(proxy, token);
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const whileHeld = { answer: gate.answer(), waiting: gates.waitingIn(EXECUTION)?.state };
    release();
    const response = await answering;

    // Assess
    expect(held.map((each) => each.state)).toEqual(['approve-reissue']);
    expect(whileHeld).toEqual({ answer: undefined, waiting: 'approve-reissue' });
    expect(response.status).toBe(200);
    expect(gate.answer()).toEqual({ kind: 'success', output: '{"approvalId":"a-1"}' });
  });

  it('holds nothing for a token of no waiting gate: Step Functions refuses it at once', async () => {
    // Prepare
    const gates = new ApprovalGates();
    const held: OpenGate[] = [];
    proxy = await holdingProxy(gates, async (gate) => {
      held.push(gate);
    });

    // Act
    const response = await sendTaskSuccess(proxy, mintTaskToken());

    // Assess
    expect(response.status).toBe(400);
    expect(((await response.json()) as { __type: string }).__type).toBe('TaskDoesNotExist');
    expect(held).toEqual([]);
  });
});
