import type { DisruptionBudget } from '../../../../lambdas/core/rotation/disruption-budget.js';
import {
  budgetTolerance,
  describeRolloutOverBudget,
  rolloutsOverBudget,
  rolloutWidth,
} from '../../../../lambdas/core/rotation/rollout-width.js';

const web = { namespace: 'shop', kind: 'Deployment', name: 'web' };

/** minAvailable 10 of 12 pods: at most 2 disruptions. */
function budget(extra: Partial<DisruptionBudget> = {}): DisruptionBudget {
  return {
    namespace: 'shop',
    name: 'web-pdb',
    selector: { matchLabels: { app: 'web' } },
    spec: 'minAvailable: 10',
    disruptionsAllowed: 2,
    currentHealthy: 12,
    desiredHealthy: 10,
    expectedPods: 12,
    stale: false,
    ...extra,
  };
}

describe('rolloutWidth', () => {
  it("resolves a Deployment's default 25% against its replicas, rounding down", () => {
    // Act
    const twelve = rolloutWidth({ kind: 'Deployment', replicas: 12 });
    const seven = rolloutWidth({ kind: 'Deployment', replicas: 7 });
    // Assess
    expect(twelve).toEqual({ pods: 3, written: 'maxUnavailable: 25% of 12 replica(s)' });
    expect(seven?.pods).toBe(1);
  });

  it('counts a surge-only Deployment as taking no pod down, and one when both come to 0', () => {
    // Act
    const surge = rolloutWidth({ kind: 'Deployment', replicas: 3, maxUnavailable: 0, maxSurge: 1 });
    const both = rolloutWidth({ kind: 'Deployment', replicas: 3, maxUnavailable: '10%', maxSurge: '0%' });
    // Assess
    expect([surge?.pods, both?.pods]).toEqual([0, 1]);
  });

  it('takes every replica of a Recreate Deployment, and nothing of an OnDelete workload', () => {
    // Act
    const recreate = rolloutWidth({ kind: 'Deployment', type: 'Recreate', replicas: 4 });
    const onDelete = rolloutWidth({ kind: 'StatefulSet', type: 'OnDelete', replicas: 4 });
    // Assess
    expect(recreate).toEqual({ pods: 4, written: 'strategy Recreate, 4 replica(s)' });
    expect(onDelete).toBeUndefined();
  });

  it('rounds a DaemonSet or StatefulSet percentage up, one pod by default', () => {
    // Act
    const daemonSet = rolloutWidth({ kind: 'DaemonSet', replicas: 10, maxUnavailable: '15%' });
    const statefulSet = rolloutWidth({ kind: 'StatefulSet', replicas: 5 });
    const statefulSetZero = rolloutWidth({ kind: 'StatefulSet', replicas: 5, maxUnavailable: '0%' });
    // Assess
    expect([daemonSet?.pods, statefulSet?.pods, statefulSetZero?.pods]).toEqual([2, 1, 1]);
  });

  it('refuses a maxUnavailable that is neither a count nor a percentage', () => {
    // Act
    const read = () => rolloutWidth({ kind: 'Deployment', replicas: 4, maxUnavailable: 'half' });
    // Assess
    expect(read).toThrow(RangeError);
  });
});

describe('budgetTolerance', () => {
  it('is expected less required pods, and unknown while the status says nothing', () => {
    expect(budgetTolerance(budget())).toBe(2);
    expect(budgetTolerance(budget({ stale: true }))).toBeUndefined();
    expect(budgetTolerance(budget({ expectedPods: 0, desiredHealthy: 0 }))).toBeUndefined();
  });
});

describe('rolloutsOverBudget', () => {
  const covered = (pods: number) => ({
    workload: web,
    podLabels: { app: 'web' },
    width: { pods, written: `maxUnavailable: ${pods}` },
  });

  it('finds a rollout wider than the most its budget allows, with both numbers', () => {
    // Act
    const found = rolloutsOverBudget([covered(3)], [budget()]);
    // Assess
    expect(found).toEqual([
      { workload: web, width: { pods: 3, written: 'maxUnavailable: 3' }, budget: budget(), tolerance: 2 },
    ]);
    expect(describeRolloutOverBudget(found[0] as (typeof found)[number])).toBe(
      'Deployment shop/web: its rollout takes down up to 3 pods at once (maxUnavailable: 3), but ' +
        'PodDisruptionBudget shop/web-pdb (minAvailable: 10) allows at most 2 disruption(s) (10 of 12 expected pods ' +
        'required), and a rollout restart is not held to a PodDisruptionBudget, so restarting it would take its pods ' +
        "below the budget. Set its strategy's maxUnavailable to 2 or less (maxSurge starts new pods first instead), " +
        "or, if the budget's owners agree, relax the PodDisruptionBudget; then start again",
    );
  });

  it('passes a rollout the budget allows, a budget allowing fewer right now, and an uncovered workload', () => {
    // Act: 2 <= 2 although only 1 disruption is allowed now (the restart waits for it)
    const fits = rolloutsOverBudget([covered(2)], [budget({ disruptionsAllowed: 1, currentHealthy: 11 })]);
    const uncovered = rolloutsOverBudget(
      [covered(5)],
      [budget({ selector: { matchLabels: { app: 'db' } } })],
    );
    // Assess
    expect([fits, uncovered]).toEqual([[], []]);
  });

  it('leaves one pod at a time under a budget that allows none to the restart, which waits for its owners', () => {
    // Act
    const found = rolloutsOverBudget(
      [covered(1)],
      [budget({ spec: 'maxUnavailable: 0', desiredHealthy: 12, disruptionsAllowed: 0 })],
    );
    // Assess
    expect(found).toEqual([]);
  });

  it('judges nothing against a budget whose status is stale', () => {
    expect(rolloutsOverBudget([covered(3)], [budget({ stale: true })])).toEqual([]);
  });
});
