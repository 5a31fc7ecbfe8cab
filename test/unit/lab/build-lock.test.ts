// The build lock: one build per key across processes; a lock left by a killed build is taken over at
// once, a live owner's lock is waited for.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { acquireBuildLock, type BuildLockOwner } from '../../../lab/binaries/build-lock.js';

let scratch: string;
let lockFile: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'meshtrust-build-lock-'));
  lockFile = join(scratch, 'key.lock');
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The pid of a process that has exited: what a killed build leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('the short-lived process did not start');
  return child.pid;
}

const owner = (pid: number): BuildLockOwner => ({
  pid,
  hostname: hostname(),
  startedAt: new Date().toISOString(),
});

describe('acquireBuildLock', () => {
  it('creates the lock file with our pid and removes it on release', async () => {
    // Act
    const lock = await acquireBuildLock(lockFile);
    const held = JSON.parse(await readFile(lockFile, 'utf8')) as BuildLockOwner;
    await lock.release();

    // Assess
    expect(held.pid).toBe(process.pid);
    expect(lock.waitedMs).toBe(0);
    await expect(readFile(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over at once a lock whose owner process is dead', async () => {
    // Prepare
    await writeFile(lockFile, JSON.stringify(owner(await deadPid())));
    const onWait = jest.fn();

    // Act
    const lock = await acquireBuildLock(lockFile, { onWait, pollMs: 60_000 });

    // Assess
    expect(onWait).not.toHaveBeenCalled();
    expect((JSON.parse(await readFile(lockFile, 'utf8')) as BuildLockOwner).pid).toBe(process.pid);
    await lock.release();
  });

  it('waits while the owner is alive, and stops waiting when aborted', async () => {
    // Prepare: the jest parent process is alive for as long as this test runs.
    await writeFile(lockFile, JSON.stringify(owner(process.ppid)));
    const onWait = jest.fn();

    // Act
    const acquiring = acquireBuildLock(lockFile, { onWait, pollMs: 50, signal: AbortSignal.timeout(300) });

    // Assess
    await expect(acquiring).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(onWait).toHaveBeenCalledWith(expect.objectContaining({ pid: process.ppid }));
    expect((JSON.parse(await readFile(lockFile, 'utf8')) as BuildLockOwner).pid).toBe(process.ppid);
  });

  it('lets a second builder in once the first releases, and says it waited', async () => {
    // Prepare
    const first = await acquireBuildLock(lockFile);

    // Act
    const second = acquireBuildLock(lockFile, { pollMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.release();
    const lock = await second;

    // Assess
    expect(lock.waitedMs).toBeGreaterThanOrEqual(90);
    await lock.release();
  });
});
