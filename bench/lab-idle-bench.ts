// The lab-idle section: the model lab at fleet size (10 clusters x 100 workloads, as the rehearsal starts
// it), left idle with its prober on for a while (10 minutes by default). Nothing rotates: every failed
// handshake would be the lab's own, e.g. a certificate it let expire because it fell behind its
// renewals (issue 14). The section reports the handshakes, the pace the fleet got (lab/lab-pace.ts),
// the lab's load (lab/lab-load.ts) and the least remaining life of any certificate seen.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { combineTimeliness } from '../lab/istio/renewal-timeliness.js';
import { limitLabHeapGrowth } from '../lab/lab-heap-growth.js';
import { type LabLoad, startLabLoadMonitor } from '../lab/lab-load.js';
import { type LabPaceSettings, labPace } from '../lab/lab-pace.js';
import { seededProxyCount } from '../lab/seed-cluster.js';
import { type Lab, startLab } from '../lab/start-lab.js';
import {
  REHEARSAL_VOLUME_SYNC_DELAY_MS,
  REHEARSAL_WORKLOAD_TTL_MS,
} from '../rehearsal/fleet/start-rehearsal-fleet.js';

export const LAB_IDLE_CLUSTERS = 10;
export const LAB_IDLE_WORKLOADS = 100;
export const LAB_IDLE_DEFAULT_SECONDS = 600;
/** How often progress is printed and the least remaining certificate life read. */
const CHECK_EVERY_MS = 10_000;
/** Failed handshakes kept in the figures (the rest are counted). */
const FAILURES_KEPT = 5;

export interface LabIdleSectionFigures {
  readonly clusters: number;
  readonly workloadsPerCluster: number;
  /** Proxies the fleet runs (pods with a sidecar, and gateways), every cluster. */
  readonly proxies: number;
  /** The lifetime the rehearsal asks the model lab for, before the pace. */
  readonly askedWorkloadCertTtlMs: number;
  readonly pace: LabPaceSettings & { readonly expectedRenewalsPerSecond: number };
  /** From startLab to a settled fleet. */
  readonly startMs: number;
  readonly idleMs: number;
  readonly handshakes: { readonly attempted: number; readonly failed: number };
  readonly rounds: number;
  readonly failures: readonly { readonly from: string; readonly to: string; readonly error: string }[];
  /** The least time to expiry of any certificate a proxy held, read every 10 s; negative: one expired. */
  readonly leastRemainingLifeMs: number;
  readonly load: LabLoad;
}

export interface LabIdleSectionOptions {
  readonly seconds: number;
  readonly progress: (line: string) => void;
  readonly signal: AbortSignal;
  /** @default LAB_IDLE_CLUSTERS */
  readonly clusters?: number;
  /** @default LAB_IDLE_WORKLOADS */
  readonly workloads?: number;
}

export async function runLabIdleSection(options: LabIdleSectionOptions): Promise<LabIdleSectionFigures> {
  const clusters = options.clusters ?? LAB_IDLE_CLUSTERS;
  const workloadsPerCluster = options.workloads ?? LAB_IDLE_WORKLOADS;
  const started = performance.now();
  options.progress(
    `lab-idle: starting a model lab of ${clusters} x ${workloadsPerCluster} as the rehearsal does`,
  );
  // The lab runs in the bench's own process here: its heap grows as a rehearsal's does.
  limitLabHeapGrowth();
  const lab = await startLab({
    clusters,
    workloadsPerCluster,
    workloadCertTtlMs: REHEARSAL_WORKLOAD_TTL_MS,
    volumeSyncDelayMs: REHEARSAL_VOLUME_SYNC_DELAY_MS,
  });
  try {
    const startMs = performance.now() - started;
    const proxies = Array.from({ length: clusters }, (_, clusterIndex) =>
      seededProxyCount({ count: workloadsPerCluster, clusterIndex }),
    ).reduce((sum, count) => sum + count, 0);
    const { options: resolved } = lab;
    const expected = labPace({
      clusters,
      proxies,
      workloadCertTtlMs: resolved.workloadCertTtlMs,
      renewFraction: resolved.renewFraction,
      renewalJitter: resolved.renewalJitter,
      proberIntervalMs: resolved.proberIntervalMs,
      proberPairsPerRound: resolved.proberPairsPerRound,
    });
    options.progress(
      `lab-idle: settled in ${(startMs / 1000).toFixed(1)} s; ${proxies} proxies, certificates of ` +
        `${resolved.workloadCertTtlMs / 1000} s, ${resolved.proberPairsPerRound} handshakes every ` +
        `${resolved.proberIntervalMs / 1000} s; idle for ${options.seconds} s`,
    );
    lab.prober.setPhase('idle');
    const before = lab.prober.stats();
    const monitor = startLabLoadMonitor({
      signed: () => lab.clusters.reduce((sum, cluster) => sum + cluster.istiod.signedCertificates(), 0),
      handshakes: () => lab.prober.stats().attempted,
      renewals: () => combineTimeliness(lab.clusters.map((cluster) => cluster.istiod.renewalTimeliness())),
    });
    const idleStarted = performance.now();
    let leastRemainingLifeMs = leastRemainingLife(lab);
    try {
      while (performance.now() - idleStarted < options.seconds * 1000) {
        const left = options.seconds * 1000 - (performance.now() - idleStarted);
        await sleep(Math.min(CHECK_EVERY_MS, left), undefined, { signal: options.signal });
        leastRemainingLifeMs = Math.min(leastRemainingLifeMs, leastRemainingLife(lab));
        const stats = lab.prober.stats();
        const load = monitor.current();
        options.progress(
          `lab-idle: ${Math.round((performance.now() - idleStarted) / 1000)}/${options.seconds} s, ` +
            `${stats.attempted - before.attempted} handshakes, ${stats.failed - before.failed} failed, ` +
            `${load.signedPerSecond.toFixed(1)} signed/s, event loop p99 ${load.eventLoopDelayMs.p99} ms, ` +
            `${load.cpuCores.toFixed(2)} cores, least certificate life left ${(leastRemainingLifeMs / 1000).toFixed(1)} s`,
        );
      }
    } finally {
      monitor.stop();
    }
    const load = monitor.stop();
    const idleMs = performance.now() - idleStarted;
    const after = lab.prober.stats();
    return {
      clusters,
      workloadsPerCluster,
      proxies,
      askedWorkloadCertTtlMs: REHEARSAL_WORKLOAD_TTL_MS,
      pace: {
        workloadCertTtlMs: resolved.workloadCertTtlMs,
        renewFraction: resolved.renewFraction,
        renewalJitter: resolved.renewalJitter,
        proberIntervalMs: resolved.proberIntervalMs,
        proberPairsPerRound: resolved.proberPairsPerRound,
        expectedRenewalsPerSecond: expected.renewalsPerSecond,
      },
      startMs,
      idleMs,
      handshakes: {
        attempted: after.attempted - before.attempted,
        failed: after.failed - before.failed,
      },
      rounds: after.rounds - before.rounds,
      failures: lab.prober
        .failures()
        .filter((failure) => failure.phase === 'idle')
        .slice(0, FAILURES_KEPT)
        .map(({ from, to, error }) => ({ from, to, error })),
      leastRemainingLifeMs,
      load,
    };
  } finally {
    await lab.stop();
  }
}

/** The least time to expiry of any certificate a proxy holds now, every cluster. */
function leastRemainingLife(lab: Lab): number {
  const now = Date.now();
  let least = Number.POSITIVE_INFINITY;
  for (const cluster of lab.clusters) {
    for (const identity of cluster.istiod.identities()) {
      least = Math.min(least, identity.expiresAt.getTime() - now);
    }
  }
  return least;
}
