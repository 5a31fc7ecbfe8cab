// kubelet's environment and argument rules as the lab's node agent applies them to a pod's containers.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  containerArgv,
  containerEnvironment,
  type EnvSource,
  expand,
} from '../../../lab/node-agent/container-env.js';
import { discoveryOnPodAddress } from '../../../lab/node-agent/pod-listen-addresses.js';
import { hostsLines } from '../../../lab/node-agent/service-proxy.js';

const facts = {
  podAddress: '127.101.0.7',
  nodeName: 'lab-1-node',
  nodeAddress: '127.10.1.2',
  apiServerHost: '127.10.1.1',
  apiServerPort: 6443,
};
const pod: V1Pod = {
  metadata: { name: 'gw-1', namespace: 'istio-system', uid: 'u-1', labels: { app: 'gw' } },
  spec: { serviceAccountName: 'gw-sa', containers: [] },
};
const noSource: EnvSource = {
  readConfigMapKey: async () => undefined,
  readSecretKey: async () => undefined,
};

describe('expand ($(VAR) references)', () => {
  it('replaces known names, keeps unknown ones as written and turns $$ into $', () => {
    // Act
    const text = expand('$(POD_NAMESPACE).svc $(NOPE) $$(POD_NAMESPACE)', { POD_NAMESPACE: 'shop' });

    // Assess
    expect(text).toBe('shop.svc $(NOPE) $(POD_NAMESPACE)');
  });
});

describe('containerEnvironment', () => {
  it('resolves fieldRefs, points the kubernetes service variables at the API server and expands later values', async () => {
    // Prepare
    const container: V1Container = {
      name: 'istio-proxy',
      env: [
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'INSTANCE_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'DOMAIN', value: '$(POD_NAMESPACE).svc.cluster.local' },
      ],
      args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
    };

    // Act
    const env = await containerEnvironment(pod, container, facts, noSource);

    // Assess
    expect(env).toMatchObject({
      KUBERNETES_SERVICE_HOST: '127.10.1.1',
      KUBERNETES_SERVICE_PORT: '6443',
      POD_NAMESPACE: 'istio-system',
      INSTANCE_IP: '127.101.0.7',
      SERVICE_ACCOUNT: 'gw-sa',
      DOMAIN: 'istio-system.svc.cluster.local',
    });
    expect(containerArgv(container, env)).toEqual([
      'proxy',
      'router',
      '--domain',
      'istio-system.svc.cluster.local',
    ]);
  });

  it('refuses a missing secret key that is not optional, naming pod and variable', async () => {
    // Prepare
    const container: V1Container = {
      name: 'app',
      env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }],
    };

    // Act
    const resolve = containerEnvironment(pod, container, facts, noSource);

    // Assess
    await expect(resolve).rejects.toThrow('istio-system/gw-1: env TOKEN needs secret creds key token');
  });
});

describe('discoveryOnPodAddress (istiod listens only on its pod address)', () => {
  it("rewrites given listen flags onto the pod address and adds the ones the manifest leaves at ':port'", () => {
    // Act
    const launch = discoveryOnPodAddress(
      {
        argv: ['discovery', '--monitoringAddr=:15014', '--grpcAddr', ':15010', '--domain', 'cluster.local'],
        env: {},
      },
      '127.101.0.1',
    );

    // Assess
    expect(launch.argv).toEqual([
      'discovery',
      '--monitoringAddr=127.101.0.1:15014',
      '--grpcAddr=127.101.0.1:15010',
      '--domain',
      'cluster.local',
      '--httpAddr=127.101.0.1:8080',
      '--httpsAddr=127.101.0.1:15017',
      '--secureGRPCAddr=127.101.0.1:15012',
      '--ctrlz_address=127.101.0.1',
    ]);
  });
});

describe('hostsLines (cluster DNS as /etc/hosts)', () => {
  it('lists every Service with a ClusterIP under its three names, and skips headless ones', () => {
    // Act
    const lines = hostsLines(
      [
        { metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { clusterIP: '127.201.0.9' } },
        { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None' } },
      ],
      'cluster.local',
    );

    // Assess
    expect(lines).toBe(
      '127.201.0.9\tistiod.istio-system.svc.cluster.local istiod.istio-system.svc istiod.istio-system\n',
    );
  });
});
