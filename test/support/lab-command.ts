// `meshtrust lab` as a child process, as an operator starts it (npx tsx, its own process group), for
// the tests that use the lab through the files it writes and stop it with a signal.
// The lab process itself is chaos/meshtrust-lab.ts, which `npm run chaos`'s kill cases start the same way.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { environmentWithoutAws, type MeshtrustLab, startMeshtrustLab } from '../../chaos/meshtrust-lab.js';

export { labCacertsRoots, stopMeshtrustLab as stopLabCommand } from '../../chaos/meshtrust-lab.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The environment of a shell without AWS settings (the lab's env file provides them). */
export const cleanEnvironment = environmentWithoutAws;

/** The variables of DIR/env, as `source` would set them (values are single-quoted). */
export async function readEnvFile(file: string): Promise<Record<string, string>> {
  const variables: Record<string, string> = {};
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const match = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined)
      variables[match[1]] = match[2].replaceAll(`'\\''`, "'");
  }
  return variables;
}

export type LabCommand = MeshtrustLab;

/** Starts `meshtrust lab <args> --out dir` through npx tsx and resolves once lab.json is there. */
export function startLabCommand(
  args: readonly string[],
  dir: string,
  timeoutMs: number,
): Promise<LabCommand> {
  return startMeshtrustLab({
    projectRoot: repoRoot,
    dir,
    args,
    timeoutMs,
    env: cleanEnvironment(),
    launcher: ['npx', 'tsx'],
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
