// Finding the workloads whose pods carry an Istio sidecar (and so a mesh certificate) on a seeded lab
// cluster: injected namespaces by label, then their Deployments, StatefulSets and DaemonSets.

import { findInjected, isInjectedNamespace } from '../../../lambdas/adapters/kube/injected-workloads.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { jobOwner, sidecarPod } from '../../support/sidecar-pod.js';
import {
  type LabCluster,
  seedMesh,
  startLabCluster,
  waitUntil,
  waitUntilSettled,
  workload,
} from './kube-lab-cluster.js';

let lab: LabCluster;

beforeAll(async () => {
  lab = await startLabCluster({ name: 'lab-injected', podStartDelayMs: 20 });
  await seedMesh(lab.store, lab.name);
  // The rollout controller writes each workload's status as its pods start; the tests compare what
  // they list with the store, so they begin once it has written the last of them.
  await waitUntilSettled(lab.store);
});

afterAll(async () => {
  await lab?.stop();
});

describe('isInjectedNamespace', () => {
  it('selects istio-injection=enabled, or istio.io/rev without istio-injection, as the webhooks do', () => {
    // Prepare
    const cases: { labels: Record<string, string>; expected: boolean }[] = [
      { labels: { 'istio-injection': 'enabled' }, expected: true },
      { labels: { 'istio.io/rev': 'stable' }, expected: true },
      { labels: { 'istio-injection': 'enabled', 'istio.io/rev': 'stable' }, expected: true },
      { labels: { 'istio-injection': 'disabled', 'istio.io/rev': 'stable' }, expected: false },
      { labels: { 'istio-injection': 'disabled' }, expected: false },
      { labels: {}, expected: false },
    ];
    // Act
    const verdicts = cases.map(({ labels }) => isInjectedNamespace({ name: 'ns', labels }));
    // Assess
    expect(verdicts).toEqual(cases.map(({ expected }) => expected));
  });
});

describe('findInjected', () => {
  it('finds the workloads of namespaces with istio-injection=enabled or an istio.io/rev label only', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const { workloads } = await findInjected(client);
    // Assess: not legacy (no label), not opted-out (istio-injection=disabled wins over istio.io/rev),
    // not shop/batch (its pod template opts out of the sidecar).
    expect(workloads).toEqual([
      { kind: 'DaemonSet', namespace: 'payments', name: 'agent' },
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
      { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
    ]);
  });

  it('hands back each workload it found as listed, and every pod of the cluster', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const found = await findInjected(client);
    // Assess: the listed objects are the store's, and the pods include those of no injected namespace.
    for (const ref of found.workloads) {
      const listed = found.listed.get(`${ref.kind}/${ref.namespace}/${ref.name}`);
      const stored = lab.store.get(ref.kind, ref.namespace, ref.name);
      expect(listed?.metadata?.uid).toBe(stored?.metadata.uid);
      expect(listed?.metadata?.resourceVersion).toBe(stored?.metadata.resourceVersion);
    }
    expect(found.listed.size).toBe(found.workloads.length);
    const stored = lab.store.list('Pod').items.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
    const listed = found.pods.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`);
    expect(listed.sort()).toEqual(stored.sort());
    expect(listed.some((pod) => pod.startsWith('legacy/'))).toBe(true);
  });

  it('reports the restart id a pod template carries', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    lab.store.create(
      workload('Deployment', 'shop', 'cart', {
        replicas: 1,
        templateAnnotations: { 'meshtrust.io/restart-id': 'exec-1' },
      }),
    );
    // Act
    const { workloads } = await findInjected(client);
    lab.store.delete('Deployment', 'shop', 'cart');
    // Assess
    expect(workloads).toContainEqual({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'cart',
      restartId: 'exec-1',
    });
  });

  it('finds a gateway, an object-selector-injected workload outside injected namespaces, and unowned injected pods', async () => {
    // Prepare: a gateway Deployment runs istio-proxy itself; `tools` has no injection label, but its
    // `probe` pods ask for a sidecar (sidecar.istio.io/inject=true) and the injector gives them one.
    const client = lab.clientAs(lab.identities.rotator);
    const gateway = workload('Deployment', 'istio-system', 'istio-ingressgateway', { replicas: 1 });
    gateway.spec.template.spec.containers = [{ name: 'istio-proxy', image: 'proxyv2:1' }];
    lab.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools' } });
    const probe = workload('Deployment', 'tools', 'probe', { replicas: 1 });
    probe.spec.template.metadata.labels['sidecar.istio.io/inject'] = 'true';
    lab.store.create(gateway);
    lab.store.create(probe);
    lab.store.create(workload('Deployment', 'tools', 'plain', { replicas: 1 }));
    lab.store.create(sidecarPod('tools', 'debug'));
    lab.store.create(sidecarPod('tools', 'nightly-x7k2p', jobOwner('nightly')));
    await waitUntil(
      () => lab.store.list('Pod', { namespace: 'tools', labelSelector: 'app=probe' }).items.length === 1,
    );

    // Act
    const found = await findInjected(client);

    // Assess
    expect(found.workloads).toEqual(
      expect.arrayContaining([
        { kind: 'Deployment', namespace: 'istio-system', name: 'istio-ingressgateway' },
        { kind: 'Deployment', namespace: 'tools', name: 'probe' },
      ]),
    );
    expect(found.workloads).not.toContainEqual({ kind: 'Deployment', namespace: 'tools', name: 'plain' });
    expect(found.unmanaged).toEqual([
      { namespace: 'tools', name: 'debug' },
      { namespace: 'tools', name: 'nightly-x7k2p', owner: 'Job nightly' },
    ]);
  });

  it('refuses an identity without access entry with PreconditionFailed', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.outsider);
    // Act
    const find = findInjected(client);
    // Assess
    await expect(find).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(find).rejects.toThrow(/list namespaces in cluster lab-injected: forbidden/);
  });
});
