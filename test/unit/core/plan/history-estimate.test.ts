// preflight's estimate of the execution history a rotation records, judged against real histories:
// rehearsals of the synthesized state machine (rehearsal-histories/, recorded with `npm run rehearse --
// --clusters 2 --workloads 12 --out DIR`, the second with `--fail-at retire-root:lab-2`, the third on an
// assembly synthesized with `distributedMaps`, through `--cdk-out`; each history.json kept down to the
// fields aws-history-events reads: type, state name and type, index, parent state), each counted
// as Step Functions would record it (rehearsal/aws-history-events.ts, which knows nothing of the
// estimate), and against the limit for a large fleet.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  EXECUTION_HISTORY_LIMIT,
  estimateHistoryEvents,
  type HistoryEstimateInput,
  historyLimitProblem,
  restartInvocations,
  SAFE_HISTORY_EVENTS,
  smallestFittingWaveSize,
} from '../../../../lambdas/core/plan/history-estimate.js';
import { awsHistoryEvents, type LocalHistoryEvent } from '../../../../rehearsal/aws-history-events.js';

const HERE = dirname(fileURLToPath(import.meta.url));

function recorded(name: string): LocalHistoryEvent[] {
  return JSON.parse(readFileSync(join(HERE, 'rehearsal-histories', `${name}.json`), 'utf8'));
}

/** The stack's defaults: waves of 5, 600 s rollout timeout, restart-workloads' 900 s less 30 s reserve. */
function fleet(
  clusters: number,
  workloads: number | undefined,
  overrides: Partial<HistoryEstimateInput> = {},
): HistoryEstimateInput {
  return {
    mode: 'scheduled',
    clusters: Array.from({ length: clusters }, (_, i) => ({ name: `c-${i + 1}`, workloads })),
    restartWaveSize: 5,
    rolloutTimeoutSeconds: 600,
    restartInvocationSeconds: 870,
    ...overrides,
  };
}

describe('estimateHistoryEvents against rehearsals of the real state machine', () => {
  // The rehearsals' lab: 2 clusters of 12 workloads, the stack's defaults.
  const rehearsed = fleet(2, 12);

  it('counts a rehearsal that succeeded at its first look exactly as its fewest, and stays above it at worst', () => {
    // Prepare
    const real = awsHistoryEvents(recorded('scheduled-2-clusters-12-workloads')).length;
    // Act
    const estimate = estimateHistoryEvents(rehearsed);
    // Assess: no check was retried and each cluster's restart took one invocation, as `fewest` assumes.
    expect(real).toBe(161);
    expect(estimate.fewest).toBe(real);
    expect(estimate.worstCase).toBeGreaterThanOrEqual(real);
    // Retries of every verification (30 events per cluster and Map) and the rollback (since its trust
    // wait became a Map of its own, rollback-verify-trust, a few events more) are most of the rest.
    expect(estimate.worstCase).toBeLessThanOrEqual(4.1 * real);
  });

  it('stays above a rehearsal that failed at retire-root and rolled back every cluster, without absurd slack', () => {
    // Prepare
    const history = recorded('rolled-back-at-retire-root-2-clusters-12-workloads');
    const real = awsHistoryEvents(history).length;
    // Act
    const estimate = estimateHistoryEvents(rehearsed);
    // Assess
    expect(history.at(-1)?.type).toBe('ExecutionFailed');
    expect(real).toBeGreaterThan(estimate.fewest);
    expect(estimate.worstCase).toBeGreaterThanOrEqual(real);
    expect(estimate.worstCase).toBeLessThanOrEqual(3 * real);
  });
});

describe('estimateHistoryEvents', () => {
  it('grows by one restart invocation and its Choice (7 events) per wave, in the rotation and in the rollback', () => {
    // Act
    const ten = estimateHistoryEvents(fleet(3, 10));
    const fifteen = estimateHistoryEvents(fleet(3, 15));
    // Assess: one more wave per cluster, in restart-workloads and in rollback-restart.
    expect(fifteen.worstCase - ten.worstCase).toBe(3 * 2 * 7);
    expect(fifteen.mostRestartWaves).toBe(3);
  });

  it('restarts an emergency rotation in one wave per cluster, whatever the wave size', () => {
    // Act
    const emergency = estimateHistoryEvents(fleet(20, 900, { mode: 'emergency' }));
    const oneWave = estimateHistoryEvents(fleet(20, 900, { restartWaveSize: 900 }));
    // Assess: the same restarts; scheduled adds only its soak.
    expect(emergency.mostRestartWaves).toBe(1);
    expect(oneWave.worstCase - emergency.worstCase).toBe(2);
  });

  it('lists the clusters whose workloads could not be listed, counting no wave there', () => {
    // Act
    const estimate = estimateHistoryEvents({
      ...fleet(1, 12),
      clusters: [
        { name: 'listed', workloads: 12 },
        { name: 'unlisted', workloads: undefined },
      ],
    });
    // Assess
    expect(estimate.uncounted).toEqual(['unlisted']);
    expect(estimate.mostRestartWaves).toBe(3);
  });

  it('walks back one cluster in an intermediate rekey, without the root phases', () => {
    // Act
    const estimate = estimateHistoryEvents(fleet(1, 12, { mode: 'intermediate' }));
    // Assess
    const states = estimate.states.map(({ state }) => state);
    expect(states).not.toContain('stage-root');
    expect(states).not.toContain('retire-root');
    expect(states).toContain('rollback-restart');
    expect(estimate.fewest).toBeLessThan(estimate.worstCase);
  });

  it('never falls as the clusters or their workloads grow, in either mode or Maps', () => {
    // The bench reads a refusal of one fleet as a refusal of every larger one (bench/history-refusal.ts).
    const sizes = [1, 3, 10, 30, 100, 300];
    for (const mode of ['emergency', 'scheduled'] as const) {
      for (const distributedMaps of [false, true]) {
        const events = (clusters: number, workloads: number) => {
          const estimate = estimateHistoryEvents(fleet(clusters, workloads, { mode, distributedMaps }));
          return [estimate.worstCase, estimate.largestChild?.events ?? 0];
        };
        for (const [i, clusters] of sizes.entries()) {
          for (const [j, workloads] of sizes.entries()) {
            const here = events(clusters, workloads);
            const more = [
              events(sizes[i + 1] ?? clusters, workloads),
              events(clusters, sizes[j + 1] ?? workloads),
            ];
            for (const larger of more) {
              expect(larger[0]).toBeGreaterThanOrEqual(here[0] as number);
              expect(larger[1]).toBeGreaterThanOrEqual(here[1] as number);
            }
          }
        }
      }
    }
  });
});

describe('restartInvocations', () => {
  it('takes at most one invocation per wave after the first, when a wave fits in an invocation', () => {
    expect(restartInvocations(0, 600, 870)).toBe(1);
    expect(restartInvocations(180, 600, 870)).toBe(181);
  });

  it('lets a wave span invocations when its rollout timeout is longer than one', () => {
    expect(restartInvocations(10, 1800, 870)).toBe(1 + 10 * 4);
  });
});

describe('historyLimitProblem', () => {
  it('lets a fleet whose worst case fits the safe share of the limit through', () => {
    // Act
    const estimate = estimateHistoryEvents(fleet(10, 100));
    // Assess
    expect(estimate.worstCase).toBeLessThanOrEqual(SAFE_HISTORY_EVENTS);
    expect(historyLimitProblem(fleet(10, 100))).toBeUndefined();
  });

  it('refuses 20 clusters of 900 workloads in waves of 5, with the estimate, the limit and the wave size that fits', () => {
    // Prepare
    const large = fleet(20, 900);
    // Act
    const estimate = estimateHistoryEvents(large);
    const problem = historyLimitProblem(large, estimate);
    const fitting = smallestFittingWaveSize(large);
    // Assess: past the limit itself, not only the safe share.
    expect(estimate.worstCase).toBeGreaterThan(EXECUTION_HISTORY_LIMIT);
    expect(fitting).toBeDefined();
    expect(problem).toContain(`at worst it records ${estimate.worstCase} events`);
    expect(problem).toContain('20 clusters, up to 180 restart wave(s) of 5 in a cluster');
    expect(problem).toContain('over the 20000 preflight allows (80% of the 25000 events');
    expect(problem).toContain(
      `set RESTART_WAVE_SIZE (the construct's restartWaveSize) to at least ${fitting} and deploy`,
    );
    // The wave size named is the smallest that fits.
    expect(estimateHistoryEvents({ ...large, restartWaveSize: fitting ?? 0 }).worstCase).toBeLessThanOrEqual(
      SAFE_HISTORY_EVENTS,
    );
    expect(
      estimateHistoryEvents({ ...large, restartWaveSize: (fitting ?? 0) - 1 }).worstCase,
    ).toBeGreaterThan(SAFE_HISTORY_EVENTS);
  });

  it('says a fleet too large for inline Maps even with one wave per cluster fits Distributed Maps, and not to leave clusters out', () => {
    // Act
    const problem = historyLimitProblem(fleet(120, 3, { mode: 'emergency' }));
    // Assess
    expect(problem).toContain(
      'Even one restart wave per cluster does not fit 120 cluster(s) in one execution with inline Maps',
    );
    expect(problem).toContain('deploy the stack with context distributedMaps=true');
    expect(historyLimitProblem(fleet(120, 3, { mode: 'emergency', distributedMaps: true }))).toBeUndefined();
    expect(problem).toContain('Do not narrow the cluster selection (CLUSTERS, the discovery tag)');
    expect(problem).not.toContain('RESTART_WAVE_SIZE');
  });

  it('says a fleet too large even for Distributed Maps is too large for one run', () => {
    // Act: the parent still holds about 6 events per cluster
    const problem = historyLimitProblem(fleet(5_000, 3, { mode: 'emergency', distributedMaps: true }));
    // Assess
    expect(problem).toContain('so this fleet is too large for one run of this state machine');
    expect(problem).not.toContain('distributedMaps=true');
  });
});

describe('estimateHistoryEvents with Distributed Maps', () => {
  const distributed = (clusters: number, workloads: number, overrides: Partial<HistoryEstimateInput> = {}) =>
    fleet(clusters, workloads, { distributedMaps: true, ...overrides });

  it('counts the parent of a rehearsal that succeeded at its first look exactly as its fewest, its children apart', () => {
    // Prepare: the Distributed Maps are the per-cluster Maps, all but the Map of Waits
    const maps = new Set(
      recorded('distributed-scheduled-2-clusters-12-workloads')
        .filter((event) => event.state?.type === 'Map' && event.state.name !== 'rollback-await-proxy-trust')
        .map((event) => event.state?.name as string),
    );
    const real = awsHistoryEvents(
      recorded('distributed-scheduled-2-clusters-12-workloads'),
      new Set(),
      maps,
    ).length;
    // Act
    const estimate = estimateHistoryEvents(distributed(2, 12));
    // Assess: 6 parent events per Distributed Map, where the inline run above records 161
    expect(maps.size).toBe(6);
    expect(real).toBe(81);
    expect(estimate.fewest).toBe(real);
    expect(estimate.worstCase).toBeGreaterThanOrEqual(real);
  });

  it('stays above the parent of a rehearsal that rolled back from retire-root: by no more than the approval gates it had not', () => {
    // Prepare
    const history = recorded('distributed-rolled-back-at-retire-root-2-clusters-12-workloads');
    const maps = new Set(
      history
        .filter((event) => event.state?.type === 'Map' && event.state.name !== 'rollback-await-proxy-trust')
        .map((event) => event.state?.name as string),
    );
    const real = awsHistoryEvents(history, new Set(), maps).length;
    // Act
    const estimate = estimateHistoryEvents(distributed(2, 12));
    // Assess: every rollback Map ran too; the children's retries are in their own histories
    expect(maps.size).toBe(11);
    expect(history.at(-1)?.type).toBe('ExecutionFailed');
    expect(estimate.worstCase - real).toBe(2 * 6);
  });

  it("counts each cluster's iteration in a child of its own: the inline iteration's states plus the child's start and end", () => {
    // Act: one cluster, so the inline restart-workloads Map holds exactly one iteration
    const inline = estimateHistoryEvents(fleet(1, 12));
    const child = estimateHistoryEvents(distributed(1, 12)).largestChild;
    const inlineRestart = inline.states.find(({ state }) => state === 'restart-workloads')?.events ?? 0;
    // Assess: less the Map's 4 events and the iteration's 2, plus ExecutionStarted and its end
    expect(child).toEqual({ state: 'restart-workloads', events: inlineRestart - 4 - 2 + 2 });
    expect(inline.largestChild).toBeUndefined();
  });

  it('keeps 6 events per Distributed Map in the parent, whatever the fleet, so only the inline Map of Waits grows', () => {
    // Act
    const hundred = estimateHistoryEvents(distributed(100, 10, { mode: 'emergency' }));
    const threeHundred = estimateHistoryEvents(distributed(300, 10, { mode: 'emergency' }));
    const perState = Object.fromEntries(hundred.states.map(({ state, events }) => [state, events]));
    // Assess: rollback-await-proxy-trust, a Choice and a Wait per cluster, is the only growth
    expect(threeHundred.worstCase - hundred.worstCase).toBe(200 * 4 + 200 * 2);
    expect(perState['distribute-bundle']).toBe(6);
    expect(perState['rollback-restart']).toBe(6);
    expect(threeHundred.largestChild).toEqual(hundred.largestChild);
    // the design's figures (docs/workflow.md): 48 events in the largest child at emergency x 10, 181 at
    // scheduled x 100
    expect(hundred.largestChild?.events).toBe(48);
    expect(estimateHistoryEvents(distributed(100, 100)).largestChild?.events).toBe(181);
  });

  it('lets 300 clusters through that inline Maps refuse, and refuses one cluster whose own child is too long', () => {
    // Act
    const large = historyLimitProblem(distributed(300, 100));
    const inline = historyLimitProblem(fleet(300, 100));
    const crowded = distributed(1, 20_000);
    const problem = historyLimitProblem(crowded);
    const fitting = smallestFittingWaveSize(crowded);
    // Assess
    expect(large).toBeUndefined();
    expect(inline).toContain('could exceed');
    expect(problem).toContain("in one cluster's restart-workloads child execution");
    expect(problem).toContain('over the 20000 preflight allows');
    expect(fitting).toBeGreaterThan(5);
    expect(problem).toContain(`to at least ${fitting}`);
    expect(
      estimateHistoryEvents({ ...crowded, restartWaveSize: fitting ?? 0 }).largestChild?.events,
    ).toBeLessThanOrEqual(SAFE_HISTORY_EVENTS);
    expect(
      estimateHistoryEvents({ ...crowded, restartWaveSize: (fitting ?? 0) - 1 }).largestChild?.events,
    ).toBeGreaterThan(SAFE_HISTORY_EVENTS);
  });
});
