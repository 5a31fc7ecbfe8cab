// Reading what istiod published (istio-ca-root-cert in every namespace) on a seeded lab cluster.
import { listNamespaces, readRootCertConfigMaps } from '../../../lambdas/adapters/kube/trust-bundles.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { type LabCluster, type SeededMesh, seedMesh, startLabCluster } from './kube-lab-cluster.js';

let lab: LabCluster;
let seeded: SeededMesh;

beforeAll(async () => {
  lab = await startLabCluster({ name: 'lab-bundles', podStartDelayMs: 20 });
  seeded = await seedMesh(lab.store, lab.name);
});

afterAll(async () => {
  await lab?.stop();
});

describe('listNamespaces', () => {
  it('lists every namespace with its labels, sorted by name', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    // Act
    const namespaces = await listNamespaces(client);
    // Assess
    expect(namespaces.map((namespace) => namespace.name)).toEqual([
      'istio-system',
      'legacy',
      'opted-out',
      'payments',
      'shop',
    ]);
    expect(namespaces.find((namespace) => namespace.name === 'payments')?.labels).toEqual({
      'istio.io/rev': '1-24',
      'kubernetes.io/metadata.name': 'payments',
    });
  });
});

describe('readRootCertConfigMaps', () => {
  it('returns the published root-cert.pem per namespace, and undefined where istiod published none', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const rootCertPem = seeded.cacerts['root-cert.pem'];
    // Act
    const bundles = await readRootCertConfigMaps(client);
    // Assess
    expect(bundles).toEqual([
      { namespace: 'istio-system', rootCertPem },
      { namespace: 'legacy' },
      { namespace: 'opted-out', rootCertPem },
      { namespace: 'payments', rootCertPem },
      { namespace: 'shop', rootCertPem },
    ]);
  });

  it('sees a bundle change as soon as the ConfigMap changes', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const twoRoots = `${seeded.cacerts['root-cert.pem']}${seeded.cacerts['ca-cert.pem']}`;
    lab.store.patch('ConfigMap', 'shop', 'istio-ca-root-cert', 'merge', {
      data: { 'root-cert.pem': twoRoots },
    });
    // Act
    const bundles = await readRootCertConfigMaps(client);
    lab.store.patch('ConfigMap', 'shop', 'istio-ca-root-cert', 'merge', {
      data: { 'root-cert.pem': seeded.cacerts['root-cert.pem'] },
    });
    // Assess
    expect(bundles.find((bundle) => bundle.namespace === 'shop')?.rootCertPem).toBe(twoRoots);
    expect(bundles.find((bundle) => bundle.namespace === 'payments')?.rootCertPem).toBe(
      seeded.cacerts['root-cert.pem'],
    );
  });

  it('refuses an identity without access entry with PreconditionFailed', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.outsider);
    // Act
    const read = readRootCertConfigMaps(client);
    // Assess
    await expect(read).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(read).rejects.toThrow(/in cluster lab-bundles: forbidden/);
  });
});
