// The knobs of a lab fleet, their defaults and their checks. Defaults compress time so that a full
// scheduled rotation (bundle, reissue, restarts, one TTL of soak, retire) fits well under a minute; a
// fleet too big for that compression gets the pace lab-pace.ts gives it (longer lifetimes, spread
// renewals, fewer probes a second), and the resolved options say what it got.
import { isKeyAlgorithm, KEY_ALGORITHMS, type KeyAlgorithm } from '../lambdas/core/pki/index.js';
import {
  DEFAULT_ISTIO_VERSION,
  ISTIO_VERSIONS,
  type IstioVersion,
  isIstioVersion,
} from './istio/istiod-cacerts-rules.js';
import { clusterNamePrefixProblem, LAB_CLUSTER_NAME_PREFIX, labClusterNames } from './lab-cluster-names.js';
import { LabOptionsError } from './lab-errors.js';
import { labPace } from './lab-pace.js';
// Declared apart, so that seed-cluster.ts (which lab-options.ts asks for the fleet's proxy count) does
// not import this file back.
import { ROOT_CERT_STYLES, type RootCertStyle } from './root-cert-style.js';
import { seededProxyCount } from './seed-cluster.js';

export { ROOT_CERT_STYLES, type RootCertStyle };

/**
 * How the lab's Istio is laid out: every cluster with its own istiod and cacerts (multi-primary), or
 * lab-2 a remote of lab-1 (primary-remote): no istiod and no cacerts of its own, its pods signed by
 * lab-1's istiod, which publishes istio-ca-root-cert into lab-2's namespaces.
 */
export const LAB_TOPOLOGIES = ['multi-primary', 'primary-remote'] as const;
export type LabTopology = (typeof LAB_TOPOLOGIES)[number];

/**
 * The most clusters a model lab runs: the one limit `meshtrust lab` and `meshtrust rehearse --clusters`
 * take too. 100 is issue 14's largest fleet. The model lab holds it in one process because what grows
 * with the fleet is paced (lab-pace.ts: renewals and probe handshakes a second stay within budget
 * whatever the size) and the rest is per cluster and small: an HTTPS API server on 127.0.0.1 with a
 * port the kernel picks, an istiod model, an Envoy admin model (docs/performance.md, "Rotation at
 * scale", has what it costs). The rotation's own fan-out is the state machine's Map MaxConcurrency,
 * not the fleet size.
 */
export const LAB_MAX_CLUSTERS = 100;
/** The most injected workloads per cluster a lab runs (both engines). */
export const LAB_MAX_WORKLOADS = 200;
/**
 * The most clusters the istio engine runs: each is a real kube-apiserver, controller-manager and istiod
 * and a pilot-agent per pod, on loopback addresses of its own (control-plane/lab-addresses.ts: its
 * Service range 127.(200+N).0.0/16 leaves room for 55 at most); 20 is the limit it has always had.
 */
export const ISTIO_LAB_MAX_CLUSTERS = 20;

export interface LabOptions {
  /** @default 3 */
  readonly clusters?: number;
  /** Injected workloads per cluster (Deployments, plus a StatefulSet and a DaemonSet), 1-2 replicas each. @default 10 */
  readonly workloadsPerCluster?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Value of the `meshtrust.io/mesh` tag on every lab cluster. @default 'lab' */
  readonly meshId?: string;
  /** @default 'cluster.local' */
  readonly trustDomain?: string;
  /**
   * The workload certificate lifetime asked for: the lab uses it, or a longer one when the fleet's
   * renewals would outrun the lab (lab-pace.ts). @default 8000
   */
  readonly workloadCertTtlMs?: number;
  /** @default 0.5 */
  readonly renewFraction?: number;
  /**
   * pilot-agent's SECRET_GRACE_PERIOD_RATIO_JITTER: each renewal at renewFraction +- up to this much of
   * the life, at random. @default 0, or 0.1 when the lifetime is stretched to the fleet or the fleet
   * renews more than 20 a second (lab-pace.ts)
   */
  readonly renewalJitter?: number;
  /** @default 300 */
  readonly pushDelayMs?: number;
  /** @default 200 */
  readonly podStartDelayMs?: number;
  /** From a cacerts change to istiod seeing the files (the kubelet's volume sync). @default 0 */
  readonly volumeSyncDelayMs?: number;
  /**
   * Pause between automatic probe rounds, or longer for a round bigger than the lab's probe budget
   * (lab-pace.ts); 0 = probe only on demand. @default 1000
   */
  readonly proberIntervalMs?: number;
  /**
   * Handshakes per probe round. @default 2 per ordered cluster pair (clusters^2 * 2) up to 40, and at
   * least 1 per ordered pair up to 100; beyond 10 clusters 100, the rounds taking the pairs in turn
   * (lab-pace.ts)
   */
  readonly proberPairsPerRound?: number;
  /** @default 'ecdsa-p256' */
  readonly rootAlgorithm?: KeyAlgorithm;
  /** How long startLab waits for the fleet to settle. @default 30000, or 40 ms a proxy when more (lab-pace.ts) */
  readonly settleTimeoutMs?: number;
  /**
   * The Istio minor version every istiod model behaves as: up to 1.29 a root-cert.pem change must keep
   * one file's bytes inside the other's, from 1.30 one certificate set inside the other's.
   * @default '1.29' (the stricter)
   */
  readonly istioVersion?: IstioVersion;
  /** ISTIO_MULTIROOT_MESH on every istiod; off, istiod takes no root-cert.pem change at all. @default true */
  readonly multiRootMesh?: boolean;
  /** How the seeded root-cert.pem is written (ROOT_CERT_STYLES). @default 'canonical' */
  readonly rootCertStyle?: RootCertStyle;
  /**
   * PCDS (proxy metadata PROXY_CONFIG_XDS_AGENT=true): proxies take istiod's pushed roots and re-sign at
   * once. Off, as Istio ships, a proxy learns new roots only when its certificate renews. @default false
   */
  readonly pcds?: boolean;
  /** LAB_TOPOLOGIES; primary-remote needs at least 2 clusters. @default 'multi-primary' */
  readonly topology?: LabTopology;
  /**
   * How many of the last clusters are in the lab's second account (LAB_OTHER_ACCOUNT_ID) instead of its
   * own (issue 13): the EKS API answers for them only to that account's callers, and only that account's
   * roles `meshtrust-<meshId>-rotator`, `-verifier` and `-expiry-check` have access entries in them, each
   * trusting the lab's own role of its kind (the stack's cluster roles in a rehearsal). @default 0
   */
  readonly otherAccountClusters?: number;
  /**
   * How many of the last clusters are in the lab's second region (LAB_OTHER_REGION) instead of `region`
   * (issue 13): the EKS API answers for them only to a request signed for that region, and each accepts
   * only EKS tokens presigned for that region's STS, as a cluster of another region does. With
   * otherAccountClusters, a cluster among the last of both is in the other account and region. @default 0
   */
  readonly otherRegionClusters?: number;
  /**
   * The clusters are named PREFIX1 .. PREFIXN, each a name EKS takes (lab-cluster-names.ts); a long
   * prefix gives the fleet EKS's longest names. @default 'lab-'
   */
  readonly clusterNamePrefix?: string;
}

/** The lab's second region, where `otherRegionClusters` places its last clusters. */
export const LAB_OTHER_REGION = 'eu-west-1';

export type ResolvedLabOptions = Required<LabOptions>;

export function resolveLabOptions(options: LabOptions = {}): ResolvedLabOptions {
  const clusters = options.clusters ?? 3;
  const asked: Omit<ResolvedLabOptions, 'renewalJitter' | 'proberPairsPerRound' | 'settleTimeoutMs'> &
    Pick<LabOptions, 'renewalJitter' | 'proberPairsPerRound' | 'settleTimeoutMs'> = {
    clusters,
    workloadsPerCluster: options.workloadsPerCluster ?? 10,
    region: options.region ?? 'us-east-1',
    meshId: options.meshId ?? 'lab',
    trustDomain: options.trustDomain ?? 'cluster.local',
    workloadCertTtlMs: options.workloadCertTtlMs ?? 8000,
    renewFraction: options.renewFraction ?? 0.5,
    pushDelayMs: options.pushDelayMs ?? 300,
    podStartDelayMs: options.podStartDelayMs ?? 200,
    volumeSyncDelayMs: options.volumeSyncDelayMs ?? 0,
    proberIntervalMs: options.proberIntervalMs ?? 1000,
    ...(options.renewalJitter === undefined ? {} : { renewalJitter: options.renewalJitter }),
    ...(options.proberPairsPerRound === undefined
      ? {}
      : { proberPairsPerRound: options.proberPairsPerRound }),
    rootAlgorithm: options.rootAlgorithm ?? 'ecdsa-p256',
    ...(options.settleTimeoutMs === undefined ? {} : { settleTimeoutMs: options.settleTimeoutMs }),
    istioVersion: options.istioVersion ?? DEFAULT_ISTIO_VERSION,
    multiRootMesh: options.multiRootMesh ?? true,
    rootCertStyle: options.rootCertStyle ?? 'canonical',
    pcds: options.pcds ?? false,
    topology: options.topology ?? 'multi-primary',
    otherAccountClusters: options.otherAccountClusters ?? 0,
    otherRegionClusters: options.otherRegionClusters ?? 0,
    clusterNamePrefix: options.clusterNamePrefix ?? LAB_CLUSTER_NAME_PREFIX,
  };
  const integer = (name: keyof ResolvedLabOptions, min: number, max: number) => {
    const value = asked[name];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new LabOptionsError(name, value, `an integer from ${min} to ${max}`);
    }
  };
  integer('clusters', 1, LAB_MAX_CLUSTERS);
  integer('workloadsPerCluster', 1, LAB_MAX_WORKLOADS);
  integer('otherAccountClusters', 0, clusters);
  integer('otherRegionClusters', 0, clusters);
  const namesProblem = clusterNamePrefixProblem(asked.clusterNamePrefix, clusters);
  if (namesProblem !== undefined) {
    throw new LabOptionsError(
      'clusterNamePrefix',
      asked.clusterNamePrefix,
      `a prefix EKS names take: ${namesProblem}`,
    );
  }
  integer('workloadCertTtlMs', 500, 24 * 60 * 60 * 1000);
  integer('pushDelayMs', 0, 60_000);
  integer('podStartDelayMs', 0, 60_000);
  integer('volumeSyncDelayMs', 0, 600_000);
  integer('proberIntervalMs', 0, 60_000);
  integer('proberPairsPerRound', 1, 10_000);
  integer('settleTimeoutMs', 1000, 10 * 60 * 1000);
  if (!(asked.renewFraction > 0 && asked.renewFraction < 1)) {
    throw new LabOptionsError('renewFraction', asked.renewFraction, 'a number between 0 and 1 (exclusive)');
  }
  if (
    asked.renewalJitter !== undefined &&
    !(
      asked.renewalJitter >= 0 &&
      asked.renewalJitter < asked.renewFraction &&
      asked.renewFraction + asked.renewalJitter < 1
    )
  ) {
    throw new LabOptionsError(
      'renewalJitter',
      asked.renewalJitter,
      `a number from 0 that keeps renewFraction +- renewalJitter inside 0 and 1 (renewFraction is ${asked.renewFraction})`,
    );
  }
  const pace = labPace({
    clusters,
    proxies: Array.from({ length: clusters }, (_, clusterIndex) =>
      seededProxyCount({ count: asked.workloadsPerCluster, clusterIndex }),
    ).reduce((sum, count) => sum + count, 0),
    workloadCertTtlMs: asked.workloadCertTtlMs,
    renewFraction: asked.renewFraction,
    ...(asked.renewalJitter === undefined ? {} : { renewalJitter: asked.renewalJitter }),
    proberIntervalMs: asked.proberIntervalMs,
    ...(asked.proberPairsPerRound === undefined ? {} : { proberPairsPerRound: asked.proberPairsPerRound }),
    ...(asked.settleTimeoutMs === undefined ? {} : { settleTimeoutMs: asked.settleTimeoutMs }),
  });
  const resolved: ResolvedLabOptions = {
    ...asked,
    workloadCertTtlMs: pace.workloadCertTtlMs,
    renewalJitter: pace.renewalJitter,
    proberIntervalMs: pace.proberIntervalMs,
    proberPairsPerRound: pace.proberPairsPerRound,
    settleTimeoutMs: pace.settleTimeoutMs,
  };
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(resolved.region)) {
    throw new LabOptionsError('region', resolved.region, 'an AWS region name such as us-east-1');
  }
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(resolved.meshId)) {
    throw new LabOptionsError('meshId', resolved.meshId, '1-128 letters, digits, ".", "_" or "-"');
  }
  if (!/^[a-z0-9.-]{1,253}$/.test(resolved.trustDomain)) {
    throw new LabOptionsError('trustDomain', resolved.trustDomain, 'a DNS-like name such as cluster.local');
  }
  if (!isKeyAlgorithm(resolved.rootAlgorithm)) {
    throw new LabOptionsError('rootAlgorithm', resolved.rootAlgorithm, `one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  if (!isIstioVersion(resolved.istioVersion)) {
    throw new LabOptionsError(
      'istioVersion',
      resolved.istioVersion,
      `an Istio minor version the istiod model states the rules of (${ISTIO_VERSIONS[0]} to ${ISTIO_VERSIONS[ISTIO_VERSIONS.length - 1]}, e.g. 1.29 or 1.30; no patch number)`,
    );
  }
  for (const name of ['multiRootMesh', 'pcds'] as const) {
    if (typeof resolved[name] !== 'boolean') throw new LabOptionsError(name, resolved[name], 'true or false');
  }
  if (!(LAB_TOPOLOGIES as readonly string[]).includes(resolved.topology)) {
    throw new LabOptionsError('topology', resolved.topology, `one of ${LAB_TOPOLOGIES.join(', ')}`);
  }
  if (resolved.topology === 'primary-remote' && resolved.clusters < 2) {
    throw new LabOptionsError(
      'topology',
      resolved.topology,
      'multi-primary with 1 cluster (a remote needs a primary)',
    );
  }
  if (!(ROOT_CERT_STYLES as readonly string[]).includes(resolved.rootCertStyle)) {
    throw new LabOptionsError(
      'rootCertStyle',
      resolved.rootCertStyle,
      `one of ${ROOT_CERT_STYLES.join(', ')}`,
    );
  }
  return resolved;
}

/**
 * The lab's remote clusters and the primary serving each: in primary-remote, lab-2 is a remote of lab-1
 * (what an operator declares as REMOTE_CLUSTERS=lab-2=lab-1, the stack's remoteClusters).
 */
export function labRemoteClusters(
  options: Pick<ResolvedLabOptions, 'topology' | 'clusters'> & Pick<LabOptions, 'clusterNamePrefix'>,
): { readonly name: string; readonly primary: string }[] {
  const [primary, remote] = labClusterNames(Math.min(options.clusters, 2), options.clusterNamePrefix);
  return options.topology === 'primary-remote' && primary !== undefined && remote !== undefined
    ? [{ name: remote, primary }]
    : [];
}
