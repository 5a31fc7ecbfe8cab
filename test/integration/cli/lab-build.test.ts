// `meshtrust lab build` as an operator meets it: --help says a first build takes long, a cached build
// is reported (and not rebuilt), and a machine without Go gets exit 3 and what to install. The build
// itself runs in test/integration/lab/lab-binaries-build.test.ts on a tiny module.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { labBinPaths } from '../../../lab/binaries/cache-location.js';
import { labComponentVersions } from '../../../lab/binaries/component-versions.js';
import { readGoToolchain } from '../../../lab/binaries/go-toolchain.js';
import { MANIFEST_FILE } from '../../../lab/binaries/lab-bin-entry.js';
import { LAB_BUILD_TARGET, labBinariesKey } from '../../../lab/binaries/lab-binaries.js';
import { LAB_BINARY_NAMES, LAB_GO_DIR } from '../../../lab/binaries/lab-binary-names.js';
import { runMeshtrustInProcess } from './in-process-cli.js';

// Each test runs `go env` (through the cache key), which takes seconds on a loaded 2-core machine.
jest.setTimeout(60_000);

let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'meshtrust-lab-build-cli-'));
});

afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

/** A cache entry for lab/go as it is now, with stand-in binaries: what a finished build leaves. */
async function cachedLabBuild(): Promise<{ dir: string; key: string }> {
  const toolchain = await readGoToolchain(LAB_GO_DIR, { ...process.env, ...LAB_BUILD_TARGET.buildEnv });
  const key = await labBinariesKey({ cacheDir, toolchain });
  const { entry } = labBinPaths(cacheDir, key);
  await mkdir(entry, { recursive: true });
  for (const name of LAB_BINARY_NAMES) {
    await writeFile(join(entry, name), '#!/bin/sh\n');
    await chmod(join(entry, name), 0o755);
  }
  await writeFile(
    join(entry, MANIFEST_FILE),
    JSON.stringify({
      key,
      versions: await labComponentVersions(),
      goVersion: toolchain.version,
      binaries: LAB_BINARY_NAMES,
      buildSeconds: 754.2,
      builtAt: '2026-11-30T10:00:00.000Z',
    }),
  );
  return { dir: entry, key };
}

describe('meshtrust lab build', () => {
  it('--help says a first build takes long and where the cache is', async () => {
    // Act
    const result = await runMeshtrustInProcess(['lab', 'build', '--help']);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('Usage: meshtrust lab build');
    expect(result.stdout).toMatch(
      /A first build compiles Kubernetes, etcd and Istio from source: about \S+ minutes/,
    );
    expect(result.stdout).toContain('$MESHTRUST_CACHE_DIR');
  });

  it('--json reports a cached build without rebuilding it', async () => {
    // Prepare
    const { dir, key } = await cachedLabBuild();

    // Act
    const result = await runMeshtrustInProcess(['lab', 'build', '--json'], {
      ...process.env,
      MESHTRUST_CACHE_DIR: cacheDir,
    });

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(JSON.parse(result.stdout)).toEqual({
      dir,
      key,
      reused: true,
      versions: await labComponentVersions(),
      goVersion: expect.stringMatching(/^go1\./),
      buildSeconds: 754.2,
      builtAt: '2026-11-30T10:00:00.000Z',
      binaries: Object.fromEntries(LAB_BINARY_NAMES.map((name) => [name, join(dir, name)])),
    });
    expect(result.stderr).toBe('');
  });

  it('prints where the binaries are, their versions and the build time', async () => {
    // Prepare
    const { dir } = await cachedLabBuild();
    const versions = await labComponentVersions();

    // Act
    const result = await runMeshtrustInProcess(['lab', 'build'], {
      ...process.env,
      MESHTRUST_CACHE_DIR: cacheDir,
    });

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('lab binaries from the cache (built 2026-11-30T10:00:00.000Z in 12m34s)');
    expect(result.stdout).toContain(`directory  ${dir}\n`);
    expect(result.stdout).toContain(
      `versions   kubernetes ${versions.kubernetes}, etcd ${versions.etcd}, istio ${versions.istio}\n`,
    );
    expect(result.stdout).toContain(`binaries   ${LAB_BINARY_NAMES.join(', ')}\n`);
  });

  it('without Go on PATH, exits 3 and says which Go to install', async () => {
    // Act
    const result = await runMeshtrustInProcess(['lab', 'build'], {
      HOME: process.env.HOME,
      PATH: join(cacheDir, 'no-go-here'),
      MESHTRUST_CACHE_DIR: cacheDir,
    });

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.environment);
    expect(result.stderr).toMatch(/Go is not installed \(no `go` on PATH\): install Go 1\.\d+ or newer/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
