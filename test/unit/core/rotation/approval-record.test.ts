// judgeReceivedApproval: the step after an approval gate goes on only when the gate's result names the
// approval record the approval endpoint wrote for this execution and gate; any other result was sent
// around the endpoint (a direct SendTaskSuccess) and is refused.
import {
  type ApprovalRecord,
  judgeReceivedApproval,
} from '../../../../lambdas/core/rotation/approval-record.js';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:scheduled-1';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice';
const APPROVAL_ID = '6f1d0c2e-3b7a-4c1e-9d2f-8a5b4c3d2e1f';

const record: ApprovalRecord = {
  executionArn: EXECUTION,
  gate: 'reissue',
  verdict: 'approve',
  approvedBy: ALICE,
  approvedAt: '2026-03-10T09:00:00.000Z',
  verifiedBy: 'lambda-function-url-aws-iam',
  approvalId: APPROVAL_ID,
};

/** What answer-approval sends for `record`. */
const sentByTheEndpoint = {
  approvedBy: ALICE,
  approvedAt: '2026-03-10T09:00:00.000Z',
  verifiedBy: 'lambda-function-url-aws-iam',
  approvalId: APPROVAL_ID,
  reason: 'dashboards green',
};

describe('judgeReceivedApproval', () => {
  it('accepts the result the endpoint sent for the approval it recorded', () => {
    // Act
    const verdict = judgeReceivedApproval({
      executionId: EXECUTION,
      gate: 'reissue',
      received: sentByTheEndpoint,
      record,
    });

    // Assess
    expect(verdict).toEqual({ accepted: true, approvedBy: ALICE, approvalId: APPROVAL_ID });
  });

  it.each([
    ['a plausible result without an approval id', { ...sentByTheEndpoint, approvalId: undefined }, record],
    ['a result that is no object', 'approved', record],
    ['null', null, record],
    ['a result with an invented id and no record', sentByTheEndpoint, undefined],
    [
      'an invented id while the endpoint recorded another answer',
      { ...sentByTheEndpoint, approvalId: 'guessed' },
      record,
    ],
    [
      'the recorded id under another approver',
      { ...sentByTheEndpoint, approvedBy: 'arn:aws:iam::123456789012:user/mallory' },
      record,
    ],
    [
      'the recorded id at another time',
      { ...sentByTheEndpoint, approvedAt: '2026-03-11T09:00:00.000Z' },
      record,
    ],
    [
      'the id of a rejection the endpoint recorded',
      sentByTheEndpoint,
      { ...record, verdict: 'reject' as const },
    ],
    ['the record of the other gate', sentByTheEndpoint, { ...record, gate: 'retire' as const }],
    ['the record of another execution', sentByTheEndpoint, { ...record, executionArn: `${EXECUTION}-2` }],
  ])('refuses %s, naming the gate and execution', (_case, received, stored) => {
    // Act
    const verdict = judgeReceivedApproval({
      executionId: EXECUTION,
      gate: 'reissue',
      received,
      record: stored,
    });

    // Assess
    expect(verdict.accepted).toBe(false);
    expect(verdict.accepted === false && verdict.reason).toContain(EXECUTION);
    expect(verdict.accepted === false && verdict.reason).toMatch(/gate (reissue|retire)/);
  });

  it('says the gate was answered around the endpoint when nothing was recorded', () => {
    // Act
    const verdict = judgeReceivedApproval({
      executionId: EXECUTION,
      gate: 'retire',
      received: { ...sentByTheEndpoint },
      record: undefined,
    });

    // Assess
    expect(verdict).toEqual({
      accepted: false,
      reason: expect.stringContaining('answered around the approval endpoint (a direct SendTaskSuccess)'),
    });
  });
});
