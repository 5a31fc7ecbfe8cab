// answer-approval records as approver the IAM identity Lambda verified for a function URL with AWS_IAM
// auth (requestContext.authorizer.iam.userArn), never a name the caller sends; it finds the gate's task
// token itself, answers it, and never returns or logs the token.
import { APPROVER_VERIFIED_BY } from '../../../lambdas/contract/approval.js';
import { type ApprovalExecutions, answerApproval } from '../../../lambdas/handlers/answer-approval.js';
import { captureLogLines } from '../../support/capture-output.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:meshtrust-payments-rotation';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:scheduled-1';
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAc2VjcmV0LWNhcGFiaWxpdHk=';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice';

/** The history of a run waiting at `gate`, as GetExecutionHistory returns it (the fields read). */
function waitingAt(gate: 'reissue' | 'retire', extra: object[] = []): object[] {
  return [
    { id: 1, type: 'ExecutionStarted' },
    { id: 2, type: 'TaskScheduled', taskScheduledEventDetails: { resource: 'invoke', parameters: '{}' } },
    { id: 3, type: 'TaskSucceeded' },
    { id: 4, type: 'TaskStateEntered', stateEnteredEventDetails: { name: `approve-${gate}` } },
    {
      id: 5,
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resource: 'invoke.waitForTaskToken',
        parameters: JSON.stringify({
          FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:meshtrust-payments-record-approval',
          Payload: { executionId: EXECUTION, gate, mode: 'scheduled', taskToken: TASK_TOKEN },
        }),
      },
    },
    { id: 6, type: 'TaskStarted' },
    ...extra,
  ];
}

class FakeExecutions implements ApprovalExecutions {
  readonly answers: { kind: 'approve' | 'reject'; taskToken: string; detail: unknown }[] = [];
  constructor(
    private readonly events: object[],
    private readonly status = 'RUNNING',
  ) {}
  async describe() {
    return { status: this.status };
  }
  async history() {
    return this.events;
  }
  async approve(taskToken: string, approval: Readonly<Record<string, unknown>>) {
    this.answers.push({ kind: 'approve', taskToken, detail: approval });
  }
  async reject(taskToken: string, error: string, cause: string) {
    this.answers.push({ kind: 'reject', taskToken, detail: { error, cause } });
  }
}

/** A function URL request (payload 2.0) as Lambda passes it after checking the SigV4 signature. */
function urlRequest(body: unknown, iam: object | null = { userArn: ALICE, accountId: '123456789012' }) {
  return {
    version: '2.0',
    rawPath: '/',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      http: { method: 'POST', path: '/' },
      ...(iam !== null && { authorizer: { iam } }),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

describe('answer-approval', () => {
  it('approves with the verified identity as approvedBy, whatever name the body claims', async () => {
    // Prepare
    const executions = new FakeExecutions(waitingAt('retire'));
    const request = urlRequest({ execution: 'scheduled-1', verdict: 'approve', reason: 'dashboards green' });

    // Act
    const { result: response, lines } = await captureLogLines(() =>
      answerApproval(request, { executions, stateMachineArn: STATE_MACHINE }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(executions.answers).toEqual([
      {
        kind: 'approve',
        taskToken: TASK_TOKEN,
        detail: {
          approvedBy: ALICE,
          approvedAt: expect.any(String),
          verifiedBy: APPROVER_VERIFIED_BY,
          reason: 'dashboards green',
        },
      },
    ]);
    const audit = lines.map((line) => JSON.parse(line)).filter((line) => line.audit === true);
    expect(audit).toEqual([
      expect.objectContaining({
        phase: 'retire-root',
        action: 'approval-granted',
        executionId: EXECUTION,
        actor: ALICE,
        detail: { gate: 'retire', verifiedBy: APPROVER_VERIFIED_BY, reason: 'dashboards green' },
      }),
    ]);
    expect(`${response.body}\n${lines.join('\n')}`).not.toContain(TASK_TOKEN);
  });

  it('refuses a body that names its own approver, and answers nothing', async () => {
    // Prepare
    const executions = new FakeExecutions(waitingAt('reissue'));
    const request = urlRequest({
      execution: EXECUTION,
      verdict: 'approve',
      approvedBy: 'arn:aws:iam::1:user/ceo',
    });

    // Act
    const response = await answerApproval(request, { executions, stateMachineArn: STATE_MACHINE });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('approvedBy');
    expect(executions.answers).toEqual([]);
  });

  it('refuses, 403, a request without an IAM identity (no AWS_IAM auth, or a plain Invoke)', async () => {
    // Prepare
    const executions = new FakeExecutions(waitingAt('reissue'));
    const request = urlRequest({ execution: EXECUTION, verdict: 'approve' }, null);

    // Act
    const response = await answerApproval(request, { executions, stateMachineArn: STATE_MACHINE });

    // Assess
    expect(response.statusCode).toBe(403);
    expect(executions.answers).toEqual([]);
  });

  it('rejects with the verified identity in the cause: the gate fails with ApprovalRejected', async () => {
    // Prepare
    const executions = new FakeExecutions(waitingAt('reissue'));
    const request = urlRequest({ execution: EXECUTION, verdict: 'reject', reason: 'mTLS errors in eu' });

    // Act
    const { result: response } = await captureLogLines(() =>
      answerApproval(request, { executions, stateMachineArn: STATE_MACHINE }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(executions.answers).toEqual([
      {
        kind: 'reject',
        taskToken: TASK_TOKEN,
        detail: {
          error: 'ApprovalRejected',
          cause: expect.stringMatching(new RegExp(`^rejected by ${ALICE} at .*: mTLS errors in eu$`)),
        },
      },
    ]);
  });

  it('refuses, 403, an execution of another state machine, by ARN', async () => {
    // Prepare
    const executions = new FakeExecutions(waitingAt('reissue'));
    const other = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-billing-rotation:scheduled-1';

    // Act
    const response = await answerApproval(urlRequest({ execution: other, verdict: 'approve' }), {
      executions,
      stateMachineArn: STATE_MACHINE,
    });

    // Assess
    expect(response.statusCode).toBe(403);
    expect(executions.answers).toEqual([]);
  });

  it.each([
    ['a gate already answered', new FakeExecutions(waitingAt('reissue', [{ id: 7, type: 'TaskSucceeded' }]))],
    ['an execution that ended', new FakeExecutions(waitingAt('retire'), 'ABORTED')],
    ['a run at a Task that is no gate', new FakeExecutions(waitingAt('reissue').slice(0, 3))],
  ])('answers nothing, 409, at %s', async (_case, executions) => {
    // Act
    const response = await answerApproval(urlRequest({ execution: EXECUTION, verdict: 'approve' }), {
      executions,
      stateMachineArn: STATE_MACHINE,
    });

    // Assess
    expect(response.statusCode).toBe(409);
    expect(executions.answers).toEqual([]);
  });
});
