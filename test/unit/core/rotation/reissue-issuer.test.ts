// Which root reissue-intermediate issues under, and how the cluster's proxies move onto the new intermediate.
import { describe, expect, it } from '@jest/globals';
import { type ReissueEvent, reissueIssuerOf } from '../../../../lambdas/core/rotation/reissue-issuer.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';

const current = { versionId: 'root-A' };
const staged = { versionId: 'root-B' };

function event(overrides: Partial<ReissueEvent<{ versionId: string }>>): ReissueEvent<{ versionId: string }> {
  return {
    mode: 'scheduled',
    cluster: 'c1',
    currentRoot: current,
    stagedRoot: staged,
    strategy: 'resign',
    ...overrides,
  };
}

describe('reissueIssuerOf', () => {
  it.each(['scheduled', 'emergency'] as const)(
    '%s mode issues under the staged root with the plan’s strategy',
    (mode) => {
      // Prepare, Act
      const issuer = reissueIssuerOf(event({ mode }));
      // Assess
      expect(issuer).toEqual({ issuerVersion: staged, strategy: 'resign' });
    },
  );

  it('intermediate mode issues under the current root and restarts, whatever the plan says', () => {
    // Prepare, Act
    const issuer = reissueIssuerOf(event({ mode: 'intermediate', stagedRoot: null, strategy: 'resign' }));
    // Assess
    expect(issuer).toEqual({ issuerVersion: current, strategy: 'restart' });
  });

  it('refuses a root rotation whose event has no staged root', () => {
    // Prepare, Act
    const act = () => reissueIssuerOf(event({ mode: 'emergency', stagedRoot: null }));
    // Assess
    expect(act).toThrow(PreconditionFailed);
    expect(act).toThrow(
      "reissue-intermediate in emergency mode needs the staged root (stagedRoot), got null. Check the state's Parameters.",
    );
  });
});
