// restart-workloads' wave on a lab cluster with the rollout controller: its workloads are restarted a
// bounded number at once, not one after another, and each rollout is then awaited with a list of the
// namespace's workloads a poll, not a read of each.

import { readWaveWorkloads } from '../../../lambdas/adapters/kube/disruption-budgets.js';
import { DEPLOYMENTS } from '../../../lambdas/adapters/kube/kube-objects.js';
import {
  WORKLOADS_AT_ONCE,
  type Workload,
  type WorkloadRef,
} from '../../../lambdas/adapters/kube/workload-ref.js';
import { RESTART_ID_ANNOTATION } from '../../../lambdas/adapters/kube/workload-restart.js';
import { restartInWaves } from '../../../lambdas/application/restart-in-waves.js';
import type { RotationRuntime } from '../../../lambdas/application/runtime.js';
import {
  authorizeRecording,
  type LabCluster,
  startLabCluster,
  workload,
} from '../adapters/kube-lab-cluster.js';

let lab: LabCluster;
/** Each request the API server was asked to authorize, as `verb resource[/name]`. */
const requests: string[] = [];
const refs: WorkloadRef[] = Array.from({ length: 20 }, (_, i) => ({
  kind: 'Deployment',
  namespace: 'shop',
  name: `app-${String(i).padStart(2, '0')}`,
}));

beforeAll(async () => {
  lab = await startLabCluster({
    name: 'lab-waves',
    podStartDelayMs: 30,
    authorize: authorizeRecording(requests),
  });
  lab.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  for (const ref of refs) lab.store.create(workload('Deployment', 'shop', ref.name, { replicas: 1 }));
});

afterAll(async () => {
  await lab?.stop();
});

/** restartInWaves of every workload in one emergency wave, as the rotator, with a minute to go. */
function restartEmergencyWave(restartId: string, listed?: ReadonlyMap<string, Workload>) {
  const runtime = { config: { restartWaveSize: 5, rolloutTimeoutSeconds: 30 } } as unknown as RotationRuntime;
  return restartInWaves(runtime, lab.clientAs(lab.identities.rotator), refs, {
    cursor: {},
    mode: 'emergency',
    restartId,
    deadline: Date.now() + 60_000,
    ...(listed !== undefined && { listed }),
  });
}

describe('restartInWaves', () => {
  it("restarts an emergency wave's workloads a bounded number at once, then awaits every rollout with lists", async () => {
    // Prepare
    requests.length = 0;
    // Act
    const outcome = await restartEmergencyWave('waves-1');
    // Assess: the wave is first read for an earlier restart (one get each), then each restart is a get
    // and a patch; at most WORKLOADS_AT_ONCE, and more than one, are between the two at any time.
    expect(outcome.done).toBe(true);
    const gets = new Map<string, number>();
    const patched = new Set<string>();
    let restarting = 0;
    let most = 0;
    for (const request of requests) {
      const [verb, target] = request.split(' ');
      if (target === undefined || !target.startsWith('deployments/')) continue;
      if (verb === 'get' && !patched.has(target)) {
        gets.set(target, (gets.get(target) ?? 0) + 1);
        if (gets.get(target) === 2) restarting += 1;
      }
      if (verb === 'patch') {
        patched.add(target);
        restarting -= 1;
      }
      most = Math.max(most, restarting);
    }
    expect(patched.size).toBe(refs.length);
    expect(most).toBe(WORKLOADS_AT_ONCE);
    // The rollout wait, after the last patch: a list of the namespace's Deployments a poll while two or
    // more roll out (the first poll waits on all 20), a read of the last one alone when it is left over
    // (a slow machine's last poll): never a read of each.
    const waiting = requests.slice(requests.findLastIndex((request) => request.startsWith('patch ')) + 1);
    expect(waiting[0]).toBe('list deployments');
    const read = new Set(waiting.filter((request) => request.startsWith('get deployments/')));
    expect(read.size).toBeLessThanOrEqual(1);
    for (const ref of refs) {
      const stored = lab.store.tryGet('Deployment', 'shop', ref.name);
      expect(stored?.spec?.template?.metadata?.annotations?.[RESTART_ID_ANNOTATION]).toBe('waves-1');
    }
  });

  it("sends only patches before the rollout wait when the invocation's lists are handed over", async () => {
    // Prepare: the first case's rollouts done; the namespace's Deployments as one list returned them.
    const client = lab.clientAs(lab.identities.rotator);
    const listed = new Map<string, Workload>();
    for (const item of (await client.api.list(DEPLOYMENTS, { namespace: 'shop' })).items) {
      listed.set(`Deployment/shop/${item.metadata?.name}`, item);
    }
    requests.length = 0;
    // Act
    const outcome = await restartEmergencyWave('waves-2', listed);
    // Assess: no read of a workload before its patch (neither for an earlier restart nor for the patch).
    expect(outcome.done).toBe(true);
    const restarting = requests.slice(
      0,
      requests.findLastIndex((request) => request.startsWith('patch ')) + 1,
    );
    expect(restarting.filter((request) => request.startsWith('patch deployments/'))).toHaveLength(
      refs.length,
    );
    expect(restarting.filter((request) => request.startsWith('get '))).toEqual([]);
    for (const ref of refs) {
      const stored = lab.store.tryGet('Deployment', 'shop', ref.name);
      expect(stored?.spec?.template?.metadata?.annotations?.[RESTART_ID_ANNOTATION]).toBe('waves-2');
    }
  });
});

describe('readWaveWorkloads', () => {
  it("reads a wave's workloads in a namespace with budgets with one list, and those elsewhere not at all", async () => {
    // Prepare: the second case restarted every workload with waves-2 and its rollouts are done.
    const client = lab.clientAs(lab.identities.rotator);
    const elsewhere: WorkloadRef = { kind: 'Deployment', namespace: 'no-budget', name: 'api' };
    const wave = [...refs.slice(0, 5), elsewhere];
    requests.length = 0;
    // Act
    const read = await readWaveWorkloads(client, wave, 'waves-2', new Set(['shop']));
    // Assess
    expect(requests).toEqual(['list deployments']);
    expect(read).toEqual([
      ...refs.slice(0, 5).map((workload) => ({ workload, podLabels: { app: workload.name }, state: 'done' })),
      { workload: elsewhere, podLabels: {}, state: 'pending' },
    ]);
    const other = await readWaveWorkloads(client, refs.slice(0, 2), 'waves-other', new Set(['shop']));
    expect(other.map(({ state }) => state)).toEqual(['pending', 'pending']);
  });
});
