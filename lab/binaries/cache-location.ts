// Where built binaries live: outside the repository clone, in the user's cache directory, so that
// every clone, CI job and later run on the same machine reuses one build (a cold one takes many
// minutes). Every path of a cache entry is derived here, nowhere else.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const CACHE_DIR_ENV = 'MESHTRUST_CACHE_DIR';

/** `$MESHTRUST_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/meshtrust`. */
export function labCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = nonEmpty(env[CACHE_DIR_ENV]);
  if (explicit !== undefined) return resolve(explicit);
  // The XDG base directory spec says to ignore a relative XDG_CACHE_HOME.
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'meshtrust');
}

export interface LabBinPaths {
  /** `<cache>/lab-bin`: every entry, lock and log. */
  readonly root: string;
  /** `<root>/<key>`: the binaries and manifest.json, present only once complete. */
  readonly entry: string;
  /** `<root>/<key>.lock`: held by the one process building this key. */
  readonly lock: string;
  /** `<root>/<key>.build.log`: go's full output of the latest build. */
  readonly log: string;
  /** `<root>/<key>.tmp-`: prefix of the directory a build writes before renaming it to `entry`. */
  readonly tempPrefix: string;
  /** `<root>/<key>.old-`: prefix of where a forced rebuild moves the entry it replaces. */
  readonly asidePrefix: string;
}

export function labBinPaths(cacheDir: string, key: string): LabBinPaths {
  const root = join(cacheDir, 'lab-bin');
  const entry = join(root, key);
  return {
    root,
    entry,
    lock: `${entry}.lock`,
    log: `${entry}.build.log`,
    tempPrefix: `${entry}.tmp-`,
    asidePrefix: `${entry}.old-`,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
