// One scratch folder per test run: every temp file the tests (and the tools they start: CDK's
// assemblies, moto, kubectl caches, Chromium profiles) make goes under it, and it is removed when the
// run ends, passing or failing. It works through TMPDIR, which os.tmpdir() and the workers (forked
// after global setup) follow.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function enterScratchDir() {
  const shared = globalThis.__meshtrustScratch;
  if (shared !== undefined) {
    shared.users += 1;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'meshtrust-test-run-'));
  globalThis.__meshtrustScratch = { dir, users: 1, previous: process.env.TMPDIR };
  process.env.TMPDIR = dir;
  // If jest dies without running teardown, still leave nothing behind.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

export function leaveScratchDir() {
  const shared = globalThis.__meshtrustScratch;
  if (shared === undefined) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  globalThis.__meshtrustScratch = undefined;
  if (shared.previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = shared.previous;
  rmSync(shared.dir, { recursive: true, force: true });
}
