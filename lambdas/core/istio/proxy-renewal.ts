// When a running proxy renews its workload certificate, read from the mesh's proxy metadata as
// pilot-agent reads its environment. pilot-agent schedules each renewal at
//   lifetime x (1 - (SECRET_GRACE_PERIOD_RATIO + j)),  j uniform in [-jitter, +jitter],
// the ratio clamped to [0, 1] (security/pkg/nodeagent/cache/secretcache.go, rotateTime; both settings are
// float64 environment variables of pilot-agent/options, parsed with strconv.ParseFloat; a value Go
// refuses is ignored and the default applies). Pure: the Kubernetes adapter reads the mesh config.

import { parseGoFloat } from './go-values.js';

export const GRACE_RATIO_METADATA = 'SECRET_GRACE_PERIOD_RATIO';
export const GRACE_RATIO_JITTER_METADATA = 'SECRET_GRACE_PERIOD_RATIO_JITTER';
/** pilot-agent's defaults for them. */
export const DEFAULT_GRACE_RATIO = 0.5;
export const DEFAULT_GRACE_RATIO_JITTER = 0.01;

export interface ProxyRenewal {
  /**
   * The latest point of a certificate's life at which a proxy renews, as a fraction of it: with the
   * defaults 0.51. 1 when a setting is not a finite number (Go's arithmetic on NaN or Inf gives no
   * useful schedule, so the safe bound is renewal at expiry).
   */
  readonly latestFraction: number;
  /** Whether the metadata sets either ratio (the plan shows the fraction only then). */
  readonly configured: boolean;
  /** What pilot-agent ignores or cannot schedule with, for the plan's notes. */
  readonly problems: readonly string[];
}

export function proxyRenewal(metadata: Readonly<Record<string, string>>): ProxyRenewal {
  const problems: string[] = [];
  const read = (key: string, fallback: number): number => {
    const text = metadata[key];
    if (text === undefined) return fallback;
    const value = parseGoFloat(text);
    if (value === undefined) {
      problems.push(`${key} ${JSON.stringify(text)} is not a number Go parses; pilot-agent uses ${fallback}`);
      return fallback;
    }
    if (!Number.isFinite(value)) {
      problems.push(`${key} ${JSON.stringify(text)} is not finite; meshtrust assumes renewal only at expiry`);
    }
    return value;
  };
  const ratio = read(GRACE_RATIO_METADATA, DEFAULT_GRACE_RATIO);
  const jitter = read(GRACE_RATIO_JITTER_METADATA, DEFAULT_GRACE_RATIO_JITTER);
  const configured =
    metadata[GRACE_RATIO_METADATA] !== undefined || metadata[GRACE_RATIO_JITTER_METADATA] !== undefined;
  if (!Number.isFinite(ratio) || !Number.isFinite(jitter)) return { latestFraction: 1, configured, problems };
  // The smallest grace ratio the jitter can draw gives the latest renewal.
  const smallestRatio = Math.min(1, Math.max(0, ratio - Math.abs(jitter)));
  return { latestFraction: 1 - smallestRatio, configured, problems };
}
