// A rehearsal's approval gate answered as production answers it: record-approval invoked with a token
// of the gate's own, then answer-approval called as Lambda calls it behind its function URL, for the
// lab's operator. Here answer-approval is the real handler code in-process, with Step Functions as the
// execution-history proxy answers it and an in-memory record store; the rehearsal runs both functions
// in their containers from their bundles (test/integration/rehearsal/approval-rehearsal.test.ts).
import type { ApprovalRecordStore } from '../../../lambdas/adapters/lock/approval-records.js';
import type { ApprovalRecord } from '../../../lambdas/core/rotation/approval-record.js';
import { type ApprovalExecutions, answerApproval } from '../../../lambdas/handlers/answer-approval.js';
import { type ApprovalGateTaskDeps, runApprovalGate } from '../../../rehearsal/approval-gate-task.js';
import { ApprovalGates } from '../../../rehearsal/approval-gates.js';
import {
  answerStepFunctions,
  type StepFunctionsSources,
} from '../../../rehearsal/execution-history-proxy.js';
import { captureLogLines } from '../../support/capture-output.js';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:meshtrust-lab-rotation';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-lab-rotation:rehearsal-1';
const OPERATOR = 'arn:aws:sts::000000000000:assumed-role/meshtrust-rotator/lab';
const RECORD_APPROVAL = 'RecordApprovalFunction';
const ANSWER_APPROVAL = 'AnswerApprovalFunction';
const GATE_TASK = {
  state: 'approve-reissue',
  resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  recordApproval: RECORD_APPROVAL,
};
/** The gate's resolved Parameters, with the local runner's one `$$.Task.Token` for the whole run. */
const GATE_INPUT = {
  FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:meshtrust-lab-record-approval',
  Payload: { executionId: EXECUTION, gate: 'reissue', mode: 'scheduled', taskToken: 'rehearsal-task-token' },
};

class MemoryRecords implements ApprovalRecordStore {
  readonly items = new Map<string, ApprovalRecord>();
  async put(record: ApprovalRecord): Promise<boolean> {
    const key = `${record.executionArn}/${record.gate}`;
    if (this.items.has(key)) return false;
    this.items.set(key, record);
    return true;
  }
  async get(executionArn: string, gate: 'reissue' | 'retire'): Promise<ApprovalRecord | undefined> {
    return this.items.get(`${executionArn}/${gate}`);
  }
  async remove(record: Pick<ApprovalRecord, 'executionArn' | 'gate' | 'approvalId'>): Promise<void> {
    this.items.delete(`${record.executionArn}/${record.gate}`);
  }
}

/** Step Functions through the proxy's answers, as the SDK would raise a 400 (its __type as the name). */
function executionsThrough(sources: StepFunctionsSources): ApprovalExecutions {
  const call = (action: string, asked: Record<string, unknown>) => {
    const answer = answerStepFunctions(`AWSStepFunctions.${action}`, asked, sources);
    if (answer === undefined) throw new Error(`${action} would have gone to moto`);
    if (answer.status !== 200) {
      throw Object.assign(new Error(String(answer.body.message)), { name: String(answer.body.__type) });
    }
    return answer.body as Record<string, unknown>;
  };
  return {
    describe: async (executionArn) => call('DescribeExecution', { executionArn }) as { status: string },
    history: async (executionArn) => call('GetExecutionHistory', { executionArn }).events as unknown[],
    approve: async (taskToken, approval) => {
      call('SendTaskSuccess', { taskToken, output: JSON.stringify(approval) });
    },
    reject: async (taskToken, error, cause) => {
      call('SendTaskFailure', { taskToken, error, cause });
    },
  };
}

function harness(overrides: Partial<ApprovalGateTaskDeps> = {}) {
  const gates = new ApprovalGates();
  const records = new MemoryRecords();
  const invoked: { logicalId: string; event: unknown }[] = [];
  const deps: ApprovalGateTaskDeps = {
    gates,
    invoke: async (logicalId, event) => {
      invoked.push({ logicalId, event });
      if (logicalId === RECORD_APPROVAL) return { gate: 'reissue', requestedAt: new Date().toISOString() };
      return answerApproval(event, {
        executions: executionsThrough({ recorded: () => undefined, gates }),
        records,
        stateMachineArn: MACHINE,
      });
    },
    answerApproval: ANSWER_APPROVAL,
    approve: 'auto',
    approver: OPERATOR,
    ...overrides,
  };
  return { deps, gates, records, invoked };
}

describe('runApprovalGate', () => {
  it('--approve auto: answer-approval records the approval for the lab operator and the gate returns its result', async () => {
    // Prepare
    const { deps, records, invoked } = harness();

    // Act
    const { result } = await captureLogLines(() => runApprovalGate(deps, GATE_TASK, GATE_INPUT));

    // Assess
    const [record] = [...records.items.values()];
    expect(record).toMatchObject({ executionArn: EXECUTION, gate: 'reissue', verdict: 'approve' });
    expect(result).toEqual({
      approvedBy: OPERATOR,
      approvedAt: record?.approvedAt,
      verifiedBy: 'lambda-function-url-aws-iam',
      approvalId: record?.approvalId,
      reason: 'meshtrust rehearse --approve auto',
    });
    expect(invoked.map((call) => call.logicalId)).toEqual([RECORD_APPROVAL, ANSWER_APPROVAL]);
  });

  it("gives record-approval a token of the gate its own, not the runner's, and answer-approval none", async () => {
    // Prepare
    const { deps, invoked } = harness();

    // Act
    await captureLogLines(() => runApprovalGate(deps, GATE_TASK, GATE_INPUT));

    // Assess
    const recorded = invoked[0]?.event as { taskToken: string; executionId: string };
    expect(recorded.executionId).toBe(EXECUTION);
    expect(recorded.taskToken).toMatch(/^AQ[A-Za-z0-9_-]{160}$/);
    // The caller of the approval endpoint never holds the token.
    expect(JSON.stringify(invoked[1]?.event)).not.toContain(recorded.taskToken);
  });

  it('calls answer-approval as Lambda does behind a function URL with AWS_IAM auth', async () => {
    // Prepare
    const { deps, invoked } = harness();

    // Act
    await captureLogLines(() => runApprovalGate(deps, GATE_TASK, GATE_INPUT));

    // Assess
    const event = invoked[1]?.event as Record<string, unknown>;
    expect(event).toMatchObject({
      version: '2.0',
      requestContext: {
        http: { method: 'POST' },
        authorizer: { iam: { userArn: OPERATOR, accountId: '000000000000' } },
      },
      isBase64Encoded: false,
    });
    expect(JSON.parse(String(event.body))).toEqual({
      execution: EXECUTION,
      verdict: 'approve',
      reason: 'meshtrust rehearse --approve auto',
    });
  });

  it('--approve manual, rejected: the gate fails with ApprovalRejected, which rolls the run back', async () => {
    // Prepare
    const asked: string[] = [];
    const { deps, records } = harness({
      approve: 'manual',
      askApproval: async (state) => {
        asked.push(state);
        return false;
      },
    });

    // Act
    const { result } = await captureLogLines(() =>
      runApprovalGate(deps, GATE_TASK, GATE_INPUT).catch((error: unknown) => error),
    );

    // Assess
    expect(asked).toEqual(['approve-reissue']);
    expect(result).toMatchObject({ name: 'ApprovalRejected', message: expect.stringContaining(OPERATOR) });
    expect([...records.items.values()]).toEqual([expect.objectContaining({ verdict: 'reject' })]);
  });

  it('--approve manual, approved: the gate returns the recorded approval', async () => {
    // Prepare
    const { deps, records } = harness({ approve: 'manual', askApproval: async () => true });

    // Act
    const { result } = await captureLogLines(() => runApprovalGate(deps, GATE_TASK, GATE_INPUT));

    // Assess
    const [record] = [...records.items.values()];
    expect(result).toMatchObject({ approvedBy: OPERATOR, approvalId: record?.approvalId });
  });

  it('closes the gate however it ends: its token answers nothing afterwards', async () => {
    // Prepare
    const { deps, gates, invoked } = harness();
    await captureLogLines(() => runApprovalGate(deps, GATE_TASK, GATE_INPUT));
    const token = (invoked[0]?.event as { taskToken?: string } | undefined)?.taskToken;

    // Act
    const late = gates.respond(token, { kind: 'success', output: '{}' });

    // Assess
    expect(late).toBe('TaskTimedOut');
    expect(gates.waitingIn(EXECUTION)).toBeUndefined();
  });

  it("fails the gate when the approval endpoint refuses the answer (here: another mesh's state machine)", async () => {
    // Prepare
    const gates = new ApprovalGates();
    const { deps } = harness({
      gates,
      invoke: async (logicalId, event) =>
        logicalId === RECORD_APPROVAL
          ? {}
          : answerApproval(event, {
              executions: executionsThrough({ recorded: () => undefined, gates }),
              records: new MemoryRecords(),
              stateMachineArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:meshtrust-lab-rotation',
            }),
    });

    // Act
    const failure = await runApprovalGate(deps, GATE_TASK, GATE_INPUT).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'ApprovalNotAnswered', statusCode: 403 });
    expect(gates.waitingIn(EXECUTION)).toBeUndefined();
  });

  it('refuses a stack with gates but no approval endpoint to answer them', async () => {
    // Prepare
    const { deps } = harness({ answerApproval: undefined });

    // Act
    const failure = await runApprovalGate(deps, GATE_TASK, GATE_INPUT).catch((error: unknown) => error);

    // Assess
    expect(String(failure)).toMatch(/no approval endpoint/);
  });

  it('--approve-delay: the execution waits in the open gate that long before the operator answers', async () => {
    // Prepare
    const { deps, gates, invoked } = harness({ answerDelayMs: 300 });
    const stamps: number[] = [];
    const invoke = deps.invoke;
    const waitingWhileDelayed: unknown[] = [];
    const timed: ApprovalGateTaskDeps = {
      ...deps,
      invoke: async (logicalId, event) => {
        stamps.push(Date.now());
        if (logicalId === ANSWER_APPROVAL) waitingWhileDelayed.push(gates.waitingIn(EXECUTION)?.state);
        return invoke(logicalId, event);
      },
    };

    // Act
    await captureLogLines(() => runApprovalGate(timed, GATE_TASK, GATE_INPUT));

    // Assess
    expect(invoked.map((call) => call.logicalId)).toEqual([RECORD_APPROVAL, ANSWER_APPROVAL]);
    const [recorded = 0, answered = 0] = stamps;
    expect(answered - recorded).toBeGreaterThanOrEqual(290);
    // Still unanswered when the delay ran out: a kill in that time lands in the gate.
    expect(waitingWhileDelayed).toEqual(['approve-reissue']);
  });

  it('--approve-delay: an interrupt ends the wait with the gate unanswered and closed', async () => {
    // Prepare
    const stop = new AbortController();
    const { deps, gates, invoked, records } = harness({ answerDelayMs: 60_000, signal: stop.signal });

    // Act
    const pending = runApprovalGate(deps, GATE_TASK, GATE_INPUT).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop.abort('SIGINT');
    const failure = await pending;

    // Assess
    expect(failure).toMatchObject({ name: 'AbortError' });
    expect(invoked.map((call) => call.logicalId)).toEqual([RECORD_APPROVAL]);
    expect(records.items.size).toBe(0);
    expect(gates.waitingIn(EXECUTION)).toBeUndefined();
  });
});
