// How long to wait, after istiod has taken the new root set, before any workload may get a certificate
// from the new intermediate: until every proxy holds the new root too. A running sidecar learns roots
// only from istiod: at once by a PCDS push (PROXY_CONFIG_XDS_AGENT), otherwise in the CSR response
// of its next renewal. pilot-agent renews at lifetime x (1 - (SECRET_GRACE_PERIOD_RATIO +- jitter))
// (security/pkg/nodeagent/cache/secretcache.go, rotateTime; defaults 0.5 and 0.01), so a proxy that
// renewed just before istiod took the roots renews again within lifetime x (1 - 0.5 + 0.01).

import { formatSeconds } from './go-values.js';
import type { ClusterIstioSettings } from './istio-settings.js';
import { ISTIO_DEFAULT_CERT_TTL_SECONDS } from './istio-settings.js';

/** pilot-agent's SECRET_GRACE_PERIOD_RATIO default. */
export const SECRET_GRACE_PERIOD_RATIO = 0.5;
/** pilot-agent's SECRET_GRACE_PERIOD_RATIO_JITTER default. */
export const SECRET_GRACE_PERIOD_RATIO_JITTER = 0.01;
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

/** The longest wait any cluster needs; 0 with no cluster. */
export function proxyTrustWait(clusters: readonly ClusterIstioSettings[]): ProxyTrustWait {
  let longest: ProxyTrustWait = { seconds: 0, reason: 'no cluster' };
  for (const cluster of clusters) {
    const wait = clusterWait(cluster);
    if (wait.seconds > longest.seconds) longest = wait;
  }
  return longest;
}

function clusterWait(cluster: ClusterIstioSettings): ProxyTrustWait {
  if (cluster.pcds) {
    return {
      seconds: PCDS_PUSH_SETTLE_SECONDS,
      reason: `${cluster.cluster}: PCDS on, istiod pushes the new roots to every proxy`,
    };
  }
  const ttl = cluster.workloadCertTtlSeconds ?? ISTIO_DEFAULT_CERT_TTL_SECONDS;
  const window = Math.ceil(ttl * (1 - SECRET_GRACE_PERIOD_RATIO + SECRET_GRACE_PERIOD_RATIO_JITTER));
  return {
    seconds: window + RENEWAL_SLACK_SECONDS,
    reason:
      `${cluster.cluster}: PCDS off, proxies learn new roots at renewal, within ${formatSeconds(window)} ` +
      `of a ${formatSeconds(ttl)} certificate${cluster.workloadCertTtlSeconds === undefined ? ' (TTL unknown: Istio default)' : ''}`,
  };
}
