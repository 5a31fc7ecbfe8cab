// The binary cache without building anything: where it lives, what its key depends on, and when
// findLabBinaries trusts an entry. The build itself: test/integration/lab/lab-binaries-build.test.ts.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { labBinariesCacheKey } from '../../../lab/binaries/cache-key.js';
import { labBinPaths, labCacheDir } from '../../../lab/binaries/cache-location.js';
import { GO_BUILD_FLAGS } from '../../../lab/binaries/go-build.js';
import type { GoToolchain } from '../../../lab/binaries/go-toolchain.js';
import { MANIFEST_FILE } from '../../../lab/binaries/lab-bin-entry.js';
import { findLabBinaries, type LabBuildTarget } from '../../../lab/binaries/lab-binaries.js';

const TOOLCHAIN: GoToolchain = {
  version: 'go1.26.8',
  os: 'linux',
  arch: 'amd64',
  cgoEnabled: '1',
  goflags: '',
};
const PACKAGES = { hello: './cmd/hello', world: './cmd/world' } as const;

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'meshtrust-lab-binaries-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A Go module on disk (never built here): go.mod, go.sum and a main package per binary. */
async function goModule(): Promise<string> {
  const goDir = join(scratch, 'go');
  for (const name of Object.keys(PACKAGES)) {
    await mkdir(join(goDir, 'cmd', name), { recursive: true });
    await writeFile(
      join(goDir, 'cmd', name, 'main.go'),
      `package main\n\nfunc main() { println("${name}") }\n`,
    );
  }
  await writeFile(join(goDir, 'go.mod'), 'module example.test/lab\n\ngo 1.22\n');
  await writeFile(join(goDir, 'go.sum'), 'example.test/dep v1.0.0 h1:AAAA=\n');
  return goDir;
}

function keyOf(goDir: string, overrides: { toolchain?: GoToolchain; buildFlags?: readonly string[] } = {}) {
  return labBinariesCacheKey({
    goDir,
    toolchain: overrides.toolchain ?? TOOLCHAIN,
    packages: PACKAGES,
    buildFlags: overrides.buildFlags ?? GO_BUILD_FLAGS,
  });
}

describe('labCacheDir', () => {
  it('prefers MESHTRUST_CACHE_DIR', () => {
    // Act / Assess
    expect(labCacheDir({ MESHTRUST_CACHE_DIR: '/srv/cache', XDG_CACHE_HOME: '/xdg' })).toBe('/srv/cache');
  });

  it('falls back to $XDG_CACHE_HOME/meshtrust, then ~/.cache/meshtrust', () => {
    // Act / Assess
    expect(labCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/meshtrust');
    expect(labCacheDir({ MESHTRUST_CACHE_DIR: ' ' })).toBe(join(homedir(), '.cache', 'meshtrust'));
    // The XDG spec: a relative XDG_CACHE_HOME is ignored.
    expect(labCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(join(homedir(), '.cache', 'meshtrust'));
  });

  it('keeps entries, locks and logs side by side under lab-bin', () => {
    // Act
    const paths = labBinPaths('/c', '0123456789abcdef');

    // Assess
    expect(paths).toEqual({
      root: '/c/lab-bin',
      entry: '/c/lab-bin/0123456789abcdef',
      lock: '/c/lab-bin/0123456789abcdef.lock',
      log: '/c/lab-bin/0123456789abcdef.build.log',
      tempPrefix: '/c/lab-bin/0123456789abcdef.tmp-',
      asidePrefix: '/c/lab-bin/0123456789abcdef.old-',
    });
  });
});

describe('labBinariesCacheKey', () => {
  it('is a short hex digest that stays the same while nothing changes', async () => {
    // Prepare
    const goDir = await goModule();

    // Act
    const first = await keyOf(goDir);
    const second = await keyOf(goDir);

    // Assess
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(second).toBe(first);
  });

  it('changes when the content of go.sum changes', async () => {
    // Prepare
    const goDir = await goModule();
    const before = await keyOf(goDir);

    // Act
    await writeFile(join(goDir, 'go.sum'), 'example.test/dep v1.0.0 h1:BBBB=\n');

    // Assess
    expect(await keyOf(goDir)).not.toBe(before);
  });

  it('changes with go.mod, a file under cmd/, the Go release and the build flags', async () => {
    // Prepare
    const goDir = await goModule();
    const before = await keyOf(goDir);

    // Act
    const keys = [
      await keyOf(goDir, { toolchain: { ...TOOLCHAIN, version: 'go1.26.9' } }),
      await keyOf(goDir, { buildFlags: ['-trimpath'] }),
    ];
    await writeFile(join(goDir, 'cmd', 'world', 'flags.go'), 'package main\n');
    keys.push(await keyOf(goDir));
    await writeFile(join(goDir, 'go.mod'), 'module example.test/lab\n\ngo 1.23\n');
    keys.push(await keyOf(goDir));

    // Assess
    expect(new Set([before, ...keys]).size).toBe(5);
  });
});

describe('findLabBinaries', () => {
  /** A cache entry as a finished build leaves it: every binary, then manifest.json. */
  async function completeEntry(): Promise<{
    target: LabBuildTarget<'hello' | 'world', object>;
    entry: string;
  }> {
    const goDir = await goModule();
    const target = { goDir, packages: PACKAGES, versions: async () => ({}) };
    const key = await keyOf(goDir);
    const { entry } = labBinPaths(join(scratch, 'cache'), key);
    await mkdir(entry, { recursive: true });
    for (const name of Object.keys(PACKAGES)) {
      await writeFile(join(entry, name), '#!/bin/sh\n');
      await chmod(join(entry, name), 0o755);
    }
    const manifest = {
      key,
      versions: { hello: 'v1.0.0' },
      goVersion: TOOLCHAIN.version,
      binaries: Object.keys(PACKAGES),
      buildSeconds: 12.5,
      builtAt: '2026-11-30T10:00:00.000Z',
    };
    await writeFile(join(entry, MANIFEST_FILE), JSON.stringify(manifest));
    return { target, entry };
  }

  const find = (target: LabBuildTarget<'hello' | 'world', object>) =>
    findLabBinaries({ target, cacheDir: join(scratch, 'cache'), toolchain: TOOLCHAIN });

  it('returns a complete entry with its manifest and the path of each binary', async () => {
    // Prepare
    const { target, entry } = await completeEntry();

    // Act
    const found = await find(target);

    // Assess
    expect(found).toMatchObject({
      dir: entry,
      versions: { hello: 'v1.0.0' },
      goVersion: 'go1.26.8',
      buildSeconds: 12.5,
      reused: true,
    });
    expect(found?.path('world')).toBe(join(entry, 'world'));
  });

  it('ignores an entry without manifest.json (a build that did not finish)', async () => {
    // Prepare
    const { target, entry } = await completeEntry();
    await rm(join(entry, MANIFEST_FILE));

    // Act / Assess
    expect(await find(target)).toBeUndefined();
  });

  it('ignores an entry that lacks one of the binaries', async () => {
    // Prepare
    const { target, entry } = await completeEntry();
    await rm(join(entry, 'world'));

    // Act / Assess
    expect(await find(target)).toBeUndefined();
  });

  it('ignores an entry when go.sum changed since it was built (another key)', async () => {
    // Prepare
    const { target } = await completeEntry();
    await writeFile(join(target.goDir, 'go.sum'), 'example.test/dep v1.0.1 h1:CCCC=\n');

    // Act / Assess
    expect(await find(target)).toBeUndefined();
  });
});
