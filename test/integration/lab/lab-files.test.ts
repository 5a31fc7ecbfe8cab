// The files `meshtrust lab` leaves for operators: the kubeconfig is the one `aws eks update-kubeconfig`
// writes, credentials live only in the 0600 env files, and `source env` sets what awscli, kubectl and
// meshtrust read. Built from real parts (lab identities, the lab EKS API, openssl-made CAs), no fleet.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { type EksApiServer, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import { createLabIdentities, type LabIdentities } from '../../../lab/eks/lab-identities.js';
import {
  environmentFor,
  type LabFilesSource,
  markLabStopped,
  readLabControlAccess,
  readLabDescription,
  writeLabFiles,
} from '../../../lab/lab-files.js';
import { makeTestCa } from '../../support/test-ca.js';

const run = promisify(execFile);
// Each awscli call takes seconds (Python start-up).
jest.setTimeout(60_000);
const region = 'eu-west-1';
const names = ['lab-1', 'lab-2'];

let dir: string;
let eks: EksApiServer;
let identities: LabIdentities;
let source: LabFilesSource;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-lab-files-'));
  identities = createLabIdentities({ clusterNames: names });
  const [root, ...clusterCas] = await Promise.all([
    makeTestCa('root A'),
    ...names.map((name) => makeTestCa(name)),
  ]);
  const clusters = names.map((name, index) => ({
    name,
    arn: `arn:aws:eks:${region}:000000000000:cluster/${name}`,
    endpoint: `https://127.0.0.1:${6443 + index}`,
    caPem: clusterCas[index]?.certificatePem ?? '',
  }));
  eks = await startEksApiServer({
    region,
    identities,
    clusters: clusters.map((cluster) => ({
      ...cluster,
      version: '1.32',
      tags: { 'meshtrust.io/mesh': 'files' },
    })),
  });
  source = {
    meshId: 'files',
    region,
    eksEndpoint: eks.url,
    identities,
    rootA: { certificatePem: root?.certificatePem ?? '' },
    clusters,
  };
});

afterAll(async () => {
  await eks.stop();
  await rm(dir, { recursive: true, force: true });
});

/** This process's environment without the machine's (or jest's) AWS settings. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

async function kubeconfigAsJson(file: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('kubectl', ['config', 'view', '--kubeconfig', file, '--raw', '-o', 'json'], {
    env: { ...process.env, KUBECONFIG: '' },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('writeLabFiles', () => {
  it('writes the kubeconfig aws eks update-kubeconfig --alias writes for every lab cluster', async () => {
    // Prepare
    const labDir = join(dir, 'kubeconfig');
    const reference = join(dir, 'reference-kubeconfig');
    const env = {
      ...cleanEnvironment(),
      ...environmentFor({ lab: source, dir: labDir, identity: identities.rotator }),
    };
    for (const name of names) {
      await run(
        'aws',
        ['eks', 'update-kubeconfig', '--kubeconfig', reference, '--name', name, '--alias', name],
        { env },
      );
    }

    // Act
    const written = await writeLabFiles(source, { dir: labDir });

    // Assess
    const ours = await kubeconfigAsJson(written.files.kubeconfig);
    const theirs = await kubeconfigAsJson(reference);
    expect(ours.clusters).toEqual(theirs.clusters);
    expect(ours.contexts).toEqual(theirs.contexts);
    expect(ours.users).toEqual(theirs.users);
    expect(ours['current-context']).toBe('lab-1');
  });

  it('keeps credentials out of lab.json and puts each identity in its own 0600 env file', async () => {
    // Prepare
    const labDir = join(dir, 'secrets');

    // Act
    const written = await writeLabFiles(source, {
      dir: labDir,
      moto: { endpoint: 'http://127.0.0.1:5999', pid: 1 },
      control: { url: 'http://127.0.0.1:5998', token: 'control-secret' },
    });

    // Assess
    const labJson = await readFile(join(labDir, 'lab.json'), 'utf8');
    for (const identity of identities.all) {
      expect(labJson).not.toContain(identity.credentials.secretAccessKey);
      expect(labJson).not.toContain(identity.credentials.sessionToken);
      expect(labJson).not.toContain(identity.credentials.accessKeyId);
    }
    expect(labJson).not.toContain('control-secret');
    const envFiles = written.identities.map((identity) => identity.envFile);
    expect(envFiles).toEqual([
      join(labDir, 'env'),
      join(labDir, 'viewer.env'),
      join(labDir, 'verifier.env'),
      join(labDir, 'expiry-check.env'),
      join(labDir, 'outsider.env'),
    ]);
    for (const file of [...envFiles, join(labDir, 'control.json'), join(labDir, 'kubeconfig')]) {
      expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    }
    expect(await readLabControlAccess(labDir)).toEqual({
      url: 'http://127.0.0.1:5998',
      token: 'control-secret',
    });
    expect(written.clusters.map((cluster) => cluster.context)).toEqual(names);
    expect(await readFile(written.clusters[1]?.caFile ?? '', 'utf8')).toBe(source.clusters[1]?.caPem);
  });

  it('writes an env file that, sourced, points awscli at the lab as the rotator', async () => {
    // Prepare
    const labDir = join(dir, 'sourced');
    await writeLabFiles(source, { dir: labDir, moto: { endpoint: 'http://127.0.0.1:5999', pid: 1 } });
    const script =
      'source "$1/env" && printf "%s\\n" "$AWS_ENDPOINT_URL" "$AWS_ENDPOINT_URL_SECRETSMANAGER" "$KUBECONFIG" ' +
      '"$MESHTRUST_MESH_ID" "$MESHTRUST_LAB" "$AWS_REGION" "$(printenv AWS_PROFILE || echo unset)" && aws eks list-clusters --output json';

    // Act
    const { stdout } = await run('bash', ['-c', script, 'bash', labDir], {
      env: { ...cleanEnvironment(), AWS_PROFILE: 'someone-elses' },
    });

    // Assess
    const lines = stdout.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'http://127.0.0.1:5999',
      'http://127.0.0.1:5999',
      join(labDir, 'kubeconfig'),
      'files',
      labDir,
      region,
      'unset',
    ]);
    expect(JSON.parse(lines.slice(7).join('\n'))).toEqual({ clusters: names });
  });

  it('pins STS to its AWS host so that aws eks get-token makes tokens the lab accepts', async () => {
    // Prepare
    const env = {
      ...cleanEnvironment(),
      ...environmentFor({
        lab: source,
        dir,
        identity: identities.rotator,
        motoEndpoint: 'http://127.0.0.1:5999',
      }),
    };

    // Act
    const { stdout } = await run('aws', ['--region', region, 'eks', 'get-token', '--cluster-name', 'lab-1'], {
      env,
    });

    // Assess
    const token = (JSON.parse(stdout) as { status: { token: string } }).status.token;
    const url = Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');
    expect(new URL(url).host).toBe(`sts.${region}.amazonaws.com`);
  });
});

describe('markLabStopped', () => {
  it('marks lab.json stopped and removes the files holding credentials, keeping the kubeconfig', async () => {
    // Prepare
    const labDir = join(dir, 'stopped');
    const written = await writeLabFiles(source, {
      dir: labDir,
      control: { url: 'http://127.0.0.1:5998', token: 'control-secret' },
    });

    // Act
    await markLabStopped(labDir);

    // Assess
    const description = await readLabDescription(labDir);
    expect(description.state).toBe('stopped');
    expect(description.stoppedAt).toEqual(expect.any(String));
    for (const file of [
      ...written.identities.map((identity) => identity.envFile),
      join(labDir, 'control.json'),
    ]) {
      await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    await expect(stat(written.files.kubeconfig)).resolves.toBeDefined();
    await expect(readLabControlAccess(labDir)).rejects.toThrow(/not running/);
  });

  it('tells how to start a lab when the directory holds none', async () => {
    // Act
    const reading = readLabDescription(join(dir, 'nothing-here'));

    // Assess
    await expect(reading).rejects.toThrow(/No lab in .*nothing-here: start one with `meshtrust lab --out/);
  });
});
