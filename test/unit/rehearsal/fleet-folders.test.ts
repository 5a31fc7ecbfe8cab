// The istio rehearsal's fleet folders: each names its owner, and only those of dead owners are removed.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createFleetFolder,
  FLEET_FOLDER_PREFIX,
  removeAbandonedFleetFolders,
} from '../../../rehearsal/fleet/fleet-folders.js';

let parent: string;

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'mt-fleet-folders-'));
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('fleet folders', () => {
  it('removes a folder whose owner is dead, keeps a live one and one without an owner', async () => {
    // Prepare
    const live = await createFleetFolder(parent);
    const dead = join(parent, `${FLEET_FOLDER_PREFIX}dead`);
    await mkdir(dead);
    await writeFile(join(dead, 'owner.pid'), `${deadPid()}\n`);
    await writeFile(join(dead, 'ca-key.pem'), 'test material');
    const unowned = join(parent, `${FLEET_FOLDER_PREFIX}unowned`);
    await mkdir(unowned);
    await mkdir(join(parent, 'something-else'));

    // Act
    const removed = await removeAbandonedFleetFolders(parent);

    // Assess
    expect(removed).toEqual([dead]);
    expect((await readdir(parent)).sort()).toEqual(
      [live, unowned]
        .map((dir) => dir.slice(parent.length + 1))
        .concat('something-else')
        .sort(),
    );
  });
});
