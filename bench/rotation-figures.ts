// The rotation section's arithmetic, pure: a rehearsal's report.json and history.json in, its rotation
// time, its waits and its orchestration overhead out; and the sizes it runs at, the growth from 10 to
// 100 clusters. bench/rotation-bench.ts runs the rehearsals; bench/rotation-report.ts shows the figures.
//
// Orchestration overhead, as docs/performance.md defines it: the rotation's time (the execution from
// start to end, the scheduled soak taken out) minus the time in which at least one wait the rotation
// cannot shorten was in progress, over the rotation's time. Those waits are
// - configured waits: every Wait state of the execution but the soak (await-proxy-trust: the proxies'
//   renewal window the preflight plan asks for), from its StateEntered to its StateExited;
// - istiod load: from each cacerts write to istiod seeing it (the lab's kubelet volume sync) and, for a
//   write that changes the roots, publishing them (the lab's push delay);
// - pod start: the time in which at least one pod the lab started was not ready yet (created -> ready).
// They overlap (istiod loads while a Wait state runs), so they are merged before they are taken out:
// the rest is the handlers' own work, Step Functions' transitions, polling and retry backoffs, and the
// lab being slow on a shared machine.

import type { RenewalTimeliness } from '../lab/istio/renewal-timeliness.js';
import type { PeakRssParts } from '../lab/lab-load.js';
import { LAB_MAX_CLUSTERS, LAB_MAX_WORKLOADS } from '../lab/lab-options.js';
import type { HandshakeCounts } from '../rehearsal/rehearsal-report.js';
import type { Interval, RotationHistoryEvent } from './history-events.js';
import { overheadByState, type StateOverhead } from './overhead-by-state.js';
import type { ProcessGroup } from './process-tree-memory.js';

export const ROTATION_MODES = ['emergency', 'scheduled'] as const;
export type RotationMode = (typeof ROTATION_MODES)[number];

/**
 * The stack's per-cluster Maps: inline (the default stack) or Distributed (synthesized with
 * `-c distributedMaps=true`, one child execution per cluster; docs/workflow.md).
 */
export const ROTATION_MAPS = ['inline', 'distributed'] as const;
export type RotationMaps = (typeof ROTATION_MAPS)[number];

/** What names one rotation of the grid: its mode, size and Maps (absent: inline, as before they were kept). */
export interface RotationKey {
  readonly mode: RotationMode;
  readonly clusters: number;
  readonly workloadsPerCluster: number;
  readonly maps?: 'distributed';
}

export function mapsOf(key: Pick<RotationKey, 'maps'>): RotationMaps {
  return key.maps ?? 'inline';
}

/** `emergency 100 x 10`, with ` on Distributed Maps` for those. */
export function rotationName(key: RotationKey): string {
  return `${key.mode} ${key.clusters} x ${key.workloadsPerCluster}${key.maps === 'distributed' ? ' on Distributed Maps' : ''}`;
}

export interface RotationSize {
  readonly clusters: number;
  readonly workloads: number;
}

/** Issue 14's grid: clusters 1, 3, 10, 30 and 100 x workloads 10 and 100. */
export const ROTATION_SIZES: readonly RotationSize[] = [10, 100].flatMap((workloads) =>
  [1, 3, 10, 30, 100].map((clusters) => ({ clusters, workloads })),
);
/** --quick: one small size. */
export const QUICK_ROTATION_SIZES: readonly RotationSize[] = [{ clusters: 1, workloads: 10 }];
/** What `meshtrust rehearse` and the model lab take (lab/lab-options.ts, bin/commands/rehearse.ts). */
export const REHEARSAL_MAX_CLUSTERS = LAB_MAX_CLUSTERS;
export const REHEARSAL_MAX_WORKLOADS = LAB_MAX_WORKLOADS;

export function sizeName(size: RotationSize): string {
  return `${size.clusters}x${size.workloads}`;
}

/** `1x10,3x10` -> sizes, in the order given, each once; throws RangeError naming what is wrong. */
export function parseRotationSizes(value: string): RotationSize[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new RangeError('expected sizes as CLUSTERSxWORKLOADS, e.g. 1x10,10x100');
  const sizes: RotationSize[] = [];
  for (const name of names) {
    const match = /^(\d+)x(\d+)$/.exec(name);
    const clusters = Number(match?.[1]);
    const workloads = Number(match?.[2]);
    if (match === null || clusters < 1 || workloads < 1 || clusters > 1000 || workloads > 1000) {
      throw new RangeError(
        `expected sizes as CLUSTERSxWORKLOADS (each 1-1000), e.g. 1x10,10x100; got ${name}`,
      );
    }
    if (!sizes.some((size) => size.clusters === clusters && size.workloads === workloads)) {
      sizes.push({ clusters, workloads });
    }
  }
  return sizes;
}

/** Why a size is not run on this machine, or undefined when it is run. */
export function sizeNotRunReason(size: RotationSize): string | undefined {
  if (size.clusters > REHEARSAL_MAX_CLUSTERS) {
    return (
      `the model lab and \`meshtrust rehearse --clusters\` take at most ${REHEARSAL_MAX_CLUSTERS} clusters ` +
      '(lab/lab-options.ts)'
    );
  }
  if (size.workloads > REHEARSAL_MAX_WORKLOADS) {
    return `\`meshtrust rehearse --workloads\` takes at most ${REHEARSAL_MAX_WORKLOADS} workloads a cluster`;
  }
  return undefined;
}

/** The fields of report.json read here. */
export interface RotationReport {
  readonly result: string;
  /** The execution's error when it did not succeed. */
  readonly error?: { readonly name: string; readonly cause?: string };
  readonly totals: { readonly handshakes: HandshakeCounts };
  readonly checks: readonly { readonly name: string; readonly ok: boolean }[];
  readonly timeline: readonly {
    readonly at: string;
    readonly cluster: string;
    readonly phase: string;
    readonly roots: readonly string[];
  }[];
  readonly labLoad?: {
    readonly cpuCores: number;
    readonly peakRssMiB: number;
    readonly peakRssParts?: PeakRssParts;
    readonly eventLoopDelayMs: { readonly p99: number };
    readonly pace: { readonly workloadCertTtlMs: number };
    readonly renewals?: RenewalTimeliness;
  };
  readonly labWaits?: {
    readonly volumeSyncDelayMs: number;
    readonly pushDelayMs: number;
    readonly podStartDelayMs: number;
    readonly podStarts: readonly { readonly startedAt: string; readonly readyAt: string }[];
  };
}

export type { Interval, RotationHistoryEvent } from './history-events.js';

/** The waits of one rotation, each merged in itself, in ms; `unavoidableMs` merges them all. */
export interface RotationWaits {
  /** Wait states, the soak apart. */
  readonly configuredMs: number;
  readonly istiodLoadMs: number;
  readonly podStartMs: number;
  /** The time in which at least one of them was in progress. */
  readonly unavoidableMs: number;
}

export interface RotationTimes {
  /** The execution from ExecutionStarted to its end, soak included. */
  readonly executionMs: number;
  /** The soak Wait state's time (scheduled); 0 when there is none. */
  readonly soakMs: number;
  /** The execution without the soak. */
  readonly rotationMs: number;
  /** Undefined when the report has no lab waits (a lab in other processes). */
  readonly waits?: RotationWaits;
  /** (rotation - unavoidable) / rotation; undefined without waits. */
  readonly overhead?: number;
  /** The overhead by the state in progress, largest first (bench/overhead-by-state.ts); with waits only. */
  readonly overheadByState?: readonly StateOverhead[];
}

const SOAK_STATE = 'soak';

/** The execution's window, from its start to its last Execution* event. */
export function executionWindow(history: readonly RotationHistoryEvent[]): Interval | undefined {
  const started = history.find((event) => event.type === 'ExecutionStarted');
  const ended = history.findLast((event) => event.type.startsWith('Execution') && event !== started);
  return started === undefined || ended === undefined
    ? undefined
    : { from: started.timestamp, to: ended.timestamp };
}

/** Each Wait state's time, entered to exited (Map iterations paired by index), soak or not. */
export function waitStateIntervals(history: readonly RotationHistoryEvent[]): {
  readonly soak: Interval[];
  readonly configured: Interval[];
} {
  const open = new Map<string, number>();
  const soak: Interval[] = [];
  const configured: Interval[] = [];
  for (const event of history) {
    if (event.state?.type !== 'Wait') continue;
    const key = `${event.state.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered') open.set(key, event.timestamp);
    else if (event.type === 'StateExited' || event.type === 'StateFailed') {
      const from = open.get(key);
      open.delete(key);
      if (from === undefined) continue;
      (event.state.name === SOAK_STATE ? soak : configured).push({ from, to: event.timestamp });
    }
  }
  return { soak, configured };
}

/**
 * istiod's wait after each cacerts write of the execution: a volume sync until it sees the files, and a
 * push delay more when the write changed the roots it publishes.
 */
export function istiodLoadIntervals(
  timeline: RotationReport['timeline'],
  delays: { readonly volumeSyncDelayMs: number; readonly pushDelayMs: number },
  window: Interval,
): Interval[] {
  const rootsOf = new Map<string, string>();
  const intervals: Interval[] = [];
  for (const write of timeline) {
    const roots = write.roots.join(',');
    const before = rootsOf.get(write.cluster);
    rootsOf.set(write.cluster, roots);
    const at = Date.parse(write.at);
    if (write.phase === 'initial' || at < window.from || at > window.to) continue;
    const push = before !== undefined && before !== roots ? delays.pushDelayMs : 0;
    intervals.push({ from: at, to: at + delays.volumeSyncDelayMs + push });
  }
  return intervals;
}

/** The length of the union of `intervals`, cut to `within`, less the parts inside `excluded`. */
export function unionMs(
  intervals: readonly Interval[],
  within: Interval,
  excluded: readonly Interval[] = [],
): number {
  const merged = merge(
    intervals
      .map((interval) => ({
        from: Math.max(within.from, interval.from),
        to: Math.min(within.to, interval.to),
      }))
      .filter((interval) => interval.to > interval.from),
  );
  const cut = merge(excluded);
  let total = 0;
  for (const interval of merged) {
    let length = interval.to - interval.from;
    for (const hole of cut) {
      length -= Math.max(0, Math.min(interval.to, hole.to) - Math.max(interval.from, hole.from));
    }
    total += length;
  }
  return total;
}

function merge(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && interval.from <= last.to) last.to = Math.max(last.to, interval.to);
    else merged.push({ ...interval });
  }
  return merged;
}

/** One rehearsal's rotation time, soak apart, its waits and its overhead. */
export function rotationTimes(
  report: Pick<RotationReport, 'timeline' | 'labWaits'>,
  history: readonly RotationHistoryEvent[],
): RotationTimes {
  const window = executionWindow(history);
  if (window === undefined) throw new RangeError('history.json has no ExecutionStarted and end');
  const executionMs = window.to - window.from;
  const { soak, configured } = waitStateIntervals(history);
  const soakMs = unionMs(soak, window);
  const rotationMs = executionMs - soakMs;
  const { labWaits } = report;
  if (labWaits === undefined) return { executionMs, soakMs, rotationMs };
  const istiod = istiodLoadIntervals(report.timeline, labWaits, window);
  const pods = labWaits.podStarts.map((span) => ({
    from: Date.parse(span.startedAt),
    to: Date.parse(span.readyAt),
  }));
  const waits: RotationWaits = {
    configuredMs: unionMs(configured, window, soak),
    istiodLoadMs: unionMs(istiod, window, soak),
    podStartMs: unionMs(pods, window, soak),
    unavoidableMs: unionMs([...configured, ...istiod, ...pods], window, soak),
  };
  return {
    executionMs,
    soakMs,
    rotationMs,
    waits,
    ...(rotationMs > 0 && { overhead: (rotationMs - waits.unavoidableMs) / rotationMs }),
    overheadByState: overheadByState(history, window, [...soak, ...configured, ...istiod, ...pods]),
  };
}

/** A measured rotation, as results.json keeps it. */
export interface RotationRunFigures extends RotationTimes, RotationKey {
  /** ISO date the rehearsal started. */
  readonly measuredAt: string;
  /** The execution's result. */
  readonly result: string;
  /**
   * The execution's error when it did not succeed, `name: cause` as report.json has it (e.g. preflight's
   * PreconditionFailed refusing a fleet too large for one execution).
   */
  readonly error?: string;
  /** The rehearsal's checks that failed; empty when all passed. */
  readonly failedChecks: readonly string[];
  /** The lab's mTLS traffic over the whole rehearsal (every phase, the settle after the end included). */
  readonly handshakes: HandshakeCounts;
  /** The soak the rehearsal asked for (scheduled), seconds. */
  readonly soakSeconds?: number;
  /** The rehearsal's child process from spawn to exit: lab start, execution, checks, report. */
  readonly rehearsalMs: number;
  /**
   * The most memory its process tree held at once, summed, and its processes then; and each part's own
   * peak: the rehearsal process (the model lab, the local state machine), the function containers (one
   * node process per Lambda function, as Lambda would run them), moto_server, the rest.
   */
  readonly peakRss: {
    readonly bytes: number;
    readonly processes: number;
    readonly groups?: Readonly<Record<ProcessGroup, { readonly bytes: number; readonly processes: number }>>;
  };
  /** The workload certificate lifetime the lab ran at (lab-pace.ts stretches it for large fleets). */
  readonly workloadCertTtlMs?: number;
  /** The model lab's event-loop delay p99 over the run (it shares the rehearsal's process). */
  readonly labEventLoopP99Ms?: number;
  /**
   * The rehearsal process's memory at the highest RSS the lab read (every 5 s, so at most the bench's
   * peak), split by what held it: V8's heap, external memory, the rest (lab/lab-load.ts).
   */
  readonly labPeakRss?: PeakRssParts & { readonly rssMiB: number };
  /** How late the model lab's renewals came (lab/istio/renewal-timeliness.ts); absent before it existed. */
  readonly labRenewals?: RenewalTimeliness;
  /** How busy the machine was meanwhile: cores kept busy by the rehearsal and by other work. */
  readonly cpu?: { readonly benchCores: number; readonly otherCores: number };
  /** What whoever ran the bench said of the run (--note), e.g. what else shared the machine. */
  readonly note?: string;
}

export interface RotationNotRun extends RotationKey {
  readonly reason: string;
}

export interface GrowthRatio {
  readonly mode: RotationMode;
  /** Both rotations' Maps (absent: inline). */
  readonly maps?: 'distributed';
  readonly workloadsPerCluster: number;
  readonly fromClusters: number;
  readonly toClusters: number;
  /** rotation(to) / rotation(from); undefined when either size was not measured. */
  readonly ratio?: number;
  readonly fromMs?: number;
  readonly toMs?: number;
}

export interface RotationSectionFigures {
  readonly runs: readonly RotationRunFigures[];
  readonly notRun: readonly RotationNotRun[];
  /** 100/10 clusters, and every other 10x step the runs cover, per mode and workloads. */
  readonly growth: readonly GrowthRatio[];
}

export function sameRun(a: RotationKey, b: RotationKey): boolean {
  return (
    a.mode === b.mode &&
    a.clusters === b.clusters &&
    a.workloadsPerCluster === b.workloadsPerCluster &&
    mapsOf(a) === mapsOf(b)
  );
}

/**
 * The growth in rotation time from 10 to 100 clusters (always listed for inline Maps, measured or not;
 * for Distributed Maps once either size was), and from 1 to 10 where both were measured, per Maps, mode
 * and workloads. Only SUCCEEDED rotations count, each against one of the same Maps.
 */
export function growthRatios(runs: readonly RotationRunFigures[]): GrowthRatio[] {
  const ratios: GrowthRatio[] = [];
  const workloads = [...new Set([10, 100, ...runs.map((run) => run.workloadsPerCluster)])].sort(
    (a, b) => a - b,
  );
  for (const maps of ROTATION_MAPS) {
    const distributed = maps === 'distributed' ? ({ maps } as const) : {};
    for (const mode of ROTATION_MODES) {
      for (const workloadsPerCluster of workloads) {
        const time = (clusters: number) =>
          runs.find(
            (run) =>
              sameRun(run, { mode, clusters, workloadsPerCluster, ...distributed }) &&
              run.result === 'SUCCEEDED',
          )?.rotationMs;
        for (const [fromClusters, toClusters] of [
          [1, 10],
          [10, 100],
        ] as const) {
          const fromMs = time(fromClusters);
          const toMs = time(toClusters);
          if (fromClusters === 1 && (fromMs === undefined || toMs === undefined)) continue;
          if (fromClusters === 10 && !(workloadsPerCluster === 10 || workloadsPerCluster === 100)) continue;
          if (maps === 'distributed' && fromMs === undefined && toMs === undefined) continue;
          ratios.push({
            mode,
            ...distributed,
            workloadsPerCluster,
            fromClusters,
            toClusters,
            ...(fromMs !== undefined && { fromMs }),
            ...(toMs !== undefined && { toMs }),
            ...(fromMs !== undefined && toMs !== undefined && fromMs > 0 && { ratio: toMs / fromMs }),
          });
        }
      }
    }
  }
  return ratios;
}

/**
 * A size listed as not run because the rehearsal did not take it then, which it takes now: the reason
 * is no longer true (the page lists the size as not run yet instead).
 */
function limitLifted(entry: RotationNotRun): boolean {
  return (
    /takes? at most \d+ (clusters|workloads)/.test(entry.reason) &&
    sizeNotRunReason({ clusters: entry.clusters, workloads: entry.workloadsPerCluster }) === undefined
  );
}

/**
 * This run's figures over the previous ones: a rotation measured now replaces the same mode and size
 * measured before (or listed as not run); the others keep theirs, each with its own date, but for a
 * size not run for a limit the rehearsal no longer has.
 */
export function mergeRotationFigures(
  previous: RotationSectionFigures | undefined,
  runs: readonly RotationRunFigures[],
  notRun: readonly RotationNotRun[],
): RotationSectionFigures {
  const fresh = [...runs, ...notRun];
  const keptRuns = (previous?.runs ?? []).filter((run) => !fresh.some((entry) => sameRun(entry, run)));
  const keptNotRun = (previous?.notRun ?? []).filter(
    (entry) => !fresh.some((other) => sameRun(other, entry)) && !limitLifted(entry),
  );
  const order = (a: RotationKey, b: RotationKey) =>
    ROTATION_MAPS.indexOf(mapsOf(a)) - ROTATION_MAPS.indexOf(mapsOf(b)) ||
    ROTATION_MODES.indexOf(a.mode) - ROTATION_MODES.indexOf(b.mode) ||
    a.workloadsPerCluster - b.workloadsPerCluster ||
    a.clusters - b.clusters;
  const allRuns = [...keptRuns, ...runs].sort(order);
  return {
    runs: allRuns,
    notRun: [...keptNotRun, ...notRun].sort(order),
    growth: growthRatios(allRuns),
  };
}
