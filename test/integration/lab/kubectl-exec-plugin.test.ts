// kubectl against a lab fleet exactly as an operator uses it: DIR/kubeconfig, whose exec plugin runs
// the real `aws eks get-token`, with the environment `source DIR/env` sets. The fleet runs in-process
// (startLab) and the files come from writeLabFiles, so no CLI process is needed.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { environmentFor, writeLabFiles } from '../../../lab/lab-files.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';

// Every kubectl call runs awscli (seconds of Python start-up) for its token.
jest.setTimeout(90_000);

let dir: string;
let lab: Lab;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-exec-plugin-'));
  lab = await startLab({ clusters: 2, workloadsPerCluster: 2, region: 'eu-west-1', meshId: 'plugin' });
  await writeLabFiles(lab, { dir });
  // What `source DIR/env` gives a shell that had no AWS settings of its own.
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...environmentFor({ lab, dir, identity: lab.identities.rotator }),
  };
});

afterAll(async () => {
  await lab?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** kubectl with the lab's environment (KUBECONFIG from it, no --kubeconfig flag). */
function kubectl(...args: string[]): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['--cache-dir', join(dir, 'kube-cache'), ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ exitCode: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

describe('kubectl through the lab kubeconfig and the aws eks get-token exec plugin', () => {
  it('lists the namespaces of each cluster by its context name', async () => {
    // Act
    const results = await Promise.all(
      lab.clusters.map((cluster) => kubectl('--context', cluster.name, 'get', 'namespaces', '-o', 'name')),
    );

    // Assess
    for (const result of results) {
      expect(result).toMatchObject({ exitCode: 0, stderr: '' });
      expect(result.stdout).toContain('namespace/istio-system');
    }
  });

  it('reads the cacerts secret holding the cluster intermediate, chained to root A', async () => {
    // Prepare
    const cluster = lab.clusters[1];

    // Act
    const result = await kubectl(
      '--context',
      'lab-2',
      '-n',
      'istio-system',
      'get',
      'secret',
      'cacerts',
      '-o',
      'json',
    );

    // Assess
    expect(result.exitCode).toBe(0);
    const data = (JSON.parse(result.stdout) as { data: Record<string, string> }).data;
    const decode = (key: string) => Buffer.from(data[key] ?? '', 'base64').toString('utf8');
    expect(decode('ca-cert.pem')).toBe(cluster?.initialIntermediate.certificatePem);
    expect(decode('root-cert.pem')).toContain(lab.rootA.certificatePem.trim());
  });

  it('patches the cacerts secret (the one secret the rotator may write) and reads the change back', async () => {
    // Prepare
    const target = ['--context', 'lab-1', '-n', 'istio-system'];
    const before = lab.clusters[0]?.store.get('Secret', 'istio-system', 'cacerts').metadata.resourceVersion;

    // Act
    const patched = await kubectl(
      ...target,
      'patch',
      'secret',
      'cacerts',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ metadata: { labels: { 'meshtrust.io/patched-by': 'kubectl' } } }),
    );

    // Assess
    expect(patched).toMatchObject({ exitCode: 0, stderr: '' });
    const read = await kubectl(...target, 'get', 'secret', 'cacerts', '-o', 'jsonpath={.metadata.labels}');
    expect(JSON.parse(read.stdout)).toMatchObject({ 'meshtrust.io/patched-by': 'kubectl' });
    expect(lab.clusters[0]?.store.get('Secret', 'istio-system', 'cacerts').metadata.resourceVersion).not.toBe(
      before,
    );
  });

  it('restarts a deployment and waits for its rollout to complete', async () => {
    // Prepare
    const deployment = lab.clusters[0]?.store.list('Deployment').items[0];
    if (!deployment) throw new Error('the lab seeded no Deployment in lab-1');
    const target = ['--context', 'lab-1', '-n', deployment.metadata.namespace as string];
    const podsBefore = lab.clusters[0]?.store
      .list('Pod', { namespace: deployment.metadata.namespace as string })
      .items.map((pod) => pod.metadata.name);

    // Act
    const restart = await kubectl(...target, 'rollout', 'restart', `deployment/${deployment.metadata.name}`);
    const status = await kubectl(
      ...target,
      'rollout',
      'status',
      `deployment/${deployment.metadata.name}`,
      '--timeout=60s',
    );

    // Assess
    expect(restart.exitCode).toBe(0);
    expect(restart.stdout).toContain('restarted');
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('successfully rolled out');
    const podsAfter = lab.clusters[0]?.store
      .list('Pod', { namespace: deployment.metadata.namespace as string })
      .items.filter((pod) => pod.metadata.ownerReferences?.[0]?.name === deployment.metadata.name)
      .map((pod) => pod.metadata.name);
    expect(podsAfter?.length).toBeGreaterThan(0);
    expect(podsAfter?.some((name) => podsBefore?.includes(name))).toBe(false);
  });
});
