// The bench's CPU profile summary: a sample's time goes to the first rule its stack matches from the
// sampled frame outwards, bundled frames are told apart by the module esbuild wrote them from.
import { bundleModules, type CpuProfile, summarizeCpuProfile } from '../../../bench/cpu-profile-summary.js';

const BUNDLE = [
  '// bench/pki-worker.ts',
  'import x;',
  '// node_modules/asn1js/build/index.js',
  'function fromBER() {}',
  'function toBER() {}',
  '// node_modules/@peculiar/x509/build/x509.es.js',
  'class X509CertificateGenerator {}',
  '// lambdas/core/pki/certificate-authority.ts',
  'async function createIntermediateCa() {}',
  '// a comment that names no module',
].join('\n');
const URL = 'file:///tmp/bench/pki-worker.mjs';

/** A profile whose nodes are given as [id, parent, functionName, url, 0-based line]. */
function profileOf(
  nodes: readonly [number, number | undefined, string, string, number][],
  samples: readonly [number, number][],
): CpuProfile {
  return {
    nodes: nodes.map(([id, , functionName, url, lineNumber]) => ({
      id,
      callFrame: { functionName, url, lineNumber },
      children: nodes.filter(([, parent]) => parent === id).map(([child]) => child),
    })),
    samples: samples.map(([id]) => id),
    timeDeltas: samples.map(([, microseconds]) => microseconds),
  };
}

describe('bundleModules', () => {
  it("finds each module's first line from esbuild's path comments, and nothing else", () => {
    // Act
    const modules = bundleModules(BUNDLE);

    // Assess
    expect(modules).toEqual([
      { line: 0, path: 'bench/pki-worker.ts' },
      { line: 2, path: 'node_modules/asn1js/build/index.js' },
      { line: 5, path: 'node_modules/@peculiar/x509/build/x509.es.js' },
      { line: 7, path: 'lambdas/core/pki/certificate-authority.ts' },
    ]);
  });
});

describe('summarizeCpuProfile', () => {
  const modules = bundleModules(BUNDLE);
  const profile = profileOf(
    [
      [1, undefined, '(root)', '', -1],
      [2, 1, '', URL, 1],
      [3, 2, 'createIntermediateCa', URL, 8],
      [4, 3, 'fromBER', URL, 3],
      [5, 3, 'generateKeyPair', 'node:internal/crypto/keygen', 77],
      [6, 5, '', 'node:internal/util', 469],
      [7, 3, 'createPrivateKey', 'node:internal/crypto/keys', 622],
      [8, 1, '(garbage collector)', '', -1],
      [9, 3, 'X509CertificateGenerator', URL, 6],
      [10, 9, 'toBER', URL, 4],
      [11, 1, '(program)', '', -1],
    ],
    [
      [4, 300_000],
      [6, 100_000],
      [5, 50_000],
      [7, 200_000],
      [8, 100_000],
      [10, 150_000],
      [9, 80_000],
      [3, 10_000],
      [11, 5_000],
    ],
  );

  it('sums each sample into the first cost its stack matches, from the sampled frame outwards', () => {
    // Act
    const summary = summarizeCpuProfile(profile, { url: '/pki-worker.mjs', modules });

    // Assess: toBER inside the certificate generator is ASN.1 work; the generator's own frame is not
    expect(summary.totalMs).toBe(995);
    expect(summary.costs).toEqual([
      { what: 'ASN.1 encoding and parsing (asn1js, @peculiar/asn1-*, @peculiar/utils)', ms: 450 },
      { what: 'key encoding: PEM/PKCS#8/SPKI import and export (node crypto)', ms: 200 },
      { what: 'key generation (node crypto)', ms: 150 },
      { what: 'garbage collection', ms: 100 },
      {
        what: 'certificate building (@peculiar/x509 and its runtime: tsyringe, tslib, reflect-metadata)',
        ms: 80,
      },
      { what: 'meshtrust PKI core', ms: 10 },
      // (program) is under 1% of the total: summed into other
      { what: 'other', ms: 5 },
    ]);
  });

  it("takes no frame of another file for the bundle's, whatever its line", () => {
    // Prepare: the same stack, but as another script's frames
    const elsewhere = summarizeCpuProfile(profile, { url: '/other.mjs', modules });

    // Assess: no module, so nothing is ASN.1 or meshtrust code; node's own frames still count
    expect(elsewhere.costs.map((cost) => cost.what)).not.toContain('meshtrust PKI core');
    expect(elsewhere.costs.find((cost) => cost.what.startsWith('key generation'))?.ms).toBe(150);
    expect(elsewhere.costs.find((cost) => cost.what === 'other')?.ms).toBe(545);
  });
});
