// verify-workloads' checks of a cluster's workloads: a few at once, never more than the bound, their
// problems in the workloads' order whatever order the checks end in.
import { WORKLOADS_AT_ONCE } from '../../../lambdas/adapters/kube/workload-ref.js';
import { checkWorkloadsMoved, type WorkloadCheck } from '../../../lambdas/application/workload-moved.js';

describe('checkWorkloadsMoved', () => {
  it('runs the bounded number of checks at once and keeps the workloads order', async () => {
    // Prepare: 20 workloads; each check ends after a delay that makes later ones end first
    const workloads = Array.from({ length: 20 }, (_, i) => `app-${i}`);
    let running = 0;
    let most = 0;
    const checkOne = async (name: string): Promise<WorkloadCheck> => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20 - Number(name.slice(4))));
      running -= 1;
      return { problems: [`${name} not moved`], pods: 2 };
    };

    // Act
    const checked = await checkWorkloadsMoved(workloads, checkOne);

    // Assess
    expect(most).toBe(WORKLOADS_AT_ONCE);
    expect(checked).toEqual({ problems: workloads.map((name) => `${name} not moved`), pods: 40 });
  });
});
