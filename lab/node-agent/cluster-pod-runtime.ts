// The istio engine's pod runtime for one cluster's node, wired to that cluster's API: Secrets,
// ConfigMaps and service-account tokens for volumes and env (read with the lab's administrator
// credentials, where a kubelet would use its node's), Services (service-proxy.ts), and the periodic
// volume resync whose period is the lab's --volume-sync-delay, which may miss a cacerts change for
// istiod's pods (the istiod-drop fault).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { EnvSource } from './container-env.js';
import { createIstioPodRuntime, type IstioPodRuntime } from './istio-pod-runtime.js';
import { cacertsMissedByIstiod } from './missed-secret-change.js';
import { startVolumeRefresher, type VolumeSource } from './pod-volumes.js';
import { startServiceProxy } from './service-proxy.js';

export interface ClusterPodRuntimeOptions {
  readonly kubeConfig: KubeConfig;
  /** https://<address>:<port> of the cluster's API server. */
  readonly apiServerEndpoint: string;
  readonly nodeName: string;
  readonly nodeAddress: string;
  readonly podsDir: string;
  readonly binDir: string;
  /** How long after a Secret or ConfigMap changes its files may still be the old ones. */
  readonly volumeSyncPeriodMs: number;
  /**
   * Asked when a change of istio-system/cacerts is about to reach an istiod pod's files: true keeps that
   * pod on what it had (missed-secret-change.ts; the rehearsal's --fault kube:CLUSTER:istiod-drop).
   * @default every change delivered
   */
  readonly missesCacertsChange?: () => boolean;
  readonly onProblem?: (message: string) => void;
}

export async function startClusterPodRuntime(options: ClusterPodRuntimeOptions): Promise<IstioPodRuntime> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const problem = options.onProblem ?? (() => undefined);
  const { missesCacertsChange } = options;
  const notFound = (error: unknown) => (error as { code?: number }).code === 404;
  const volumeSource: VolumeSource = {
    readSecret: (namespace, name) =>
      core.readNamespacedSecret({ name, namespace }).catch((error: unknown) => {
        if (notFound(error)) return undefined;
        throw error;
      }),
    readConfigMap: (namespace, name) =>
      core.readNamespacedConfigMap({ name, namespace }).catch((error: unknown) => {
        if (notFound(error)) return undefined;
        throw error;
      }),
    requestServiceAccountToken: async (request) => {
      const response = await core.createNamespacedServiceAccountToken({
        name: request.serviceAccountName,
        namespace: request.namespace,
        body: {
          spec: {
            audiences: request.audience ? [request.audience] : [],
            expirationSeconds: request.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: request.podName, uid: request.podUid },
          },
        },
      });
      return {
        token: response.status?.token ?? '',
        expirationTimestamp: new Date(response.status?.expirationTimestamp ?? Date.now()),
      };
    },
  };
  const envSource: EnvSource = {
    readConfigMapKey: async (namespace, name, key) =>
      (await volumeSource.readConfigMap(namespace, name))?.data?.[key],
    readSecretKey: async (namespace, name, key) => {
      const value = (await volumeSource.readSecret(namespace, name))?.data?.[key];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    },
  };
  const endpoint = new URL(options.apiServerEndpoint);
  const services = await startServiceProxy({
    kubeConfig: options.kubeConfig,
    apiServer: { host: endpoint.hostname, port: Number(endpoint.port) },
    onProblem: problem,
  });
  const runtime = createIstioPodRuntime({
    podsDir: options.podsDir,
    binDir: options.binDir,
    facts: {
      nodeName: options.nodeName,
      nodeAddress: options.nodeAddress,
      apiServerHost: endpoint.hostname,
      apiServerPort: Number(endpoint.port),
    },
    nodeName: options.nodeName,
    volumeSource,
    ...(missesCacertsChange === undefined
      ? {}
      : { podVolumeSource: cacertsMissedByIstiod(missesCacertsChange) }),
    envSource,
    hosts: () => services.hosts(),
  });
  services.onHostsChange((content) => {
    for (const pod of runtime.pods()) {
      pod.sandbox
        .writeHosts(content)
        .catch((error: unknown) => problem(`hosts of ${pod.address}: ${String(error)}`));
    }
  });
  const refresher = startVolumeRefresher({
    syncPeriodMs: options.volumeSyncPeriodMs,
    volumes: () => [...runtime.pods()].map((pod) => pod.volumes),
    onError: (error, pod) => problem(`volumes of ${pod.podKey}: ${(error as Error).message}`),
  });
  return {
    ...runtime,
    close: async () => {
      await refresher.stop();
      await services.stop();
    },
  };
}
