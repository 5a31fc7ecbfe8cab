import { APPROVER_VERIFIED_BY, type ApprovalResult } from '../../contract/approval.js';
import type { ApprovalRecord } from './approval-record.js';
import type { ApprovalGate } from './pending-approval.js';

export interface GateAnswerInput {
  readonly executionArn: string;
  readonly gate: ApprovalGate;
  readonly verdict: 'approve' | 'reject';
  /** The IAM identity Lambda verified for the request, never a name from its body. */
  readonly approver: string;
  /** When the answer was given (ISO 8601). */
  readonly at: string;
  /** A random id naming the record, which the gate's result carries. */
  readonly approvalId: string;
  readonly reason?: string;
}

export interface GateAnswer {
  /** What answer-approval writes first, for the step after the gate to check. */
  readonly record: ApprovalRecord;
  /** What an approval sends as the gate's result (SendTaskSuccess), naming the record. */
  readonly result: ApprovalResult;
  /** What a rejection sends as the gate's cause (SendTaskFailure). */
  readonly rejectionCause: string;
  /** The step the gate stands before, whose phase the audit event names. */
  readonly phase: 'reissue-intermediate' | 'retire-root';
}

/**
 * One answer to an approval gate, as answer-approval records, sends and audits it: the approver is the
 * verified identity, the record and the result carry the same approver, time and `approvalId`, so the
 * step after the gate can match one against the other (judgeReceivedApproval).
 */
export function gateAnswerOf(input: GateAnswerInput): GateAnswer {
  const { executionArn, gate, verdict, approver, at, approvalId, reason } = input;
  return {
    record: {
      executionArn,
      gate,
      verdict,
      approvedBy: approver,
      approvedAt: at,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId,
    },
    result: {
      approvedBy: approver,
      approvedAt: at,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId,
      ...(reason !== undefined && { reason }),
    },
    rejectionCause: `rejected by ${approver} at ${at}: ${reason ?? ''}`,
    phase: gate === 'reissue' ? 'reissue-intermediate' : 'retire-root',
  };
}
