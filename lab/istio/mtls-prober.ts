// Traffic for the lab: rounds of real mTLS handshakes between workload pods, within each cluster and
// across every pair of clusters, each side using the certificate and trust bundle its pod holds at that
// moment. Every attempt and failure is counted under the current phase label, so a rotation step that
// would break traffic in a real mesh shows up here as failures naming the pair.
import { type HandshakeSide, mtlsHandshake, type TlsIdentity } from './mtls-handshake.js';

/**
 * How long a handshake may take before it counts as failed: Envoy's connect timeout as Istio sets it
 * by default (MeshConfig connectTimeout, 10 s). A handshake the lab's own load delays but that ends
 * within it would have gone through in a mesh too; one that cannot succeed fails at once anyway.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** A workload pod the prober may pick; `uid` lets an engine find the pod's files. */
export interface ProbeEndpoint {
  readonly namespace: string;
  readonly podName: string;
  readonly uid?: string;
}

/** One cluster as the prober sees it, whichever engine runs it. */
export interface ProbedCluster {
  readonly name: string;
  readonly trustDomain: string;
  /** The workloads that can be probed now (ready, not terminating). */
  endpoints(): readonly ProbeEndpoint[] | Promise<readonly ProbeEndpoint[]>;
  /** What the pod's proxy holds at this moment; undefined when the pod is gone. */
  identity(endpoint: ProbeEndpoint): TlsIdentity | undefined | Promise<TlsIdentity | undefined>;
}

export interface MtlsProberOptions {
  readonly clusters: readonly ProbedCluster[];
  /** Time between the end of one automatic round and the start of the next; 0 = on demand only. */
  readonly intervalMs: number;
  /**
   * Handshakes per round, spread evenly over every ordered (client cluster, server cluster) pair; fewer
   * than the pairs, the rounds take the pairs in turn.
   */
  readonly pairsPerRound: number;
  /** @default Math.random */
  readonly rng?: () => number;
  /** Per handshake. @default HANDSHAKE_TIMEOUT_MS */
  readonly handshakeTimeoutMs?: number;
  /** A round starts no new handshake after this long. @default 15000 */
  readonly roundTimeoutMs?: number;
  /** Handshakes in flight at once. @default 4 */
  readonly concurrency?: number;
  /** @default 'initial' */
  readonly phase?: string;
}

/** Where one end of a handshake ran: cluster/namespace/pod. */
export type WorkloadAddress = string;

export interface HandshakeFailure {
  readonly at: Date;
  readonly phase: string;
  readonly from: WorkloadAddress;
  readonly to: WorkloadAddress;
  /** The TLS error (code and message) of the side that refused. */
  readonly error: string;
  /** Which side refused: the client (verifying the server) or the server (verifying the client). */
  readonly side: HandshakeSide;
}

export interface ProbeCounts {
  readonly attempted: number;
  readonly failed: number;
}

export interface ProberStats extends ProbeCounts {
  readonly rounds: number;
  readonly byPhase: Readonly<Record<string, ProbeCounts>>;
  /** Counts per `<client cluster> -> <server cluster>`. */
  readonly byClusterPair: Readonly<Record<string, ProbeCounts>>;
}

export interface RoundResult extends ProbeCounts {
  readonly phase: string;
  readonly failures: readonly HandshakeFailure[];
}

export interface MtlsProber {
  setPhase(label: string): void;
  readonly phase: string;
  runRound(): Promise<RoundResult>;
  stats(): ProberStats;
  /** Failures so far, oldest first (at most the last 10 000). */
  failures(): readonly HandshakeFailure[];
  stop(): Promise<void>;
}

const MAX_FAILURES_KEPT = 10_000;

export function startMtlsProber(options: MtlsProberOptions): MtlsProber {
  const prober = new Prober(options);
  prober.start();
  return prober;
}

interface Endpoint {
  readonly cluster: ProbedCluster;
  readonly pod: ProbeEndpoint;
}

class Prober implements MtlsProber {
  phase: string;
  private readonly rng: () => number;
  private readonly handshakeTimeoutMs: number;
  private readonly concurrency: number;
  private readonly phaseCounts = new Map<string, { attempted: number; failed: number }>();
  private readonly pairCounts = new Map<string, { attempted: number; failed: number }>();
  private readonly failed: HandshakeFailure[] = [];
  private rounds = 0;
  /** Where the next round starts in the list of ordered cluster pairs; the first round picks at random. */
  private nextPair: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: MtlsProberOptions) {
    if (options.clusters.length === 0) throw new RangeError('the mTLS prober needs at least one cluster');
    if (!(options.pairsPerRound >= 1)) {
      throw new RangeError(`pairsPerRound must be >= 1, got ${options.pairsPerRound}`);
    }
    this.phase = options.phase ?? 'initial';
    this.rng = options.rng ?? Math.random;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  start(): void {
    if (this.options.intervalMs > 0) this.scheduleNext();
  }

  setPhase(label: string): void {
    this.phase = label;
  }

  async runRound(): Promise<RoundResult> {
    const round = this.round();
    this.inFlight.add(round);
    try {
      return await round;
    } finally {
      this.inFlight.delete(round);
    }
  }

  stats(): ProberStats {
    const sum = (map: Map<string, ProbeCounts>) =>
      Object.fromEntries([...map.entries()].map(([key, counts]) => [key, { ...counts }]));
    const byPhase = sum(this.phaseCounts);
    const totals = Object.values(byPhase).reduce(
      (total, counts) => ({
        attempted: total.attempted + counts.attempted,
        failed: total.failed + counts.failed,
      }),
      { attempted: 0, failed: 0 },
    );
    return { ...totals, rounds: this.rounds, byPhase, byClusterPair: sum(this.pairCounts) };
  }

  failures(): readonly HandshakeFailure[] {
    return [...this.failed];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runRound()
        .catch((error: unknown) => console.error('lab mTLS prober: a round failed', error))
        .finally(() => this.scheduleNext());
    }, this.options.intervalMs);
  }

  private async round(): Promise<RoundResult> {
    const phase = this.phase;
    const pairs = await this.choosePairs();
    const failures: HandshakeFailure[] = [];
    let attempted = 0;
    let next = 0;
    const deadline = Date.now() + (this.options.roundTimeoutMs ?? 15_000);
    const worker = async () => {
      while (next < pairs.length && !this.stopped && Date.now() < deadline) {
        const [from, to] = pairs[next++];
        // Identities are read at the moment of the handshake: a pod that left meanwhile is skipped.
        const [client, server] = await Promise.all([identityOf(from), identityOf(to)]);
        if (!client || !server) continue;
        attempted += 1;
        const outcome = await mtlsHandshake(client, server, {
          trustDomain: to.cluster.trustDomain,
          timeoutMs: this.handshakeTimeoutMs,
        });
        const failure = outcome.ok
          ? undefined
          : {
              at: new Date(),
              phase,
              from: addressOf(from),
              to: addressOf(to),
              error: outcome.error,
              side: outcome.side,
            };
        this.count(phase, `${from.cluster.name} -> ${to.cluster.name}`, failure);
        if (failure) failures.push(failure);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, pairs.length) }, worker));
    this.rounds += 1;
    return { phase, attempted, failed: failures.length, failures };
  }

  private count(phase: string, pair: string, failure: HandshakeFailure | undefined): void {
    for (const [map, key] of [
      [this.phaseCounts, phase],
      [this.pairCounts, pair],
    ] as const) {
      const counts = map.get(key) ?? { attempted: 0, failed: 0 };
      counts.attempted += 1;
      if (failure) counts.failed += 1;
      map.set(key, counts);
    }
    if (failure) {
      this.failed.push(failure);
      if (this.failed.length > MAX_FAILURES_KEPT) this.failed.shift();
    }
  }

  // Every ordered cluster pair (same cluster included) gets its share, so each round covers
  // intra-cluster traffic and both directions between any two clusters; a round smaller than the pairs
  // takes them in turn (roundClusterPairs), going on where the round before stopped.
  private async choosePairs(): Promise<[Endpoint, Endpoint][]> {
    const endpoints = await Promise.all(
      this.options.clusters.map(async (cluster) =>
        (await cluster.endpoints()).map((pod): Endpoint => ({ cluster, pod })),
      ),
    );
    const live = endpoints.flatMap((pods, index) => (pods.length > 0 ? [index] : []));
    if (live.length === 0) return [];
    const orderedPairs = live.length * live.length;
    const offset = this.nextPair ?? Math.floor(this.rng() * orderedPairs);
    this.nextPair = (offset + this.options.pairsPerRound) % orderedPairs;
    const clusterPairs = roundClusterPairs(live.length, offset, this.options.pairsPerRound).map(
      ([from, to]) => [live[from], live[to]] as const,
    );
    const pairs: [Endpoint, Endpoint][] = [];
    for (const [from, to] of clusterPairs) {
      const client = this.pick(endpoints[from]);
      let server = this.pick(endpoints[to]);
      // A pod does not talk to itself when there is someone else to talk to.
      for (let tries = 0; server === client && endpoints[to].length > 1 && tries < 5; tries++) {
        server = this.pick(endpoints[to]);
      }
      pairs.push([client, server]);
    }
    return pairs;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.min(items.length - 1, Math.floor(this.rng() * items.length))];
  }
}

/**
 * The (client, server) cluster indexes of one round of `size` handshakes over `clusters` clusters,
 * starting at `offset` in the list of every ordered pair (same cluster included), wrapping around. The
 * list goes diagonal by diagonal, (c, c) for every c, then (c, c+1), (c, c+2), ..., so that any
 * `clusters` consecutive pairs have each cluster once as client and all but at most one as server: a
 * round smaller than the pairs (a large fleet, lab-pace.ts) still probes (nearly) every cluster both
 * ways, and rounds that go on where the one before stopped take every ordered pair in turn.
 */
export function roundClusterPairs(clusters: number, offset: number, size: number): [number, number][] {
  const orderedPairs = clusters * clusters;
  return Array.from({ length: size }, (_, i) => {
    const index = (offset + i) % orderedPairs;
    const from = index % clusters;
    const shift = Math.floor(index / clusters);
    return [from, (from + shift) % clusters];
  });
}

async function identityOf(endpoint: Endpoint): Promise<TlsIdentity | undefined> {
  return endpoint.cluster.identity(endpoint.pod);
}

function addressOf(endpoint: Endpoint): WorkloadAddress {
  return `${endpoint.cluster.name}/${endpoint.pod.namespace}/${endpoint.pod.podName}`;
}
