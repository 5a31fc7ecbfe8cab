// The rotation lock against moto (DynamoDB, Step Functions) and a 2-cluster lab: two rotations
// started at once, stale locks, release by the holder only, re-acquisition by the same execution.
// The table is made from the synthesized stack's own resource, as the rehearsal makes it. The handlers
// reach DynamoDB through a proxy that passes one request at a time, as DynamoDB applies a conditional
// write atomically and moto does not (test/support/one-at-a-time-proxy.ts).
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { lockIdFor } from '../../../lambdas/adapters/lock/rotation-lock.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
} from '../../../lambdas/contract/rotation-lock.js';
import { executionNameOf } from '../../../lambdas/core/rotation/execution-name.js';
import type { RotationLocked } from '../../../lambdas/core/rotation-errors.js';
import { handler as acquireLock } from '../../../lambdas/handlers/acquire-lock.js';
import { handler as distributeBundle } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as releaseLock } from '../../../lambdas/handlers/release-lock.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { createTemplateTablesInMoto } from '../../../rehearsal/moto-tables.js';
import { synthMeshTrustStack } from '../../infra/synth-mesh-trust-stack.js';
import { captureLogLines } from '../../support/capture-output.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { type OneAtATimeProxy, startOneAtATimeProxy } from '../../support/one-at-a-time-proxy.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

/** Rounds of two rotations started at once; each round is a fresh pair of executions. */
const START_RACE_ROUNDS = 8;
const ACQUIRE_RACE_ROUNDS = 100;

let h: HandlerLab;
let dynamodbProxy: OneAtATimeProxy;
let sfn: SFNClient;
let dynamodb: DynamoDBClient;
let tableName: string;
let stateMachineArn: string;
let lockEnv: Record<string, string>;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 1, pcds: true });
  const moto = { ...motoClientConfig(), region: h.lab.region };
  sfn = new SFNClient(moto);
  dynamodb = new DynamoDBClient(moto);
  const tables = await createTemplateTablesInMoto({
    ...moto,
    template: synthMeshTrustStack().template.toJSON(),
    stackName: `meshtrust-${h.meshId}`,
  });
  tableName = Object.values(tables)[0] as string;
  ({ stateMachineArn } = (await sfn.send(
    new CreateStateMachineCommand({
      name: `meshtrust-${h.meshId}-rotation`,
      roleArn: 'arn:aws:iam::123456789012:role/meshtrust-states',
      definition: JSON.stringify({ StartAt: 'run', States: { run: { Type: 'Pass', End: true } } }),
    }),
  )) as { stateMachineArn: string });
  dynamodbProxy = await startOneAtATimeProxy(moto.endpoint);
  lockEnv = {
    [LOCK_TABLE_NAME_ENV]: tableName,
    [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '900',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbProxy.endpoint,
    AWS_ENDPOINT_URL_SFN: moto.endpoint,
  };
}, 120_000);
afterAll(async () => {
  sfn?.destroy();
  dynamodb?.destroy();
  await dynamodbProxy?.stop();
  await h?.stop();
});
beforeEach(async () => {
  // Each case starts with the lock free.
  await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: lockKey() }));
});

function lockKey() {
  return { [LOCK_TABLE_PARTITION_KEY]: { S: lockIdFor(h.meshId) } };
}

/** Who holds the lock now, as the table says. */
async function holderOfLock(): Promise<string | undefined> {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: lockKey(), ConsistentRead: true }),
  );
  return Item?.holder?.S;
}

/** A new execution of the state machine, RUNNING in moto (which runs no definition). */
async function runningExecution(): Promise<string> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name: `run-${Math.random().toString(36).slice(2, 10)}` }),
  );
  return executionArn as string;
}

/** A rotation's start as the state machine runs it: acquire-lock, preflight, then the first write. */
async function startRotation(executionId: string): Promise<string> {
  await acquireLock({ executionId });
  await preflight({ executionId, mode: 'scheduled', cluster: null });
  await stageRoot({ executionId });
  return executionId;
}

function withLock<T>(act: () => Promise<T>, extra: Record<string, string> = {}): Promise<T> {
  return withEnv({ ...lockEnv, ...extra }, act);
}

describe('two rotations started at once against one mesh', () => {
  it('lets exactly one run: the other is refused at acquire-lock, naming the first, before any write', async () => {
    for (let round = 1; round <= START_RACE_ROUNDS; round++) {
      // Prepare
      const executions = [await runningExecution(), await runningExecution()];
      const before = await h.writableState();

      // Act: both started in the same instant
      const outcomes = await withLock(() => Promise.allSettled(executions.map(startRotation)));

      // Assess: one winner, one refusal that names it
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as RotationLocked] : []));
      expect({ round, won: won.length, refused: refused.length }).toEqual({ round, won: 1, refused: 1 });
      const winner = won[0] as string;
      const loser = executions.find((execution) => execution !== winner) as string;
      expect(refused[0]).toMatchObject({ name: 'RotationLocked', phase: 'acquire-lock', holder: winner });
      expect(refused[0]?.message).toContain(`(${winner})`);
      expect(refused[0]?.message).toContain('stopped before writing anything');
      expect(await holderOfLock()).toBe(winner);
      // The only write is the winner's first one, its pending root; nothing of the loser anywhere.
      const after = await h.writableState();
      expect(after.cacerts).toEqual(before.cacerts);
      const versionsOf = (state: typeof before) => state.secrets.flatMap((secret) => secret.versions);
      const added = versionsOf(after).filter((version) => !versionsOf(before).includes(version));
      expect(added).toEqual([`${clientRequestTokenFor(winner, 'root')}:AWSPENDING`]);
      expect(JSON.stringify(after)).not.toContain(clientRequestTokenFor(loser, 'root'));

      // The winner ends as a rollback would: its pending root dropped, the lock released.
      await withLock(async () => {
        await rollback({ executionId: winner, stage: 'drop-pending-root' });
        await releaseLock({ executionId: winner });
      });
    }
  }, 300_000);

  it('gives the lock to exactly one of two acquisitions racing, round after round', async () => {
    for (let round = 1; round <= ACQUIRE_RACE_ROUNDS; round++) {
      // Prepare
      const executions = [await runningExecution(), await runningExecution()];

      // Act
      const outcomes = await withLock(() =>
        Promise.allSettled(executions.map((executionId) => acquireLock({ executionId }))),
      );

      // Assess
      const holder = await holderOfLock();
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as RotationLocked] : []));
      expect({ round, won: won.map((w) => w.holder), refusedBy: refused.map((r) => r.holder) }).toEqual({
        round,
        won: [holder],
        refusedBy: [holder],
      });
      expect(won[0]).toMatchObject({ how: 'taken', lockId: lockIdFor(h.meshId) });
      expectNoKeyMaterial(won[0]);
      await withLock(() => releaseLock({ executionId: holder as string }));
    }
  }, 300_000);

  it('refuses every writing step of an execution that does not hold the lock, and writes nothing', async () => {
    // Prepare: A holds the lock; B is a stray run (say, redriven after its lock was taken over)
    const [a, b] = [await runningExecution(), await runningExecution()];
    await withLock(() => acquireLock({ executionId: a }));
    const before = await h.writableState();

    // Act
    const [staged, distributed] = await withLock(() =>
      Promise.allSettled([
        stageRoot({ executionId: b }),
        distributeBundle({
          executionId: b,
          mode: 'scheduled',
          cluster: 'lab-1',
          currentRoot: h.currentRoot,
          stagedRoot: h.currentRoot,
        }),
      ]),
    );

    // Assess
    expect(staged).toMatchObject({
      status: 'rejected',
      reason: { name: 'RotationLocked', phase: 'stage-root', holder: a },
    });
    expect(distributed).toMatchObject({
      status: 'rejected',
      reason: { name: 'RotationLocked', phase: 'distribute-bundle', cluster: 'lab-1', holder: a },
    });
    expect(await h.writableState()).toEqual(before);
    expect(await holderOfLock()).toBe(a);
  });
});

describe('a lock whose holder no longer runs', () => {
  it('stays untouchable for the grace after its holder stopped, then is taken over', async () => {
    // Prepare: A took the lock and was aborted without releasing it
    const [a, b] = [await runningExecution(), await runningExecution()];
    await withLock(() => acquireLock({ executionId: a }));
    await sfn.send(new StopExecutionCommand({ executionArn: a }));

    // Act
    const withinGrace = await withLock(() => acquireLock({ executionId: b }).catch((error) => error));
    const afterGrace = await withLock(() => acquireLock({ executionId: b }), {
      [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '0',
    });

    // Assess
    expect(withinGrace).toMatchObject({ name: 'RotationLocked', holder: a });
    expect(String(withinGrace.message)).toMatch(/ended ABORTED at .* may still be writing until/);
    expect(afterGrace).toMatchObject({ holder: b, how: 'taken-over', previousHolder: a });
    expect(await holderOfLock()).toBe(b);
  });

  it('is taken over when Step Functions no longer knows the holder', async () => {
    // Prepare: a lock left by an execution closed long ago (Step Functions forgets them after 90 days)
    const forgotten = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:scheduled-20250311T090000Z`;
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...lockKey(), holder: { S: forgotten }, acquiredAt: { S: '2025-03-11T09:00:01.000Z' } },
      }),
    );
    const b = await runningExecution();

    // Act
    const acquired = await withLock(() => acquireLock({ executionId: b }));

    // Assess
    expect(acquired).toMatchObject({ holder: b, how: 'taken-over', previousHolder: forgotten });
  });

  it('is never taken over while its holder runs, however old the lock', async () => {
    // Prepare
    const [a, b] = [await runningExecution(), await runningExecution()];
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...lockKey(), holder: { S: a }, acquiredAt: { S: '2020-01-01T00:00:00.000Z' } },
      }),
    );

    // Act
    const refused = withLock(() => acquireLock({ executionId: b }), {
      [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '0',
    });

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'RotationLocked', holder: a });
    await expect(refused).rejects.toThrow(/is RUNNING/);
  });
});

describe('releasing the lock', () => {
  it('is done only by its holder: another execution leaves it, and a second release finds nothing', async () => {
    // Prepare
    const [a, b] = [await runningExecution(), await runningExecution()];
    await withLock(() => acquireLock({ executionId: a }));

    // Act
    const byOther = await withLock(() => releaseLock({ executionId: b }));
    const stillHeld = await holderOfLock();
    const byHolder = await withLock(() => releaseLock({ executionId: a }));
    const again = await withLock(() => releaseLock({ executionId: a }));

    // Assess
    expect(byOther).toEqual({ lockId: lockIdFor(h.meshId), released: false, heldBy: a });
    expect(stillHeld).toBe(a);
    expect(byHolder).toEqual({ lockId: lockIdFor(h.meshId), released: true });
    expect(again).toEqual({ lockId: lockIdFor(h.meshId), released: false });
    expect(await holderOfLock()).toBeUndefined();
  });
});

describe('releasing the lock at the end of a run that succeeded', () => {
  const auditLines = (lines: readonly string[]) =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === true);
  /** The backup reissue-intermediate makes of a cluster it rekeys (the cluster's cacerts as found). */
  const backUp = (executionId: string, cluster: string) =>
    h.store.backupCacerts(executionNameOf(executionId), cluster, {
      files: h.cacertsOf(cluster),
      resourceVersion: '1',
    });

  it("schedules a rekey's cacerts backups for deletion, once, and leaves other runs' to their own steps", async () => {
    // Prepare: a rekey of lab-2, a root rotation and a rolled-back run, each with a backup of lab-2
    const [rekey, rotation, rolledBack] = [
      await runningExecution(),
      await runningExecution(),
      await runningExecution(),
    ];
    for (const run of [rekey, rotation, rolledBack]) await backUp(run, 'lab-2');
    const worked = [{ name: 'lab-2' }];

    // Act: each release as the state machine sends it (release-lock before rotation-succeeded gets the
    // mode and preflight's clusters; release-lock-after-rollback only the execution)
    const release = async (event: Parameters<typeof releaseLock>[0]) => {
      await withLock(() => acquireLock({ executionId: (event as { executionId: string }).executionId }));
      return captureLogLines(() => withLock(() => releaseLock(event)));
    };
    const afterRotation = await release({ executionId: rotation, mode: 'scheduled', clusters: worked });
    const afterRollback = await release({ executionId: rolledBack });
    const afterRekey = await release({ executionId: rekey, mode: 'intermediate', clusters: worked });
    const again = await withLock(() =>
      releaseLock({ executionId: rekey, mode: 'intermediate', clusters: worked }),
    );

    // Assess: the lock is released first; the rekey's backup is deleting, a repeat deletes nothing
    expect(afterRekey.result).toEqual({ lockId: lockIdFor(h.meshId), released: true, backupsDeleted: 1 });
    expect(again).toEqual({ lockId: lockIdFor(h.meshId), released: false, backupsDeleted: 0 });
    expect(await holderOfLock()).toBeUndefined();
    expect(await h.cacertsBackups(rekey)).toEqual({ 'lab-1': 'none', 'lab-2': 'deleting' });
    expect(auditLines(afterRekey.lines)).toEqual([
      expect.objectContaining({
        phase: 'release-lock',
        action: 'release-rotation-lock',
        outcome: 'succeeded',
      }),
      expect.objectContaining({
        phase: 'release-lock',
        action: 'delete-cacerts-backup',
        executionId: rekey,
        cluster: 'lab-2',
        outcome: 'succeeded',
        detail: { deletionDate: expect.any(String) },
      }),
    ]);
    // A root rotation's backups are promote-root's to delete, a rolled-back run's rollback's.
    expect(afterRotation.result).toEqual({ lockId: lockIdFor(h.meshId), released: true });
    expect(afterRollback.result).toEqual({ lockId: lockIdFor(h.meshId), released: true });
    expect(await h.cacertsBackups(rotation)).toEqual({ 'lab-1': 'none', 'lab-2': 'kept' });
    expect(await h.cacertsBackups(rolledBack)).toEqual({ 'lab-1': 'none', 'lab-2': 'kept' });
    for (const { result, lines } of [afterRotation, afterRekey, afterRollback]) {
      expectNoKeyMaterial(result);
      expectNoKeyMaterial(lines);
    }
  });
});

describe('taking the lock again by the same execution', () => {
  it('succeeds, keeping the first acquisition, also when several attempts run at once', async () => {
    // Prepare
    const a = await runningExecution();
    const first = await withLock(() => acquireLock({ executionId: a }));

    // Act: a Step Functions Retry, and a redrive re-running steps concurrently
    const again = await withLock(() => acquireLock({ executionId: a }));
    const concurrent = await withLock(() =>
      Promise.all([1, 2, 3, 4].map(() => acquireLock({ executionId: a }))),
    );

    // Assess
    expect(first).toMatchObject({ holder: a, how: 'taken' });
    expect(again).toEqual({ ...first, how: 'held' });
    for (const attempt of concurrent) expect(attempt).toEqual({ ...first, how: 'held' });
    expect(await holderOfLock()).toBe(a);
  });
});

describe('who asked for the run', () => {
  // The execution log holds no execution data (an approval gate's input holds its task token), so
  // the execution input's requestedBy and reason reach the audit trail through acquire-lock's event.
  const auditLines = (lines: readonly string[]) =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === true);

  it("is in acquire-lock's audit event: actor and reason as the execution input gives them", async () => {
    // Prepare
    const a = await runningExecution();

    // Act
    const { lines } = await captureLogLines(() =>
      withLock(() =>
        acquireLock({
          executionId: a,
          requestedBy: 'arn:aws:iam::123456789012:user/alice',
          reason: 'annual rotation',
        }),
      ),
    );

    // Assess
    expect(auditLines(lines)).toEqual([
      expect.objectContaining({
        phase: 'acquire-lock',
        action: 'acquire-rotation-lock',
        executionId: a,
        outcome: 'succeeded',
        actor: 'arn:aws:iam::123456789012:user/alice',
      }),
    ]);
    expect(auditLines(lines)[0]).toMatchObject({ detail: { reason: 'annual rotation', how: 'taken' } });
  });

  it('is in the refusal too, and a run whose input names no one has no actor', async () => {
    // Prepare
    const holder = await runningExecution();
    const refused = await runningExecution();
    await withLock(() => acquireLock({ executionId: holder, requestedBy: null, reason: null }));

    // Act
    const { lines } = await captureLogLines(() =>
      withLock(() =>
        acquireLock({ executionId: refused, requestedBy: 'bob', reason: 'x'.repeat(5000) }).catch(
          () => undefined,
        ),
      ),
    );
    const { lines: anonymous } = await captureLogLines(() =>
      withLock(() => acquireLock({ executionId: holder, requestedBy: null, reason: null })),
    );

    // Assess: the refusal names who asked, the reason cut to a bounded length
    const [refusal] = auditLines(lines);
    expect(refusal).toMatchObject({
      outcome: 'refused',
      actor: 'bob',
      detail: { holder, reason: 'x'.repeat(512) },
    });
    const [held] = auditLines(anonymous);
    expect(held).toMatchObject({ outcome: 'unchanged' });
    expect(held).not.toHaveProperty('actor');
    expect(held?.detail).not.toHaveProperty('reason');
  });
});

describe('without a lock table', () => {
  it('refuses to take the lock, naming LOCK_TABLE_NAME', async () => {
    // Act
    const act = acquireLock({ executionId: await runningExecution() });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', phase: 'acquire-lock' });
    await expect(act).rejects.toThrow(/LOCK_TABLE_NAME is not set/);
  });
});
