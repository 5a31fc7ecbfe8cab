// The lab's per-cluster Kubernetes API, proven with the installed kubectl (default flags) and with raw
// HTTPS where kubectl hides the protocol (status codes, Status bodies, watch streams).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KubeApiServer,
  type KubeIdentity,
  startKubeApiServer,
} from '../../../lab/kube/kube-api-server.js';
import { type KubectlOptions, runKubectl } from '../../../lab/kube/kubectl-runner.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { writeStaticTokenKubeconfig } from '../../../lab/kube/static-token-kubeconfig.js';
import { type HttpResult, kubeHttpJson } from '../../support/lab-kube-api.js';

const adminToken = randomBytes(24).toString('base64url');
const viewerToken = randomBytes(24).toString('base64url');
const identities = new Map<string, KubeIdentity>([
  [adminToken, { username: 'rotator', groups: ['system:authenticated'] }],
  [viewerToken, { username: 'viewer', groups: ['system:authenticated'] }],
]);

let store: KubeObjectStore;
let server: KubeApiServer;
let dir: string;
let admin: KubectlOptions;
let viewer: KubectlOptions;

beforeAll(async () => {
  store = new KubeObjectStore();
  for (const name of ['default', 'istio-system', 'apps']) {
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  store.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cacerts', namespace: 'istio-system', labels: { 'meshtrust.dev/managed': 'true' } },
    stringData: { 'root-cert.pem': 'ROOT-A', 'ca-cert.pem': 'INT-A' },
  });
  for (const [name, tier] of [
    ['front', 'web'],
    ['back', 'api'],
    ['plain', undefined],
  ] as const) {
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'apps', ...(tier ? { labels: { tier } } : {}) },
      data: { v: name },
    });
  }
  server = await startKubeApiServer({
    clusterName: 'lab-1',
    store,
    authenticate: async (token) => identities.get(token),
    authorize: (identity, attributes) =>
      identity.username === 'rotator' || ['get', 'list', 'watch'].includes(attributes.verb),
  });
  dir = await mkdtemp(join(tmpdir(), 'lab-kube-'));
  const cacheDir = join(dir, 'cache');
  await writeStaticTokenKubeconfig(join(dir, 'admin.kubeconfig'), {
    clusterName: 'lab-1',
    server: server.url,
    caPem: server.caPem,
    token: adminToken,
  });
  await writeStaticTokenKubeconfig(join(dir, 'viewer.kubeconfig'), {
    clusterName: 'lab-1',
    server: server.url,
    caPem: server.caPem,
    token: viewerToken,
    userName: 'viewer',
  });
  admin = { kubeconfig: join(dir, 'admin.kubeconfig'), cacheDir };
  viewer = { kubeconfig: join(dir, 'viewer.kubeconfig'), cacheDir };
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function httpJson(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; contentType?: string } = {},
): Promise<HttpResult> {
  return kubeHttpJson(server, method, path, options);
}

function decoded(secret: Record<string, unknown>, key: string): string {
  const data = secret.data as Record<string, string> | undefined;
  return Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');
}

describe('lab Kubernetes API server, through kubectl', () => {
  it('lists namespaces', async () => {
    // Act
    const result = await runKubectl(['get', 'namespaces', '-o', 'name'], admin);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual(
      expect.arrayContaining(['namespace/default', 'namespace/istio-system', 'namespace/apps']),
    );
  });

  it('prints the columns the real API server prints by default (server-side table)', async () => {
    // Act
    const result = await runKubectl(['get', 'secrets', '-n', 'istio-system'], admin);
    // Assess
    const [header, row] = result.stdout.trim().split('\n');
    expect(header.split(/\s+/)).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(row.split(/\s+/).slice(0, 3)).toEqual(['cacerts', 'Opaque', '2']);
  });

  it('reads secret cacerts as JSON and through jsonpath', async () => {
    // Act
    const json = await runKubectl(['get', 'secret', 'cacerts', '-n', 'istio-system', '-o', 'json'], admin);
    const jsonpath = await runKubectl(
      ['get', 'secret', 'cacerts', '-n', 'istio-system', '-o', 'jsonpath={.data.root-cert\\.pem}'],
      admin,
    );
    // Assess
    const secret = JSON.parse(json.stdout);
    expect(secret.kind).toBe('Secret');
    expect(decoded(secret, 'ca-cert.pem')).toBe('INT-A');
    expect(Buffer.from(jsonpath.stdout, 'base64').toString()).toBe('ROOT-A');
  });

  it('filters with a set-based label selector on a short name (cm)', async () => {
    // Act
    const result = await runKubectl(
      ['get', 'cm', '-n', 'apps', '-l', 'tier in (web,api)', '-o', 'name'],
      admin,
    );
    // Assess
    expect(result.stdout.trim().split('\n').sort()).toEqual(['configmap/back', 'configmap/front']);
  });

  it('creates with apply, updates with apply (3-way patch), replaces, and deletes', async () => {
    // Prepare
    const file = join(dir, 'bundle.yaml');
    const manifest = (value: string, extra = '') =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bundle\n  namespace: apps\n  labels: {a: "1"${extra}}\ndata:\n  root-cert.pem: ${value}\n`;
    // Act
    await writeFile(file, manifest('A'));
    const created = await runKubectl(['apply', '-f', file], admin);
    store.patch('ConfigMap', 'apps', 'bundle', 'merge', {
      metadata: { labels: { 'added-by-istiod': 'yes' } },
    });
    await writeFile(file, manifest('A+B'));
    const updated = await runKubectl(['apply', '-f', file], admin);
    const afterApply = store.get('ConfigMap', 'apps', 'bundle');
    await writeFile(file, manifest('B', ', b: "2"'));
    const replaced = await runKubectl(['replace', '-f', file], admin);
    const afterReplace = store.get('ConfigMap', 'apps', 'bundle');
    const deleted = await runKubectl(['delete', '-f', file], admin);
    // Assess
    expect([created.stdout, created.stderr]).toEqual(['configmap/bundle created\n', '']);
    expect([updated.stdout, updated.stderr]).toEqual(['configmap/bundle configured\n', '']);
    // The 3-way merge keeps what another writer added and records what was applied.
    expect(afterApply.data).toEqual({ 'root-cert.pem': 'A+B' });
    expect(afterApply.metadata.labels).toEqual({ a: '1', 'added-by-istiod': 'yes' });
    expect(afterApply.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      'A+B',
    );
    expect(replaced.stdout).toBe('configmap/bundle replaced\n');
    expect(afterReplace.metadata.labels).toEqual({ a: '1', b: '2' });
    expect(afterReplace.data).toEqual({ 'root-cert.pem': 'B' });
    expect(deleted.stdout).toBe('configmap "bundle" deleted\n');
    expect(store.tryGet('ConfigMap', 'apps', 'bundle')).toBeUndefined();
  });

  it('creates a namespace and a secret from files with kubectl create (protobuf request bodies)', async () => {
    // Prepare
    const rootFile = join(dir, 'root-cert.pem');
    await writeFile(rootFile, 'ROOT-FROM-FILE');
    // Act
    const namespace = await runKubectl(['create', 'namespace', 'created-ns'], admin);
    const secret = await runKubectl(
      [
        'create',
        'secret',
        'generic',
        'cacerts',
        '-n',
        'created-ns',
        `--from-file=${rootFile}`,
        '--from-literal=k=v',
      ],
      admin,
    );
    // Assess
    expect([namespace.stdout, secret.stdout]).toEqual([
      'namespace/created-ns created\n',
      'secret/cacerts created\n',
    ]);
    const stored = store.get('Secret', 'created-ns', 'cacerts');
    expect(stored.type).toBe('Opaque');
    expect(decoded(stored, 'root-cert.pem')).toBe('ROOT-FROM-FILE');
    expect(decoded(stored, 'k')).toBe('v');
  });

  it('patches a secret with a merge patch and with a JSON patch whose test op guards the write', async () => {
    // Act
    const merge = await runKubectl(
      [
        'patch',
        'secret',
        'cacerts',
        '-n',
        'istio-system',
        '--type',
        'merge',
        '-p',
        '{"stringData":{"root-cert.pem":"ROOT-A+B"}}',
      ],
      admin,
    );
    const current = Buffer.from('ROOT-A+B').toString('base64');
    const guarded = await runKubectl(
      [
        'patch',
        'secret',
        'cacerts',
        '-n',
        'istio-system',
        '--type',
        'json',
        '-p',
        JSON.stringify([
          { op: 'test', path: '/data/root-cert.pem', value: current },
          { op: 'replace', path: '/data/ca-cert.pem', value: Buffer.from('INT-B').toString('base64') },
        ]),
      ],
      admin,
    );
    const refused = await runKubectl(
      [
        'patch',
        'secret',
        'cacerts',
        '-n',
        'istio-system',
        '--type',
        'json',
        '-p',
        JSON.stringify([
          { op: 'test', path: '/data/root-cert.pem', value: Buffer.from('ROOT-A').toString('base64') },
          { op: 'replace', path: '/data/ca-cert.pem', value: Buffer.from('INT-C').toString('base64') },
        ]),
      ],
      admin,
    );
    // Assess
    expect(merge.stdout).toBe('secret/cacerts patched\n');
    expect(guarded.stdout).toBe('secret/cacerts patched\n');
    expect(refused.exitCode).not.toBe(0);
    const secret = store.get('Secret', 'istio-system', 'cacerts');
    expect(decoded(secret, 'root-cert.pem')).toBe('ROOT-A+B');
    expect(decoded(secret, 'ca-cert.pem')).toBe('INT-B');
  });

  it('lets the viewer read but not write', async () => {
    // Act
    const read = await runKubectl(['get', 'secret', 'cacerts', '-n', 'istio-system', '-o', 'name'], viewer);
    const write = await runKubectl(
      [
        'patch',
        'secret',
        'cacerts',
        '-n',
        'istio-system',
        '--type',
        'merge',
        '-p',
        '{"stringData":{"x":"y"}}',
      ],
      viewer,
    );
    // Assess
    expect(read.stdout).toBe('secret/cacerts\n');
    expect(write.exitCode).toBe(1);
    expect(write.stderr).toContain('User "viewer" cannot patch resource "secrets"');
    expect(store.get('Secret', 'istio-system', 'cacerts').data.x).toBeUndefined();
  });

  it('streams changes to kubectl get --watch', async () => {
    // Prepare
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched', namespace: 'apps' },
      data: { v: '1' },
    });
    let child: ChildProcess | undefined;
    const lines: string[] = [];
    try {
      child = spawn('kubectl', [
        '--kubeconfig',
        admin.kubeconfig,
        '--cache-dir',
        admin.cacheDir,
        'get',
        'configmap',
        'watched',
        '-n',
        'apps',
        '--watch',
        '-o',
        'jsonpath={.data.v}{"\\n"}',
      ]);
      child.stdout?.on('data', (chunk: Buffer) => {
        lines.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
      });
      const waitForLines = async (count: number) => {
        const deadline = Date.now() + 10_000;
        while (lines.length < count) {
          if (Date.now() > deadline) throw new Error(`kubectl printed only ${JSON.stringify(lines)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await waitForLines(1);
      // Act
      store.patch('ConfigMap', 'apps', 'watched', 'merge', { data: { v: '2' } });
      await waitForLines(2);
    } finally {
      child?.kill();
    }
    // Assess
    expect(lines).toEqual(['1', '2']);
  }, 20_000);
});

describe('lab Kubernetes API server, over raw HTTPS', () => {
  it('answers 401 with a Status to requests without a token or with an unknown token', async () => {
    // Act
    const missing = await httpJson('GET', '/api/v1/namespaces');
    const unknown = await httpJson('GET', '/api/v1/namespaces', { token: 'not-a-known-token' });
    // Assess
    for (const result of [missing, unknown]) {
      expect(result.status).toBe(401);
      expect(result.body).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Unauthorized',
        code: 401,
      });
    }
  });

  it('answers 403 with a Status to a viewer writing', async () => {
    // Act
    const result = await httpJson('DELETE', '/api/v1/namespaces/apps/configmaps/front', {
      token: viewerToken,
    });
    // Assess
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(store.tryGet('ConfigMap', 'apps', 'front')).toBeDefined();
  });

  it('answers 409 Conflict to an update with a stale resourceVersion', async () => {
    // Prepare
    const read = await httpJson('GET', '/api/v1/namespaces/apps/configmaps/back', { token: adminToken });
    const first = { ...read.body, data: { v: 'first' } };
    const second = { ...read.body, data: { v: 'second' } };
    // Act
    const accepted = await httpJson('PUT', '/api/v1/namespaces/apps/configmaps/back', {
      token: adminToken,
      body: first,
    });
    const stale = await httpJson('PUT', '/api/v1/namespaces/apps/configmaps/back', {
      token: adminToken,
      body: second,
    });
    // Assess
    expect(accepted.status).toBe(200);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    expect(store.get('ConfigMap', 'apps', 'back').data).toEqual({ v: 'first' });
  });

  it('answers 404 with a Status and serves list kinds with a resourceVersion', async () => {
    // Act
    const missing = await httpJson('GET', '/apis/apps/v1/namespaces/apps/deployments/nope', {
      token: adminToken,
    });
    const list = await httpJson('GET', '/api/v1/namespaces/istio-system/secrets', { token: adminToken });
    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect(list.body).toMatchObject({
      kind: 'SecretList',
      apiVersion: 'v1',
      metadata: { resourceVersion: store.resourceVersion },
    });
  });

  it('streams watch events from a resourceVersion and ends the stream at timeoutSeconds', async () => {
    // Prepare
    const from = store.resourceVersion;
    store.patch('ConfigMap', 'apps', 'plain', 'merge', { data: { v: 'changed' } });
    const started = Date.now();
    // Act
    const lines = await new Promise<string[]>((resolve, reject) => {
      const url = new URL(
        `/api/v1/namespaces/apps/configmaps?watch=true&resourceVersion=${from}&timeoutSeconds=1`,
        server.url,
      );
      request(url, { ca: server.caPem, headers: { authorization: `Bearer ${adminToken}` } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve(text.split('\n').filter((l) => l !== '')));
      })
        .on('error', reject)
        .end();
    });
    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        type: 'MODIFIED',
        object: expect.objectContaining({ data: { v: 'changed' } }),
      }),
    ]);
  });

  it('tells kubectl it is Kubernetes 1.32 and serves aggregated discovery with short names', async () => {
    // Act
    const version = await httpJson('GET', '/version', { token: adminToken });
    const discovery = await new Promise<{
      contentType?: string;
      body: { items: { versions: { resources: { resource: string; shortNames?: string[] }[] }[] }[] };
    }>((resolve, reject) => {
      request(
        new URL('/apis', server.url),
        {
          ca: server.caPem,
          headers: {
            authorization: `Bearer ${adminToken}`,
            accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolve({ contentType: res.headers['content-type'], body: JSON.parse(text) }));
        },
      )
        .on('error', reject)
        .end();
    });
    // Assess
    expect(version.body).toMatchObject({ major: '1', minor: '32' });
    expect(discovery.contentType).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const resources = discovery.body.items[0].versions[0].resources;
    expect(resources.map((r) => [r.resource, r.shortNames])).toEqual([
      ['deployments', ['deploy']],
      ['statefulsets', ['sts']],
      ['daemonsets', ['ds']],
    ]);
  });
});
