// How long a scheduled rotation soaks before it retires the old root: at least the longest workload
// certificate lifetime in the fleet, so that every certificate issued before the switch (by a pod that
// could not be restarted, or renewed just before it) has expired or been renewed from the new
// intermediate. The execution's soakSeconds (the stack's soakHours) is the floor.
import { formatSeconds } from './go-values.js';
import { type ClusterIstioSettings, ISTIO_DEFAULT_CERT_TTL_SECONDS } from './istio-settings.js';

/**
 * The state machine times out 2 days after the stack's soak: a soak longer than the floor by more
 * than this could run out of time, so preflight refuses it and says which setting to raise.
 */
export const MAX_SOAK_OVER_FLOOR_SECONDS = 24 * 60 * 60;

export interface SoakPlan {
  readonly seconds: number;
  readonly reason: string;
}

export function soakPlan(floorSeconds: number, clusters: readonly ClusterIstioSettings[]): SoakPlan {
  let longest = 0;
  let which = '';
  for (const cluster of clusters) {
    const ttl = cluster.workloadCertTtlSeconds ?? ISTIO_DEFAULT_CERT_TTL_SECONDS;
    if (ttl > longest) {
      longest = ttl;
      which = cluster.cluster;
    }
  }
  if (longest <= floorSeconds) {
    return {
      seconds: floorSeconds,
      reason: `soakSeconds ${formatSeconds(floorSeconds)} covers every workload certificate lifetime`,
    };
  }
  return {
    seconds: longest,
    reason: `raised from soakSeconds ${formatSeconds(floorSeconds)} to the longest workload certificate lifetime, ${formatSeconds(longest)} in ${which}`,
  };
}

/** Why the soak cannot run within the state machine's timeout; undefined when it can. */
export function soakTooLong(floorSeconds: number, soak: SoakPlan): string | undefined {
  if (soak.seconds - floorSeconds <= MAX_SOAK_OVER_FLOOR_SECONDS) return undefined;
  return (
    `the soak must last ${formatSeconds(soak.seconds)} (${soak.reason}), more than a day beyond soakSeconds ` +
    `${formatSeconds(floorSeconds)}, which the state machine's timeout allows for; set the stack's soakHours to at ` +
    `least ${Math.ceil(soak.seconds / 3600)} and deploy again`
  );
}
