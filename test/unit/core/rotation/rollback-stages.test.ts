// The per-cluster rollback stages: each needs its cluster, and each decides with its own rule
// (rollback-changes.test.ts specifies the rules).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { distributeBundleChange } from '../../../../lambdas/core/rotation/distribute-bundle-change.js';
import { rollbackChangeFor, rollbackClusterOf } from '../../../../lambdas/core/rotation/rollback-stages.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';
import { cacertsOf, makeRotationFixtures, type RotationFixtures, rootsOf } from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

describe('rollbackClusterOf', () => {
  it('gives the cluster the event names', () => {
    expect(rollbackClusterOf('restore-trust', 'c1')).toBe('c1');
  });

  it.each([null, undefined, ''])(
    'refuses a per-cluster stage whose event names no cluster (%p)',
    (cluster) => {
      // Prepare, Act
      const act = () => rollbackClusterOf('restore-intermediate', cluster);
      // Assess
      expect(act).toThrow(PreconditionFailed);
      expect(act).toThrow(
        'The rollback stage restore-intermediate works on one cluster; the event names none.',
      );
    },
  );
});

describe('rollbackChangeFor', () => {
  it('restore-trust gives a retired cluster back what distribute-bundle wrote, from the staged root', () => {
    // Prepare
    const retired = { ...cacertsOf(f.intB, f.rootB, [f.rootB]), 'root-cert.pem': f.rootB.certificatePem };
    const distributed = distributeBundleChange(f.start, f.rootB.certificatePem).files;
    // Act
    const change = rollbackChangeFor('restore-trust', 'c1', f.start, f.rootB.certificatePem)(retired);
    // Assess
    expect(change.write).toBe(true);
    expect(change.files['root-cert.pem']).toBe(distributed['root-cert.pem']);
  });

  it('restore-intermediate brings the original intermediate back and keeps the roots', () => {
    // Prepare
    const reissued = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const change = rollbackChangeFor('restore-intermediate', 'c1', f.start, undefined)(reissued);
    // Assess
    expect(change.files['ca-cert.pem']).toBe(f.start['ca-cert.pem']);
    expect(rootsOf(change.files)).toEqual([f.fpA, f.fpB]);
  });

  it('restore-original writes the backup byte for byte', () => {
    // Prepare
    const restoredIntermediate = {
      ...f.start,
      'root-cert.pem': f.rootA.certificatePem + f.rootB.certificatePem,
    };
    // Act
    const change = rollbackChangeFor('restore-original', 'c1', f.start, undefined)(restoredIntermediate);
    // Assess
    expect(change).toMatchObject({ write: true, files: f.start });
  });

  it('restore-original refuses, naming the cluster, while the cluster runs another intermediate', () => {
    // Prepare
    const reissued = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const act = () => rollbackChangeFor('restore-original', 'c2', f.start, undefined)(reissued);
    // Assess
    expect(act).toThrow(/Cluster c2 does not run its original intermediate yet/);
  });
});
