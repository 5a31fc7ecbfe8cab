import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emitAuditEvent } from '../adapters/audit/audit-event.js';
import { logger } from '../adapters/audit/logger.js';
import { type ApprovalRecordStore, ApprovalRecords } from '../adapters/lock/approval-records.js';
import { APPROVAL_BYPASSED_ERROR } from '../contract/approval.js';
import { LOCK_TABLE_NAME_ENV } from '../contract/rotation-lock.js';
import { isApprovalRecordExpired, judgeReceivedApproval } from '../core/rotation/approval-record.js';
import type { ApprovalGate } from '../core/rotation/pending-approval.js';
import { ApprovalBypassed, PreconditionFailed } from '../core/rotation-errors.js';

/** The field of a step's event that carries the result of the gate before it (`$.approvals.<gate>`). */
export const RECEIVED_APPROVAL_FIELD = 'approval';

export interface ReceivedApprovalCheck {
  readonly phase: 'reissue-intermediate' | 'retire-root';
  readonly gate: ApprovalGate;
  readonly executionId: string;
  readonly cluster: string;
  /** The step's event as Step Functions gave it: `approval` is there only when the stack has the gate. */
  readonly event: unknown;
  /** When the check runs, against the record's expiry. @default new Date() */
  readonly now?: Date;
}

/**
 * The step after an approval gate (reissue-intermediate after approve-reissue, retire-root after
 * approve-retire) goes on only when the gate's result names the approval record answer-approval wrote
 * for this execution and gate, and that record has not expired (APPROVAL_RECORD_LIFETIME_SECONDS after
 * the approval; DynamoDB may not have deleted it yet). A gate answered around the endpoint (a direct
 * SendTaskSuccess) fails the step with ApprovalBypassed before it writes anything, audited as
 * `approval-bypassed` (`expired` when the record was); the state machine rolls the run back as for a
 * rejected approval. Without the gate (approval off) the event has no `approval` field and there is
 * nothing to check.
 */
export async function checkReceivedApproval(
  config: { readonly region: string; readonly lock?: { readonly tableName: string } },
  check: ReceivedApprovalCheck,
  records?: ApprovalRecordStore,
): Promise<void> {
  const { phase, gate, executionId, cluster, event } = check;
  if (typeof event !== 'object' || event === null || !Object.hasOwn(event, RECEIVED_APPROVAL_FIELD)) return;
  const received = (event as Record<string, unknown>)[RECEIVED_APPROVAL_FIELD];
  let client: DynamoDBClient | undefined;
  try {
    let store = records;
    if (store === undefined) {
      if (config.lock === undefined) {
        throw new PreconditionFailed(
          `The ${gate} gate's approval cannot be checked: this function has no lock table (${LOCK_TABLE_NAME_ENV}), where the approval endpoint records approvals.`,
          { phase, cluster },
        );
      }
      client = new DynamoDBClient({ region: config.region });
      store = new ApprovalRecords({ client, tableName: config.lock.tableName });
    }
    const record = await store.get(executionId, gate);
    const now = check.now ?? new Date();
    const verdict = judgeReceivedApproval({ executionId, gate, received, record, now });
    if (!verdict.accepted) {
      emitAuditEvent({
        phase,
        action: 'approval-bypassed',
        cluster,
        executionId,
        outcome: 'refused',
        detail: {
          gate,
          error: APPROVAL_BYPASSED_ERROR,
          recorded: record !== undefined,
          ...(record !== undefined && isApprovalRecordExpired(record, now) && { expired: true }),
        },
      });
      throw new ApprovalBypassed(`${verdict.reason} The run rolls back, as for a rejected approval.`, {
        phase,
        cluster,
      });
    }
    logger.info('approval checked against its record', { gate, approvalId: verdict.approvalId });
  } finally {
    client?.destroy();
  }
}
