// What a restart-workloads invocation answers and audits, and what it takes back from the answer
// before it (docs/workflow.md, "Restart waves across invocations").
import { describe, expect, it } from '@jest/globals';
import {
  describeHeldWorkload,
  type HeldWorkload,
} from '../../../../lambdas/core/rotation/disruption-budget.js';
import {
  notSwitchedAnswer,
  type RestartInvocation,
  type RestartProgress,
  restartAnswer,
  restartAuditOf,
  restartCursorOf,
} from '../../../../lambdas/core/rotation/restart-answer.js';
import type { WavesOutcome, WorkloadPosition } from '../../../../lambdas/core/rotation/restart-progress.js';
import { restartScopeOf } from '../../../../lambdas/core/rotation/restart-scope.js';

const request = { executionId: 'exec-2', cluster: 'lab-1', purpose: 'rotation' as const };
const scope = restartScopeOf({ ...request, mode: 'scheduled', strategy: 'restart' });
const deployment = (name: string): WorkloadPosition => ({ namespace: 'shop', kind: 'Deployment', name });
const injected = [deployment('a'), deployment('b'), deployment('c')];
const done: WavesOutcome<unknown, HeldWorkload> = { done: true, cursor: {}, restarted: 3, wavesFinished: 2 };
const STARTED = '2026-12-01T03:00:00.000Z';

function invocation(overrides: Partial<RestartInvocation<string>> = {}): RestartInvocation<string> {
  return {
    request,
    scope,
    progress: undefined,
    found: { workloads: injected, unmanaged: [] },
    resign: undefined,
    fallback: undefined,
    workloads: injected,
    outcome: done,
    ...overrides,
  };
}

function held(name: string): HeldWorkload {
  return {
    workload: deployment(name),
    budget: {
      namespace: 'shop',
      name: `${name}-pdb`,
      selector: { matchLabels: { app: name } },
      spec: 'minAvailable: 2',
      disruptionsAllowed: 0,
      currentHealthy: 2,
      desiredHealthy: 2,
      expectedPods: 2,
      stale: false,
    },
    rollingUnderBudget: 0,
  };
}

describe('restartCursorOf', () => {
  it('starts from the beginning on the first invocation', () => {
    expect(restartCursorOf(undefined)).toEqual({});
  });

  it("goes on from the previous answer's cursor, and only its cursor", () => {
    // Prepare
    const progress: RestartProgress<string> = {
      restarted: 2,
      waves: 1,
      invocations: 1,
      resumeAfter: deployment('a'),
      waveStartedAt: STARTED,
      resign: 'summary',
    };

    // Act + Assess
    expect(restartCursorOf(progress)).toEqual({ resumeAfter: deployment('a'), waveStartedAt: STARTED });
    expect(restartCursorOf({ restarted: 0, waves: 0, invocations: 1 })).toEqual({});
  });
});

describe('notSwitchedAnswer', () => {
  it('answers a rollback of a cluster whose intermediate the run did not switch as done, restarting nothing', () => {
    // Prepare
    const rollback = { ...request, purpose: 'rollback' as const };
    const rollbackScope = restartScopeOf({ ...rollback, mode: 'scheduled', strategy: 'resign' });

    // Act
    const answer = notSwitchedAnswer(rollback, rollbackScope, { restarted: 0, waves: 0, invocations: 2 });

    // Assess
    expect(answer).toEqual({
      cluster: 'lab-1',
      purpose: 'rollback',
      strategy: 'restart',
      restartId: rollbackScope.restartId,
      done: true,
      workloads: 0,
      restarted: 0,
      waves: 0,
      invocations: 3,
      unmanaged: [],
      skipped:
        'this execution did not switch the cluster intermediate; its workloads hold original certificates',
    });
  });
});

describe('restartAnswer', () => {
  it('answers a restart finished in one invocation, with no cursor', () => {
    expect(restartAnswer(invocation())).toEqual({
      cluster: 'lab-1',
      purpose: 'rotation',
      strategy: 'restart',
      restartId: scope.restartId,
      done: true,
      workloads: 3,
      restarted: 3,
      waves: 2,
      invocations: 1,
      unmanaged: [],
    });
  });

  it('counts over every invocation and hands on the cursor and the fallback while waves remain', () => {
    // Prepare: the second invocation ran out of time with a wave in flight
    const outcome = {
      done: false,
      cursor: { resumeAfter: deployment('a'), waveStartedAt: STARTED },
      restarted: 1,
      wavesFinished: 0,
    };
    const progress = { restarted: 1, waves: 1, invocations: 1, resign: 'summary' };
    const fallback = [deployment('a'), deployment('b')];

    // Act
    const answer = restartAnswer(
      invocation({ progress, outcome, resign: 'summary', fallback, workloads: fallback }),
    );

    // Assess
    expect(answer).toMatchObject({
      done: false,
      resign: 'summary',
      resignFallback: fallback,
      restarted: 2,
      waves: 1,
      invocations: 2,
      resumeAfter: deployment('a'),
      waveStartedAt: STARTED,
      workloads: 3,
    });
    expect(answer.skipped).toBeUndefined();
  });

  it('drops the cursor and the fallback once done, and keeps what the resign wait found', () => {
    // Act
    const answer = restartAnswer(
      invocation({
        resign: 'summary',
        fallback: [deployment('a')],
        workloads: [deployment('a')],
        outcome: { ...done, cursor: { resumeAfter: deployment('a') } },
      }),
    );

    // Assess
    expect(answer.resign).toBe('summary');
    expect(answer).not.toHaveProperty('resignFallback');
    expect(answer).not.toHaveProperty('resumeAfter');
  });

  it('names the workloads a PodDisruptionBudget still holds when the invocation ran out of time, at most 50', () => {
    // Prepare
    const waitingOn = Array.from({ length: 60 }, (_, i) => held(`w${i}`));

    // Act
    const answer = restartAnswer(
      invocation({ outcome: { done: false, cursor: {}, restarted: 0, wavesFinished: 0, waitingOn } }),
    );

    // Assess
    expect(answer.heldByBudgets).toHaveLength(50);
    expect(answer.heldByBudgets?.[0]).toBe(describeHeldWorkload(held('w0')));
  });

  it('lists at most 50 unmanaged pods', () => {
    // Prepare
    const unmanaged = Array.from({ length: 70 }, (_, i) => ({ namespace: 'batch', name: `job-${i}` }));

    // Act + Assess
    expect(restartAnswer(invocation({ found: { workloads: injected, unmanaged } })).unmanaged).toHaveLength(
      50,
    );
  });

  it('says why nothing restarted: no injected workload, or every proxy re-signed', () => {
    // Prepare
    const nothing = { ...done, restarted: 0, wavesFinished: 0 };

    // Act
    const empty = restartAnswer(
      invocation({ found: { workloads: [], unmanaged: [] }, workloads: [], outcome: nothing }),
    );
    const resigned = restartAnswer(invocation({ fallback: [], workloads: [], outcome: nothing }));

    // Assess
    expect(empty.skipped).toBe('the cluster has no injected workloads');
    expect(resigned.skipped).toBe('every proxy re-signed with the new intermediate');
  });
});

describe('restartAuditOf', () => {
  it('audits a restart as succeeded, with this invocation and the counts so far', () => {
    // Prepare
    const progress = { restarted: 4, waves: 2, invocations: 1 };

    // Act
    const audit = restartAuditOf(invocation({ progress }));

    // Assess
    expect(audit).toEqual({
      outcome: 'succeeded',
      detail: {
        restartId: scope.restartId,
        purpose: 'rotation',
        strategy: 'restart',
        workloads: 3,
        restarted: 3,
        restartedSoFar: 7,
        waves: 2,
        wavesSoFar: 4,
        invocation: 2,
        done: true,
        unmanaged: 0,
      },
    });
  });

  it('audits an invocation that restarted nothing as unchanged, naming what budgets hold and the run undone', () => {
    // Prepare: a resumed rollback waiting on a budget
    const rollback = { ...request, purpose: 'rollback' as const };
    const rollbackScope = restartScopeOf({
      ...rollback,
      mode: 'scheduled',
      strategy: 'restart',
      rollbackOf: 'exec-1',
    });
    const outcome = { done: false, cursor: {}, restarted: 0, wavesFinished: 0, waitingOn: [held('a')] };

    // Act
    const audit = restartAuditOf(invocation({ request: rollback, scope: rollbackScope, outcome }));

    // Assess
    expect(audit.outcome).toBe('unchanged');
    expect(audit.detail).toMatchObject({ heldByBudgets: 1, rollbackOf: 'exec-1', done: false });
  });
});
