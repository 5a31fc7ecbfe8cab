// Two `npm run chaos` at once share chaos/cdk.out (each may synthesize it, which deletes it first, and
// every case reads it) and chaos/results.json: the second waits for the first, with a line naming it,
// and never sees the assembly change under it. A run that shares neither takes no lock.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CHAOS_LOCK_FILE,
  describeChaosHolder,
  holdChaosAssembly,
  needsChaosLock,
} from '../../../chaos/chaos-lock.js';
import type { CloudAssembly } from '../../../rehearsal/cloud-assembly.js';

const CDK_OUT = 'chaos/cdk.out';
let projectRoot: string;

beforeEach(async () => {
  projectRoot = await mkdtemp(join(tmpdir(), 'meshtrust-chaos-lock-'));
  await mkdir(join(projectRoot, 'chaos'));
});

afterEach(async () => {
  await rm(projectRoot, { recursive: true, force: true });
});

/**
 * A synth as ensureCloudAssembly makes one when the sources changed: chaos/cdk.out deleted, then written
 * again over a while, stamped with `synth`.
 */
async function synth(synthId: string): Promise<CloudAssembly> {
  const directory = join(projectRoot, CDK_OUT);
  await rm(directory, { recursive: true, force: true });
  await sleep(30);
  await mkdir(directory, { recursive: true });
  const templateFile = join(directory, 'stack.template.json');
  await writeFile(templateFile, JSON.stringify({ Description: synthId }));
  return { directory, stackName: 'stack', templateFile, template: {}, reused: false };
}

/** One run: holds the assembly, reads its template as each case would, for a while, then releases. */
async function chaosRun(name: string, seen: string[], progress: string[]): Promise<void> {
  const held = await holdChaosAssembly({
    projectRoot,
    defaultCdkOut: CDK_OUT,
    write: true,
    onProgress: (line) => progress.push(`${name}: ${line}`),
    pollMs: 20,
    ensure: () => synth(name),
  });
  try {
    seen.push(`${name} holds`);
    for (let reads = 0; reads < 5; reads += 1) {
      const template = await readFile(held.assembly.templateFile, 'utf8').catch(() => 'gone');
      seen.push(`${name} reads ${template === 'gone' ? 'gone' : JSON.parse(template).Description}`);
      await sleep(40);
    }
  } finally {
    seen.push(`${name} ends`);
    await held.release();
  }
}

/** A run that writes results and holds the lock over the default assembly, synthesized as "holder". */
function holdAsHolder() {
  return holdChaosAssembly({
    projectRoot,
    defaultCdkOut: CDK_OUT,
    write: true,
    onProgress: () => undefined,
    ensure: () => synth('holder'),
  });
}

describe('holdChaosAssembly', () => {
  it('lets a second run synthesize only after the first ended, and says whose lock it waits for', async () => {
    // Prepare
    const seen: string[] = [];
    const progress: string[] = [];

    // Act: the second starts while the first is still synthesizing
    const first = chaosRun('first', seen, progress);
    await sleep(5);
    const second = chaosRun('second', seen, progress);
    await Promise.all([first, second]);

    // Assess: each run read only its own synth, one run after the other
    expect(seen).toEqual([
      'first holds',
      ...Array(5).fill('first reads first'),
      'first ends',
      'second holds',
      ...Array(5).fill('second reads second'),
      'second ends',
    ]);
    expect(progress).toEqual([
      expect.stringMatching(
        new RegExp(
          `^second: chaos run pid ${process.pid} on \\S+ holds ${CHAOS_LOCK_FILE}, running since \\S+ \\(0 min\\): ` +
            'it uses chaos/cdk.out and writes chaos/results.json; waiting until it ends',
        ),
      ),
      expect.stringMatching(/^second: chaos\/run\.lock is ours after \d+ s of waiting$/),
    ]);
  });

  it('releases the lock when the synth fails, so the next run is not kept waiting', async () => {
    // Prepare
    const failing = holdChaosAssembly({
      projectRoot,
      defaultCdkOut: CDK_OUT,
      write: true,
      onProgress: () => undefined,
      ensure: () => Promise.reject(new Error('npx cdk synth failed')),
    });
    await expect(failing).rejects.toThrow('npx cdk synth failed');

    // Act
    const progress: string[] = [];
    const held = await holdChaosAssembly({
      projectRoot,
      defaultCdkOut: CDK_OUT,
      write: true,
      onProgress: (line) => progress.push(line),
      signal: AbortSignal.timeout(2_000),
      ensure: () => synth('next'),
    });
    await held.release();

    // Assess
    expect(progress).toEqual([]);
  });

  it('stops waiting when interrupted, leaving the holder its lock', async () => {
    // Prepare
    const held = await holdAsHolder();

    // Act
    const waiting = holdChaosAssembly({
      projectRoot,
      defaultCdkOut: CDK_OUT,
      write: true,
      onProgress: () => undefined,
      pollMs: 20,
      signal: AbortSignal.timeout(150),
      ensure: () => synth('waiter'),
    });

    // Assess
    await expect(waiting).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(JSON.parse(await readFile(held.assembly.templateFile, 'utf8')).Description).toBe('holder');
    await held.release();
  });

  it('takes no lock for a run on another assembly that keeps no results', async () => {
    // Prepare: a run holds the lock
    const held = await holdAsHolder();

    // Act: --cdk-out elsewhere --no-write goes ahead at once
    const other = await holdChaosAssembly({
      projectRoot,
      defaultCdkOut: CDK_OUT,
      cdkOut: join(projectRoot, 'cdk.out'),
      write: false,
      onProgress: () => undefined,
      signal: AbortSignal.timeout(1_000),
      ensure: async () => ({
        directory: 'elsewhere',
        stackName: 's',
        templateFile: 't',
        template: {},
        reused: true,
      }),
    });

    // Assess
    expect(other.assembly.directory).toBe('elsewhere');
    await other.release();
    await held.release();
  });
});

describe('needsChaosLock', () => {
  const base = { projectRoot: '/p', defaultCdkOut: CDK_OUT };

  it('locks a run that synthesizes or reads chaos/cdk.out, or writes chaos/results.json', () => {
    // Act, Assess
    expect(needsChaosLock({ ...base, write: false })).toBe(true);
    expect(needsChaosLock({ ...base, cdkOut: 'other', write: true })).toBe(true);
    expect(needsChaosLock({ ...base, cdkOut: './chaos/cdk.out/', write: false })).toBe(true);
    expect(needsChaosLock({ ...base, cdkOut: '/p/chaos/cdk.out', write: false })).toBe(true);
    expect(needsChaosLock({ ...base, cdkOut: 'cdk.out', write: false })).toBe(false);
  });
});

describe('describeChaosHolder', () => {
  it('names the holder and how long it has run, or says it is unknown', () => {
    // Prepare
    const owner = { pid: 42, hostname: 'box', startedAt: '2026-12-02T10:00:00.000Z' };
    // Act, Assess
    expect(describeChaosHolder(owner, CHAOS_LOCK_FILE, new Date('2026-12-02T10:25:00Z'))).toMatch(
      /^chaos run pid 42 on box holds chaos\/run\.lock, running since 2026-12-02T10:00:00\.000Z \(25 min\): /,
    );
    expect(describeChaosHolder(undefined, CHAOS_LOCK_FILE)).toMatch(
      /^another chaos run holds chaos\/run\.lock: /,
    );
  });
});
