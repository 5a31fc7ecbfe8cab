// A guarded process group dies with the process that started it, however that one ends: SIGKILL, or
// a plain exit without stopping it. Released, the group is left to its owner.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isRunning } from '../../support/process-tree.js';

const GUARD_MODULE = fileURLToPath(new URL('../../../lab/process-group-guard.ts', import.meta.url));
let scratch: string;
const groups: number[] = [];

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'meshtrust-guard-'));
});

afterAll(() => {
  for (const group of groups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * A node process that starts a group of three (a shell and two sleeps), guards it, prints the pids,
 * then (`then`) waits forever, exits, or releases the guard and waits.
 */
function owner(then: 'wait' | 'exit' | 'release'): Promise<{ child: ChildProcess; group: number[] }> {
  const script = join(scratch, `owner-${then}.mts`);
  writeFileSync(
    script,
    `import { spawn } from 'node:child_process';
import { guardProcessGroup } from ${JSON.stringify(GUARD_MODULE)};
const leader = spawn('/bin/sh', ['-c', 'sleep 300 & echo $!; sleep 300 & echo $!; wait'], {
  detached: true, stdio: ['ignore', 'pipe', 'ignore'],
});
let text = '';
leader.stdout.on('data', (chunk) => {
  text += chunk;
  if (text.split('\\n').length < 3) return;
  const guard = guardProcessGroup(leader.pid);
  leader.unref();
  leader.stdout.destroy();
  if (${JSON.stringify(then)} === 'release') guard.release();
  console.log(JSON.stringify([leader.pid, ...text.trim().split('\\n').map(Number)]));
  if (${JSON.stringify(then)} !== 'exit') setInterval(() => undefined, 1000);
});
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes('\n')) return;
      const group = JSON.parse(out) as number[];
      groups.push(group[0] as number);
      resolve({ child, group });
    });
    child.once('exit', (code) => {
      if (out === '') reject(new Error(`the owner exited (${code}) before it started its group`));
    });
  });
}

async function settled(pids: readonly number[], alive: boolean, withinMs = 3000): Promise<boolean[]> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline && pids.some((pid) => isRunning(pid) !== alive)) await sleep(50);
  return pids.map(isRunning);
}

describe('guardProcessGroup', () => {
  it('kills the whole group when its owner is killed with SIGKILL', async () => {
    // Prepare
    const { child, group } = await owner('wait');
    expect(group.map(isRunning)).toEqual([true, true, true]);

    // Act
    child.kill('SIGKILL');

    // Assess
    expect(await settled(group, false)).toEqual([false, false, false]);
  });

  it('kills the group when its owner exits without stopping it, and does not keep the owner alive', async () => {
    // Prepare
    const { child, group } = await owner('exit');

    // Act
    const code = await new Promise((resolve) => child.once('exit', resolve));

    // Assess
    expect(code).toBe(0);
    expect(await settled(group, false)).toEqual([false, false, false]);
  });

  it('leaves the group to its owner once released', async () => {
    // Prepare
    const { child, group } = await owner('release');

    // Act
    child.kill('SIGKILL');
    await sleep(1000);

    // Assess
    expect(group.map(isRunning)).toEqual([true, true, true]);
  });
});
