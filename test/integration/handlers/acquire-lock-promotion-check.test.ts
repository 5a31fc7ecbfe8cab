// acquire-lock's check of a resumed promotion (meshtrust retry-promotion), against moto (DynamoDB for the
// lock) with Step Functions answered by the rehearsal's execution-history proxy: the named run must have
// stopped in promote-root, and the input's resumePromotion must be what its history says (the staged
// root above all); otherwise PreconditionFailed, and the lock is not taken.
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { lockIdFor } from '../../../lambdas/adapters/lock/rotation-lock.js';
import { MESH_ID_ENV } from '../../../lambdas/contract/function-environment.js';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
} from '../../../lambdas/contract/rotation-lock.js';
import { resumePromotionOf } from '../../../lambdas/core/rotation/resume-promotion.js';
import { handler as acquireLock } from '../../../lambdas/handlers/acquire-lock.js';
import {
  type ExecutionHistoryProxy,
  type RecordedExecution,
  startExecutionHistoryProxy,
} from '../../../rehearsal/execution-history-proxy.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { withEnv } from './handler-lab.js';

const MESH = `promote-${randomUUID().slice(0, 8)}`;
const PREFIX = `arn:aws:states:us-east-1:123456789012:execution:meshtrust-${MESH}-rotation:`;
const ROTATION = `${PREFIX}scheduled-1`;
const RESUME = `${PREFIX}scheduled-1-promote-20260310T110000Z`;
const ROOT_B = { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'b'.repeat(64) };

/** The state the rotation ended with in rotation-stopped, after promote-root failed. */
const FINAL_STATE = {
  mode: 'scheduled',
  preflight: { clusters: [{ name: 'eu-1' }, { name: 'us-1' }] },
  stagedRoot: ROOT_B,
  retired: [{}, {}],
  stop: { Error: 'TransientError', Cause: 'throttled' },
  promotionOf: null,
  resumePromotion: null,
};

const THROUGH_PROMOTE = ['preflight', 'stage-root', 'retire-root', 'promote-root'];

function recorded(status: string, states: readonly string[], error?: string): RecordedExecution {
  const at = new Date('2026-03-10T10:00:00Z');
  return {
    executionArn: ROTATION,
    stateMachineArn: PREFIX.replace(':execution:', ':stateMachine:').slice(0, -1),
    name: 'scheduled-1',
    status,
    ...(error !== undefined && { error }),
    startDate: at,
    stopDate: at,
    events: states.map((name) => ({
      type: 'TaskStateEntered',
      timestamp: at,
      stateEnteredEventDetails: { name, input: JSON.stringify(FINAL_STATE) },
    })),
  };
}
const failedInPromoteRoot = () =>
  recorded('FAILED', [...THROUGH_PROMOTE, 'release-lock-after-stop', 'rotation-stopped'], 'TransientError');

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

/** acquire-lock of the resumed execution, with `claimed` as its input's resumePromotion. */
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
    () =>
      acquireLock({
        executionId: RESUME,
        requestedBy: 'bob',
        reason: 'finish',
        resumeRollback: null,
        resumePromotion: claimed,
      }),
  );
}

async function lockHolder(): Promise<string | undefined> {
  const item = await dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: { [LOCK_TABLE_PARTITION_KEY]: { S: lockIdFor(MESH) } } }),
  );
  return item.Item?.holder?.S;
}

function claim() {
  const decision = resumePromotionOf({
    executionArn: ROTATION,
    status: 'FAILED',
    error: 'TransientError',
    finalState: FINAL_STATE,
    statesEntered: [...THROUGH_PROMOTE, 'release-lock-after-stop', 'rotation-stopped'],
  });
  if (!decision.resumable) throw new Error(decision.reason);
  return decision.resumePromotion;
}

describe('acquire-lock checks a resumed promotion against the run it names', () => {
  it('refuses when the named run stopped before promote-root (its rollback is retry-rollback), and takes no lock', async () => {
    // Prepare: aborted in retire-root, before promote-root
    answered = recorded('ABORTED', ['preflight', 'stage-root', 'retire-root']);
    // Act
    const act = acquire(claim());
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('before promote-root'),
    });
    expect(await lockHolder()).toBeUndefined();
  });

  it('refuses a claim whose staged root is not the one the run staged', async () => {
    // Prepare
    answered = failedInPromoteRoot();
    const other = { ...ROOT_B, versionId: 'v-x', fingerprint: 'c'.repeat(64) };
    // Act
    const act = acquire({ ...claim(), stagedRoot: other });
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('differs from what the history of scheduled-1 says'),
    });
    expect(await lockHolder()).toBeUndefined();
  });

  it('takes the lock when the claim is what the run stopped in promote-root with', async () => {
    // Prepare
    answered = failedInPromoteRoot();
    // Act
    const taken = await acquire(claim());
    // Assess
    expect(taken).toMatchObject({ holder: RESUME, how: 'taken' });
    expect(await lockHolder()).toBe(RESUME);
  });
});
