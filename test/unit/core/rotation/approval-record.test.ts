// judgeReceivedApproval: the step after an approval gate goes on only when the gate's result names the
// approval record the approval endpoint wrote for this execution and gate; any other result was sent
// around the endpoint (a direct SendTaskSuccess) and is refused.
import {
  ANSWER_APPROVAL_TIMEOUT_SECONDS,
  APPROVAL_RECORD_LIFETIME_SECONDS,
} from '../../../../lambdas/contract/approval.js';
import {
  type ApprovalRecord,
  approvalRecordExpiresAt,
  approvalRecordNeverSent,
  isApprovalRecordExpired,
  judgeReceivedApproval,
} from '../../../../lambdas/core/rotation/approval-record.js';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:scheduled-1';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice';
const APPROVAL_ID = '6f1d0c2e-3b7a-4c1e-9d2f-8a5b4c3d2e1f';
/** An hour after the approval below: the step after the gate checks it. */
const NOW = new Date('2026-03-10T10:00:00.000Z');
const APPROVED_AT_SECONDS = Date.parse('2026-03-10T09:00:00.000Z') / 1000;

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
      now: NOW,
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
      now: NOW,
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
      now: NOW,
    });

    // Assess
    expect(verdict).toEqual({
      accepted: false,
      reason: expect.stringContaining('answered around the approval endpoint (a direct SendTaskSuccess)'),
    });
  });
});

describe('the expiry of an approval record', () => {
  const lifetime = APPROVAL_RECORD_LIFETIME_SECONDS;
  const at = (seconds: number) => new Date(seconds * 1000);
  /** The verdict on the result the endpoint sent for `stored`, at `now`. */
  const judgeAt = (stored: ApprovalRecord, now: Date) =>
    judgeReceivedApproval({
      executionId: EXECUTION,
      gate: 'reissue',
      received: sentByTheEndpoint,
      record: stored,
      now,
    });

  it('is the expiry the record carries (its time-to-live attribute)', () => {
    // Act / Assess
    expect(approvalRecordExpiresAt({ ...record, expiresAt: APPROVED_AT_SECONDS + 60 })).toBe(
      APPROVED_AT_SECONDS + 60,
    );
  });

  it('is the approval time plus the lifetime for a record that carries none', () => {
    // Act / Assess
    expect(approvalRecordExpiresAt(record)).toBe(APPROVED_AT_SECONDS + lifetime);
    expect(lifetime).toBe(60 * 86_400);
  });

  it('lets a record count until the second it expires, and not from then on', () => {
    // Prepare
    const expiry = APPROVED_AT_SECONDS + lifetime;

    // Act / Assess
    expect(isApprovalRecordExpired(record, at(expiry - 1))).toBe(false);
    expect(isApprovalRecordExpired(record, at(expiry - 0.001))).toBe(false);
    expect(isApprovalRecordExpired(record, at(expiry))).toBe(true);
    expect(isApprovalRecordExpired(record, at(expiry + 86_400))).toBe(true);
  });

  it.each([
    ['an approval time that is no date', { ...record, approvedAt: 'yesterday' }],
    ['a stored expiry that is no number', { ...record, expiresAt: Number.NaN }],
  ])('counts %s as expired', (_case, stored) => {
    // Act / Assess
    expect(isApprovalRecordExpired(stored, NOW)).toBe(true);
  });

  it('refuses the result the endpoint sent for a record DynamoDB has not deleted yet, past its expiry', () => {
    // Prepare: a run of a reused execution name, answered directly with the old record's result
    const later = at(APPROVED_AT_SECONDS + lifetime + 3600);

    // Act
    const verdict = judgeAt(record, later);

    // Assess
    expect(verdict).toEqual({
      accepted: false,
      reason: expect.stringContaining(
        `gate reissue of execution ${EXECUTION} expired at 2026-05-09T09:00:00.000Z (approved at 2026-03-10T09:00:00.000Z; an approval counts for 60 days)`,
      ),
    });
  });

  it('refuses a record whose stored expiry has passed, even within the lifetime of its approval', () => {
    // Act
    const verdict = judgeAt({ ...record, expiresAt: APPROVED_AT_SECONDS + 60 }, NOW);

    // Assess
    expect(verdict.accepted).toBe(false);
    expect(verdict.accepted === false && verdict.reason).toContain('expired at 2026-03-10T09:01:00.000Z');
  });

  it('accepts the result for its record a second before the record expires', () => {
    // Act
    const verdict = judgeAt(record, at(APPROVED_AT_SECONDS + lifetime - 1));

    // Assess
    expect(verdict).toEqual({ accepted: true, approvedBy: ALICE, approvalId: APPROVAL_ID });
  });
});

describe('approvalRecordNeverSent', () => {
  it('calls a record unsent only once answer-approval could no longer be sending it', () => {
    // Prepare
    const approvedAt = '2026-12-02T12:00:00.000Z';
    const secondsLater = (seconds: number) => new Date(Date.parse(approvedAt) + seconds * 1000);

    // Act, Assess
    expect(approvalRecordNeverSent({ approvedAt }, secondsLater(ANSWER_APPROVAL_TIMEOUT_SECONDS + 1))).toBe(
      true,
    );
    expect(approvalRecordNeverSent({ approvedAt }, secondsLater(ANSWER_APPROVAL_TIMEOUT_SECONDS))).toBe(
      false,
    );
    expect(approvalRecordNeverSent({ approvedAt: 'not a date' }, secondsLater(3600))).toBe(false);
  });
});
