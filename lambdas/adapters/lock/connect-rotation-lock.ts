import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { holderRunOf } from '../../core/rotation/rotation-lock.js';
import { connectExecutions } from '../stepfunctions/connect-executions.js';
import { RotationLock } from './rotation-lock.js';

export interface RotationLockConnection {
  readonly region: string;
  /** The lock table (LOCK_TABLE_NAME). */
  readonly tableName: string;
  readonly meshId: string;
  /** How long the lock of a stopped execution stays untouchable (LOCK_TAKEOVER_GRACE_SECONDS). */
  readonly takeoverGraceSeconds: number;
}

/** The mesh's rotation lock and how to release the AWS clients behind it. */
export interface ConnectedRotationLock {
  readonly lock: RotationLock;
  close(): void;
}

/**
 * How a runtime reaches the rotation lock (application/runtime.ts): handed in by the handlers that take,
 * check or release it, so that only their bundles hold the DynamoDB and Step Functions clients.
 */
export type RotationLockConnector = (connection: RotationLockConnection) => ConnectedRotationLock;

/**
 * The lock item in DynamoDB of the mesh's region; whether its holder's execution still runs, from
 * Step Functions (DescribeExecution).
 */
export const connectRotationLock: RotationLockConnector = ({
  region,
  tableName,
  meshId,
  takeoverGraceSeconds,
}) => {
  const client = new DynamoDBClient({ region });
  const { executions, close: closeExecutions } = connectExecutions(region);
  return {
    lock: new RotationLock({
      client,
      tableName,
      meshId,
      takeoverGraceSeconds,
      holderRun: async (executionArn) => {
        const execution = await executions.describeIfExists(executionArn);
        return execution === undefined
          ? { state: 'gone' }
          : holderRunOf(execution.status, execution.stopDate);
      },
    }),
    close: () => {
      client.destroy();
      closeExecutions();
    },
  };
};
