// Where a rehearsal left each cluster, said in the operator's terms: as at start or changed, roots by
// letter, original or new intermediate; and the CA store's pending root.
import { describe, expect, it } from '@jest/globals';
import { clusterEndStates, describeEndState } from '../../../rehearsal/end-state.js';

describe('clusterEndStates', () => {
  it('names roots by letter, tells original from new intermediates and trusts the byte comparison', () => {
    // Act
    const states = clusterEndStates({
      initial: [
        { cluster: 'lab-1', roots: ['fa'], caCert: 'i1' },
        { cluster: 'lab-2', roots: ['fa'], caCert: 'i2' },
      ],
      final: [
        { cluster: 'lab-1', roots: ['fa'], caCert: 'i1' },
        { cluster: 'lab-2', roots: ['fa', 'fb', 'fc'], caCert: 'i2b' },
      ],
      identicalToStart: { 'lab-1': true, 'lab-2': false },
      rootLetters: { A: 'fa', B: 'fb' },
    });
    // Assess
    expect(states).toEqual([
      { cluster: 'lab-1', asAtStart: true, roots: ['A'], intermediate: 'original' },
      { cluster: 'lab-2', asAtStart: false, roots: ['A', 'B', 'fc'], intermediate: 'new' },
    ]);
    expect(describeEndState({ clusters: states, pendingRoot: true })).toEqual([
      'lab-1: as at start (roots A, original intermediate)',
      'lab-2: changed (roots A+B+fc, new intermediate)',
      'CA store: the staged root is still pending (AWSPENDING); docs/runbook.md, RollbackFailed',
    ]);
    expect(
      describeEndState({
        clusters: [],
        pendingRoot: false,
        rootKeys: { kms: ['Enabled', 'PendingDeletion'], importedKeySecret: 'deleting' },
      }),
    ).toEqual([
      'CA store: no pending root',
      "root keys: KMS Enabled, PendingDeletion; root A's key secret deleting",
    ]);
  });
});
