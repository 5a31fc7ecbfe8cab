// acquire-lock's check of a resumed promotion (meshtrust retry-promotion), against moto (DynamoDB for the
// lock) with Step Functions answered by the rehearsal's execution-history proxy: the named run must have
// stopped in promote-root, and the input's resumePromotion must be what its history says (the staged
// root above all); otherwise PreconditionFailed, and the lock is not taken.
import { resumePromotionOf } from '../../../lambdas/core/rotation/resume-promotion.js';
import { resumeCheckStand } from './resume-check-stand.js';

const stand = resumeCheckStand('promote');
const ROTATION = stand.rotation;
const RESUME = `${stand.prefix}scheduled-1-promote-20260310T110000Z`;
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

const answerFailedInPromoteRoot = () =>
  stand.answer({
    status: 'FAILED',
    error: 'TransientError',
    states: [...THROUGH_PROMOTE, 'release-lock-after-stop', 'rotation-stopped'],
    finalState: FINAL_STATE,
  });

/** acquire-lock of the resumed execution, with `claimed` as its input's resumePromotion. */
function acquire(claimed: unknown): Promise<unknown> {
  return stand.acquire({
    executionId: RESUME,
    requestedBy: 'bob',
    reason: 'finish',
    resumeRollback: null,
    resumePromotion: claimed,
  });
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
    stand.answer({
      status: 'ABORTED',
      states: ['preflight', 'stage-root', 'retire-root'],
      finalState: FINAL_STATE,
    });
    // Act
    const act = acquire(claim());
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('before promote-root'),
    });
    expect(await stand.lockHolder()).toBeUndefined();
  });

  it('refuses a claim whose staged root is not the one the run staged', async () => {
    // Prepare
    answerFailedInPromoteRoot();
    const other = { ...ROOT_B, versionId: 'v-x', fingerprint: 'c'.repeat(64) };
    // Act
    const act = acquire({ ...claim(), stagedRoot: other });
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('differs from what the history of scheduled-1 says'),
    });
    expect(await stand.lockHolder()).toBeUndefined();
  });

  it('takes the lock when the claim is what the run stopped in promote-root with', async () => {
    // Prepare
    answerFailedInPromoteRoot();
    // Act
    const taken = await acquire(claim());
    // Assess
    expect(taken).toMatchObject({ holder: RESUME, how: 'taken' });
    expect(await stand.lockHolder()).toBe(RESUME);
  });
});
