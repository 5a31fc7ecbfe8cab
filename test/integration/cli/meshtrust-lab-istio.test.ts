// `meshtrust lab --engine istio` as an operator uses it: real Kubernetes and Istio behind the same
// files as the model engine (lab.json naming the engine and its versions, the EKS kubeconfig whose
// exec plugin runs `aws eks get-token`, env), `meshtrust lab probe` making real mTLS handshakes with
// what the pods' pilot-agents hold, and a clean stop that leaves no process and no key behind.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { LabDescription } from '../../../lab/lab-files.js';
import {
  cleanEnvironment,
  type LabCommand,
  readEnvFile,
  repoRoot,
  startLabCommand,
} from '../../support/lab-command.js';
import { runMeshtrustInProcess } from './in-process-cli.js';

const run = promisify(execFile);

jest.setTimeout(240_000);

let dir: string;
let lab: LabCommand;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-cli-istio-'));
});

afterAll(async () => {
  if (lab?.child.pid !== undefined && lab.child.exitCode === null && lab.child.signalCode === null) {
    process.kill(-lab.child.pid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

describe('meshtrust lab --engine istio (child process)', () => {
  beforeAll(async () => {
    lab = await startLabCommand(
      [
        '--engine',
        'istio',
        '--clusters',
        '2',
        '--workloads',
        '1',
        '--no-moto',
        '--proxy-env',
        'PROXY_CONFIG_XDS_AGENT=true',
        // Another test file's istio lab may be running on this machine: wait for it.
        '--wait-for-lab',
        '1800',
      ],
      dir,
      31 * 60_000,
    );
  }, 32 * 60_000);

  it('names the engine and the versions it runs in lab.json and in what it prints', async () => {
    // Prepare
    const deadline = Date.now() + 10_000;
    while (!lab.output().includes('Ctrl-C stops the lab') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Assess
    expect(lab.description.engine).toEqual({
      name: 'istio',
      kubernetes: expect.stringMatching(/^v\d+\.\d+\.\d+$/),
      istio: expect.stringMatching(/^\d+\.\d+/),
    });
    expect(lab.output()).toContain(
      `istio engine: Kubernetes ${lab.description.engine.kubernetes}, Istio ${lab.description.engine.istio}`,
    );
  });

  it('serves real injected pods to kubectl through the EKS kubeconfig and aws eks get-token', async () => {
    // Prepare
    const env = { ...cleanEnvironment(), ...(await readEnvFile(join(dir, 'env'))) };

    // Act
    const { stdout } = await run(
      'kubectl',
      ['--context', 'lab-2', '-n', 'shop', 'get', 'pods', '-o', 'json'],
      {
        env,
        timeout: 60_000,
      },
    );

    // Assess
    const pods = (
      JSON.parse(stdout) as { items: Array<{ spec: { initContainers?: Array<{ name: string }> } }> }
    ).items;
    expect(pods).toHaveLength(1);
    expect(pods[0]?.spec.initContainers?.map((container) => container.name)).toContain('istio-proxy');
  });

  it('answers lab probe with real handshakes between every pair of clusters, none failed', async () => {
    // Act
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/meshtrust.ts', 'lab', 'probe', '--lab', dir, '--rounds', '2', '--json'],
      { cwd: repoRoot, env: cleanEnvironment(), timeout: 120_000 },
    );

    // Assess
    expect(JSON.parse(stdout)).toMatchObject({ rounds: 2, attempted: 8, failed: 0 });
  });

  it('stops on SIGINT: lab.json says stopped, the fleet folder with its keys is gone, no component is left', async () => {
    // Act
    process.kill(lab.description.pid, 'SIGINT');
    const result = await lab.exited;

    // Assess
    expect(result.code).toBe(0);
    const description = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as LabDescription;
    expect(description.state).toBe('stopped');
    await expect(stat(join(dir, 'fleet'))).rejects.toMatchObject({ code: 'ENOENT' });
    const { stdout } = await run('ps', ['-eo', 'args']);
    expect(stdout.split('\n').filter((line) => line.includes(join(dir, 'fleet')))).toEqual([]);
  });
});

describe('meshtrust plan against an istio lab whose istiod runs without ISTIO_MULTIROOT_MESH', () => {
  let offDir: string;
  let offLab: LabCommand;

  beforeAll(async () => {
    offDir = await mkdtemp(join(tmpdir(), 'mt-cli-istio-off-'));
    offLab = await startLabCommand(
      [
        '--engine',
        'istio',
        '--clusters',
        '1',
        '--workloads',
        '1',
        '--istiod-env',
        'ISTIO_MULTIROOT_MESH=false',
        '--wait-for-lab',
        '1800',
      ],
      offDir,
      31 * 60_000,
    );
  }, 32 * 60_000);

  afterAll(async () => {
    if (offLab?.description.pid !== undefined && offLab.child.exitCode === null) {
      process.kill(offLab.description.pid, 'SIGINT');
      await offLab.exited;
    }
    await rm(offDir, { recursive: true, force: true });
  });

  it('refuses a root rotation (exit 1), naming the cluster and the setting read from the real istiod', async () => {
    // Prepare
    const env = { ...cleanEnvironment(), ...(await readEnvFile(join(offDir, 'env'))) };

    // Act
    const result = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/meshtrust.ts', 'plan', '--mode', 'scheduled'],
      {
        cwd: repoRoot,
        env,
        timeout: 120_000,
      },
    ).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

    // Assess
    expect(result.code).toBe(EXIT_CODES.checkFailed);
    expect(result.stdout).toMatch(/lab-1.*ISTIO_MULTIROOT_MESH/);
    expect(result.stdout).toContain('multi-root off');
  });
});

describe('meshtrust lab refuses istio-engine settings without the istio engine', () => {
  it('exits 2 naming the key when --proxy-env gives the model engine more than PCDS', async () => {
    // Act
    const result = await runMeshtrustInProcess([
      'lab',
      '--proxy-env',
      'PROXY_CONFIG_XDS_AGENT=true',
      '--proxy-env',
      'SECRET_TTL=1s',
      '--out',
      dir,
    ]);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain(
      '--proxy-env SECRET_TTL: the model engine plays only PROXY_CONFIG_XDS_AGENT; add --engine istio',
    );
  });

  it('exits 2 when the model engine is given a PCDS value pilot-agent would not parse', async () => {
    // Act
    const result = await runMeshtrustInProcess([
      'lab',
      '--proxy-env',
      'PROXY_CONFIG_XDS_AGENT=yes',
      '--out',
      dir,
    ]);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain(
      '--proxy-env PROXY_CONFIG_XDS_AGENT=yes: not a boolean pilot-agent accepts',
    );
  });

  it('exits 2 on --istio-version with a version the istio engine cannot build, saying why', async () => {
    // Act
    const results = [
      await runMeshtrustInProcess(['lab', '--engine', 'istio', '--istio-version', '1.29', '--out', dir]),
      await runMeshtrustInProcess([
        'rehearse',
        '--engine',
        'istio',
        '--istio-version',
        '1.29',
        '--out',
        join(dir, 'rehearsal'),
      ]),
      await runMeshtrustInProcess(['lab', '--istio-version', '1.19', '--out', dir]),
    ];

    // Assess
    expect(results.map((result) => result.exitCode)).toEqual([
      EXIT_CODES.usage,
      EXIT_CODES.usage,
      EXIT_CODES.usage,
    ]);
    for (const result of results.slice(0, 2)) {
      expect(result.stderr).toContain(
        '--istio-version 1.29: the istio engine runs only the Istio that lab/go/go.mod pins',
      );
    }
    expect(results[2]?.stderr).toMatch(/--istio-version.*expected one of 1\.20, .*1\.31, latest/);
  });

  it('rehearse too: exits 2 naming the flags before anything starts', async () => {
    // Act
    const result = await runMeshtrustInProcess([
      'rehearse',
      '--istiod-env',
      'ISTIO_MULTIROOT_MESH=false',
      '--volume-sync-delay',
      '9',
      '--out',
      join(dir, 'rehearsal'),
    ]);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain(
      '--istiod-env, --volume-sync-delay only apply to the istio engine; add --engine istio',
    );
  });

  it('exits 2 on an unknown engine, listing the known ones', async () => {
    // Act
    const result = await runMeshtrustInProcess(['lab', '--engine', 'real', '--out', dir]);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('expected one of model, istio');
  });
});
