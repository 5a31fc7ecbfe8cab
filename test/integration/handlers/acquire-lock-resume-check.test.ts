// acquire-lock's check of a resumed rollback, against moto (DynamoDB for the lock) with Step Functions
// answered by the rehearsal's execution-history proxy (moto keeps no real history): the input's
// resumeRollback must be what the named run's history says, and the run must be of this state
// machine; otherwise PreconditionFailed, and the lock is not taken.
import { resumeRollbackOf } from '../../../lambdas/core/rotation/resume-rollback.js';
import { resumeCheckStand } from './resume-check-stand.js';

const stand = resumeCheckStand('resume');
const ROTATION = stand.rotation;
const RESUME = `${stand.prefix}scheduled-1-rollback-20260310T110000Z`;
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

/** Step Functions answers for the rotation: `status` after a failed rollback's states. */
const answer = (status: string, error?: string) =>
  stand.answer({
    status,
    ...(error !== undefined && { error }),
    states: [
      'preflight',
      'stage-root',
      'rollback-trust',
      'release-lock-after-failed-rollback',
      'rotation-failed',
    ],
    finalState: FINAL_STATE,
  });

/** acquire-lock of the resumed execution, with `claimed` as its input's resumeRollback. */
function acquire(claimed: unknown): Promise<unknown> {
  return stand.acquire({ executionId: RESUME, requestedBy: 'bob', reason: 'retry', resumeRollback: claimed });
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
    answer('SUCCEEDED');
    // Act
    const act = acquire(claimOf('FAILED', 'RollbackFailed'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('SUCCEEDED: there is no rollback to resume'),
    });
    expect(await stand.lockHolder()).toBeUndefined();
  });

  it('refuses a claim whose clusters its history does not show', async () => {
    // Prepare
    answer('FAILED', 'RollbackFailed');
    // Act
    const act = acquire({ ...claimOf('FAILED', 'RollbackFailed'), clusters: [{ name: 'eu-1' }] });
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('differs from what the history of scheduled-1 says'),
    });
    expect(await stand.lockHolder()).toBeUndefined();
  });

  it("refuses another state machine's run", async () => {
    // Prepare
    const other = ROTATION.replace(/meshtrust-[^:]+-rotation/, 'meshtrust-other-rotation');
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
    answer('FAILED', 'RollbackFailed');
    // Act
    const taken = await acquire(claimOf('FAILED', 'RollbackFailed'));
    // Assess
    expect(taken).toMatchObject({ holder: RESUME, how: 'taken' });
    expect(await stand.lockHolder()).toBe(RESUME);
  });
});
