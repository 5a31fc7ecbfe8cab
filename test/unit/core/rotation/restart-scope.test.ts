// What one restart-workloads invocation works under: its strategy, its restart id and its audit phase.
import { describe, expect, it } from '@jest/globals';
import { restartIdFor } from '../../../../lambdas/core/rotation/restart-id.js';
import { type RestartRequest, restartScopeOf } from '../../../../lambdas/core/rotation/restart-scope.js';

const rotation: RestartRequest = {
  executionId: 'exec-2',
  cluster: 'lab-1',
  mode: 'scheduled',
  purpose: 'rotation',
  strategy: 'resign',
};

describe('restartScopeOf', () => {
  it.each([
    ["keeps a root rotation's strategy", {}, 'resign', 'exec-2', 'restart-workloads'],
    [
      'restarts in an intermediate rekey: no new root makes proxies re-sign',
      { mode: 'intermediate' },
      'restart',
      'exec-2',
      'restart-workloads',
    ],
    ['ignores rollbackOf in a rotation', { rollbackOf: 'exec-1' }, 'resign', 'exec-2', 'restart-workloads'],
    [
      "restarts in a rollback, audited as the rollback's",
      { purpose: 'rollback', rollbackOf: null },
      'restart',
      'exec-2',
      'rollback',
    ],
    [
      'follows the run a resumed rollback undoes',
      { purpose: 'rollback', rollbackOf: 'exec-1' },
      'restart',
      'exec-1',
      'rollback',
    ],
  ] as const)('%s', (_, change: Partial<RestartRequest>, strategy, restartOf, auditPhase) => {
    // Prepare
    const request = { ...rotation, ...change };

    // Act
    const scope = restartScopeOf(request);

    // Assess: the restart id is the one of the run whose intermediate switch the restart follows
    expect(scope).toEqual({
      strategy,
      rotation: restartOf,
      restartId: restartIdFor(restartOf, 'lab-1', request.purpose),
      auditPhase,
    });
  });

  it('gives a rollback another restart id than the rotation it undoes, so it restarts what the rotation did', () => {
    expect(restartScopeOf({ ...rotation, purpose: 'rollback' }).restartId).not.toBe(
      restartScopeOf(rotation).restartId,
    );
  });
});
