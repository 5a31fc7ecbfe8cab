import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import { type CacertsSnapshot, readCacerts } from '../adapters/kube/cacerts-secret.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { listDisruptionBudgets } from '../adapters/kube/disruption-budgets.js';
import { findInjected, type UnmanagedPod } from '../adapters/kube/injected-workloads.js';
import { type ClusterIstioReading, readIstioSettings } from '../adapters/kube/istio-settings.js';
import { type ProxiedPodReading, readProxiedPods } from '../adapters/kube/proxied-pods.js';
import { type RemoteIstioReading, readRemoteIstio } from '../adapters/kube/remote-istiod-reach.js';
import { type RootCertConfigMap, readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import { CURRENT } from '../adapters/secrets/ca-secret-store.js';
import { type IstioSettingsReview, reviewIstioSettings } from '../core/istio/istio-settings.js';
import { proxyTrustWait } from '../core/istio/proxy-trust-wait.js';
import {
  chooseFleetStrategies,
  type FleetStrategyReview,
  type RotationStrategySetting,
} from '../core/istio/rotation-strategy.js';
import type { RotationMode } from '../core/plan/phases.js';
import { blockedNow, describeHeldWorkload } from '../core/rotation/disruption-budget.js';
import { workloadKey } from '../core/rotation/proxied-pod-owners.js';
import { type ClusterReview, reviewClusterCacerts } from '../core/rotation/review-cluster-cacerts.js';
import { describeRolloutOverBudget, rolloutsOverBudget } from '../core/rotation/rollout-width.js';
import { type RootHeadroomReview, reviewRootHeadroom } from '../core/rotation/root-headroom.js';
import { primaryOf } from '../core/topology/mesh-topology.js';
import { reviewRemoteIstiodReach } from '../core/topology/remote-istiod-reach.js';
import { type RemoteIstioSettings, reviewRemoteIstio } from '../core/topology/remote-proxy-settings.js';
import { reviewWithTopology, strategiesWithTopology } from '../core/topology/review-remotes.js';
import type { RotationConfig } from './config.js';
import type { RotationRuntime } from './runtime.js';

/** Clusters read at once: each read lists every namespace's bundle. */
const CLUSTER_CONCURRENCY = 4;

/** What was read from one cluster and what preflight's review made of it. */
export interface ClusterReading {
  readonly cluster: string;
  /** The cluster's cacerts; undefined when it has none or could not be read. */
  readonly snapshot?: CacertsSnapshot;
  /** Every namespace's istio-ca-root-cert; empty when the cluster could not be read. */
  readonly bundles: readonly RootCertConfigMap[];
  /** Its istiod Deployments and mesh configs; undefined when the cluster could not be read. */
  readonly istio?: ClusterIstioReading;
  /** Every running pod with Istio's proxy (for the rotation strategy); undefined when not read. */
  readonly proxies?: readonly ProxiedPodReading[];
  /**
   * The workloads restart-workloads would restart and the injected pods it cannot (nothing owns them
   * that a rollout restarts), or why they could not be listed; undefined when the cluster was not read.
   */
  readonly workloads?: ClusterWorkloads;
  readonly review: ClusterReview;
  /** A remote cluster (REMOTE_CLUSTERS): the primary whose istiod serves it; its istiod is not read. */
  readonly primary?: string;
  /**
   * A cluster declared a remote: its own mesh config and its reach to its primary's istiod (the
   * Service its proxies' discovery address names, and that Service's EndpointSlices).
   */
  readonly remote?: RemoteIstioReading;
}

/**
 * Reads every cluster of the fleet (cacerts, every namespace's bundle, istiod and the mesh config) and
 * reviews its cacerts as preflight does (the Istio settings are judged with the mode, by the caller:
 * lambdas/core/istio reviewIstioSettings). Shared by the preflight handler and the CLI's plan and verify, so a dry run sees what the
 * workflow sees. An unreachable cluster becomes a problem of its review, never a thrown error.
 */
export async function reviewFleet(
  runtime: RotationRuntime,
  clusters: readonly { readonly name: string }[],
  currentRoot: string,
  now: Date,
): Promise<ClusterReading[]> {
  return withTopology(await readClusters(runtime, clusters, currentRoot, now), runtime.config.remoteClusters);
}

async function readClusters(
  runtime: RotationRuntime,
  clusters: readonly { readonly name: string }[],
  currentRoot: string,
  now: Date,
): Promise<ClusterReading[]> {
  return mapWithConcurrency(clusters, CLUSTER_CONCURRENCY, async ({ name }): Promise<ClusterReading> => {
    try {
      const client = await runtime.clusterClient(name);
      const primary = primaryOf(runtime.config.remoteClusters, name);
      const [snapshot, bundles, istio, proxies, workloads] = await Promise.all([
        readCacerts(client),
        readRootCertConfigMaps(client),
        readIstioSettings(client),
        readProxiedPods(client),
        readWorkloads(client),
      ]);
      // A remote: every address its proxies dial for its primary's istiod, as their env says.
      const remote =
        primary === undefined ? undefined : await readRemoteIstio(client, { remote: name, primary }, proxies);
      const review = await reviewClusterCacerts({
        cluster: name,
        files: snapshot?.files,
        otherKeys: snapshot?.otherKeys ?? [],
        currentRoot,
        currentRootSource: currentRootSource(runtime.store.rootSecretName),
        namespaces: bundles
          .filter((bundle) => bundle.rootCertPem !== undefined)
          .map((bundle) => bundle.namespace),
        now,
        minIntermediateHeadroomDays: runtime.config.minIntermediateHeadroomDays,
      });
      return {
        cluster: name,
        ...(snapshot !== undefined && { snapshot }),
        bundles,
        istio: { cluster: name, ...istio },
        proxies,
        workloads,
        review,
        ...(remote !== undefined && { remote }),
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        cluster: name,
        bundles: [],
        review: {
          cluster: name,
          problems: [`cluster ${name} is unreachable or refused the request: ${reason}`],
        },
      };
    }
  });
}

/**
 * The declared topology applied to what was read (lambdas/core/topology/review-remotes.ts): a remote
 * stands on its primary's cacerts, and has no istiod of its own to review; a mismatch is a problem of
 * the cluster it names.
 */
function withTopology(
  readings: readonly ClusterReading[],
  remotes: RotationConfig['remoteClusters'],
): ClusterReading[] {
  const reviews = reviewWithTopology(
    remotes,
    readings.map((reading) => ({
      review: reading.review,
      ...(reading.istio !== undefined && { hasCacerts: reading.snapshot !== undefined }),
      namespaces: reading.bundles
        .filter((bundle) => bundle.rootCertPem !== undefined)
        .map((bundle) => bundle.namespace),
    })),
  );
  return readings.map(({ istio, ...reading }, index) => {
    const review = reviews[index] as ClusterReview;
    const primary = remotes.find((remote) => remote.name === reading.cluster)?.primary;
    // A remote as declared (read, without cacerts): no istiod of its own, nothing of it to review.
    return primary === undefined || istio === undefined || reading.snapshot !== undefined
      ? { ...reading, ...(istio !== undefined && { istio }), review }
      : { ...reading, review, primary };
  });
}

/** What restart-workloads would find in a cluster, or why it could not be listed. */
export type ClusterWorkloads =
  | {
      readonly restart: number;
      readonly unmanaged: readonly UnmanagedPod[];
      /**
       * Workloads to restart whose PodDisruptionBudget allows no disruption now, each with the budget
       * and its status (restart-workloads would wait for them); absent when there are none, or when the
       * budgets could not be listed (`budgetsUnreadable` says why).
       */
      readonly blockedByBudgets?: readonly string[];
      /**
       * Workloads whose own rollout takes down more pods at once than a PodDisruptionBudget covering
       * them ever allows (lambdas/core/rotation/rollout-width.ts), each described with both numbers and
       * what to change: preflight refuses them, and `meshtrust plan` lists them as problems.
       */
      readonly rolloutsOverBudget?: readonly string[];
      readonly budgetsUnreadable?: string;
    }
  | { readonly unreadable: string };

/**
 * The workloads to restart and the injected pods nothing restarts (findInjected, as restart-workloads
 * lists them). A refusal is reported, not thrown: a viewer without `list replicasets` (rbac.yaml before
 * it granted that) still gets the rest of the plan.
 */
async function readWorkloads(client: ClusterClient): Promise<ClusterWorkloads> {
  let found: Awaited<ReturnType<typeof findInjected>>;
  try {
    found = await findInjected(client);
  } catch (error) {
    return { unreadable: error instanceof Error ? error.message : String(error) };
  }
  const { workloads, unmanaged, podLabels, rolloutWidths } = found;
  try {
    const budgets = await listDisruptionBudgets(client);
    const covered = workloads.map((workload) => {
      const key = workloadKey(workload.kind, workload.namespace, workload.name);
      const width = rolloutWidths.get(key);
      return { workload, podLabels: podLabels.get(key) ?? {}, ...(width !== undefined && { width }) };
    });
    const blocked = blockedNow(covered, budgets);
    const overBudget = rolloutsOverBudget(covered, budgets);
    return {
      restart: workloads.length,
      unmanaged,
      ...(blocked.length > 0 && { blockedByBudgets: blocked.map(describeHeldWorkload) }),
      ...(overBudget.length > 0 && { rolloutsOverBudget: overBudget.map(describeRolloutOverBudget) }),
    };
  } catch (error) {
    // A viewer bound by an rbac.yaml older than the PDB rule still gets the rest of the plan.
    const budgetsUnreadable = error instanceof Error ? error.message : String(error);
    return { restart: workloads.length, unmanaged, budgetsUnreadable };
  }
}

/**
 * The Istio settings of every cluster that could be read, judged for `mode` (lambdas/core/istio): what
 * preflight refuses on and the plan records, in one place for the handler and `meshtrust plan`.
 */
export function reviewFleetIstio(
  readings: readonly ClusterReading[],
  mode: RotationMode,
): IstioSettingsReview {
  const primaries = reviewIstioSettings({
    clusters: readings.flatMap((reading) => (reading.istio === undefined ? [] : [reading.istio])),
    mode,
  });
  // A remote has no istiod: its settings are what reaches its proxies, and its reach to its primary's
  // istiod is refused on when missing (lambdas/core/topology/remote-*.ts).
  const remotes = readings.flatMap(({ cluster, primary, remote, proxies }) => {
    if (primary === undefined || remote === undefined) return [];
    const primarySettings = primaries.clusters.find((settings) => settings.cluster === primary);
    const own = reviewRemoteIstio({
      remote: cluster,
      primary,
      ...(primarySettings !== undefined && { primarySettings }),
      primaryIstiods: readings.find((reading) => reading.cluster === primary)?.istio?.istiods ?? [],
      meshConfig: remote.meshConfig,
      ...(proxies !== undefined && { proxies }),
    });
    const reaches = remote.reaches.map(reviewRemoteIstiodReach);
    const istiodReach = reaches.map((reach) => reach.reason).join('; ');
    const settings: RemoteIstioSettings = { ...own.settings, istiodReach };
    return [{ settings, findings: [...own.findings, ...reaches] }];
  });
  return {
    clusters: [...primaries.clusters, ...remotes.map(({ settings }) => settings)],
    findings: [...primaries.findings, ...remotes.flatMap(({ findings }) => findings)],
  };
}

/**
 * The rotation strategy of every cluster whose Istio was read (lambdas/core/istio/rotation-strategy.ts):
 * `resign` where the mesh allows it, `restart` otherwise, or as `setting` forces; in one place for the
 * preflight handler and `meshtrust plan`. Its refusals stop preflight like the Istio settings' do.
 */
export function reviewFleetStrategy(
  readings: readonly ClusterReading[],
  istio: IstioSettingsReview,
  mode: RotationMode,
  setting: RotationStrategySetting,
): FleetStrategyReview {
  const remotes = readings.flatMap(({ cluster, primary }) =>
    primary === undefined ? [] : [{ name: cluster, primary }],
  );
  const chosen = chooseFleetStrategies({
    clusters: istio.clusters,
    proxies: new Map(
      readings.flatMap((reading) =>
        reading.proxies === undefined ? [] : [[reading.cluster, reading.proxies]],
      ),
    ),
    mode,
    setting,
  });
  return strategiesWithTopology(chosen, remotes);
}

/** How messages name the CA store's current root. */
function currentRootSource(rootSecretName: string): string {
  return `${CURRENT} of ${rootSecretName}`;
}

export interface FleetRootInput {
  readonly readings: readonly ClusterReading[];
  readonly istio: IstioSettingsReview;
  /** FleetStrategyReview's: where istiod's push reaches every proxy. */
  readonly pushReaches: readonly string[];
  readonly mode: RotationMode;
  /** The CA store's current root. */
  readonly root: { readonly fingerprint: string; readonly notAfter: Date };
  readonly rootSecretName: string;
  /** The soak the run would have (scheduled mode). */
  readonly soakSeconds: number;
  readonly config: RotationConfig;
  readonly now: Date;
}

/**
 * Whether `mode` may start from a current root that expires soon (lambdas/core/rotation root-headroom),
 * with the waits the plan computes: in one place for the preflight handler and `meshtrust plan`.
 */
export function reviewFleetRoot(input: FleetRootInput): RootHeadroomReview {
  return reviewRootHeadroom({
    mode: input.mode,
    root: input.root,
    rootSource: currentRootSource(input.rootSecretName),
    clusters: input.readings.flatMap((reading) =>
      reading.review.trustState === undefined ? [] : [reading.cluster],
    ),
    now: input.now,
    minRootHeadroomDays: input.config.minRootHeadroomDays,
    expiryWarningDays: input.config.expiryWarningDays,
    proxyTrustWaitSeconds: proxyTrustWait(input.istio.clusters, input.pushReaches).seconds,
    soakSeconds: input.soakSeconds,
  });
}

/**
 * What preflight refuses on and `meshtrust plan` lists as problems of the clusters' workloads: a rollout
 * wider than a PodDisruptionBudget covering it ever allows, prefixed with the cluster.
 */
export function workloadProblems(readings: readonly Pick<ClusterReading, 'cluster' | 'workloads'>[]): {
  readonly cluster: string;
  readonly problem: string;
}[] {
  return readings.flatMap(({ cluster, workloads }) =>
    workloads !== undefined && 'rolloutsOverBudget' in workloads
      ? (workloads.rolloutsOverBudget ?? []).map((problem) => ({
          cluster,
          problem: `In cluster ${cluster}, ${problem}`,
        }))
      : [],
  );
}
