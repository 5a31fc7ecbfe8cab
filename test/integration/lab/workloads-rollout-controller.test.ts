// The lab's rollout controller behind the lab API: `kubectl rollout restart` replaces every pod of a
// Deployment, StatefulSet or DaemonSet, and `kubectl rollout status` (default flags) returns 0 only once
// the new pods are ready.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KubeApiServer, startKubeApiServer } from '../../../lab/kube/kube-api-server.js';
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { type KubectlOptions, runKubectl } from '../../../lab/kube/kubectl-runner.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { writeStaticTokenKubeconfig } from '../../../lab/kube/static-token-kubeconfig.js';
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import {
  type PodEvent,
  type RolloutController,
  startRolloutController,
} from '../../../lab/workloads/rollout-controller.js';

const podStartDelayMs = 250;
const token = randomBytes(24).toString('base64url');

let store: KubeObjectStore;
let controller: RolloutController;
let server: KubeApiServer;
let dir: string;
let kubectl: KubectlOptions;
const podEvents: PodEvent[] = [];

function workload(
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
  name: string,
  replicas?: number,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'shop' },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, 'sidecar.istio.io/inject': 'true' } },
        spec: { serviceAccountName: name, containers: [{ name: 'app', image: `${name}:1` }] },
      },
    },
  };
}

function podsOf(name: string): KubeObject[] {
  return store.list('Pod', { namespace: 'shop', labelSelector: `app=${name}` }).items;
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  store = new KubeObjectStore();
  store.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
  });
  controller = startRolloutController({
    store,
    podStartDelayMs,
    onPodEvent: (event) => podEvents.push(event),
  });
  store.create(workload('Deployment', 'web', 4));
  store.create(workload('StatefulSet', 'db', 2));
  store.create(workload('DaemonSet', 'agent'));
  server = await startKubeApiServer({
    clusterName: 'lab-1',
    store,
    authenticate: async (bearer) => (bearer === token ? { username: 'rotator', groups: [] } : undefined),
    authorize: () => true,
  });
  dir = await mkdtemp(join(tmpdir(), 'lab-workloads-'));
  kubectl = { kubeconfig: join(dir, 'kubeconfig'), cacheDir: join(dir, 'cache') };
  await writeStaticTokenKubeconfig(kubectl.kubeconfig, {
    clusterName: 'lab-1',
    server: server.url,
    caPem: server.caPem,
    token,
  });
});

afterAll(async () => {
  controller?.stop();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rollout controller', () => {
  it('starts a new deployment with pods named, labelled and owned like real ones', async () => {
    // Act
    const status = await runKubectl(['rollout', 'status', 'deployment/web', '-n', 'shop'], kubectl);
    // Assess
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    const deployment = store.get('Deployment', 'shop', 'web');
    const pods = podsOf('web');
    expect(pods).toHaveLength(4);
    for (const pod of pods) {
      const hash = pod.metadata.labels?.['pod-template-hash'];
      expect(pod.metadata.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(pod.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'Deployment',
          name: 'web',
          uid: deployment.metadata.uid,
          controller: true,
        }),
      ]);
      expect(pod.spec.serviceAccountName).toBe('web');
      expect(pod.status.phase).toBe('Running');
    }
    expect(deployment.status).toMatchObject({
      observedGeneration: 1,
      replicas: 4,
      updatedReplicas: 4,
      readyReplicas: 4,
      availableReplicas: 4,
    });
  });

  it('replaces every deployment pod on rollout restart, never dropping below the available minimum', async () => {
    // Prepare
    await waitFor(() => podsOf('web').filter(isPodReady).length === 4);
    const before = new Set(podsOf('web').map((p) => p.metadata.uid));
    let fewestReady = 4;
    const stopWatching = store.watch({ kind: 'Pod', namespace: 'shop', labelSelector: 'app=web' }, () => {
      fewestReady = Math.min(fewestReady, podsOf('web').filter(isPodReady).length);
    });
    const started = Date.now();
    // Act
    const restart = await runKubectl(['rollout', 'restart', 'deployment/web', '-n', 'shop'], kubectl);
    const status = await runKubectl(['rollout', 'status', 'deployment/web', '-n', 'shop'], kubectl);
    const elapsed = Date.now() - started;
    const after = podsOf('web');
    stopWatching();
    // Assess
    expect(restart.stdout).toBe('deployment.apps/web restarted\n');
    expect(status.exitCode).toBe(0);
    expect(after).toHaveLength(4);
    expect(after.every((p) => !before.has(p.metadata.uid) && isPodReady(p))).toBe(true);
    expect(after[0].metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    // maxUnavailable 25% of 4 = 1, so at least 3 pods stay ready and the pods come in waves.
    expect(fewestReady).toBeGreaterThanOrEqual(3);
    expect(elapsed).toBeGreaterThanOrEqual(2 * podStartDelayMs);
    const deleted = podEvents.filter((e) => e.type === 'deleted' && before.has(e.pod.metadata.uid as string));
    expect(deleted).toHaveLength(4);
  });

  it('restarts a statefulset in place, highest ordinal first, and reports it rolled out', async () => {
    // Prepare
    await waitFor(() => podsOf('db').filter(isPodReady).length === 2);
    const before = podsOf('db');
    const replacedOrder: string[] = [];
    const stopWatching = store.watch({ kind: 'Pod', namespace: 'shop', labelSelector: 'app=db' }, (event) => {
      if (event.type === 'ADDED') replacedOrder.push(event.object.metadata.name);
    });
    // Act
    await runKubectl(['rollout', 'restart', 'statefulset/db', '-n', 'shop'], kubectl);
    const status = await runKubectl(['rollout', 'status', 'statefulset/db', '-n', 'shop'], kubectl);
    stopWatching();
    // Assess
    expect(status.exitCode).toBe(0);
    const after = podsOf('db');
    expect(after.map((p) => p.metadata.name)).toEqual(['db-0', 'db-1']);
    expect(after.some((p) => before.some((b) => b.metadata.uid === p.metadata.uid))).toBe(false);
    expect(after.every(isPodReady)).toBe(true);
    expect(replacedOrder).toEqual(['db-1', 'db-0']);
    const statefulSet = store.get('StatefulSet', 'shop', 'db');
    expect(statefulSet.status.currentRevision).toBe(statefulSet.status.updateRevision);
    expect(
      after.every(
        (p) => p.metadata.labels?.['controller-revision-hash'] === statefulSet.status.updateRevision,
      ),
    ).toBe(true);
  });

  it('restarts a daemonset node by node and reports it rolled out', async () => {
    // Prepare
    await waitFor(() => podsOf('agent').filter(isPodReady).length === 2);
    const before = new Set(podsOf('agent').map((p) => p.metadata.uid));
    // Act
    await runKubectl(['rollout', 'restart', 'daemonset/agent', '-n', 'shop'], kubectl);
    const status = await runKubectl(['rollout', 'status', 'daemonset/agent', '-n', 'shop'], kubectl);
    // Assess
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('daemon set "agent" successfully rolled out');
    const after = podsOf('agent');
    expect(after.map((p) => p.spec.nodeName).sort()).toEqual(['lab-node-1', 'lab-node-2']);
    expect(after.every((p) => !before.has(p.metadata.uid) && isPodReady(p))).toBe(true);
    expect(store.get('DaemonSet', 'shop', 'agent').status).toMatchObject({
      desiredNumberScheduled: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
    });
  });

  it('recreates a deleted pod and deletes the pods of a deleted workload', async () => {
    // Prepare
    store.create(workload('Deployment', 'cart', 1));
    await waitFor(() => podsOf('cart').filter(isPodReady).length === 1);
    const [first] = podsOf('cart');
    // Act
    store.delete('Pod', 'shop', first.metadata.name);
    await waitFor(() => podsOf('cart').filter(isPodReady).length === 1);
    const replacement = podsOf('cart')[0];
    store.delete('Deployment', 'shop', 'cart');
    await waitFor(() => podsOf('cart').length === 0);
    // Assess
    expect(replacement.metadata.uid).not.toBe(first.metadata.uid);
    expect(podsOf('cart')).toEqual([]);
  });
});
