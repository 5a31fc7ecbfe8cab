// The stand acquire-lock's checks of a resumed run are tested on (a resumed rollback, a finished
// promotion): moto's DynamoDB for the lock, and Step Functions answered by the rehearsal's
// execution-history proxy (moto keeps no real history) with the run the test records as the rotation.
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { lockIdFor } from '../../../lambdas/adapters/lock/rotation-lock.js';
import { MESH_ID_ENV } from '../../../lambdas/contract/function-environment.js';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
} from '../../../lambdas/contract/rotation-lock.js';
import { handler as acquireLock } from '../../../lambdas/handlers/acquire-lock.js';
import {
  type ExecutionHistoryProxy,
  type RecordedExecution,
  startExecutionHistoryProxy,
} from '../../../rehearsal/execution-history-proxy.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { withEnv } from './handler-lab.js';

export interface ResumeCheckStand {
  /** The ARN prefix of this mesh's executions (`...:execution:meshtrust-<mesh>-rotation:`). */
  readonly prefix: string;
  /** The rotation the claims name: `<prefix>scheduled-1`. */
  readonly rotation: string;
  /** What Step Functions answers for the rotation from now on: `status` (and `error`), every state entered with `finalState` as input. */
  answer(run: {
    readonly status: string;
    readonly error?: string;
    readonly states: readonly string[];
    readonly finalState: unknown;
  }): void;
  /** acquire-lock's handler given `input`, in this stand's environment. */
  acquire(input: Record<string, unknown>): Promise<unknown>;
  /** Who holds this mesh's rotation lock, if anyone. */
  lockHolder(): Promise<string | undefined>;
}

/** A stand for one test file, its mesh named `<meshPrefix>-<random>`; registers its own beforeAll and afterAll. */
export function resumeCheckStand(meshPrefix: string): ResumeCheckStand {
  const mesh = `${meshPrefix}-${randomUUID().slice(0, 8)}`;
  const prefix = `arn:aws:states:us-east-1:123456789012:execution:meshtrust-${mesh}-rotation:`;
  const rotation = `${prefix}scheduled-1`;
  const tableName = `meshtrust-lock-${mesh}`;
  let proxy: ExecutionHistoryProxy;
  let dynamodb: DynamoDBClient;
  let answered: RecordedExecution | undefined;

  beforeAll(async () => {
    const moto = motoClientConfig();
    dynamodb = new DynamoDBClient(moto);
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    proxy = await startExecutionHistoryProxy({
      target: moto.endpoint,
      recorded: (arn) => (arn === rotation ? answered : undefined),
    });
  });
  afterAll(async () => {
    dynamodb?.destroy();
    await proxy?.stop();
  });

  return {
    prefix,
    rotation,
    answer({ status, error, states, finalState }) {
      const at = new Date('2026-03-10T10:00:00Z');
      answered = {
        executionArn: rotation,
        stateMachineArn: prefix.replace(':execution:', ':stateMachine:').slice(0, -1),
        name: 'scheduled-1',
        status,
        ...(error !== undefined && { error }),
        startDate: at,
        stopDate: at,
        events: states.map((name) => ({
          type: 'TaskStateEntered',
          timestamp: at,
          stateEnteredEventDetails: { name, input: JSON.stringify(finalState) },
        })),
      };
    },
    acquire(input) {
      return withEnv(
        {
          [MESH_ID_ENV]: mesh,
          [LOCK_TABLE_NAME_ENV]: tableName,
          [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '900',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_DYNAMODB: motoClientConfig().endpoint,
          AWS_ENDPOINT_URL_SFN: proxy.endpoint,
        },
        () => acquireLock(input),
      );
    },
    async lockHolder() {
      const item = await dynamodb.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { [LOCK_TABLE_PARTITION_KEY]: { S: lockIdFor(mesh) } },
        }),
      );
      return item.Item?.holder?.S;
    },
  };
}
