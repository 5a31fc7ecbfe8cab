/**
 * Names the approval endpoint shares between the stack (lib/approval-endpoint.ts), its handler
 * (lambdas/handlers/answer-approval.ts) and the CLI (`meshtrust approve`, `reject`).
 */

/** The rotation state machine whose gates answer-approval answers (set by the stack; the name is fixed). */
export const APPROVAL_STATE_MACHINE_ARN_ENV = 'APPROVAL_STATE_MACHINE_ARN';

/** The stack output holding the approval endpoint's function URL (only when approval is on). */
export const APPROVAL_URL_OUTPUT = 'ApprovalUrl';

/** The error a rejected gate fails with; the state machine's Catch sends the run to rollback. */
export const APPROVAL_REJECTED_ERROR = 'ApprovalRejected';

/** How answer-approval established the approver, in the gate's result and in the audit event. */
export const APPROVER_VERIFIED_BY = 'lambda-function-url-aws-iam';

/**
 * answer-approval's time limit (its Lambda timeout). An invocation cannot outlive it, so an approval
 * record older than this whose gate still waits was written by an invocation that ended without
 * sending its answer (it crashed or timed out between the two): no later answer is kept out by it.
 */
export const ANSWER_APPROVAL_TIMEOUT_SECONDS = 30;

/** What `meshtrust approve`/`reject` send, signed, to the approval URL. */
export interface ApprovalAnswer {
  /** The execution's name or ARN (of this mesh's rotation state machine). */
  readonly execution: string;
  readonly verdict: 'approve' | 'reject';
  readonly reason?: string;
}

/**
 * The error reissue-intermediate and retire-root fail with when the gate before them was answered
 * around the approval endpoint (a direct SendTaskSuccess): the state machine's Catch sends the run to
 * rollback, as for ApprovalRejected.
 */
export const APPROVAL_BYPASSED_ERROR = 'ApprovalBypassed';

/**
 * What answer-approval sends as a gate's result (SendTaskSuccess output), which the state machine puts
 * at `$.approvals.<gate>` and hands to the step after the gate as `approval`. `approvalId` names the
 * approval record answer-approval wrote before answering; the step after the gate reads that record
 * and goes on only when it matches (docs/security.md, "Approvals answered around the endpoint").
 */
export interface ApprovalResult {
  readonly approvedBy: string;
  readonly approvedAt: string;
  readonly verifiedBy: string;
  readonly approvalId: string;
  readonly reason?: string;
}

/**
 * The approval records' items share the rotation lock's table (LOCK_TABLE_NAME) under this key prefix:
 * `approval/<execution ARN>/<gate>`. Only answer-approval's role may write items under it (an IAM
 * condition on dynamodb:LeadingKeys); the rotation functions' lock grants are limited to the lock item.
 */
export const APPROVAL_RECORD_KEY_PREFIX = 'approval/';

/**
 * How long an approval record counts, from its `approvedAt`: 60 days. The step after a gate reads the
 * record within the run that the gate paused, and with approval on the stack refuses a run `timeout`
 * longer than this less a day (lib/mesh-trust-rotation.ts), so no rotation outlives its approvals. It
 * stays under Step Functions' 90 days after which an execution's name, hence its ARN and its records'
 * keys, may be used again: a record has expired before a new run could share its key. The record
 * carries its expiry (LOCK_TABLE_TTL_ATTRIBUTE) for DynamoDB to delete it; since that deletion is
 * lazy, the check and the endpoint's one-answer-per-gate rule treat a record past it as absent
 * (docs/security.md, "How long an approval counts").
 */
export const APPROVAL_RECORD_LIFETIME_SECONDS = 60 * 24 * 60 * 60;

/** The key of the approval record of one gate of one execution. */
export function approvalRecordKey(executionArn: string, gate: 'reissue' | 'retire'): string {
  return `${APPROVAL_RECORD_KEY_PREFIX}${executionArn}/${gate}`;
}
