// root-cert.pem as bytes through a whole rotation and its rollbacks, starting from originals that a
// re-encoding would change: Istio up to 1.29 takes a changed root-cert.pem only when one file's raw
// bytes contain the other's. The containment checks below use Buffer.indexOf, not meshtrust's helpers.
import type { CacertsFiles } from '../../../../lambdas/core/pki/index.js';
import {
  distributeBundleChange,
  reissueIntermediateChange,
  restoreIntermediateChange,
  restoreOriginalChange,
  restoreTrustChange,
  retireRootChange,
} from '../../../../lambdas/core/rotation/index.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';
import {
  makeRotationFixtures,
  originalRootCertFiles,
  type RotationFixtures,
  rootsOf,
} from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** Where `inner` starts inside `outer`, byte for byte, or -1. */
const offsetOf = (outer: string, inner: string) => bytes(outer).indexOf(bytes(inner));

/** The cluster's start state with its own original root-cert.pem. */
function startWith(original: string): CacertsFiles {
  return { ...f.start, 'root-cert.pem': original };
}

function distributed(start: CacertsFiles): CacertsFiles {
  return distributeBundleChange(start, f.rootB.certificatePem).files;
}

/** What distribute-bundle must leave, written out by hand: the original, a line break if missing, B. */
function distributedByHand(start: CacertsFiles): CacertsFiles {
  const original = start['root-cert.pem'];
  const separator = original.endsWith('\n') ? '' : original.includes('\r\n') ? '\r\n' : '\n';
  return { ...start, 'root-cert.pem': original + separator + f.rootB.certificatePem };
}

function switched(start: CacertsFiles): CacertsFiles {
  return reissueIntermediateChange({
    cluster: 'c1',
    current: distributedByHand(start),
    intermediate: f.intB,
    issuerRootPem: f.rootB.certificatePem,
  }).files;
}

const originals = () => originalRootCertFiles(f.rootA);

describe.each([
  'CRLF line ends',
  'subject= and issuer= lines before the PEM block (openssl x509 -subject -issuer)',
  'no trailing newline',
])('an original root-cert.pem with %s', (style) => {
  let original: string;
  beforeAll(() => {
    original = (originals().find(([name]) => name === style) as [string, string])[1];
  });

  it('distribute-bundle appends B after the original bytes, which it leaves untouched', () => {
    // Prepare
    const start = startWith(original);
    // Act
    const change = distributeBundleChange(start, f.rootB.certificatePem);
    // Assess
    const written = change.files['root-cert.pem'];
    expect(change.write).toBe(true);
    expect(offsetOf(written, original)).toBe(0);
    const bOffset = offsetOf(written, f.rootB.certificatePem);
    expect(bOffset).toBeGreaterThanOrEqual(bytes(original).length);
    expect(bytes(written)[bOffset - 1]).toBe(0x0a); // B's BEGIN line starts a line
    expect(rootsOf(change.files)).toEqual([f.fpA, f.fpB]);
  });

  it('distribute-bundle retried on its own result appends nothing', () => {
    // Prepare
    const once = distributed(startWith(original));
    // Act
    const again = distributeBundleChange(once, f.rootB.certificatePem);
    // Assess
    expect(again.write).toBe(false);
    expect(bytes(again.files['root-cert.pem']).equals(bytes(once['root-cert.pem']))).toBe(true);
  });

  it('reissue-intermediate leaves root-cert.pem byte-identical', () => {
    // Prepare
    const before = distributedByHand(startWith(original));
    // Act
    const change = reissueIntermediateChange({
      cluster: 'c1',
      current: before,
      intermediate: f.intB,
      issuerRootPem: f.rootB.certificatePem,
    });
    // Assess
    expect(change.write).toBe(true);
    expect(bytes(change.files['root-cert.pem']).equals(bytes(before['root-cert.pem']))).toBe(true);
  });

  it("retire-root writes B's PEM as staged, which the previous root-cert.pem contains", async () => {
    // Prepare
    const before = switched(startWith(original));
    // Act
    const change = await retireRootChange('c1', before, f.rootB.certificatePem);
    // Assess
    const written = change.files['root-cert.pem'];
    expect(change.write).toBe(true);
    expect(bytes(written).equals(bytes(f.rootB.certificatePem))).toBe(true);
    expect(offsetOf(before['root-cert.pem'], written)).toBeGreaterThan(0);
  });

  it('rollback after retire: restore-trust appends the original bytes, restore-original writes a part of that', async () => {
    // Prepare
    const start = startWith(original);
    const retired = (await retireRootChange('c1', switched(start), f.rootB.certificatePem)).files;
    // Act
    const trust = restoreTrustChange(retired, start);
    const intermediate = restoreIntermediateChange('c1', trust.files, start);
    const restored = restoreOriginalChange('c1', intermediate.files, start);
    // Assess
    expect(trust.write).toBe(true);
    expect(offsetOf(trust.files['root-cert.pem'], retired['root-cert.pem'])).toBe(0);
    expect(offsetOf(trust.files['root-cert.pem'], original)).toBeGreaterThan(0);
    expect(bytes(intermediate.files['root-cert.pem']).equals(bytes(trust.files['root-cert.pem']))).toBe(true);
    expect(restored.write).toBe(true);
    expect(bytes(restored.files['root-cert.pem']).equals(bytes(original))).toBe(true);
    expect(offsetOf(intermediate.files['root-cert.pem'], restored.files['root-cert.pem'])).toBeGreaterThan(0);
  });

  it('rollback after distribute: restore-trust writes nothing, restore-original writes the leading part back', () => {
    // Prepare
    const start = startWith(original);
    const before = distributedByHand(start);
    // Act
    const trust = restoreTrustChange(before, start);
    const restored = restoreOriginalChange('c1', before, start);
    // Assess
    expect(trust.write).toBe(false);
    expect(bytes(restored.files['root-cert.pem']).equals(bytes(original))).toBe(true);
    expect(offsetOf(before['root-cert.pem'], restored.files['root-cert.pem'])).toBe(0);
  });
});

describe('a staged root whose stored PEM is not canonical (CRLF line ends)', () => {
  it('is appended and later retired exactly as stored, so the retired file is part of the previous one', async () => {
    // Prepare
    const storedB = f.rootB.certificatePem.replace(/\n/g, '\r\n');
    // Act
    const distribute = distributeBundleChange(f.start, storedB);
    const reissue = reissueIntermediateChange({
      cluster: 'c1',
      current: distribute.files,
      intermediate: f.intB,
      issuerRootPem: storedB,
    });
    const retire = await retireRootChange('c1', reissue.files, storedB);
    // Assess
    expect(offsetOf(distribute.files['root-cert.pem'], storedB)).toBeGreaterThan(0);
    expect(bytes(retire.files['root-cert.pem']).equals(bytes(storedB))).toBe(true);
    expect(offsetOf(reissue.files['root-cert.pem'], retire.files['root-cert.pem'])).toBeGreaterThan(0);
  });
});

describe('root-cert.pem bytes someone else re-encoded mid-rotation', () => {
  it('retire-root refuses when B is trusted but not in the bytes it was staged with', async () => {
    // Prepare: the distributed file rewritten with CRLF line ends by another tool
    const before = switched(f.start);
    const reencoded = { ...before, 'root-cert.pem': before['root-cert.pem'].replace(/\n/g, '\r\n') };
    // Act
    const act = retireRootChange('c1', reencoded, f.rootB.certificatePem);
    // Assess
    await expect(act).rejects.toThrow(PreconditionFailed);
    await expect(act).rejects.toThrow(/does not contain the new root .* in the bytes it was staged with/);
  });
});
