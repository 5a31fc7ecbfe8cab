// The handlers' bundle profile as the bench reads it: bytes split by what our code imports, the table
// and the lines docs/performance.md prints for a missed target. Pure parts only: test/infra builds the
// real bundles (cdk-synth.test.ts compares handlerBuildOptions' bundle with the deployed one).
import type { Metafile } from 'esbuild';
import { renderPerformanceDoc } from '../../../bench/bench-report.js';
import type { HandlersSectionFigures } from '../../../bench/handler-bench.js';
import {
  contributorsOf,
  type HandlersProfile,
  profileBoundLines,
  profileTable,
} from '../../../bench/handler-profile.js';
import { COMPILING } from '../../../bench/import-profile.js';

const ENTRY = 'lambdas/handlers/verify-trust.ts';

/** A metafile of one bundle: each input with its imports and its bytes in the output. */
function metafileOf(
  inputs: Record<string, { readonly imports: readonly string[]; readonly bytes: number }>,
  extraBytes = 0,
): Metafile {
  const total = Object.values(inputs).reduce((sum, input) => sum + input.bytes, 0) + extraBytes;
  return {
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([path, input]) => [
        path,
        {
          bytes: input.bytes,
          imports: input.imports.map((imported) => ({ path: imported, kind: 'import-statement' as const })),
        },
      ]),
    ),
    outputs: {
      'index.mjs': {
        bytes: total,
        entryPoint: ENTRY,
        imports: [],
        exports: ['handler'],
        inputs: Object.fromEntries(
          Object.entries(inputs).map(([path, input]) => [path, { bytesInOutput: input.bytes }]),
        ),
      },
    },
  };
}

describe('contributorsOf', () => {
  it('counts every module for the package our code imported that brought it in, families as one', () => {
    // Prepare: client-node brings undici (nested) and ws; the SDK comes in as two families' packages
    const metafile = metafileOf(
      {
        [ENTRY]: {
          imports: ['lambdas/adapters/kube/cluster-client.ts', 'node_modules/zod/index.js'],
          bytes: 100,
        },
        'lambdas/adapters/kube/cluster-client.ts': {
          imports: [
            'node_modules/@kubernetes/client-node/dist/index.js',
            'node_modules/@aws-sdk/client-eks/dist-es/index.js',
            'node_modules/@smithy/signature-v4/dist-es/index.js',
          ],
          bytes: 50,
        },
        'node_modules/@kubernetes/client-node/dist/index.js': {
          imports: [
            'node_modules/@kubernetes/client-node/node_modules/undici/index.js',
            'node_modules/ws/index.js',
          ],
          bytes: 1000,
        },
        'node_modules/@kubernetes/client-node/node_modules/undici/index.js': { imports: [], bytes: 500 },
        'node_modules/ws/index.js': { imports: ['node_modules/zod/index.js'], bytes: 40 },
        'node_modules/@aws-sdk/client-eks/dist-es/index.js': {
          imports: ['node_modules/@smithy/core/index.js'],
          bytes: 300,
        },
        'node_modules/@smithy/core/index.js': { imports: [], bytes: 200 },
        'node_modules/@smithy/signature-v4/dist-es/index.js': { imports: [], bytes: 20 },
        'node_modules/zod/index.js': { imports: [], bytes: 90 },
      },
      7,
    );

    // Act
    const contributors = contributorsOf(metafile, ENTRY);

    // Assess: zod is ours (reached first from the entry), not ws's
    expect(contributors).toEqual([
      { name: '@kubernetes/client-node', bytes: 1540 },
      { name: 'AWS SDK', bytes: 520 },
      { name: 'meshtrust', bytes: 150 },
      { name: 'zod', bytes: 90 },
      { name: 'esbuild runtime, banner', bytes: 7 },
    ]);
  });
});

const PROFILE: HandlersProfile = {
  bundles: {
    'acquire-lock': {
      bytes: 700_000,
      sameAsAsset: true,
      contributors: [
        { name: 'AWS SDK', bytes: 500_000 },
        { name: 'zod', bytes: 100_000 },
        { name: 'meshtrust', bytes: 80_000 },
        { name: 'Powertools', bytes: 20_000 },
      ],
    },
    'verify-trust': {
      bytes: 3_000_000,
      sameAsAsset: true,
      contributors: [
        { name: '@kubernetes/client-node', bytes: 2_000_000 },
        { name: 'AWS SDK', bytes: 500_000 },
        { name: '@peculiar/x509', bytes: 260_000 },
        { name: 'zod', bytes: 100_000 },
        { name: 'meshtrust', bytes: 90_000 },
        { name: 'Powertools', bytes: 20_000 },
        { name: 'yaml', bytes: 20_000 },
        { name: 'esbuild runtime, banner', bytes: 10_000 },
      ],
    },
  },
};

describe('profileTable', () => {
  it('gives the largest contributors a column each and sums the rest', () => {
    // Act
    const table = profileTable(PROFILE);

    // Assess
    expect(table.columns).toEqual([
      'handler',
      'bundle',
      '@kubernetes/client-node',
      'AWS SDK',
      '@peculiar/x509',
      'zod',
      'meshtrust',
      'Powertools',
      'other',
    ]);
    expect(table.rows).toEqual([
      ['acquire-lock', '700.0 kB', '-', '500.0 kB', '-', '100.0 kB', '80.0 kB', '20.0 kB', '-'],
      [
        'verify-trust',
        '3.00 MB',
        '2.00 MB',
        '500.0 kB',
        '260.0 kB',
        '100.0 kB',
        '90.0 kB',
        '20.0 kB',
        '30.0 kB',
      ],
    ]);
  });
});

describe('profileBoundLines', () => {
  const targets = { bundleBytes: 1_000_000, coldImportMs: 200 };

  it('names only the handlers over a target, each with its three largest parts', () => {
    // Act
    const lines = profileBoundLines(
      PROFILE,
      [
        { handler: 'acquire-lock', bundleBytes: 700_000, coldImportMs: 120 },
        { handler: 'verify-trust', bundleBytes: 3_000_000, coldImportMs: 180 },
      ],
      targets,
    );

    // Assess
    expect(lines).toEqual([
      'verify-trust: 3.00 MB, cold import 180 ms; its largest parts: @kubernetes/client-node 2.00 MB, AWS SDK 500.0 kB, @peculiar/x509 260.0 kB',
    ]);
  });

  it('names a handler whose cold import alone misses its target', () => {
    // Act
    const lines = profileBoundLines(
      PROFILE,
      [{ handler: 'acquire-lock', bundleBytes: 700_000, coldImportMs: 260 }],
      targets,
    );

    // Assess
    expect(lines).toEqual([
      'acquire-lock: 700.0 kB, cold import 260 ms; its largest parts: AWS SDK 500.0 kB, zod 100.0 kB, meshtrust 80.0 kB',
    ]);
  });
});

describe("profileBoundLines, with the SDK's unused schemas measured", () => {
  const targets = { bundleBytes: 1_000_000, coldImportMs: 200 };
  const withLiteralKeys = (sameAsAsset: boolean): HandlersProfile => ({
    bundles: {
      'verify-trust': {
        ...(PROFILE.bundles['verify-trust'] as HandlersProfile['bundles'][string]),
        sameAsAsset,
        literalSchemaKeysBytes: 2_960_000,
      },
    },
  });

  it('says what the bundle would weigh if esbuild could drop the schemas it never uses', () => {
    // Act
    const [line] = profileBoundLines(
      withLiteralKeys(true),
      [{ handler: 'verify-trust', bundleBytes: 3_000_000, coldImportMs: 180 }],
      targets,
    );

    // Assess
    expect(line).toMatch(
      /; 2\.96 MB with the AWS SDK's schema keys literal, 40\.0 kB of schemas it never uses that esbuild keeps$/,
    );
  });

  it('says nothing of them for a bundle within its target, or one the profile did not build byte for byte', () => {
    // Act
    const coldOnly = profileBoundLines(
      withLiteralKeys(true),
      [{ handler: 'verify-trust', bundleBytes: 900_000, coldImportMs: 260 }],
      targets,
    );
    const otherBuild = profileBoundLines(
      withLiteralKeys(false),
      [{ handler: 'verify-trust', bundleBytes: 3_000_000, coldImportMs: 180 }],
      targets,
    );

    // Assess
    expect(coldOnly).toHaveLength(1);
    expect(otherBuild).toHaveLength(1);
    expect([...coldOnly, ...otherBuild].join('\n')).not.toContain('schema keys');
  });
});

describe("the performance page's handlers section", () => {
  /** The page of one handlers section: verify-trust over both targets, with this profile. */
  function pageOf(profile: HandlersProfile): string {
    const figures: HandlersSectionFigures = {
      stackName: 'meshtrust-example-mesh',
      assemblyReused: true,
      importRuns: 3,
      handlers: [
        {
          handler: 'verify-trust',
          functionName: 'meshtrust-example-mesh-verify-trust',
          bundleBytes: 3_000_000,
          assetBytes: 3_000_000,
          sourceMap: { location: 'none', bytes: 0, enabledAtRunTime: false },
          coldImportMs: { median: 280, runs: [270, 280, 290] },
          warmInvoke: { measured: false, reason: 'not measured' },
        },
      ],
      profile,
    };
    const machine = {
      cpuModel: 'test',
      cpuCount: 2,
      memoryGiB: 4,
      os: 'linux x64 test',
      node: 'v24.0.0',
      nodeOpenssl: '3',
      loadAverageAtStart: 0,
    };

    return renderPerformanceDoc({
      schema: 1,
      generatedAt: '2026-12-01T00:00:00.000Z',
      sections: { handlers: { measuredAt: '2026-12-01T00:00:00.000Z', durationMs: 1000, machine, figures } },
      notMeasuredYet: [],
    });
  }

  it('shows the profile and what bounds the missed targets instead of "not profiled yet"', () => {
    // Act
    const page = pageOf(PROFILE);

    // Assess
    expect(page).toContain('### What the bundles are made of');
    expect(page).toContain("- Every build here is the asset's bundle, byte for byte.");
    expect(page).toContain('What bounds the missed targets, from the profile above:');
    expect(page).not.toContain('not profiled yet');
    // No import profile in these figures (results before 5 December 2026): no section for one
    expect(page).not.toContain("### Where a cold import's time goes");
  });

  it('says how much of the AWS SDK column is schemas never used, only where the profile measured it', () => {
    // Prepare: acquire-lock with 36 kB of them, verify-trust with 40 kB
    const measured: HandlersProfile = {
      bundles: {
        'acquire-lock': {
          ...(PROFILE.bundles['acquire-lock'] as HandlersProfile['bundles'][string]),
          literalSchemaKeysBytes: 664_000,
        },
        'verify-trust': {
          ...(PROFILE.bundles['verify-trust'] as HandlersProfile['bundles'][string]),
          literalSchemaKeysBytes: 2_960_000,
        },
      },
    };

    // Act
    const before = pageOf(PROFILE);
    const page = pageOf(measured);

    // Assess
    expect(before).not.toContain('schemas of operations');
    expect(page).toContain(
      '- Of the AWS SDK column, 36.0 kB-40.0 kB a bundle are schemas of operations the handler',
    );
    expect(page).toContain('aws/aws-sdk-js-v3#7607');
  });

  it("adds where a cold import's time goes, and its bound, when the imports were profiled", () => {
    // Prepare: verify-trust's import, 280 ms, half of it compiling
    const imports = {
      'verify-trust': {
        totalMs: 280,
        costs: [
          { what: COMPILING, ms: 140 },
          { what: '@kubernetes/client-node', ms: 90 },
          { what: 'other', ms: 50 },
        ],
      },
    };

    // Act
    const page = pageOf({ ...PROFILE, imports });

    // Assess
    expect(page).toContain("### Where a cold import's time goes");
    expect(page).toContain('| verify-trust | 280 ms | 140 ms | 90 ms | 50 ms |');
    expect(page).toContain('- 1 cold import(s) over 200 ms profiled (verify-trust)');
  });
});
