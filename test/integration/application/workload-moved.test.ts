// verify-workloads' check of one workload on a lab cluster with the rollout controller: what it finds,
// on the cluster-wide lists that found the workloads, asking the API server nothing more (it checks
// hundreds).
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import { findInjected, type WorkloadRef } from '../../../lambdas/adapters/kube/injected-workloads.js';
import { awaitRollouts, restartWorkload } from '../../../lambdas/adapters/kube/workload-restart.js';
import { checkWorkloadMoved } from '../../../lambdas/application/workload-moved.js';
import { VerificationFailed } from '../../../lambdas/core/rotation-errors.js';
import {
  authorizeRecording,
  type LabCluster,
  seedMesh,
  startLabCluster,
  waitUntil,
  workload,
} from '../adapters/kube-lab-cluster.js';

let lab: LabCluster;
/** Each request the API server was asked to authorize, as `verb resource[/name]`. */
const requests: string[] = [];

const web: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const db: WorkloadRef = { kind: 'StatefulSet', namespace: 'shop', name: 'db' };
const restartId = 'moved-1';

/** A lab cluster whose API server records each request it authorizes in `into`. */
function startRecordingCluster(name: string, podStartDelayMs: number, into: string[]): Promise<LabCluster> {
  return startLabCluster({
    name,
    podStartDelayMs,
    authorize: authorizeRecording(into),
  });
}

beforeAll(async () => {
  lab = await startRecordingCluster('lab-moved', 30, requests);
  await seedMesh(lab.store, lab.name);
  const podsReady = (app: string) =>
    lab.store.list('Pod', { namespace: 'shop', labelSelector: `app=${app}` }).items.filter(isPodReady);
  await waitUntil(() => podsReady('web').length === 2 && podsReady('db').length === 2);
});

afterAll(async () => {
  await lab?.stop();
});

/**
 * The cluster-wide lists findInjected asks for, whatever the number of workloads (and replicasets when a
 * pod with a sidecar belongs to one; the seeded pods have none, their namespace selects them).
 */
const CLUSTER_LISTS = [
  'list daemonsets',
  'list deployments',
  'list namespaces',
  'list pods',
  'list statefulsets',
];

describe('checkWorkloadMoved', () => {
  it('passes a restarted workload whose rollout is done, on the lists that found it and no other request', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    await restartWorkload(client, web, { restartId, at: new Date() });
    expect(await awaitRollouts(client, [web], { timeoutMs: 15_000, pollMs: 50 })).toEqual([]);
    requests.length = 0;
    // Act
    const found = await findInjected(client);
    const listing = [...requests].sort();
    const check = await checkWorkloadMoved(client, found, web, { restartId, newRoot: undefined });
    // Assess
    expect(check).toEqual({ problems: [], pods: 2 });
    expect(listing).toEqual(CLUSTER_LISTS);
    expect(requests).toHaveLength(CLUSTER_LISTS.length);
  });

  it('names a workload this rotation did not restart, asking for nothing', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const found = await findInjected(client);
    requests.length = 0;
    // Act
    const check = await checkWorkloadMoved(client, found, db, { restartId, newRoot: undefined });
    // Assess
    expect(check.pods).toBe(0);
    expect(check.problems).toEqual([expect.stringContaining('StatefulSet shop/db')]);
    expect(requests).toEqual([]);
  });

  it('judges the pods the lists hold: one they show started before the restart is named', async () => {
    // Prepare: the lists as found, plus a ready pod of web created before the restart.
    const client = lab.clientAs(lab.identities.rotator);
    const found = await findInjected(client);
    const [pod] = found.pods.filter((candidate) => candidate.metadata?.labels?.app === 'web');
    const before = {
      ...pod,
      metadata: {
        ...pod?.metadata,
        name: 'web-from-before',
        creationTimestamp: '2020-01-01T00:00:00Z',
      },
    };
    // Act
    const check = await checkWorkloadMoved(client, { ...found, pods: [...found.pods, before] }, web, {
      restartId,
      newRoot: undefined,
    });
    // Assess
    expect(check.pods).toBe(3);
    expect(check.problems).toEqual([
      'pod shop/web-from-before of Deployment shop/web started before the restart',
    ]);
  });

  it('refuses to judge a workload its lists do not hold', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const found = await findInjected(client);
    const absent: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'absent' };
    // Act
    const check = checkWorkloadMoved(client, found, absent, { restartId, newRoot: undefined });
    // Assess
    await expect(check).rejects.toBeInstanceOf(VerificationFailed);
    await expect(check).rejects.toThrow(
      /^Deployment shop\/absent in cluster lab-moved is not among the workloads/,
    );
  });

  it('says a restarted workload has not finished rolling out, from the same lists', async () => {
    // Prepare: a cluster whose pods take an hour to start, its Deployment restarted.
    const slowRequests: string[] = [];
    const slow = await startRecordingCluster('lab-moved-slow', 3_600_000, slowRequests);
    slow.store.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
    });
    slow.store.create(workload('Deployment', 'shop', 'web', { replicas: 2 }));
    const client = slow.clientAs(slow.identities.rotator);
    await restartWorkload(client, web, { restartId, at: new Date() });
    const found = await findInjected(client);
    slowRequests.length = 0;
    // Act
    const check = await checkWorkloadMoved(client, found, web, { restartId, newRoot: undefined });
    await slow.stop();
    // Assess
    expect(check).toEqual({
      problems: [
        expect.stringMatching(
          /^Deployment shop\/web in cluster lab-moved-slow has not finished rolling out: /,
        ),
      ],
      pods: 0,
    });
    expect(slowRequests).toEqual([]);
  });
});
