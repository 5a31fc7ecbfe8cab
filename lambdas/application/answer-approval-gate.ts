import { randomUUID } from 'node:crypto';
import { emitAuditEvent } from '../adapters/audit/audit-event.js';
import { logger } from '../adapters/audit/logger.js';
import type { ApprovalRecordStore } from '../adapters/lock/approval-records.js';
import { APPROVAL_REJECTED_ERROR, APPROVER_VERIFIED_BY, type ApprovalResult } from '../contract/approval.js';
import { type ApprovalRecord, approvalRecordNeverSent } from '../core/rotation/approval-record.js';
import { gateAnswerOf } from '../core/rotation/gate-answer.js';
import { type ApprovalGate, pendingApprovalGate } from '../core/rotation/pending-approval.js';

/** The executions port answer-approval uses (adapters' RotationExecutions fits; tests give a fake). */
export interface ApprovalExecutions {
  describe(executionArn: string): Promise<{ readonly status: string }>;
  history(executionArn: string): Promise<readonly unknown[]>;
  approve(taskToken: string, approval: Readonly<Record<string, unknown>>): Promise<void>;
  reject(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface ApprovalGateDeps {
  readonly executions: ApprovalExecutions;
  readonly records: ApprovalRecordStore;
  readonly now?: () => Date;
  /** @default randomUUID */
  readonly newApprovalId?: () => string;
}

/** A verified answer to the gate an execution of this mesh waits at. */
export interface GateAnswerRequest {
  readonly executionArn: string;
  /** The IAM identity Lambda verified. */
  readonly approver: string;
  readonly verdict: 'approve' | 'reject';
  readonly reason?: string | undefined;
}

export type GateAnswerOutcome =
  | { readonly answered: true; readonly gate: ApprovalGate; readonly result: ApprovalResult }
  /** Nothing answered: the execution waits at no gate, or its gate has an answer through the endpoint. */
  | { readonly answered: false; readonly conflict: string };

/**
 * Finds the gate the execution waits at (its task token from the execution history), writes the
 * approval record, then answers the gate (SendTaskSuccess with the result naming the record, or
 * SendTaskFailure with ApprovalRejected) and audits `approval-granted`/`approval-rejected` with the
 * approver as `actor`. The record first: the step after the gate must find it as soon as the run
 * resumes. Step Functions taking no answer removes the record again. The token is never logged.
 * A record of the gate older than this function's time limit, while the gate still waits, was written by
 * an invocation that ended (crashed, timed out) before its answer reached Step Functions: it is replaced,
 * not a reason to refuse, else the gate could be answered through the endpoint by no one until it times out.
 */
export async function answerApprovalGate(
  deps: ApprovalGateDeps,
  request: GateAnswerRequest,
): Promise<GateAnswerOutcome> {
  const { executionArn, approver, verdict, reason } = request;
  const described = await deps.executions.describe(executionArn);
  const pending =
    described.status === 'RUNNING'
      ? pendingApprovalGate((await deps.executions.history(executionArn)) as never)
      : undefined;
  if (pending === undefined) {
    return {
      answered: false,
      conflict: `execution ${executionArn} (${described.status}) waits at no approval gate`,
    };
  }
  const { gate, taskToken } = pending;
  const now = (deps.now ?? (() => new Date()))();
  const answer = gateAnswerOf({
    executionArn,
    gate,
    verdict,
    approver,
    at: now.toISOString(),
    approvalId: (deps.newApprovalId ?? randomUUID)(),
    ...(reason !== undefined && { reason }),
  });
  let replaced: ApprovalRecord | undefined;
  if (!(await deps.records.put(answer.record))) {
    replaced = await neverSentRecord(deps, executionArn, gate, now);
    if (
      replaced === undefined ||
      !(await deps.records.put(answer.record, { replacing: replaced.approvalId }))
    ) {
      return {
        answered: false,
        conflict: `gate ${gate} of execution ${executionArn} was answered already through the approval endpoint`,
      };
    }
    logger.warn('approval record never sent replaced', { executionArn, gate, replaced: replaced.approvalId });
  }
  try {
    if (verdict === 'approve') await deps.executions.approve(taskToken, { ...answer.result });
    else await deps.executions.reject(taskToken, APPROVAL_REJECTED_ERROR, answer.rejectionCause);
  } catch (error) {
    // Step Functions took no answer (the gate timed out, or was answered another way): the record
    // stands for nothing, and must not keep a later answer through the endpoint out.
    await deps.records.remove(answer.record);
    throw error;
  }
  emitAuditEvent({
    phase: answer.phase,
    action: verdict === 'approve' ? 'approval-granted' : 'approval-rejected',
    executionId: executionArn,
    actor: approver,
    outcome: 'succeeded',
    detail: {
      gate,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: answer.result.approvalId,
      ...(reason !== undefined && { reason }),
      ...(replaced !== undefined && { replacedApprovalId: replaced.approvalId }),
    },
  });
  logger.info('approval gate answered', { executionArn, gate, verdict });
  return { answered: true, gate, result: answer.result };
}

/** The gate's record, when its answer never reached Step Functions (core's approvalRecordNeverSent). */
async function neverSentRecord(
  deps: ApprovalGateDeps,
  executionArn: string,
  gate: ApprovalGate,
  now: Date,
): Promise<ApprovalRecord | undefined> {
  const record = await deps.records.get(executionArn, gate);
  return record !== undefined && approvalRecordNeverSent(record, now) ? record : undefined;
}
