// One cache entry: a directory holding the binaries and manifest.json. The manifest is written last,
// after every binary, and the directory only gets its final name by a rename once complete, so an
// entry with a manifest naming our key and every binary present is a whole, usable build.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';

export interface LabBinManifest<V> {
  readonly key: string;
  /** Component versions from go.mod at build time. */
  readonly versions: V;
  /** `go env GOVERSION` of the toolchain that built them. */
  readonly goVersion: string;
  readonly binaries: readonly string[];
  readonly buildSeconds: number;
  /** ISO 8601. */
  readonly builtAt: string;
}

/** A complete build: where it is, what it is, and each binary's path. */
export interface LabBinaries<N extends string, V> {
  readonly dir: string;
  readonly key: string;
  readonly versions: V;
  readonly goVersion: string;
  readonly buildSeconds: number;
  readonly builtAt: string;
  /** True when an existing cache entry was used; false when this call built it. */
  readonly reused: boolean;
  path(name: N): string;
}

export async function writeManifest<V>(dir: string, manifest: LabBinManifest<V>): Promise<void> {
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The entry at `dir` if it is complete for `key` and holds every binary in `names`, else undefined. */
export async function readLabBinEntry<N extends string, V>(
  dir: string,
  key: string,
  names: readonly N[],
): Promise<LabBinaries<N, V> | undefined> {
  let manifest: LabBinManifest<V>;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as LabBinManifest<V>;
  } catch {
    return undefined; // absent (build unfinished or never run) or unreadable: not a usable entry
  }
  if (manifest.key !== key) return undefined;
  for (const name of names) {
    if (!(await isExecutable(join(dir, name)))) return undefined;
  }
  return labBinaries(dir, manifest, true);
}

export function labBinaries<N extends string, V>(
  dir: string,
  manifest: LabBinManifest<V>,
  reused: boolean,
): LabBinaries<N, V> {
  return {
    dir,
    key: manifest.key,
    versions: manifest.versions,
    goVersion: manifest.goVersion,
    buildSeconds: manifest.buildSeconds,
    builtAt: manifest.builtAt,
    reused,
    path: (name) => join(dir, name),
  };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    return info.isFile() && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
