// ensureLabBinaries on the real build path (go list, go build -v, the lock, the rename into the
// cache) with a tiny throwaway Go module instead of lab/go, so it takes seconds, not the many minutes
// of compiling Kubernetes and Istio.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { LabBuildProgress } from '../../../lab/binaries/build-progress.js';
import { MANIFEST_FILE } from '../../../lab/binaries/lab-bin-entry.js';
import {
  ensureLabBinaries,
  findLabBinaries,
  type LabBuildTarget,
} from '../../../lab/binaries/lab-binaries.js';
import { LabBuildError } from '../../../lab/binaries/lab-build-errors.js';

const execFileAsync = promisify(execFile);

// A first run on a machine compiles the standard library with -trimpath once.
jest.setTimeout(180_000);

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'meshtrust-lab-build-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

type HelloTarget = LabBuildTarget<'hello', { readonly hello: string }>;

/** A module with one main package, cmd/hello; `source` replaces its main.go. */
async function helloModule(
  name: string,
  source?: string,
): Promise<{ target: HelloTarget; cacheDir: string }> {
  const goDir = join(scratch, name, 'go');
  await mkdir(join(goDir, 'cmd', 'hello'), { recursive: true });
  await writeFile(join(goDir, 'go.mod'), 'module example.test/hello\n\ngo 1.22\n');
  await writeFile(
    join(goDir, 'cmd', 'hello', 'main.go'),
    source ??
      'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from the lab build test") }\n',
  );
  return {
    target: { goDir, packages: { hello: './cmd/hello' }, versions: async () => ({ hello: 'v0.0.1' }) },
    cacheDir: join(scratch, name, 'cache'),
  };
}

/** What the cache's lab-bin folder holds besides complete entries: must stay empty after any build. */
async function leftovers(cacheDir: string): Promise<string[]> {
  const names = await readdir(join(cacheDir, 'lab-bin')).catch(() => []);
  return names.filter((name) => /\.(lock|tmp-\d+|old-\d+)$/.test(name));
}

describe('ensureLabBinaries with a tiny Go module', () => {
  it('builds the binary into <cache>/lab-bin/<key>/ with a manifest, reporting progress', async () => {
    // Prepare
    const { target, cacheDir } = await helloModule('first');
    const progress: LabBuildProgress[] = [];

    // Act
    const binaries = await ensureLabBinaries({ target, cacheDir, onProgress: (p) => progress.push(p) });
    const { stdout } = await execFileAsync(binaries.path('hello'));

    // Assess
    expect(stdout).toBe('hello from the lab build test\n');
    expect(binaries.dir).toBe(join(cacheDir, 'lab-bin', binaries.key));
    expect(binaries).toMatchObject({ reused: false, versions: { hello: 'v0.0.1' } });
    expect(binaries.goVersion).toMatch(/^go1\.\d+/);
    const manifest = JSON.parse(await readFile(join(binaries.dir, MANIFEST_FILE), 'utf8'));
    expect(manifest).toMatchObject({ key: binaries.key, binaries: ['hello'], goVersion: binaries.goVersion });
    const phases = [...new Set(progress.map((p) => p.phase))];
    expect(phases[0]).toBe('download');
    expect(phases).toContain('compile');
    expect(phases.at(-1)).toBe('done');
    expect(progress.find((p) => p.phase === 'compile')?.total).toBe(1);
    const log = await readFile(join(cacheDir, 'lab-bin', `${binaries.key}.build.log`), 'utf8');
    expect(log).toContain('go build -mod=readonly -trimpath');
    expect(await leftovers(cacheDir)).toEqual([]);
  });

  it('reuses a cached build without running go build, and rebuilds when forced', async () => {
    // Prepare
    const { target, cacheDir } = await helloModule('reuse');
    const built = await ensureLabBinaries({ target, cacheDir });
    const progress: LabBuildProgress[] = [];

    // Act
    const reused = await ensureLabBinaries({ target, cacheDir, onProgress: (p) => progress.push(p) });
    const found = await findLabBinaries({ target, cacheDir });
    const forced = await ensureLabBinaries({ target, cacheDir, force: true });

    // Assess
    expect(reused).toMatchObject({ reused: true, dir: built.dir, builtAt: built.builtAt });
    expect(progress).toEqual([]);
    expect(found?.builtAt).toBe(built.builtAt);
    expect(forced.reused).toBe(false);
    expect(forced.builtAt > built.builtAt).toBe(true);
    expect(await leftovers(cacheDir)).toEqual([]);
  });

  it('builds once for two concurrent callers: the second waits and uses the result', async () => {
    // Prepare
    const { target, cacheDir } = await helloModule('concurrent');

    // Act
    const [a, b] = await Promise.all([
      ensureLabBinaries({ target, cacheDir }),
      ensureLabBinaries({ target, cacheDir }),
    ]);

    // Assess
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(a.builtAt).toBe(b.builtAt);
  });

  it("fails with go's error and the log path, and leaves no cache entry", async () => {
    // Prepare
    const { target, cacheDir } = await helloModule(
      'broken',
      'package main\n\nfunc main() { undefinedInTheLabBuildTest() }\n',
    );

    // Act
    const building = ensureLabBinaries({ target, cacheDir });

    // Assess
    const error = await building.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabBuildError);
    expect(error).toMatchObject({ reason: 'build-failed' });
    expect((error as LabBuildError).message).toContain('undefined: undefinedInTheLabBuildTest');
    expect((error as LabBuildError).message).toContain(`Full output: ${(error as LabBuildError).logFile}`);
    expect(await findLabBinaries({ target, cacheDir })).toBeUndefined();
    expect((await readdir(join(cacheDir, 'lab-bin'))).filter((name) => !name.endsWith('.build.log'))).toEqual(
      [],
    );
  });

  it('stops when aborted mid-build and leaves nothing half-built', async () => {
    // Prepare: a package big enough (and new to the Go build cache) to take a few seconds to compile.
    const functions = Array.from(
      { length: 20_000 },
      (_, i) => `func f${i}() int { return ${i} * ${Date.now()} }`,
    );
    const { target, cacheDir } = await helloModule(
      'aborted',
      `package main\n\n${functions.join('\n')}\n\nfunc main() { println(f1()) }\n`,
    );
    const controller = new AbortController();
    const startedAt = Date.now();

    // Act
    const building = ensureLabBinaries({
      target,
      cacheDir,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'compile') setTimeout(() => controller.abort(new Error('test abort')), 300);
      },
    });

    // Assess
    await expect(building).rejects.toMatchObject({ name: 'LabBuildError', reason: 'interrupted' });
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    expect(await findLabBinaries({ target, cacheDir })).toBeUndefined();
    expect(await leftovers(cacheDir)).toEqual([]);
  });
});
