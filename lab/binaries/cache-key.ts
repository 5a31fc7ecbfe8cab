// The cache key of a build: a short SHA-256 of everything that decides what the binaries are. Change
// any of it (a version bump in go.mod, a go.sum line, our main packages, the Go release, the build
// flags) and the key changes, so a stale build is never reused; keep all of it and every clone on the
// machine shares one build.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { GoToolchain } from './go-toolchain.js';

export interface CacheKeyInputs {
  /** The Go module directory: go.mod, go.sum and every file under cmd/ are hashed. */
  readonly goDir: string;
  readonly toolchain: GoToolchain;
  /** Binary name -> package: which binaries the entry holds. */
  readonly packages: Readonly<Record<string, string>>;
  readonly buildFlags: readonly string[];
}

/** 16 hex digits: short enough for a path, long enough that two builds never collide. */
export const CACHE_KEY_LENGTH = 16;

export async function labBinariesCacheKey(inputs: CacheKeyInputs): Promise<string> {
  const hash = createHash('sha256');
  // Each part is length-prefixed, so moving bytes from one part to the next changes the key.
  const part = (label: string, content: string | Buffer) => {
    hash.update(`${label}\0${Buffer.byteLength(content)}\0`);
    hash.update(content);
  };
  for (const file of ['go.mod', 'go.sum']) {
    part(file, (await readIfPresent(join(inputs.goDir, file))) ?? '(absent)');
  }
  for (const file of await filesUnder(join(inputs.goDir, 'cmd'))) {
    part(relative(inputs.goDir, file).split(sep).join('/'), await readFile(file));
  }
  const { version, os, arch, cgoEnabled, goflags } = inputs.toolchain;
  part('toolchain', JSON.stringify([version, os, arch, cgoEnabled, goflags]));
  part('build-flags', JSON.stringify(inputs.buildFlags));
  part('packages', JSON.stringify(Object.entries(inputs.packages).sort(([a], [b]) => a.localeCompare(b))));
  return hash.digest('hex').slice(0, CACHE_KEY_LENGTH);
}

async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every file below dir, sorted, so the key does not depend on directory order; none if dir is absent. */
async function filesUnder(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
