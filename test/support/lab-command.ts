// `meshtrust lab` as a child process, as an operator starts it (npx tsx, its own process group), for
// the tests that use the lab through the files it writes and stop it with a signal.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { LabDescription } from '../../lab/lab-files.js';
import { labKubeRequest } from '../../lab/lab-kube-request.js';
import { TrustBundle } from '../../lambdas/core/pki/index.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The environment of a shell without AWS settings (the lab's env file provides them). */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

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

export interface LabCommand {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** lab.json, once written. */
  readonly description: LabDescription;
}

/** Starts `meshtrust lab <args> --out dir` and resolves once lab.json is there. */
export async function startLabCommand(
  args: readonly string[],
  dir: string,
  timeoutMs: number,
): Promise<LabCommand> {
  const child = spawn('npx', ['tsx', 'bin/meshtrust.ts', 'lab', ...args, '--out', dir], {
    cwd: repoRoot,
    env: cleanEnvironment(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`meshtrust lab exited early (${child.exitCode}):\n${output}`);
    const ready = await stat(join(dir, 'lab.json')).then(
      () => true,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`no lab.json after ${timeoutMs / 1000} s:\n${output}`);
    await sleep(200);
  }
  const description = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as LabDescription;
  return { child, exited, output: () => output, description };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a cluster's cacerts trusts now (root fingerprints), read from the lab of DIR as the rotator of
 * DIR/env, as an operator would with kubectl: not from a report.
 */
export async function labCacertsRoots(dir: string, cluster: string): Promise<string[]> {
  const description = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as LabDescription;
  const entry = description.clusters.find((candidate) => candidate.name === cluster);
  if (entry === undefined) throw new Error(`no cluster ${cluster} in ${dir}/lab.json`);
  const env = await readEnvFile(join(dir, 'env'));
  const response = await labKubeRequest({
    cluster: { name: entry.name, endpoint: entry.endpoint, caPem: await readFile(entry.caFile, 'utf8') },
    region: description.region,
    identity: {
      name: 'rotator',
      arn: '',
      principalArn: '',
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
        sessionToken: env.AWS_SESSION_TOKEN ?? '',
      },
    },
    method: 'GET',
    path: '/api/v1/namespaces/istio-system/secrets/cacerts',
  });
  if (response.status !== 200) throw new Error(`GET cacerts of ${cluster} answered ${response.status}`);
  const rootCert = Buffer.from(String(response.body.data['root-cert.pem']), 'base64').toString('utf8');
  return TrustBundle.parse(rootCert).fingerprints();
}

/**
 * Stops a lab started by startLabCommand as an operator would (SIGINT, then `graceMs` to stop cleanly),
 * and whatever of it is still running after that (its process group, its moto_server).
 */
export async function stopLabCommand(lab: LabCommand | undefined, graceMs: number): Promise<void> {
  const description = lab?.description;
  if (lab !== undefined && description !== undefined && isAlive(description.pid)) {
    process.kill(description.pid, 'SIGINT');
    await Promise.race([lab.exited, sleep(graceMs, undefined, { ref: false })]);
  }
  if (lab?.child.pid !== undefined && lab.child.exitCode === null && lab.child.signalCode === null) {
    process.kill(-lab.child.pid, 'SIGKILL');
  }
  if (description?.moto && isAlive(description.moto.pid)) process.kill(-description.moto.pid, 'SIGKILL');
}
