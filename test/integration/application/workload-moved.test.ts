// verify-workloads' check of one workload on a lab cluster with the rollout controller: what it finds,
// and that it asks the API server for the workload once and its pods once (it checks hundreds).
import type { KubeRequestAttributes } from '../../../lab/kube/kube-api-server.js';
import { authorizeLabRequest } from '../../../lab/lab-rbac.js';
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import type { WorkloadRef } from '../../../lambdas/adapters/kube/injected-workloads.js';
import { awaitRollout, restartWorkload } from '../../../lambdas/adapters/kube/workload-restart.js';
import { checkWorkloadMoved } from '../../../lambdas/application/workload-moved.js';
import { type LabCluster, seedMesh, startLabCluster, waitUntil } from '../adapters/kube-lab-cluster.js';

let lab: LabCluster;
/** Each request the API server was asked to authorize, as `verb resource[/name]`. */
const requests: string[] = [];

const web: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const db: WorkloadRef = { kind: 'StatefulSet', namespace: 'shop', name: 'db' };
const restartId = 'moved-1';

beforeAll(async () => {
  lab = await startLabCluster({
    name: 'lab-moved',
    podStartDelayMs: 30,
    authorize: (identity, attributes: KubeRequestAttributes) => {
      requests.push(
        `${attributes.verb} ${attributes.resource}${attributes.name ? `/${attributes.name}` : ''}`,
      );
      return authorizeLabRequest(identity, attributes);
    },
  });
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
    expect(await awaitRollout(client, web, { timeoutMs: 15_000, pollMs: 50 })).toEqual({ done: true });
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
    // Prepare: db restarted, checked before its controller replaced its pods.
    const client = lab.clientAs(lab.identities.rotator);
    await restartWorkload(client, db, { restartId, at: new Date() });
    requests.length = 0;
    // Act
    const check = await checkWorkloadMoved(client, db, { restartId, newRoot: undefined });
    // Assess
    expect(check).toEqual({
      problems: [
        expect.stringMatching(/^StatefulSet shop\/db in cluster lab-moved has not finished rolling out: /),
      ],
      pods: 0,
    });
    expect(requests).toEqual(['get statefulsets/db']);
  });
});
