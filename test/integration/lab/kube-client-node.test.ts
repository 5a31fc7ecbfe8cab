// @kubernetes/client-node (what the product's Kubernetes adapter uses) against the lab API server,
// trusting only the cluster's serving CA.
import * as k8s from '@kubernetes/client-node';
import type { KubeApiServer } from '../../../lab/kube/kube-api-server.js';
import type { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { startTestKubeApi } from '../../support/lab-kube-api.js';

let store: KubeObjectStore;
let server: KubeApiServer;
let token: string;
let config: k8s.KubeConfig;

beforeAll(async () => {
  ({ store, server, token } = await startTestKubeApi({ clusterName: 'lab-2' }));
  config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'lab-2', server: server.url, caData: Buffer.from(server.caPem).toString('base64') }],
    users: [{ name: 'rotator', token }],
    contexts: [{ name: 'lab-2', cluster: 'lab-2', user: 'rotator' }],
    currentContext: 'lab-2',
  });
});

afterAll(async () => {
  await server?.stop();
});

describe('lab Kubernetes API server, through @kubernetes/client-node', () => {
  it('reads, merge-patches and conditionally replaces a secret, refusing a stale resourceVersion', async () => {
    // Prepare
    const core = config.makeApiClient(k8s.CoreV1Api);
    const original = await core.readNamespacedSecret({ name: 'cacerts', namespace: 'istio-system' });
    // Act
    const patched = await core.patchNamespacedSecret(
      { name: 'cacerts', namespace: 'istio-system', body: { stringData: { 'root-cert.pem': 'ROOT-A+B' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const stale = core.replaceNamespacedSecret({
      name: 'cacerts',
      namespace: 'istio-system',
      body: original,
    });
    // Assess
    expect(Buffer.from(patched.data?.['root-cert.pem'] ?? '', 'base64').toString()).toBe('ROOT-A+B');
    await expect(stale).rejects.toMatchObject({ code: 409 });
  });

  it('watches a secret change with the client-node Watch', async () => {
    // Prepare
    const watch = new k8s.Watch(config);
    const from = store.resourceVersion;
    const seen: string[] = [];
    let done: () => void = () => {};
    const received = new Promise<void>((resolve) => {
      done = resolve;
    });
    const controller = await watch.watch(
      '/api/v1/namespaces/istio-system/secrets',
      { resourceVersion: from },
      (type: string, object: k8s.V1Secret) => {
        seen.push(`${type} ${object.metadata?.name}`);
        done();
      },
      () => {},
    );
    // Act
    store.patch('Secret', 'istio-system', 'cacerts', 'merge', { stringData: { extra: 'x' } });
    await received;
    controller.abort();
    // Assess
    expect(seen).toEqual(['MODIFIED cacerts']);
  });
});
