// startLab brings up N clusters with root A everywhere, reachable as EKS clusters: the EKS API lists them
// by mesh tag, each Kubernetes API takes EKS tokens and lets only the rotator write cacerts and patch
// workloads; every injected pod holds an A-chained certificate; stop() leaves nothing listening.
import { connect } from 'node:net';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { ROOT_CERT_CONFIGMAP_NAME } from '../../../lab/istio/istiod-model.js';
import { labKubeRequest } from '../../../lab/lab-kube-request.js';
import { INJECTED_NAMESPACES } from '../../../lab/seed-cluster.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { certificateFingerprint } from '../../../lambdas/core/pki/index.js';

let lab: Lab;

function kube(
  identity: 'rotator' | 'viewer' | 'outsider' | undefined,
  method: 'GET' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  cluster = 'lab-1',
) {
  return labKubeRequest({
    cluster: lab.cluster(cluster),
    region: lab.region,
    identity: identity && lab.identities[identity],
    method,
    path,
    body,
  });
}

function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  lab = await startLab({ clusters: 3, workloadsPerCluster: 5, proberIntervalMs: 0 });
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe('startLab', () => {
  it('starts every cluster with root A in cacerts, in every namespace and behind every pod certificate', () => {
    // Prepare
    const rootA = certificateFingerprint(lab.rootA.certificatePem);

    // Act
    const snapshots = lab.clusters.map((cluster) => lab.snapshotCacerts(cluster.name));

    // Assess
    expect(lab.clusters.map((cluster) => cluster.name)).toEqual(['lab-1', 'lab-2', 'lab-3']);
    for (const [index, cluster] of lab.clusters.entries()) {
      expect(snapshots[index].rootFingerprints).toEqual([rootA]);
      expect(snapshots[index].caCertFingerprint).toBe(
        certificateFingerprint(cluster.initialIntermediate.certificatePem),
      );
      expect(snapshots[index].files).not.toHaveProperty('ca-key.pem');
      for (const namespace of cluster.store.list('Namespace').items) {
        const configMap = cluster.store.get('ConfigMap', namespace.metadata.name, ROOT_CERT_CONFIGMAP_NAME);
        expect(certificateFingerprint(configMap.data['root-cert.pem'])).toBe(rootA);
      }
      const identities = cluster.istiod.identities();
      const injectedPods = cluster.store
        .list('Pod')
        .items.filter((pod) =>
          (INJECTED_NAMESPACES as readonly string[]).includes(pod.metadata.namespace ?? ''),
        );
      // Both gateways run their own istio-proxy in istio-system, which has no injection label.
      const gatewayPods = cluster.store
        .list('Pod')
        .items.filter(
          (pod) => pod.metadata.namespace === 'istio-system' && pod.metadata.labels?.istio !== 'pilot',
        );
      expect(gatewayPods.map((pod) => pod.metadata.labels?.istio).sort()).toEqual([
        'eastwestgateway',
        'ingressgateway',
      ]);
      expect(identities).toHaveLength(injectedPods.length + gatewayPods.length);
      expect(
        identities
          .filter((identity) => identity.namespace === 'istio-system')
          .map((identity) => identity.spiffeId)
          .sort(),
      ).toEqual([
        'spiffe://cluster.local/ns/istio-system/sa/istio-eastwestgateway-service-account',
        'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
      ]);
      expect(identities.every((identity) => identity.rootFingerprint === rootA)).toBe(true);
    }
    const kinds = new Set(
      lab.clusters.flatMap((cluster) =>
        ['Deployment', 'StatefulSet', 'DaemonSet'].filter(
          (kind) => cluster.store.list(kind).items.length > 0,
        ),
      ),
    );
    expect([...kinds].sort()).toEqual(['DaemonSet', 'Deployment', 'StatefulSet']);
  });

  it('lists and describes the clusters through the EKS API by mesh tag, with endpoint and CA', async () => {
    // Prepare
    const eks = new EKSClient({
      region: lab.region,
      endpoint: lab.eksEndpoint,
      credentials: lab.identities.rotator.credentials,
      maxAttempts: 1,
    });

    // Act
    const listed = await eks.send(new ListClustersCommand({}));
    const described = await eks.send(new DescribeClusterCommand({ name: 'lab-2' }));
    eks.destroy();

    // Assess
    expect(listed.clusters).toEqual(['lab-1', 'lab-2', 'lab-3']);
    expect(described.cluster?.endpoint).toBe(lab.cluster('lab-2').endpoint);
    expect(described.cluster?.tags).toEqual({ 'meshtrust.io/mesh': 'lab' });
    expect(Buffer.from(described.cluster?.certificateAuthority?.data ?? '', 'base64').toString()).toBe(
      lab.cluster('lab-2').caPem,
    );
  });

  it('lets the rotator read and write cacerts and patch workloads, over HTTPS with an EKS token', async () => {
    // Prepare
    const cacertsPath = '/api/v1/namespaces/istio-system/secrets/cacerts';

    // Act
    const read = await kube('rotator', 'GET', cacertsPath);
    const rewrite = await kube('rotator', 'PUT', cacertsPath, read.body);
    const patched = await kube('rotator', 'PATCH', '/apis/apps/v1/namespaces/shop/deployments/app-01', {
      metadata: { annotations: { 'lab.meshtrust.dev/touched': 'yes' } },
    });
    const istiod = await kube('rotator', 'GET', '/apis/apps/v1/namespaces/istio-system/deployments/istiod');

    // Assess
    expect(read.status).toBe(200);
    expect(rewrite.status).toBe(200);
    expect(patched.status).toBe(200);
    expect(istiod.body.spec.template.spec.containers[0].env).toContainEqual({
      name: 'ISTIO_MULTIROOT_MESH',
      value: 'true',
    });
  });

  it('refuses what the rotator role does not allow, the viewer any secret, the outsider everything, and no token', async () => {
    // Prepare
    const cacertsPath = '/api/v1/namespaces/istio-system/secrets/cacerts';

    // Act
    const answers = await Promise.all([
      kube('rotator', 'DELETE', '/apis/apps/v1/namespaces/shop/deployments/app-01'),
      kube('rotator', 'GET', '/api/v1/namespaces/shop/secrets'),
      kube('rotator', 'GET', '/api/v1/namespaces/shop/configmaps'),
      kube('viewer', 'GET', cacertsPath),
      kube('viewer', 'PATCH', '/apis/apps/v1/namespaces/shop/deployments/app-01', { metadata: {} }),
      kube('outsider', 'GET', '/api/v1/namespaces'),
      kube(undefined, 'GET', '/api/v1/namespaces'),
    ]);
    const viewerRead = await kube('viewer', 'GET', '/api/v1/namespaces/shop/configmaps/istio-ca-root-cert');

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403, 403, 401]);
    expect(viewerRead.status).toBe(200);
  });

  it('stops every server it started', async () => {
    // Prepare
    const other = await startLab({ clusters: 1, workloadsPerCluster: 2, proberIntervalMs: 50 });
    const urls = [other.eksEndpoint, other.clusters[0].endpoint];
    const openBefore = await Promise.all(urls.map(portOpen));

    // Act
    await other.stop();

    // Assess
    expect(openBefore).toEqual([true, true]);
    expect(await Promise.all(urls.map(portOpen))).toEqual([false, false]);
  }, 30_000);
});

describe('startLab with istiod settings', () => {
  it('gives every istiod model and its Deployment the Istio version and multi-root flag, its mesh config the certificate TTL, and seeds root-cert.pem in the style asked', async () => {
    // Prepare
    const styled = await startLab({
      clusters: 1,
      workloadsPerCluster: 1,
      proberIntervalMs: 0,
      istioVersion: '1.30',
      multiRootMesh: false,
      rootCertStyle: 'crlf',
      workloadCertTtlMs: 12_000,
    });
    try {
      // Act
      const cluster = styled.cluster('lab-1');
      const deployment = cluster.store.get('Deployment', 'istio-system', 'istiod');
      const container = deployment.spec.template.spec.containers[0];
      const secret = cluster.store.get('Secret', 'istio-system', 'cacerts');
      const rootCert = Buffer.from(secret.data['root-cert.pem'], 'base64').toString('utf8');

      // Assess
      expect(cluster.istiod).toMatchObject({ istioVersion: '1.30', multiRootMesh: false });
      expect(container.image).toBe('docker.io/istio/pilot:1.30.0');
      expect(container.env).toEqual(
        expect.arrayContaining([{ name: 'ISTIO_MULTIROOT_MESH', value: 'false' }]),
      );
      // The mesh config describes the model: its proxies without PCDS (as Istio ships) and 12 s certificates.
      expect(cluster.store.get('ConfigMap', 'istio-system', 'istio').data.mesh).toMatch(
        /proxyMetadata:\n {4}SECRET_TTL: 12s\n/,
      );
      expect(rootCert).toContain('-----END CERTIFICATE-----\r\n');
      expect(cluster.istiod.current()?.rootCertPem).toBe(rootCert);
      expect(cluster.store.get('ConfigMap', 'shop', ROOT_CERT_CONFIGMAP_NAME).data['root-cert.pem']).toBe(
        rootCert,
      );
    } finally {
      await styled.stop();
    }
  }, 60_000);
});
