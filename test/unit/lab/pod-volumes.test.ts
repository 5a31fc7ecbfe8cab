// A lab pod's volumes in its root folder, as kubelet lays them out: Secret and ConfigMap volumes
// (items, modes, optional), the projected kube-api-access volume with its token refreshed at 80% of its
// life, the downward API, emptyDir, subPath copies that never update, paths that would leave the root
// folder, and the refresher that brings a Secret change to the files within one sync period.
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import {
  PodVolumeError,
  UnsafeVolumePathError,
  UnsupportedVolumeError,
  VolumeSourceMissingError,
} from '../../../lab/node-agent/pod-volume-errors.js';
import {
  createPodVolumes,
  type PodVolumes,
  type ServiceAccountToken,
  type ServiceAccountTokenRequest,
  startVolumeRefresher,
  type VolumeSource,
} from '../../../lab/node-agent/pod-volumes.js';

let scratch: string;
let rootfs: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'meshtrust-pod-volumes-'));
  rootfs = join(scratch, 'rootfs');
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The API as the node agent would read it: objects by namespace/name, tokens from a counter. */
class FakeVolumeSource implements VolumeSource {
  readonly secrets = new Map<string, V1Secret>();
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly tokenRequests: ServiceAccountTokenRequest[] = [];
  /** The fake clock tokens are issued by, in ms. */
  clock = Date.parse('2026-11-25T12:00:00Z');

  setSecret(namespace: string, name: string, data: Record<string, string>): void {
    const encoded = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    );
    this.secrets.set(`${namespace}/${name}`, { metadata: { namespace, name }, data: encoded });
  }

  setConfigMap(
    namespace: string,
    name: string,
    data: Record<string, string>,
    binaryData?: Record<string, Buffer>,
  ) {
    const binary =
      binaryData && Object.fromEntries(Object.entries(binaryData).map(([k, v]) => [k, v.toString('base64')]));
    this.configMaps.set(`${namespace}/${name}`, { metadata: { namespace, name }, data, binaryData: binary });
  }

  async readSecret(namespace: string, name: string) {
    return this.secrets.get(`${namespace}/${name}`);
  }

  async readConfigMap(namespace: string, name: string) {
    return this.configMaps.get(`${namespace}/${name}`);
  }

  async requestServiceAccountToken(request: ServiceAccountTokenRequest): Promise<ServiceAccountToken> {
    this.tokenRequests.push(request);
    return {
      token: `token-${this.tokenRequests.length}-${request.audience ?? 'api'}`,
      expirationTimestamp: new Date(this.clock + request.expirationSeconds * 1000),
    };
  }
}

function makePod(volumes: V1Volume[], containers: V1Container[], initContainers?: V1Container[]): V1Pod {
  return {
    metadata: {
      name: 'istiod-7d9f',
      namespace: 'istio-system',
      uid: '3f1c2a9e-0000-4000-8000-000000000001',
      labels: { app: 'istiod', 'istio.io/rev': 'default' },
      annotations: { 'sidecar.istio.io/inject': 'false' },
    },
    spec: { serviceAccountName: 'istiod', nodeName: 'lab-1-node', volumes, containers, initContainers },
  };
}

function volumesFor(pod: V1Pod, source: VolumeSource, now?: () => number): PodVolumes {
  return createPodVolumes({
    pod,
    rootfs,
    source,
    podAddress: '127.1.0.7',
    nodeName: 'lab-1-node',
    nodeAddress: '127.1.0.1',
    ...(now ? { now } : {}),
  });
}

const inRoot = (path: string) => join(rootfs, path);
const text = (path: string) => readFile(inRoot(path), 'utf8');
const modeOf = async (path: string) => (await stat(inRoot(path))).mode & 0o777;

// istiod's own volume of its plug-in CA, as in Istio's chart (optional: istiod makes its own CA without it).
const cacertsVolume: V1Volume = {
  name: 'cacerts',
  secret: { secretName: 'cacerts', optional: true, defaultMode: 420 },
};
const discovery = (mounts: V1Container['volumeMounts']): V1Container => ({
  name: 'discovery',
  image: 'docker.io/istio/pilot:1.24.3',
  volumeMounts: mounts,
});

// What the ServiceAccount admission plugin adds to every pod.
const kubeApiAccess: V1Volume = {
  name: 'kube-api-access-x7k2p',
  projected: {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  },
};

describe('createPodVolumes: secret and configMap volumes', () => {
  it('lays a Secret out at its mountPath exactly as kubelet does', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A', 'ca-key.pem': 'key' });
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );

    // Act
    const result = await volumes.sync();

    // Assess
    expect(result.changed).toEqual(['cacerts']);
    const entries = (await readdir(inRoot('etc/cacerts'))).sort();
    const dataDir = await readlink(inRoot('etc/cacerts/..data'));
    expect(dataDir).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\./);
    expect(entries).toEqual([dataDir, '..data', 'ca-key.pem', 'root-cert.pem'].sort());
    expect(await readlink(inRoot('etc/cacerts/root-cert.pem'))).toBe('..data/root-cert.pem');
    expect(await text('etc/cacerts/root-cert.pem')).toBe('root A');
    expect(await modeOf('etc/cacerts/ca-key.pem')).toBe(0o644);
  });

  it('projects only the listed items, at their paths and modes', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', {
      'root-cert.pem': 'root A',
      'ca-key.pem': 'key',
      extra: 'no',
    });
    const volume: V1Volume = {
      name: 'cacerts',
      secret: {
        secretName: 'cacerts',
        defaultMode: 0o640,
        items: [
          { key: 'ca-key.pem', path: 'private/key.pem', mode: 0o600 },
          { key: 'root-cert.pem', path: 'root.pem' },
        ],
      },
    };
    const volumes = volumesFor(
      makePod([volume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );

    // Act
    await volumes.sync();

    // Assess
    const visible = (await readdir(inRoot('etc/cacerts'))).filter((name) => !name.startsWith('..'));
    expect(visible.sort()).toEqual(['private', 'root.pem']);
    expect(await text('etc/cacerts/private/key.pem')).toBe('key');
    expect(await modeOf('etc/cacerts/private/key.pem')).toBe(0o600);
    expect(await modeOf('etc/cacerts/root.pem')).toBe(0o640);
  });

  it('gives an optional Secret that does not exist an empty volume, so istiod can watch the folder', async () => {
    // Prepare
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      new FakeVolumeSource(),
    );

    // Act
    await volumes.sync();

    // Assess
    expect((await readdir(inRoot('etc/cacerts'))).filter((name) => !name.startsWith('..'))).toEqual([]);
    expect((await lstat(inRoot('etc/cacerts/..data'))).isSymbolicLink()).toBe(true);
  });

  it('refuses to start with a missing non-optional Secret, naming pod, volume and object', async () => {
    // Prepare
    const volume: V1Volume = { name: 'cacerts', secret: { secretName: 'cacerts' } };
    const volumes = volumesFor(
      makePod([volume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      new FakeVolumeSource(),
    );

    // Act
    const sync = volumes.sync();

    // Assess
    await expect(sync).rejects.toBeInstanceOf(VolumeSourceMissingError);
    await expect(sync).rejects.toMatchObject({
      pod: 'istio-system/istiod-7d9f',
      volume: 'cacerts',
      kind: 'Secret',
      namespace: 'istio-system',
      objectName: 'cacerts',
      message: expect.stringContaining('Secret istio-system/cacerts not found'),
    });
  });

  it('refuses an item whose key the ConfigMap lacks, unless optional', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setConfigMap('istio-system', 'istio', { mesh: 'defaultConfig: {}' });
    const items = [{ key: 'meshNetworks', path: 'meshNetworks' }];
    const strict = volumesFor(
      makePod(
        [{ name: 'config-volume', configMap: { name: 'istio', items } }],
        [discovery([{ name: 'config-volume', mountPath: '/etc/istio/config' }])],
      ),
      source,
    );
    const lenient = createPodVolumes({
      pod: makePod(
        [{ name: 'config-volume', configMap: { name: 'istio', items, optional: true } }],
        [discovery([{ name: 'config-volume', mountPath: '/etc/istio/config' }])],
      ),
      rootfs: join(scratch, 'other-rootfs'),
      source,
      podAddress: '127.1.0.8',
      nodeName: 'lab-1-node',
      nodeAddress: '127.1.0.1',
    });

    // Act
    const strictSync = strict.sync();
    const lenientSync = lenient.sync();

    // Assess
    await expect(strictSync).rejects.toMatchObject({
      name: 'VolumeSourceMissingError',
      kind: 'ConfigMap',
      key: 'meshNetworks',
    });
    await expect(lenientSync).resolves.toEqual({ changed: ['config-volume'] });
  });

  it('projects a ConfigMap with data and binaryData', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setConfigMap(
      'istio-system',
      'istio',
      { mesh: 'trustDomain: cluster.local' },
      { blob: Buffer.from([0, 1, 255]) },
    );
    const volumes = volumesFor(
      makePod(
        [{ name: 'config-volume', configMap: { name: 'istio' } }],
        [discovery([{ name: 'config-volume', mountPath: '/etc/istio/config' }])],
      ),
      source,
    );

    // Act
    await volumes.sync();

    // Assess
    expect(await text('etc/istio/config/mesh')).toBe('trustDomain: cluster.local');
    expect([...(await readFile(inRoot('etc/istio/config/blob')))]).toEqual([0, 1, 255]);
  });
});

describe('PodVolumes.sync: refreshes', () => {
  it('swaps ..data when the Secret changed and writes nothing when it did not', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );
    await volumes.sync();
    const first = await readlink(inRoot('etc/cacerts/..data'));

    // Act
    const unchanged = await volumes.sync();
    const afterUnchanged = await readlink(inRoot('etc/cacerts/..data'));
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A\nroot B' });
    const updated = await volumes.sync();

    // Assess
    expect(unchanged.changed).toEqual([]);
    expect(afterUnchanged).toBe(first);
    expect(updated.changed).toEqual(['cacerts']);
    expect(await readlink(inRoot('etc/cacerts/..data'))).not.toBe(first);
    expect(await text('etc/cacerts/root-cert.pem')).toBe('root A\nroot B');
  });

  it('keeps the last content when the Secret disappears, and says so', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const volume: V1Volume = { name: 'cacerts', secret: { secretName: 'cacerts' } };
    const volumes = volumesFor(
      makePod([volume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );
    await volumes.sync();

    // Act
    source.secrets.clear();
    const sync = volumes.sync();

    // Assess
    await expect(sync).rejects.toBeInstanceOf(VolumeSourceMissingError);
    expect(await text('etc/cacerts/root-cert.pem')).toBe('root A');
  });

  it('writes one volume into every container that mounts it, at each mountPath', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const pod = makePod(
      [cacertsVolume],
      [
        discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }]),
        { name: 'sidecar', volumeMounts: [{ name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true }] },
        { name: 'checker', volumeMounts: [{ name: 'cacerts', mountPath: '/var/run/cacerts' }] },
      ],
    );
    const volumes = volumesFor(pod, source);

    // Act
    await volumes.sync();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root B' });
    const updated = await volumes.sync();

    // Assess
    expect(updated.changed).toEqual(['cacerts']);
    expect(await text('etc/cacerts/root-cert.pem')).toBe('root B');
    expect(await text('var/run/cacerts/root-cert.pem')).toBe('root B');
  });
});

describe('PodVolumes.sync: projected kube-api-access', () => {
  it('projects the token, the cluster CA and the namespace, bound to the pod', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setConfigMap('istio-system', 'kube-root-ca.crt', { 'ca.crt': 'cluster CA' });
    const pod = makePod(
      [kubeApiAccess],
      [discovery([{ name: kubeApiAccess.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }])],
    );
    const volumes = volumesFor(pod, source, () => source.clock);

    // Act
    await volumes.sync();

    // Assess
    const dir = 'var/run/secrets/kubernetes.io/serviceaccount';
    expect(await text(`${dir}/token`)).toBe('token-1-api');
    expect(await text(`${dir}/ca.crt`)).toBe('cluster CA');
    expect(await text(`${dir}/namespace`)).toBe('istio-system');
    expect(await modeOf(`${dir}/token`)).toBe(0o644);
    expect(source.tokenRequests).toEqual([
      {
        namespace: 'istio-system',
        serviceAccountName: 'istiod',
        expirationSeconds: 3607,
        podName: 'istiod-7d9f',
        podUid: '3f1c2a9e-0000-4000-8000-000000000001',
      },
    ]);
  });

  it('requests a new token only once 80% of its life has passed', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    const issuedAt = source.clock;
    let clock = issuedAt;
    const istioToken: V1Volume = {
      name: 'istio-token',
      projected: {
        sources: [
          { serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 1000, path: 'istio-token' } },
        ],
      },
    };
    const volumes = volumesFor(
      makePod([istioToken], [discovery([{ name: 'istio-token', mountPath: '/var/run/secrets/tokens' }])]),
      source,
      () => clock,
    );
    await volumes.sync();

    // Act
    clock = issuedAt + 790_000;
    const at79 = await volumes.sync();
    const tokenAt79 = await text('var/run/secrets/tokens/istio-token');
    clock = issuedAt + 810_000;
    const at81 = await volumes.sync();

    // Assess
    expect(at79.changed).toEqual([]);
    expect(tokenAt79).toBe('token-1-istio-ca');
    expect(at81.changed).toEqual(['istio-token']);
    expect(await text('var/run/secrets/tokens/istio-token')).toBe('token-2-istio-ca');
    expect(source.tokenRequests.map((request) => request.audience)).toEqual(['istio-ca', 'istio-ca']);
  });
});

describe('PodVolumes.sync: downward API', () => {
  const podinfo: V1Volume = {
    name: 'istio-podinfo',
    downwardAPI: {
      items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
        { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" } },
        { path: 'sa', fieldRef: { fieldPath: 'spec.serviceAccountName' } },
        { path: 'node', fieldRef: { fieldPath: 'spec.nodeName' } },
        { path: 'ip', fieldRef: { fieldPath: 'status.podIP' }, mode: 0o600 },
        { path: 'cpu-limit', resourceFieldRef: { containerName: 'discovery', resource: 'limits.cpu' } },
        {
          path: 'memory-request-mi',
          resourceFieldRef: { containerName: 'discovery', resource: 'requests.memory', divisor: '1Mi' },
        },
        { path: 'cpu-request', resourceFieldRef: { containerName: 'discovery', resource: 'requests.cpu' } },
      ],
    },
  };
  const withResources = (pod: V1Pod): V1Pod => {
    const container = pod.spec?.containers[0] as V1Container;
    container.resources = { requests: { memory: '2048Ki' } };
    return pod;
  };

  it('writes the pod fields as kubelet formats them', async () => {
    // Prepare
    const pod = withResources(
      makePod([podinfo], [discovery([{ name: 'istio-podinfo', mountPath: '/etc/istio/pod' }])]),
    );
    const volumes = volumesFor(pod, new FakeVolumeSource());

    // Act
    await volumes.sync();

    // Assess
    expect(await text('etc/istio/pod/labels')).toBe('app="istiod"\nistio.io/rev="default"');
    expect(await text('etc/istio/pod/annotations')).toBe('sidecar.istio.io/inject="false"');
    expect(await text('etc/istio/pod/name')).toBe('istiod-7d9f');
    expect(await text('etc/istio/pod/uid')).toBe('3f1c2a9e-0000-4000-8000-000000000001');
    expect(await text('etc/istio/pod/app')).toBe('istiod');
    expect(await text('etc/istio/pod/sa')).toBe('istiod');
    expect(await text('etc/istio/pod/node')).toBe('lab-1-node');
    expect(await text('etc/istio/pod/ip')).toBe('127.1.0.7');
    expect(await modeOf('etc/istio/pod/ip')).toBe(0o600);
    expect(await text('etc/istio/pod/cpu-limit')).toBe('1');
    expect(await text('etc/istio/pod/memory-request-mi')).toBe('2');
    expect(await text('etc/istio/pod/cpu-request')).toBe('0');
  });

  it('follows label changes given by updatePod on the next sync', async () => {
    // Prepare
    const pod = withResources(
      makePod([podinfo], [discovery([{ name: 'istio-podinfo', mountPath: '/etc/istio/pod' }])]),
    );
    const volumes = volumesFor(pod, new FakeVolumeSource());
    await volumes.sync();
    const relabelled = structuredClone(pod);
    relabelled.metadata = { ...relabelled.metadata, labels: { app: 'istiod', version: 'v2' } };

    // Act
    volumes.updatePod(relabelled);
    const result = await volumes.sync();

    // Assess
    expect(result.changed).toEqual(['istio-podinfo']);
    expect(await text('etc/istio/pod/labels')).toBe('app="istiod"\nversion="v2"');
  });

  it('refuses updatePod with another pod of the same name', () => {
    // Prepare
    const pod = makePod([podinfo], [discovery([{ name: 'istio-podinfo', mountPath: '/etc/istio/pod' }])]);
    const volumes = volumesFor(pod, new FakeVolumeSource());
    const successor = structuredClone(pod);
    successor.metadata = { ...successor.metadata, uid: 'another-uid' };

    // Act
    const update = () => volumes.updatePod(successor);

    // Assess
    expect(update).toThrow(PodVolumeError);
  });
});

describe('PodVolumes.sync: emptyDir and subPath', () => {
  it('creates an emptyDir once, keeps what the pod writes, and shares it with a second mount', async () => {
    // Prepare
    const pod = makePod(
      [{ name: 'istio-envoy', emptyDir: { medium: 'Memory' } }],
      [
        { name: 'istio-proxy', volumeMounts: [{ name: 'istio-envoy', mountPath: '/etc/istio/proxy' }] },
        { name: 'debug', volumeMounts: [{ name: 'istio-envoy', mountPath: '/debug/proxy' }] },
      ],
    );
    const volumes = volumesFor(pod, new FakeVolumeSource());
    await volumes.sync();
    await writeFile(inRoot('etc/istio/proxy/envoy-rev.json'), '{}');

    // Act
    const again = await volumes.sync();

    // Assess
    expect(again.changed).toEqual([]);
    expect((await lstat(inRoot('etc/istio/proxy'))).isDirectory()).toBe(true);
    expect(await text('etc/istio/proxy/envoy-rev.json')).toBe('{}');
    expect(await readlink(inRoot('debug/proxy'))).toBe('../etc/istio/proxy');
    expect(await text('debug/proxy/envoy-rev.json')).toBe('{}');
  });

  it('copies a subPath once: the whole-volume mount follows the ConfigMap, the subPath copy does not', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setConfigMap('istio-system', 'istio', { mesh: 'version 1', meshNetworks: 'networks 1' });
    const pod = makePod(
      [{ name: 'config-volume', configMap: { name: 'istio', defaultMode: 0o640 } }],
      [
        discovery([
          { name: 'config-volume', mountPath: '/etc/istio/config' },
          { name: 'config-volume', mountPath: '/etc/mesh.yaml', subPath: 'mesh' },
        ]),
      ],
    );
    const volumes = volumesFor(pod, source);
    await volumes.sync();

    // Act
    source.setConfigMap('istio-system', 'istio', { mesh: 'version 2', meshNetworks: 'networks 1' });
    const result = await volumes.sync();

    // Assess
    expect(result.changed).toEqual(['config-volume']);
    expect(await text('etc/istio/config/mesh')).toBe('version 2');
    expect((await lstat(inRoot('etc/mesh.yaml'))).isFile()).toBe(true);
    expect(await text('etc/mesh.yaml')).toBe('version 1');
    expect(await modeOf('etc/mesh.yaml')).toBe(0o640);
  });

  it('mounts a subPath of an emptyDir as a link into it, shared with the volume', async () => {
    // Prepare
    const pod = makePod(
      [{ name: 'istio-data', emptyDir: {} }],
      [
        { name: 'istio-proxy', volumeMounts: [{ name: 'istio-data', mountPath: '/var/lib/istio/data' }] },
        { name: 'agent', volumeMounts: [{ name: 'istio-data', mountPath: '/data/agent', subPath: 'agent' }] },
      ],
    );
    const volumes = volumesFor(pod, new FakeVolumeSource());

    // Act
    await volumes.sync();
    await writeFile(inRoot('data/agent/state'), 'up');

    // Assess
    expect(await text('var/lib/istio/data/agent/state')).toBe('up');
  });
});

describe('createPodVolumes: paths that would leave the root folder', () => {
  const secretVolume = (items?: { key: string; path: string }[]): V1Volume => ({
    name: 'cacerts',
    secret: { secretName: 'cacerts', ...(items ? { items } : {}) },
  });

  it.each([
    [
      'a mountPath with ..',
      secretVolume(),
      { name: 'cacerts', mountPath: '/etc/../../outside' },
      'mountPath',
    ],
    ['a mountPath of the root', secretVolume(), { name: 'cacerts', mountPath: '/' }, 'mountPath'],
    [
      'a subPath with ..',
      secretVolume(),
      { name: 'cacerts', mountPath: '/etc/x', subPath: '../../x' },
      'subPath',
    ],
    [
      'an absolute subPath',
      secretVolume(),
      { name: 'cacerts', mountPath: '/etc/x', subPath: '/etc/passwd' },
      'subPath',
    ],
    [
      'an item path with ..',
      secretVolume([{ key: 'ca-key.pem', path: '../../../outside' }]),
      { name: 'cacerts', mountPath: '/etc/cacerts' },
      'items[].path',
    ],
    [
      'an absolute item path',
      secretVolume([{ key: 'ca-key.pem', path: '/etc/passwd' }]),
      { name: 'cacerts', mountPath: '/etc/cacerts' },
      'items[].path',
    ],
  ])('refuses %s', (_what, volume, mount, field) => {
    // Prepare
    const pod = makePod([volume], [discovery([mount])]);

    // Act
    const create = () => volumesFor(pod, new FakeVolumeSource());

    // Assess
    expect(create).toThrow(UnsafeVolumePathError);
    expect(create).toThrow(
      expect.objectContaining({ field, pod: 'istio-system/istiod-7d9f', volume: 'cacerts' }),
    );
  });

  it('refuses a Secret key that would become the writer’s own ..data entry', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { '..data': 'overwrite' });
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );

    // Act
    const sync = volumes.sync();

    // Assess
    await expect(sync).rejects.toBeInstanceOf(UnsafeVolumePathError);
  });

  it('refuses to follow a symlink in the root folder that points outside it, and writes nothing there', async () => {
    // Prepare
    const outside = join(scratch, 'host-etc');
    await mkdir(outside);
    await mkdir(rootfs);
    await symlink(outside, join(rootfs, 'etc'));
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );

    // Act
    const sync = volumes.sync();

    // Assess
    await expect(sync).rejects.toBeInstanceOf(UnsafeVolumePathError);
    expect(await readdir(outside)).toEqual([]);
  });
});

describe('createPodVolumes: what the lab does not lay out', () => {
  it('refuses a hostPath volume', () => {
    // Prepare
    const pod = makePod(
      [{ name: 'host', hostPath: { path: '/etc' } }],
      [discovery([{ name: 'host', mountPath: '/host' }])],
    );

    // Act
    const create = () => volumesFor(pod, new FakeVolumeSource());

    // Assess
    expect(create).toThrow(UnsupportedVolumeError);
  });

  it('refuses two volumes at one mountPath', () => {
    // Prepare
    const pod = makePod(
      [cacertsVolume, { name: 'scratch', emptyDir: {} }],
      [
        discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }]),
        { name: 'other', volumeMounts: [{ name: 'scratch', mountPath: '/etc/cacerts/' }] },
      ],
    );

    // Act
    const create = () => volumesFor(pod, new FakeVolumeSource());

    // Assess
    expect(create).toThrow(/one path holds one mount/);
  });

  it('keeps a mount inside a Secret volume through updates of that volume', async () => {
    // Prepare: Istio's sidecar mounts its CRL volume inside the istio-ca-root-cert one, like this.
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const pod = makePod(
      [cacertsVolume, { name: 'scratch', emptyDir: {} }],
      [
        discovery([
          { name: 'cacerts', mountPath: '/etc/cacerts' },
          { name: 'scratch', mountPath: '/etc/cacerts/tmp' },
        ]),
      ],
    );
    const volumes = volumesFor(pod, source);
    await volumes.sync();
    await writeFile(join(rootfs, 'etc/cacerts/tmp/kept'), 'written by the pod');

    // Act
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A + B' });
    const result = await volumes.sync();

    // Assess
    expect(result.changed).toEqual(['cacerts']);
    expect(await readFile(join(rootfs, 'etc/cacerts/root-cert.pem'), 'utf8')).toBe('root A + B');
    expect(await readFile(join(rootfs, 'etc/cacerts/tmp/kept'), 'utf8')).toBe('written by the pod');
  });

  it("refuses a mount inside a volume under a name the volume writer uses ('..data')", () => {
    // Prepare
    const pod = makePod(
      [cacertsVolume, { name: 'scratch', emptyDir: {} }],
      [
        discovery([
          { name: 'cacerts', mountPath: '/etc/cacerts' },
          { name: 'scratch', mountPath: '/etc/cacerts/..data' },
        ]),
      ],
    );

    // Act
    const create = () => volumesFor(pod, new FakeVolumeSource());

    // Assess
    expect(create).toThrow(UnsupportedVolumeError);
  });

  it('mounts a volume into an emptyDir mounted above it', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const pod = makePod(
      [cacertsVolume, { name: 'etc', emptyDir: {} }],
      [
        discovery([
          { name: 'cacerts', mountPath: '/etc/istio/cacerts' },
          { name: 'etc', mountPath: '/etc/istio' },
        ]),
      ],
    );
    const volumes = volumesFor(pod, source);

    // Act
    await volumes.sync();

    // Assess
    expect(await text('etc/istio/cacerts/root-cert.pem')).toBe('root A');
  });
});

describe('PodVolumes.close', () => {
  it('makes later syncs do nothing, so a removed root folder is not recreated', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );
    await volumes.sync();

    // Act
    await volumes.close();
    await rm(rootfs, { recursive: true });
    const result = await volumes.sync();

    // Assess
    expect(result.changed).toEqual([]);
    await expect(lstat(rootfs)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('startVolumeRefresher', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('brings a Secret change to the files within one sync period and reports it', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const volumes = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );
    await volumes.sync();
    const changes: string[][] = [];
    const refresher = startVolumeRefresher({
      syncPeriodMs: 200,
      volumes: () => [volumes],
      onChange: (_pod, changed) => changes.push([...changed]),
    });

    try {
      // Act
      source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A\nroot B' });
      const before = await text('etc/cacerts/root-cert.pem');
      const deadline = Date.now() + 20_000;
      while (changes.length === 0 && Date.now() < deadline) await sleep(20);

      // Assess
      expect(before).toBe('root A');
      expect(changes).toEqual([['cacerts']]);
      expect(await text('etc/cacerts/root-cert.pem')).toBe('root A\nroot B');
    } finally {
      await refresher.stop();
    }
  }, 30_000);

  it('reports a failing pod to onError and keeps syncing the others', async () => {
    // Prepare
    const source = new FakeVolumeSource();
    source.setSecret('istio-system', 'cacerts', { 'root-cert.pem': 'root A' });
    const healthy = volumesFor(
      makePod([cacertsVolume], [discovery([{ name: 'cacerts', mountPath: '/etc/cacerts' }])]),
      source,
    );
    const broken = createPodVolumes({
      pod: makePod(
        [{ name: 'missing', secret: { secretName: 'does-not-exist' } }],
        [discovery([{ name: 'missing', mountPath: '/etc/missing' }])],
      ),
      rootfs: join(scratch, 'broken-rootfs'),
      source,
      podAddress: '127.1.0.9',
      nodeName: 'lab-1-node',
      nodeAddress: '127.1.0.1',
    });
    const errors: unknown[] = [];
    const changes: string[] = [];
    const refresher = startVolumeRefresher({
      syncPeriodMs: 60_000,
      volumes: () => [broken, healthy],
      onChange: (pod) => changes.push(pod.podKey),
      onError: (error) => errors.push(error),
    });

    // Act
    await refresher.syncNow();
    await refresher.stop();

    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(VolumeSourceMissingError);
    expect(changes).toEqual(['istio-system/istiod-7d9f']);
    expect(await text('etc/cacerts/root-cert.pem')).toBe('root A');
  });

  it('stops: no round starts after stop() resolves', async () => {
    // Prepare
    let rounds = 0;
    const refresher = startVolumeRefresher({
      syncPeriodMs: 20,
      volumes: () => {
        rounds += 1;
        return [];
      },
    });
    while (rounds < 2) await sleep(10);

    // Act
    await refresher.stop();
    const atStop = rounds;
    await sleep(100);

    // Assess
    expect(atStop).toBeGreaterThan(0);
    expect(rounds).toBe(atStop);
  });

  it('refuses a sync period that is not positive', () => {
    // Act
    const start = () => startVolumeRefresher({ syncPeriodMs: 0, volumes: () => [] });

    // Assess
    expect(start).toThrow(/syncPeriodMs must be a positive number of ms, got 0/);
  });
});
