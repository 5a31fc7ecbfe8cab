// Reading istiod's Deployments and the mesh config of each revision on a lab cluster, through the lab's
// model of deploy/kubernetes/rbac.yaml: ConfigMap `istio` is readable by name, a revision's
// `istio-<rev>` is not until its name is added, and that comes back as a reading, not a throw.
import { seedIstiodDeployment, seedMeshConfig, seedNamespaces } from '../../../lab/seed-cluster.js';
import { readIstioSettings } from '../../../lambdas/adapters/kube/istio-settings.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { type LabCluster, startLabCluster, waitUntil, workload } from './kube-lab-cluster.js';

let lab: LabCluster;

beforeAll(async () => {
  lab = await startLabCluster({ name: 'lab-istio', podStartDelayMs: 20 });
  seedNamespaces(lab.store);
  seedIstiodDeployment(lab.store, { istioVersion: '1.30', multiRootMesh: true });
  seedMeshConfig(lab.store, { workloadCertTtlMs: 10_000, pcds: true });
  // A canary revision installed next to it, and a gateway that is no istiod.
  lab.store.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'istiod-canary',
      namespace: 'istio-system',
      labels: { app: 'istiod', 'istio.io/rev': 'canary' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'istiod', 'istio.io/rev': 'canary' } },
      template: {
        metadata: { labels: { app: 'istiod', 'istio.io/rev': 'canary' } },
        spec: {
          containers: [
            {
              name: 'discovery',
              image: 'docker.io/istio/pilot:1.31-dev',
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            },
          ],
        },
      },
    },
  });
  lab.store.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio-canary', namespace: 'istio-system' },
    data: { mesh: 'defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: 1h\n' },
  });
  lab.store.create(workload('Deployment', 'istio-system', 'istio-ingressgateway', { replicas: 1 }));
  await waitUntil(() =>
    ['istiod', 'istiod-canary'].every(
      (name) => lab.store.get('Deployment', 'istio-system', name).status?.readyReplicas > 0,
    ),
  );
});

afterAll(async () => {
  await lab?.stop();
});

describe('readIstioSettings', () => {
  it('reads every istiod Deployment (and nothing else) with its revision, replicas, version and env', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const { istiods } = await readIstioSettings(client);
    // Assess
    expect(istiods.map((istiod) => istiod.name)).toEqual(['istiod', 'istiod-canary']);
    expect(istiods[0]).toMatchObject({
      namespace: 'istio-system',
      revision: 'default',
      replicas: 1,
      readyReplicas: 1,
      image: 'docker.io/istio/pilot:1.30.0',
      istioVersion: '1.30',
      env: { ISTIO_MULTIROOT_MESH: { value: 'true' }, PILOT_CERT_PROVIDER: { value: 'istiod' } },
    });
    expect(istiods[1]).toMatchObject({
      revision: 'canary',
      replicas: 2,
      istioVersion: '1.31',
      env: { POD_NAME: { valueFrom: 'fieldRef (metadata.name)' } },
    });
  });

  it("reads the default revision's mesh config `istio`, and reports the canary's `istio-canary` as forbidden by RBAC", async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const { meshConfigs } = await readIstioSettings(client);
    // Assess
    expect(meshConfigs).toEqual([
      {
        namespace: 'istio-system',
        name: 'istio-canary',
        revision: 'canary',
        state: 'forbidden',
        proxyMetadata: {},
        problem: expect.stringMatching(/^403 /),
      },
      {
        namespace: 'istio-system',
        name: 'istio',
        revision: 'default',
        state: 'read',
        proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true', SECRET_TTL: '10s' },
        discoveryAddress: 'istiod.istio-system.svc:15012',
      },
    ]);
  });

  it('lets the viewer read the same, and says absent when the mesh config ConfigMap is gone', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    const meshConfig = lab.store.get('ConfigMap', 'istio-system', 'istio');
    lab.store.delete('ConfigMap', 'istio-system', 'istio');
    try {
      // Act
      const { meshConfigs } = await readIstioSettings(client);
      // Assess
      expect(meshConfigs.find((config) => config.name === 'istio')).toMatchObject({
        state: 'absent',
        proxyMetadata: {},
      });
    } finally {
      lab.store.create({
        ...meshConfig,
        metadata: { name: 'istio', namespace: 'istio-system', labels: meshConfig.metadata.labels },
      });
    }
  });

  it('refuses an identity without access entry with PreconditionFailed', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.outsider);
    // Act
    const read = readIstioSettings(client);
    // Assess
    await expect(read).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(read).rejects.toThrow(
      /list deployments in istio-system \(app=istiod\) in cluster lab-istio: forbidden/,
    );
  });
});
