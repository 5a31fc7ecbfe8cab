// How long to wait, after istiod has taken the new root set, before any workload may get a certificate
// from the new intermediate: until every proxy holds the new root too. A running sidecar learns roots
// only from istiod: at once by a PCDS push (PROXY_CONFIG_XDS_AGENT), otherwise in the CSR response
// of its next renewal. A proxy that renewed just before istiod took the roots renews again within the
// latest renewal point of a certificate's life (proxy-renewal.ts: lifetime x 0.51 with pilot-agent's
// defaults, or as the mesh config's SECRET_GRACE_PERIOD_RATIO and its jitter say).

import { formatSeconds } from './go-values.js';
import type { ClusterIstioSettings } from './istio-settings.js';
import { ISTIO_DEFAULT_CERT_TTL_SECONDS } from './istio-settings.js';
import { proxyRenewal } from './proxy-renewal.js';

/** With pilot-agent's default grace ratio and jitter. */
const DEFAULT_LATEST_RENEWAL_FRACTION = proxyRenewal({}).latestFraction;
/**
 * With PCDS: istiod's push reaches every proxy after its debounce (PILOT_DEBOUNCE_MAX, 10 s by
 * default) and the agent's write; this covers both with room to spare.
 */
export const PCDS_PUSH_SETTLE_SECONDS = 20;
/** Without PCDS: after the last renewal is due, time for its CSR and the files to be written. */
export const RENEWAL_SLACK_SECONDS = 10;

export interface ProxyTrustWait {
  readonly seconds: number;
  /** The cluster that needs the longest, and why: shown in the plan. */
  readonly reason: string;
}

/**
 * The longest wait any cluster needs; 0 with no cluster. `pushReaches`: the clusters where the push
 * reaches every running proxy (rotation-strategy.ts, FleetStrategyReview): PCDS in the mesh config
 * alone is not enough, since a proxy injected before it was set runs without it and learns new roots
 * only at renewal.
 */
export function proxyTrustWait(
  clusters: readonly ClusterIstioSettings[],
  pushReaches: readonly string[],
): ProxyTrustWait {
  let longest: ProxyTrustWait = { seconds: 0, reason: 'no cluster' };
  for (const cluster of clusters) {
    const wait = clusterProxyTrustWait(cluster, pushReaches.includes(cluster.cluster));
    if (wait.seconds > longest.seconds) longest = wait;
  }
  return longest;
}

/**
 * One cluster's wait: the push's settle time where it reaches every proxy (`pushReachesAll`), else the
 * latest renewal point of its workload certificates plus slack. Also rollback's restore-trust's, for a
 * cluster whose proxies must learn the restored roots (application/restored-proxy-trust.ts).
 */
export function clusterProxyTrustWait(
  cluster: ClusterIstioSettings,
  pushReachesAll: boolean,
): ProxyTrustWait {
  if (cluster.pcds && pushReachesAll) {
    return {
      seconds: PCDS_PUSH_SETTLE_SECONDS,
      reason: `${cluster.cluster}: PCDS on, istiod pushes the new roots to every proxy`,
    };
  }
  const ttl = cluster.workloadCertTtlSeconds ?? ISTIO_DEFAULT_CERT_TTL_SECONDS;
  const fraction = cluster.latestRenewalFraction ?? DEFAULT_LATEST_RENEWAL_FRACTION;
  // Rounded to a millisecond first, so float noise (0.51 x 100 = 51.00000000000001) adds no second.
  const window = Math.ceil(Math.round(ttl * fraction * 1000) / 1000);
  return {
    seconds: window + RENEWAL_SLACK_SECONDS,
    reason:
      `${cluster.cluster}: ${cluster.pcds ? 'PCDS on in the mesh config but not in every running proxy (or not known to be)' : 'PCDS off'}, proxies learn new roots at renewal, within ${formatSeconds(window)} ` +
      `of a ${formatSeconds(ttl)} certificate${cluster.workloadCertTtlSeconds === undefined ? ' (TTL unknown: Istio default)' : ''}` +
      (cluster.latestRenewalFraction === undefined
        ? ''
        : ` (renewal by ${Math.round(fraction * 1000) / 10}% of its life, as the mesh config's grace ratio says)`),
  };
}
