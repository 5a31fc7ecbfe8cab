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

/** What `meshtrust approve`/`reject` send, signed, to the approval URL. */
export interface ApprovalAnswer {
  /** The execution's name or ARN (of this mesh's rotation state machine). */
  readonly execution: string;
  readonly verdict: 'approve' | 'reject';
  readonly reason?: string;
}
