/**
 * Whether the approval a gate received is one the approval endpoint recorded (docs/security.md,
 * "Approvals answered around the endpoint"). answer-approval writes an approval record (who, when,
 * which execution and gate, the verdict, a random `approvalId`) to the lock table before it answers the
 * gate, and sends the `approvalId` in the gate's result. Anyone else able to call SendTaskSuccess can
 * send any result, but cannot write the record. Pure: the caller reads the record and acts on the verdict.
 */
import {
  ANSWER_APPROVAL_TIMEOUT_SECONDS,
  APPROVAL_RECORD_LIFETIME_SECONDS,
} from '../../contract/approval.js';
import type { ApprovalGate } from './pending-approval.js';

/** The approval record answer-approval writes, as read back from the table. */
export interface ApprovalRecord {
  readonly executionArn: string;
  readonly gate: ApprovalGate;
  readonly verdict: 'approve' | 'reject';
  readonly approvedBy: string;
  readonly approvedAt: string;
  readonly verifiedBy: string;
  readonly approvalId: string;
  /**
   * When the record stops counting as an approval, in epoch seconds (the table's time-to-live attribute).
   * @default - approvedAt + APPROVAL_RECORD_LIFETIME_SECONDS (a record written without one)
   */
  readonly expiresAt?: number;
}

/**
 * When a record stops counting (epoch seconds): its own `expiresAt`, else its approval time plus the
 * lifetime. NaN for an approval time that is no date, which no clock is before.
 */
export function approvalRecordExpiresAt(record: Pick<ApprovalRecord, 'approvedAt' | 'expiresAt'>): number {
  return (
    record.expiresAt ?? Math.floor(Date.parse(record.approvedAt) / 1000) + APPROVAL_RECORD_LIFETIME_SECONDS
  );
}

/**
 * Whether a record counts no longer at `now`. DynamoDB deletes an expired item lazily (typically within
 * days), so a read may still return one: whoever reads a record asks this, never relies on it being gone.
 */
export function isApprovalRecordExpired(
  record: Pick<ApprovalRecord, 'approvedAt' | 'expiresAt'>,
  now: Date,
): boolean {
  return !(now.getTime() / 1000 < approvalRecordExpiresAt(record));
}

export type ReceivedApprovalVerdict =
  | { readonly accepted: true; readonly approvedBy: string; readonly approvalId: string }
  | {
      readonly accepted: false;
      /** Why, for the error and the audit event: names the execution and gate, never a token. */
      readonly reason: string;
    };

/**
 * Judges the result a gate received (`received`: whatever SendTaskSuccess sent, unchecked) against the
 * record stored for that execution and gate (`record`: undefined when there is none) at `now`. Accepted
 * only when the record is an approval of this very execution and gate, not expired, and the result
 * names it: same `approvalId`, same approver and time.
 */
export function judgeReceivedApproval(input: {
  readonly executionId: string;
  readonly gate: ApprovalGate;
  readonly received: unknown;
  readonly record: ApprovalRecord | undefined;
  readonly now: Date;
}): ReceivedApprovalVerdict {
  const { executionId, gate, received, record, now } = input;
  const where = `gate ${gate} of execution ${executionId}`;
  const around = 'it was answered around the approval endpoint (a direct SendTaskSuccess)';
  const result = isObject(received) ? received : undefined;
  const approvalId = typeof result?.approvalId === 'string' ? result.approvalId : undefined;
  if (approvalId === undefined || approvalId === '') {
    return refused(`The result of ${where} names no approval record: ${around}.`);
  }
  if (record === undefined) {
    return refused(`The approval endpoint recorded no answer for ${where}: ${around}.`);
  }
  if (record.executionArn !== executionId || record.gate !== gate) {
    // The key holds both, so only a malformed item gets here; refuse rather than trust it.
    return refused(
      `The approval record read for ${where} belongs to gate ${record.gate} of execution ${record.executionArn}.`,
    );
  }
  if (isApprovalRecordExpired(record, now)) {
    // No run lasts that long (the stack bounds its timeout), so this is a record of an earlier
    // execution of the same name, which Step Functions allows 90 days after it ended.
    return refused(
      `The approval record of ${where} expired at ${expiryText(record)} (approved at ${record.approvedAt}; an approval counts for ${APPROVAL_RECORD_LIFETIME_SECONDS / 86_400} days): it approves no run now.`,
    );
  }
  if (record.verdict !== 'approve') {
    return refused(
      `The approval endpoint recorded a rejection for ${where}, yet the gate went on: ${around}.`,
    );
  }
  if (record.approvalId !== approvalId) {
    return refused(
      `The result of ${where} names another approval than the one the endpoint recorded: ${around}.`,
    );
  }
  if (result?.approvedBy !== record.approvedBy || result?.approvedAt !== record.approvedAt) {
    return refused(
      `The result of ${where} names another approver or time than the endpoint recorded (${record.approvedBy} at ${record.approvedAt}): ${around}.`,
    );
  }
  return { accepted: true, approvedBy: record.approvedBy, approvalId };
}

function expiryText(record: ApprovalRecord): string {
  const at = new Date(approvalRecordExpiresAt(record) * 1000);
  return Number.isNaN(at.getTime()) ? 'an unknown time' : at.toISOString();
}

function refused(reason: string): ReceivedApprovalVerdict {
  return { accepted: false, reason };
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a record of a gate that still waits (the caller read that from the history) was written by an
 * answer-approval invocation that has ended without sending its answer: it is older than that function's
 * time limit, which no invocation outlives. A younger one may be another approver's answer on its way;
 * an approval time that is no date is never judged unsent.
 */
export function approvalRecordNeverSent(record: Pick<ApprovalRecord, 'approvedAt'>, now: Date): boolean {
  const writtenAt = Date.parse(record.approvedAt);
  return !Number.isNaN(writtenAt) && now.getTime() - writtenAt > ANSWER_APPROVAL_TIMEOUT_SECONDS * 1000;
}
