// The synthesized app the rehearsal runs: cdk.out, reused while it is newer than every source it was
// built from, else synthesized again with `npx cdk synth` (esbuild bundles every handler, 1-2 minutes).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardProcessGroup } from '../lab/process-group-guard.js';
import { CloudAssemblyError } from './rehearsal-errors.js';
import type { CfnTemplate } from './resolve-definition.js';

/** What cdk.out is built from; a change to any of them makes it stale. */
export const SYNTH_INPUTS = ['lib', 'lambdas', 'bin/app.ts', 'cdk.json', 'package-lock.json'] as const;

/**
 * Whether `projectRoot` holds the app ensureCloudAssembly synthesizes (cdk.json naming bin/app.ts): a
 * checkout does; the installed package ships neither, so it rehearses the assembly of the consumer's
 * own app, as `cdk synth` left it.
 */
export function hasOwnApp(projectRoot: string): boolean {
  return existsSync(join(projectRoot, 'cdk.json')) && existsSync(join(projectRoot, 'bin', 'app.ts'));
}

export interface CloudAssembly {
  readonly directory: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  /** True when an existing, fresh cdk.out was used as is. */
  readonly reused: boolean;
}

export interface EnsureCloudAssemblyOptions {
  readonly projectRoot: string;
  /** @default <projectRoot>/cdk.out */
  readonly directory?: string;
  /** Progress lines while synthesizing (it takes a while). */
  readonly onProgress?: (line: string) => void;
  /** Stops a synth under way (or the wait for another one): ensureCloudAssembly then rejects. */
  readonly signal?: AbortSignal;
  /**
   * CDK context given to the synth (`-c KEY=VALUE`) over cdk.json's, e.g. `{ approval: 'true' }` for a
   * stack with approval gates. An assembly built with other context is synthesized again, so give
   * such an assembly a `directory` of its own.
   */
  readonly context?: Readonly<Record<string, string>>;
}

/** Beside manifest.json: the context the assembly was synthesized with (ensureCloudAssembly's). */
const SYNTH_CONTEXT_FILE = 'rehearsal-synth-context.json';

const LOCK_STALE_MS = 10 * 60_000;

/** Reuses a fresh cdk.out or synthesizes one; one synth at a time per directory (a lock directory). */
export async function ensureCloudAssembly(options: EnsureCloudAssemblyOptions): Promise<CloudAssembly> {
  const directory = options.directory ?? join(options.projectRoot, 'cdk.out');
  const progress = options.onProgress ?? (() => undefined);
  const lock = `${directory}.rehearsal-lock`;
  await acquireLock(lock, progress, options.signal);
  try {
    const newestInput = await newestModification(options.projectRoot, SYNTH_INPUTS);
    const built = await assemblyTime(directory);
    const context = JSON.stringify(options.context ?? {});
    const builtWith = await readFile(join(directory, SYNTH_CONTEXT_FILE), 'utf8').catch(() => '{}');
    if (built !== undefined && built > newestInput.time && builtWith === context) {
      return { ...(await readCloudAssembly(directory)), reused: true };
    }
    progress(
      built === undefined
        ? `no cdk.out yet: synthesizing the stack (esbuild bundles every handler; 1-2 minutes)`
        : builtWith !== context
          ? `${relative(options.projectRoot, directory)} was synthesized with other context: synthesizing again (1-2 minutes)`
          : `cdk.out is older than ${relative(options.projectRoot, newestInput.file)}: synthesizing again (1-2 minutes)`,
    );
    await synth(options.projectRoot, directory, options.context ?? {}, progress, options.signal);
    if (options.context !== undefined) await writeFile(join(directory, SYNTH_CONTEXT_FILE), context);
    return { ...(await readCloudAssembly(directory)), reused: false };
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Reads the (single) stack of a cloud assembly. */
export async function readCloudAssembly(directory: string): Promise<Omit<CloudAssembly, 'reused'>> {
  let manifest: { artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }> };
  try {
    manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8'));
  } catch (error) {
    throw new CloudAssemblyError(
      `${directory} holds no readable manifest.json; delete it and run again to synthesize`,
      directory,
      { cause: error },
    );
  }
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
  );
  const [stack] = stacks;
  if (stacks.length !== 1 || stack === undefined || stack[1].properties?.templateFile === undefined) {
    throw new CloudAssemblyError(
      `${directory} holds ${stacks.length} stacks; the rehearsal runs an app with exactly one (bin/app.ts)`,
      directory,
    );
  }
  const templateFile = join(directory, stack[1].properties.templateFile);
  const template = JSON.parse(await readFile(templateFile, 'utf8')) as CfnTemplate;
  return { directory, stackName: stack[0], templateFile, template };
}

async function synth(
  projectRoot: string,
  directory: string,
  context: Readonly<Record<string, string>>,
  progress: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  await rm(directory, { recursive: true, force: true });
  const startedAt = Date.now();
  // npx, the cdk CLI, the app and esbuild: a group of its own, which dies with this process however it
  // dies (a synth left running would rebuild cdk.out under the next run) and stops on `signal`.
  const contextArgs = Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  const child = spawn('npx', ['cdk', 'synth', '--quiet', '--output', directory, ...contextArgs], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
    detached: true,
  });
  const guard = child.pid === undefined ? undefined : guardProcessGroup(child.pid);
  const stop = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };
  signal?.addEventListener('abort', stop, { once: true });
  let output = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-8000);
    for (const match of text.matchAll(/Bundling asset \S+\/Functions\/([^/]+)\//g)) {
      progress(`synth: bundling ${match[1]} (${Math.round((Date.now() - startedAt) / 1000)} s)`);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  })
    .catch((error: unknown) => {
      throw new CloudAssemblyError(`could not run npx cdk synth: ${String(error)}`, directory, {
        cause: error,
      });
    })
    .finally(() => {
      signal?.removeEventListener('abort', stop);
      // Whatever of the group outlived npx (an esbuild service) goes with it.
      stop();
      guard?.release();
    });
  signal?.throwIfAborted();
  if (code !== 0) {
    throw new CloudAssemblyError(
      `npx cdk synth failed (exit ${code}); fix the stack or a handler and run again. Its output ended:\n${output}`,
      directory,
    );
  }
  // The assembly is as old as the sources synth read, not as the files it wrote: a source changed while
  // it ran (after esbuild read it) then makes it stale at the next check instead of passing for fresh.
  const readFrom = new Date(startedAt);
  // No manifest: readCloudAssembly says so, with what to do.
  await utimes(join(directory, 'manifest.json'), readFrom, readFrom).catch(() => undefined);
  progress(`synth: done in ${Math.round((Date.now() - startedAt) / 1000)} s`);
}

async function assemblyTime(directory: string): Promise<number | undefined> {
  try {
    return (await stat(join(directory, 'manifest.json'))).mtimeMs;
  } catch {
    return undefined;
  }
}

async function newestModification(
  root: string,
  inputs: readonly string[],
): Promise<{ file: string; time: number }> {
  let newest = { file: root, time: 0 };
  const visit = async (path: string): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      return;
    }
    if (info.isDirectory()) {
      for (const entry of await readdir(path)) await visit(join(path, entry));
    } else if (info.mtimeMs > newest.time) {
      newest = { file: path, time: info.mtimeMs };
    }
  };
  for (const input of inputs) await visit(join(root, input));
  return newest;
}

async function acquireLock(
  lock: string,
  progress: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  let told = false;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStaleLock(lock)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) progress(`another rehearsal is synthesizing (${lock}); waiting for it`);
    told = true;
    await sleep(500);
  }
}

/** A lock is stale when the process that took it is gone (killed mid-synth), or it is very old. */
async function isStaleLock(lock: string): Promise<boolean> {
  const age = await stat(lock).then(
    (info) => Date.now() - info.mtimeMs,
    () => 0,
  );
  if (age > LOCK_STALE_MS) return true;
  const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
  // No pid yet: the owner is between mkdir and writeFile; give it the benefit of the doubt.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
