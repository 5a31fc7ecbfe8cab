// kubelet's atomic writer: the layout a pod sees (..data, user-visible symlinks, modes), updates that a
// concurrent reader never catches half-done, no write at all when nothing changed, and the directory
// events istiod's fsnotify watch on /etc/cacerts depends on.
import { type FSWatcher, watch } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  AtomicWriterError,
  type FileProjection,
  type VolumePayload,
  writeVolumeAtomically,
} from '../../../lab/node-agent/atomic-writer.js';

let scratch: string;
let dir: string;
const watchers: FSWatcher[] = [];

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'meshtrust-atomic-writer-'));
  dir = join(scratch, 'cacerts');
  await mkdir(dir);
});

afterEach(async () => {
  for (const watcher of watchers.splice(0)) watcher.close();
  await rm(scratch, { recursive: true, force: true });
});

const file = (text: string, mode = 0o644): FileProjection => ({ data: Buffer.from(text), mode });
const payload = (entries: Record<string, FileProjection>): VolumePayload => new Map(Object.entries(entries));
const TIMESTAMP_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\w+$/;

/** Every event fs.watch (inotify, as fsnotify) reports on `path`, by file name. */
function watchEvents(path: string): string[] {
  const events: string[] = [];
  const watcher = watch(path, (_event, name) => events.push(String(name)));
  watchers.push(watcher);
  return events;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `timeoutMs` passed. */
async function waitFor(check: () => boolean, timeoutMs = 4_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(10);
}

describe('writeVolumeAtomically: layout', () => {
  it('lays out a timestamped folder, ..data pointing at it and one symlink per top-level entry', async () => {
    // Prepare
    const files = payload({
      'root-cert.pem': file('root'),
      'ca-key.pem': file('key', 0o600),
      'istio/mesh': file('mesh'),
    });

    // Act
    const result = await writeVolumeAtomically(dir, files);

    // Assess
    expect(result.written).toBe(true);
    expect(result.dataDir).toMatch(TIMESTAMP_DIR);
    expect((await readdir(dir)).sort()).toEqual(
      [result.dataDir, '..data', 'ca-key.pem', 'istio', 'root-cert.pem'].sort(),
    );
    expect(await readlink(join(dir, '..data'))).toBe(result.dataDir);
    expect(await readlink(join(dir, 'root-cert.pem'))).toBe('..data/root-cert.pem');
    expect(await readlink(join(dir, 'ca-key.pem'))).toBe('..data/ca-key.pem');
    expect(await readlink(join(dir, 'istio'))).toBe('..data/istio');
    expect((await lstat(join(dir, 'root-cert.pem'))).isSymbolicLink()).toBe(true);
    expect((await stat(join(dir, result.dataDir))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, 'root-cert.pem'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'istio/mesh'), 'utf8')).toBe('mesh');
  });

  it('sets the projected mode whatever the umask', async () => {
    // Prepare
    const previous = process.umask(0o077);

    // Act
    try {
      await writeVolumeAtomically(dir, payload({ 'mesh.yaml': file('x', 0o644), run: file('y', 0o755) }));
    } finally {
      process.umask(previous);
    }

    // Assess
    expect((await stat(join(dir, 'mesh.yaml'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'run'))).mode & 0o777).toBe(0o755);
  });

  it('writes an empty volume as an empty timestamped folder behind ..data (an optional object missing)', async () => {
    // Act
    const result = await writeVolumeAtomically(dir, payload({}));

    // Assess
    expect((await readdir(dir)).sort()).toEqual([result.dataDir, '..data'].sort());
    expect(await readdir(join(dir, '..data'))).toEqual([]);
  });

  it.each([
    ['a parent reference', '../escape'],
    ['a nested parent reference', 'a/../../escape'],
    ['an absolute path', '/etc/passwd'],
    ["the writer's own name", '..data'],
    ['a name starting with ..', '..hidden'],
    ['an empty path', ''],
  ])('refuses %s as a file path and writes nothing', async (_what, path) => {
    // Act
    const write = writeVolumeAtomically(dir, payload({ [path]: file('x') }));

    // Assess
    await expect(write).rejects.toBeInstanceOf(AtomicWriterError);
    expect(await readdir(dir)).toEqual([]);
    expect(await readdir(scratch)).toEqual(['cacerts']);
  });
});

describe('writeVolumeAtomically: updates', () => {
  it('swaps ..data to a new folder, adds new keys, removes gone ones and deletes the old folder', async () => {
    // Prepare
    const first = await writeVolumeAtomically(
      dir,
      payload({ 'root-cert.pem': file('A'), 'cert-chain.pem': file('chain A') }),
    );

    // Act
    const second = await writeVolumeAtomically(
      dir,
      payload({ 'root-cert.pem': file('A+B'), 'ca-cert.pem': file('intermediate B') }),
    );

    // Assess
    expect(second.written).toBe(true);
    expect(second.dataDir).not.toBe(first.dataDir);
    expect((await readdir(dir)).sort()).toEqual(
      [second.dataDir, '..data', 'ca-cert.pem', 'root-cert.pem'].sort(),
    );
    expect(await readFile(join(dir, 'root-cert.pem'), 'utf8')).toBe('A+B');
    expect(await readFile(join(dir, 'ca-cert.pem'), 'utf8')).toBe('intermediate B');
  });

  it('writes nothing when bytes and modes are unchanged', async () => {
    // Prepare
    const files = payload({ 'root-cert.pem': file('A'), 'ca-key.pem': file('key', 0o600) });
    const first = await writeVolumeAtomically(dir, files);
    const before = (await lstat(join(dir, '..data'))).mtimeMs;
    const events = watchEvents(dir);

    // Act
    const again = await writeVolumeAtomically(
      dir,
      payload({ 'root-cert.pem': file('A'), 'ca-key.pem': file('key', 0o600) }),
    );
    await sleep(300);

    // Assess
    expect(again).toEqual({ written: false, dataDir: first.dataDir });
    expect((await lstat(join(dir, '..data'))).mtimeMs).toBe(before);
    expect(events).toEqual([]);
  });

  it('rewrites when only a mode changed', async () => {
    // Prepare
    await writeVolumeAtomically(dir, payload({ 'ca-key.pem': file('key', 0o644) }));

    // Act
    const result = await writeVolumeAtomically(dir, payload({ 'ca-key.pem': file('key', 0o600) }));

    // Assess
    expect(result.written).toBe(true);
    expect((await stat(join(dir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('restores a user-visible symlink someone removed, without swapping', async () => {
    // Prepare
    const first = await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file('A') }));
    await rm(join(dir, 'root-cert.pem'));

    // Act
    const again = await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file('A') }));

    // Assess
    expect(again).toEqual({ written: false, dataDir: first.dataDir });
    expect(await readFile(join(dir, 'root-cert.pem'), 'utf8')).toBe('A');
  });

  it('recovers from a ..data_tmp left by a writer that died before its rename', async () => {
    // Prepare
    await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file('A') }));
    const { symlink } = await import('node:fs/promises');
    await symlink('..2020_01_01_00_00_00.gone', join(dir, '..data_tmp'));

    // Act
    await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file('B') }));

    // Assess
    expect(await readFile(join(dir, 'root-cert.pem'), 'utf8')).toBe('B');
    expect(await readdir(dir)).not.toContain('..data_tmp');
  });

  it('gives a directory watcher (inotify, as fsnotify in istiod) an event for ..data on an update', async () => {
    // Prepare
    await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file('A') }));
    const events = watchEvents(dir);

    // Act
    await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file('A+B') }));
    await waitFor(() => events.includes('..data'));

    // Assess
    expect(events).toContain('..data');
  });
});

describe('writeVolumeAtomically: a concurrent reader', () => {
  // Each version is one large file whose first and last lines carry the version: a torn read shows.
  const PAD = 'x'.repeat(64 * 1024);
  // Alone this takes about 2 s; on 2 cores shared with a Go build and other suites, far longer.
  const READER_TEST_TIMEOUT_MS = 60_000;
  const versionText = (version: number) => `v${version}:${PAD}:v${version}`;

  // A reader on its own thread, opening `<dir>/root-cert.pem` over and over as istiod would.
  const READER = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const flag = new Int32Array(workerData.flag);
    const stats = { reads: 0, missing: 0, partial: 0, versions: new Set() };
    parentPort.postMessage('ready');
    while (Atomics.load(flag, 0) === 0) {
      let text;
      try {
        text = readFileSync(workerData.path, 'latin1');
      } catch (error) {
        if (error.code !== 'ENOENT') throw error;
        // A reader that resolved ..data just before a swap may find the old folder already gone:
        // kubelet deletes it right after the rename too. Opening again must find the new version.
        try {
          text = readFileSync(workerData.path, 'latin1');
        } catch (again) {
          if (again.code === 'ENOENT') { stats.missing++; continue; }
          throw again;
        }
      }
      stats.reads++;
      const match = /^v(\\d+):(x*):v(\\d+)$/.exec(text);
      if (!match || match[1] !== match[3] || match[2].length !== workerData.padLength) stats.partial++;
      else stats.versions.add(match[1]);
    }
    const { reads, missing, partial } = stats;
    parentPort.postMessage({ reads, missing, partial, versions: stats.versions.size });
  `;

  interface ReaderStats {
    reads: number;
    missing: number;
    partial: number;
    versions: number;
  }

  async function readWhile(path: string, work: () => Promise<void>): Promise<ReaderStats> {
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(READER, { eval: true, workerData: { path, flag, padLength: PAD.length } });
    const messages: unknown[] = [];
    const finished = new Promise<ReaderStats>((resolve, reject) => {
      worker.on('message', (message) => {
        messages.push(message);
        if (message !== 'ready') resolve(message as ReaderStats);
      });
      worker.on('error', reject);
    });
    await waitFor(() => messages.includes('ready'), 30_000);
    try {
      await work();
    } finally {
      Atomics.store(new Int32Array(flag), 0, 1);
    }
    const stats = await finished;
    await worker.terminate();
    return stats;
  }

  it(
    'never sees a partial root-cert.pem, nor a missing one that a second open does not find, during many updates',
    async () => {
      // Prepare
      await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file(versionText(0)) }));

      // Act
      const stats = await readWhile(join(dir, 'root-cert.pem'), async () => {
        for (let version = 1; version <= 150; version++) {
          await writeVolumeAtomically(dir, payload({ 'root-cert.pem': file(versionText(version)) }));
        }
      });

      // Assess
      expect(stats.reads).toBeGreaterThan(0);
      expect(stats.versions).toBeGreaterThan(1);
      expect({ missing: stats.missing, partial: stats.partial }).toEqual({ missing: 0, partial: 0 });
    },
    READER_TEST_TIMEOUT_MS,
  );

  it(
    'control: the same reader catches a writer that replaces the file in place',
    async () => {
      // Prepare
      const path = join(dir, 'root-cert.pem');
      await writeFile(path, versionText(0));

      // Act: what a non-atomic update does (remove, then write in two halves)
      const stats = await readWhile(path, async () => {
        for (let version = 1; version <= 150; version++) {
          const text = versionText(version);
          await rm(path);
          await sleep(1);
          await writeFile(path, text.slice(0, text.length / 2));
          await sleep(1);
          await writeFile(path, text);
        }
      });

      // Assess
      expect(stats.missing + stats.partial).toBeGreaterThan(0);
    },
    READER_TEST_TIMEOUT_MS,
  );
});
