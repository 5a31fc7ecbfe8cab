// kubelet's atomic writer, in the layout of k8s.io/kubernetes pkg/volume/util/atomic_writer.go, so a
// process in a lab pod sees its Secret, ConfigMap, projected and downward API volumes exactly as on a
// real node:
//
//   <dir>/..2026_11_25_13_25_58.123456/   the files, mode as projected (the folder itself 0755)
//   <dir>/..data -> ..2026_11_25_13_25_58.123456
//   <dir>/root-cert.pem -> ..data/root-cert.pem   one symlink per top-level entry
//
// An update writes a whole new timestamped folder, points `..data_tmp` at it and renames that over
// `..data`: rename(2) is atomic, so a reader opening `<dir>/root-cert.pem` finds the old file or the
// new one, never a missing or half-written one. Then it adds and removes top-level symlinks and deletes
// the old folder. A watcher on `<dir>` (istiod's fsnotify on /etc/cacerts) sees the Create events of
// the swap. Content that did not change writes nothing, as in kubelet, so such a watcher sees nothing.
//
// Not safe for concurrent writes to one folder: the caller serialises them (as kubelet does).
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { LabError } from '../lab-errors.js';

export const DATA_DIR_NAME = '..data';
export const NEW_DATA_DIR_NAME = '..data_tmp';

const MAX_FILE_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

export interface FileProjection {
  readonly data: Uint8Array;
  /** Permission bits, 0 to 0o777 (a volume's defaultMode or an item's mode; 0o644 by default). */
  readonly mode: number;
}

/** Relative file path inside the volume (e.g. `root-cert.pem`, `..` never allowed) -> its content. */
export type VolumePayload = ReadonlyMap<string, FileProjection>;

export interface AtomicWriteResult {
  /** False when the payload equalled what was there (same paths, bytes and modes): nothing was touched. */
  readonly written: boolean;
  /** The timestamped folder `..data` points at after the write. */
  readonly dataDir: string;
}

export class AtomicWriterError extends LabError {
  readonly targetDir: string;

  constructor(targetDir: string, message: string, options?: ErrorOptions) {
    super(`atomic write to ${targetDir}: ${message}`, options);
    this.name = 'AtomicWriterError';
    this.targetDir = targetDir;
  }
}

/**
 * Why kubelet would refuse `path` as a file path inside a volume, or undefined when it is fine: it must
 * be relative, must not contain a `..` element nor start with `..` (the writer's own names), and must
 * keep to Linux name and path lengths.
 */
export function projectionPathProblem(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (posix.isAbsolute(path)) return 'must be a relative path';
  if (path.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters`;
  const elements = path.split('/');
  if (elements.includes('..')) return "must not contain '..'";
  if (elements.some((element) => element.length > MAX_FILE_NAME_LENGTH)) {
    return `file names must be at most ${MAX_FILE_NAME_LENGTH} characters`;
  }
  if (elements[0]?.startsWith('..')) return "must not start with '..'";
  if (posix.normalize(path) === '.') return 'must name a file';
  return undefined;
}

/** Projects `payload` into `targetDir` (which must exist), kubelet's way. */
export async function writeVolumeAtomically(
  targetDir: string,
  payload: VolumePayload,
): Promise<AtomicWriteResult> {
  const clean = cleanPayload(targetDir, payload);
  const dataDirPath = join(targetDir, DATA_DIR_NAME);
  const oldTsDir = await readDataDirLink(targetDir, dataDirPath);

  let toRemove = new Set<string>();
  if (oldTsDir !== undefined) {
    const oldTsPath = join(targetDir, oldTsDir);
    toRemove = await pathsToRemove(clean, oldTsPath);
    if (toRemove.size === 0 && !(await payloadDiffers(clean, oldTsPath))) {
      // Up to date; kubelet still makes sure the user-visible symlinks exist (kubernetes#121472).
      await createUserVisibleLinks(clean);
      return { written: false, dataDir: oldTsDir };
    }
  }

  const tsDir = await newTimestampDir(targetDir);
  const tsDirName = basename(tsDir);
  const newDataDirPath = join(targetDir, NEW_DATA_DIR_NAME);
  try {
    await writePayload(clean, tsDir);
    // A `..data_tmp` left by a writer that died between symlink and rename would block this one.
    await unlink(newDataDirPath).catch(ignoreCode('ENOENT'));
    await symlink(tsDirName, newDataDirPath);
    await rename(newDataDirPath, dataDirPath);
  } catch (error) {
    await unlink(newDataDirPath).catch(() => undefined);
    await rm(tsDir, { recursive: true, force: true });
    throw new AtomicWriterError(targetDir, `could not publish ${tsDirName}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  await createUserVisibleLinks(clean);
  await removeUserVisiblePaths(targetDir, toRemove);
  if (oldTsDir !== undefined) await rm(join(targetDir, oldTsDir), { recursive: true, force: true });
  return { written: true, dataDir: tsDirName };

  async function createUserVisibleLinks(files: Map<string, FileProjection>): Promise<void> {
    for (const name of topLevelNames(files)) {
      const visible = join(targetDir, name);
      try {
        await readlink(visible);
      } catch (error) {
        // Only a missing entry gets a link; something else of that name is left alone, as kubelet does.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') continue;
        await symlink(posix.join(DATA_DIR_NAME, name), visible);
      }
    }
  }
}

function cleanPayload(targetDir: string, payload: VolumePayload): Map<string, FileProjection> {
  const clean = new Map<string, FileProjection>();
  for (const [path, file] of payload) {
    const problem = projectionPathProblem(path);
    if (problem !== undefined)
      throw new AtomicWriterError(targetDir, `invalid path ${JSON.stringify(path)}: ${problem}`);
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o777) {
      throw new AtomicWriterError(targetDir, `invalid mode ${file.mode} for ${path}: must be 0 to 0777`);
    }
    clean.set(posix.normalize(path).replace(/\/+$/, ''), file);
  }
  for (const path of clean.keys()) {
    for (let parent = posix.dirname(path); parent !== '.'; parent = posix.dirname(parent)) {
      if (clean.has(parent)) {
        throw new AtomicWriterError(targetDir, `${parent} cannot be both a file and the folder of ${path}`);
      }
    }
  }
  return clean;
}

async function readDataDirLink(targetDir: string, dataDirPath: string): Promise<string | undefined> {
  try {
    return await readlink(dataDirPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AtomicWriterError(targetDir, `cannot read ${DATA_DIR_NAME}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Every path under the old folder that the new payload no longer has (its folders included). */
async function pathsToRemove(payload: Map<string, FileProjection>, oldTsPath: string): Promise<Set<string>> {
  const wanted = new Set<string>();
  for (const path of payload.keys()) {
    for (let sub = path; sub !== '.'; sub = posix.dirname(sub)) wanted.add(sub);
  }
  const existing = await walk(oldTsPath);
  return new Set(existing.filter((path) => !wanted.has(path)));
}

async function walk(root: string, prefix = ''): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(join(root, prefix), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const paths: string[] = [];
  for (const entry of entries) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    paths.push(path);
    if (entry.isDirectory()) paths.push(...(await walk(root, path)));
  }
  return paths;
}

/** True when a file is missing, holds other bytes or has another mode than projected. */
async function payloadDiffers(payload: Map<string, FileProjection>, oldTsPath: string): Promise<boolean> {
  for (const [path, file] of payload) {
    const full = join(oldTsPath, path);
    let stats: import('node:fs').Stats;
    try {
      stats = await lstat(full);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    if (!stats.isFile() || (stats.mode & 0o7777) !== file.mode || stats.size !== file.data.byteLength) {
      return true;
    }
    if (!Buffer.from(file.data).equals(await readFile(full))) return true;
  }
  return false;
}

async function newTimestampDir(targetDir: string): Promise<string> {
  const now = new Date();
  const two = (value: number) => String(value).padStart(2, '0');
  const stamp =
    `..${now.getUTCFullYear()}_${two(now.getUTCMonth() + 1)}_${two(now.getUTCDate())}_` +
    `${two(now.getUTCHours())}_${two(now.getUTCMinutes())}_${two(now.getUTCSeconds())}.`;
  const dir = await mkdtemp(join(targetDir, stamp));
  // 0755 whatever the umask, so every user in the pod can walk into it (as kubelet sets it).
  await chmod(dir, 0o755);
  return dir;
}

async function writePayload(payload: Map<string, FileProjection>, dir: string): Promise<void> {
  for (const [path, file] of payload) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, file.data, { mode: file.mode });
    // writeFile's mode passes through the umask; the projected mode must hold as given.
    await chmod(full, file.mode);
  }
}

function topLevelNames(payload: Map<string, FileProjection>): Set<string> {
  return new Set([...payload.keys()].map((path) => path.split('/')[0] ?? path));
}

/** Removes the user-visible top-level entries among `paths` (deeper ones vanish with the old folder). */
async function removeUserVisiblePaths(targetDir: string, paths: Set<string>): Promise<void> {
  for (const path of paths) {
    if (path.includes('/')) continue;
    await unlink(join(targetDir, path)).catch(ignoreCode('ENOENT'));
  }
}

function ignoreCode(code: string) {
  return (error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== code) throw error;
  };
}
