// The rollout controller's fault hook (the rehearsal's --fault kube:CLUSTER:stuck): a pod it is told to
// hold stays Pending and unready, so its Deployment's rollout never completes, until a later restart
// replaces it with a pod that starts as usual.
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import { type RolloutController, startRolloutController } from '../../../lab/workloads/rollout-controller.js';

const podStartDelayMs = 20;

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { serviceAccountName: name, containers: [{ name: 'app', image: `${name}:1` }] },
      },
    },
  };
}

async function settle(ms = 150): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe('rollout controller: pods held unready', () => {
  let store: KubeObjectStore;
  let controller: RolloutController;
  let holdNext = 0;

  beforeEach(() => {
    store = new KubeObjectStore();
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    holdNext = 0;
    controller = startRolloutController({
      store,
      podStartDelayMs,
      holdsPodUnready: () => {
        if (holdNext === 0) return false;
        holdNext -= 1;
        return true;
      },
    });
  });

  afterEach(() => controller.stop());

  const pods = () => store.list('Pod', { namespace: 'shop', labelSelector: 'app=web' }).items;
  const restart = (at: string) =>
    store.patch('Deployment', 'shop', 'web', 'merge', {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
    });

  it('keeps a held pod unready, so the rollout never completes, and a later restart replaces it', async () => {
    // Prepare
    store.create(deployment('web'));
    await settle();
    expect(pods().filter(isPodReady)).toHaveLength(1);

    // Act
    holdNext = 1;
    restart('2026-12-01T00:00:00Z');
    await settle();
    const stuck = pods();
    const stuckStatus = store.get('Deployment', 'shop', 'web').status as Record<string, unknown>;
    restart('2026-12-01T00:01:00Z');
    await settle();

    // Assess
    // The old pod stays (maxUnavailable leaves one available), the new one is held Pending.
    expect(stuck).toHaveLength(2);
    expect(stuck.filter(isPodReady)).toHaveLength(1);
    expect(stuckStatus.updatedReplicas).toBe(1);
    expect(stuckStatus.readyReplicas).toBe(1);
    expect(stuckStatus.unavailableReplicas).toBe(1);
    const after = pods();
    expect(after).toHaveLength(1);
    expect(after.every(isPodReady)).toBe(true);
    expect(after[0]?.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(
      '2026-12-01T00:01:00Z',
    );
  });
});
