// The lab fleet as a library: N local "EKS clusters running Istio" with root A installed everywhere,
// started in-process for tests, the rehearsal and `meshtrust lab`. Per cluster: a Kubernetes API over
// HTTPS taking EKS tokens, an object store seeded with namespaces, cacerts and injected workloads, the
// rollout controller and the istiod model; for the fleet: the EKS API and the mTLS prober.
// See docs/lab.md for the returned shape.
import {
  type ClusterAccountRoleKind,
  clusterAccountRoleName,
} from '../lambdas/contract/cluster-reference.js';
import { MESH_TAG_KEY } from '../lambdas/contract/resource-tags.js';
import {
  assembleCacerts,
  type CaMaterial,
  createRootCa,
  type IntermediateIssuer,
  intermediateIssuer,
  TrustBundle,
} from '../lambdas/core/pki/index.js';
import { type CacertsSnapshot, cacertsSnapshot } from './cacerts-snapshot.js';
import { type EksApiServer, startEksApiServer } from './eks/eks-api-server.js';
import { createEksTokenAuthenticator } from './eks/eks-token-authenticator.js';
import {
  createLabIdentities,
  EXPIRY_CHECK_GROUP,
  LAB_ACCOUNT_ID,
  LAB_OTHER_ACCOUNT_ID,
  type LabIdentities,
  placeClustersInAccount,
  ROTATOR_GROUP,
  VERIFIER_GROUP,
} from './eks/lab-identities.js';
import { type EnvoyAdminModel, startEnvoyAdminModel } from './istio/envoy-admin-model.js';
import {
  CACERTS_SECRET_NAME,
  ISTIO_SYSTEM_NAMESPACE,
  type IstiodModel,
  ROOT_CERT_CONFIGMAP_KEY,
  ROOT_CERT_CONFIGMAP_NAME,
  startIstiodModel,
} from './istio/istiod-model.js';
import { ISTIOD_MONITORING_PORT, istiodModelMetrics } from './istio/istiod-model-metrics.js';
import { type MtlsProber, startMtlsProber } from './istio/mtls-prober.js';
import {
  type KubeApiServer,
  type KubeFaultRequest,
  type KubeRequestFault,
  startKubeApiServer,
} from './kube/kube-api-server.js';
import type { KubeObject } from './kube/kube-object.js';
import { KubeObjectStore } from './kube/object-store.js';
import { labClusterNames } from './lab-cluster-names.js';
import { LabError, LabNotSettledError } from './lab-errors.js';
import {
  LAB_OTHER_REGION,
  type LabOptions,
  labRemoteClusters,
  type ResolvedLabOptions,
  resolveLabOptions,
} from './lab-options.js';
import { admitLabConnect, authorizeLabRequest } from './lab-rbac.js';
import { labPrimaryIstiodAddress, seedRemoteIstiodService } from './remote-istiod-service.js';
import {
  seedCacerts,
  seedGateways,
  seedIstiodDeployment,
  seedMeshConfig,
  seedNamespaces,
  seedWorkloads,
  styledRootCertPem,
} from './seed-cluster.js';
import { isPodReady } from './workloads/lab-pods.js';
import {
  type PodEvent,
  type RolloutController,
  startRolloutController,
} from './workloads/rollout-controller.js';
import { admitPod, hasSidecar, injectorInputsOf } from './workloads/sidecar-injection.js';
import { isRolledOut } from './workloads/workload-rolled-out.js';

export { MESH_TAG_KEY };
export const LAB_KUBERNETES_VERSION = '1.32';

export interface LabCluster {
  /** lab-1 .. lab-N */
  readonly name: string;
  readonly arn: string;
  /** The Kubernetes API, https://127.0.0.1:<port>. */
  readonly endpoint: string;
  /** The CA of the Kubernetes API's serving certificate (what DescribeCluster returns). */
  readonly caPem: string;
  /** The cluster's objects; trusted in-process access (no authentication). */
  readonly store: KubeObjectStore;
  readonly istiod: IstiodModel;
  /**
   * The intermediate (signed by root A) the cluster started with; the lab's own test material. A remote
   * cluster's is its primary's.
   */
  readonly initialIntermediate: CaMaterial;
  /** A remote cluster (topology primary-remote): the primary whose istiod serves it; it has no cacerts. */
  readonly primary?: string;
}

export type { CacertsSnapshot };

export interface Lab {
  readonly meshId: string;
  readonly region: string;
  readonly trustDomain: string;
  /** http://127.0.0.1:<port>: set AWS_ENDPOINT_URL_EKS to it. */
  readonly eksEndpoint: string;
  /** The AWS identities of the lab (rotator, viewer, expiry-check, outsider) with their random credentials. */
  readonly identities: LabIdentities;
  /** Root A: the lab's own test CA, to seed the CA store with. */
  readonly rootA: CaMaterial;
  readonly clusters: readonly LabCluster[];
  readonly prober: MtlsProber;
  readonly options: ResolvedLabOptions;
  cluster(name: string): LabCluster;
  /**
   * Resolves when every workload is rolled out, every injected pod is ready and holds a certificate,
   * istiod's root set is pushed and every namespace's istio-ca-root-cert carries it.
   */
  waitForSettled(options?: { readonly timeoutMs?: number }): Promise<void>;
  snapshotCacerts(cluster: string): CacertsSnapshot;
  /** Stops every server, timer and the prober. */
  stop(): Promise<void>;
}

/** What a caller plugs into the fleet beyond its options (functions, so not in LabOptions). */
export interface LabHooks {
  /**
   * Asked before each request a cluster's Kubernetes API serves (the rehearsal's --fault): an error to
   * answer instead, a delay, or a reset connection. The lab's own components use the object store
   * directly, so only API clients (the functions, kubectl) meet the fault.
   */
  readonly kubeApiFault?: (cluster: string, request: KubeFaultRequest) => KubeRequestFault | undefined;
  /**
   * Asked for each pod a cluster's rollout controller creates (the rehearsal's --fault): true keeps it
   * unready until deleted, so its workload's rollout never completes.
   */
  readonly podHeldUnready?: (cluster: string, pod: KubeObject) => boolean;
  /** Asked for each later cacerts change a cluster's istiod sees (the rehearsal's --fault): true ignores it. */
  readonly istiodDropsUpdate?: (cluster: string) => boolean;
  /** Told when a cluster's rollout controller creates a pod, marks it ready or deletes it. */
  readonly onPodEvent?: (cluster: string, event: PodEvent) => void;
}

interface RunningCluster extends LabCluster {
  readonly api: KubeApiServer;
  readonly controller: RolloutController;
  readonly envoyAdmin: EnvoyAdminModel;
}

export async function startLab(input: LabOptions = {}, hooks: LabHooks = {}): Promise<Lab> {
  const options = resolveLabOptions(input);
  const names = labClusterNames(options.clusters, options.clusterNamePrefix);
  const identities = createLabIdentities({ clusterNames: names });
  placeInOtherAccount(identities, options, names);
  const rootA = await createRootCa({ commonName: 'meshtrust lab Root A', algorithm: options.rootAlgorithm });
  // Read once for every cluster's first intermediate.
  const rootAIssuer = await intermediateIssuer(rootA);
  const running: RunningCluster[] = [];
  let eks: EksApiServer | undefined;
  let prober: MtlsProber | undefined;

  const stop = async () => {
    await prober?.stop();
    for (const cluster of running) {
      cluster.istiod.stop();
      cluster.controller.stop();
      cluster.envoyAdmin.stop();
    }
    await Promise.allSettled([eks?.stop(), ...running.map((cluster) => cluster.api.stop())]);
  };

  try {
    const remotes = labRemoteClusters(options);
    for (const [index, name] of names.entries()) {
      const primaryName = remotes.find((remote) => remote.name === name)?.primary;
      const primary = running.find((cluster) => cluster.name === primaryName);
      running.push(await startCluster(name, index, rootA, rootAIssuer, identities, options, hooks, primary));
    }
    eks = await startEksApiServer({
      region: options.region,
      identities,
      clusters: running.map((cluster) => ({
        name: cluster.name,
        endpoint: cluster.endpoint,
        caPem: cluster.caPem,
        version: LAB_KUBERNETES_VERSION,
        arn: cluster.arn,
        accountId: accountOfArn(cluster.arn),
        region: cluster.arn.split(':')[3] ?? options.region,
        tags: { [MESH_TAG_KEY]: options.meshId },
      })),
    });
    prober = startMtlsProber({
      clusters: running.map(({ name, istiod }) => ({
        name,
        trustDomain: istiod.trustDomain,
        endpoints: () => istiod.identities(),
        identity: (pod) => istiod.identityOf(pod.namespace, pod.podName),
      })),
      intervalMs: options.proberIntervalMs,
      pairsPerRound: options.proberPairsPerRound,
    });
    const clusters: LabCluster[] = running.map(
      ({ api: _api, controller: _controller, envoyAdmin: _envoyAdmin, ...cluster }) => cluster,
    );
    const lab: Lab = {
      meshId: options.meshId,
      region: options.region,
      trustDomain: options.trustDomain,
      eksEndpoint: eks.url,
      identities,
      rootA,
      clusters,
      prober,
      options,
      cluster: (name) => {
        const found = clusters.find((cluster) => cluster.name === name);
        if (!found) throw new LabError(`the lab has no cluster ${name}; use one of ${names.join(', ')}`);
        return found;
      },
      waitForSettled: (wait = {}) => waitForSettled(clusters, wait.timeoutMs ?? options.settleTimeoutMs),
      snapshotCacerts: (name) => snapshotCacerts(lab.cluster(name)),
      stop,
    };
    await lab.waitForSettled();
    return lab;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The last `otherAccountClusters` clusters are of the lab's second account, set up there as docs/deploy.md
 * says: the roles meshtrust-<meshId>-rotator, -verifier and -expiry-check of that account, each trusting
 * the lab's own role of its kind (what the stack's cluster roles stand for in a rehearsal), are those
 * clusters' only access entries.
 */
function placeInOtherAccount(
  identities: LabIdentities,
  options: ResolvedLabOptions,
  names: readonly string[],
) {
  if (options.otherAccountClusters === 0) return;
  const kinds: [ClusterAccountRoleKind, string, string][] = [
    ['rotator', identities.rotator.principalArn, ROTATOR_GROUP],
    ['verifier', identities.verifier.principalArn, VERIFIER_GROUP],
    ['expiry-check', identities.expiryCheck.principalArn, EXPIRY_CHECK_GROUP],
  ];
  placeClustersInAccount(identities, {
    clusterNames: names.slice(names.length - options.otherAccountClusters),
    roles: kinds.map(([kind, trusted, group]) => ({
      roleArn: `arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/${clusterAccountRoleName(options.meshId, kind)}`,
      trustedBy: [trusted],
      groups: [group],
    })),
    replaces: identities.all.map((identity) => identity.principalArn),
  });
}

/** The account of a cluster ARN (arn:aws:eks:<region>:<account>:cluster/<name>). */
function accountOfArn(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/** Where the cluster at `index` is: the last otherAccountClusters in the second account, the last otherRegionClusters in the second region. */
function placeOfCluster(index: number, options: ResolvedLabOptions): { account: string; region: string } {
  const among = (last: number) => index >= options.clusters - last;
  return {
    account: among(options.otherAccountClusters) ? LAB_OTHER_ACCOUNT_ID : LAB_ACCOUNT_ID,
    region: among(options.otherRegionClusters) ? LAB_OTHER_REGION : options.region,
  };
}

async function startCluster(
  name: string,
  index: number,
  rootA: CaMaterial,
  rootAIssuer: IntermediateIssuer,
  identities: LabIdentities,
  options: ResolvedLabOptions,
  hooks: LabHooks,
  primary?: RunningCluster,
): Promise<RunningCluster> {
  const place = placeOfCluster(index, options);
  const store = new KubeObjectStore();
  // A remote has no cacerts and no istiod: its primary's istiod signs its pods (the model's caStore).
  const intermediate =
    primary?.initialIntermediate ?? (await rootAIssuer.createIntermediateCa({ cluster: name }));
  seedNamespaces(store);
  if (primary === undefined) {
    seedCacerts(
      store,
      assembleCacerts({
        intermediate,
        chainAbove: [rootA.certificatePem],
        trustedRoots: styledRootCertPem(
          TrustBundle.parse(rootA.certificatePem).toPem(),
          options.rootCertStyle,
        ),
      }),
    );
  }
  const istiod = await startIstiodModel({
    clusterName: name,
    store,
    ...(primary !== undefined && { caStore: primary.store }),
    trustDomain: options.trustDomain,
    pushDelayMs: options.pushDelayMs,
    workloadCertTtlMs: options.workloadCertTtlMs,
    renewFraction: options.renewFraction,
    renewalJitter: options.renewalJitter,
    istioVersion: options.istioVersion,
    multiRootMesh: options.multiRootMesh,
    volumeSyncDelayMs: options.volumeSyncDelayMs,
    ...(hooks.istiodDropsUpdate === undefined
      ? {}
      : { dropsCacertsUpdate: () => hooks.istiodDropsUpdate?.(name) === true }),
    pcds: options.pcds,
  });
  let controller: RolloutController | undefined;
  // Each sidecar's Envoy admin port, reached only through the API's pods/portforward.
  const envoyAdmin = startEnvoyAdminModel({ store, istiod });
  try {
    controller = startRolloutController({
      store,
      ...(primary !== undefined && { injectingIstiodStore: primary.store }),
      podStartDelayMs: options.podStartDelayMs,
      ...(hooks.podHeldUnready === undefined
        ? {}
        : { holdsPodUnready: (pod) => hooks.podHeldUnready?.(name, pod) === true }),
      ...(hooks.onPodEvent === undefined ? {} : { onPodEvent: (event) => hooks.onPodEvent?.(name, event) }),
    });
    if (primary === undefined) {
      seedIstiodDeployment(store, {
        istioVersion: options.istioVersion,
        multiRootMesh: options.multiRootMesh,
      });
    }
    seedMeshConfig(store, {
      workloadCertTtlMs: options.workloadCertTtlMs,
      renewalJitter: options.renewalJitter,
      pcds: options.pcds,
    });
    if (primary !== undefined) {
      // Istio's remote profile: the istiod Service its proxies dial, pointing at the primary.
      seedRemoteIstiodService(store, { primaryAddress: labPrimaryIstiodAddress(index) });
    }
    seedWorkloads(store, { count: options.workloadsPerCluster, clusterIndex: index });
    seedGateways(store, {
      istioVersion: options.istioVersion,
      network: name,
      workloadCertTtlMs: options.workloadCertTtlMs,
      renewalJitter: options.renewalJitter,
      pcds: options.pcds,
    });
    const api = await startKubeApiServer({
      clusterName: name,
      store,
      // A cluster of the second region accepts only tokens presigned for that region's STS, as in AWS.
      authenticate: createEksTokenAuthenticator({ clusterName: name, identities, region: place.region }),
      authorize: authorizeLabRequest,
      admit: (object) =>
        object.kind === 'Pod'
          ? admitPod(
              object,
              store.tryGet('Namespace', undefined, object.metadata.namespace as string),
              injectorInputsOf(store, primary?.store),
            )
          : object,
      // istiod's monitoring port: the pods are the rollout controller's, the answer the model's.
      podProxy: ({ namespace, pod, port, path }) => {
        const labels = store.tryGet('Pod', namespace, pod)?.metadata.labels ?? {};
        if (namespace !== ISTIO_SYSTEM_NAMESPACE || labels.app !== 'istiod') return undefined;
        if (port !== String(ISTIOD_MONITORING_PORT) || path !== '/metrics') return undefined;
        return { contentType: 'text/plain; version=0.0.4', body: istiodModelMetrics(istiod.current()) };
      },
      podPortForward: envoyAdmin.dial,
      admitConnect: admitLabConnect,
      ...(hooks.kubeApiFault === undefined
        ? {}
        : { fault: (request) => hooks.kubeApiFault?.(name, request) }),
    });
    return {
      name,
      arn: `arn:aws:eks:${place.region}:${place.account}:cluster/${name}`,
      endpoint: api.url,
      caPem: api.caPem,
      store,
      istiod,
      initialIntermediate: intermediate,
      ...(primary !== undefined && { primary: primary.name }),
      api,
      controller,
      envoyAdmin,
    };
  } catch (error) {
    controller?.stop();
    envoyAdmin.stop();
    istiod.stop();
    throw error;
  }
}

/** What keeps a cluster from being settled; empty when it is. */
export function unsettledReasons(cluster: LabCluster): string[] {
  const { store, istiod, name } = cluster;
  const reasons: string[] = [];
  const current = istiod.current();
  if (!current) return [`${name}: istiod has no CA`];
  if (istiod.pushedRootCertPem() !== current.rootCertPem) reasons.push(`${name}: root set not pushed yet`);
  const staleNamespaces = store
    .list('Namespace')
    .items.filter(
      (namespace) =>
        store.tryGet('ConfigMap', namespace.metadata.name, ROOT_CERT_CONFIGMAP_NAME)?.data?.[
          ROOT_CERT_CONFIGMAP_KEY
        ] !== current.rootCertPem,
    );
  if (staleNamespaces.length > 0) {
    reasons.push(
      `${name}: ${staleNamespaces.length} namespace(s) without the current ${ROOT_CERT_CONFIGMAP_NAME}`,
    );
  }
  const unrolled = ['Deployment', 'StatefulSet', 'DaemonSet'].flatMap((kind) =>
    store.list(kind).items.filter((workload) => !isRolledOut(workload)),
  );
  if (unrolled.length > 0) reasons.push(`${name}: ${unrolled.length} workload(s) still rolling out`);
  const injected = new Set(
    store
      .list('Namespace')
      .items.filter(
        (namespace) =>
          namespace.metadata.labels?.['istio-injection'] === 'enabled' ||
          namespace.metadata.labels?.['istio.io/rev'] !== undefined,
      )
      .map((namespace) => namespace.metadata.name),
  );
  const pods = store.list('Pod').items;
  const notReady = pods.filter((pod) => !isPodReady(pod));
  if (notReady.length > 0) reasons.push(`${name}: ${notReady.length} pod(s) not ready`);
  // Injected pods, and gateways: they run istio-proxy themselves in a namespace without injection.
  const withoutCertificate = pods.filter(
    (pod) =>
      ((injected.has(pod.metadata.namespace as string) &&
        pod.metadata.labels?.['sidecar.istio.io/inject'] !== 'false') ||
        hasSidecar(pod)) &&
      !istiod.identityOf(pod.metadata.namespace as string, pod.metadata.name),
  );
  if (withoutCertificate.length > 0) {
    reasons.push(`${name}: ${withoutCertificate.length} pod(s) without a workload certificate`);
  }
  const staleRoots = istiod.podsOnStaleRoots();
  if (staleRoots.length > 0) {
    reasons.push(`${name}: ${staleRoots.length} pod(s) not trusting istiod's current roots yet`);
  }
  return reasons;
}

async function waitForSettled(clusters: readonly LabCluster[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await Promise.all(clusters.map((cluster) => cluster.istiod.idle()));
    const reasons = clusters.flatMap(unsettledReasons);
    if (reasons.length === 0) return;
    if (Date.now() >= deadline) throw new LabNotSettledError(timeoutMs, reasons);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function snapshotCacerts(cluster: LabCluster): CacertsSnapshot {
  const secret = cluster.store.tryGet('Secret', ISTIO_SYSTEM_NAMESPACE, CACERTS_SECRET_NAME);
  return cacertsSnapshot(cluster.name, secret?.data, String(secret?.metadata.resourceVersion ?? ''));
}
