// A forward cacerts write still in flight when its Map failed must not land behind the rollback of its
// own execution: the rollback's fence on the Secret names that execution, and the write refuses on it.
import { describe, expect, it } from '@jest/globals';
import { refuseWriteOfRolledBackRun } from '../../../../lambdas/core/rotation/rollback-fence.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';

const write = { cluster: 'lab-1', phase: 'retire-root', executionName: 'rotate-b' };

describe('refuseWriteOfRolledBackRun', () => {
  it('lets a write through on a Secret no rollback fenced', () => {
    // Prepare, Act, Assess
    expect(() => refuseWriteOfRolledBackRun({ ...write, rolledBack: undefined })).not.toThrow();
  });

  it('lets the next rotation write on a Secret fenced by an earlier rotation’s rollback', () => {
    // Prepare, Act, Assess
    expect(() => refuseWriteOfRolledBackRun({ ...write, rolledBack: 'rotate-a' })).not.toThrow();
  });

  it.each(['distribute-bundle', 'reissue-intermediate', 'retire-root'])(
    'refuses %s of the execution being rolled back with PreconditionFailed naming cluster and phase',
    (phase) => {
      // Prepare, Act
      let refused: unknown;
      try {
        refuseWriteOfRolledBackRun({ ...write, phase, rolledBack: 'rotate-b' });
      } catch (error) {
        refused = error;
      }
      // Assess: not a TransientError, so no retry turns it into a write.
      expect(refused).toBeInstanceOf(PreconditionFailed);
      expect(refused).toMatchObject({ name: 'PreconditionFailed', cluster: 'lab-1', phase });
      expect((refused as Error).message).toContain('cluster lab-1');
      expect((refused as Error).message).toContain('the run is being rolled back');
      expect((refused as Error).message).toContain('Nothing was written');
    },
  );
});
