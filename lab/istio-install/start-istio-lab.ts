// The istio engine as a lab, in the shape `meshtrust lab` serves (lab-files.ts's LabFilesSource): the
// fleet (real Kubernetes, real Istio), the lab's EKS API naming its clusters, per cluster N injected
// workloads and one injected by object selector, and a prober (the model's, istio/mtls-prober.ts)
// making real mTLS handshakes between them and the two gateways with what their agents hold.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { type CaMaterial, parseCertificatesPem } from '../../lambdas/core/pki/index.js';
import { type EksApiServer, startEksApiServer } from '../eks/eks-api-server.js';
import { createLabIdentities, LAB_ACCOUNT_ID, type LabIdentities } from '../eks/lab-identities.js';
import {
  type MtlsProber,
  type ProbedCluster,
  type ProbeEndpoint,
  startMtlsProber,
} from '../istio/mtls-prober.js';
import { runKubectl } from '../kube/kubectl-runner.js';
import { type KubeFaultProxy, startClusterKubeFaultProxy } from '../kube-fault-proxy.js';
import { labClusterNames } from '../lab-cluster-names.js';
import { LabError, LabOptionsError } from '../lab-errors.js';
import { ISTIO_LAB_MAX_CLUSTERS, type LabTopology, labRemoteClusters } from '../lab-options.js';
import { type LabHooks, MESH_TAG_KEY } from '../start-lab.js';
import { podWorkload } from '../workloads/pod-workload.js';
import { readProxyIdentity } from './proxy-identity.js';
import { type IstioFleet, type IstioFleetOptions, startIstioFleet } from './start-istio-fleet.js';

export const WORKLOAD_NAMESPACE = 'shop';
/** A namespace without injection labels, whose one workload is injected by object selector. */
export const OBJECT_SELECTED_NAMESPACE = 'tools';

export interface IstioLabOptions
  extends Pick<
    IstioFleetOptions,
    | 'binaries'
    | 'dir'
    | 'region'
    | 'meshId'
    | 'istiodEnv'
    | 'proxyMetadata'
    | 'istiodReplicas'
    | 'volumeSyncPeriodMs'
    | 'waitForOtherLabMs'
    | 'rootCertStyle'
    | 'onProgress'
    | 'holdUnready'
    | 'missesCacertsChange'
  > {
  /** Clusters lab-1 .. lab-N. */
  readonly clusters: number;
  readonly workloadsPerCluster: number;
  /**
   * multi-primary (every cluster its own istiod and cacerts), or primary-remote: lab-2 a remote of
   * lab-1, with no istiod and no cacerts, its pods served by lab-1's istiod. @default 'multi-primary'
   */
  readonly topology?: LabTopology;
  /** Time between automatic probe rounds. @default 0, rounds on demand only */
  readonly proberIntervalMs?: number;
  /**
   * Asked before each request the functions send a cluster's Kubernetes API (the rehearsal's --fault
   * kube:...), as the model's hook of that name (start-lab.ts's LabHooks): given, each cluster's API server
   * gets a fault proxy (kube-fault-proxy.ts) on its own address, and the lab's EKS API describes the
   * cluster with the proxy's endpoint; the lab's components and the rehearsal's own reads keep the API
   * server itself. @default none, the EKS API describes the API server itself
   */
  readonly kubeApiFault?: LabHooks['kubeApiFault'];
}

export interface IstioLab {
  readonly engine: { readonly name: 'istio'; readonly kubernetes: string; readonly istio: string };
  readonly meshId: string;
  readonly region: string;
  readonly eksEndpoint: string;
  readonly identities: LabIdentities;
  readonly rootA: CaMaterial;
  readonly clusters: readonly {
    readonly name: string;
    readonly arn: string;
    /** What the lab's EKS API describes: the API server, or with `kubeApiFault` its fault proxy. */
    readonly endpoint: string;
    readonly caPem: string;
    /** The intermediate that signs the cluster's pods at start: a remote's is its primary's. */
    readonly initialIntermediate: CaMaterial;
    /** A remote cluster (topology primary-remote): the primary whose istiod serves it; it has no cacerts. */
    readonly primary?: string;
  }[];
  readonly fleet: IstioFleet;
  /**
   * Real mTLS handshakes between random workloads of every ordered pair of clusters, each side with
   * what its pilot-agent holds; rounds on demand, or every `proberIntervalMs`.
   */
  readonly prober: MtlsProber;
  /**
   * Every ready workload's certificate as its pilot-agent holds it now: who issued it, and the pod's
   * UID and owning workload as the cluster's API server lists them.
   */
  workloadCertificates(): Promise<HeldWorkloadCertificate[]>;
  stop(): Promise<void>;
}

/** One ready pod's certificate: the intermediate that issued it, and which pod holds it. */
export interface HeldWorkloadCertificate {
  readonly cluster: string;
  /** namespace/pod */
  readonly pod: string;
  readonly uid: string;
  /** The controller that owns the pod, `namespace/Kind/name` (pod-workload.ts). */
  readonly workload: string;
  /** SHA-256 of the intermediate that signed the certificate. */
  readonly issuer: string;
}

/** A probed pod as the API server lists it, with the workload that owns it. */
interface ListedPod extends ProbeEndpoint {
  readonly uid: string;
  readonly workload: string;
}

/** The prober's view of a cluster, whose pods say which workload owns them. */
interface LabProbedCluster extends ProbedCluster {
  endpoints(): Promise<ListedPod[]>;
}

export async function startIstioLab(options: IstioLabOptions): Promise<IstioLab> {
  const progress = options.onProgress ?? (() => undefined);
  if (options.topology === 'primary-remote' && options.clusters < 2) {
    // As the model engine refuses it (lab-options.ts), before anything starts.
    throw new LabOptionsError(
      'topology',
      options.topology,
      'multi-primary with 1 cluster (a remote needs a primary)',
    );
  }
  if (
    !Number.isInteger(options.clusters) ||
    options.clusters < 1 ||
    options.clusters > ISTIO_LAB_MAX_CLUSTERS
  ) {
    throw new LabOptionsError('clusters', options.clusters, `an integer from 1 to ${ISTIO_LAB_MAX_CLUSTERS}`);
  }
  const names = labClusterNames(options.clusters);
  const identities = createLabIdentities({ clusterNames: names });
  const trustDomain = 'cluster.local';
  const remotes = labRemoteClusters({
    topology: options.topology ?? 'multi-primary',
    clusters: options.clusters,
  });
  const fleet = await startIstioFleet({
    binaries: options.binaries,
    dir: options.dir,
    clusterNames: names,
    identities,
    region: options.region,
    meshId: options.meshId,
    trustDomain,
    istiodEnv: options.istiodEnv,
    proxyMetadata: options.proxyMetadata,
    istiodReplicas: options.istiodReplicas,
    volumeSyncPeriodMs: options.volumeSyncPeriodMs,
    waitForOtherLabMs: options.waitForOtherLabMs ?? 0,
    remotes,
    ...(options.rootCertStyle === undefined ? {} : { rootCertStyle: options.rootCertStyle }),
    ...(options.holdUnready === undefined ? {} : { holdUnready: options.holdUnready }),
    ...(options.missesCacertsChange === undefined
      ? {}
      : { missesCacertsChange: options.missesCacertsChange }),
    onProgress: progress,
  });
  let eks: EksApiServer | undefined;
  const faultProxies: KubeFaultProxy[] = [];
  const stopFaultProxies = async () => {
    for (const proxy of faultProxies) await proxy.stop();
  };
  try {
    for (const cluster of fleet.controlPlane.clusters) {
      await deployWorkloads(
        cluster.adminKubeconfig,
        join(options.dir, 'kube-cache'),
        options.workloadsPerCluster,
      );
      progress(
        `${cluster.name}: ${options.workloadsPerCluster} injected workload(s) running, and ${OBJECT_SELECTED_NAMESPACE}/probe injected by object selector`,
      );
    }
    const endpoints = new Map<string, string>();
    const { kubeApiFault } = options;
    if (kubeApiFault !== undefined) {
      for (const cluster of fleet.controlPlane.clusters) {
        const proxy = await startClusterKubeFaultProxy(cluster, kubeApiFault);
        faultProxies.push(proxy);
        endpoints.set(cluster.name, proxy.endpoint);
      }
    }
    const clusters = fleet.controlPlane.clusters.map((cluster) => {
      const primary = remotes.find((remote) => remote.name === cluster.name)?.primary;
      const initialIntermediate = fleet.intermediates.get(primary ?? cluster.name);
      if (!initialIntermediate) throw new LabError(`no intermediate for ${cluster.name}`);
      return {
        name: cluster.name,
        arn: `arn:aws:eks:${options.region}:${LAB_ACCOUNT_ID}:cluster/${cluster.name}`,
        endpoint: endpoints.get(cluster.name) ?? cluster.endpoint,
        caPem: cluster.caPem,
        initialIntermediate,
        ...(primary !== undefined && { primary }),
      };
    });
    eks = await startEksApiServer({
      region: options.region,
      identities,
      clusters: clusters.map((cluster) => ({
        name: cluster.name,
        endpoint: cluster.endpoint,
        caPem: cluster.caPem,
        version: /^v(\d+\.\d+)/.exec(options.binaries.versions.kubernetes)?.[1] ?? '',
        arn: cluster.arn,
        tags: { [MESH_TAG_KEY]: options.meshId },
      })),
    });
    const running = eks;
    const clusterPairs = clusters.length * clusters.length;
    const probed = probedClusters(fleet, join(options.dir, 'kube-cache'), trustDomain);
    const prober = startMtlsProber({
      clusters: probed,
      intervalMs: options.proberIntervalMs ?? 0,
      pairsPerRound: clusterPairs,
      roundTimeoutMs: 60_000,
    });
    return {
      engine: { name: 'istio', kubernetes: options.binaries.versions.kubernetes, istio: fleet.istioVersion },
      meshId: options.meshId,
      region: options.region,
      eksEndpoint: running.url,
      identities,
      rootA: fleet.rootA,
      clusters,
      fleet,
      prober,
      workloadCertificates: () => workloadCertificates(probed),
      stop: async () => {
        await prober.stop();
        await running.stop();
        await stopFaultProxies();
        await fleet.stop();
      },
    };
  } catch (error) {
    await eks?.stop();
    await stopFaultProxies();
    await fleet.stop();
    throw error;
  }
}

/** Deployments app-01 .. app-N in the injected namespace, each with its own service account. */
async function deployWorkloads(kubeconfig: string, cacheDir: string, count: number): Promise<void> {
  const kubectl = async (args: string[], input?: string) => {
    const result = await runKubectl(args, { kubeconfig, cacheDir, input, timeoutMs: 180_000 });
    if (result.exitCode !== 0) throw new LabError(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
    return result.stdout;
  };
  const items: object[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: WORKLOAD_NAMESPACE, labels: { 'istio-injection': 'enabled' } },
    },
  ];
  for (let i = 1; i <= count; i++) {
    const name = `app-${String(i).padStart(2, '0')}`;
    items.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: WORKLOAD_NAMESPACE } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: WORKLOAD_NAMESPACE },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name, 'meshtrust.io/lab-workload': 'true' } },
            spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'lab/app:1' }] },
          },
        },
      },
    );
  }
  // One workload injected by object selector: its namespace has no injection label, its pods ask for
  // a sidecar themselves (sidecar.istio.io/inject=true), as Istio's object.sidecar-injector selects.
  items.push(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OBJECT_SELECTED_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'probe', namespace: OBJECT_SELECTED_NAMESPACE },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'probe', namespace: OBJECT_SELECTED_NAMESPACE },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'probe' } },
        template: {
          metadata: {
            labels: { app: 'probe', 'meshtrust.io/lab-workload': 'true', 'sidecar.istio.io/inject': 'true' },
          },
          spec: { serviceAccountName: 'probe', containers: [{ name: 'app', image: 'lab/app:1' }] },
        },
      },
    },
  );
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  for (const namespace of [WORKLOAD_NAMESPACE, OBJECT_SELECTED_NAMESPACE]) {
    await kubectl([
      '-n',
      namespace,
      'wait',
      '--for=condition=Available',
      'deployment',
      '--all',
      '--timeout=180s',
    ]);
  }
}

/**
 * What the prober talks to: the lab's workloads (the object-selected one too), the ingress gateway and
 * the east-west gateway, whose proxies are probed like theirs.
 */
const PROBED_PODS: readonly { readonly namespace: string; readonly selector: string }[] = [
  { namespace: WORKLOAD_NAMESPACE, selector: 'meshtrust.io/lab-workload=true' },
  { namespace: OBJECT_SELECTED_NAMESPACE, selector: 'meshtrust.io/lab-workload=true' },
  { namespace: 'istio-system', selector: 'istio in (ingressgateway,eastwestgateway)' },
];

/** The ready, not terminating pods of a cluster the prober picks from. */
async function readyWorkloads(kubeconfig: string, cacheDir: string): Promise<ListedPod[]> {
  const endpoints: ListedPod[] = [];
  for (const { namespace, selector } of PROBED_PODS) {
    const result = await runKubectl(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json'], {
      kubeconfig,
      cacheDir,
    });
    if (result.exitCode !== 0) throw new LabError(`listing ${namespace} pods: ${result.stderr.trim()}`);
    for (const pod of (JSON.parse(result.stdout) as { items: V1Pod[] }).items) {
      const ready = pod.status?.conditions?.some(
        (condition) => condition.type === 'Ready' && condition.status === 'True',
      );
      if (pod.metadata?.deletionTimestamp || !ready) continue;
      endpoints.push({
        namespace,
        podName: pod.metadata?.name ?? '',
        uid: pod.metadata?.uid ?? '',
        workload: podWorkload({ namespace, ...pod.metadata }),
      });
    }
  }
  return endpoints;
}

async function workloadCertificates(clusters: readonly LabProbedCluster[]) {
  const held: HeldWorkloadCertificate[] = [];
  for (const cluster of clusters) {
    for (const pod of await cluster.endpoints()) {
      const identity = await cluster.identity(pod);
      if (!identity) continue;
      // pilot-agent's cert-chain.pem: the workload certificate, then the intermediate that signed it.
      const issuer = parseCertificatesPem(identity.certChainPem)[1]?.fingerprint ?? '';
      held.push({
        cluster: cluster.name,
        pod: `${pod.namespace}/${pod.podName}`,
        uid: pod.uid,
        workload: pod.workload,
        issuer,
      });
    }
  }
  return held;
}

/** The prober's view of the fleet: pods listed by the API server, identities read from their files. */
function probedClusters(fleet: IstioFleet, cacheDir: string, trustDomain: string): LabProbedCluster[] {
  return fleet.controlPlane.clusters.map((cluster) => ({
    name: cluster.name,
    trustDomain,
    endpoints: () => readyWorkloads(cluster.adminKubeconfig, cacheDir),
    identity: async (pod) => {
      try {
        return await readProxyIdentity(fleet.podRootfs(cluster.name, pod.uid ?? ''));
      } catch (error) {
        // A pod gone between the listing and the read is not a failed handshake; the next round sees it.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  }));
}
