// How fast the model lab's time runs, from the size of its fleet: the one rule, declared here.
//
// The model lab signs every workload certificate and makes every probe handshake itself, in one Node
// process. A fleet whose renewals or probes outrun what that process holds lets certificates expire
// on their own: 10 clusters x 100 workloads with 8 s certificates had ~1,500 proxies renewing every
// 4 s (375 signatures a second at ~5 ms of CPU each) and failed 1,783 handshakes, 172 of them before
// any write (issue 14). So the lab holds two budgets, measured on a 2-core machine (one signature,
// an ECDSA P-256 key and certificate: ~5 ms of CPU; one handshake, both sides in this process: ~7.5
// ms), each a fifth of a core or so, leaving the rest to the rotation the lab is there to watch:
//
// - Renewals: the fleet's proxies renew on average at most LAB_RENEWALS_PER_SECOND. A proxy renews
//   every TTL x renewFraction, so the lifetime is the one asked for, or longer when the fleet needs it:
//   TTL = max(asked, proxies / (LAB_RENEWALS_PER_SECOND x renewFraction)), in whole seconds. A
//   stretched lifetime also gets pilot-agent's own spread (SECRET_GRACE_PERIOD_RATIO_JITTER, written
//   into the mesh config so the rotation reads it as it would from a mesh): each renewal at
//   renewFraction +- STRETCHED_RENEWAL_JITTER of the life, so the bursts of a fleet start, a restart
//   of every pod or a PCDS push do not come back together every period. A fleet that keeps the
//   lifetime asked for but renews at more than half the budget gets the same spread: 30 x 2 (150
//   proxies) at the lab's default 8 s renews 37.5 a second in one burst every 4 s, and on a 2-core
//   machine busy with other work a burst signed late let certificates expire (issue 14).
// - Probes: a round keeps 2 handshakes per ordered cluster pair (as ever), no more than
//   LAB_HANDSHAKES_PER_SECOND, but never fewer than 1 per ordered pair (every direction is probed
//   each round) up to LAB_ROUND_MAX_HANDSHAKES (10 clusters' 100 ordered pairs); a round of more than
//   LAB_HANDSHAKES_PER_SECOND handshakes (5 clusters and up) comes at least pairs /
//   LAB_HANDSHAKES_PER_SECOND seconds after the one before. A smaller round keeps the interval asked
//   for: at the default of 1 s it is within the budget, and a test asking for faster rounds on their
//   small fleet gets them. Beyond 10 clusters a round covering every pair would be too big to be a
//   round (100 clusters: 10,000 handshakes, 250 s at the budget; the rehearsal also runs a round of
//   its own in every phase that had none, inside the execution): the round stays at
//   LAB_ROUND_MAX_HANDSHAKES every 2.5 s, each cluster in it as client and as server, and the rounds
//   take the ordered pairs in turn (mtls-prober.ts), every pair once in pairs / 100 rounds (30
//   clusters: 9 rounds, 22.5 s; 100 clusters: 100 rounds, 250 s).
// - Start: every proxy's first certificate is signed at once when the fleet starts; the lab waits for
//   them (settles) LAB_SETTLE_MS_PER_PROXY a proxy, never less than 30 s (10 x 100 signed its 1,521
//   in 22 s on a 2-core machine busy with other work).
//
// Small fleets (the tests' 1-3 clusters x 1-10 workloads, the rehearsal's default 3 x 10) are within
// both budgets at the lifetimes and intervals they ask for: they keep them, without jitter, as before.
// Everything the rule changes is what the lab's own settings say (its resolved options), so the
// rotation and the report read the lifetime the proxies really have.

/** Certificates the lab signs per second on average at most: ~0.2 core at ~5 ms each. */
export const LAB_RENEWALS_PER_SECOND = 40;
/** Probe handshakes per second at most: ~0.3 core at ~7.5 ms each. */
export const LAB_HANDSHAKES_PER_SECOND = 40;
/**
 * Handshakes a round at most, unless asked for: 10 clusters' 100 ordered pairs, the largest round the
 * lab ran before fleets went past 10 (the 10 x 100 idle: 0 of 13,700 failed, docs/performance.md).
 */
export const LAB_ROUND_MAX_HANDSHAKES = 100;
/** How long a settling fleet may take a proxy (a busy machine signs ~70 a second then). */
export const LAB_SETTLE_MS_PER_PROXY = 40;
/** The least time a fleet is given to settle. */
export const LAB_SETTLE_MIN_MS = 30_000;
/**
 * pilot-agent's SECRET_GRACE_PERIOD_RATIO_JITTER for a stretched lifetime, or a fleet renewing at more
 * than half LAB_RENEWALS_PER_SECOND (Istio's default: 0.01).
 */
export const STRETCHED_RENEWAL_JITTER = 0.1;

export interface LabPaceRequest {
  readonly clusters: number;
  /** The proxies the fleet runs (injected pods and gateways, every cluster). */
  readonly proxies: number;
  /** The lifetime asked for: the least the lab uses. */
  readonly workloadCertTtlMs: number;
  /** A certificate is renewed at this fraction of its life (pilot-agent: 1 - SECRET_GRACE_PERIOD_RATIO). */
  readonly renewFraction: number;
  /** As asked; absent: none, or STRETCHED_RENEWAL_JITTER when the lifetime is stretched. */
  readonly renewalJitter?: number;
  /** The pause between probe rounds asked for (0: rounds on demand only): the least the lab uses. */
  readonly proberIntervalMs: number;
  /** Handshakes per round as asked; absent: sized to the fleet. */
  readonly proberPairsPerRound?: number;
  /** How long to wait for the fleet to settle, as asked; absent: sized to the fleet. */
  readonly settleTimeoutMs?: number;
}

export interface LabPace {
  readonly workloadCertTtlMs: number;
  readonly renewalJitter: number;
  readonly proberIntervalMs: number;
  readonly proberPairsPerRound: number;
  readonly settleTimeoutMs: number;
  /** Certificates signed per second on average at this pace, renewals only. */
  readonly renewalsPerSecond: number;
  /** Whether the fleet needed more than the lifetime asked for. */
  readonly stretched: boolean;
}

export function labPace(request: LabPaceRequest): LabPace {
  const { clusters, proxies, renewFraction } = request;
  const renewalsAt = (ttlMs: number) => proxies / ((ttlMs / 1000) * renewFraction);
  const stretched = renewalsAt(request.workloadCertTtlMs) > LAB_RENEWALS_PER_SECOND;
  const workloadCertTtlMs = stretched
    ? Math.ceil(proxies / (LAB_RENEWALS_PER_SECOND * renewFraction)) * 1000
    : request.workloadCertTtlMs;
  // The spread stays inside the life on both sides (a renewal never at or past expiry).
  const spread = stretched || renewalsAt(workloadCertTtlMs) > LAB_RENEWALS_PER_SECOND / 2;
  const renewalJitter =
    request.renewalJitter ??
    (spread ? Math.min(STRETCHED_RENEWAL_JITTER, renewFraction / 2, (1 - renewFraction) / 2) : 0);
  const orderedPairs = clusters * clusters;
  const proberPairsPerRound =
    request.proberPairsPerRound ??
    Math.min(
      LAB_ROUND_MAX_HANDSHAKES,
      Math.max(orderedPairs, Math.min(2 * orderedPairs, LAB_HANDSHAKES_PER_SECOND)),
    );
  const proberIntervalMs =
    request.proberIntervalMs === 0 || proberPairsPerRound <= LAB_HANDSHAKES_PER_SECOND
      ? request.proberIntervalMs
      : Math.max(
          request.proberIntervalMs,
          Math.ceil((proberPairsPerRound / LAB_HANDSHAKES_PER_SECOND) * 1000),
        );
  const settleTimeoutMs =
    request.settleTimeoutMs ?? Math.max(LAB_SETTLE_MIN_MS, proxies * LAB_SETTLE_MS_PER_PROXY);
  return {
    workloadCertTtlMs,
    renewalJitter,
    proberIntervalMs,
    proberPairsPerRound,
    settleTimeoutMs,
    renewalsPerSecond: renewalsAt(workloadCertTtlMs),
    stretched,
  };
}

/** The settings the pace decides, as a lab's resolved options hold them. */
export interface LabPaceSettings {
  readonly workloadCertTtlMs: number;
  readonly renewFraction: number;
  readonly renewalJitter: number;
  readonly proberIntervalMs: number;
  readonly proberPairsPerRound: number;
}

/** One line: `certificates of 77 s renewed at 50% +- 10% of their life, 100 handshakes every 2.5 s`. */
export function describeLabPace(pace: LabPaceSettings): string {
  const percent = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`;
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  return (
    `certificates of ${seconds(pace.workloadCertTtlMs)} renewed at ${percent(pace.renewFraction)}` +
    (pace.renewalJitter === 0 ? '' : ` +- ${percent(pace.renewalJitter)}`) +
    ' of their life, ' +
    (pace.proberIntervalMs === 0
      ? `probe rounds of ${pace.proberPairsPerRound} handshakes on demand`
      : `${pace.proberPairsPerRound} handshakes every ${seconds(pace.proberIntervalMs)} (after the round before)`)
  );
}
