// restart-workloads holds its restarts to the PodDisruptionBudgets (issue 12: "Restart waves ... respect
// PodDisruptionBudgets"), on the model lab, whose controllers keep each budget's status as Kubernetes'
// disruption controller does (lab/workloads/disruption-status.ts). A rollout restart is not an eviction,
// so nothing but the handler's own rule stops it: a workload whose budget allows no disruption waits
// until it allows one; two workloads under one budget allowing one disruption restart one after the
// other; one still held at the wave's rollout timeout fails the step, naming the budget. A workload whose
// own rollout takes down more pods at once than its budget ever allows is refused at preflight.
import { jest } from '@jest/globals';
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import type { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { RESTART_ID_ANNOTATION } from '../../../lambdas/adapters/kube/workload-ref.js';
import {
  RESTART_WAVE_SIZE_ENV,
  ROLLOUT_TIMEOUT_SECONDS_ENV,
} from '../../../lambdas/contract/function-environment.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import {
  INVOCATION_RESERVE_MS,
  type RestartWorkloadsOutput,
  handler as restartWorkloads,
} from '../../../lambdas/handlers/restart-workloads.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';
import { reissuedRekey } from './rotation-steps.js';

jest.setTimeout(180_000);

const CLUSTER = 'lab-1';
let h: HandlerLab;
let store: KubeObjectStore;

beforeAll(async () => {
  // app-01 (1 replica) and app-04 (2 replicas) are Deployments in namespace shop.
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 6 });
  await h.lab.waitForSettled();
  store = h.lab.cluster(CLUSTER).store;
});
afterAll(async () => {
  await h?.stop();
});
afterEach(() => {
  for (const pdb of store.list('PodDisruptionBudget').items) {
    store.delete('PodDisruptionBudget', pdb.metadata.namespace, pdb.metadata.name);
  }
});

/** A run's restart up to reissue: each test restarts under its own execution, so its own restart id. */
async function reissued(name: string) {
  return { ...(await reissuedRekey(h, name, CLUSTER)), purpose: 'rotation' as const };
}

/** Creates a budget in shop and waits until the lab's disruption controller has given it a status. */
async function createBudget(name: string, apps: readonly string[], spec: Record<string, unknown>) {
  store.create({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'shop' },
    spec: { ...spec, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [...apps] }] } },
  });
  return waitForBudget(name, () => true);
}

async function waitForBudget(name: string, ok: (status: Record<string, number>) => boolean) {
  for (let i = 0; i < 200; i++) {
    const pdb = store.get('PodDisruptionBudget', 'shop', name);
    if (pdb.status?.observedGeneration === pdb.metadata.generation && ok(pdb.status)) return pdb;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`PodDisruptionBudget shop/${name} never got the status the test waits for`);
}

/**
 * Records, for each Deployment of shop, when it took a restart id and when its rollout was next
 * complete after that (updated, available, no old pod), as a watch on the store sees it.
 */
function recordRollouts() {
  const restartedAt = new Map<string, number>();
  const rolledOutAt = new Map<string, number>();
  const seen = (deployment: KubeObject) => {
    const name = deployment.metadata.name;
    if (deployment.spec?.template?.metadata?.annotations?.[RESTART_ID_ANNOTATION] === undefined) return;
    if (!restartedAt.has(name)) restartedAt.set(name, Date.now());
    const status = deployment.status ?? {};
    const replicas = deployment.spec?.replicas ?? 1;
    const complete =
      status.observedGeneration >= (deployment.metadata.generation ?? 1) &&
      status.updatedReplicas === replicas &&
      status.replicas === replicas &&
      status.availableReplicas === replicas;
    if (complete && !rolledOutAt.has(name)) rolledOutAt.set(name, Date.now());
  };
  const stop = store.watch({ kind: 'Deployment', namespace: 'shop' }, (event) => seen(event.object));
  return { restartedAt, rolledOutAt, stop };
}

const restartIdOf = (name: string): string | undefined =>
  store.get('Deployment', 'shop', name).spec.template.metadata?.annotations?.[RESTART_ID_ANNOTATION];

describe('restart-workloads under PodDisruptionBudgets', () => {
  it('holds a workload whose budget allows no disruption until the budget allows one, then restarts it', async () => {
    // Prepare: app-01 has one replica and a budget that wants it always up (disruptionsAllowed 0)
    const input = await reissued('pdb-held');
    await createBudget('app-01', ['app-01'], { minAvailable: 1 });
    expect(store.get('PodDisruptionBudget', 'shop', 'app-01').status.disruptionsAllowed).toBe(0);
    const rollouts = recordRollouts();

    // Act: one wave of every workload; relax the budget once every other workload rolled out
    const run = withEnv({ [RESTART_WAVE_SIZE_ENV]: '20' }, () => restartWorkloads(input));
    let othersDone = false;
    for (let i = 0; i < 400 && !othersDone; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      othersDone = rollouts.rolledOutAt.has('app-04');
    }
    const heldWhileOthersRolledOut = restartIdOf('app-01');
    const relaxedAt = Date.now();
    const relaxed = store.get('PodDisruptionBudget', 'shop', 'app-01');
    store.update({ ...relaxed, spec: { ...relaxed.spec, minAvailable: 0 } });
    const output = await run;
    rollouts.stop();

    // Assess
    expect(othersDone).toBe(true);
    expect(heldWhileOthersRolledOut).toBeUndefined();
    expect(output.done).toBe(true);
    expect(output.restarted).toBe(output.workloads);
    expect(restartIdOf('app-01')).toBe(output.restartId);
    expect(rollouts.restartedAt.get('app-01')).toBeGreaterThanOrEqual(relaxedAt);
  });

  it('restarts two workloads under one budget allowing one disruption one after the other, in one wave', async () => {
    // Prepare: app-01 (1 pod) and app-04 (2 pods) under one budget: 3 expected, 2 required, 1 allowed
    const input = await reissued('pdb-shared');
    const pdb = await createBudget('shop-front', ['app-01', 'app-04'], { maxUnavailable: 1 });
    expect(pdb.status).toMatchObject({ disruptionsAllowed: 1, expectedPods: 3, desiredHealthy: 2 });
    const rollouts = recordRollouts();

    // Act
    const output = await withEnv({ [RESTART_WAVE_SIZE_ENV]: '20' }, () => restartWorkloads(input));
    rollouts.stop();

    // Assess: app-04 was restarted only after app-01's rollout finished (wave order: app-01 first)
    expect(output.done).toBe(true);
    expect(output.waves).toBe(1);
    expect(output.restarted).toBe(output.workloads);
    const firstDone = rollouts.rolledOutAt.get('app-01') as number;
    expect(firstDone).toBeDefined();
    expect(rollouts.restartedAt.get('app-04')).toBeGreaterThanOrEqual(firstDone);
  });

  it('hands a wave whose workload a budget holds on to the next invocation, saying which budget, until it allows one', async () => {
    // Prepare: invocations with no time beyond their reserve, as restart-across-invocations.test.ts
    const input = await reissued('pdb-invocations');
    await createBudget('app-01', ['app-01'], { minAvailable: 1 });
    const outOfTime = { getRemainingTimeInMillis: () => INVOCATION_RESERVE_MS };
    const run = (progress?: RestartWorkloadsOutput) =>
      withEnv({ [RESTART_WAVE_SIZE_ENV]: '20' }, () =>
        restartWorkloads({ ...input, ...(progress !== undefined && { progress }) }, outOfTime),
      );

    // Act: one invocation while the budget holds app-01, then relax it and loop to the end
    const first = await run();
    const relaxed = store.get('PodDisruptionBudget', 'shop', 'app-01');
    store.update({ ...relaxed, spec: { ...relaxed.spec, minAvailable: 0 } });
    let last = first;
    while (!last.done && last.invocations < 100) last = await run(last);

    // Assess
    expect(first.done).toBe(false);
    expect(first.waveStartedAt).toBeDefined();
    expect(first.heldByBudgets).toEqual([
      'Deployment shop/app-01: PodDisruptionBudget shop/app-01 (minAvailable: 1) allows 0 disruption(s): 1 of 1 expected pods healthy, 1 required',
    ]);
    expect(last.done).toBe(true);
    expect(last.heldByBudgets).toBeUndefined();
    expect(last.restarted).toBe(last.workloads);
    expect(restartIdOf('app-01')).toBe(last.restartId);
  });

  it('fails the step at the rollout timeout while a budget still holds a workload, naming cluster, workload and budget', async () => {
    // Prepare: a budget that never allows a disruption of app-01
    const input = await reissued('pdb-blocked');
    await createBudget('app-01-strict', ['app-01'], { maxUnavailable: 0 });
    const [app01Before, app04Before] = [restartIdOf('app-01'), restartIdOf('app-04')];

    // Act
    const run = withEnv({ [RESTART_WAVE_SIZE_ENV]: '20', [ROLLOUT_TIMEOUT_SECONDS_ENV]: '3' }, () =>
      restartWorkloads(input),
    );

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'VerificationFailed',
      message: expect.stringMatching(
        /In cluster lab-1, a workload was not restarted: .*Deployment shop\/app-01: PodDisruptionBudget shop\/app-01-strict \(maxUnavailable: 0\) allows 0 disruption\(s\): 1 of 1 expected pods healthy, 1 required.*kubectl -n shop get pdb app-01-strict/,
      ),
    });
    // app-01 kept its last restart; app-04, under no budget, was restarted by this run
    expect(restartIdOf('app-01')).toBe(app01Before);
    expect(restartIdOf('app-04')).not.toBe(app04Before);
  });
  it('refuses at preflight a workload whose rollout takes down more pods at once than its budget allows, writing nothing', async () => {
    // Prepare: app-04 (2 replicas) rolls out 2 pods at once; its budget keeps 1 of 2 (at most 1 disruption)
    const before = store.get('Deployment', 'shop', 'app-04');
    const strategy = (before.spec as { strategy?: unknown }).strategy ?? null;
    store.patch('Deployment', 'shop', 'app-04', 'merge', {
      spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2, maxSurge: 0 } } },
    });
    await createBudget('app-04-pdb', ['app-04'], { minAvailable: 1 });
    const cacerts = store.get('Secret', 'istio-system', 'cacerts').metadata.resourceVersion;
    try {
      // Act
      const run = preflight({
        executionId: h.executionId('pdb-rollout-wider'),
        mode: 'intermediate',
        cluster: CLUSTER,
      });
      // Assess
      await expect(run).rejects.toMatchObject({
        name: 'PreconditionFailed',
        message: expect.stringContaining(
          'nothing was written. In cluster lab-1, Deployment shop/app-04: its rollout takes down up to 2 pods at once ' +
            '(maxUnavailable: 2), but PodDisruptionBudget shop/app-04-pdb (minAvailable: 1) allows at most 1 disruption(s) ' +
            '(1 of 2 expected pods required)',
        ),
      });
      expect(store.get('Secret', 'istio-system', 'cacerts').metadata.resourceVersion).toBe(cacerts);
    } finally {
      store.patch('Deployment', 'shop', 'app-04', 'merge', { spec: { strategy: null } });
      if (strategy !== null) store.patch('Deployment', 'shop', 'app-04', 'merge', { spec: { strategy } });
    }
  });
});
