import type { ClusterStrategy } from '../../../rehearsal/cluster-strategies.js';
import type { WorkloadCertificate } from '../../../rehearsal/fleet/rehearsal-fleet.js';
import {
  describeWorkloadMove,
  resignNoPodsRestartedCheck,
  type WorkloadMove,
  workloadMoves,
  workloadsMovedCheck,
} from '../../../rehearsal/workload-moves.js';

const INT_A = 'a1'.repeat(32);
const INT_B = 'b2'.repeat(32);

function held(
  pod: string,
  uid: string,
  issuer: string,
  overrides: Partial<WorkloadCertificate> = {},
): WorkloadCertificate {
  const [namespace, name] = pod.split('/');
  const deployment = name.split('-').slice(0, 2).join('-');
  return {
    cluster: 'lab-1',
    pod,
    uid,
    workload: `${namespace}/Deployment/${deployment}`,
    issuer,
    ...overrides,
  };
}

/** A move of one single-pod workload of lab-1. */
function move(overrides: Partial<WorkloadMove> = {}): WorkloadMove {
  return {
    cluster: 'lab-1',
    workload: 'shop/Deployment/app-01',
    start: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: INT_A }],
    end: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: INT_B }],
    restarted: false,
    ...overrides,
  };
}

const resign = (
  cluster: string,
  restartWorkloads?: ClusterStrategy['restartWorkloads'],
): ClusterStrategy => ({
  cluster,
  strategy: 'resign',
  ...(restartWorkloads === undefined ? {} : { restartWorkloads }),
});

const noFallback = {
  strategy: 'resign',
  restarted: 0,
  resign: { pods: 2, moved: 2, waitedSeconds: 9, fallback: 0, fallbackWorkloads: [] },
};

describe('workloadMoves: the pods of each workload at the start and at the end', () => {
  it('pairs a re-signed pod with itself: same UID, not restarted, issuer int_A then int_B', () => {
    // Prepare
    const start = [held('shop/app-01-x', 'uid-1', INT_A)];
    const end = [held('shop/app-01-x', 'uid-1', INT_B)];

    // Act
    const moves = workloadMoves(start, end);

    // Assess
    expect(moves).toEqual([move()]);
  });

  it('pairs a restarted pod with its replacement by workload, and says it was restarted', () => {
    // Prepare: a rollout gives the pod a new name and UID
    const start = [held('shop/app-01-x', 'uid-1', INT_A)];
    const end = [held('shop/app-01-y', 'uid-2', INT_B)];

    // Act
    const [moved] = workloadMoves(start, end);

    // Assess
    expect(moved.workload).toBe('shop/Deployment/app-01');
    expect(moved.start.map((pod) => pod.uid)).toEqual(['uid-1']);
    expect(moved.end.map((pod) => pod.uid)).toEqual(['uid-2']);
    expect(moved.restarted).toBe(true);
  });

  it('counts a pod of the start that is gone as restarted, even when another pod kept its UID', () => {
    // Prepare: two replicas, one replaced by nothing
    const start = [held('shop/app-01-x', 'uid-1', INT_A), held('shop/app-01-z', 'uid-3', INT_A)];
    const end = [held('shop/app-01-x', 'uid-1', INT_B)];

    // Act
    const [moved] = workloadMoves(start, end);

    // Assess
    expect(moved.restarted).toBe(true);
  });

  it('keeps workloads of the same name in different clusters apart', () => {
    // Prepare
    const start = [
      held('shop/app-01-x', 'uid-1', INT_A),
      held('shop/app-01-x', 'uid-9', INT_A, { cluster: 'lab-2' }),
    ];
    const end = [
      held('shop/app-01-x', 'uid-1', INT_B),
      held('shop/app-01-x', 'uid-9', INT_B, { cluster: 'lab-2' }),
    ];

    // Act
    const moves = workloadMoves(start, end);

    // Assess
    expect(moves.map((entry) => [entry.cluster, entry.restarted])).toEqual([
      ['lab-1', false],
      ['lab-2', false],
    ]);
  });
});

describe('resign-no-pods-restarted', () => {
  it('passes a resign cluster whose every pod kept its UID', () => {
    // Act
    const check = resignNoPodsRestartedCheck([resign('lab-1', noFallback)], [move()]);

    // Assess
    expect(check).toMatchObject({ name: 'resign-no-pods-restarted', ok: true });
    expect(check?.detail).toBe('1 pod(s) in lab-1, every UID as at the start');
  });

  it('fails a resign cluster where a pod has a new UID, naming the workload and both UIDs', () => {
    // Prepare
    const restarted = move({
      end: [{ pod: 'shop/app-01-y', uid: 'uid-2', issuer: INT_B }],
      restarted: true,
    });

    // Act
    const check = resignNoPodsRestartedCheck([resign('lab-1', noFallback)], [restarted]);

    // Assess
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain(
      'lab-1/shop/Deployment/app-01: pods uid-1 at the start, uid-2 at the end',
    );
  });

  it('fails a resign cluster with no pod observed: nothing would be proven', () => {
    // Act
    const check = resignNoPodsRestartedCheck([resign('lab-2', noFallback)], [move()]);

    // Assess
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain('lab-2: no pod observed');
  });

  it('judges a resign cluster whose restart-workloads answer is missing, as if nothing fell back', () => {
    // Act
    const check = resignNoPodsRestartedCheck([resign('lab-1')], [move({ restarted: true })]);

    // Assess
    expect(check?.ok).toBe(false);
  });

  it('leaves out a resign cluster that fell back to restarts, and names it', () => {
    // Prepare
    const fellBack = {
      ...noFallback,
      restarted: 1,
      resign: { pods: 2, moved: 1, waitedSeconds: 120, fallback: 1, fallbackWorkloads: ['shop/app-01'] },
    };

    // Act
    const check = resignNoPodsRestartedCheck([resign('lab-1', fellBack)], [move({ restarted: true })]);

    // Assess
    expect(check?.ok).toBe(true);
    expect(check?.detail).toContain('not judged');
    expect(check?.detail).toContain('lab-1 (1)');
  });

  it('before restart-workloads reported resign figures, leaves out a cluster where it restarted workloads', () => {
    // Act
    const check = resignNoPodsRestartedCheck(
      [resign('lab-1', { restarted: 3 })],
      [move({ restarted: true })],
    );

    // Assess
    expect(check?.ok).toBe(true);
  });

  it('still fails when restart-workloads says fallback 0 but restarted workloads', () => {
    // Prepare: an answer that contradicts itself is judged by its fallback figure
    const contradicting = { ...noFallback, restarted: 2 };

    // Act
    const check = resignNoPodsRestartedCheck([resign('lab-1', contradicting)], [move({ restarted: true })]);

    // Assess
    expect(check?.ok).toBe(false);
  });

  it('has no check when no cluster re-signs, and judges only the resign clusters of a mixed fleet', () => {
    // Prepare
    const restartCluster: ClusterStrategy = {
      cluster: 'lab-2',
      strategy: 'restart',
      restartWorkloads: { restarted: 1 },
    };
    const restartedInLab2 = move({ cluster: 'lab-2', restarted: true });

    // Act
    const none = resignNoPodsRestartedCheck([restartCluster], [restartedInLab2]);
    const mixed = resignNoPodsRestartedCheck(
      [resign('lab-1', noFallback), restartCluster],
      [move(), restartedInLab2],
    );

    // Assess
    expect(none).toBeUndefined();
    expect(mixed?.ok).toBe(true);
  });
});

describe('workloads-moved-to-new-intermediate', () => {
  const initial = [
    { cluster: 'lab-1', caCert: INT_A },
    { cluster: 'lab-2', caCert: 'c3'.repeat(32) },
  ];
  const final = [
    { cluster: 'lab-1', caCert: INT_B },
    { cluster: 'lab-2', caCert: 'c3'.repeat(32) },
  ];

  it('passes a workload whose pods went from the start intermediate to the final one', () => {
    // Act
    const check = workloadsMovedCheck({ clusters: ['lab-1'], initial, final, moves: [move()] });

    // Assess
    expect(check).toEqual({
      name: 'workloads-moved-to-new-intermediate',
      ok: true,
      detail: "1 workload(s) in lab-1, each from its cluster's start intermediate to its final one",
    });
  });

  it('fails a workload that still serves its start intermediate, showing both issuers', () => {
    // Prepare
    const stayed = move({ end: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: INT_A }] });

    // Act
    const check = workloadsMovedCheck({ clusters: ['lab-1'], initial, final, moves: [stayed] });

    // Assess
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('lab-1/shop/Deployment/app-01: a1a1a1a1 -> a1a1a1a1');
  });

  it('fails a workload that did not start on the start intermediate (it proves no move from int_A)', () => {
    // Prepare
    const elsewhere = move({ start: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: INT_B }] });

    // Act
    const check = workloadsMovedCheck({ clusters: ['lab-1'], initial, final, moves: [elsewhere] });

    // Assess
    expect(check.ok).toBe(false);
  });

  it('fails a workload seen at only one end, and a rotated cluster with no workload at all', () => {
    // Act
    const gone = workloadsMovedCheck({ clusters: ['lab-1'], initial, final, moves: [move({ end: [] })] });
    const nothing = workloadsMovedCheck({ clusters: ['lab-1'], initial, final, moves: [] });

    // Assess
    expect(gone.ok).toBe(false);
    expect(gone.detail).toContain('-> no pod');
    expect(nothing.ok).toBe(false);
    expect(nothing.detail).toContain('lab-1: no workload observed');
  });

  it('fails a cluster said to rotate whose intermediate did not change', () => {
    // Prepare
    const unmoved = move({
      cluster: 'lab-2',
      start: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: 'c3'.repeat(32) }],
      end: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: 'c3'.repeat(32) }],
    });

    // Act
    const check = workloadsMovedCheck({ clusters: ['lab-2'], initial, final, moves: [unmoved] });

    // Assess
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('lab-2: intermediate c3c3c3c3 at the start, c3c3c3c3 at the end');
  });

  it('judges only the clusters named: one not rotated keeps its workloads where they were', () => {
    // Prepare
    const stayedInLab2 = move({
      cluster: 'lab-2',
      start: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: 'c3'.repeat(32) }],
      end: [{ pod: 'shop/app-01-x', uid: 'uid-1', issuer: 'c3'.repeat(32) }],
    });

    // Act
    const check = workloadsMovedCheck({ clusters: ['lab-1'], initial, final, moves: [move(), stayedInLab2] });

    // Assess
    expect(check.ok).toBe(true);
  });
});

describe('describeWorkloadMove', () => {
  it('shows the issuer prefixes at both ends and whether the workload was restarted', () => {
    expect(describeWorkloadMove(move())).toBe(
      'lab-1 shop/Deployment/app-01: a1a1a1a1 -> b2b2b2b2, restarted no',
    );
    expect(describeWorkloadMove(move({ restarted: true }))).toContain('restarted yes');
  });
});
