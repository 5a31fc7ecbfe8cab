// `meshtrust lab` as an operator runs it: a child process started with npx tsx, used from other
// processes through the files it writes (lab probe, awscli with DIR/env), then stopped with SIGINT to
// the lab process (the pid in lab.json). It must leave no process or port behind, and the exit code
// 0 must come back through tsx and npx. (A terminal's Ctrl-C signals the whole group: the lab stops
// the same way, but npm exec then reports the signal itself, 130, whatever its child returned.)
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import type { LabControlAccess, LabDescription } from '../../../lab/lab-files.js';
import {
  cleanEnvironment,
  type LabCommand,
  readEnvFile,
  repoRoot,
  startLabCommand,
} from '../../support/lab-command.js';
import { type CommandResult, runCommand } from '../../support/run-command.js';

jest.setTimeout(180_000);

let dir: string;
let child: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let lab: LabCommand;
let description: LabDescription;
let control: LabControlAccess;

function runMeshtrust(args: string[], env: NodeJS.ProcessEnv = cleanEnvironment()): Promise<CommandResult> {
  return runCommand(process.execPath, ['--import', 'tsx', 'bin/meshtrust.ts', ...args], {
    cwd: repoRoot,
    env,
    timeoutMs: 120_000,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-cli-lab-'));
  // --istio-version: the istiod model plays Istio 1.30's rules, not the default 1.29's.
  lab = await startLabCommand(
    ['--clusters', '2', '--workloads', '4', '--istio-version', '1.30'],
    dir,
    120_000,
  );
  ({ child, exited, description } = lab);
  control = JSON.parse(await readFile(join(dir, 'control.json'), 'utf8')) as LabControlAccess;
});

afterAll(async () => {
  // Only if a test failed before the lab was stopped: end it and its moto_server.
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    process.kill(-child.pid, 'SIGKILL');
  }
  if (description?.moto && isAlive(description.moto.pid)) process.kill(-description.moto.pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('meshtrust lab (child process)', () => {
  it('prints how to use the lab once its files are written', async () => {
    // Prepare
    const deadline = Date.now() + 10_000;
    while (!lab.output().includes('Ctrl-C stops the lab') && Date.now() < deadline) await sleep(100);

    // Assess
    expect(lab.output()).toContain(`source ${join(dir, 'env')}`);
    expect(lab.output()).toContain('kubectl --context lab-1 get ns');
    expect(lab.output()).toContain(`meshtrust lab probe --lab ${dir}`);
    expect(description).toMatchObject({ state: 'running', meshId: 'lab', region: 'us-east-1' });
    expect(description.clusters.map((cluster) => cluster.name)).toEqual(['lab-1', 'lab-2']);
  });

  it('answers lab probe with a full round of successful handshakes (exit 0)', async () => {
    // Act
    const result = await runMeshtrust(['lab', 'probe', '--lab', dir, '--json']);

    // Assess
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { rounds: number; attempted: number; failed: number };
    expect(report.rounds).toBe(1);
    expect(report.attempted).toBeGreaterThan(0);
    expect(report.failed).toBe(0);
  });

  it('runs the Istio version --istio-version names: lab.json says so, and istiod and the proxies carry its tag', async () => {
    // Prepare
    const env = { ...cleanEnvironment(), ...(await readEnvFile(join(dir, 'env'))) };
    const kubectl = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('kubectl', ['--context', 'lab-1', ...args], { env, timeout: 60_000 }, (error, out) =>
          error ? reject(new Error(`kubectl failed: ${error.message.split('\n')[0]}`)) : resolve(out),
        ),
      );

    // Act
    const istiodImage = await kubectl([
      '-n',
      'istio-system',
      'get',
      'deployment',
      'istiod',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    const proxyImages = await kubectl([
      'get',
      'pods',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{range .spec.containers[?(@.name=="istio-proxy")]}{.image}{"\\n"}{end}{end}',
    ]);

    // Assess
    expect(description.engine).toEqual({ name: 'model', istio: '1.30' });
    expect(istiodImage).toBe('docker.io/istio/pilot:1.30.0');
    const proxies = proxyImages.split('\n').filter((line) => line !== '');
    expect(proxies.length).toBeGreaterThan(0);
    expect(new Set(proxies)).toEqual(new Set(['docker.io/istio/proxyv2:1.30.0']));
  });

  it('seeds moto like a deployed stack: awscli with DIR/env reads root A, the intermediates and the mesh key', async () => {
    // Prepare
    const env = { ...cleanEnvironment(), ...(await readEnvFile(join(dir, 'env'))) };
    const rootPem = await readFile(description.rootA.certificateFile, 'utf8');

    // Act
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        'aws',
        ['secretsmanager', 'get-secret-value', '--secret-id', 'meshtrust/lab/root', '--output', 'json'],
        { env, timeout: 60_000 },
        (error, out) =>
          error ? reject(new Error(`aws failed: ${error.message.split('\n')[0]}`)) : resolve({ stdout: out }),
      ),
    );

    // Assess: compare fields only, so a failure never prints the key.
    const secret = JSON.parse(stdout) as { VersionStages: string[]; SecretString: string };
    const material = JSON.parse(secret.SecretString) as { certificatePem: string; fingerprint: string };
    expect(secret.VersionStages).toEqual(['AWSCURRENT']);
    expect(material.certificatePem).toBe(rootPem);
    expect(material.fingerprint).toBe(description.rootA.fingerprint);
    const names = await new Promise<string>((resolve, reject) =>
      execFile(
        'aws',
        ['secretsmanager', 'list-secrets', '--query', 'SecretList[].Name', '--output', 'json'],
        { env, timeout: 60_000 },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    const awsJson = (args: string[]) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        execFile('aws', [...args, '--output', 'json'], { env, timeout: 60_000 }, (error, out) =>
          error ? reject(error) : resolve(JSON.parse(out) as Record<string, unknown>),
        ),
      );
    const key = (await awsJson(['kms', 'describe-key', '--key-id', 'alias/meshtrust/lab/ca'])) as {
      KeyMetadata: { Arn: string };
    };
    const rootSecret = await awsJson([
      'secretsmanager',
      'describe-secret',
      '--secret-id',
      'meshtrust/lab/root',
    ]);
    expect(rootSecret.KmsKeyId).toBe(key.KeyMetadata.Arn);
    // Root A is an imported root: its key sits in a secret of its own, named after its root version.
    expect((JSON.parse(names) as string[]).sort()).toEqual([
      'meshtrust/lab/intermediate/lab-1',
      'meshtrust/lab/intermediate/lab-2',
      'meshtrust/lab/root',
      expect.stringMatching(/^meshtrust\/lab\/root-key\/[0-9a-f-]{36}$/),
    ]);
    expect(secret.SecretString).not.toContain('PRIVATE KEY');
  });

  it('stops on SIGINT with exit 0, leaving no moto_server, no listening port and no credentials', async () => {
    // Prepare
    const urls = [
      description.eksEndpoint,
      control.url,
      ...(description.moto ? [description.moto.endpoint] : []),
      ...description.clusters.map((cluster) => cluster.endpoint),
    ];
    expect(await portAnswers(description.eksEndpoint)).toBe(true);

    // Act
    process.kill(description.pid, 'SIGINT');
    const result = await exited;

    // Assess
    expect({ ...result, output: result.code === 0 ? '' : lab.output() }).toEqual({
      code: 0,
      signal: null,
      output: '',
    });
    expect(isAlive(description.pid)).toBe(false);
    expect(description.moto && isAlive(description.moto.pid)).toBe(false);
    for (const url of urls) expect(await portAnswers(url)).toBe(false);
    const after = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as LabDescription;
    expect(after.state).toBe('stopped');
    await expect(stat(join(dir, 'env'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(dir, 'control.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
