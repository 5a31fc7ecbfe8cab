import { generateKeyPairSync } from 'node:crypto';
import {
  checkResumedExecution,
  type EndedExecution,
  EXECUTION_NAME_MAX,
  endedExecutionOf,
  RESUME_CAUSE_MAX,
  resumedRollbackName,
  resumeRollbackOf,
} from '../../../../lambdas/core/rotation/index.js';
import { RUN_START } from '../../../support/workflow-paths.js';

const PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:';
const ROTATION = `${PREFIX}scheduled-20260310T090000Z`;
const RESUME = `${PREFIX}scheduled-20260310T090000Z-rollback-20260310T110000Z`;
const CURRENT_ROOT = { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'a'.repeat(64) };
const STAGED_ROOT = { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'b'.repeat(64) };

/** The state a scheduled run ends with in rotation-failed: what its Catch states left. */
function finalState(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'scheduled',
    cluster: null,
    reason: 'annual rotation',
    requestedBy: 'arn:aws:iam::123456789012:user/alice',
    soakSeconds: 86400,
    lock: { lockId: 'rotation/payments', holder: ROTATION },
    preflight: {
      clusters: [{ name: 'eu-1' }, { name: 'us-1' }],
      currentRoot: CURRENT_ROOT,
      plan: { soak: { seconds: 86400 } },
    },
    stagedRoot: STAGED_ROOT,
    distributed: [{ cluster: 'eu-1', changed: true }],
    failure: { Error: 'VerificationFailed', Cause: 'istiod of us-1 did not load int_B' },
    rollback: { trust: [{}, {}] },
    rollbackFailure: { Error: 'States.TaskFailed', Cause: 'us-1 unreachable' },
    resumeRollback: null,
    rollbackOf: null,
    ...overrides,
  };
}

function rollbackFailed(state: unknown = finalState(), executionArn = ROTATION): EndedExecution {
  return { executionArn, status: 'FAILED', error: 'RollbackFailed', finalState: state };
}

describe('resumeRollbackOf', () => {
  it('takes the clusters, roots and errors of a run that ended in RollbackFailed, and nothing else of its state', () => {
    // Act
    const decision = resumeRollbackOf(rollbackFailed());
    // Assess
    expect(decision).toEqual({
      resumable: true,
      mode: 'scheduled',
      resumeRollback: {
        executionArn: ROTATION,
        resumedFrom: ROTATION,
        clusters: [{ name: 'eu-1' }, { name: 'us-1' }],
        currentRoot: CURRENT_ROOT,
        stagedRoot: STAGED_ROOT,
        failure: { Error: 'VerificationFailed', Cause: 'istiod of us-1 did not load int_B' },
        rollbackFailure: { Error: 'States.TaskFailed', Cause: 'us-1 unreachable' },
        restored: false,
      },
    });
  });

  it('resumes a rekey, which staged no root (stagedRoot null)', () => {
    // Act
    const decision = resumeRollbackOf(
      rollbackFailed(finalState({ mode: 'intermediate', cluster: 'eu-1', stagedRoot: null })),
    );
    // Assess
    expect(decision).toMatchObject({
      resumable: true,
      mode: 'intermediate',
      resumeRollback: { stagedRoot: null },
    });
  });

  it('undoes the first rotation when a resumed rollback failed again (its rollbackOf), naming the resume it continues', () => {
    // Prepare
    const state = finalState({ rollbackOf: ROTATION, resumeRollback: { executionArn: ROTATION } });
    // Act
    const decision = resumeRollbackOf(rollbackFailed(state, RESUME));
    // Assess
    expect(decision).toMatchObject({
      resumable: true,
      resumeRollback: { executionArn: ROTATION, resumedFrom: RESUME },
    });
  });

  it('notes a rollback that restored every cluster before it failed (in rollback-drop-pending), so the resume starts there', () => {
    // Prepare: rollback-restore's result is in the state only once it restored every cluster
    const restored = finalState({ rollback: { trust: [{}], restored: [{}, {}] } });
    const resumeOfRestored = finalState({
      rollback: {},
      rollbackOf: ROTATION,
      resumeRollback: { executionArn: ROTATION, restored: true },
    });
    // Act, Assess
    expect(resumeRollbackOf(rollbackFailed(restored))).toMatchObject({ resumeRollback: { restored: true } });
    expect(resumeRollbackOf(rollbackFailed(resumeOfRestored, RESUME))).toMatchObject({
      resumeRollback: { restored: true },
    });
    expect(resumeRollbackOf(rollbackFailed())).toMatchObject({ resumeRollback: { restored: false } });
  });

  it('refuses every other end, saying why there is nothing to resume', () => {
    // Prepare
    const ends: [Partial<EndedExecution>, RegExp][] = [
      [{ status: 'RUNNING' }, /is RUNNING: it holds the rotation lock .* wait for it to end/],
      [{ status: 'PENDING_REDRIVE' }, /is PENDING_REDRIVE/],
      [{ status: 'SUCCEEDED' }, /SUCCEEDED: there is no rollback to resume/],
      [{ status: 'FAILED', error: 'RotationRolledBack' }, /its rollback completed/],
      [
        { status: 'FAILED', error: 'PreconditionFailed' },
        /failed with PreconditionFailed, not RollbackFailed/,
      ],
    ];
    for (const [end, reason] of ends) {
      // Act
      const decision = resumeRollbackOf({
        executionArn: ROTATION,
        finalState: finalState(),
        ...end,
      } as EndedExecution);
      // Assess
      expect(decision).toEqual({ resumable: false, reason: expect.stringMatching(reason) });
      expect(decision.resumable === false && decision.reason).toContain('scheduled-20260310T090000Z');
    }
  });

  it('refuses a final state that lacks what the rollback stages read, naming each missing part', () => {
    // Prepare
    const state = finalState({
      mode: 'bogus',
      preflight: { clusters: [], currentRoot: { ...CURRENT_ROOT, fingerprint: 'not-hex' } },
      stagedRoot: undefined,
      rollbackFailure: undefined,
    });
    // Act
    const decision = resumeRollbackOf(rollbackFailed(state));
    // Assess
    expect(decision.resumable).toBe(false);
    const reason = decision.resumable ? '' : decision.reason;
    for (const part of [
      'mode',
      'preflight.clusters',
      'preflight.currentRoot',
      'stagedRoot',
      'rollbackFailure',
    ]) {
      expect(reason).toContain(part);
    }
  });

  it('refuses a RollbackFailed end whose final state the history did not give', () => {
    // Act
    const decision = resumeRollbackOf({ ...rollbackFailed(), finalState: undefined });
    // Assess
    expect(decision).toEqual({ resumable: false, reason: expect.stringContaining('final state lacks') });
  });

  it('cuts long causes: they are for the record', () => {
    // Prepare
    const state = finalState({ failure: { Error: 'X', Cause: 'c'.repeat(RESUME_CAUSE_MAX * 3) } });
    // Act
    const decision = resumeRollbackOf(rollbackFailed(state));
    // Assess
    expect(decision.resumable && decision.resumeRollback.failure?.Cause?.length).toBe(RESUME_CAUSE_MAX);
  });

  it('passes nothing on when a copied field holds a private key block', () => {
    // Prepare
    const leaked = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString();
    const keyBody = leaked.split('\n')[1] ?? '';
    const state = finalState({ rollbackFailure: { Error: 'X', Cause: leaked } });
    // Act
    const decision = resumeRollbackOf(rollbackFailed(state));
    // Assess
    expect(decision).toEqual({ resumable: false, reason: expect.stringContaining('private key block') });
    expect(keyBody.length).toBeGreaterThan(20);
    expect(JSON.stringify(decision)).not.toContain(keyBody);
  });
});

describe('resumeRollbackOf, a run stopped outside the state machine (ABORTED, TIMED_OUT)', () => {
  /** The state a scheduled run was in when it was stopped in distribute-bundle: no Catch, no rollback. */
  const midRotation = () =>
    finalState({ failure: undefined, rollback: {}, rollbackFailure: undefined, distributed: undefined });
  const forward = [...RUN_START, 'preflight', 'mode'];

  it('rolls back a run aborted after its first write from the state it was in, the stop as its failure', () => {
    // Act
    const decision = resumeRollbackOf({
      executionArn: ROTATION,
      status: 'ABORTED',
      finalState: midRotation(),
      statesEntered: [...forward, 'stage-root', 'distribute-bundle'],
    });
    // Assess
    expect(decision).toEqual({
      resumable: true,
      mode: 'scheduled',
      resumeRollback: {
        executionArn: ROTATION,
        resumedFrom: ROTATION,
        clusters: [{ name: 'eu-1' }, { name: 'us-1' }],
        currentRoot: CURRENT_ROOT,
        stagedRoot: STAGED_ROOT,
        failure: {
          Error: 'ABORTED',
          Cause: 'scheduled-20260310T090000Z was ABORTED in distribute-bundle; no Catch ran',
        },
        rollbackFailure: null,
        restored: false,
      },
    });
  });

  it('rolls back a rekey that timed out in reissue-intermediate, and one stopped in stage-root before it stored a root', () => {
    // Act
    const rekey = resumeRollbackOf({
      executionArn: ROTATION,
      status: 'TIMED_OUT',
      finalState: finalState({ mode: 'intermediate', cluster: 'eu-1', stagedRoot: null, failure: undefined }),
      statesEntered: [...forward, 'reissue-intermediate'],
    });
    const staging = resumeRollbackOf({
      executionArn: ROTATION,
      status: 'ABORTED',
      finalState: finalState({ stagedRoot: null, failure: undefined }),
      statesEntered: [...forward, 'stage-root'],
    });
    // Assess
    expect(rekey).toMatchObject({
      resumable: true,
      mode: 'intermediate',
      resumeRollback: { stagedRoot: null, failure: { Error: 'TIMED_OUT' }, rollbackFailure: null },
    });
    expect(staging).toMatchObject({ resumable: true, resumeRollback: { stagedRoot: null } });
  });

  it("keeps the Catch's failure and records the stop as the rollback's failure for a run stopped in its rollback", () => {
    // Act
    const decision = resumeRollbackOf({
      executionArn: ROTATION,
      status: 'ABORTED',
      finalState: finalState({ rollbackFailure: undefined }),
      statesEntered: [
        ...forward,
        'stage-root',
        'distribute-bundle',
        'verify-trust',
        'rollback-trust',
        'rollback-intermediate',
      ],
    });
    // Assess
    expect(decision).toMatchObject({
      resumable: true,
      resumeRollback: {
        failure: { Error: 'VerificationFailed' },
        rollbackFailure: {
          Error: 'ABORTED',
          Cause: expect.stringContaining('ABORTED in rollback-intermediate'),
        },
      },
    });
  });

  it('notes a run stopped in rollback-drop-pending as restored: rollback-restore had finished', () => {
    // Act
    const decision = resumeRollbackOf({
      executionArn: ROTATION,
      status: 'ABORTED',
      finalState: finalState({ rollbackFailure: undefined }),
      statesEntered: [
        ...forward,
        'stage-root',
        'rollback-trust',
        'rollback-restore',
        'rollback-drop-pending',
      ],
    });
    // Assess
    expect(decision).toMatchObject({ resumable: true, resumeRollback: { restored: true } });
  });

  it('resumes a resumed rollback that was stopped from its own input, still undoing the first rotation', () => {
    // Prepare: the resume was stopped in acquire-lock, before resume-rollback set its state.
    const resumeInput = {
      executionArn: ROTATION,
      resumedFrom: ROTATION,
      clusters: [{ name: 'eu-1' }],
      currentRoot: CURRENT_ROOT,
      stagedRoot: STAGED_ROOT,
      failure: { Error: 'VerificationFailed' },
      rollbackFailure: { Error: 'TransientError' },
    };
    // Act
    const decision = resumeRollbackOf({
      executionArn: RESUME,
      status: 'ABORTED',
      finalState: { mode: 'scheduled', resumeRollback: resumeInput, rollbackOf: null },
      statesEntered: RUN_START.slice(0, RUN_START.indexOf('acquire-lock') + 1),
    });
    // Assess
    expect(decision).toMatchObject({
      resumable: true,
      resumeRollback: {
        executionArn: ROTATION,
        resumedFrom: RESUME,
        clusters: [{ name: 'eu-1' }],
        rollbackFailure: { Error: 'ABORTED' },
      },
    });
  });

  it('refuses a stopped run with nothing to undo, saying where it stood', () => {
    // Prepare
    const cases: [string[], RegExp][] = [
      [
        [...forward],
        /ABORTED in mode before its first write \(stage-root or reissue-intermediate\): nothing to roll back/,
      ],
      [
        [...forward, 'stage-root', 'distribute-bundle', 'retire-root', 'promote-root'],
        /had reached promote-root/,
      ],
      [
        [...forward, 'stage-root', 'rollback-trust', 'rollback-drop-pending', 'release-lock-after-rollback'],
        /rollback had completed/,
      ],
      [
        [...RUN_START.slice(0, RUN_START.indexOf('acquire-lock') + 1), 'release-lock-after-stop'],
        /stopping without a rollback/,
      ],
    ];
    for (const [statesEntered, reason] of cases) {
      // Act
      const decision = resumeRollbackOf({
        executionArn: ROTATION,
        status: 'ABORTED',
        finalState: midRotation(),
        statesEntered,
      });
      // Assess
      expect(decision).toEqual({ resumable: false, reason: expect.stringMatching(reason) });
    }
  });

  it('refuses a stopped run whose last state lacks what the rollback reads', () => {
    // Act
    const decision = resumeRollbackOf({
      executionArn: ROTATION,
      status: 'TIMED_OUT',
      finalState: finalState({ preflight: undefined }),
      statesEntered: [...forward, 'stage-root'],
    });
    // Assess
    expect(decision).toEqual({
      resumable: false,
      reason: expect.stringMatching(/was TIMED_OUT, but its final state lacks preflight.clusters/),
    });
  });
});

describe('resumedRollbackName', () => {
  it('links the resume to the rotation by name: <rotation>-rollback-<UTC second>', () => {
    // Act, Assess
    expect(resumedRollbackName('scheduled-20260310T090000Z', new Date('2026-03-10T11:00:00.123Z'))).toBe(
      'scheduled-20260310T090000Z-rollback-20260310T110000Z',
    );
  });

  it("cuts a long rotation name so the whole stays within Step Functions' 80 characters", () => {
    // Act
    const name = resumedRollbackName('r'.repeat(100), new Date('2026-03-10T11:00:00Z'));
    // Assess
    expect(name).toHaveLength(EXECUTION_NAME_MAX);
    expect(name.endsWith('-rollback-20260310T110000Z')).toBe(true);
  });
});

describe('checkResumedExecution (acquire-lock, inside the resumed execution)', () => {
  const claim = () => {
    const decision = resumeRollbackOf(rollbackFailed());
    if (!decision.resumable) throw new Error(decision.reason);
    return decision.resumeRollback;
  };

  it('accepts a claim that is exactly what the named run ended with', () => {
    // Act, Assess
    expect(checkResumedExecution({ executionId: RESUME, claimed: claim(), ended: rollbackFailed() })).toEqual(
      {
        ok: true,
      },
    );
  });

  it('refuses a claim naming a run that did not end as claimed, or whose parts differ from its history', () => {
    // Prepare
    const cases: [unknown, EndedExecution, RegExp][] = [
      [claim(), { executionArn: ROTATION, status: 'SUCCEEDED' }, /SUCCEEDED: there is no rollback to resume/],
      [claim(), { executionArn: ROTATION, status: 'RUNNING' }, /is RUNNING/],
      [{ ...claim(), clusters: [{ name: 'eu-1' }] }, rollbackFailed(), /differs from what the history/],
      [{ ...claim(), restored: true }, rollbackFailed(), /differs from what the history/],
    ];
    for (const [claimed, ended, reason] of cases) {
      // Act
      const check = checkResumedExecution({ executionId: RESUME, claimed, ended });
      // Assess
      expect(check).toEqual({ ok: false, reason: expect.stringMatching(reason) });
      expect(check.ok === false && check.reason).toContain('Nothing was written');
    }
  });

  it("refuses a claim naming another state machine's run, whatever that run says", () => {
    // Prepare
    const other = ROTATION.replace('meshtrust-payments-rotation', 'meshtrust-other-rotation');
    // Act
    const check = checkResumedExecution({
      executionId: RESUME,
      claimed: { ...claim(), executionArn: other, resumedFrom: other },
      ended: rollbackFailed(finalState(), other),
    });
    // Assess
    expect(check).toEqual({
      ok: false,
      reason: expect.stringContaining('not an execution of this state machine'),
    });
  });
});

describe('endedExecutionOf', () => {
  const topLevel = new Set(['preflight', 'stage-root', 'distribute-bundle']);
  // A run aborted while distribute-bundle's per-cluster Task ran, events newest first
  const events = [
    {
      id: 6,
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'distribute-bundle-in-cluster', input: '{}' },
    },
    {
      id: 5,
      type: 'MapStateEntered',
      stateEnteredEventDetails: { name: 'distribute-bundle', input: '{"n":5}' },
    },
    { id: 3, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'stage-root', input: '{"n":3}' } },
    { id: 2, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'preflight', input: '{"n":2}' } },
  ];

  it('gives a stopped run the top-level states it entered, oldest first, and the input of the last', () => {
    // Act, Assess
    expect(endedExecutionOf({ executionArn: ROTATION, status: 'ABORTED' }, events, topLevel)).toEqual({
      executionArn: ROTATION,
      status: 'ABORTED',
      finalState: { n: 5 },
      statesEntered: ['preflight', 'stage-root', 'distribute-bundle'],
    });
  });

  it('gives a failed run only its final state', () => {
    // Act, Assess
    expect(
      endedExecutionOf(
        { executionArn: ROTATION, status: 'FAILED', error: 'RollbackFailed' },
        events,
        topLevel,
      ),
    ).toEqual({ executionArn: ROTATION, status: 'FAILED', error: 'RollbackFailed', finalState: { n: 5 } });
  });
});
