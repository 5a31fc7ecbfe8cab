// Where an istio-engine rehearsal keeps its fleet (clusters' keys, pod folders, logs): a temporary
// folder outside the report, removed when the fleet stops. A rehearsal killed outright (SIGKILL) cannot
// remove it, so each folder names its owner's pid, and the next rehearsal removes the folders whose
// owner is gone (the fleet's processes died with it: they run under --pdeathsig).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../../lab/process-alive.js';

export const FLEET_FOLDER_PREFIX = 'meshtrust-rehearsal-fleet-';
const OWNER_FILE = 'owner.pid';

export async function createFleetFolder(parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, FLEET_FOLDER_PREFIX));
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}

/** Removes the fleet folders whose owner process is gone; returns their paths. */
export async function removeAbandonedFleetFolders(parent = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent)) {
    if (!name.startsWith(FLEET_FOLDER_PREFIX)) continue;
    const dir = join(parent, name);
    const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
    // No owner file: a folder being created this very moment, or not ours to judge.
    if (!Number.isInteger(owner) || owner <= 0 || isProcessAlive(owner)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
