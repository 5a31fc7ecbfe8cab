import type { ClusterStrategy } from '../../../rehearsal/cluster-strategies.js';
import {
  expectedCacertsBackups,
  expectedResult,
  type OutcomeFacts,
  outcomeChecks,
} from '../../../rehearsal/rehearsal-report.js';
import type { WorkloadMove } from '../../../rehearsal/workload-moves.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function facts(overrides: Partial<OutcomeFacts> = {}): OutcomeFacts {
  return {
    mode: 'scheduled',
    result: 'SUCCEEDED',
    expected: 'SUCCEEDED',
    phases: [{ name: 'preflight', startedAt: 't', handshakes: { attempted: 18, failed: 0 } }],
    failedHandshakes: 0,
    rejectedUpdates: 0,
    rootA: A,
    rootB: B,
    initial: [{ cluster: 'lab-1', roots: [A], caCert: 'i1' }],
    final: [{ cluster: 'lab-1', roots: [B], caCert: 'i2' }],
    workloads: [
      { cluster: 'lab-1', pod: 'shop/app-01', issuer: 'i2' },
      { cluster: 'lab-1', pod: 'shop/app-02', issuer: 'i2' },
    ],
    identicalToStart: { 'lab-1': false },
    ...overrides,
  };
}

const failing = (checks: { name: string; ok: boolean }[]) =>
  checks.filter((check) => !check.ok).map((check) => check.name);

describe('what a rehearsal should end in', () => {
  it('expects success without --fail-at and with a one-off failure', () => {
    expect(expectedResult('scheduled', [])).toBe('SUCCEEDED');
    expect(expectedResult('scheduled', [{ state: 'distribute-bundle', once: true }])).toBe('SUCCEEDED');
  });

  it('expects a rollback for a failure after the first write, a plain failure before it or at promote-root', () => {
    expect(expectedResult('scheduled', [{ state: 'reissue-intermediate', once: false }])).toBe('ROLLED_BACK');
    expect(expectedResult('scheduled', [{ state: 'stage-root', once: false }])).toBe('ROLLED_BACK');
    expect(expectedResult('scheduled', [{ state: 'preflight', once: false }])).toBe('FAILED');
    expect(expectedResult('emergency', [{ state: 'promote-root', once: false }])).toBe('FAILED');
  });

  it('expects a failed rollback for a permanent failure inside it, a rollback for a one-off one', () => {
    const trigger = { state: 'reissue-intermediate', once: false };
    expect(expectedResult('scheduled', [trigger, { state: 'rollback-restore', once: false }])).toBe('FAILED');
    expect(expectedResult('scheduled', [{ state: 'rollback-trust-in-cluster', once: false }, trigger])).toBe(
      'FAILED',
    );
    expect(expectedResult('scheduled', [trigger, { state: 'rollback-restore', once: true }])).toBe(
      'ROLLED_BACK',
    );
    // Without a failure of the rotation itself the rollback never runs.
    expect(expectedResult('scheduled', [{ state: 'rollback-restore', once: false }])).toBe('SUCCEEDED');
  });

  it('expects a plain failure when acquire-lock fails, and no change when a release of the lock fails', () => {
    expect(expectedResult('scheduled', [{ state: 'acquire-lock', once: false }])).toBe('FAILED');
    expect(expectedResult('scheduled', [{ state: 'release-lock', once: false }])).toBe('SUCCEEDED');
    const trigger = { state: 'reissue-intermediate', once: false };
    expect(
      expectedResult('scheduled', [trigger, { state: 'release-lock-after-rollback', once: false }]),
    ).toBe('ROLLED_BACK');
  });
});

describe("what should become of a run's cacerts backups", () => {
  const trigger = { state: 'reissue-intermediate', once: false };

  it('expects them deleted after a success (any mode) and after a completed rollback', () => {
    expect(expectedCacertsBackups('SUCCEEDED', [])).toBe('deleting');
    expect(expectedCacertsBackups('ROLLED_BACK', [trigger])).toBe('deleting');
    expect(expectedCacertsBackups('ROLLED_BACK', [trigger, { state: 'rollback-restore', once: true }])).toBe(
      'deleting',
    );
  });

  it('expects them kept when the rollback failed before its last stage, nothing when it failed after it ran', () => {
    expect(expectedCacertsBackups('FAILED', [trigger, { state: 'rollback-restore', once: false }])).toBe(
      'kept',
    );
    expect(
      expectedCacertsBackups('FAILED', [trigger, { state: 'rollback-trust-in-cluster', once: false }]),
    ).toBe('kept');
    // rollback-drop-pending's function runs (and deletes them) before the injected failure.
    expect(
      expectedCacertsBackups('FAILED', [trigger, { state: 'rollback-drop-pending', once: false }]),
    ).toBeUndefined();
    // Stopped before any write, or after promote-root (which deleted them before failing).
    expect(expectedCacertsBackups('FAILED', [{ state: 'preflight', once: false }])).toBeUndefined();
    expect(expectedCacertsBackups('FAILED', [{ state: 'promote-root', once: false }])).toBeUndefined();
    expect(expectedCacertsBackups('ABORTED', [])).toBeUndefined();
  });
});

describe('the checks behind the exit code', () => {
  it('passes a scheduled rotation that ends on root B alone with traffic in every phase', () => {
    expect(failing(outcomeChecks(facts()))).toEqual([]);
  });

  it('judges an aborted (interrupted) run on what it showed, not on the end it never reached', () => {
    // Prepare: stopped mid-rotation, the fleet read neither at its end nor at all
    const aborted = facts({ result: 'ABORTED', final: [], workloads: [], identicalToStart: {} });

    // Act
    const checks = outcomeChecks(aborted);

    // Assess
    expect(checks.map((check) => check.name)).toEqual([
      'result-as-expected',
      'no-failed-handshake',
      'handshakes-in-every-phase',
      'istiod-accepted-every-write',
    ]);
    expect(failing(checks)).toEqual(['result-as-expected']);
  });

  it('fails a --fault that never fired, and has no such check without --fault', () => {
    // Prepare
    const fired = { spec: 'kube:lab-2:5xx:3@distribute-bundle', fired: 3 };
    const silent = { spec: 'kube:lab-1:conflict:2@rollback-trust', fired: 0 };

    // Act
    const without = outcomeChecks(facts());
    const allFired = outcomeChecks(facts({ faults: [fired] }));
    const oneSilent = outcomeChecks(facts({ faults: [fired, silent] }));

    // Assess
    expect(without.map((check) => check.name)).not.toContain('every-fault-fired');
    expect(allFired.find((check) => check.name === 'every-fault-fired')).toEqual({
      name: 'every-fault-fired',
      ok: true,
      detail: 'kube:lab-2:5xx:3@distribute-bundle fired 3x',
    });
    expect(failing(oneSilent)).toEqual(['every-fault-fired']);
    expect(oneSilent.find((check) => check.name === 'every-fault-fired')?.detail).toBe(
      'never fired: kube:lab-1:conflict:2@rollback-trust',
    );
  });

  it("requires B's KMS key alone live and A's key deleting after a root rotation, no live key after a rollback", () => {
    // Prepare
    const rotated = { kms: ['Enabled'], importedKeySecret: 'deleting' } as const;
    const rolledBack = { ...facts(), result: 'ROLLED_BACK', expected: 'ROLLED_BACK' } as const;
    const keyOf = (checks: ReturnType<typeof outcomeChecks>) =>
      checks.find((c) => c.name === 'root-keys-retired');
    // Act, Assess
    expect(keyOf(outcomeChecks(facts()))).toBeUndefined();
    expect(keyOf(outcomeChecks(facts({ rootKeys: rotated })))?.ok).toBe(true);
    expect(
      keyOf(outcomeChecks(facts({ rootKeys: { ...rotated, importedKeySecret: 'kept' } }))),
    ).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^expected only B's KMS key live.*A's key secret kept$/),
    });
    expect(
      keyOf(
        outcomeChecks(facts({ rootKeys: { kms: ['Enabled', 'Enabled'], importedKeySecret: 'deleting' } })),
      )?.ok,
    ).toBe(false);
    expect(
      keyOf(
        outcomeChecks({ ...rolledBack, rootKeys: { kms: ['PendingDeletion'], importedKeySecret: 'kept' } }),
      )?.ok,
    ).toBe(true);
    expect(
      keyOf(outcomeChecks({ ...rolledBack, rootKeys: { kms: ['Enabled'], importedKeySecret: 'kept' } }))?.ok,
    ).toBe(false);
    expect(
      keyOf(outcomeChecks(facts({ mode: 'intermediate', rootKeys: { kms: [], importedKeySecret: 'kept' } })))
        ?.ok,
    ).toBe(true);
  });

  it('fails a root key the run made that no alias names (made twice), whatever the result', () => {
    // Prepare
    const stray = (unaliased: number, before?: number) =>
      outcomeChecks(
        facts({
          result: 'FAILED',
          rootKeys: { kms: ['Enabled'], importedKeySecret: 'kept', unaliased },
          ...(before === undefined
            ? {}
            : { rootKeysAtStart: { kms: [], importedKeySecret: 'kept', unaliased: before } }),
        }),
      ).find((check) => check.name === 'no-root-key-without-alias');

    // Act & Assess
    expect(stray(0)?.ok).toBe(true);
    expect(stray(1)).toMatchObject({ ok: false, detail: expect.stringContaining('1 enabled root key(s)') });
    expect(stray(1, 1)?.ok).toBe(true);
    expect(outcomeChecks(facts()).some((check) => check.name === 'no-root-key-without-alias')).toBe(false);
  });

  it('judges root keys against those the run started with (an attached lab rotated before)', () => {
    // Prepare: a CA store after one rotation: B's KMS key live, A's imported key secret deleting.
    const afterOneRotation = { kms: ['Enabled'], importedKeySecret: 'deleting' } as const;
    const keyOf = (checks: ReturnType<typeof outcomeChecks>) =>
      checks.find((c) => c.name === 'root-keys-retired')?.ok;
    const rolledBack = { ...facts(), result: 'ROLLED_BACK', expected: 'ROLLED_BACK' } as const;

    // Act, Assess: B -> C retires B's key and leaves C's alone live
    const rotatedAgain = { kms: ['Enabled', 'PendingDeletion'], importedKeySecret: 'deleting' } as const;
    expect(keyOf(outcomeChecks(facts({ rootKeys: rotatedAgain, rootKeysAtStart: afterOneRotation })))).toBe(
      true,
    );
    // B's key still live beside C's, or judged as if the store were fresh: not retired
    expect(
      keyOf(
        outcomeChecks(
          facts({
            rootKeys: { kms: ['Enabled', 'Enabled'], importedKeySecret: 'deleting' },
            rootKeysAtStart: afterOneRotation,
          }),
        ),
      ),
    ).toBe(false);
    expect(keyOf(outcomeChecks(facts({ rootKeys: rotatedAgain })))).toBe(false);
    // A rollback keeps B's key live and retires the one it made
    expect(
      keyOf(outcomeChecks({ ...rolledBack, rootKeys: rotatedAgain, rootKeysAtStart: afterOneRotation })),
    ).toBe(true);
    expect(
      keyOf(
        outcomeChecks({
          ...rolledBack,
          rootKeys: { kms: ['PendingDeletion', 'PendingDeletion'], importedKeySecret: 'deleting' },
          rootKeysAtStart: afterOneRotation,
        }),
      ),
    ).toBe(false);
  });

  it('requires every cacerts backup deleting after a success or a rollback, and all kept after a failed rollback', () => {
    // Prepare
    const backupsOf = (checks: ReturnType<typeof outcomeChecks>) =>
      checks.find((c) => c.name.startsWith('cacerts-backups-'));
    const rolledBack = {
      ...facts({ identicalToStart: { 'lab-1': true } }),
      result: 'ROLLED_BACK',
      expected: 'ROLLED_BACK',
    } as const;
    const failedRollback = {
      ...facts(),
      result: 'FAILED',
      expected: 'FAILED',
      failAts: [
        { state: 'reissue-intermediate', once: false },
        { state: 'rollback-restore', once: false },
      ],
    } as const;
    // Act, Assess
    expect(backupsOf(outcomeChecks(facts()))).toBeUndefined();
    expect(backupsOf(outcomeChecks(facts({ cacertsBackups: { kept: 0, deleting: 3 } })))).toEqual({
      name: 'cacerts-backups-deleted',
      ok: true,
      detail: 'every backup of the run scheduled for deletion: 0 kept, 3 scheduled for deletion',
    });
    expect(backupsOf(outcomeChecks(facts({ cacertsBackups: { kept: 1, deleting: 2 } })))?.ok).toBe(false);
    // A success made at least one backup: none found is no proof they were deleted.
    expect(backupsOf(outcomeChecks(facts({ cacertsBackups: { kept: 0, deleting: 0 } })))?.ok).toBe(false);
    expect(
      backupsOf(outcomeChecks(facts({ mode: 'intermediate', cacertsBackups: { kept: 0, deleting: 1 } })))?.ok,
    ).toBe(true);
    expect(backupsOf(outcomeChecks({ ...rolledBack, cacertsBackups: { kept: 0, deleting: 3 } }))?.ok).toBe(
      true,
    );
    expect(backupsOf(outcomeChecks({ ...rolledBack, cacertsBackups: { kept: 3, deleting: 0 } }))?.ok).toBe(
      false,
    );
    expect(backupsOf(outcomeChecks({ ...failedRollback, cacertsBackups: { kept: 3, deleting: 0 } }))).toEqual(
      {
        name: 'cacerts-backups-kept',
        ok: true,
        detail: 'the rollback did not complete, so none may be deleted: 3 kept, 0 scheduled for deletion',
      },
    );
    expect(
      backupsOf(outcomeChecks({ ...failedRollback, cacertsBackups: { kept: 2, deleting: 1 } }))?.ok,
    ).toBe(false);
    // An unexpected end is failed by result-as-expected; nothing is asked of the backups then.
    expect(
      backupsOf(
        outcomeChecks({ ...rolledBack, expected: 'SUCCEEDED', cacertsBackups: { kept: 3, deleting: 0 } }),
      ),
    ).toBeUndefined();
  });

  it('requires the expiry check to run as deployed and watch the root and every intermediate', () => {
    const check = (expiryCheck: OutcomeFacts['expiryCheck']) =>
      outcomeChecks(facts(expiryCheck === undefined ? {} : { expiryCheck })).find(
        (c) => c.name === 'expiry-check-runs',
      );
    expect(check(undefined)).toBeUndefined();
    expect(check({ certificates: 2, days: 700, first: 'intermediate/lab-1' })?.ok).toBe(true);
    expect(check({ certificates: 1, days: 700, first: 'root' })).toMatchObject({
      ok: false,
      detail: expect.stringContaining('(expected 2)'),
    });
    expect(check({ error: 'User: x is not authorized to perform: sts:AssumeRole' })).toMatchObject({
      ok: false,
      detail: 'check-expiry failed: User: x is not authorized to perform: sts:AssumeRole',
    });
  });

  it('expects no intermediate watched for a remote cluster, which has none of its own', () => {
    // Prepare: lab-2 a remote of lab-1, its entry the primary's cacerts (what its pods are served)
    const primaryRemote = facts({
      initial: [
        { cluster: 'lab-1', roots: [A], caCert: 'i1' },
        { cluster: 'lab-2', roots: [A], caCert: 'i1' },
      ],
      final: [
        { cluster: 'lab-1', roots: [B], caCert: 'i2' },
        { cluster: 'lab-2', roots: [B], caCert: 'i2' },
      ],
      remotes: ['lab-2'],
      expiryCheck: { certificates: 2, days: 700, first: 'intermediate/lab-1' },
    });
    // Act
    const expiry = outcomeChecks(primaryRemote).find((c) => c.name === 'expiry-check-runs');
    const withoutTopology = outcomeChecks({ ...primaryRemote, remotes: [] }).find(
      (c) => c.name === 'expiry-check-runs',
    );
    // Assess
    expect(expiry).toMatchObject({ ok: true, detail: expect.stringContaining('(expected 2)') });
    expect(withoutTopology).toMatchObject({ ok: false, detail: expect.stringContaining('(expected 3)') });
  });

  it('fails on a single failed handshake', () => {
    expect(failing(outcomeChecks(facts({ failedHandshakes: 1 })))).toEqual(['no-failed-handshake']);
  });

  it('fails a phase without any handshake', () => {
    const silent = [{ name: 'soak', startedAt: 't', handshakes: { attempted: 0, failed: 0 } }];
    expect(failing(outcomeChecks(facts({ phases: silent })))).toEqual(['handshakes-in-every-phase']);
  });

  it('fails a fleet that still trusts root A next to B', () => {
    const final = [{ cluster: 'lab-1', roots: [A, B], caCert: 'i2' }];
    expect(failing(outcomeChecks(facts({ final })))).toEqual(['final-roots-new-root-only']);
  });

  it('fails a workload left on another intermediate than its cluster ends with, and a fleet with none read', () => {
    const stale = [
      { cluster: 'lab-1', pod: 'shop/app-01', issuer: 'i2' },
      { cluster: 'lab-1', pod: 'shop/app-02', issuer: 'i1' },
    ];
    const checks = outcomeChecks(facts({ workloads: stale }));
    expect(failing(checks)).toEqual(['workloads-on-final-intermediate']);
    expect(checks.find((check) => !check.ok)?.detail).toContain('lab-1/shop/app-02');
    expect(failing(outcomeChecks(facts({ workloads: [] })))).toEqual(['workloads-on-final-intermediate']);
  });

  it('fails an unexpected result and an update istiod dropped', () => {
    const checks = outcomeChecks(
      facts({ result: 'ROLLED_BACK', rejectedUpdates: 1, identicalToStart: { 'lab-1': true } }),
    );
    expect(failing(checks)).toEqual(['result-as-expected', 'istiod-accepted-every-write']);
  });

  it('fails a rollback that left a cluster different from its start', () => {
    const checks = outcomeChecks(
      facts({ result: 'ROLLED_BACK', expected: 'ROLLED_BACK', identicalToStart: { 'lab-1': false } }),
    );
    expect(failing(checks)).toEqual(['cacerts-byte-identical-to-start']);
  });

  it('in intermediate mode, fails when a cluster other than the target was rekeyed', () => {
    const initial = [
      { cluster: 'lab-1', roots: [A], caCert: 'i1' },
      { cluster: 'lab-2', roots: [A], caCert: 'j1' },
    ];
    const good = outcomeChecks(
      facts({
        mode: 'intermediate',
        cluster: 'lab-2',
        initial,
        final: [
          { cluster: 'lab-1', roots: [A], caCert: 'i1' },
          { cluster: 'lab-2', roots: [A], caCert: 'j2' },
        ],
        workloads: [
          { cluster: 'lab-1', pod: 'shop/app-01', issuer: 'i1' },
          { cluster: 'lab-2', pod: 'shop/app-01', issuer: 'j2' },
        ],
      }),
    );
    const bad = outcomeChecks(
      facts({
        mode: 'intermediate',
        cluster: 'lab-2',
        initial,
        final: [
          { cluster: 'lab-1', roots: [A], caCert: 'i2' },
          { cluster: 'lab-2', roots: [A], caCert: 'j2' },
        ],
        workloads: [
          { cluster: 'lab-1', pod: 'shop/app-01', issuer: 'i2' },
          { cluster: 'lab-2', pod: 'shop/app-01', issuer: 'j2' },
        ],
      }),
    );
    expect(failing(good)).toEqual([]);
    expect(failing(bad)).toEqual(['only-the-cluster-rekeyed']);
  });
});

describe("the checks of a rotation's workloads (issue 17)", () => {
  const pod = (uid: string, issuer: string) => ({ pod: `shop/app-01-${uid}`, uid, issuer });
  const move = (cluster: string, start: string, end: string, restarted = false): WorkloadMove => ({
    cluster,
    workload: 'shop/Deployment/app-01',
    start: [pod('u1', start)],
    end: [pod(restarted ? 'u2' : 'u1', end)],
    restarted,
  });
  const resignLab1: ClusterStrategy = {
    cluster: 'lab-1',
    strategy: 'resign',
    restartWorkloads: {
      strategy: 'resign',
      restarted: 0,
      resign: { pods: 1, moved: 1, waitedSeconds: 8, fallback: 0, fallbackWorkloads: [] },
    },
  };
  const names = (checks: { name: string }[]) => checks.map((check) => check.name);

  it('passes a resign rotation whose workloads moved i1 -> i2 in their own pods', () => {
    // Act
    const checks = outcomeChecks(
      facts({ workloadMoves: [move('lab-1', 'i1', 'i2')], strategies: [resignLab1] }),
    );

    // Assess
    expect(failing(checks)).toEqual([]);
    expect(names(checks)).toEqual(
      expect.arrayContaining(['workloads-moved-to-new-intermediate', 'resign-no-pods-restarted']),
    );
  });

  it('fails a resign rotation that restarted a pod, and one whose workload never left i1', () => {
    // Act
    const restarted = outcomeChecks(
      facts({ workloadMoves: [move('lab-1', 'i1', 'i2', true)], strategies: [resignLab1] }),
    );
    const stayed = outcomeChecks(
      facts({
        workloads: [{ cluster: 'lab-1', pod: 'shop/app-01-u1', issuer: 'i2' }],
        workloadMoves: [move('lab-1', 'i2', 'i2')],
        strategies: [resignLab1],
      }),
    );

    // Assess
    expect(failing(restarted)).toEqual(['resign-no-pods-restarted']);
    expect(failing(stayed)).toEqual(['workloads-moved-to-new-intermediate']);
  });

  it('expects restarts of a restart cluster: only the move is checked', () => {
    // Act
    const checks = outcomeChecks(
      facts({
        workloadMoves: [move('lab-1', 'i1', 'i2', true)],
        strategies: [{ cluster: 'lab-1', strategy: 'restart', restartWorkloads: { restarted: 1 } }],
      }),
    );

    // Assess
    expect(failing(checks)).toEqual([]);
    expect(names(checks)).not.toContain('resign-no-pods-restarted');
  });

  it('in intermediate mode, requires the move of the rekeyed cluster only', () => {
    // Prepare
    const intermediate = (lab2End: string) =>
      facts({
        mode: 'intermediate',
        cluster: 'lab-2',
        initial: [
          { cluster: 'lab-1', roots: [A], caCert: 'i1' },
          { cluster: 'lab-2', roots: [A], caCert: 'j1' },
        ],
        final: [
          { cluster: 'lab-1', roots: [A], caCert: 'i1' },
          { cluster: 'lab-2', roots: [A], caCert: 'j2' },
        ],
        workloads: [
          { cluster: 'lab-1', pod: 'shop/app-01-u1', issuer: 'i1' },
          { cluster: 'lab-2', pod: 'shop/app-01-u2', issuer: lab2End },
        ],
        workloadMoves: [move('lab-1', 'i1', 'i1'), move('lab-2', 'j1', lab2End, true)],
        strategies: [{ cluster: 'lab-2', strategy: 'restart', restartWorkloads: { restarted: 1 } }],
      });

    // Act
    const moved = outcomeChecks(intermediate('j2'));
    const stuck = outcomeChecks(intermediate('j1'));

    // Assess
    expect(failing(moved)).toEqual([]);
    expect(failing(stuck)).toEqual([
      'workloads-on-final-intermediate',
      'workloads-moved-to-new-intermediate',
    ]);
  });

  it('has no move checks for a rolled-back run: it ends where it started', () => {
    // Act
    const checks = outcomeChecks(
      facts({
        result: 'ROLLED_BACK',
        expected: 'ROLLED_BACK',
        final: [{ cluster: 'lab-1', roots: [A], caCert: 'i1' }],
        workloads: [{ cluster: 'lab-1', pod: 'shop/app-01-u2', issuer: 'i1' }],
        identicalToStart: { 'lab-1': true },
        workloadMoves: [move('lab-1', 'i1', 'i1', true)],
        strategies: [resignLab1],
      }),
    );

    // Assess
    expect(failing(checks)).toEqual([]);
    expect(names(checks)).not.toContain('workloads-moved-to-new-intermediate');
    expect(names(checks)).not.toContain('resign-no-pods-restarted');
  });
});
