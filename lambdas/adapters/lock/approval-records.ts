import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { approvalRecordKey } from '../../contract/approval.js';
import { LOCK_TABLE_PARTITION_KEY, LOCK_TABLE_TTL_ATTRIBUTE } from '../../contract/rotation-lock.js';
import { type ApprovalRecord, approvalRecordExpiresAt } from '../../core/rotation/approval-record.js';
import type { ApprovalGate } from '../../core/rotation/pending-approval.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry.js';

/** What answer-approval and the steps after the gates need of the approval records (tests give a fake). */
export interface ApprovalRecordStore {
  /**
   * Writes the record, with its expiry, unless the gate has one already that has not expired: `false`
   * then, and nothing written. With `replacing`, instead only over the record holding that approval id
   * (one whose answer never reached Step Functions): `false` when the gate holds anything else.
   */
  put(record: ApprovalRecord, options?: { readonly replacing?: string }): Promise<boolean>;
  /** The record of an execution's gate, or undefined; read strongly consistent. */
  get(executionArn: string, gate: ApprovalGate): Promise<ApprovalRecord | undefined>;
  /** Removes the record if it still holds `approvalId` (an answer Step Functions refused). */
  remove(record: Pick<ApprovalRecord, 'executionArn' | 'gate' | 'approvalId'>): Promise<void>;
}

export interface ApprovalRecordsProps {
  readonly client: DynamoDBClient;
  /** The rotation lock's table (LOCK_TABLE_NAME): the records are items under `approval/`. */
  readonly tableName: string;
  /** @default 4 attempts, 200 ms .. 5 s */
  readonly retry?: RetryPolicy;
  /** The clock deciding whether a stored record has expired. @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * The approval records in DynamoDB: one item per execution and gate, `approval/<execution>/<gate>`, in
 * the lock table. Written by answer-approval only (its role alone may write items under `approval/`),
 * read by the step after each gate. Each carries its expiry in the table's time-to-live attribute, so
 * DynamoDB deletes it some time after; until then a read returns it, and judgeReceivedApproval refuses it.
 */
export class ApprovalRecords implements ApprovalRecordStore {
  private readonly props: ApprovalRecordsProps;

  constructor(props: ApprovalRecordsProps) {
    this.props = props;
  }

  async put(record: ApprovalRecord, options: { readonly replacing?: string } = {}): Promise<boolean> {
    const replacing = options.replacing;
    try {
      await this.call('PutItem', () =>
        this.props.client.send(
          new PutItemCommand({
            TableName: this.props.tableName,
            Item: {
              ...this.key(record.executionArn, record.gate),
              executionArn: { S: record.executionArn },
              gate: { S: record.gate },
              verdict: { S: record.verdict },
              approvedBy: { S: record.approvedBy },
              approvedAt: { S: record.approvedAt },
              verifiedBy: { S: record.verifiedBy },
              approvalId: { S: record.approvalId },
              [LOCK_TABLE_TTL_ATTRIBUTE]: { N: String(approvalRecordExpiresAt(record)) },
            },
            // One answer per gate: a second one (a race of two approvers) is refused, not overwritten.
            // An expired record DynamoDB has not deleted yet is none (a run of a reused execution name).
            // Replacing: only the record the caller judged never sent, not one written meanwhile.
            ...(replacing === undefined
              ? {
                  ConditionExpression: 'attribute_not_exists(#id) OR #expiresAt <= :now',
                  ExpressionAttributeNames: {
                    '#id': LOCK_TABLE_PARTITION_KEY,
                    '#expiresAt': LOCK_TABLE_TTL_ATTRIBUTE,
                  },
                  ExpressionAttributeValues: {
                    ':now': { N: String(Math.floor(this.now().getTime() / 1000)) },
                  },
                }
              : {
                  ConditionExpression: '#approvalId = :replacing',
                  ExpressionAttributeNames: { '#approvalId': 'approvalId' },
                  ExpressionAttributeValues: { ':replacing': { S: replacing } },
                }),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(executionArn: string, gate: ApprovalGate): Promise<ApprovalRecord | undefined> {
    const answer = await this.call('GetItem', () =>
      this.props.client.send(
        new GetItemCommand({
          TableName: this.props.tableName,
          Key: this.key(executionArn, gate),
          ConsistentRead: true,
        }),
      ),
    );
    return recordOf(answer.Item);
  }

  async remove(record: Pick<ApprovalRecord, 'executionArn' | 'gate' | 'approvalId'>): Promise<void> {
    try {
      await this.call('DeleteItem', () =>
        this.props.client.send(
          new DeleteItemCommand({
            TableName: this.props.tableName,
            Key: this.key(record.executionArn, record.gate),
            ConditionExpression: '#approvalId = :approvalId',
            ExpressionAttributeNames: { '#approvalId': 'approvalId' },
            ExpressionAttributeValues: { ':approvalId': { S: record.approvalId } },
          }),
        ),
      );
    } catch (error) {
      // Gone already, or another answer's: either way not this one's to remove.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private now(): Date {
    return (this.props.now ?? (() => new Date()))();
  }

  private key(executionArn: string, gate: ApprovalGate): Record<string, AttributeValue> {
    return { [LOCK_TABLE_PARTITION_KEY]: { S: approvalRecordKey(executionArn, gate) } };
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      ...(this.props.retry ?? DEFAULT_RETRY_POLICY),
      operation: `approval records: ${operation}`,
    });
  }
}

function recordOf(item: Record<string, AttributeValue> | undefined): ApprovalRecord | undefined {
  if (item === undefined) return undefined;
  const text = (name: string) => item[name]?.S ?? '';
  const expiresAt = item[LOCK_TABLE_TTL_ATTRIBUTE]?.N;
  return {
    executionArn: text('executionArn'),
    // Kept as stored: judgeReceivedApproval refuses a gate or verdict that is not the expected one.
    gate: text('gate') as ApprovalGate,
    verdict: text('verdict') === 'approve' ? 'approve' : 'reject',
    approvedBy: text('approvedBy'),
    approvedAt: text('approvedAt'),
    verifiedBy: text('verifiedBy'),
    approvalId: text('approvalId'),
    // A number that is no number reads as NaN, which counts as expired.
    ...(expiresAt !== undefined && { expiresAt: Number(expiresAt) }),
  };
}
