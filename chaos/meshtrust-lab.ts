// `meshtrust lab` as a child process, as an operator starts it (its own process group, no AWS settings
// of the caller's), for what uses a lab through the files it writes and stops it with a signal: the
// kill cases of `npm run chaos`, and the tests of an attached rehearsal (test/support/lab-command.ts).
// Also what a cluster's cacerts trusts, read from the lab as its rotator would with kubectl.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacertsSnapshot } from '../lab/cacerts-snapshot.js';
import { type LabDescription, readLabDescription } from '../lab/lab-files.js';
import { labKubeRequest } from '../lab/lab-kube-request.js';
import { isProcessAlive } from '../lab/process-alive.js';
import { parseEnvFile } from '../rehearsal/fleet/attached-fleet.js';

/** The environment of a shell without AWS settings (the lab's env file provides them). */
export function environmentWithoutAws(): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

export interface MeshtrustLab {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** lab.json, once written. */
  readonly description: LabDescription;
}

export interface StartLabOptions {
  /** Where bin/meshtrust.ts is. */
  readonly projectRoot: string;
  /** Its --out. */
  readonly dir: string;
  /** `meshtrust lab` flags besides --out. */
  readonly args: readonly string[];
  readonly timeoutMs: number;
  /** @default environmentWithoutAws() */
  readonly env?: NodeJS.ProcessEnv;
  /** What runs bin/meshtrust.ts. @default node --import tsx */
  readonly launcher?: readonly string[];
}

/** Starts `meshtrust lab <args> --out dir` and resolves once lab.json is there. */
export async function startMeshtrustLab(options: StartLabOptions): Promise<MeshtrustLab> {
  const [command, ...launcherArgs] = options.launcher ?? [process.execPath, '--import', 'tsx'];
  const child = spawn(
    command as string,
    [...launcherArgs, 'bin/meshtrust.ts', 'lab', ...options.args, '--out', options.dir],
    {
      cwd: options.projectRoot,
      env: options.env ?? environmentWithoutAws(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`meshtrust lab exited early (${child.exitCode}):\n${output}`);
    const ready = await stat(join(options.dir, 'lab.json')).then(
      () => true,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`no lab.json after ${options.timeoutMs / 1000} s:\n${output}`);
    await sleep(200);
  }
  const description = JSON.parse(await readFile(join(options.dir, 'lab.json'), 'utf8')) as LabDescription;
  return { child, exited, output: () => output, description };
}

/**
 * Stops a lab started by startMeshtrustLab as an operator would (SIGINT, then `graceMs` to stop cleanly),
 * and whatever of it is still running after that (its process group, its moto_server).
 */
export async function stopMeshtrustLab(lab: MeshtrustLab | undefined, graceMs: number): Promise<void> {
  const description = lab?.description;
  if (lab !== undefined && description !== undefined && isProcessAlive(description.pid)) {
    process.kill(description.pid, 'SIGINT');
    await Promise.race([lab.exited, sleep(graceMs, undefined, { ref: false })]);
  }
  if (lab?.child.pid !== undefined && lab.child.exitCode === null && lab.child.signalCode === null) {
    process.kill(-lab.child.pid, 'SIGKILL');
  }
  if (description?.moto && isProcessAlive(description.moto.pid))
    process.kill(-description.moto.pid, 'SIGKILL');
}

/**
 * What a cluster's cacerts trusts now (root fingerprints), read from the lab of DIR as the rotator of
 * DIR/env, as an operator would with kubectl: not from a report.
 */
export async function labCacertsRoots(dir: string, cluster: string): Promise<string[]> {
  return [...(await labCacertsFingerprints(dir, cluster)).roots];
}

/** A cluster's cacerts as fingerprints: the roots it trusts and its intermediate (ca-cert.pem). */
export interface CacertsFingerprints {
  readonly roots: readonly string[];
  readonly caCert?: string;
}

/** What labCacertsRoots reads, with the intermediate's fingerprint too. */
export async function labCacertsFingerprints(dir: string, cluster: string): Promise<CacertsFingerprints> {
  const description = await readLabDescription(dir);
  const entry = description.clusters.find((candidate) => candidate.name === cluster);
  if (entry === undefined) throw new Error(`no cluster ${cluster} in ${dir}/lab.json`);
  const env = parseEnvFile(await readFile(join(dir, 'env'), 'utf8'));
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
  // Only fingerprints leave this function; the snapshot decodes no key.
  const snapshot = cacertsSnapshot(
    cluster,
    response.body.data,
    response.body.metadata?.resourceVersion ?? '',
  );
  return {
    roots: snapshot.rootFingerprints,
    ...(snapshot.caCertFingerprint === undefined ? {} : { caCert: snapshot.caCertFingerprint }),
  };
}
