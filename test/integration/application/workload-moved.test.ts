// verify-workloads' check of one workload on a lab cluster with the rollout controller: what it finds,
// and that it asks the API server for the workload once and its pods once (it checks hundreds).
import type { KubeRequestAttributes } from '../../../lab/kube/kube-api-server.js';
import { authorizeLabRequest } from '../../../lab/lab-rbac.js';
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import type { WorkloadRef } from '../../../lambdas/adapters/kube/injected-workloads.js';
import { awaitRollouts, restartWorkload } from '../../../lambdas/adapters/kube/workload-restart.js';
import { checkWorkloadMoved } from '../../../lambdas/application/workload-moved.js';
import {
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
    authorize: (identity, attributes: KubeRequestAttributes) => {
      into.push(`${attributes.verb} ${attributes.resource}${attributes.name ? `/${attributes.name}` : ''}`);
      return authorizeLabRequest(identity, attributes);
    },
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

describe('checkWorkloadMoved', () => {
  it('passes a restarted workload whose rollout is done, on one read of it and one list of its pods', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    await restartWorkload(client, web, { restartId, at: new Date() });
    expect(await awaitRollouts(client, [web], { timeoutMs: 15_000, pollMs: 50 })).toEqual([]);
    requests.length = 0;
    // Act
    const check = await checkWorkloadMoved(client, web, { restartId, newRoot: undefined });
    // Assess
    expect(check).toEqual({ problems: [], pods: 2 });
    expect(requests).toEqual(['get deployments/web', 'list pods']);
  });

  it('names a workload this rotation did not restart after one read, asking for nothing more', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    requests.length = 0;
    // Act
    const check = await checkWorkloadMoved(client, db, { restartId, newRoot: undefined });
    // Assess
    expect(check.pods).toBe(0);
    expect(check.problems).toEqual([expect.stringContaining('StatefulSet shop/db')]);
    expect(requests).toEqual(['get statefulsets/db']);
  });

  it('says a restarted workload has not finished rolling out, from the same one read', async () => {
    // Prepare: a cluster whose pods take an hour to start, its Deployment restarted.
    const slowRequests: string[] = [];
    const slow = await startRecordingCluster('lab-moved-slow', 3_600_000, slowRequests);
    slow.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    slow.store.create(workload('Deployment', 'shop', 'web', { replicas: 2 }));
    const client = slow.clientAs(slow.identities.rotator);
    await restartWorkload(client, web, { restartId, at: new Date() });
    slowRequests.length = 0;
    // Act
    const check = await checkWorkloadMoved(client, web, { restartId, newRoot: undefined });
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
    expect(slowRequests).toEqual(['get deployments/web']);
  });
});
