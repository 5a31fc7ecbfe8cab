// acquire-lock's check of a resumed rollback, against moto (DynamoDB for the lock) with Step Functions
// answered by the rehearsal's execution-history proxy (moto keeps no real history): the input's
// resumeRollback must be what the named run's history says, and the run must be of this state
// machine; otherwise PreconditionFailed, and the lock is not taken.
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { lockIdFor } from '../../../lambdas/adapters/lock/rotation-lock.js';
import { MESH_ID_ENV } from '../../../lambdas/contract/function-environment.js';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
} from '../../../lambdas/contract/rotation-lock.js';
import { resumeRollbackOf } from '../../../lambdas/core/rotation/resume-rollback.js';
import { handler as acquireLock } from '../../../lambdas/handlers/acquire-lock.js';
import {
  type ExecutionHistoryProxy,
  type RecordedExecution,
  startExecutionHistoryProxy,
} from '../../../rehearsal/execution-history-proxy.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { withEnv } from './handler-lab.js';

const MESH = `resume-${randomUUID().slice(0, 8)}`;
const PREFIX = `arn:aws:states:us-east-1:123456789012:execution:meshtrust-${MESH}-rotation:`;
const ROTATION = `${PREFIX}scheduled-1`;
const RESUME = `${PREFIX}scheduled-1-rollback-20260310T110000Z`;
const ROOT_A = { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'a'.repeat(64) };

/** The state the rotation ended with in rotation-failed. */
const FINAL_STATE = {
  mode: 'scheduled',
  preflight: { clusters: [{ name: 'eu-1' }, { name: 'us-1' }], currentRoot: ROOT_A },
  stagedRoot: null,
  failure: { Error: 'VerificationFailed', Cause: 'no' },
  rollbackFailure: { Error: 'TransientError', Cause: 'unreachable' },
  rollbackOf: null,
  resumeRollback: null,
};

function recorded(status: string, error?: string): RecordedExecution {
  const at = new Date('2026-03-10T10:00:00Z');
  return {
    executionArn: ROTATION,
    stateMachineArn: PREFIX.replace(':execution:', ':stateMachine:').slice(0, -1),
    name: 'scheduled-1',
    status,
    ...(error !== undefined && { error }),
    startDate: at,
    stopDate: at,
    events: [
      'preflight',
      'stage-root',
      'rollback-trust',
      'release-lock-after-failed-rollback',
      'rotation-failed',
    ].map((name) => ({
      type: 'TaskStateEntered',
      timestamp: at,
      stateEnteredEventDetails: { name, input: JSON.stringify(FINAL_STATE) },
    })),
  };
}

let proxy: ExecutionHistoryProxy;
let dynamodb: DynamoDBClient;
let answered: RecordedExecution | undefined;
const tableName = `meshtrust-lock-${MESH}`;

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
    recorded: (arn) => (arn === ROTATION ? answered : undefined),
  });
});
afterAll(async () => {
  dynamodb?.destroy();
  await proxy?.stop();
});

/** acquire-lock of the resumed execution, with `claimed` as its input's resumeRollback. */
function acquire(claimed: unknown): Promise<unknown> {
  return withEnv(
    {
      [MESH_ID_ENV]: MESH,
      [LOCK_TABLE_NAME_ENV]: tableName,
      [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '900',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: motoClientConfig().endpoint,
      AWS_ENDPOINT_URL_SFN: proxy.endpoint,
    },
    () => acquireLock({ executionId: RESUME, requestedBy: 'bob', reason: 'retry', resumeRollback: claimed }),
  );
}

async function lockHolder(): Promise<string | undefined> {
  const item = await dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: { [LOCK_TABLE_PARTITION_KEY]: { S: lockIdFor(MESH) } } }),
  );
  return item.Item?.holder?.S;
}

function claimOf(status: string, error?: string) {
  const decision = resumeRollbackOf({
    executionArn: ROTATION,
    status,
    ...(error && { error }),
    finalState: FINAL_STATE,
  });
  if (!decision.resumable) throw new Error(decision.reason);
  return decision.resumeRollback;
}

describe('acquire-lock checks a resumed rollback against the run it names', () => {
  it('refuses when the named run did not end as claimed, and takes no lock', async () => {
    // Prepare: the claim of a failed rollback, but the run SUCCEEDED
    answered = recorded('SUCCEEDED');
    // Act
    const act = acquire(claimOf('FAILED', 'RollbackFailed'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('SUCCEEDED: there is no rollback to resume'),
    });
    expect(await lockHolder()).toBeUndefined();
  });

  it('refuses a claim whose clusters its history does not show', async () => {
    // Prepare
    answered = recorded('FAILED', 'RollbackFailed');
    // Act
    const act = acquire({ ...claimOf('FAILED', 'RollbackFailed'), clusters: [{ name: 'eu-1' }] });
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('differs from what the history of scheduled-1 says'),
    });
    expect(await lockHolder()).toBeUndefined();
  });

  it("refuses another state machine's run", async () => {
    // Prepare
    const other = ROTATION.replace(`meshtrust-${MESH}-rotation`, 'meshtrust-other-rotation');
    // Act
    const act = acquire({ ...claimOf('FAILED', 'RollbackFailed'), executionArn: other, resumedFrom: other });
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('not an execution of this state machine'),
    });
  });

  it('takes the lock when the claim is what the failed run ended with', async () => {
    // Prepare
    answered = recorded('FAILED', 'RollbackFailed');
    // Act
    const taken = await acquire(claimOf('FAILED', 'RollbackFailed'));
    // Assess
    expect(taken).toMatchObject({ holder: RESUME, how: 'taken' });
    expect(await lockHolder()).toBe(RESUME);
  });
});
