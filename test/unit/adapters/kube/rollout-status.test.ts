// When a rollout counts as complete: kubectl rollout status's rules per kind, one snapshot at a time.
import { rolloutStatusOf } from '../../../../lambdas/adapters/kube/rollout-status.js';
import type { Workload } from '../../../../lambdas/adapters/kube/workload-ref.js';

function deployment(generation: number, spec: object, status: object): Workload {
  return { metadata: { generation }, spec: { selector: {}, template: {}, ...spec }, status } as Workload;
}

describe('Deployment', () => {
  it('is done when the new generation is observed and every replica is updated and available', () => {
    // Act
    const status = rolloutStatusOf(
      'Deployment',
      deployment(
        2,
        { replicas: 3 },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      ),
    );
    // Assess
    expect(status).toEqual({ state: 'done' });
  });

  it('waits while the controller has not observed the restart, even if the old pods are all available', () => {
    // Act
    const status = rolloutStatusOf(
      'Deployment',
      deployment(
        3,
        { replicas: 3 },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      ),
    );
    // Assess
    expect(status).toEqual({
      state: 'progressing',
      waiting: 'the controller has not yet observed the new pod template',
    });
  });

  it('says which count is missing: updated, old pending termination, available', () => {
    // Act
    const verdicts = [
      { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3 },
      { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 },
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 },
    ].map((s) => rolloutStatusOf('Deployment', deployment(2, { replicas: 3 }, s)));
    // Assess
    expect(verdicts).toEqual([
      { state: 'progressing', waiting: '1 of 3 new replicas updated' },
      { state: 'progressing', waiting: '1 old replicas pending termination' },
      { state: 'progressing', waiting: '2 of 3 updated replicas available' },
    ]);
  });

  it('fails at once when the progress deadline is exceeded', () => {
    // Act
    const status = rolloutStatusOf(
      'Deployment',
      deployment(
        2,
        { replicas: 1 },
        {
          observedGeneration: 2,
          conditions: [
            { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
          ],
        },
      ),
    );
    // Assess
    expect(status).toEqual({ state: 'failed', reason: 'it exceeded its progress deadline (too slow)' });
  });
});

describe('StatefulSet', () => {
  const statefulSet = (status: object, partition = 0, type = 'RollingUpdate'): Workload =>
    ({
      metadata: { generation: 2 },
      spec: { replicas: 2, updateStrategy: { type, rollingUpdate: { partition } } },
      status: { observedGeneration: 2, ...status },
    }) as Workload;

  it('is done when all pods are ready, updated and the current revision is the update revision', () => {
    // Act
    const status = rolloutStatusOf(
      'StatefulSet',
      statefulSet({
        replicas: 2,
        readyReplicas: 2,
        updatedReplicas: 2,
        currentRevision: 'db-b',
        updateRevision: 'db-b',
      }),
    );
    // Assess
    expect(status).toEqual({ state: 'done' });
  });

  it('waits for ready pods, then updated pods, then the revision switch', () => {
    // Act
    const verdicts = [
      { readyReplicas: 1, updatedReplicas: 2, currentRevision: 'db-a', updateRevision: 'db-b' },
      { readyReplicas: 2, updatedReplicas: 1, currentRevision: 'db-a', updateRevision: 'db-b' },
      { readyReplicas: 2, updatedReplicas: 2, currentRevision: 'db-a', updateRevision: 'db-b' },
    ].map((s) => rolloutStatusOf('StatefulSet', statefulSet({ replicas: 2, ...s })));
    // Assess
    expect(verdicts).toEqual([
      { state: 'progressing', waiting: '1 of 2 pods ready' },
      { state: 'progressing', waiting: '1 of 2 pods updated to revision db-b' },
      { state: 'progressing', waiting: 'pods still at revision db-a, waiting for all at db-b' },
    ]);
  });

  it('is done with a partition once the pods above it are updated, as kubectl says', () => {
    // Act
    const status = rolloutStatusOf(
      'StatefulSet',
      statefulSet(
        {
          replicas: 2,
          readyReplicas: 2,
          updatedReplicas: 1,
          currentRevision: 'db-a',
          updateRevision: 'db-b',
        },
        1,
      ),
    );
    // Assess
    expect(status).toEqual({ state: 'done' });
  });

  it('fails at once with the OnDelete strategy, where a restart replaces no pod', () => {
    // Act
    const status = rolloutStatusOf('StatefulSet', statefulSet({ replicas: 2 }, 0, 'OnDelete'));
    // Assess
    expect(status).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('updateStrategy is OnDelete'),
    });
  });
});

describe('DaemonSet', () => {
  const daemonSet = (status: object): Workload =>
    ({
      metadata: { generation: 3 },
      spec: { updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 3, ...status },
    }) as Workload;

  it('is done when every desired pod is updated and available, and says which is missing otherwise', () => {
    // Act
    const verdicts = [
      { desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 },
      { desiredNumberScheduled: 2, updatedNumberScheduled: 1, numberAvailable: 2 },
      { desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 },
    ].map((s) => rolloutStatusOf('DaemonSet', daemonSet(s)));
    // Assess
    expect(verdicts).toEqual([
      { state: 'done' },
      { state: 'progressing', waiting: '1 of 2 new pods scheduled' },
      { state: 'progressing', waiting: '1 of 2 updated pods available' },
    ]);
  });
});
