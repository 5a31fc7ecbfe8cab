import { certificateFingerprint, parseCertificatesPem } from '../../../../lambdas/core/pki/index.js';
import {
  distributeBundleChange,
  reissueIntermediateChange,
  retireRootChange,
} from '../../../../lambdas/core/rotation/index.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';
import { cacertsOf, makeRotationFixtures, type RotationFixtures, rootsOf } from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

describe('distributeBundleChange', () => {
  it('adds the new root to root-cert and leaves every other file byte for byte', () => {
    // Prepare
    const current = f.start;
    // Act
    const change = distributeBundleChange(current, f.rootB.certificatePem);
    // Assess
    expect(change.write).toBe(true);
    expect(rootsOf(change.files)).toEqual([f.fpA, f.fpB]);
    expect(change.files['ca-cert.pem']).toBe(current['ca-cert.pem']);
    expect(change.files['ca-key.pem']).toBe(current['ca-key.pem']);
    expect(change.files['cert-chain.pem']).toBe(current['cert-chain.pem']);
  });

  it('writes nothing when root-cert already holds the new root (a re-run)', () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const change = distributeBundleChange(distributed, f.rootB.certificatePem);
    // Assess
    expect(change.write).toBe(false);
    expect(change.files).toBe(distributed);
  });

  it('keeps a leftover root so the change stays a superset istiod accepts', () => {
    // Prepare
    const withLeftover = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootX]);
    // Act
    const change = distributeBundleChange(withLeftover, f.rootB.certificatePem);
    // Assess
    expect(rootsOf(change.files)).toEqual([f.fpA, f.fpX, f.fpB]);
  });
});

describe('reissueIntermediateChange', () => {
  it('switches to the new intermediate with chain int_B + B and root-cert unchanged', () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const change = reissueIntermediateChange({
      cluster: 'c1',
      current: distributed,
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
    });
    // Assess
    expect(change.write).toBe(true);
    expect(certificateFingerprint(change.files['ca-cert.pem'])).toBe(
      certificateFingerprint(f.intB.certificatePem),
    );
    expect(change.files['ca-key.pem']).toBe(f.intB.privateKeyPem);
    expect(parseCertificatesPem(change.files['cert-chain.pem']).map((c) => c.fingerprint)).toEqual([
      certificateFingerprint(f.intB.certificatePem),
      f.fpB,
    ]);
    expect(rootsOf(change.files)).toEqual([f.fpA, f.fpB]);
  });

  it('writes nothing when the cluster already runs on that intermediate (a re-run)', () => {
    // Prepare
    const switched = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const change = reissueIntermediateChange({
      cluster: 'c1',
      current: switched,
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
    });
    // Assess
    expect(change.write).toBe(false);
  });

  it('resign: appends the issuer root once more to the bytes, so istiod pushes a changed anchor', () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const change = reissueIntermediateChange({
      cluster: 'c1',
      current: distributed,
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
      strategy: 'resign',
    });
    // Assess: A+B+B, the old bytes kept as the prefix, the set still {A, B}
    expect(change.write).toBe(true);
    expect(change.files['root-cert.pem']).toBe(`${distributed['root-cert.pem']}${f.rootB.certificatePem}`);
    expect(parseCertificatesPem(change.files['root-cert.pem']).map((c) => c.fingerprint)).toEqual([
      f.fpA,
      f.fpB,
      f.fpB,
    ]);
    expect(certificateFingerprint(change.files['ca-cert.pem'])).toBe(
      certificateFingerprint(f.intB.certificatePem),
    );
  });

  it('resign: keeps CRLF bytes of an operator file and starts the appended root on a new line', () => {
    // Prepare: A in CRLF without a final line break, then B as distribute appended it
    const crlfA = f.rootA.certificatePem.trimEnd().replace(/\n/g, '\r\n');
    const distributed = {
      ...cacertsOf(f.intA, f.rootA, [f.rootA]),
      'root-cert.pem': `${crlfA}\r\n${f.rootB.certificatePem}`.trimEnd(),
    };
    // Act
    const change = reissueIntermediateChange({
      cluster: 'c1',
      current: distributed,
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
      strategy: 'resign',
    });
    // Assess
    expect(change.files['root-cert.pem'].startsWith(distributed['root-cert.pem'])).toBe(true);
    expect(change.files['root-cert.pem'].endsWith(`\r\n${f.rootB.certificatePem}`)).toBe(true);
  });

  it('resign: a re-run on a cluster already on the intermediate appends nothing', () => {
    // Prepare: what the first run wrote
    const first = reissueIntermediateChange({
      cluster: 'c1',
      current: cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]),
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
      strategy: 'resign',
    }).files;
    // Act
    const again = reissueIntermediateChange({
      cluster: 'c1',
      current: first,
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
      strategy: 'resign',
    });
    // Assess
    expect(again.write).toBe(false);
    expect(again.files['root-cert.pem']).toBe(first['root-cert.pem']);
  });

  it('refuses while root-cert does not trust the issuing root', () => {
    // Prepare, Act
    const act = () =>
      reissueIntermediateChange({
        cluster: 'c1',
        current: f.start,
        intermediate: f.intB,
        issuerRootPem: f.rootB.certificatePem,
      });
    // Assess
    expect(act).toThrow(PreconditionFailed);
    expect(act).toThrow(/does not hold the issuing root.*distribute-bundle/);
  });
});

describe('retireRootChange', () => {
  it('leaves only the new root in root-cert once the intermediate chains to it', async () => {
    // Prepare
    const switched = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const change = await retireRootChange('c1', switched, f.rootB.certificatePem);
    // Assess
    expect(change.write).toBe(true);
    expect(rootsOf(change.files)).toEqual([f.fpB]);
    expect(change.files['cert-chain.pem']).toBe(switched['cert-chain.pem']);
  });

  it('writes nothing when root-cert already holds only the new root (a re-run)', async () => {
    // Prepare
    const retired = cacertsOf(f.intB, f.rootB, [f.rootB]);
    // Act
    const change = await retireRootChange('c1', retired, f.rootB.certificatePem);
    // Assess
    expect(change.write).toBe(false);
  });

  it('refuses while the intermediate still chains to the old root', async () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const act = retireRootChange('c1', distributed, f.rootB.certificatePem);
    // Assess
    await expect(act).rejects.toThrow(/does not chain to the new root.*reissue-intermediate/);
  });
});
