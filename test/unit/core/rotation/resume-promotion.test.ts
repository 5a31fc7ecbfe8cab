import { generateKeyPairSync } from 'node:crypto';
import {
  checkResumedPromotion,
  type EndedExecution,
  EXECUTION_NAME_MAX,
  resumedPromotionName,
  resumePromotionOf,
} from '../../../../lambdas/core/rotation/index.js';
import { FORWARD_PHASES, RUN_START } from '../../../support/workflow-paths.js';

const PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:';
const ROTATION = `${PREFIX}scheduled-20260310T090000Z`;
const RESUME = `${PREFIX}scheduled-20260310T090000Z-promote-20260312T110000Z`;
const STAGED_ROOT = { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'b'.repeat(64) };
const CLUSTERS = [{ name: 'eu-1' }, { name: 'us-1' }];
const STOP = { Error: 'TransientError', Cause: 'Secrets Manager throttled UpdateSecretVersionStage' };

/** The top-level states of a scheduled run, from the start through retire-root. */
const THROUGH_RETIRE = [
  ...RUN_START,
  'preflight',
  'mode',
  // stage-root through verify-workloads, then the Choice before the soak
  ...FORWARD_PHASES.slice(
    FORWARD_PHASES.indexOf('stage-root'),
    FORWARD_PHASES.indexOf('verify-workloads') + 1,
  ),
  'after-workloads',
  'soak',
  'retire-root',
];

/** The state a scheduled run holds after retire-root: what promote-root is given. */
function stateAfterRetire(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'scheduled',
    cluster: null,
    lock: { lockId: 'rotation/payments', holder: ROTATION },
    preflight: {
      clusters: CLUSTERS,
      currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'a'.repeat(64) },
    },
    stagedRoot: STAGED_ROOT,
    retired: [{ cluster: 'eu-1' }, { cluster: 'us-1' }],
    resumeRollback: null,
    rollbackOf: null,
    resumePromotion: null,
    promotionOf: null,
    ...overrides,
  };
}

/** A run whose promote-root failed for good: caught into release-lock-after-stop, ended in rotation-stopped. */
function failedInPromoteRoot(overrides: Partial<EndedExecution> = {}): EndedExecution {
  return {
    executionArn: ROTATION,
    status: 'FAILED',
    error: STOP.Error,
    finalState: stateAfterRetire({ stop: STOP, lockRelease: { released: true } }),
    statesEntered: [...THROUGH_RETIRE, 'promote-root', 'release-lock-after-stop', 'rotation-stopped'],
    ...overrides,
  };
}

describe('resumePromotionOf', () => {
  it('finishes a run whose promote-root failed: its staged root, clusters and stop, nothing else of its state', () => {
    // Act
    const decision = resumePromotionOf(failedInPromoteRoot());
    // Assess
    expect(decision).toEqual({
      resumable: true,
      mode: 'scheduled',
      resumePromotion: {
        executionArn: ROTATION,
        resumedFrom: ROTATION,
        clusters: CLUSTERS,
        stagedRoot: STAGED_ROOT,
        stop: STOP,
      },
    });
  });

  it('finishes a run ABORTED or TIMED_OUT in promote-root, the stop as its record', () => {
    for (const status of ['ABORTED', 'TIMED_OUT']) {
      // Act
      const decision = resumePromotionOf({
        executionArn: ROTATION,
        status,
        finalState: stateAfterRetire(),
        statesEntered: [...THROUGH_RETIRE, 'promote-root'],
      });
      // Assess
      expect(decision).toMatchObject({
        resumable: true,
        resumePromotion: {
          stagedRoot: STAGED_ROOT,
          stop: {
            Error: status,
            Cause: `scheduled-20260310T090000Z was ${status} in promote-root; no Catch ran`,
          },
        },
      });
    }
  });

  it('finishes a resumed promotion that failed again, still promoting the first rotation', () => {
    // Prepare
    const resumeInput = {
      executionArn: ROTATION,
      resumedFrom: ROTATION,
      clusters: CLUSTERS,
      stagedRoot: STAGED_ROOT,
      stop: STOP,
    };
    // Act
    const decision = resumePromotionOf({
      executionArn: RESUME,
      status: 'FAILED',
      error: 'PreconditionFailed',
      finalState: {
        mode: 'emergency',
        preflight: { clusters: CLUSTERS },
        stagedRoot: STAGED_ROOT,
        resumePromotion: resumeInput,
        promotionOf: ROTATION,
        stop: { Error: 'PreconditionFailed', Cause: 'again' },
      },
      statesEntered: [
        ...RUN_START,
        'resume-promotion',
        'promote-root',
        'release-lock-after-stop',
        'rotation-stopped',
      ],
    });
    // Assess
    expect(decision).toMatchObject({
      resumable: true,
      mode: 'emergency',
      resumePromotion: { executionArn: ROTATION, resumedFrom: RESUME, stop: { Error: 'PreconditionFailed' } },
    });
  });

  it.each([
    [
      'stopped before retire-root finished (rolled back by retry-rollback instead)',
      { status: 'ABORTED', statesEntered: THROUGH_RETIRE },
      /before promote-root.*retry-rollback/,
    ],
    [
      'stopped by preflight (FAILED with rotation-stopped, promote-root never entered)',
      {
        status: 'FAILED',
        error: 'PreconditionFailed',
        statesEntered: [
          'input-defaults',
          'acquire-lock',
          'rotate-or-resume',
          'preflight',
          'release-lock-after-stop',
          'rotation-stopped',
        ],
      },
      /before promote-root/,
    ],
    ['succeeded', { status: 'SUCCEEDED' }, /SUCCEEDED/],
    ['still running', { status: 'RUNNING' }, /RUNNING/],
    ['rolled back', { status: 'FAILED', error: 'RotationRolledBack' }, /RotationRolledBack/],
    ['whose rollback failed', { status: 'FAILED', error: 'RollbackFailed' }, /retry-rollback/],
    [
      'aborted after promote-root completed (in release-lock)',
      { status: 'ABORTED', statesEntered: [...THROUGH_RETIRE, 'promote-root', 'release-lock'] },
      /promote-root had completed/,
    ],
  ])('refuses a run %s', (_what, overrides, reason) => {
    // Act
    const decision = resumePromotionOf(failedInPromoteRoot(overrides as Partial<EndedExecution>));
    // Assess
    expect(decision.resumable).toBe(false);
    expect(decision.resumable ? '' : decision.reason).toMatch(reason);
  });

  it('refuses a final state without a staged root, clusters or a root-rotation mode, naming each', () => {
    // Act
    const decision = resumePromotionOf(
      failedInPromoteRoot({
        finalState: stateAfterRetire({ mode: 'intermediate', stagedRoot: null, preflight: {}, stop: STOP }),
      }),
    );
    // Assess
    expect(decision).toEqual({
      resumable: false,
      reason: expect.stringMatching(/lacks mode.*preflight\.clusters.*stagedRoot/),
    });
  });

  it('passes nothing on when a copied field holds a private key block', () => {
    // Prepare: a key made here, never one written in the source
    const leaked = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    // Act
    const decision = resumePromotionOf(
      failedInPromoteRoot({ finalState: stateAfterRetire({ stop: { Error: 'X', Cause: leaked } }) }),
    );
    // Assess
    expect(decision).toEqual({ resumable: false, reason: expect.stringContaining('private key block') });
  });
});

describe('resumedPromotionName', () => {
  it('links the resume to the rotation by name, within 80 characters', () => {
    // Act
    const short = resumedPromotionName('scheduled-20260310T090000Z', new Date('2026-03-12T11:00:00.123Z'));
    const long = resumedPromotionName('x'.repeat(90), new Date('2026-03-12T11:00:00Z'));
    // Assess
    expect(short).toBe('scheduled-20260310T090000Z-promote-20260312T110000Z');
    expect(long.length).toBe(EXECUTION_NAME_MAX);
    expect(long.endsWith('-promote-20260312T110000Z')).toBe(true);
  });
});

describe('checkResumedPromotion (acquire-lock, inside the resumed execution)', () => {
  const claim = () => {
    const decision = resumePromotionOf(failedInPromoteRoot());
    if (!decision.resumable) throw new Error(decision.reason);
    return decision.resumePromotion;
  };

  it('accepts a claim that is exactly what the named run stopped with', () => {
    // Act
    const verdict = checkResumedPromotion({
      executionId: RESUME,
      claimed: claim(),
      ended: failedInPromoteRoot(),
    });
    // Assess
    expect(verdict).toEqual({ ok: true });
  });

  it('refuses a claim whose staged root is not the one the named run staged', () => {
    // Prepare
    const other = { ...STAGED_ROOT, versionId: 'v-x', fingerprint: 'c'.repeat(64) };
    // Act
    const verdict = checkResumedPromotion({
      executionId: RESUME,
      claimed: { ...claim(), stagedRoot: other },
      ended: failedInPromoteRoot(),
    });
    // Assess
    expect(verdict).toEqual({ ok: false, reason: expect.stringContaining('differs from what the history') });
  });

  it('refuses a claim naming a run that did not stop in promote-root', () => {
    // Act
    const verdict = checkResumedPromotion({
      executionId: RESUME,
      claimed: claim(),
      ended: failedInPromoteRoot({ status: 'SUCCEEDED' }),
    });
    // Assess
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/^not finished: .*SUCCEEDED/) });
  });

  it("refuses a claim naming another state machine's run, whatever that run says", () => {
    // Prepare
    const foreign = ROTATION.replace('meshtrust-payments-rotation', 'meshtrust-other-rotation');
    // Act
    const verdict = checkResumedPromotion({
      executionId: RESUME,
      claimed: { ...claim(), resumedFrom: foreign, executionArn: foreign },
      ended: failedInPromoteRoot({ executionArn: foreign }),
    });
    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: expect.stringContaining('not an execution of this state machine'),
    });
  });
});
