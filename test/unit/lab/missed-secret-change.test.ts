// The istio engine's istiod-drop: a pod's cacerts volume that misses one change of the Secret, laid out
// by the real volume code (pod-volumes.ts), so istiod's files keep the old content until the Secret
// changes again; the first load, other Secrets and metadata-only writes are never missed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { cacertsMissedByIstiod, missingSecretChanges } from '../../../lab/node-agent/missed-secret-change.js';
import { createPodVolumes, type VolumeSource } from '../../../lab/node-agent/pod-volumes.js';

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'meshtrust-missed-secret-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const secrets = new Map<string, V1Secret>();
let version = 0;
function setSecret(name: string, files: Record<string, string>, labels?: Record<string, string>): void {
  version += 1;
  const data = Object.fromEntries(
    Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  secrets.set(name, {
    metadata: {
      namespace: 'istio-system',
      name,
      resourceVersion: String(version),
      ...(labels ? { labels } : {}),
    },
    data,
  });
}
const source: VolumeSource = {
  readSecret: async (namespace, name) => (namespace === 'istio-system' ? secrets.get(name) : undefined),
  readConfigMap: async () => undefined,
  requestServiceAccountToken: async () => ({ token: 't', expirationTimestamp: new Date(8.64e15) }),
};

const pod: V1Pod = {
  metadata: { name: 'istiod-1', namespace: 'istio-system', uid: 'uid-1' },
  spec: {
    volumes: [
      { name: 'cacerts', secret: { secretName: 'cacerts', optional: true } },
      { name: 'other', secret: { secretName: 'other' } },
    ],
    containers: [
      {
        name: 'discovery',
        volumeMounts: [
          { name: 'cacerts', mountPath: '/etc/cacerts' },
          { name: 'other', mountPath: '/etc/other' },
        ],
      },
    ],
  },
};

function podVolumes(misses: () => boolean) {
  const asked: string[] = [];
  const volumes = createPodVolumes({
    pod,
    rootfs: join(scratch, 'rootfs'),
    source: missingSecretChanges(source, { namespace: 'istio-system', name: 'cacerts' }, () => {
      asked.push(secrets.get('cacerts')?.metadata?.resourceVersion ?? '');
      return misses();
    }),
    podAddress: '127.1.0.7',
    nodeName: 'lab-1-node',
    nodeAddress: '127.1.0.1',
  });
  const file = (path: string) => readFile(join(scratch, 'rootfs', path), 'utf8');
  return { volumes, asked, file };
}

beforeEach(() => {
  secrets.clear();
  setSecret('cacerts', { 'root-cert.pem': 'A' });
  setSecret('other', { value: 'one' });
});

it('keeps the pod on what it had when a change is missed, and gives it the next change', async () => {
  let missNext = true;
  const { volumes, asked, file } = podVolumes(() => {
    const miss = missNext;
    missNext = false;
    return miss;
  });
  await volumes.sync();
  expect(await file('etc/cacerts/root-cert.pem')).toBe('A');
  expect(asked).toEqual([]); // the first load is never missed

  setSecret('cacerts', { 'root-cert.pem': 'A+B' });
  setSecret('other', { value: 'two' });
  await volumes.sync();
  expect(await file('etc/cacerts/root-cert.pem')).toBe('A');
  expect(await file('etc/other/value')).toBe('two');

  await volumes.sync(); // the missed change stays missed, and is not asked about again
  expect(await file('etc/cacerts/root-cert.pem')).toBe('A');
  expect(asked).toHaveLength(1);

  setSecret('cacerts', { 'root-cert.pem': 'B' });
  await volumes.sync();
  expect(await file('etc/cacerts/root-cert.pem')).toBe('B');
  expect(asked).toHaveLength(2);
  await volumes.close();
});

it('asks nothing for a write that changes only metadata', async () => {
  const { volumes, asked, file } = podVolumes(() => true);
  await volumes.sync();
  setSecret('cacerts', { 'root-cert.pem': 'A' }, { 'meshtrust.io/fence': 'run-2' });
  await volumes.sync();
  expect(asked).toEqual([]);
  expect(await file('etc/cacerts/root-cert.pem')).toBe('A');
  await volumes.close();
});

it('delivers every change when none is missed', async () => {
  const { volumes, asked, file } = podVolumes(() => false);
  await volumes.sync();
  setSecret('cacerts', { 'root-cert.pem': 'A+B' });
  await volumes.sync();
  expect(await file('etc/cacerts/root-cert.pem')).toBe('A+B');
  expect(asked).toEqual([String(version)]);
  await volumes.close();
});

it('gives each istiod pod its own view: one replica misses the change, the other takes it (cacertsMissedByIstiod)', async () => {
  // Prepare: two replicas of istiod, each with the source the node agent gives it; one miss to play.
  let missesLeft = 1;
  const sourceFor = cacertsMissedByIstiod(() => missesLeft-- > 0);
  const replicas = ['istiod-1', 'istiod-2'].map((name) => {
    const replica: V1Pod = { ...pod, metadata: { ...pod.metadata, name, uid: `uid-${name}` } };
    const root = join(scratch, name);
    const volumes = createPodVolumes({
      pod: replica,
      rootfs: root,
      source: sourceFor(replica, source),
      podAddress: '127.1.0.7',
      nodeName: 'lab-1-node',
      nodeAddress: '127.1.0.1',
    });
    return { volumes, file: () => readFile(join(root, 'etc/cacerts/root-cert.pem'), 'utf8') };
  });
  for (const { volumes } of replicas) await volumes.sync();

  // Act
  setSecret('cacerts', { 'root-cert.pem': 'A+B' });
  for (const { volumes } of replicas) await volumes.sync();

  // Assess
  expect(await replicas[0]?.file()).toBe('A');
  expect(await replicas[1]?.file()).toBe('A+B');
  for (const { volumes } of replicas) await volumes.close();
});
