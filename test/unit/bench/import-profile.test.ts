// The cold import profile as the bench reads it: what each frame of a bundle's import counts for (by the
// bundle's source map and node's own function names), and the table and the "what bounds it" line
// docs/performance.md prints. test/integration/bench/handler-bench.test.ts profiles a real import.
import { LIKE_CALLEES, type ProfileSummary } from '../../../bench/cpu-profile-summary.js';
import type { HandlersProfile } from '../../../bench/handler-profile.js';
import {
  BUILT_INS,
  COMPILING,
  fitLine,
  GARBAGE_COLLECTION,
  importBoundLine,
  importCosts,
  importProfileTable,
  READING,
  TOP_LEVEL,
} from '../../../bench/import-profile.js';

const BUNDLE_URL = 'file:///tmp/bench/asset.1/index.mjs';

describe('importCosts', () => {
  // Line 1 of the bundle: a function of the package from column 10, one of ours from column 40.
  const costOf = importCosts({
    url: '/index.mjs',
    sourceMap: JSON.stringify({
      version: 3,
      sources: ['node_modules/undici/lib/core.js', 'lambdas/handlers/preflight.ts'],
      names: [],
      mappings: ';UAAA,8BCAA',
    }),
    owners: new Map([['node_modules/undici/lib/core.js', '@peculiar/x509']]),
  });
  const bundleFrame = (lineNumber: number, columnNumber: number) => ({
    functionName: 'f',
    url: BUNDLE_URL,
    lineNumber,
    columnNumber,
  });
  const nodeFrame = (functionName: string, url = 'node:internal/modules/esm/utils') => ({
    functionName,
    url,
    lineNumber: 10,
    columnNumber: 2,
  });

  it("counts a bundle frame for its source's owner, or for the source where none is known", () => {
    expect(costOf(bundleFrame(1, 10))).toBe('@peculiar/x509');
    expect(costOf(bundleFrame(1, 40))).toBe('lambdas/handlers/preflight.ts');
  });

  it("tells the bundle's top level from esbuild's wrappers, whose time is their callees'", () => {
    expect(costOf(bundleFrame(0, 0))).toBe(TOP_LEVEL);
    expect(costOf(bundleFrame(1, 5))).toBe(LIKE_CALLEES);
  });

  it("names node's compiling, reading and GC, built-in loading unless a caller is named, and leaves its other frames to their callers", () => {
    expect(costOf(nodeFrame('compileSourceTextModule'))).toBe(COMPILING);
    expect(costOf(nodeFrame('decode', 'node:internal/encoding'))).toBe(READING);
    expect(costOf(nodeFrame('compileForInternalLoader', 'node:internal/bootstrap/realm'))).toEqual({
      unlessCallerNamed: BUILT_INS,
    });
    expect(costOf({ ...nodeFrame('(garbage collector)'), url: '' })).toBe(GARBAGE_COLLECTION);
    expect(costOf(nodeFrame('from', 'node:buffer'))).toBeUndefined();
    // Another script's frame, even at a mapped position of the bundle, is not the bundle's.
    expect(costOf({ ...bundleFrame(1, 10), url: 'file:///tmp/bench/handler-probe.mjs' })).toBeUndefined();
  });
});

describe('fitLine', () => {
  it('finds the least-squares line through the points', () => {
    const { intercept, slope } = fitLine([
      [1, 40],
      [2, 60],
      [3, 80],
      [3, 84],
      [1, 36],
    ]);
    expect(slope).toBeCloseTo(22, 10);
    expect(intercept).toBeCloseTo(16, 10);
  });

  it('refuses points that share one x', () => {
    expect(() =>
      fitLine([
        [2, 1],
        [2, 3],
      ]),
    ).toThrow(/two different x/);
  });
});

/** A summary whose costs are given in ms; the total is their sum. */
function summaryOf(costs: Readonly<Record<string, number>>): ProfileSummary {
  const list = Object.entries(costs).map(([what, ms]) => ({ what, ms }));
  return { totalMs: list.reduce((sum, cost) => sum + cost.ms, 0), costs: list };
}

const PROFILE: HandlersProfile = {
  bundles: {
    'acquire-lock': { bytes: 1_000_000, sameAsAsset: true, contributors: [] },
    preflight: { bytes: 3_000_000, sameAsAsset: true, contributors: [] },
  },
  imports: {
    'acquire-lock': summaryOf({ [COMPILING]: 40, 'AWS SDK': 30, other: 10 }),
    preflight: summaryOf({ [COMPILING]: 100, '@peculiar/x509': 50, 'AWS SDK': 30, other: 20 }),
  },
};
const HANDLERS = [
  { handler: 'acquire-lock', bundleBytes: 1_000_000, coldImportMs: 80 },
  { handler: 'preflight', bundleBytes: 3_000_000, coldImportMs: 210 },
];

describe('importProfileTable', () => {
  it('puts compiling first, then the largest costs over all handlers, and the rest as other', () => {
    const table = importProfileTable(PROFILE.imports ?? {});

    expect(table.columns).toEqual([
      'handler',
      'import, profiled',
      'compiling',
      'AWS SDK',
      '@peculiar/x509',
      'other',
    ]);
    expect(table.rows).toEqual([
      ['acquire-lock', '80 ms', '40 ms', '30 ms', '-', '10 ms'],
      ['preflight', '200 ms', '100 ms', '30 ms', '50 ms', '20 ms'],
    ]);
  });
});

describe('importBoundLine', () => {
  it('says what share compiling is, how it grows with the bytes, and which package runs longest', () => {
    const line = importBoundLine(PROFILE, HANDLERS, 200);

    // Compiling: 40 ms at 1 MB and 100 ms at 3 MB, a line of 10 ms plus 30 ms per MB
    expect(line).toContain('1 cold import(s) over 200 ms profiled (preflight)');
    expect(line).toContain('is 50% of each');
    expect(line).toContain('about 10 ms plus 30 ms per MB (a line through all 2 profiled bundles)');
    expect(line).toContain(
      'the package whose code (with what it imports) runs longest in each: @peculiar/x509 50 ms',
    );
  });

  it('names a package, never our own code, the top level or garbage collection', () => {
    const line = importBoundLine(
      {
        ...PROFILE,
        imports: {
          ...PROFILE.imports,
          preflight: summaryOf({
            [COMPILING]: 100,
            meshtrust: 90,
            [TOP_LEVEL]: 80,
            [GARBAGE_COLLECTION]: 70,
            zod: 12,
            'AWS SDK': 11,
          }),
        },
      },
      HANDLERS,
      200,
    );

    expect(line).toContain('runs longest in each: zod 12 ms.');
  });

  it('says nothing when no import over the target was profiled', () => {
    expect(importBoundLine(PROFILE, HANDLERS, 250)).toBeUndefined();
    expect(importBoundLine({ ...PROFILE, imports: undefined }, HANDLERS, 200)).toBeUndefined();
  });

  it('leaves the line out with bundles of one size only', () => {
    const line = importBoundLine(
      { ...PROFILE, imports: { preflight: PROFILE.imports?.preflight as ProfileSummary } },
      HANDLERS,
      200,
    );

    expect(line).toContain('is 50% of each');
    expect(line).not.toContain('per MB');
  });
});
