// reissue-intermediate switches a cluster only under a root its root-cert.pem trusts already; the rule
// is checked before an intermediate is stored and again in the change itself.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { issuerTrustFinding, requireIssuerTrusted } from '../../../../lambdas/core/rotation/issuer-trust.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';
import { makeRotationFixtures, type RotationFixtures } from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

describe('issuerTrustFinding', () => {
  it('is compliant for a root-cert.pem that holds the issuing root (distributed: A+B, issuer B)', () => {
    // Prepare
    const distributed = f.rootA.certificatePem + f.rootB.certificatePem;
    // Act
    const finding = issuerTrustFinding('c1', distributed, f.fpB);
    // Assess
    expect(finding).toMatchObject({ rule: 'issuer-root-trusted', status: 'compliant', cluster: 'c1' });
  });

  it('is non-compliant for a root-cert.pem without the issuing root, and says what to run first', () => {
    // Prepare, Act
    const finding = issuerTrustFinding('c1', f.start['root-cert.pem'], f.fpB);
    // Assess
    expect(finding).toMatchObject({ status: 'non-compliant', cluster: 'c1', file: 'root-cert.pem' });
    expect(finding.reason).toMatch(
      new RegExp(`root-cert.pem of cluster c1 does not hold the issuing root ${f.fpB};.*distribute-bundle`),
    );
  });
});

describe('requireIssuerTrusted', () => {
  it('passes a cluster that trusts the issuing root', () => {
    // Prepare, Act
    const act = () => requireIssuerTrusted('c1', f.start['root-cert.pem'], f.fpA);
    // Assess
    expect(act).not.toThrow();
  });

  it('refuses with PreconditionFailed of reissue-intermediate, naming the cluster, when it does not', () => {
    // Prepare, Act
    let refused: unknown;
    try {
      requireIssuerTrusted('c1', f.start['root-cert.pem'], f.fpB);
    } catch (error) {
      refused = error;
    }
    // Assess
    expect(refused).toBeInstanceOf(PreconditionFailed);
    expect(refused).toMatchObject({ cluster: 'c1', phase: 'reissue-intermediate' });
    expect((refused as Error).message).toMatch(
      /does not hold the issuing root.*verify-trust for every cluster/,
    );
  });
});
