// The istio engine's Kubernetes: one real etcd for the fleet and, per cluster, a real kube-apiserver
// (EKS tokens through the webhook authenticator, RBAC), kube-controller-manager and one node run by
// the lab's node agent (with whatever pod runtime the caller gives it), and deploy/kubernetes/rbac.yaml
// applied by real kubectl exactly as an operator applies it.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LabBinaryName } from '../binaries/lab-binary-names.js';
import type { LabIdentities } from '../eks/lab-identities.js';
import { LabError } from '../lab-errors.js';
import { type NodeAgent, startNodeAgent } from '../node-agent/node-agent.js';
import { PodAddressPool } from '../node-agent/pod-address-pool.js';
import { EMPTY_POD_RUNTIME, type PodRuntime } from '../node-agent/pod-runtime.js';
import { createControlPlanePki } from './control-plane-pki.js';
import { type EksTokenWebhook, startEksTokenWebhook } from './eks-token-webhook.js';
import { type EtcdServer, startEtcdServer } from './etcd-server.js';
import { type KubeApiServerProcess, startKubeApiServerProcess } from './kube-apiserver-process.js';
import { startKubeControllerManager } from './kube-controller-manager-process.js';
import { startKubeletStreaming } from './kubelet-streaming-process.js';
import { controlPlaneAddress, FLEET_ADDRESS, nodeAddress, serviceCidr } from './lab-addresses.js';
import type { LabProcess } from './lab-process.js';
import { startPodNetworkProxy } from './pod-network-proxy.js';

const run = promisify(execFile);

export const RBAC_MANIFEST = fileURLToPath(new URL('../../deploy/kubernetes/rbac.yaml', import.meta.url));

/** Where the built binaries are (ensureLabBinaries in lab/binaries). */
export interface ControlPlaneBinaries {
  readonly versions: { readonly kubernetes: string };
  path(
    name: Extract<LabBinaryName, 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kubelet-streaming'>,
  ): string;
}

export interface ControlPlaneCluster {
  readonly name: string;
  /** https://127.10.<n>.1:<port> */
  readonly endpoint: string;
  /** The CA of the API server's serving certificate (EKS DescribeCluster's certificateAuthority). */
  readonly caPem: string;
  /** A kubeconfig of the lab's administrator (system:masters): set-up only, never the product. */
  readonly adminKubeconfig: string;
  /** Holds the cluster's keys, kubeconfigs and component logs. */
  readonly dir: string;
  readonly processes: readonly LabProcess[];
  /** The cluster's one node, run by the lab's node agent. */
  readonly node: NodeAgent;
}

export interface LabControlPlane {
  readonly etcdUrl: string;
  readonly webhook: EksTokenWebhook;
  readonly clusters: readonly ControlPlaneCluster[];
  stop(): Promise<void>;
}

/** What a pod runtime gets to know about the node it runs pods for. */
export interface NodeContext {
  readonly clusterName: string;
  readonly kubeConfig: KubeConfig;
  readonly apiServerEndpoint: string;
  readonly nodeName: string;
  readonly nodeAddress: string;
  /** The cluster's folder: the runtime keeps its pods below it. */
  readonly dir: string;
}

export interface StartControlPlaneOptions {
  readonly binaries: ControlPlaneBinaries;
  /** Where every component keeps its files; the caller removes it. */
  readonly dir: string;
  readonly clusterNames: readonly string[];
  readonly identities: LabIdentities;
  readonly region: string;
  /** What runs inside each pod. @default EMPTY_POD_RUNTIME (pods run nothing, as under kwok) */
  readonly podRuntime?: (node: NodeContext) => Promise<PodRuntime>;
  /** Told about what a node agent could not do. */
  readonly onProblem?: (message: string) => void;
  /** Told as each component becomes ready, e.g. "lab-2 kube-apiserver ready". */
  readonly onProgress?: (message: string) => void;
  /** Each node agent's holdUnready (node-agent.ts), asked with the cluster's name. @default none held */
  readonly holdUnready?: (cluster: string, pod: V1Pod) => boolean;
}

export async function startControlPlane(options: StartControlPlaneOptions): Promise<LabControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  const stoppables: Array<{ stop(): Promise<void> }> = [];
  const stop = async () => {
    // The reverse of the start order: API servers must not outlive etcd by much, nor lose it first.
    for (const item of stoppables.reverse()) await item.stop();
  };
  try {
    await mkdir(options.dir, { recursive: true });
    const etcd: EtcdServer = await startEtcdServer({
      etcdBinary: options.binaries.path('etcd'),
      dir: options.dir,
      address: FLEET_ADDRESS,
    });
    stoppables.push(etcd);
    progress('etcd ready');
    const webhook = await startEksTokenWebhook({
      identities: options.identities,
      region: options.region,
      clusterNames: options.clusterNames,
    });
    stoppables.push(webhook);
    const clusters: ControlPlaneCluster[] = [];
    for (const [position, name] of options.clusterNames.entries()) {
      const cluster = await startCluster(name, position + 1, etcd, webhook, options, stoppables);
      clusters.push(cluster);
      progress(`${name} control plane ready`);
    }
    return { etcdUrl: etcd.url, webhook, clusters, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startCluster(
  name: string,
  index: number,
  etcd: EtcdServer,
  webhook: EksTokenWebhook,
  options: StartControlPlaneOptions,
  stoppables: Array<{ stop(): Promise<void> }>,
): Promise<ControlPlaneCluster> {
  const dir = join(options.dir, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const address = controlPlaneAddress(index);
  const services = serviceCidr(index);
  const pki = await createControlPlanePki({
    clusterName: name,
    address,
    serviceAddress: services.firstAddress,
    nodeAddress: nodeAddress(index),
  });
  const podNetwork = await startPodNetworkProxy({
    socketPath: join(dir, 'pod-network.sock'),
    ...(options.onProblem === undefined ? {} : { onProblem: options.onProblem }),
  });
  stoppables.push(podNetwork);
  const apiServer: KubeApiServerProcess = await startKubeApiServerProcess({
    binary: options.binaries.path('kube-apiserver'),
    clusterName: name,
    dir,
    address,
    etcdUrl: etcd.url,
    pki,
    serviceCidr: services.cidr,
    tokenWebhook: { url: webhook.urlFor(name), caPem: webhook.caPem },
    podNetworkSocket: podNetwork.socketPath,
  });
  stoppables.push(apiServer);
  const controllerManager = await startKubeControllerManager({
    binary: options.binaries.path('kube-controller-manager'),
    clusterName: name,
    dir,
    address,
    apiServer,
    pki,
  });
  stoppables.push(controllerManager);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(apiServer.adminKubeconfig);
  const addresses = new PodAddressPool(index);
  const nodeName = `${name}-node`;
  const { holdUnready } = options;
  const runtime =
    (await options.podRuntime?.({
      clusterName: name,
      kubeConfig,
      apiServerEndpoint: apiServer.endpoint,
      nodeName,
      nodeAddress: nodeAddress(index),
      dir,
    })) ?? EMPTY_POD_RUNTIME;
  const kubeletStreaming = await startKubeletStreaming({
    binary: options.binaries.path('kubelet-streaming'),
    clusterName: name,
    nodeName,
    nodeAddress: nodeAddress(index),
    dir,
    pki,
    kubeconfig: apiServer.adminKubeconfig,
  });
  stoppables.push(kubeletStreaming);
  const node = await startNodeAgent({
    kubeConfig,
    nodeName,
    nodeAddress: nodeAddress(index),
    kubeletPort: kubeletStreaming.port,
    allocateAddress: () => addresses.allocate(),
    releaseAddress: (address) => addresses.release(address),
    runtime,
    kubeletVersion: options.binaries.versions.kubernetes,
    onProblem: options.onProblem,
    ...(holdUnready === undefined ? {} : { holdUnready: (pod: V1Pod) => holdUnready(name, pod) }),
  });
  stoppables.push(node);
  await applyAsAdmin(apiServer.adminKubeconfig, ['create', 'namespace', 'istio-system']);
  await applyAsAdmin(apiServer.adminKubeconfig, ['apply', '-f', RBAC_MANIFEST]);
  return {
    name,
    endpoint: apiServer.endpoint,
    caPem: pki.servingCaPem,
    adminKubeconfig: apiServer.adminKubeconfig,
    dir,
    processes: [apiServer.process, controllerManager, kubeletStreaming.process],
    node,
  };
}

async function applyAsAdmin(kubeconfigPath: string, args: readonly string[]): Promise<void> {
  try {
    await run('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new LabError(`kubectl ${args.join(' ')} failed on the lab's control plane: ${stderr.trim()}`, {
      cause: error,
    });
  }
}
