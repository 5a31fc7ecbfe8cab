// The model lab's own load, measured while it runs, so a reader can tell a failed handshake from a lab
// that fell behind: how late its event loop ran (timers, renewals and handshakes all wait on it), how
// many certificates its istiod models signed a second, how much CPU and memory its process used. The
// lab shares its process with whoever started it (the rehearsal's state machine runner and function
// pool, the bench), so CPU and memory are the process's: an upper bound for the lab's share. And how its
// renewals kept time: how late they came, and whether any came after the certificate had expired.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RenewalTimeliness } from './istio/renewal-timeliness.js';

/** One reading of the process and the lab's counters; counts are totals since the lab started. */
export interface LabLoadSample {
  /** Monotonic time, ms. */
  readonly atMs: number;
  /** process.cpuUsage(): user + system, µs since the process started. */
  readonly cpuMicros: number;
  /** Workload certificates signed so far, every cluster. */
  readonly signed: number;
  /** Probe handshakes attempted so far. */
  readonly handshakes: number;
  readonly rssBytes: number;
  /** V8's heap: what its objects take (live or not yet collected) and what it holds from the system. */
  readonly heapUsedBytes?: number;
  readonly heapTotalBytes?: number;
  /** Memory of C++ objects bound to JavaScript ones (Buffers, ArrayBuffers), outside V8's heap. */
  readonly externalBytes?: number;
}

/** What the process's memory was made of when its RSS peaked, MiB (process.memoryUsage()). */
export interface PeakRssParts {
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  /** RSS less V8's heap and the external memory: code, stacks, native allocations (OpenSSL, libuv). */
  readonly otherMiB: number;
}

/** The event-loop delay over the whole watch, ns, beyond the sampling timer's own interval. */
export interface EventLoopDelayNs {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LabLoad {
  /** From the first reading to the last. */
  readonly durationMs: number;
  /** Cores the process kept busy on average (CPU time over wall time). */
  readonly cpuCores: number;
  /** The busiest interval between two readings at least PEAK_INTERVAL_MIN_MS apart. */
  readonly peakCpuCores: number;
  /** Workload certificates signed a second on average: renewals, new pods, PCDS re-signs. */
  readonly signedPerSecond: number;
  readonly peakSignedPerSecond: number;
  readonly handshakesPerSecond: number;
  /** How late the event loop ran its callbacks, ms. */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly peakRssMiB: number;
  /** The peak RSS reading split by what held it (absent from figures before it existed). */
  readonly peakRssParts?: PeakRssParts;
  /** Readings the figures come from (interval figures need two). */
  readonly samples: number;
  /**
   * The shortest interval the peaks were read over (PEAK_INTERVAL_MIN_MS). Figures without it (bench
   * results from before it existed) read peaks over any interval, a few ms included: not to be shown.
   */
  readonly peakIntervalMinMs?: number;
  /** How late the istiod models' renewals came, every cluster (absent from figures before it existed). */
  readonly renewals?: RenewalTimeliness;
}

/**
 * The shortest interval a peak is read over: CPU time and counts over a few milliseconds say nothing
 * (a first run read 8.28 cores on 2 between two readings taken ms apart).
 */
export const PEAK_INTERVAL_MIN_MS = 1000;

/** The figures from the readings, oldest first (pure). */
export function summarizeLabLoad(
  samples: readonly LabLoadSample[],
  delay: EventLoopDelayNs,
  renewals?: RenewalTimeliness,
): LabLoad {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const rate = (amount: number, ms: number) => (ms > 0 ? amount / (ms / 1000) : 0);
  let peakCpuCores = 0;
  let peakSignedPerSecond = 0;
  for (let i = 1; i < samples.length; i++) {
    const ms = samples[i].atMs - samples[i - 1].atMs;
    if (ms < PEAK_INTERVAL_MIN_MS) continue;
    peakCpuCores = Math.max(peakCpuCores, rate((samples[i].cpuMicros - samples[i - 1].cpuMicros) / 1e6, ms));
    peakSignedPerSecond = Math.max(peakSignedPerSecond, rate(samples[i].signed - samples[i - 1].signed, ms));
  }
  const durationMs = first === undefined || last === undefined ? 0 : last.atMs - first.atMs;
  const span = <K extends 'cpuMicros' | 'signed' | 'handshakes'>(key: K) =>
    first === undefined || last === undefined ? 0 : last[key] - first[key];
  const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;
  const peak = samples.reduce<LabLoadSample | undefined>(
    (top, sample) => (top === undefined || sample.rssBytes > top.rssBytes ? sample : top),
    undefined,
  );
  const parts = peak === undefined ? undefined : rssParts(peak);
  return {
    durationMs,
    cpuCores: rate(span('cpuMicros') / 1e6, durationMs),
    peakCpuCores,
    signedPerSecond: rate(span('signed'), durationMs),
    peakSignedPerSecond,
    handshakesPerSecond: rate(span('handshakes'), durationMs),
    eventLoopDelayMs: { p50: ms(delay.p50), p99: ms(delay.p99), max: ms(delay.max) },
    peakRssMiB: Math.round((peak?.rssBytes ?? 0) / 2 ** 20),
    ...(parts !== undefined && { peakRssParts: parts }),
    samples: samples.length,
    peakIntervalMinMs: PEAK_INTERVAL_MIN_MS,
    ...(renewals === undefined ? {} : { renewals }),
  };
}

/** A reading's RSS split by what holds it; undefined without the heap's figures. */
function rssParts(sample: LabLoadSample): PeakRssParts | undefined {
  const { heapUsedBytes, heapTotalBytes, externalBytes } = sample;
  if (heapUsedBytes === undefined || heapTotalBytes === undefined || externalBytes === undefined) {
    return undefined;
  }
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    heapUsedMiB: mib(heapUsedBytes),
    heapTotalMiB: mib(heapTotalBytes),
    externalMiB: mib(externalBytes),
    otherMiB: mib(Math.max(0, sample.rssBytes - heapTotalBytes - externalBytes)),
  };
}

/** What perf_hooks' event-loop delay histogram gives the monitor (a fake in tests). */
export interface DelayHistogram {
  enable(): void;
  disable(): void;
  percentile(percentile: number): number;
  readonly max: number;
}

export interface LabLoadMonitorOptions {
  /** Certificates signed so far, every cluster (IstiodModel.signedCertificates, summed). */
  readonly signed: () => number;
  /** Handshakes attempted so far (the prober's stats). */
  readonly handshakes: () => number;
  /** How late the renewals came so far, every cluster (IstiodModel.renewalTimeliness, combined). */
  readonly renewals?: () => RenewalTimeliness;
  /** @default 5000 */
  readonly sampleEveryMs?: number;
  /** @default performance.now */
  readonly clock?: () => number;
  /** @default process.cpuUsage */
  readonly cpuUsage?: () => { readonly user: number; readonly system: number };
  /** @default process.memoryUsage */
  readonly memory?: () => Pick<NodeJS.MemoryUsage, 'rss' | 'heapUsed' | 'heapTotal' | 'external'>;
  /** @default monitorEventLoopDelay at delayResolutionMs */
  readonly delay?: DelayHistogram;
  /**
   * The histogram's sampling interval: perf_hooks records the time between its timer's runs, so an idle
   * loop reads this much; the figures are the delay beyond it. @default 10
   */
  readonly delayResolutionMs?: number;
  /** Takes a reading every sampleEveryMs. @default setInterval, unref'd */
  readonly every?: (ms: number, take: () => void) => () => void;
}

export interface LabLoadMonitor {
  /** The figures so far (takes a reading first). */
  current(): LabLoad;
  /** Takes a last reading, stops watching, and gives the figures. */
  stop(): LabLoad;
}

export function startLabLoadMonitor(options: LabLoadMonitorOptions): LabLoadMonitor {
  const clock = options.clock ?? (() => performance.now());
  const cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
  const memory = options.memory ?? (() => process.memoryUsage());
  const resolutionMs = options.delayResolutionMs ?? 10;
  const delay = options.delay ?? monitorEventLoopDelay({ resolution: resolutionMs });
  const beyond = (ns: number) => Math.max(0, ns - resolutionMs * 1e6);
  const every =
    options.every ??
    ((ms: number, take: () => void) => {
      const timer = setInterval(take, ms);
      timer.unref();
      return () => clearInterval(timer);
    });
  const samples: LabLoadSample[] = [];
  const read = (): LabLoadSample => {
    const cpu = cpuUsage();
    const held = memory();
    return {
      atMs: clock(),
      cpuMicros: cpu.user + cpu.system,
      signed: options.signed(),
      handshakes: options.handshakes(),
      rssBytes: held.rss,
      heapUsedBytes: held.heapUsed,
      heapTotalBytes: held.heapTotal,
      externalBytes: held.external,
    };
  };
  const take = () => {
    samples.push(read());
  };
  // A look now does not become one of the readings: the intervals stay the timer's.
  const figures = (now?: LabLoadSample) =>
    summarizeLabLoad(
      now === undefined ? samples : [...samples, now],
      {
        p50: beyond(delay.percentile(50)),
        p99: beyond(delay.percentile(99)),
        max: beyond(delay.max),
      },
      options.renewals?.(),
    );
  delay.enable();
  take();
  const stopTimer = every(options.sampleEveryMs ?? 5000, take);
  let stopped: LabLoad | undefined;
  return {
    current() {
      if (stopped !== undefined) return stopped;
      return figures(read());
    },
    stop() {
      if (stopped !== undefined) return stopped;
      stopTimer();
      take();
      stopped = figures();
      delay.disable();
      return stopped;
    },
  };
}

/** One line: `0.42 cores (peak 0.90), 38.1 certificates signed/s (peak 60.0), event loop p99 21 ms (max 120 ms), 512 MiB RSS`. */
export function describeLabLoad(load: LabLoad): string {
  const { eventLoopDelayMs: delay } = load;
  return (
    `${load.cpuCores.toFixed(2)} cores (peak ${load.peakCpuCores.toFixed(2)}), ` +
    `${load.signedPerSecond.toFixed(1)} certificates signed/s (peak ${load.peakSignedPerSecond.toFixed(1)}), ` +
    `${load.handshakesPerSecond.toFixed(1)} handshakes/s, ` +
    `event loop delay p99 ${delay.p99} ms (max ${delay.max} ms), ${load.peakRssMiB} MiB RSS at most` +
    (load.renewals === undefined ? '' : `; ${describeRenewals(load.renewals)}`)
  );
}

/** `1,200 renewals late by 14 ms on average (310 at most), 3.2 s of life left at least, 0 after expiry`. */
export function describeRenewals(renewals: RenewalTimeliness): string {
  if (renewals.renewals === 0) return 'no renewals';
  const mean = Math.round(renewals.totalLateMs / renewals.renewals);
  const margin = ((renewals.leastMarginMs ?? 0) / 1000).toFixed(1);
  return (
    `${renewals.renewals.toLocaleString('en-US')} renewals late by ${mean} ms on average ` +
    `(${Math.round(renewals.maxLateMs)} at most), ${margin} s of life left at least, ` +
    `${renewals.afterExpiry} after expiry`
  );
}
