// What a restart wave that did not finish tells the operator: a stuck StatefulSet pod is never replaced by
// another restart (the rollback's included), so its hint says to delete the pod; a Deployment's does not.
import type { WorkloadRef } from '../../../lambdas/adapters/kube/workload-ref.js';
import { lateRollouts } from '../../../lambdas/application/restart-wave-runner.js';

const deployment: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const statefulSet: WorkloadRef = { kind: 'StatefulSet', namespace: 'payments', name: 'ledger' };

describe('lateRollouts', () => {
  it('tells how to unstick a StatefulSet, whichever workload is behind first', () => {
    // Act
    const error = lateRollouts(
      'lab-2',
      [
        { workload: deployment, waiting: '1 of 2 updated replicas available' },
        { workload: statefulSet, waiting: '1 of 2 pods ready' },
      ],
      600,
    );
    // Assess
    expect(error).toMatchObject({ name: 'VerificationFailed', cluster: 'lab-2' });
    expect(error.message).toContain(
      'Deployment shop/web: 1 of 2 updated replicas available; StatefulSet payments/ledger',
    );
    expect(error.message).toContain(
      'A StatefulSet replaces no pod while one is not ready, so no restart reaches a stuck pod: once its cause is fixed, ' +
        'delete it (kubectl -n payments delete pod <pod>), then run the step again.',
    );
  });

  it('says only to check the pods when no StatefulSet is behind', () => {
    // Act
    const error = lateRollouts(
      'lab-1',
      [{ workload: deployment, waiting: '0 of 1 new replicas updated' }],
      30,
    );
    // Assess
    expect(error.message).toMatch(
      /within 30 s of the wave's restart \(ROLLOUT_TIMEOUT_SECONDS\): Deployment shop\/web: 0 of 1 new replicas updated\. Check why its pods do not become ready \(kubectl -n shop get pods\), then run the step again\.$/,
    );
    expect(error.message).not.toContain('StatefulSet');
  });
});
