// The execution history guard through the real preflight, against a 2-cluster lab and moto: preflight
// counts the restart waves from the workloads it lists and the stack's RESTART_WAVE_SIZE, and records
// the worst case in the plan. (The refusal itself needs a fleet of thousands of workloads, which the lab
// starts far too slowly for this suite: test/unit/core/plan/history-estimate.test.ts covers it, and
// preflight raises it as it raises the soak's refusal, as PreconditionFailed before any write.)
import { SAFE_HISTORY_EVENTS } from '../../../lambdas/core/plan/history-estimate.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 2 });
});
afterAll(async () => {
  await h?.stop();
});

describe('preflight and the execution history limit', () => {
  it('records the worst case of a small fleet in the plan, its restart waves from the workloads it listed', async () => {
    // Act
    const inWavesOfFive = await preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
    const oneByOne = await withEnv({ RESTART_WAVE_SIZE: '1' }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    );
    // Assess: the lab seeds 2 workloads and 2 gateways per cluster: one wave of 5, or four of 1.
    const five = inWavesOfFive.plan.historyEvents;
    const one = oneByOne.plan.historyEvents;
    expect(five).toMatchObject({
      limit: 25_000,
      safeLimit: SAFE_HISTORY_EVENTS,
      mostRestartWaves: 1,
      uncounted: [],
    });
    expect(one?.mostRestartWaves).toBe(4);
    // Each more wave in a cluster: a restart invocation and its Choice, in restart-workloads and rollback-restart.
    expect((one?.worstCase ?? 0) - (five?.worstCase ?? 0)).toBe(3 * 2 * 2 * 7);
  });

  it('counts the parent and the largest child when the stack runs Distributed Maps (DISTRIBUTED_MAPS)', async () => {
    // Act
    const inline = await preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null });
    const distributed = await withEnv({ DISTRIBUTED_MAPS: 'true' }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    );
    // Assess: the parent keeps 6 events per Distributed Map; one cluster's restart is its own history
    const parent = distributed.plan.historyEvents;
    expect(inline.plan.historyEvents?.largestChild).toBeUndefined();
    expect(parent?.largestChild?.state).toBe('restart-workloads');
    expect(parent?.worstCase).toBeLessThan(inline.plan.historyEvents?.worstCase ?? 0);
    expect(parent?.largestChild?.events).toBeLessThan(parent?.worstCase ?? 0);
  });
});
