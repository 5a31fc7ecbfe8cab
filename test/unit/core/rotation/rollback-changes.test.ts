import {
  distributeBundleChange,
  restoreIntermediateChange,
  restoreOriginalChange,
  restoreTrustChange,
  runsOriginalIntermediate,
} from '../../../../lambdas/core/rotation/index.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';
import { cacertsOf, makeRotationFixtures, type RotationFixtures, rootsOf } from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

describe('restoreTrustChange (rollback stage 1)', () => {
  it("gives a retired cluster back distribute's text, which holds both texts istiod may have last loaded", () => {
    // Prepare: the start's text in CRLF with a text line (bytes matter up to Istio 1.29), distributed,
    // then retired to B's PEM as staged.
    const startText = `subject=CN = root A\r\n${f.rootA.certificatePem.replace(/\n/g, '\r\n')}`;
    const start = { ...f.start, 'root-cert.pem': startText };
    const distributed = distributeBundleChange(start, f.rootB.certificatePem).files;
    const retired = { ...cacertsOf(f.intB, f.rootB, [f.rootB]), 'root-cert.pem': f.rootB.certificatePem };
    // Act
    const change = restoreTrustChange(retired, start, f.rootB.certificatePem);
    // Assess: istiod accepts it from either file it may hold (one contains the other, plain bytes), and
    // restore-original's write of the start is a part of it.
    const written = Buffer.from(change.files['root-cert.pem']);
    expect(change.write).toBe(true);
    expect(change.files['root-cert.pem']).toBe(distributed['root-cert.pem']);
    expect(written.includes(Buffer.from(distributed['root-cert.pem']))).toBe(true);
    expect(written.includes(Buffer.from(retired['root-cert.pem']))).toBe(true);
    expect(written.includes(Buffer.from(startText))).toBe(true);
    expect(rootsOf(change.files)).toEqual([f.fpA, f.fpB]);
    expect(change.files['ca-cert.pem']).toBe(retired['ca-cert.pem']);
  });

  it('appends the start to the current text when it does not know the staged root', () => {
    // Prepare
    const retired = cacertsOf(f.intB, f.rootB, [f.rootB]);
    // Act
    const change = restoreTrustChange(retired, f.start);
    // Assess
    expect(change.write).toBe(true);
    expect(rootsOf(change.files)).toEqual([f.fpB, f.fpA]);
    expect(change.files['ca-cert.pem']).toBe(retired['ca-cert.pem']);
  });

  it('writes nothing on a cluster that trusts both already (distributed)', () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const change = restoreTrustChange(distributed, f.start);
    // Assess
    expect(change.write).toBe(false);
  });

  it('writes nothing on an untouched cluster', () => {
    // Prepare, Act
    const change = restoreTrustChange(f.start, f.start);
    // Assess
    expect(change.write).toBe(false);
  });
});

describe('restoreIntermediateChange (rollback stage 2)', () => {
  it('brings the original intermediate back and keeps root-cert as it is', () => {
    // Prepare
    const switched = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const change = restoreIntermediateChange('c1', switched, f.start);
    // Assess
    expect(change.write).toBe(true);
    expect(change.files['ca-cert.pem']).toBe(f.start['ca-cert.pem']);
    expect(change.files['ca-key.pem']).toBe(f.start['ca-key.pem']);
    expect(change.files['cert-chain.pem']).toBe(f.start['cert-chain.pem']);
    expect(change.files['root-cert.pem']).toBe(switched['root-cert.pem']);
  });

  it('writes nothing when the cluster already runs its original intermediate', () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const change = restoreIntermediateChange('c1', distributed, f.start);
    // Assess
    expect(runsOriginalIntermediate(distributed, f.start)).toBe(true);
    expect(change.write).toBe(false);
  });

  it('refuses before restore-trust gave the start roots back', () => {
    // Prepare
    const retired = cacertsOf(f.intB, f.rootB, [f.rootB]);
    // Act
    const act = () => restoreIntermediateChange('c1', retired, f.start);
    // Assess
    expect(act).toThrow(PreconditionFailed);
    expect(act).toThrow(/restore-trust/);
  });
});

describe('restoreOriginalChange (rollback stage 3)', () => {
  it('writes the backup back byte for byte', () => {
    // Prepare
    const distributed = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    // Act
    const change = restoreOriginalChange('c1', distributed, f.start);
    // Assess
    expect(change.write).toBe(true);
    expect(change.files).toEqual(f.start);
  });

  it('writes nothing when cacerts is byte-identical to the backup already', () => {
    // Prepare
    const current = { ...f.start };
    // Act
    const change = restoreOriginalChange('c1', current, f.start);
    // Assess
    expect(change.write).toBe(false);
  });

  it('refuses a root-cert that holds the same roots in other bytes, until restore-trust appended the original', () => {
    // Prepare: someone re-encoded root-cert.pem; neither file contains the other, which istiod up to 1.29 drops
    const reencoded = { ...f.start, 'root-cert.pem': f.start['root-cert.pem'].replace(/\n/g, '\r\n') };
    // Act
    const act = () => restoreOriginalChange('c1', reencoded, f.start);
    const trust = restoreTrustChange(reencoded, f.start);
    const change = restoreOriginalChange('c1', trust.files, f.start);
    // Assess
    expect(act).toThrow(/byte for byte.*restore-trust/);
    expect(trust.write).toBe(true);
    expect(change.write).toBe(true);
    expect(change.files).toEqual(f.start);
  });

  it('refuses while the cluster still runs the new intermediate', () => {
    // Prepare
    const switched = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const act = () => restoreOriginalChange('c1', switched, f.start);
    // Assess
    expect(act).toThrow(/restore-intermediate/);
  });

  it('refuses a root set change that is neither subset nor superset', () => {
    // Prepare: original intermediate, but root-cert {X} (restore-trust skipped on a strange cluster)
    const strange = { ...f.start, 'root-cert.pem': cacertsOf(f.intA, f.rootA, [f.rootX])['root-cert.pem'] };
    // Act
    const act = () => restoreOriginalChange('c1', strange, f.start);
    // Assess
    expect(act).toThrow(/restore-trust/);
  });
});
