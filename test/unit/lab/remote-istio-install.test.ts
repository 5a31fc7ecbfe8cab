// How the istio engine installs a primary-remote remote (install-istio.ts): Istio's remote profile
// pointed at the primary's istiod, and the one rendered object Kubernetes refuses on loopback changed.
import { parseAllDocuments } from 'yaml';
import {
  labRemoteIstioOperator,
  REMOTE_SLICE_STAND_IN_ADDRESS,
  remoteManifest,
} from '../../../lab/istio-install/install-istio.js';
import { startIstioLab } from '../../../lab/istio-install/start-istio-lab.js';
import { LabOptionsError } from '../../../lab/lab-errors.js';
import { LOOPBACK_ENDPOINT_ANNOTATION } from '../../../lab/node-agent/service-proxy.js';

const PRIMARY_ISTIOD = '127.20.0.17';

/** What istioctl renders for the remote, reduced to the objects the lab treats apart. */
const RENDERED = `apiVersion: v1
kind: Service
metadata:
  name: istiod
  namespace: istio-system
spec:
  ports:
  - port: 15012
    name: tcp-istiod
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: istiod
  namespace: istio-system
addressType: IPv4
endpoints:
- addresses:
  - ${PRIMARY_ISTIOD}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-ingressgateway
  namespace: istio-system
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector
`;

function objectsOf(
  text: string,
): { kind: string; metadata: { name: string; annotations?: object }; endpoints?: unknown }[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS())
    .filter(Boolean);
}

describe('labRemoteIstioOperator', () => {
  it("renders Istio's remote profile pointed at the primary's istiod, injecting with the remote's cluster ID", () => {
    // Prepare
    const options = {
      istioctl: 'istioctl',
      adminKubeconfig: 'lab-2.kubeconfig',
      dir: '/tmp',
      clusterName: 'lab-2',
      meshId: 'lab',
      network: 'lab-2',
      tag: '1.31-dev',
      proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
      readyTimeoutSeconds: 60,
      primaryCluster: 'lab-1',
      primaryIstiodAddress: PRIMARY_ISTIOD,
      primaryAdminKubeconfig: 'lab-1.kubeconfig',
    };

    // Act
    const operator = labRemoteIstioOperator(options) as {
      spec: { profile: string; values: { global: Record<string, unknown>; istiodRemote: object } };
    };

    // Assess
    expect(operator.spec.profile).toBe('remote');
    expect(operator.spec.values.global).toMatchObject({
      remotePilotAddress: PRIMARY_ISTIOD,
      multiCluster: { clusterName: 'lab-2' },
      network: 'lab-2',
    });
    expect(operator.spec.values.istiodRemote).toEqual({ injectionPath: '/inject/cluster/lab-2/net/lab-2' });
  });
});

describe('remoteManifest', () => {
  it("keeps the EndpointSlice on a stand-in address and puts the loopback one on the istiod Service, for the lab's kube-proxy", () => {
    // Act
    const manifest = remoteManifest(RENDERED, PRIMARY_ISTIOD);
    const setup = objectsOf(manifest.setup);

    // Assess: the slice preflight reads stays (Kubernetes refuses it on loopback), routed by nobody
    expect(setup.map((object) => object.kind)).toEqual([
      'Service',
      'EndpointSlice',
      'MutatingWebhookConfiguration',
    ]);
    expect(setup[0]?.metadata.annotations).toEqual({ [LOOPBACK_ENDPOINT_ANNOTATION]: PRIMARY_ISTIOD });
    expect(setup[1]?.endpoints).toEqual([{ addresses: [REMOTE_SLICE_STAND_IN_ADDRESS] }]);
  });

  it('keeps the Deployments apart, to apply once the primary serves the remote', () => {
    // Act
    const manifest = remoteManifest(RENDERED, PRIMARY_ISTIOD);

    // Assess
    expect(objectsOf(manifest.deployments).map((object) => object.metadata.name)).toEqual([
      'istio-ingressgateway',
    ]);
  });
});

describe('startIstioLab', () => {
  it('refuses primary-remote with 1 cluster before starting anything', async () => {
    // Act
    const started = startIstioLab({
      // Never reached: the refusal comes first.
      binaries: undefined as never,
      dir: '/nonexistent',
      clusters: 1,
      workloadsPerCluster: 1,
      topology: 'primary-remote',
      region: 'eu-west-1',
      meshId: 'lab',
      istiodEnv: {},
      proxyMetadata: {},
      istiodReplicas: 1,
      volumeSyncPeriodMs: 1_000,
    });

    // Assess
    await expect(started).rejects.toThrow(LabOptionsError);
    await expect(started).rejects.toThrow(/a remote needs a primary/);
  });
});
