// The istio engine's fleet: per cluster a real Kubernetes control plane (control-plane/), a node
// agent that runs pods' real Istio processes (node-agent/), and Istio installed from its own
// manifests with a plug-in CA under the lab's root A. Workloads are added by the caller, as an
// operator adds them: a labelled namespace and a Deployment, injected by istiod's real webhook.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  assembleCacerts,
  type CacertsFiles,
  type CaMaterial,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../lambdas/core/pki/index.js';
import type { LabBinaries } from '../binaries/lab-binaries.js';
import type { LabBinaryName, LabComponentVersions } from '../binaries/lab-binary-names.js';
import {
  type LabControlPlane,
  type StartControlPlaneOptions,
  startControlPlane,
} from '../control-plane/start-control-plane.js';
import type { LabIdentities } from '../eks/lab-identities.js';
import { LabError } from '../lab-errors.js';
import type { RootCertStyle } from '../lab-options.js';
import { startClusterPodRuntime } from '../node-agent/cluster-pod-runtime.js';
import { podDirOf } from '../node-agent/istio-pod-runtime.js';
import { holdPort, PILOT_AGENT_STATUS_PORT } from '../node-agent/status-port-guard.js';
import { styledRootCertPem } from '../seed-cluster.js';
import { installIstio, installRemoteIstio } from './install-istio.js';

export interface IstioFleetOptions {
  readonly binaries: LabBinaries<LabBinaryName, LabComponentVersions>;
  readonly dir: string;
  readonly clusterNames: readonly string[];
  readonly identities: LabIdentities;
  readonly region: string;
  readonly meshId: string;
  readonly trustDomain: string;
  /** istiod's environment, e.g. { ISTIO_MULTIROOT_MESH: 'true' }. */
  readonly istiodEnv: Readonly<Record<string, string>>;
  /** The mesh's proxy metadata, e.g. { PROXY_CONFIG_XDS_AGENT: 'true' }. */
  readonly proxyMetadata: Readonly<Record<string, string>>;
  readonly istiodReplicas: number;
  /** kubelet's volume resync: how long a Secret change may take to reach istiod's files. */
  readonly volumeSyncPeriodMs: number;
  /**
   * How long to wait for another istio lab on this machine to end (they cannot run side by side:
   * status-port-guard.ts). @default 0, fail at once
   */
  readonly waitForOtherLabMs?: number;
  /** How each cluster's root-cert.pem is written at install (ROOT_CERT_STYLES). @default 'canonical' */
  readonly rootCertStyle?: RootCertStyle;
  /**
   * Remote clusters (primary-remote): each runs no istiod and holds no cacerts; its pods are injected,
   * signed and configured by its primary's istiod, which watches it through a remote secret. @default none
   */
  readonly remotes?: readonly { readonly name: string; readonly primary: string }[];
  readonly onProgress?: (message: string) => void;
  readonly onProblem?: (message: string) => void;
  /** Pods the node agents report never ready (--fault kube:CLUSTER:stuck; node-agent.ts's holdUnready). */
  readonly holdUnready?: StartControlPlaneOptions['holdUnready'];
  /**
   * Asked, with the cluster's name, when a cacerts change is about to reach one of its istiod pods: true
   * keeps that pod's files as they were (--fault kube:CLUSTER:istiod-drop; missed-secret-change.ts).
   */
  readonly missesCacertsChange?: (cluster: string) => boolean;
}

export interface IstioFleet {
  readonly controlPlane: LabControlPlane;
  /** The lab's root A (test material, in memory only). */
  readonly rootA: CaMaterial;
  /** Each primary cluster's first intermediate, signed by root A (a remote has none). */
  readonly intermediates: ReadonlyMap<string, CaMaterial>;
  /** The Istio release line the binaries report, e.g. 1.31-dev. */
  readonly istioVersion: string;
  /** The root folder of a running pod of a cluster (its files as its processes see them). */
  podRootfs(cluster: string, podUid: string): string;
  stop(): Promise<void>;
}

export async function startIstioFleet(options: IstioFleetOptions): Promise<IstioFleet> {
  const progress = options.onProgress ?? (() => undefined);
  const { missesCacertsChange } = options;
  const rootA = await createRootCa({ commonName: 'meshtrust lab Root A' });
  const istioVersion = await istioReleaseOf(options.binaries);
  const statusPort = await holdPort(PILOT_AGENT_STATUS_PORT, {
    waitMs: options.waitForOtherLabMs ?? 0,
    onWait: progress,
  });
  const controlPlane = await startControlPlane({
    binaries: options.binaries,
    dir: options.dir,
    clusterNames: options.clusterNames,
    identities: options.identities,
    region: options.region,
    onProgress: progress,
    onProblem: options.onProblem,
    ...(options.holdUnready === undefined ? {} : { holdUnready: options.holdUnready }),
    podRuntime: (node) =>
      startClusterPodRuntime({
        kubeConfig: node.kubeConfig,
        apiServerEndpoint: node.apiServerEndpoint,
        nodeName: node.nodeName,
        nodeAddress: node.nodeAddress,
        podsDir: podsDirOf(node.dir),
        binDir: options.binaries.dir,
        volumeSyncPeriodMs: options.volumeSyncPeriodMs,
        ...(missesCacertsChange === undefined
          ? {}
          : { missesCacertsChange: () => missesCacertsChange(node.clusterName) }),
        onProblem: options.onProblem,
      }),
  }).catch(async (error: unknown) => {
    await statusPort.release();
    throw error;
  });
  try {
    const intermediates = new Map<string, CaMaterial>();
    const remotes = options.remotes ?? [];
    for (const cluster of controlPlane.clusters) {
      if (remotes.some((remote) => remote.name === cluster.name)) continue;
      // A primary serving remotes leads them (namespace controller, webhook patcher): Istio's
      // EXTERNAL_ISTIOD, with the remote's istio-system naming it as its control plane cluster.
      const servesRemotes = remotes.some((remote) => remote.primary === cluster.name);
      const intermediate = await createIntermediateCa({ cluster: cluster.name, issuer: rootA });
      intermediates.set(cluster.name, intermediate);
      await installIstio({
        istioctl: options.binaries.path('istioctl'),
        adminKubeconfig: cluster.adminKubeconfig,
        dir: cluster.dir,
        clusterName: cluster.name,
        meshId: options.meshId,
        network: cluster.name,
        trustDomain: options.trustDomain,
        tag: istioVersion,
        istiodReplicas: options.istiodReplicas,
        istiodEnv: servesRemotes ? { EXTERNAL_ISTIOD: 'true', ...options.istiodEnv } : options.istiodEnv,
        proxyMetadata: options.proxyMetadata,
        cacerts: styledCacerts(
          assembleCacerts({
            intermediate,
            chainAbove: [rootA.certificatePem],
            trustedRoots: TrustBundle.parse(rootA.certificatePem),
          }),
          options.rootCertStyle ?? 'canonical',
        ),
        readyTimeoutSeconds: 180,
      });
      progress(`${cluster.name} Istio ${istioVersion} installed, istiod ready`);
    }
    for (const remote of remotes) {
      const cluster = controlPlane.clusters.find((candidate) => candidate.name === remote.name);
      const primary = controlPlane.clusters.find((candidate) => candidate.name === remote.primary);
      if (!cluster || !primary)
        throw new LabError(`remote ${remote.name} or its primary ${remote.primary} is not in the fleet`);
      await installRemoteIstio({
        istioctl: options.binaries.path('istioctl'),
        adminKubeconfig: cluster.adminKubeconfig,
        dir: cluster.dir,
        clusterName: cluster.name,
        meshId: options.meshId,
        network: cluster.name,
        tag: istioVersion,
        proxyMetadata: options.proxyMetadata,
        primaryCluster: primary.name,
        primaryIstiodAddress: await istiodServiceAddress(primary.adminKubeconfig),
        primaryAdminKubeconfig: primary.adminKubeconfig,
        readyTimeoutSeconds: 180,
      });
      progress(`${cluster.name} Istio ${istioVersion} installed as a remote of ${primary.name}, no istiod`);
    }
    const stop = async () => {
      await controlPlane.stop();
      await statusPort.release();
    };
    const podRootfs = (clusterName: string, podUid: string) => {
      const cluster = controlPlane.clusters.find((candidate) => candidate.name === clusterName);
      if (!cluster) throw new LabError(`the fleet has no cluster ${clusterName}`);
      return join(podDirOf(podsDirOf(cluster.dir), podUid), 'rootfs');
    };
    return { controlPlane, rootA, intermediates, istioVersion, podRootfs, stop };
  } catch (error) {
    await controlPlane.stop();
    await statusPort.release();
    throw error;
  }
}

/** cacerts with root-cert.pem written the way tools and operators leave it (seed-cluster.ts). */
function styledCacerts(files: CacertsFiles, style: RootCertStyle): CacertsFiles {
  return { ...files, 'root-cert.pem': styledRootCertPem(files['root-cert.pem'], style) };
}

function podsDirOf(clusterDir: string): string {
  return join(clusterDir, 'pods');
}

/** What the pinned Istio calls itself (stamped at build time), e.g. "1.31-dev". */
async function istioReleaseOf(binaries: LabBinaries<LabBinaryName, LabComponentVersions>): Promise<string> {
  const { stdout } = await promisify(execFile)(binaries.path('istioctl'), [
    'version',
    '--remote=false',
    '--short',
  ]);
  return stdout.trim().replace(/^client version:\s*/, '');
}

/** The ClusterIP of a cluster's istiod Service (on loopback, as every lab Service address). */
async function istiodServiceAddress(adminKubeconfig: string): Promise<string> {
  const { stdout } = await promisify(execFile)('kubectl', [
    '--kubeconfig',
    adminKubeconfig,
    '-n',
    'istio-system',
    'get',
    'service',
    'istiod',
    '-o',
    'jsonpath={.spec.clusterIP}',
  ]);
  if (!stdout.startsWith('127.')) throw new LabError(`istiod's Service address is ${stdout || 'missing'}`);
  return stdout;
}
