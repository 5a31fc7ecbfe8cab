// Whether the lab's istiod kept up with its renewals: for each certificate renewed when its proxy asked
// (pilot-agent's rotateTime, not a PCDS re-sign or a new pod), how long after it was due the new one was
// held, and how much of the old one's life was left then. A renewal held after the old certificate's
// notAfter means the lab's own proxy served an expired certificate for a while: a failed handshake then
// is the lab's, not the rotation's. Pure: the model records, the load monitor sums.

export interface RenewalTimeliness {
  /** Renewals completed. */
  readonly renewals: number;
  /** Their lateness added up, ms (past the time each was due; signing, queue and timer delay). */
  readonly totalLateMs: number;
  readonly maxLateMs: number;
  /** The least life the old certificate had left when its renewal was held, ms; negative once expired. */
  readonly leastMarginMs: number | undefined;
  /** Renewals held after the old certificate had expired. */
  readonly afterExpiry: number;
}

export const NO_RENEWALS: RenewalTimeliness = {
  renewals: 0,
  totalLateMs: 0,
  maxLateMs: 0,
  leastMarginMs: undefined,
  afterExpiry: 0,
};

/** One renewal: when it was due, when the new certificate was held, and the old one's notAfter (epoch ms). */
export interface RenewalTiming {
  readonly dueAtMs: number;
  readonly heldAtMs: number;
  readonly oldExpiresAtMs: number;
}

export function withRenewal(so: RenewalTimeliness, timing: RenewalTiming): RenewalTimeliness {
  const late = Math.max(0, timing.heldAtMs - timing.dueAtMs);
  const margin = timing.oldExpiresAtMs - timing.heldAtMs;
  return {
    renewals: so.renewals + 1,
    totalLateMs: so.totalLateMs + late,
    maxLateMs: Math.max(so.maxLateMs, late),
    leastMarginMs: so.leastMarginMs === undefined ? margin : Math.min(so.leastMarginMs, margin),
    afterExpiry: so.afterExpiry + (margin < 0 ? 1 : 0),
  };
}

/** Several istiods' figures as one (every cluster of the lab). */
export function combineTimeliness(all: readonly RenewalTimeliness[]): RenewalTimeliness {
  const margins = all.flatMap((one) => (one.leastMarginMs === undefined ? [] : [one.leastMarginMs]));
  return {
    renewals: all.reduce((sum, one) => sum + one.renewals, 0),
    totalLateMs: all.reduce((sum, one) => sum + one.totalLateMs, 0),
    maxLateMs: Math.max(0, ...all.map((one) => one.maxLateMs)),
    leastMarginMs: margins.length === 0 ? undefined : Math.min(...margins),
    afterExpiry: all.reduce((sum, one) => sum + one.afterExpiry, 0),
  };
}
