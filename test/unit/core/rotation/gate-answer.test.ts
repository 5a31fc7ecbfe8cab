import { APPROVER_VERIFIED_BY } from '../../../../lambdas/contract/approval.js';
import { judgeReceivedApproval } from '../../../../lambdas/core/rotation/approval-record.js';
import { type GateAnswerInput, gateAnswerOf } from '../../../../lambdas/core/rotation/gate-answer.js';

/** Alice's answer at AT, as answer-approval has it after checking her request. */
const GIVEN = {
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:scheduled-1',
  approver: 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice',
  at: '2026-06-01T10:00:00.000Z',
  approvalId: '6f1d0c2e-3b7a-4c1e-9d2f-8a5b4c3d2e1f',
};
const { executionArn: EXECUTION, approver: ALICE, at: AT, approvalId: APPROVAL_ID } = GIVEN;

/** Alice's approval of the reissue gate, without a reason unless the overrides give one. */
function answerOf(overrides: Partial<GateAnswerInput> = {}) {
  return gateAnswerOf({ ...GIVEN, gate: 'reissue', verdict: 'approve', ...overrides });
}

describe('gateAnswerOf', () => {
  it('records and sends the same verified approver, time and approvalId', () => {
    // Act
    const answer = answerOf({ gate: 'retire', reason: 'dashboards green' });
    // Assess
    expect(answer.record).toEqual({
      executionArn: EXECUTION,
      gate: 'retire',
      verdict: 'approve',
      approvedBy: ALICE,
      approvedAt: AT,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: APPROVAL_ID,
    });
    expect(answer.result).toEqual({
      approvedBy: ALICE,
      approvedAt: AT,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: APPROVAL_ID,
      reason: 'dashboards green',
    });
    expect(answer.phase).toBe('retire-root');
  });

  it('gives a result the step after the gate accepts against the record', () => {
    // Prepare
    const { record, result } = answerOf();
    // (a variable, not a literal: `now` is read by the record's expiry where the check has one)
    const received = {
      executionId: EXECUTION,
      gate: 'reissue' as const,
      received: result,
      record,
      now: new Date(AT),
    };
    // Act
    const verdict = judgeReceivedApproval(received);
    // Assess
    expect(verdict.accepted).toBe(true);
  });

  it('names the approver, the time and the reason in a rejection, and no reason field without one', () => {
    // Act
    const withReason = answerOf({ verdict: 'reject', reason: 'error budget spent' });
    const without = answerOf({ verdict: 'reject' });
    // Assess
    expect(withReason.rejectionCause).toBe(`rejected by ${ALICE} at ${AT}: error budget spent`);
    expect(withReason.record.verdict).toBe('reject');
    expect(withReason.phase).toBe('reissue-intermediate');
    expect(without.rejectionCause).toBe(`rejected by ${ALICE} at ${AT}: `);
    expect(without.result).not.toHaveProperty('reason');
  });
});
