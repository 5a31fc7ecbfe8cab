// The approval records one execution left in a lab's account: what answer-approval wrote to the lock
// table (`approval/<execution ARN>/<gate>`, docs/workflow.md "Approvals answered around the endpoint"),
// read from the lab's moto_server as the lab's rotator, the way its env file points the SDK at it. For
// the answer-held kill cases: the killed run's execution must have its record, written before the kill.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ENV_FILE } from '../lab/lab-files.js';
import { approvalRecordKey } from '../lambdas/contract/approval.js';
import { LOCK_TABLE_PARTITION_KEY } from '../lambdas/contract/rotation-lock.js';
import { parseEnvFile } from '../rehearsal/fleet/attached-fleet.js';

/** One approval record as far as a kill case reads it. */
export interface LabApprovalRecord {
  readonly gate: 'reissue' | 'retire';
  readonly verdict: string;
  readonly approvalId: string;
}

const GATES = ['reissue', 'retire'] as const;

/** Every approval record of `executionArn` in any table of the lab's account (the stack's lock table). */
export async function labApprovalRecords(labDir: string, executionArn: string): Promise<LabApprovalRecord[]> {
  const env = parseEnvFile(await readFile(join(labDir, ENV_FILE), 'utf8'));
  const endpoint = env.AWS_ENDPOINT_URL;
  if (endpoint === undefined)
    throw new Error(`${join(labDir, ENV_FILE)} names no AWS_ENDPOINT_URL (a lab without moto)`);
  const client = new DynamoDBClient({
    endpoint,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'lab',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'lab',
      ...(env.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: env.AWS_SESSION_TOKEN }),
    },
  });
  try {
    const { TableNames = [] } = await client.send(new ListTablesCommand({}));
    const records: LabApprovalRecord[] = [];
    for (const tableName of TableNames) {
      for (const gate of GATES) {
        const { Item } = await client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { [LOCK_TABLE_PARTITION_KEY]: { S: approvalRecordKey(executionArn, gate) } },
            ConsistentRead: true,
          }),
        );
        if (Item === undefined) continue;
        records.push({ gate, verdict: Item.verdict?.S ?? '', approvalId: Item.approvalId?.S ?? '' });
      }
    }
    return records;
  } finally {
    client.destroy();
  }
}
