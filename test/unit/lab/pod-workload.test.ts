import { podWorkload, podWorkloadKind } from '../../../lab/workloads/pod-workload.js';

describe('podWorkload: the controller a pod belongs to', () => {
  it("names a Deployment's pod by its Deployment, through the ReplicaSet a rollout replaces", () => {
    // Prepare
    const pod = {
      namespace: 'shop',
      name: 'app-01-7d9c8b5f6-x2kqz',
      labels: { app: 'app-01', 'pod-template-hash': '7d9c8b5f6' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'app-01-7d9c8b5f6', controller: true }],
    };

    // Act / Assess
    expect(podWorkload(pod)).toBe('shop/Deployment/app-01');
  });

  it('names a pod owned directly by its controller (the model engine, a StatefulSet) by that controller', () => {
    expect(
      podWorkload({
        namespace: 'shop',
        name: 'app-01-abcde',
        ownerReferences: [{ kind: 'Deployment', name: 'app-01', controller: true }],
      }),
    ).toBe('shop/Deployment/app-01');
    expect(
      podWorkload({ namespace: 'db', name: 'pg-0', ownerReferences: [{ kind: 'StatefulSet', name: 'pg' }] }),
    ).toBe('db/StatefulSet/pg');
  });

  it('keeps a ReplicaSet whose name does not end with the template hash, and names a bare pod by itself', () => {
    expect(
      podWorkload({
        namespace: 'shop',
        name: 'rs-pod',
        labels: { 'pod-template-hash': 'abc' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'standalone', controller: true }],
      }),
    ).toBe('shop/ReplicaSet/standalone');
    expect(podWorkload({ namespace: 'tools', name: 'debug' })).toBe('tools/Pod/debug');
  });
});

describe('podWorkloadKind: the kind --fault kube:CLUSTER:stuck:N:KIND matches', () => {
  it("gives a Deployment's pod, owned by its ReplicaSet, as Deployment, and a bare pod as Pod", () => {
    // Prepare
    const deploymentPod = {
      namespace: 'shop',
      name: 'app-01-7d9c8b5f6-x2kqz',
      labels: { 'pod-template-hash': '7d9c8b5f6' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'app-01-7d9c8b5f6', controller: true }],
    };

    // Act / Assess
    expect(podWorkloadKind(deploymentPod)).toBe('Deployment');
    expect(podWorkloadKind({ namespace: 'tools', name: 'debug' })).toBe('Pod');
  });
});
