// Which workload restarts each pod that runs Istio's proxy, and which pods nothing can restart.
import { describe, expect, it } from '@jest/globals';
import { ownersOfProxiedPods, workloadKey } from '../../../../lambdas/core/rotation/proxied-pod-owners.js';

describe('ownersOfProxiedPods', () => {
  it('reaches a Deployment through its ReplicaSet, and StatefulSets and DaemonSets directly', () => {
    const { owning, unmanaged, ownerOfPod } = ownersOfProxiedPods(
      [
        { namespace: 'shop', name: 'web-7d9f-abcde', controller: { kind: 'ReplicaSet', name: 'web-7d9f' } },
        { namespace: 'shop', name: 'db-0', controller: { kind: 'StatefulSet', name: 'db' } },
        { namespace: 'ops', name: 'agent-x', controller: { kind: 'DaemonSet', name: 'agent' } },
      ],
      (namespace, name) =>
        namespace === 'shop' && name === 'web-7d9f' ? { kind: 'Deployment', name: 'web' } : undefined,
    );
    expect([...owning].sort()).toEqual(
      [
        workloadKey('DaemonSet', 'ops', 'agent'),
        workloadKey('Deployment', 'shop', 'web'),
        workloadKey('StatefulSet', 'shop', 'db'),
      ].sort(),
    );
    expect(unmanaged).toEqual([]);
    // Each pod maps to the workload a restart reaches: the Deployment, not its ReplicaSet.
    expect(Object.fromEntries(ownerOfPod)).toEqual({
      'shop/web-7d9f-abcde': workloadKey('Deployment', 'shop', 'web'),
      'shop/db-0': workloadKey('StatefulSet', 'shop', 'db'),
      'ops/agent-x': workloadKey('DaemonSet', 'ops', 'agent'),
    });
  });

  it('returns apart a bare pod, a Job pod and a pod of a ReplicaSet no Deployment owns', () => {
    const { owning, unmanaged, ownerOfPod } = ownersOfProxiedPods(
      [
        { namespace: 'tools', name: 'debug' },
        { namespace: 'tools', name: 'nightly-1', controller: { kind: 'Job', name: 'nightly' } },
        { namespace: 'tools', name: 'legacy-abc', controller: { kind: 'ReplicaSet', name: 'legacy' } },
      ],
      () => undefined,
    );
    expect(owning.size).toBe(0);
    expect(ownerOfPod.size).toBe(0);
    expect(unmanaged).toEqual([
      { namespace: 'tools', name: 'debug' },
      { namespace: 'tools', name: 'nightly-1', owner: 'Job nightly' },
      { namespace: 'tools', name: 'legacy-abc', owner: 'ReplicaSet legacy' },
    ]);
  });
});
