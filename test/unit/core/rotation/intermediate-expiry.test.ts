// check-expiry watches each primary's intermediate by what its istiod replicas report signing with.
import { describe, expect, it } from '@jest/globals';
import { watchedIntermediate } from '../../../../lambdas/core/rotation/intermediate-expiry.js';
import { VerificationFailed } from '../../../../lambdas/core/rotation-errors.js';

describe('watchedIntermediate', () => {
  it('watches the earliest expiry the replicas report: one still on an older intermediate expires first', () => {
    // Prepare
    const replicas = [
      { pod: 'istiod-a', certChainExpiry: 2_000_000_000 },
      { pod: 'istiod-b', certChainExpiry: 1_900_000_000 },
    ];
    // Act
    const watched = watchedIntermediate('lab-1', replicas);
    // Assess
    expect(watched).toEqual({ name: 'intermediate/lab-1', notAfter: new Date(1_900_000_000 * 1000) });
  });

  it('refuses with VerificationFailed naming the cluster and the gauge when no replica reports one', () => {
    // Prepare, Act
    let refused: unknown;
    try {
      watchedIntermediate('lab-1', [{ pod: 'istiod-a' }]);
    } catch (error) {
      refused = error;
    }
    // Assess
    expect(refused).toBeInstanceOf(VerificationFailed);
    expect(refused).toMatchObject({ cluster: 'lab-1', phase: 'check-expiry' });
    expect((refused as Error).message).toBe(
      'No running istiod in lab-1 reports citadel_server_cert_chain_expiry_timestamp (1 replica(s) answered): ' +
        'nothing says which intermediate it signs with. Check istiod in istio-system.',
    );
  });
});
