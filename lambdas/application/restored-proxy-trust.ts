import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import {
  type ClusterIstioReading,
  readIstioSettings,
  readMeshConfig,
} from '../adapters/kube/istio-settings.js';
import { type ProxiedPodReading, readProxiedPods } from '../adapters/kube/proxied-pods.js';
import { type ClusterIstioSettings, reviewIstioSettings } from '../core/istio/istio-settings.js';
import { clusterProxyTrustWait, type ProxyTrustWait } from '../core/istio/proxy-trust-wait.js';
import { takesPushes } from '../core/istio/pushed-roots.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { reviewRemoteIstio } from '../core/topology/remote-proxy-settings.js';
import { awaitServedRoots } from './await-proxy-roots.js';

/**
 * The data-plane half of rollback's verify-restored-trust. After retire-root took the old root A from a
 * cluster, its running proxies trust B alone until they learn A+B again: by istiod's push where their agent has
 * PCDS, else in the CSR response of their next renewal. No workload may get a certificate of the
 * restored intermediate (chained to A) before then, or its peers there refuse it; the state
 * rollback-await-proxy-trust waits what this asks before rollback-intermediate
 * (test/integration/handlers/rollback-after-retire.test.ts fails without it).
 *
 * Every running proxy is read, not only those of a cluster restore-trust wrote to: a cluster it found
 * restored already (a retry, a resumed rollback) may still have proxies that lack A.
 */
export interface RestoredProxyTrust {
  readonly proxies: {
    /** Read and found holding every restored root. */
    readonly confirmed: number;
    /** Without PCDS and lacking a restored root: they learn it at their next renewal. */
    readonly atRenewal: number;
  };
  /** How long the run must wait before the restored intermediate signs: 0 when every proxy holds the roots. */
  readonly proxyTrustWaitSeconds: number;
  /** Why that long, when it is not 0. */
  readonly proxyTrustWaitReason?: string;
}

/**
 * Reads until every proxy with PCDS holds `restored` (root fingerprints) within `timeoutMs`, else
 * VerificationFailed (the state machine retries verify-restored-trust); reads every other proxy once, and
 * answers their renewal window when one lacks a root. `primary`: for a remote cluster, the client of
 * the primary whose istiod serves it, where the istiod settings of its window are read.
 */
export async function awaitRestoredProxyTrust(
  client: ClusterClient,
  restored: readonly string[],
  timeoutMs: number,
  primary?: ClusterClient,
): Promise<RestoredProxyTrust> {
  const cluster = client.name;
  const proxies = await readProxiedPods(client);
  const pushed = await awaitServedRoots(client, proxies.filter(takesPushes), restored, timeoutMs);
  if (!pushed.done) {
    throw new VerificationFailed(
      `${pushed.behindCount} proxies of cluster ${cluster} with PCDS do not yet hold the restored roots ` +
        `(${pushed.behind.join('; ')}); istiod may still be pushing. Run the verify-restored-trust stage again.`,
      { cluster, phase: 'rollback' },
    );
  }
  const others = await awaitServedRoots(
    client,
    proxies.filter((pod) => !takesPushes(pod)),
    restored,
    0,
  );
  const confirmed = pushed.confirmed + others.confirmed;
  if (others.done) return { proxies: { confirmed, atRenewal: 0 }, proxyTrustWaitSeconds: 0 };
  const wait = await renewalWindow(client, proxies, primary);
  return {
    proxies: { confirmed, atRenewal: others.behindCount },
    proxyTrustWaitSeconds: wait.seconds,
    proxyTrustWaitReason: `${others.behindCount} proxies lack a restored root (${others.behind.join('; ')}); ${wait.reason}`,
  };
}

/**
 * The cluster's renewal window as preflight plans await-proxy-trust; Istio's default TTL where the
 * settings it needs cannot be read.
 */
async function renewalWindow(
  client: ClusterClient,
  proxies: readonly ProxiedPodReading[],
  primary: ClusterClient | undefined,
): Promise<ProxyTrustWait> {
  const cluster = client.name;
  const settings =
    primary === undefined ? await primarySettings(client) : await remoteSettings(client, primary, proxies);
  return clusterProxyTrustWait(settings ?? { cluster, multiRoot: 'unknown', pcds: false }, false);
}

/** A primary's settings from its own istiod and mesh config; undefined when they cannot be read. */
async function primarySettings(client: ClusterClient): Promise<ClusterIstioSettings | undefined> {
  const reading = await readIstioSettings(client).catch(() => undefined);
  return reading === undefined ? undefined : reviewedSettings(client.name, reading);
}

/** One primary's settings as preflight reviews them (the mode only decides refusals, not settings). */
function reviewedSettings(
  cluster: string,
  reading: Omit<ClusterIstioReading, 'cluster'>,
): ClusterIstioSettings | undefined {
  return reviewIstioSettings({ clusters: [{ cluster, ...reading }], mode: 'scheduled' }).clusters[0];
}

/**
 * A remote's settings by the rule preflight plans its waits with (reviewRemoteIstio, as reviewFleetIstio
 * applies it): it has no istiod, so its primary's istiod and mesh config are read through the primary,
 * and its own mesh config and its running proxies' env count too (a longer TTL there lengthens the
 * window). What cannot be read counts as that rule says (an unknown TTL is Istio's default).
 */
async function remoteSettings(
  client: ClusterClient,
  primary: ClusterClient,
  proxies: readonly ProxiedPodReading[],
): Promise<ClusterIstioSettings> {
  const [primaryReading, meshConfig] = await Promise.all([
    readIstioSettings(primary).catch(() => undefined),
    readMeshConfig(client, 'default').catch(() => undefined),
  ]);
  const primaryReviewed =
    primaryReading === undefined ? undefined : reviewedSettings(primary.name, primaryReading);
  return reviewRemoteIstio({
    remote: client.name,
    primary: primary.name,
    ...(primaryReviewed !== undefined && { primarySettings: primaryReviewed }),
    primaryIstiods: primaryReading?.istiods ?? [],
    ...(meshConfig !== undefined && { meshConfig }),
    proxies,
  }).settings;
}
