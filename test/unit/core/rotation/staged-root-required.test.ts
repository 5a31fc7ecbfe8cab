// distribute-bundle and retire-root write the staged root: an event without one is refused before anything is read.
import { describe, expect, it } from '@jest/globals';
import { requireStagedRoot } from '../../../../lambdas/core/rotation/staged-root-required.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';

describe('requireStagedRoot', () => {
  it('passes the staged root on when the event has one', () => {
    // Prepare
    const staged = { versionId: 'root-B' };
    // Act
    const root = requireStagedRoot('distribute-bundle', 'c1', staged);
    // Assess
    expect(root).toBe(staged);
  });

  it.each(['distribute-bundle', 'retire-root'] as const)(
    'refuses %s without a staged root with PreconditionFailed naming phase and cluster',
    (phase) => {
      // Prepare, Act
      let refused: unknown;
      try {
        requireStagedRoot(phase, 'c1', null);
      } catch (error) {
        refused = error;
      }
      // Assess
      expect(refused).toBeInstanceOf(PreconditionFailed);
      expect(refused).toMatchObject({ cluster: 'c1', phase });
      expect((refused as Error).message).toBe(
        `${phase} needs the staged root (stagedRoot), got null; it runs only in scheduled and emergency mode.`,
      );
    },
  );
});
