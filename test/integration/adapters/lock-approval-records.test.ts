// The approval records in DynamoDB (moto): one per execution and gate, a second answer refused, and the
// replacement answer-approval makes of a record whose answer never reached Step Functions, which holds
// only over the record it judged never sent, never over one written meanwhile.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApprovalRecords } from '../../../lambdas/adapters/lock/approval-records.js';
import { APPROVER_VERIFIED_BY } from '../../../lambdas/contract/approval.js';
import { LOCK_TABLE_PARTITION_KEY } from '../../../lambdas/contract/rotation-lock.js';
import type { ApprovalRecord } from '../../../lambdas/core/rotation/approval-record.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:meshtrust-records-rotation:scheduled-1';
const NOW = new Date('2026-12-02T10:00:00.000Z');

let client: DynamoDBClient;
let records: ApprovalRecords;

beforeAll(async () => {
  client = new DynamoDBClient(motoClientConfig());
  const tableName = `approval-records-${Date.now()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  records = new ApprovalRecords({ client, tableName, now: () => NOW });
});

afterAll(() => client?.destroy());

function record(
  approvalId: string,
  approvedBy = 'arn:aws:sts::123456789012:assumed-role/oncall/bob',
): ApprovalRecord {
  return {
    executionArn: EXECUTION,
    gate: 'reissue',
    verdict: 'approve',
    approvedBy,
    approvedAt: NOW.toISOString(),
    verifiedBy: APPROVER_VERIFIED_BY,
    approvalId,
  };
}

describe('ApprovalRecords on DynamoDB', () => {
  it('refuses a second answer, and replaces only the record named as never sent', async () => {
    // Prepare
    expect(await records.put(record('never-sent'))).toBe(true);

    // Act
    const second = await records.put(record('second'));
    const wrongOne = await records.put(record('third'), { replacing: 'not-held' });
    const replaced = await records.put(record('replacement', 'alice'), { replacing: 'never-sent' });
    const again = await records.put(record('late'), { replacing: 'never-sent' });

    // Assess
    expect({ second, wrongOne, replaced, again }).toEqual({
      second: false,
      wrongOne: false,
      replaced: true,
      again: false,
    });
    expect(await records.get(EXECUTION, 'reissue')).toMatchObject({
      approvalId: 'replacement',
      approvedBy: 'alice',
    });
  });
});
