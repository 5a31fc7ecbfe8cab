// Restarting injected workloads as `kubectl rollout restart` does, once per restart id, and waiting
// for the rollout as `kubectl rollout status` judges it, on a lab cluster with the rollout controller.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { type KubectlOptions, runKubectl } from '../../../lab/kube/kubectl-runner.js';
import type { PatchType } from '../../../lab/kube/object-store.js';
import { writeStaticTokenKubeconfig } from '../../../lab/kube/static-token-kubeconfig.js';
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import { createEksToken } from '../../../lambdas/adapters/eks/eks-token.js';
import type { WorkloadRef } from '../../../lambdas/adapters/kube/injected-workloads.js';
import { PODS, type V1Pod } from '../../../lambdas/adapters/kube/kube-objects.js';
import { readWorkload } from '../../../lambdas/adapters/kube/workload-ref.js';
import {
  awaitRollouts,
  podsSelectedBy,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  restartWorkload,
  unfinishedRollout,
} from '../../../lambdas/adapters/kube/workload-restart.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { sidecarPod } from '../../support/sidecar-pod.js';
import {
  authorizeRecording,
  type LabCluster,
  REGION,
  seedMesh,
  startLabCluster,
  waitUntil,
  workload,
} from './kube-lab-cluster.js';

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/;

let lab: LabCluster;
let dir: string;
let kubectl: KubectlOptions;
/** Each request the API server was asked to authorize, as `verb resource[/name]`. */
const requests: string[] = [];
/** Every patch the API server applied to a workload: type and body, as received. */
const patches: { kind: string; name: string; patchType: PatchType; body: unknown }[] = [];

const web: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const db: WorkloadRef = { kind: 'StatefulSet', namespace: 'shop', name: 'db' };
const agent: WorkloadRef = { kind: 'DaemonSet', namespace: 'payments', name: 'agent' };

beforeAll(async () => {
  lab = await startLabCluster({
    name: 'lab-restart',
    podStartDelayMs: 30,
    authorize: authorizeRecording(requests),
  });
  await seedMesh(lab.store, lab.name);
  const store = lab.store;
  const applyPatch = store.patch.bind(store);
  store.patch = (kind, namespace, name, patchType, body, options) => {
    if (['Deployment', 'StatefulSet', 'DaemonSet'].includes(kind) && options?.subresource === undefined) {
      patches.push({ kind, name, patchType, body: structuredClone(body) });
    }
    return applyPatch(kind, namespace, name, patchType, body, options);
  };
  dir = await mkdtemp(join(tmpdir(), 'kube-restart-'));
  kubectl = { kubeconfig: join(dir, 'kubeconfig'), cacheDir: join(dir, 'cache') };
  const { token } = await createEksToken({
    clusterName: lab.name,
    region: REGION,
    credentials: lab.identities.rotator.credentials,
  });
  await writeStaticTokenKubeconfig(kubectl.kubeconfig, {
    clusterName: lab.name,
    server: lab.server.url,
    caPem: lab.server.caPem,
    token,
  });
  await waitUntil(() => podsOf('shop', 'web').filter(isPodReady).length === 2);
});

afterAll(async () => {
  await lab?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * A lab cluster whose pods take `podStartDelayMs` to start, recording every request it authorizes in
 * `asked` (refusing any `refuse` says no to), with the namespace shop created.
 */
async function recordingCluster(
  name: string,
  podStartDelayMs: number,
  refuse: (verb: string) => boolean = () => false,
): Promise<{ cluster: LabCluster; asked: string[] }> {
  const asked: string[] = [];
  const recording = authorizeRecording(asked);
  const cluster = await startLabCluster({
    name,
    podStartDelayMs,
    authorize: (identity, attributes) => recording(identity, attributes) && !refuse(attributes.verb),
  });
  cluster.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  return { cluster, asked };
}

function podsOf(namespace: string, app: string): KubeObject[] {
  return lab.store.list('Pod', { namespace, labelSelector: `app=${app}` }).items;
}

function templateAnnotations(ref: WorkloadRef): Record<string, string> {
  return lab.store.get(ref.kind, ref.namespace, ref.name).spec.template.metadata.annotations ?? {};
}

describe('restartWorkload', () => {
  it('sends what kubectl rollout restart sends: a strategic merge patch of restartedAt in RFC 3339', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const viaKubectl = await runKubectl(['rollout', 'restart', 'deployment/web', '-n', 'shop'], kubectl);
    const kubectlPatch = patches.at(-1);
    const at = new Date('2026-11-25T12:34:56.789Z');
    // Act
    const result = await restartWorkload(client, db, { restartId: 'exec-1', at });
    const ourPatch = patches.at(-1);
    // Assess
    expect(viaKubectl.exitCode).toBe(0);
    expect(kubectlPatch?.patchType).toBe('strategic');
    expect(ourPatch?.patchType).toBe(kubectlPatch?.patchType);
    const kubectlValue = templateAnnotations(web)[RESTARTED_AT_ANNOTATION];
    expect(kubectlValue).toMatch(RFC3339_SECONDS);
    expect(kubectlPatch?.body).toEqual({
      spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: kubectlValue } } } },
    });
    expect(result).toEqual({ restarted: true });
    expect(ourPatch?.body).toEqual({
      metadata: { resourceVersion: expect.any(String) },
      spec: {
        template: {
          metadata: {
            annotations: {
              [RESTARTED_AT_ANNOTATION]: '2026-11-25T12:34:56Z',
              [RESTART_ID_ANNOTATION]: 'exec-1',
            },
          },
        },
      },
    });
    expect(templateAnnotations(db)[RESTARTED_AT_ANNOTATION]).toMatch(RFC3339_SECONDS);
  });

  it('restarts each workload once per restart id: a second call sends nothing and starts no pod', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    await restartWorkload(client, agent, { restartId: 'exec-2', at: new Date() });
    expect(await awaitRollouts(client, [agent], { timeoutMs: 10_000, pollMs: 50 })).toEqual([]);
    const podsBefore = podsOf('payments', 'agent').map((pod) => pod.metadata.uid);
    const generationBefore = lab.store.get('DaemonSet', 'payments', 'agent').metadata.generation;
    const patchCount = patches.length;
    // Act
    const again = await restartWorkload(client, agent, { restartId: 'exec-2', at: new Date() });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Assess
    expect(again).toEqual({ restarted: false });
    expect(patches.length).toBe(patchCount);
    expect(lab.store.get('DaemonSet', 'payments', 'agent').metadata.generation).toBe(generationBefore);
    expect(podsOf('payments', 'agent').map((pod) => pod.metadata.uid)).toEqual(podsBefore);
  });

  it('restarts once when two callers race with the same restart id', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const other = lab.clientAs(lab.identities.rotator);
    const generationBefore = lab.store.get('Deployment', 'shop', 'web').metadata.generation as number;
    // Act
    const results = await Promise.all([
      restartWorkload(client, web, { restartId: 'exec-3', at: new Date() }),
      restartWorkload(other, web, { restartId: 'exec-3', at: new Date() }),
    ]);
    // Assess
    expect(results.map((result) => result.restarted).sort()).toEqual([false, true]);
    expect(lab.store.get('Deployment', 'shop', 'web').metadata.generation).toBe(generationBefore + 1);
  });

  it('patches a workload its list says is due without reading it first', async () => {
    // Prepare: web settled (a rollout still going on changes its status, and so its resourceVersion).
    const client = lab.clientAs(lab.identities.rotator);
    expect(await awaitRollouts(client, [web], { timeoutMs: 10_000, pollMs: 50 })).toEqual([]);
    const listed = await readWorkload(client, web);
    requests.length = 0;
    // Act
    const restart = await restartWorkload(client, web, {
      restartId: 'exec-listed-1',
      at: new Date(),
      listed,
    });
    // Assess
    expect(restart).toEqual({ restarted: true });
    expect(requests).toEqual(['patch deployments/web']);
    expect(templateAnnotations(web)[RESTART_ID_ANNOTATION]).toBe('exec-listed-1');
    expect(await awaitRollouts(client, [web], { timeoutMs: 10_000, pollMs: 50 })).toEqual([]);
  });

  it('reads the workload again when it changed since its list, and restarts it once', async () => {
    // Prepare: the list, then a change to the workload (a new resourceVersion).
    const client = lab.clientAs(lab.identities.rotator);
    const listed = await readWorkload(client, web);
    lab.store.patch('Deployment', 'shop', 'web', 'merge', { metadata: { labels: { changed: 'yes' } } });
    const generationBefore = lab.store.get('Deployment', 'shop', 'web').metadata.generation as number;
    requests.length = 0;
    // Act
    const restart = await restartWorkload(client, web, {
      restartId: 'exec-listed-2',
      at: new Date(),
      listed,
    });
    // Assess: the stale patch met 409, the read and patch after it went through.
    expect(restart).toEqual({ restarted: true });
    expect(requests).toEqual(['patch deployments/web', 'get deployments/web', 'patch deployments/web']);
    expect(templateAnnotations(web)[RESTART_ID_ANNOTATION]).toBe('exec-listed-2');
    expect(lab.store.get('Deployment', 'shop', 'web').metadata.generation).toBe(generationBefore + 1);
    expect(await awaitRollouts(client, [web], { timeoutMs: 10_000, pollMs: 50 })).toEqual([]);
  });

  it('decides that no restart is due only on a fresh read, not on its list', async () => {
    // Prepare: a list that says the workload already carries the restart id; it does not.
    const client = lab.clientAs(lab.identities.rotator);
    const read = await readWorkload(client, web);
    const listed = structuredClone(read);
    (listed.spec?.template.metadata?.annotations as Record<string, string>)[RESTART_ID_ANNOTATION] =
      'exec-listed-3';
    requests.length = 0;
    // Act
    const restart = await restartWorkload(client, web, {
      restartId: 'exec-listed-3',
      at: new Date(),
      listed,
    });
    // Assess
    expect(restart).toEqual({ restarted: true });
    expect(requests).toEqual(['get deployments/web', 'patch deployments/web']);
    expect(await awaitRollouts(client, [web], { timeoutMs: 10_000, pollMs: 50 })).toEqual([]);
  });

  it('refuses a paused Deployment, whose pods a restart would not replace', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    lab.store.create({ ...workload('Deployment', 'shop', 'paused', { replicas: 1 }) });
    lab.store.patch('Deployment', 'shop', 'paused', 'merge', { spec: { paused: true } });
    const ref: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'paused' };
    // Act
    const restart = restartWorkload(client, ref, { restartId: 'exec-4', at: new Date() });
    // Assess
    await expect(restart).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(restart).rejects.toThrow(/Deployment shop\/paused in cluster lab-restart is paused/);
    expect(templateAnnotations(ref)[RESTART_ID_ANNOTATION]).toBeUndefined();
    lab.store.delete('Deployment', 'shop', 'paused');
  });

  it('refuses the viewer with PreconditionFailed that points at rbac.yaml', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    // Act
    const restart = restartWorkload(client, web, { restartId: 'exec-5', at: new Date() });
    // Assess
    await expect(restart).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(restart).rejects.toThrow(
      /restart Deployment shop\/web in cluster lab-restart: forbidden.*rbac\.yaml/s,
    );
  });
});

describe('awaitRollouts', () => {
  it('is done once every pod of each kind was replaced and is ready, as one read then says', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const refs = [web, db, agent];
    const before = new Map(
      refs.map((ref) => [ref.name, new Set(podsOf(ref.namespace, ref.name).map((p) => p.metadata.uid))]),
    );
    const at = new Date();
    // Act
    for (const ref of refs) await restartWorkload(client, ref, { restartId: 'exec-6', at });
    const behind = await awaitRollouts(client, refs, { timeoutMs: 15_000, pollMs: 50 });
    // Assess
    expect(behind).toEqual([]);
    for (const ref of refs) {
      const read = await readWorkload(client, ref);
      expect(unfinishedRollout(client.name, ref, read)).toBeUndefined();
      const pods = podsSelectedBy(client.name, ref, read, await listClusterPods(client));
      expect(pods.length).toBeGreaterThan(0);
      for (const pod of pods) {
        expect(before.get(ref.name)?.has(pod.uid)).toBe(false);
        expect(pod.ready).toBe(true);
        expect(pod.createdAt.getTime()).toBeGreaterThanOrEqual(at.getTime() - 1000);
      }
    }
  });

  it('reads on its own a workload its namespace list no longer has, and says it is gone', async () => {
    // Prepare: two Deployments of one namespace, so one list; one was never there (deleted meanwhile).
    const client = lab.clientAs(lab.identities.rotator);
    const gone: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'gone' };
    // Act
    const wait = awaitRollouts(client, [web, gone], { timeoutMs: 5_000, pollMs: 50 });
    // Assess
    await expect(wait).rejects.toThrow(/Deployment shop\/gone/);
  });

  it('says what is missing when its time runs out, as one read of the workload then says', async () => {
    // Prepare: a cluster whose pods take an hour to start.
    const slow = await startLabCluster({ name: 'lab-slow', podStartDelayMs: 3_600_000 });
    slow.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    slow.store.create(workload('Deployment', 'shop', 'web', { replicas: 2 }));
    const client = slow.clientAs(slow.identities.rotator);
    await restartWorkload(client, web, { restartId: 'exec-7', at: new Date() });
    // Act
    const started = Date.now();
    const behind = await awaitRollouts(client, [web], { timeoutMs: 400, pollMs: 100 });
    const elapsed = Date.now() - started;
    const unfinished = unfinishedRollout(client.name, web, await readWorkload(client, web));
    const pods = slow.store.list('Pod', { namespace: 'shop', labelSelector: 'app=web' }).items;
    await slow.stop();
    // Assess
    const missing = /\d+ of \d+ (new replicas updated|updated replicas available)/;
    expect(behind).toEqual([{ workload: web, waiting: expect.stringMatching(missing) }]);
    expect(unfinished).toMatch(
      new RegExp(
        `^Deployment shop/web in cluster lab-slow has not finished rolling out: ${missing.source}.*kubectl -n shop get pods`,
      ),
    );
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3000);
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.some(isPodReady)).toBe(false);
  });

  it('reads again when a watch says every rollout is over, not at its poll, and only then', async () => {
    // Prepare: pods that take a second to start, and a poll of ten minutes: only a watch can end the
    // wait within the test's time. Two Deployments of a namespace (one watch of it) and a StatefulSet
    // alone (one watch of it by name).
    const { cluster: slow, asked } = await recordingCluster('lab-watch', 1_000);
    const api: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
    const refs = [web, api, db];
    for (const ref of refs) slow.store.create(workload(ref.kind, ref.namespace, ref.name, { replicas: 1 }));
    const client = slow.clientAs(slow.identities.rotator);
    try {
      expect(await awaitRollouts(client, refs, { timeoutMs: 20_000, pollMs: 50 })).toEqual([]);
      for (const ref of refs) await restartWorkload(client, ref, { restartId: 'exec-watch', at: new Date() });
      const from = asked.length;
      // Act
      const behind = await awaitRollouts(client, refs, { timeoutMs: 600_000, pollMs: 600_000 });
      // Assess
      expect(behind).toEqual([]);
      const since = asked.slice(from);
      expect(since.filter((request) => request.startsWith('watch ')).sort()).toEqual([
        'watch deployments',
        'watch statefulsets',
      ]);
      // Two reads, each a list of the namespace's Deployments and a get of the StatefulSet: the first
      // saw the restarts rolling out, the second followed the events that every rollout was over (not
      // one read per rollout as each finished, nor a spin on events already read).
      const reads = since.filter((request) => /^(get|list) /.test(request));
      const round = ['get statefulsets/db', 'list deployments'];
      expect(reads.sort()).toEqual([...round, ...round].sort());
    } finally {
      await slow.stop();
    }
  }, 30_000);

  it('opens a watch again that ended after 30 s without an event, and still wakes on it', async () => {
    // Prepare: a pod that takes 40 s to start, so the watch is quiet for longer than WATCH_QUIET_MS, 30 s
    // (kube-watch.ts ends it then); a poll of ten minutes, so only a watch opened again can end the wait in time.
    const { cluster: quiet, asked } = await recordingCluster('lab-quiet', 40_000);
    quiet.store.create(workload('Deployment', 'shop', 'web', { replicas: 1 }));
    const client = quiet.clientAs(quiet.identities.rotator);
    try {
      // Restarted as soon as created: its first pod and the restart's are both 40 s away.
      await restartWorkload(client, web, { restartId: 'exec-quiet', at: new Date() });
      const from = asked.length;
      // Act
      const behind = await awaitRollouts(client, [web], { timeoutMs: 600_000, pollMs: 600_000 });
      // Assess
      expect(behind).toEqual([]);
      expect(asked.slice(from).filter((request) => request === 'watch deployments')).toHaveLength(2);
    } finally {
      await quiet.stop();
    }
  }, 120_000);

  it('polls every pollMs when it may not watch, and still ends when the rollout does', async () => {
    // Prepare: an API server that refuses every watch.
    const { cluster: noWatch, asked } = await recordingCluster(
      'lab-no-watch',
      1_000,
      (verb) => verb === 'watch',
    );
    noWatch.store.create(workload('Deployment', 'shop', 'web', { replicas: 1 }));
    const client = noWatch.clientAs(noWatch.identities.rotator);
    try {
      expect(await awaitRollouts(client, [web], { timeoutMs: 20_000, pollMs: 50 })).toEqual([]);
      await restartWorkload(client, web, { restartId: 'exec-no-watch', at: new Date() });
      const from = asked.length;
      // Act
      const behind = await awaitRollouts(client, [web], { timeoutMs: 20_000, pollMs: 50 });
      // Assess: the watch was asked for and refused; a second's rollout took many reads, not one
      // every POLL_WHILE_WATCHED_MS.
      expect(behind).toEqual([]);
      const since = asked.slice(from);
      expect(since).toContain('watch deployments');
      expect(since.filter((request) => request === 'get deployments/web').length).toBeGreaterThan(5);
    } finally {
      await noWatch.stop();
    }
  }, 30_000);

  it('refuses to select the pods of a workload with no selector, naming it', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    const read = await readWorkload(client, web);
    const noSelector = { ...read, spec: { ...read.spec, selector: {} } } as typeof read;
    const pods = await listClusterPods(client);
    // Act
    const selecting = () => podsSelectedBy(client.name, web, noSelector, pods);
    // Assess
    expect(selecting).toThrow(PreconditionFailed);
    expect(selecting).toThrow(/^Deployment shop\/web in cluster lab-restart has no pod selector\.$/);
  });
});

describe('podsSelectedBy', () => {
  it('returns name, uid, creation time, readiness and annotations of the pods its selector matches', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    const stored = podsOf('shop', 'db');
    // Act
    const pods = podsSelectedBy(
      client.name,
      db,
      await readWorkload(client, db),
      await listClusterPods(client),
    );
    // Assess
    expect(pods.map((pod) => pod.name)).toEqual(stored.map((pod) => pod.metadata.name).sort());
    for (const pod of pods) {
      const original = stored.find((candidate) => candidate.metadata.name === pod.name) as KubeObject;
      expect(pod.uid).toBe(original.metadata.uid);
      expect(pod.createdAt.toISOString().slice(0, 19)).toBe(
        String(original.metadata.creationTimestamp).slice(0, 19),
      );
      expect(pod.ready).toBe(isPodReady(original));
      expect(pod.annotations).toEqual(original.metadata.annotations ?? {});
    }
  });

  it("selects, as the API server's labelSelector does, only its own namespace's pods, by every operator", async () => {
    // Prepare: a bare pod labelled app=web in another namespace.
    const client = lab.clientAs(lab.identities.viewer);
    const stray = sidecarPod('payments', 'web-elsewhere');
    stray.metadata.labels = { ...stray.metadata.labels, app: 'web' };
    lab.store.create(stray);
    const pods = await listClusterPods(client);
    lab.store.delete('Pod', 'payments', 'web-elsewhere');
    const web = await readWorkload(client, { kind: 'Deployment', namespace: 'shop', name: 'web' });
    const expressions = [
      { key: 'app', operator: 'In', values: ['web', 'db'] },
      { key: 'app', operator: 'NotIn', values: ['db'] },
      { key: 'app', operator: 'Exists' },
      { key: 'nowhere', operator: 'DoesNotExist' },
    ];
    const selecting = (selector: object) =>
      podsSelectedBy(
        client.name,
        { kind: 'Deployment', namespace: 'shop', name: 'web' },
        { ...web, spec: { ...web.spec, selector } } as typeof web,
        pods,
      ).map((pod) => pod.name);
    // Act
    const byExpressions = selecting({ matchExpressions: expressions });
    const byApi = lab.store
      .list('Pod', { namespace: 'shop', labelSelector: 'app in (web,db),app notin (db),app,!nowhere' })
      .items.map((pod) => pod.metadata.name)
      .sort();
    const unknown = () =>
      selecting({ matchExpressions: [{ key: 'app', operator: 'Near', values: ['web'] }] });
    // Assess
    expect(byExpressions).toEqual(byApi);
    expect(byExpressions).toEqual(
      podsOf('shop', 'web')
        .map((pod) => pod.metadata.name)
        .sort(),
    );
    expect(pods.map((pod) => pod.metadata?.name)).toContain('web-elsewhere');
    expect(unknown).toThrow(
      /Deployment shop\/web in cluster lab-restart has a pod selector with an operator/,
    );
  });

  it('refuses an operator Kubernetes does not have even with no pod to match it against', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    const read = await readWorkload(client, web);
    const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Near' }] };
    const unknown = { ...read, spec: { ...read.spec, selector } } as typeof read;
    // Act
    const selecting = () => podsSelectedBy(client.name, web, unknown, []);
    // Assess
    expect(selecting).toThrow(PreconditionFailed);
    expect(selecting).toThrow(
      /Deployment shop\/web in cluster lab-restart has a pod selector with an operator/,
    );
  });
});

/** Every pod of the cluster, as findInjected lists them. */
async function listClusterPods(client: ReturnType<LabCluster['clientAs']>): Promise<V1Pod[]> {
  return (await client.api.list(PODS)).items;
}
