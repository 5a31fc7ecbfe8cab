// answer-approval records as approver the IAM identity Lambda verified for a function URL with AWS_IAM
// auth (requestContext.authorizer.iam.userArn), never a name the caller sends; it finds the gate's task
// token itself, answers it, and never returns or logs the token.

import type { ApprovalRecordStore } from '../../../lambdas/adapters/lock/approval-records.js';
import { ANSWER_APPROVAL_TIMEOUT_SECONDS, APPROVER_VERIFIED_BY } from '../../../lambdas/contract/approval.js';
import type { ApprovalRecord } from '../../../lambdas/core/rotation/approval-record.js';
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

/** The approval records as a map keyed by execution and gate; `events` says what happened, in order. */
class FakeRecords implements ApprovalRecordStore {
  readonly items = new Map<string, ApprovalRecord>();
  constructor(private readonly events: string[] = []) {}
  async put(record: ApprovalRecord, options: { readonly replacing?: string } = {}) {
    const key = `${record.executionArn}/${record.gate}`;
    const held = this.items.get(key);
    if (options.replacing === undefined ? held !== undefined : held?.approvalId !== options.replacing) {
      return false;
    }
    this.items.set(key, record);
    this.events.push(`${options.replacing === undefined ? 'put' : 'replace'} ${record.gate}`);
    return true;
  }
  async get(executionArn: string, gate: string) {
    return this.items.get(`${executionArn}/${gate}`);
  }
  async remove(record: Pick<ApprovalRecord, 'executionArn' | 'gate' | 'approvalId'>) {
    const key = `${record.executionArn}/${record.gate}`;
    if (this.items.get(key)?.approvalId === record.approvalId) this.items.delete(key);
    this.events.push(`remove ${record.gate}`);
  }
}

const APPROVAL_ID = '6f1d0c2e-3b7a-4c1e-9d2f-8a5b4c3d2e1f';

/** The deps of answerApproval with fakes: the records start empty unless given; the clock real unless given. */
function deps(executions: ApprovalExecutions, records: ApprovalRecordStore = new FakeRecords(), now?: Date) {
  return {
    executions,
    records,
    stateMachineArn: STATE_MACHINE,
    newApprovalId: () => APPROVAL_ID,
    ...(now === undefined ? {} : { now: () => now }),
  };
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
      answerApproval(request, deps(executions)),
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
          approvalId: APPROVAL_ID,
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
        detail: {
          gate: 'retire',
          verifiedBy: APPROVER_VERIFIED_BY,
          approvalId: APPROVAL_ID,
          reason: 'dashboards green',
        },
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
    const response = await answerApproval(request, deps(executions));

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
    const response = await answerApproval(request, deps(executions));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(executions.answers).toEqual([]);
  });

  it('rejects with the verified identity in the cause: the gate fails with ApprovalRejected', async () => {
    // Prepare
    const executions = new FakeExecutions(waitingAt('reissue'));
    const request = urlRequest({ execution: EXECUTION, verdict: 'reject', reason: 'mTLS errors in eu' });

    // Act
    const { result: response } = await captureLogLines(() => answerApproval(request, deps(executions)));

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
    const response = await answerApproval(
      urlRequest({ execution: other, verdict: 'approve' }),
      deps(executions),
    );

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
    const response = await answerApproval(
      urlRequest({ execution: EXECUTION, verdict: 'approve' }),
      deps(executions),
    );

    // Assess
    expect(response.statusCode).toBe(409);
    expect(executions.answers).toEqual([]);
  });

  it('records the approval (who, when, execution, gate) before it answers, under the id the result carries', async () => {
    // Prepare
    const events: string[] = [];
    const records = new FakeRecords(events);
    const executions = new FakeExecutions(waitingAt('reissue'));
    const approve = executions.approve.bind(executions);
    executions.approve = async (token, approval) => {
      events.push('SendTaskSuccess');
      await approve(token, approval);
    };

    // Act
    const { result: response } = await captureLogLines(() =>
      answerApproval(urlRequest({ execution: EXECUTION, verdict: 'approve' }), deps(executions, records)),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(events).toEqual(['put reissue', 'SendTaskSuccess']);
    const sent = executions.answers[0]?.detail as Record<string, unknown>;
    expect(await records.get(EXECUTION, 'reissue')).toEqual({
      executionArn: EXECUTION,
      gate: 'reissue',
      verdict: 'approve',
      approvedBy: ALICE,
      approvedAt: sent.approvedAt,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: sent.approvalId,
    });
  });

  it('answers nothing, 409, when the gate has a record already (two approvers at once)', async () => {
    // Prepare
    const records = new FakeRecords();
    await records.put({
      executionArn: EXECUTION,
      gate: 'reissue',
      verdict: 'reject',
      approvedBy: 'arn:aws:sts::123456789012:assumed-role/platform-oncall/bob',
      approvedAt: '2026-03-10T09:00:00.000Z',
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: 'first-answer',
    });
    const executions = new FakeExecutions(waitingAt('reissue'));

    // Act: 5 s after the first, whose answer may be on its way.
    const response = await answerApproval(
      urlRequest({ execution: EXECUTION, verdict: 'approve' }),
      deps(executions, records, new Date('2026-03-10T09:00:05.000Z')),
    );

    // Assess
    expect(response.statusCode).toBe(409);
    expect(executions.answers).toEqual([]);
    expect((await records.get(EXECUTION, 'reissue'))?.approvalId).toBe('first-answer');
  });

  describe('a record whose answer never reached Step Functions (its invocation ended between the two)', () => {
    const NEVER_SENT: ApprovalRecord = {
      executionArn: EXECUTION,
      gate: 'reissue',
      verdict: 'approve',
      approvedBy: 'arn:aws:sts::123456789012:assumed-role/platform-oncall/bob',
      approvedAt: '2026-03-10T09:00:00.000Z',
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: 'never-sent',
    };
    const writtenAgo = (seconds: number) => new Date(Date.parse(NEVER_SENT.approvedAt) + seconds * 1000);

    it("is replaced once it is older than answer-approval's time limit and the gate still waits: the new answer is sent, counted once", async () => {
      // Prepare
      const events: string[] = [];
      const records = new FakeRecords(events);
      await records.put(NEVER_SENT);
      const executions = new FakeExecutions(waitingAt('reissue'));

      // Act
      const { result: response, lines } = await captureLogLines(() =>
        answerApproval(
          urlRequest({ execution: EXECUTION, verdict: 'approve' }),
          deps(executions, records, writtenAgo(ANSWER_APPROVAL_TIMEOUT_SECONDS + 1)),
        ),
      );

      // Assess
      expect(response.statusCode).toBe(200);
      expect(events).toEqual(['put reissue', 'replace reissue']);
      expect(await records.get(EXECUTION, 'reissue')).toMatchObject({
        approvalId: APPROVAL_ID,
        approvedBy: ALICE,
      });
      expect(executions.answers).toEqual([
        expect.objectContaining({
          kind: 'approve',
          detail: expect.objectContaining({ approvalId: APPROVAL_ID }),
        }),
      ]);
      const audit = lines.map((line) => JSON.parse(line)).filter((line) => line.audit === true);
      expect(audit).toEqual([
        expect.objectContaining({
          action: 'approval-granted',
          detail: expect.objectContaining({ approvalId: APPROVAL_ID, replacedApprovalId: 'never-sent' }),
        }),
      ]);
    });

    it('is kept, 409, while its writer may still be sending it (younger than the time limit)', async () => {
      // Prepare
      const records = new FakeRecords();
      await records.put(NEVER_SENT);
      const executions = new FakeExecutions(waitingAt('reissue'));

      // Act
      const response = await answerApproval(
        urlRequest({ execution: EXECUTION, verdict: 'approve' }),
        deps(executions, records, writtenAgo(ANSWER_APPROVAL_TIMEOUT_SECONDS - 1)),
      );

      // Assess
      expect(response.statusCode).toBe(409);
      expect(executions.answers).toEqual([]);
      expect((await records.get(EXECUTION, 'reissue'))?.approvalId).toBe('never-sent');
    });

    it('is kept, 409, when another answer replaced it first (the replace is conditional on its id)', async () => {
      // Prepare
      const records = new FakeRecords();
      await records.put(NEVER_SENT);
      const executions = new FakeExecutions(waitingAt('reissue'));
      const get = records.get.bind(records);
      records.get = async (executionArn, gate) => {
        const seen = await get(executionArn, gate);
        // Another approver replaces it between this read and the replace.
        records.items.set(`${EXECUTION}/reissue`, { ...NEVER_SENT, approvalId: 'other-approver' });
        return seen;
      };

      // Act
      const response = await answerApproval(
        urlRequest({ execution: EXECUTION, verdict: 'approve' }),
        deps(executions, records, writtenAgo(ANSWER_APPROVAL_TIMEOUT_SECONDS + 1)),
      );

      // Assess
      expect(response.statusCode).toBe(409);
      expect(executions.answers).toEqual([]);
      expect(records.items.get(`${EXECUTION}/reissue`)?.approvalId).toBe('other-approver');
    });
  });

  it('removes its record when Step Functions takes no answer, so a later answer can be given', async () => {
    // Prepare
    const records = new FakeRecords();
    const executions = new FakeExecutions(waitingAt('retire'));
    executions.approve = async () => {
      throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
    };

    // Act
    const answering = answerApproval(
      urlRequest({ execution: EXECUTION, verdict: 'approve' }),
      deps(executions, records),
    );

    // Assess
    await expect(answering).rejects.toThrow('Task Timed Out');
    expect(await records.get(EXECUTION, 'retire')).toBeUndefined();
  });
});
