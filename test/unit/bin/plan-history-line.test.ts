import { describeHistoryEvents } from '../../../bin/commands/plan.js';
import {
  estimateHistoryEvents,
  type HistoryEstimateInput,
} from '../../../lambdas/core/plan/history-estimate.js';

// The line `meshtrust plan` prints about the execution history, from the real estimate.
const fleet = (clusters: number, distributedMaps: boolean): HistoryEstimateInput => ({
  mode: 'emergency',
  clusters: Array.from({ length: clusters }, (_, i) => ({ name: `c-${i + 1}`, workloads: 10 })),
  restartWaveSize: 5,
  rolloutTimeoutSeconds: 600,
  restartInvocationSeconds: 870,
  distributedMaps,
});

describe('describeHistoryEvents', () => {
  it('names the one history of inline Maps, over the limit for 100 clusters', () => {
    // Act
    const line = describeHistoryEvents(estimateHistoryEvents(fleet(100, false)));

    // Assess
    expect(line).toMatch(/^execution history: at worst 24102 events, over the 20000 preflight allows/);
  });

  it("names the rotation's own history and its largest child apart with Distributed Maps, each against the limit", () => {
    // Act
    const line = describeHistoryEvents(estimateHistoryEvents(fleet(100, true)));

    // Assess
    expect(line).toBe(
      "execution history (Distributed Maps): at worst 724 events in the rotation's own, within the 20000 " +
        "preflight allows, and 48 in the largest child (one cluster's restart-workloads), within it; at least 79 " +
        "in the rotation's own if every check passes at once",
    );
  });
});
