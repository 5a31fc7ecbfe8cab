// Which workloads a `resign` cluster still restarts after the wait on what its proxies serve.
import { describe, expect, it } from '@jest/globals';
import { workloadKey } from '../../../../lambdas/core/rotation/proxied-pod-owners.js';
import { resignFallbackOf, workloadsToRestart } from '../../../../lambdas/core/rotation/resign-fallback.js';

const web = { namespace: 'shop', kind: 'Deployment', name: 'web', uid: 'u-web' };
const db = { namespace: 'shop', kind: 'StatefulSet', name: 'db', uid: 'u-db' };
const agent = { namespace: 'tools', kind: 'DaemonSet', name: 'agent', uid: 'u-agent' };
const injected = [web, db, agent];

describe('resignFallbackOf', () => {
  it('names the workloads with a pod behind, as positions only', () => {
    // Act
    const fallback = resignFallbackOf(injected, {
      behindWorkloads: [workloadKey('StatefulSet', 'shop', 'db')],
    });

    // Assess
    expect(fallback).toEqual([{ namespace: 'shop', kind: 'StatefulSet', name: 'db' }]);
  });

  it('is empty when every proxy re-signed', () => {
    expect(resignFallbackOf(injected, { behindWorkloads: [] })).toEqual([]);
  });
});

describe('workloadsToRestart', () => {
  it('restarts every injected workload without a fallback', () => {
    expect(workloadsToRestart(injected, undefined)).toEqual(injected);
  });

  it('restarts only the fallback, as the injected workloads are found now', () => {
    // Prepare: the fallback as an earlier invocation carried it; a workload it names that is gone
    const fallback = [
      { namespace: 'tools', kind: 'DaemonSet', name: 'agent' },
      { namespace: 'shop', kind: 'Deployment', name: 'gone' },
    ];

    // Act + Assess
    expect(workloadsToRestart(injected, fallback)).toEqual([agent]);
  });

  it('tells workloads of the same name apart by kind', () => {
    expect(workloadsToRestart(injected, [{ namespace: 'shop', kind: 'Deployment', name: 'db' }])).toEqual([]);
  });

  it('restarts nothing with an empty fallback', () => {
    expect(workloadsToRestart(injected, [])).toEqual([]);
  });
});
