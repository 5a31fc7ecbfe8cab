// An approval gate answered around the approval endpoint (a direct SendTaskSuccess) must not let the run
// go on. The synthesized definition (approval on) runs on the local Step Functions runner (the
// rehearsal's), with the approval records in moto's DynamoDB (the lock table made from the template)
// and the real reissue-intermediate handler against a lab cluster, which checks the gate's result
// before it writes. The approval endpoint (answer-approval) runs in-process with its real record store;
// only its Step Functions port is a stand-in, which hands its answer to the waiting gate: moto's
// execution histories hold no task tokens, and the local runner has no SendTaskSuccess.
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ApprovalRecords } from '../../../lambdas/adapters/lock/approval-records.js';
import { lockIdFor } from '../../../lambdas/adapters/lock/rotation-lock.js';
import {
  APPROVAL_RECORD_LIFETIME_SECONDS,
  APPROVER_VERIFIED_BY,
  approvalRecordKey,
} from '../../../lambdas/contract/approval.js';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TABLE_TTL_ATTRIBUTE,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
} from '../../../lambdas/contract/rotation-lock.js';
import { type ApprovalExecutions, answerApproval } from '../../../lambdas/handlers/answer-approval.js';
import { handler as reissueIntermediate } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as retireRoot } from '../../../lambdas/handlers/retire-root.js';
import { CLUSTER_MAP_STATES, clusterTaskName, RELEASE_LOCK_STATES } from '../../../lib/workflow-states.js';
import { createTemplateTablesInMoto } from '../../../rehearsal/moto-tables.js';
import { referencedLogicalIds, resolveDefinition } from '../../../rehearsal/resolve-definition.js';
import { synthMeshTrustStack } from '../../infra/synth-mesh-trust-stack.js';
import { captureLogLines } from '../../support/capture-output.js';
import { perClusterStandIn, runDefinitionLocally, STAND_IN_PLAN } from '../../support/local-state-machine.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

type Json = Record<string, unknown>;
type Handler = (input: Json) => Promise<unknown>;

const ALICE = 'arn:aws:sts::000000000000:assumed-role/platform-oncall/alice';
const TASK_TOKEN = 'local-task-token';

let h: HandlerLab;
let dynamodb: DynamoDBClient;
let records: ApprovalRecords;
let tableName: string;
let definition: Json;
let handlerEnv: Record<string, string>;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1 });
  const moto = { ...motoClientConfig(), region: h.lab.region };
  dynamodb = new DynamoDBClient(moto);
  const template = synthMeshTrustStack({ approval: true }).template.toJSON();
  const tables = await createTemplateTablesInMoto({ ...moto, template, stackName: `meshtrust-${h.meshId}` });
  tableName = Object.values(tables)[0] as string;
  records = new ApprovalRecords({ client: dynamodb, tableName });
  const arns = Object.fromEntries(
    referencedLogicalIds(template).map((id) => [
      id,
      `arn:aws:lambda:${h.lab.region}:000000000000:function:${id}`,
    ]),
  );
  definition = resolveDefinition(template, { arns });
  handlerEnv = {
    [LOCK_TABLE_NAME_ENV]: tableName,
    [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '900',
    AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint,
  };
}, 120_000);
afterAll(async () => {
  dynamodb?.destroy();
  await h?.stop();
});

/** How the approve-reissue gate is answered: what its task token gets back, or the error it fails with. */
type GateAnswer = (gateInput: Json, executionId: string) => Promise<unknown>;

/** `meshtrust approve`/`reject` through the approval endpoint, signed by alice. */
const throughTheEndpoint =
  (verdict: 'approve' | 'reject'): GateAnswer =>
  async (gateInput, executionId) => {
    let answered: { ok: true; output: unknown } | { ok: false; error: Error } | undefined;
    // Step Functions as answer-approval sees it: the run waits at the gate record-approval was invoked
    // for, with the token the runner gave it; an answer is what the gate then returns.
    const executions: ApprovalExecutions = {
      describe: async () => ({ status: 'RUNNING' }),
      history: async () => [
        { id: 1, type: 'ExecutionStarted' },
        {
          id: 2,
          type: 'TaskScheduled',
          taskScheduledEventDetails: {
            resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            parameters: JSON.stringify(gateInput),
          },
        },
        { id: 3, type: 'TaskStarted' },
      ],
      approve: async (taskToken, approval) => {
        expect(taskToken).toBe(TASK_TOKEN);
        answered = { ok: true, output: approval };
      },
      reject: async (_taskToken, error, cause) => {
        answered = { ok: false, error: Object.assign(new Error(cause), { name: error }) };
      },
    };
    const response = await answerApproval(
      {
        requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: ALICE } } },
        body: JSON.stringify({ execution: executionId, verdict }),
      },
      {
        executions,
        records,
        stateMachineArn: executionId.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
      },
    );
    expect(response.statusCode).toBe(200);
    if (answered === undefined) throw new Error('answer-approval answered nothing');
    if (!answered.ok) throw answered.error;
    return answered.output;
  };

/**
 * Someone with states:SendTaskSuccess answers the token directly, with a result shaped like the
 * endpoint's: an approver, a time, the endpoint's verifiedBy and an approval id of their own.
 */
const directSendTaskSuccess: GateAnswer = async () => ({
  approvedBy: ALICE,
  approvedAt: new Date().toISOString(),
  verifiedBy: APPROVER_VERIFIED_BY,
  approvalId: randomUUID(),
  reason: 'looks fine',
});

interface Run {
  readonly entered: string[];
  readonly error?: string;
  readonly finalState?: Json;
  readonly reissued: unknown[];
  readonly lines: string[];
}

/** Each run takes the lock afresh: the stand-in release-lock does not release it. */
async function freeLock(): Promise<void> {
  await dynamodb.send(
    new DeleteItemCommand({
      TableName: tableName,
      Key: { [LOCK_TABLE_PARTITION_KEY]: { S: lockIdFor(h.meshId) } },
    }),
  );
}

/** An intermediate rekey of the lab's cluster with approval on, its gate answered by `answer`. */
async function rekey(executionId: string, answer: GateAnswer): Promise<Run> {
  await freeLock();

  const reissued: unknown[] = [];
  const standIn =
    (result: Json): Handler =>
    async () =>
      result;
  const handlers: Record<string, Handler> = {
    'acquire-lock': standIn({ lockId: lockIdFor(h.meshId), holder: executionId, how: 'taken' }),
    preflight: standIn({
      clusters: h.lab.clusters.map(({ name }) => ({ name, strategy: 'restart' })),
      currentRoot: h.currentRoot,
      plan: STAND_IN_PLAN,
    }),
    'approve-reissue': (input) => answer(input, executionId),
    'rollback-drop-pending': standIn({ changed: false }),
  };
  for (const map of CLUSTER_MAP_STATES) handlers[clusterTaskName(map)] = perClusterStandIn(map);
  for (const release of RELEASE_LOCK_STATES) handlers[release] = standIn({ released: true });
  // The real step after the gate: it checks the gate's result against the record, then reissues.
  handlers['reissue-intermediate-in-cluster'] = async (input) => {
    const output = await reissueIntermediate(input);
    reissued.push(output);
    return output;
  };

  const { result, lines } = await captureLogLines(() =>
    withEnv(handlerEnv, async () => {
      const run = await runDefinitionLocally({
        definition,
        input: { mode: 'intermediate', reason: 'yearly rekey', requestedBy: 'alice' },
        handlers,
        executionId,
        taskToken: TASK_TOKEN,
      });
      return { entered: run.entered, finalState: run.finalState, error: run.error?.name };
    }),
  );
  return { ...result, reissued, lines };
}

const auditLines = (run: Run) =>
  run.lines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Json;
      return parsed.audit === true ? [parsed] : [];
    } catch {
      return [];
    }
  });

describe('an approval gate answered around the approval endpoint', () => {
  it('goes on when the approval came through the endpoint: the record matches, the intermediate is reissued', async () => {
    // Prepare
    const executionId = h.executionId();
    const cluster = h.lab.clusters[0]?.name as string;
    const before = h.cacertsOf(cluster);

    // Act
    const run = await rekey(executionId, throughTheEndpoint('approve'));

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.entered).toEqual(
      expect.arrayContaining(['approve-reissue', 'reissue-intermediate', 'rotation-succeeded']),
    );
    expect(run.entered).not.toContain('rollback-trust');
    expect(run.reissued).toEqual([expect.objectContaining({ cluster, changed: true })]);
    expect(h.cacertsOf(cluster)['ca-cert.pem']).not.toBe(before['ca-cert.pem']);
    const record = await records.get(executionId, 'reissue');
    expect(record).toMatchObject({
      executionArn: executionId,
      gate: 'reissue',
      verdict: 'approve',
      approvedBy: ALICE,
    });
    expect(run.finalState?.approvals).toEqual({
      reissue: expect.objectContaining({ approvalId: record?.approvalId }),
    });
    expect(auditLines(run).map((line) => line.action)).not.toContain('approval-bypassed');
  }, 120_000);

  it('refuses a direct SendTaskSuccess with a plausible result: nothing written, rolled back, audited', async () => {
    // Prepare
    const executionId = h.executionId();
    const before = await h.writableState();

    // Act
    const run = await rekey(executionId, directSendTaskSuccess);

    // Assess: stopped at the step after the gate, before its first write, and rolled back
    expect(run.error).toBe('RotationRolledBack');
    expect(run.entered).toEqual(
      expect.arrayContaining(['approve-reissue', 'reissue-intermediate', 'rollback-trust']),
    );
    expect(run.entered).not.toContain('restart-workloads');
    expect(run.reissued).toEqual([]);
    expect(run.finalState?.failure).toMatchObject({ Error: 'ApprovalBypassed' });
    expect(String(((run.finalState?.failure ?? {}) as Json).Cause)).toContain(
      'answered around the approval endpoint',
    );
    const after = await h.writableState();
    expect(after.cacerts).toEqual(before.cacerts);
    expect(after.secrets).toEqual(before.secrets);
    expect(auditLines(run)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          phase: 'reissue-intermediate',
          action: 'approval-bypassed',
          executionId,
          outcome: 'refused',
          detail: expect.objectContaining({ gate: 'reissue', recorded: false }),
        }),
      ]),
    );
  }, 120_000);

  it('ends a bypassed run as a rejected one ends: rolled back from the gate', async () => {
    // Act
    const rejected = await rekey(h.executionId(), throughTheEndpoint('reject'));
    const bypassed = await rekey(h.executionId(), directSendTaskSuccess);

    // Assess
    expect(rejected.error).toBe('RotationRolledBack');
    expect(bypassed.error).toBe(rejected.error);
    const fromGate = (run: Run) => run.entered.slice(run.entered.indexOf('rollback-trust'));
    expect(fromGate(bypassed)).toEqual(fromGate(rejected));
  }, 120_000);

  it('is refused by retire-root too, after approve-retire, before it writes', async () => {
    // Prepare: the Map item retire-root gets after a gate answered directly
    const executionId = h.executionId();
    const cluster = h.lab.clusters[0]?.name as string;
    const before = await h.writableState();
    const item = {
      executionId,
      mode: 'scheduled',
      cluster,
      currentRoot: h.currentRoot,
      stagedRoot: h.currentRoot,
      approval: await directSendTaskSuccess({}, executionId),
    };
    await freeLock();

    // Act
    const { result: error, lines } = await captureLogLines(() =>
      withEnv(handlerEnv, () =>
        retireRoot(item).then(
          () => undefined,
          (caught: Error) => caught,
        ),
      ),
    );

    // Assess
    expect(error).toMatchObject({ name: 'ApprovalBypassed', phase: 'retire-root', cluster });
    expect(error?.message).toContain(`gate retire of execution ${executionId}`);
    expect((await h.writableState()).cacerts).toEqual(before.cacerts);
    expect(lines.some((line) => line.includes('"action":"approval-bypassed"'))).toBe(true);
  }, 60_000);

  it('keeps one record per gate in moto: a second answer is refused, and only its own answer removes it', async () => {
    // Prepare
    const executionId = h.executionId();
    const first = {
      executionArn: executionId,
      gate: 'retire' as const,
      verdict: 'approve' as const,
      approvedBy: ALICE,
      approvedAt: new Date().toISOString(),
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: randomUUID(),
    };

    // Act
    const written = await records.put(first);
    const second = await records.put({ ...first, verdict: 'reject', approvalId: randomUUID() });
    await records.remove({ ...first, approvalId: 'another-answer' });
    const afterOtherRemove = await records.get(executionId, 'retire');
    await records.remove(first);

    // Assess
    expect([written, second]).toEqual([true, false]);
    expect(afterOtherRemove).toEqual({ ...first, expiresAt: expect.any(Number) });
    expect(await records.get(executionId, 'retire')).toBeUndefined();
    expect(await records.get(executionId, 'reissue')).toBeUndefined();
  });
});

describe('how long an approval record counts, in moto', () => {
  const secondsOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

  /** A record an earlier execution of the same name was approved with, past its expiry and not yet deleted. */
  async function expiredRecordOf(executionId: string) {
    const stale = {
      executionArn: executionId,
      gate: 'reissue' as const,
      verdict: 'approve' as const,
      approvedBy: ALICE,
      approvedAt: new Date(Date.now() - (APPROVAL_RECORD_LIFETIME_SECONDS + 86_400) * 1000).toISOString(),
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: randomUUID(),
    };
    expect(await records.put(stale)).toBe(true);
    return stale;
  }

  it("writes each record with its expiry in the table's time-to-live attribute, the lifetime after the approval", async () => {
    // Prepare
    const executionId = h.executionId();
    const approvedAt = new Date().toISOString();

    // Act
    await records.put({
      executionArn: executionId,
      gate: 'retire',
      verdict: 'approve',
      approvedBy: ALICE,
      approvedAt,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId: randomUUID(),
    });
    const item = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [LOCK_TABLE_PARTITION_KEY]: { S: approvalRecordKey(executionId, 'retire') } },
      }),
    );
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));

    // Assess: the table made from the template deletes by that attribute
    expect(item.Item?.[LOCK_TABLE_TTL_ATTRIBUTE]).toEqual({
      N: String(secondsOf(approvedAt) + APPROVAL_RECORD_LIFETIME_SECONDS),
    });
    expect(ttl.TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: LOCK_TABLE_TTL_ATTRIBUTE,
    });
  });

  it('refuses a gate answered with the result of an expired record DynamoDB still holds, then lets the endpoint answer it', async () => {
    // Prepare: a run reusing an execution name whose record outlived its expiry (TTL deletes lazily;
    // moto never does), answered directly with that record's result
    const executionId = h.executionId();
    const cluster = h.lab.clusters[0]?.name as string;
    const stale = await expiredRecordOf(executionId);
    const before = await h.writableState();
    const { executionArn: _e, gate: _g, verdict: _v, ...staleResult } = stale;

    // Act
    const replayed = await rekey(executionId, async () => ({ ...staleResult }));
    const afterReplay = await h.writableState();
    const approved = await rekey(executionId, throughTheEndpoint('approve'));

    // Assess: the stale record approves nothing, and is no answer that keeps the endpoint's out
    expect(replayed.error).toBe('RotationRolledBack');
    expect(replayed.reissued).toEqual([]);
    expect(replayed.finalState?.failure).toMatchObject({ Error: 'ApprovalBypassed' });
    expect(String(((replayed.finalState?.failure ?? {}) as Json).Cause)).toContain('expired at');
    expect(auditLines(replayed)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'approval-bypassed',
          detail: expect.objectContaining({ gate: 'reissue', recorded: true, expired: true }),
        }),
      ]),
    );
    expect(afterReplay.cacerts).toEqual(before.cacerts);
    expect(approved.error).toBeUndefined();
    expect(approved.reissued).toEqual([expect.objectContaining({ cluster, changed: true })]);
    const record = await records.get(executionId, 'reissue');
    expect(record?.approvalId).not.toBe(stale.approvalId);
    expect(record?.expiresAt).toBeGreaterThan(Date.now() / 1000 + APPROVAL_RECORD_LIFETIME_SECONDS - 3600);
  }, 120_000);
});
