// The lab's real components as binaries: found in the user's cache, or built from lab/go with the
// local Go toolchain and cached (a cold build takes many minutes; later ones reuse it). Safe to call
// from several processes at once: one builds, the others wait for it and use its result.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { acquireBuildLock, type BuildLockOwner } from './build-lock.js';
import type { LabBuildProgress } from './build-progress.js';
import { labBinariesCacheKey } from './cache-key.js';
import { CACHE_DIR_ENV, labBinPaths, labCacheDir } from './cache-location.js';
import { labComponentVersions } from './component-versions.js';
import { GO_BUILD_FLAGS, runGoBuild } from './go-build.js';
import { type GoToolchain, readGoToolchain } from './go-toolchain.js';
import { type LabBinaries, labBinaries, readLabBinEntry, writeManifest } from './lab-bin-entry.js';
import {
  LAB_BINARY_NAMES,
  LAB_BINARY_PACKAGES,
  LAB_GO_DIR,
  type LabBinaryName,
  type LabComponentVersions,
} from './lab-binary-names.js';
import { INTERRUPTED_MESSAGE, LabBuildError } from './lab-build-errors.js';
import { labVersionStamps } from './version-stamps.js';

export type { LabBinaries } from './lab-bin-entry.js';

/** What to build: a Go module and the binaries to make from it. The lab's own is LAB_BUILD_TARGET. */
export interface LabBuildTarget<N extends string, V> {
  /** The module directory (go.mod, go.sum, cmd/). */
  readonly goDir: string;
  /**
   * Binary name -> package to build it from. A name must be the package path's last element: that is
   * the name `go build -o DIR/` gives it.
   */
  readonly packages: { readonly [name in N]: string };
  /** The versions to record in the manifest, read from the module's go.mod. */
  readonly versions: (goModPath: string) => Promise<V>;
  /**
   * Environment the go commands get on top of the caller's; part of the key through `go env`.
   * The lab's: CGO_ENABLED=0, static binaries as Kubernetes' and Istio's release builds make them,
   * so that the node agent can run them in a pod's own root folder (chroot) with no libc inside.
   */
  readonly buildEnv?: Readonly<Record<string, string>>;
  /** `-X` linker variables that make the binaries report those versions. */
  readonly versionStamps?: (
    goDir: string,
    env: NodeJS.ProcessEnv,
    versions: V,
  ) => Promise<Record<string, string>>;
}

export const LAB_BUILD_TARGET: LabBuildTarget<LabBinaryName, LabComponentVersions> = {
  goDir: LAB_GO_DIR,
  packages: LAB_BINARY_PACKAGES,
  versions: labComponentVersions,
  versionStamps: labVersionStamps,
  buildEnv: { CGO_ENABLED: '0' },
};

export interface FindLabBinariesOptions<N extends string = LabBinaryName, V = LabComponentVersions> {
  /** @default LAB_BUILD_TARGET (lab/go and its seven binaries) */
  readonly target?: LabBuildTarget<N, V>;
  /** @default labCacheDir(env): $MESHTRUST_CACHE_DIR or ~/.cache/meshtrust */
  readonly cacheDir?: string;
  /** Environment of the go commands and of the cache location. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The toolchain the key is computed for. @default what `go env` says in the module directory */
  readonly toolchain?: GoToolchain;
}

export interface EnsureLabBinariesOptions<N extends string = LabBinaryName, V = LabComponentVersions>
  extends FindLabBinariesOptions<N, V> {
  /**
   * Build even if the cache holds this key. A build another process finished while this call waited
   * for the lock counts as fresh and is used.
   */
  readonly force?: boolean;
  readonly onProgress?: (progress: LabBuildProgress) => void;
  /** Stops the build (or the wait for another one); nothing is left in the cache. */
  readonly signal?: AbortSignal;
}

/** The cached build for the current go.mod, go.sum, cmd/ and toolchain, if it is complete; never builds. */
export async function findLabBinaries<N extends string = LabBinaryName, V = LabComponentVersions>(
  options: FindLabBinariesOptions<N, V> = {},
): Promise<LabBinaries<N, V> | undefined> {
  let resolved: Resolved<N, V>;
  try {
    resolved = await resolve(options);
  } catch (error) {
    // Without a usable Go there is no key to look up, hence nothing that can be found.
    if (error instanceof LabBuildError && error.reason !== 'go-mod-invalid') return undefined;
    throw error;
  }
  return readLabBinEntry<N, V>(resolved.paths.entry, resolved.key, resolved.names);
}

/** The cached build, built first when missing (or when `force`). */
export async function ensureLabBinaries<N extends string = LabBinaryName, V = LabComponentVersions>(
  options: EnsureLabBinariesOptions<N, V> = {},
): Promise<LabBinaries<N, V>> {
  const startedAt = Date.now();
  const { target, key, paths, names, toolchain } = await resolve(options);
  if (!options.force) {
    const found = await readLabBinEntry<N, V>(paths.entry, key, names);
    if (found !== undefined) return found;
  }
  const versions = await target.versions(join(target.goDir, 'go.mod'));
  await mkdir(paths.root, { recursive: true }).catch((error: unknown) => {
    throw cacheUnwritable(error, paths.root);
  });

  const lock = await acquireBuildLock(paths.lock, {
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onWait: (owner) =>
      options.onProgress?.({
        phase: 'wait',
        done: 0,
        total: 0,
        elapsedMs: Date.now() - startedAt,
        message: describeOwner(owner, paths.lock),
      }),
  }).catch((error: unknown) => {
    if (options.signal?.aborted) throw interrupted(error);
    throw UNWRITABLE_CODES.has((error as NodeJS.ErrnoException).code ?? '')
      ? cacheUnwritable(error, paths.root)
      : error;
  });
  const temp = `${paths.tempPrefix}${process.pid}`;
  try {
    // Whoever held the lock before us may have built this very key: use it.
    if (!options.force || lock.waitedMs > 0) {
      const found = await readLabBinEntry<N, V>(paths.entry, key, names);
      if (found !== undefined) return found;
    }
    await removeLeftovers(paths.root, [paths.tempPrefix, paths.asidePrefix]);
    await mkdir(temp);
    const buildStartedAt = Date.now();
    await runGoBuild({
      goDir: target.goDir,
      packages: names.map((name) => target.packages[name]),
      outDir: temp,
      logFile: paths.log,
      env: { ...(options.env ?? process.env), ...target.buildEnv },
      startedAt,
      onProgress: options.onProgress ?? (() => undefined),
      linkerVariables: async () =>
        (await target.versionStamps?.(
          target.goDir,
          { ...(options.env ?? process.env), ...target.buildEnv },
          versions,
        )) ?? {},
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    const missing = (
      await Promise.all(names.map(async (name) => ((await isIn(temp, name)) ? [] : [name])))
    ).flat();
    if (missing.length > 0) {
      throw new LabBuildError(
        'build-failed',
        `go build wrote no ${missing.join(', ')} in ${temp}: a binary's name must be the last element of ` +
          `its package path (go build -o DIR/ names it so). Log: ${paths.log}`,
        { logFile: paths.log },
      );
    }
    const manifest = {
      key,
      versions,
      goVersion: toolchain.version,
      binaries: names,
      buildSeconds: Math.round((Date.now() - buildStartedAt) / 100) / 10,
      builtAt: new Date().toISOString(),
    };
    await writeManifest(temp, manifest);
    await replaceEntry(temp, paths.entry, `${paths.asidePrefix}${process.pid}`);
    options.onProgress?.({
      phase: 'done',
      done: names.length,
      total: names.length,
      elapsedMs: Date.now() - startedAt,
      message: `${names.join(', ')} in ${paths.entry}`,
    });
    return labBinaries<N, V>(paths.entry, manifest, false);
  } catch (error) {
    throw options.signal?.aborted && !(error instanceof LabBuildError) ? interrupted(error) : error;
  } finally {
    // After a success the temp directory is gone (renamed); after a failure nothing half-built stays.
    await rm(temp, { recursive: true, force: true });
    await lock.release();
  }
}

interface Resolved<N extends string, V> {
  readonly target: LabBuildTarget<N, V>;
  readonly names: readonly N[];
  readonly toolchain: GoToolchain;
  readonly key: string;
  readonly paths: ReturnType<typeof labBinPaths>;
}

async function resolve<N extends string, V>(options: FindLabBinariesOptions<N, V>): Promise<Resolved<N, V>> {
  // The lab's own target when none is given; its types are the defaults of N and V.
  const target = (options.target ?? LAB_BUILD_TARGET) as unknown as LabBuildTarget<N, V>;
  const env = options.env ?? process.env;
  const names = (options.target === undefined ? [...LAB_BINARY_NAMES] : Object.keys(target.packages)) as N[];
  const toolchain =
    options.toolchain ?? (await readGoToolchain(target.goDir, { ...env, ...target.buildEnv }));
  const key = await buildTargetCacheKey(target, toolchain);
  return { target, names, toolchain, key, paths: labBinPaths(options.cacheDir ?? labCacheDir(env), key) };
}

/** The key the cache holds a build under, as find and ensure compute it (toolchain and build env included). */
export async function labBinariesKey<N extends string = LabBinaryName, V = LabComponentVersions>(
  options: FindLabBinariesOptions<N, V> = {},
): Promise<string> {
  return (await resolve(options)).key;
}

/** The cache key of a target's build with this toolchain. */
function buildTargetCacheKey<N extends string, V>(
  target: LabBuildTarget<N, V>,
  toolchain: GoToolchain,
): Promise<string> {
  return labBinariesCacheKey({
    goDir: target.goDir,
    toolchain,
    packages: target.packages,
    // The stamps' values come from go.mod (in the key already); whether there are stamps at all is not.
    buildFlags: target.versionStamps ? [...GO_BUILD_FLAGS, '-X <version stamps>'] : GO_BUILD_FLAGS,
  });
}

/**
 * Puts a finished build in place. A forced rebuild replaces an entry a running lab may be using, so
 * the old one is moved aside first (running binaries keep working) and removed afterwards.
 */
async function replaceEntry(temp: string, entry: string, old: string): Promise<void> {
  const hadOld = await rename(entry, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  await rename(temp, entry);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/**
 * Directories of this key left by builds that were killed (temp, or an old entry moved aside); only
 * the lock holder may remove them, since only it builds this key.
 */
async function removeLeftovers(root: string, prefixes: readonly string[]): Promise<void> {
  const names = prefixes.map((prefix) => basename(prefix));
  for (const name of await readdir(root)) {
    if (names.some((prefix) => name.startsWith(prefix)))
      await rm(join(root, name), { recursive: true, force: true });
  }
}

async function isIn(dir: string, name: string): Promise<boolean> {
  return (await readdir(dir)).includes(name);
}

function describeOwner(owner: BuildLockOwner | undefined, lockFile: string): string {
  const who = owner === undefined ? 'another process' : `pid ${owner.pid} on ${owner.hostname}`;
  return `another build of the same binaries is running (${who}); waiting for it, then using its result (lock ${lockFile}; delete it if no build is running)`;
}

const UNWRITABLE_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR']);

function cacheUnwritable(error: unknown, dir: string): LabBuildError {
  return new LabBuildError(
    'cache-unwritable',
    `cannot write to the cache directory ${dir} (${(error as NodeJS.ErrnoException).code}); ` +
      `set ${CACHE_DIR_ENV} to a writable directory`,
    { cause: error },
  );
}

function interrupted(cause: unknown): LabBuildError {
  return new LabBuildError('interrupted', INTERRUPTED_MESSAGE, { cause });
}
