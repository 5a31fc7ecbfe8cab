// The bench's CPU profile summary: a sample's time goes to the first rule its stack matches from the
// sampled frame outwards, bundled frames are told apart by the module esbuild wrote them from.
import {
  bundleModules,
  type CpuProfile,
  type FrameCost,
  LIKE_CALLEES,
  summarizeCpuProfile,
} from '../../../bench/cpu-profile-summary.js';
import { pkiCosts } from '../../../bench/pki-profile-costs.js';

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
    const summary = summarizeCpuProfile(profile, pkiCosts({ url: '/pki-worker.mjs', modules }));

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
    const elsewhere = summarizeCpuProfile(profile, pkiCosts({ url: '/other.mjs', modules }));

    // Assess: no module, so nothing is ASN.1 or meshtrust code; node's own frames still count
    expect(elsewhere.costs.map((cost) => cost.what)).not.toContain('meshtrust PKI core');
    expect(elsewhere.costs.find((cost) => cost.what.startsWith('key generation'))?.ms).toBe(150);
    expect(elsewhere.costs.find((cost) => cost.what === 'other')?.ms).toBe(545);
  });
});

type FrameCostOf = ReturnType<FrameCost>;

describe('summarizeCpuProfile with a cost of its own', () => {
  // A wrapper (w) whose own time is its callees': it runs module a (twice as long) and module b.
  const profile: CpuProfile = {
    ...profileOf(
      [
        [1, undefined, '(root)', '', -1],
        [2, 1, 'top', URL, 0],
        [3, 2, 'w', URL, 1],
        [4, 3, 'a', URL, 2],
        [5, 3, 'b', URL, 3],
        [6, 2, 'lonely', URL, 4],
        [7, 6, 'w', URL, 1],
      ],
      [
        [4, 200],
        [5, 100],
        [3, 300],
        [7, 50],
        [2, 10],
      ],
    ),
    startTime: 1_000,
  };
  const costs: Readonly<Record<string, FrameCostOf>> = {
    a: 'package a',
    b: 'package b',
    w: LIKE_CALLEES,
    lonely: 'package lonely',
  };
  const costOf: FrameCost = (frame) => costs[frame.functionName];

  it("shares a wrapper's own time out as its callees' samples were, or gives it to its caller", () => {
    // Act
    const summary = summarizeCpuProfile(profile, costOf);

    // Assess: w's 300 µs go 2:1 to a and b; the w below lonely ran nothing, so its time is lonely's
    expect(summary.costs).toEqual([
      { what: 'package a', ms: 0.4 },
      { what: 'package b', ms: 0.2 },
      { what: 'package lonely', ms: 0.05 },
      { what: 'other', ms: 0.01 },
    ]);
    expect(summary.totalMs).toBeCloseTo(0.66, 10);
  });

  it('counts only the samples taken in the window, by the profile start and the deltas', () => {
    // Act: samples are at 1200, 1300, 1600, 1650 and 1660 µs
    const summary = summarizeCpuProfile(profile, costOf, { fromUs: 1_250, toUs: 1_650 });

    // Assess: b's sample, the wrapper's (b alone ran below it in the window) and the lonely wrapper's
    expect(summary.totalMs).toBeCloseTo(0.45, 10);
    expect(summary.costs).toEqual([
      { what: 'package b', ms: 0.4 },
      { what: 'package lonely', ms: 0.05 },
    ]);
  });

  it('gives a cost named unless a caller is to the caller that names one, else keeps it', () => {
    // Prepare: node loading a built-in, once for module a, once for no code of the bundle
    const loading = profileOf(
      [
        [1, undefined, '(root)', '', -1],
        [2, 1, 'a', URL, 2],
        [3, 2, 'compileForInternalLoader', 'node:internal/bootstrap/realm', 380],
        [4, 1, 'compileForInternalLoader', 'node:internal/bootstrap/realm', 380],
      ],
      [
        [3, 700],
        [4, 300],
      ],
    );
    const builtIns: FrameCost = (frame) =>
      frame.functionName === 'a'
        ? 'package a'
        : frame.url.startsWith('node:')
          ? { unlessCallerNamed: 'built-ins' }
          : undefined;

    // Act
    const summary = summarizeCpuProfile(loading, builtIns);

    // Assess
    expect(summary.costs).toEqual([
      { what: 'package a', ms: 0.7 },
      { what: 'built-ins', ms: 0.3 },
    ]);
  });

  it('refuses a window on a profile that does not say when it started', () => {
    // Act
    const summarizing = () =>
      summarizeCpuProfile({ ...profile, startTime: undefined }, costOf, { fromUs: 0, toUs: 1 });

    // Assess
    expect(summarizing).toThrow(/without a startTime/);
  });
});
