// The istio engine as a lab, in the shape `meshtrust lab` serves (lab-files.ts's LabFilesSource): the
// fleet (real Kubernetes, real Istio), the lab's EKS API naming its clusters, N injected workloads per
// cluster, and a prober that makes real mTLS handshakes between them with what their agents hold.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { CaMaterial } from '../../lambdas/core/pki/index.js';
import { type EksApiServer, startEksApiServer } from '../eks/eks-api-server.js';
import { createLabIdentities, LAB_ACCOUNT_ID, type LabIdentities } from '../eks/lab-identities.js';
import { type HandshakeSide, mtlsHandshake } from '../istio/mtls-handshake.js';
import { runKubectl } from '../kube/kubectl-runner.js';
import { LabError } from '../lab-errors.js';
import { MESH_TAG_KEY } from '../start-lab.js';
import { readProxyIdentity } from './proxy-identity.js';
import { type IstioFleet, type IstioFleetOptions, startIstioFleet } from './start-istio-fleet.js';

export const WORKLOAD_NAMESPACE = 'shop';

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
    | 'onProgress'
  > {
  /** Clusters lab-1 .. lab-N. */
  readonly clusters: number;
  readonly workloadsPerCluster: number;
}

export interface IstioProbeFailure {
  readonly at: Date;
  readonly from: string;
  readonly to: string;
  readonly side: HandshakeSide;
  readonly error: string;
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
    readonly endpoint: string;
    readonly caPem: string;
    readonly initialIntermediate: CaMaterial;
  }[];
  readonly fleet: IstioFleet;
  /** One round: a handshake for every ordered pair of clusters, between random workloads. */
  probeRound(): Promise<{ attempted: number; failed: number; failures: IstioProbeFailure[] }>;
  stop(): Promise<void>;
}

export async function startIstioLab(options: IstioLabOptions): Promise<IstioLab> {
  const progress = options.onProgress ?? (() => undefined);
  const names = Array.from({ length: options.clusters }, (_, i) => `lab-${i + 1}`);
  const identities = createLabIdentities({ clusterNames: names });
  const trustDomain = 'cluster.local';
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
    onProgress: progress,
  });
  let eks: EksApiServer | undefined;
  try {
    for (const cluster of fleet.controlPlane.clusters) {
      await deployWorkloads(
        cluster.adminKubeconfig,
        join(options.dir, 'kube-cache'),
        options.workloadsPerCluster,
      );
      progress(`${cluster.name}: ${options.workloadsPerCluster} injected workload(s) running`);
    }
    const clusters = fleet.controlPlane.clusters.map((cluster) => {
      const initialIntermediate = fleet.intermediates.get(cluster.name);
      if (!initialIntermediate) throw new LabError(`no intermediate for ${cluster.name}`);
      return {
        name: cluster.name,
        arn: `arn:aws:eks:${options.region}:${LAB_ACCOUNT_ID}:cluster/${cluster.name}`,
        endpoint: cluster.endpoint,
        caPem: cluster.caPem,
        initialIntermediate,
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
    return {
      engine: { name: 'istio', kubernetes: options.binaries.versions.kubernetes, istio: fleet.istioVersion },
      meshId: options.meshId,
      region: options.region,
      eksEndpoint: running.url,
      identities,
      rootA: fleet.rootA,
      clusters,
      fleet,
      probeRound: () => probeRound(fleet, join(options.dir, 'kube-cache'), trustDomain),
      stop: async () => {
        await running.stop();
        await fleet.stop();
      },
    };
  } catch (error) {
    await eks?.stop();
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
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  await kubectl([
    '-n',
    WORKLOAD_NAMESPACE,
    'wait',
    '--for=condition=Available',
    'deployment',
    '--all',
    '--timeout=180s',
  ]);
}

interface PodRef {
  readonly uid: string;
  readonly name: string;
}

async function readyWorkloads(kubeconfig: string, cacheDir: string): Promise<PodRef[]> {
  const result = await runKubectl(
    ['-n', WORKLOAD_NAMESPACE, 'get', 'pods', '-l', 'meshtrust.io/lab-workload=true', '-o', 'json'],
    { kubeconfig, cacheDir },
  );
  if (result.exitCode !== 0) throw new LabError(`listing workloads: ${result.stderr.trim()}`);
  return (JSON.parse(result.stdout) as { items: V1Pod[] }).items
    .filter(
      (pod) =>
        !pod.metadata?.deletionTimestamp &&
        pod.status?.conditions?.some(
          (condition) => condition.type === 'Ready' && condition.status === 'True',
        ),
    )
    .map((pod) => ({ uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '' }));
}

async function probeRound(fleet: IstioFleet, cacheDir: string, trustDomain: string) {
  const workloads = new Map<string, PodRef[]>();
  for (const cluster of fleet.controlPlane.clusters) {
    workloads.set(cluster.name, await readyWorkloads(cluster.adminKubeconfig, cacheDir));
  }
  const pick = (cluster: string) => {
    const pods = workloads.get(cluster) ?? [];
    return pods[Math.floor(Math.random() * pods.length)];
  };
  const failures: IstioProbeFailure[] = [];
  let attempted = 0;
  for (const from of workloads.keys()) {
    for (const to of workloads.keys()) {
      const client = pick(from);
      const server = pick(to);
      if (!client || !server) continue;
      attempted += 1;
      const at = new Date();
      try {
        const outcome = await mtlsHandshake(
          await readProxyIdentity(fleet.podRootfs(from, client.uid)),
          await readProxyIdentity(fleet.podRootfs(to, server.uid)),
          { trustDomain, timeoutMs: 5_000 },
        );
        if (!outcome.ok) {
          failures.push({
            at,
            from: `${from}/${client.name}`,
            to: `${to}/${server.name}`,
            side: outcome.side,
            error: outcome.error,
          });
        }
      } catch (error) {
        // A pod gone between the listing and the read is not a failed handshake; the next round sees it.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        attempted -= 1;
      }
    }
  }
  return { attempted, failed: failures.length, failures };
}
