// Finding the workloads whose pods carry an Istio sidecar (and so a mesh certificate) on a seeded lab
// cluster: injected namespaces by label, then their Deployments, StatefulSets and DaemonSets.
import {
  findInjectedWorkloads,
  isInjectedNamespace,
} from '../../../lambdas/adapters/kube/injected-workloads.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { type LabCluster, seedMesh, startLabCluster, workload } from './kube-lab-cluster.js';

let lab: LabCluster;

beforeAll(async () => {
  lab = await startLabCluster({ name: 'lab-injected', podStartDelayMs: 20 });
  await seedMesh(lab.store, lab.name);
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

describe('findInjectedWorkloads', () => {
  it('finds the workloads of namespaces with istio-injection=enabled or an istio.io/rev label only', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const workloads = await findInjectedWorkloads(client);
    // Assess: not legacy (no label), not opted-out (istio-injection=disabled wins over istio.io/rev),
    // not shop/batch (its pod template opts out of the sidecar).
    expect(workloads).toEqual([
      { kind: 'DaemonSet', namespace: 'payments', name: 'agent' },
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
      { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
    ]);
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
    const workloads = await findInjectedWorkloads(client);
    lab.store.delete('Deployment', 'shop', 'cart');
    // Assess
    expect(workloads).toContainEqual({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'cart',
      restartId: 'exec-1',
    });
  });

  it('refuses an identity without access entry with PreconditionFailed', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.outsider);
    // Act
    const find = findInjectedWorkloads(client);
    // Assess
    await expect(find).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(find).rejects.toThrow(/list namespaces in cluster lab-injected: forbidden/);
  });
});
