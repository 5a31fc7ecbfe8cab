// The lab's in-memory Kubernetes object store: the semantics kubectl, the rotation workflow and the
// lab's own controllers rely on (resourceVersion conflicts, patches, selectors, watches).
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  InvalidError,
  NotFoundError,
} from '../../../lab/kube/errors.js';
import type { KubeObject, WatchEvent } from '../../../lab/kube/kube-object.js';
import {
  KubeObjectStore,
  WATCH_HISTORY_FLOOR,
  WATCH_HISTORY_FRESH_MS,
} from '../../../lab/kube/object-store.js';

function storeWithNamespace(...names: string[]): KubeObjectStore {
  const store = new KubeObjectStore();
  for (const name of names) store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return store;
}

function deployment(name: string, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'apps', labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'app', image, env: [{ name: 'A', value: '1' }] },
            { name: 'sidecar', image: 'proxy:1' },
          ],
        },
      },
    },
  };
}

describe('KubeObjectStore', () => {
  it('stamps uid, creationTimestamp and a growing resourceVersion, and refuses a second create', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    // Act
    const first = store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'apps' },
    });
    const second = store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: 'apps' },
    });
    // Assess
    expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(() =>
      store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'apps' } }),
    ).toThrow(AlreadyExistsError);
  });

  it('refuses a namespaced object in a namespace that does not exist', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    // Act
    const create = () =>
      store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'nope' } });
    // Assess
    expect(create).toThrow(NotFoundError);
  });

  it('answers 409 Conflict to an update carrying a stale resourceVersion and keeps the newer write', () => {
    // Prepare
    const store = storeWithNamespace('istio-system');
    const created = store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cacerts', namespace: 'istio-system' },
      stringData: { 'root-cert.pem': 'A' },
    });
    store.update({ ...created, stringData: { 'root-cert.pem': 'A+B' } });
    // Act
    const stale = () => store.update({ ...created, stringData: { 'root-cert.pem': 'C' } });
    // Assess
    expect(stale).toThrow(ConflictError);
    const stored = store.get('Secret', 'istio-system', 'cacerts');
    expect(Buffer.from(stored.data['root-cert.pem'], 'base64').toString()).toBe('A+B');
    expect(stored.stringData).toBeUndefined();
  });

  it('rejects Secret data that is not base64', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    // Act
    const create = () =>
      store.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'apps' },
        data: { k: 'not base64!' },
      });
    // Assess
    expect(create).toThrow(InvalidError);
  });

  it('bumps a workload generation on a spec change only, and keeps status out of main-resource writes', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    const created = store.create(deployment('web', 'app:1'));
    store.update({ ...created, status: { observedGeneration: 1, replicas: 2 } }, { subresource: 'status' });
    // Act
    const relabelled = store.patch('Deployment', 'apps', 'web', 'merge', {
      metadata: { labels: { tier: 'front' } },
    });
    const restarted = store.patch('Deployment', 'apps', 'web', 'strategic', {
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } },
        },
      },
      status: { replicas: 99 },
    });
    // Assess
    expect(created.metadata.generation).toBe(1);
    expect(relabelled.metadata.generation).toBe(1);
    expect(restarted.metadata.generation).toBe(2);
    expect(restarted.status).toEqual({ observedGeneration: 1, replicas: 2 });
    expect(restarted.spec.strategy.type).toBe('RollingUpdate');
  });

  it('merges containers and env by name in a strategic merge patch, and deletes with $patch: delete', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    store.create(deployment('web', 'app:1'));
    // Act
    const patched = store.patch('Deployment', 'apps', 'web', 'strategic', {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [
              { name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }] },
              { name: 'sidecar', $patch: 'delete' },
            ],
          },
        },
      },
    });
    // Assess
    const containers = patched.spec.template.spec.containers;
    expect(containers).toEqual([
      {
        name: 'app',
        image: 'app:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
    ]);
  });

  it('replaces lists in a JSON merge patch, as RFC 7386 says', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    store.create(deployment('web', 'app:1'));
    // Act
    const patched = store.patch('Deployment', 'apps', 'web', 'merge', {
      spec: { template: { spec: { containers: [{ name: 'only', image: 'x:1' }] } } },
    });
    // Assess
    expect(patched.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x:1' }]);
  });

  it('applies a JSON patch atomically: a failing test op leaves the object unchanged', () => {
    // Prepare
    const store = storeWithNamespace('istio-system');
    const created = store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cacerts', namespace: 'istio-system' },
      stringData: { a: '1' },
    });
    // Act
    const failing = () =>
      store.patch('Secret', 'istio-system', 'cacerts', 'json', [
        { op: 'add', path: '/data/b', value: 'Mg==' },
        { op: 'test', path: '/data/a', value: 'wrong' },
      ]);
    const passing = store.patch('Secret', 'istio-system', 'cacerts', 'json', [
      { op: 'test', path: '/data/a', value: 'MQ==' },
      { op: 'replace', path: '/data/a', value: 'Mw==' },
    ]);
    // Assess
    expect(failing).toThrow(InvalidError);
    expect(passing.data).toEqual({ a: 'Mw==' });
    expect(Number(passing.metadata.resourceVersion)).toBe(Number(created.metadata.resourceVersion) + 1);
  });

  it('treats a resourceVersion inside a patch as a precondition', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    const created = store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'apps' },
    });
    store.patch('ConfigMap', 'apps', 'c', 'merge', { data: { x: '1' } });
    // Act
    const stale = () =>
      store.patch('ConfigMap', 'apps', 'c', 'merge', {
        metadata: { resourceVersion: created.metadata.resourceVersion },
        data: { x: '2' },
      });
    // Assess
    expect(stale).toThrow(ConflictError);
  });

  it('selects by =, ==, !=, in, notin, exists and !exists', () => {
    // Prepare
    const store = storeWithNamespace('a', 'b', 'c', 'd');
    store.patch('Namespace', undefined, 'a', 'merge', {
      metadata: { labels: { 'istio-injection': 'enabled', tier: 'x' } },
    });
    store.patch('Namespace', undefined, 'b', 'merge', {
      metadata: { labels: { 'istio-injection': 'disabled' } },
    });
    store.patch('Namespace', undefined, 'c', 'merge', { metadata: { labels: { tier: 'y' } } });
    const names = (selector: string) =>
      store.list('Namespace', { labelSelector: selector }).items.map((n) => n.metadata.name);
    // Act / Assess
    expect(names('istio-injection=enabled')).toEqual(['a']);
    expect(names('istio-injection==enabled')).toEqual(['a']);
    expect(names('istio-injection!=enabled')).toEqual(['b', 'c', 'd']);
    expect(names('tier in (x, y)')).toEqual(['a', 'c']);
    expect(names('tier notin (x)')).toEqual(['b', 'c', 'd']);
    expect(names('istio-injection')).toEqual(['a', 'b']);
    expect(names('!istio-injection,tier')).toEqual(['c']);
  });

  it('delivers changes in order to watchers, also when a watcher writes, and replays from a resourceVersion', () => {
    // Prepare
    const store = storeWithNamespace('apps');
    const seen: string[] = [];
    const start = store.resourceVersion;
    store.watch({ kind: 'ConfigMap' }, (event) => {
      if (event.object.metadata.name === 'trigger' && event.type === 'ADDED') {
        store.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'reaction', namespace: 'apps' },
        });
      }
    });
    store.watch({ kind: 'ConfigMap' }, (event) => seen.push(`${event.type} ${event.object.metadata.name}`));
    // Act
    store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trigger', namespace: 'apps' } });
    store.delete('ConfigMap', 'apps', 'trigger');
    const replayed: WatchEvent[] = [];
    const stop = store.watch({ kind: 'ConfigMap', resourceVersion: start, labelSelector: '' }, (e) =>
      replayed.push(e),
    );
    stop();
    // Assess
    expect(seen).toEqual(['ADDED trigger', 'ADDED reaction', 'DELETED trigger']);
    expect(replayed.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(seen);
  });

  it('answers Gone to a watch from a resourceVersion older than the retained history', () => {
    // Prepare
    const store = new KubeObjectStore({ historyLimit: 2 });
    for (const name of ['a', 'b', 'c', 'd'])
      store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    // Act
    const watch = () => store.watch({ resourceVersion: '1' }, () => {});
    // Assess
    expect(watch).toThrow(GoneError);
  });

  it("keeps what kube-apiserver's watch cache keeps: the last 75 s of changes, and the newest 100 whatever their age", () => {
    // Prepare: 150 changes at t = 0, then one 80 s later
    let now = 0;
    const store = new KubeObjectStore({ now: () => now });
    for (let i = 1; i <= 150; i += 1)
      store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}` } });
    const within = () => store.watch({ resourceVersion: '1' }, () => {})();
    expect(within).not.toThrow();
    now = WATCH_HISTORY_FRESH_MS + 5_000;
    // Act
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'late' } });
    // Assess: the newest WATCH_HISTORY_FLOOR remain (resourceVersions 52..151), the older are gone
    expect(WATCH_HISTORY_FLOOR).toBe(100);
    const replayed: string[] = [];
    store.watch({ resourceVersion: '51' }, (event) => replayed.push(event.object.metadata.name))();
    expect(replayed).toHaveLength(100);
    expect(replayed[0]).toBe('ns-52');
    expect(replayed.at(-1)).toBe('late');
    expect(() => store.watch({ resourceVersion: '50' }, () => {})).toThrow(GoneError);
  });

  it('drops stale changes beyond the newest 100 without waiting for another write', async () => {
    // Prepare: 150 changes in a burst, then nothing; a short freshness so the test waits little
    const store = new KubeObjectStore({ historyFreshMs: 50 });
    for (let i = 1; i <= 150; i += 1)
      store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}` } });
    const resumable = (from: string) => {
      try {
        store.watch({ resourceVersion: from }, () => {})();
        return true;
      } catch (error) {
        if (error instanceof GoneError) return false;
        throw error;
      }
    };
    // Act: wait (at most 5 s) for the whole burst beyond the newest 100 to go stale, with no write
    // meanwhile: a burst longer than the freshness goes stale in parts, the oldest first, so the wait
    // is for the newest of them (rv 50) to be gone, not the oldest
    const deadline = Date.now() + 5_000;
    while (resumable('49') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Assess: the newest WATCH_HISTORY_FLOOR remain (resourceVersions 51..150), the older are gone
    expect(resumable('1')).toBe(false);
    expect(resumable('49')).toBe(false);
    const replayed: string[] = [];
    store.watch({ resourceVersion: '50' }, (event) => replayed.push(event.object.metadata.name))();
    expect(replayed).toHaveLength(WATCH_HISTORY_FLOOR);
    expect(replayed[0]).toBe('ns-51');
  });

  it('keeps every change of the last 75 s, however many', () => {
    // Prepare: 300 changes within 75 s of the last
    let now = 0;
    const store = new KubeObjectStore({ now: () => now });
    for (let i = 1; i <= 300; i += 1) {
      now = i * 200;
      store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}` } });
    }
    // Act
    const replayed: string[] = [];
    store.watch({ resourceVersion: '1' }, (event) => replayed.push(event.object.metadata.name))();
    // Assess: 60 s from the first to the last, so none was dropped
    expect(replayed).toHaveLength(299);
  });

  it('deletes the objects of a deleted namespace', () => {
    // Prepare
    const store = storeWithNamespace('apps', 'other');
    store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'apps' } });
    store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'other' } });
    // Act
    store.delete('Namespace', undefined, 'apps');
    // Assess
    expect(store.list('ConfigMap').items.map((c) => c.metadata.namespace)).toEqual(['other']);
  });
});
