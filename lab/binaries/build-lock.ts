// One build per cache key at a time, across processes (two jest workers, a CLI run beside a test run):
// a lock file created with O_EXCL holding its owner's pid. A second builder waits and then uses the
// first one's result. A lock whose owner died (killed mid-build) is taken over, so a crash never
// blocks later builds.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../process-alive.js';

export interface BuildLockOwner {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
}

export interface BuildLock {
  /** How long acquiring waited for another owner; 0 when no live owner held the lock. */
  readonly waitedMs: number;
  /** Removes the lock file, if it is still ours. */
  release(): Promise<void>;
}

export interface AcquireBuildLockOptions {
  /** Aborting stops the wait: acquireBuildLock rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called once when the lock is held by a live process, before waiting for it. */
  readonly onWait?: (owner: BuildLockOwner | undefined) => void;
  /** @default 1000 */
  readonly pollMs?: number;
}

/**
 * A lock file whose content cannot be read yet is an owner between open and write; only this much
 * later is it treated as left by a crash.
 */
const UNWRITTEN_LOCK_GRACE_MS = 10_000;

/** Lock files this process holds: its own pid in a lock file is stale only if it is not one of these. */
const heldHere = new Set<string>();

export async function acquireBuildLock(
  path: string,
  options: AcquireBuildLockOptions = {},
): Promise<BuildLock> {
  const startedAt = Date.now();
  let toldWaiting = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const content = JSON.stringify({
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
    } satisfies BuildLockOwner);
    if (!heldHere.has(path) && (await createExclusive(path, content))) {
      heldHere.add(path);
      return { waitedMs: toldWaiting ? Date.now() - startedAt : 0, release: () => release(path, content) };
    }
    const seen = await readIfPresent(path);
    if (seen === undefined) continue; // released between our create and read: try again at once
    const owner = parseOwner(seen);
    if (await isStale(path, owner)) {
      await takeOver(path, seen);
      continue;
    }
    if (!toldWaiting) options.onWait?.(owner);
    toldWaiting = true;
    // Rejects with the signal's own reason, as throwIfAborted above does.
    await sleep(options.pollMs ?? 1000, undefined, { signal: options.signal }).catch((error: unknown) => {
      throw options.signal?.aborted ? options.signal.reason : error;
    });
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

async function isStale(path: string, owner: BuildLockOwner | undefined): Promise<boolean> {
  if (owner === undefined) {
    const age = await stat(path).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    return age > UNWRITTEN_LOCK_GRACE_MS;
  }
  // A pid means nothing on another host (a cache on a shared disk): wait for that owner.
  if (owner.hostname !== hostname()) return false;
  // Our own pid: a lock left by an earlier process that had it (containers reuse low pids).
  if (owner.pid === process.pid) return !heldHere.has(path);
  return !isProcessAlive(owner.pid);
}

/**
 * Removes a stale lock without removing a fresh one by mistake: two processes may find the same dead
 * owner, and the slower one must not delete the lock the faster one has taken since. So the lock is
 * moved aside first, and put back when what was moved is not the stale lock that was seen.
 */
async function takeOver(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else took it over
    throw error;
  }
  const moved = await readIfPresent(aside);
  if (moved !== staleContent) {
    await link(aside, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  await unlink(aside).catch(() => undefined);
}

async function release(path: string, content: string): Promise<void> {
  heldHere.delete(path);
  if ((await readIfPresent(path)) === content) await unlink(path).catch(() => undefined);
}

function parseOwner(text: string): BuildLockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<BuildLockOwner>;
    if (!Number.isSafeInteger(value.pid) || typeof value.hostname !== 'string') return undefined;
    return value as BuildLockOwner;
  } catch {
    return undefined;
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
