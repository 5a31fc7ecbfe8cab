// What the rotation section prints and what docs/performance.md says of it: the table of rotations by
// mode and size, the growth from 10 to 100 clusters, the sizes not run and why, and issue 14's targets.
import { LAB_HANDSHAKES_PER_SECOND } from '../lab/lab-pace.js';
import { historyRefusalFor, historyRefusalReason } from './history-refusal.js';
import {
  type GrowthRatio,
  ROTATION_MODES,
  ROTATION_SIZES,
  type RotationKey,
  type RotationRunFigures,
  type RotationSectionFigures,
  rotationName,
  sameRun,
  sizeName,
  sizeNotRunReason,
} from './rotation-figures.js';
import type { Table } from './text-table.js';

export const ROTATION_TARGETS = {
  /** Emergency rekey of 10 clusters x 100 workloads: rotation time at most. */
  emergencyMs: 20_000,
  emergencyClusters: 10,
  emergencyWorkloads: 100,
  /** ... with 0 failed handshakes of at least this many. */
  emergencyHandshakes: 10_000,
  /** (rotation - unavoidable waits) / rotation. */
  overhead: 0.1,
  /** rotation(100 clusters) / rotation(10 clusters). */
  growth: 10,
  /** Peak memory of a 100-cluster rehearsal. */
  peakBytes: 2 ** 30,
} as const;

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

export function rotationTable(figures: RotationSectionFigures): Table {
  return {
    columns: [
      'rotation',
      'result',
      'rotation time',
      'soak (apart)',
      'configured waits',
      'istiod load',
      'pod start',
      'overhead',
      'handshakes failed',
      'peak RSS: rehearsal',
      'functions',
      'all',
      'cert TTL',
      'other work',
    ],
    numeric: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    rows: figures.runs.map((run) => [
      `${run.mode}, ${run.clusters} x ${run.workloadsPerCluster}${run.maps === 'distributed' ? ' (Distributed Maps)' : ''}`,
      run.result + (run.failedChecks.length > 0 ? ` (checks failed: ${run.failedChecks.join(', ')})` : ''),
      seconds(run.rotationMs),
      run.soakMs > 0 ? seconds(run.soakMs) : '-',
      run.waits === undefined ? '?' : seconds(run.waits.configuredMs),
      run.waits === undefined ? '?' : seconds(run.waits.istiodLoadMs),
      run.waits === undefined ? '?' : seconds(run.waits.podStartMs),
      run.overhead === undefined ? '?' : percent(run.overhead),
      `${count(run.handshakes.failed)} of ${count(run.handshakes.attempted)}`,
      run.peakRss.groups === undefined ? '?' : mib(run.peakRss.groups.rehearsal.bytes),
      run.peakRss.groups === undefined
        ? '?'
        : `${mib(run.peakRss.groups.functions.bytes)} (${run.peakRss.groups.functions.processes} proc.)`,
      run.peakRss.bytes > 0 ? `${mib(run.peakRss.bytes)} (${run.peakRss.processes} proc.)` : '?',
      run.workloadCertTtlMs === undefined ? '?' : seconds(run.workloadCertTtlMs),
      run.cpu === undefined ? '?' : `${run.cpu.otherCores.toFixed(2)} cores`,
    ]),
  };
}

export function rotationGrowthTable(figures: RotationSectionFigures): Table {
  // A size without a time: its result when it ran and did not succeed, `refused` when preflight
  // refused it or a smaller size for the history limit (history-refusal.ts), else not run.
  const time = (growth: GrowthRatio, clusters: number, ms: number | undefined) => {
    if (ms !== undefined) return seconds(ms);
    const key = growthKey(growth, clusters);
    if (historyRefusalFor(figures.runs, key) !== undefined) return 'refused (history limit)';
    return findRun(figures, key)?.result ?? 'not run';
  };
  return {
    columns: ['growth', 'from', 'to', 'ratio'],
    numeric: [1, 2, 3],
    rows: figures.growth.map((growth) => [
      `${growth.mode}, x ${growth.workloadsPerCluster}: ${growth.toClusters}/${growth.fromClusters} clusters${growth.maps === 'distributed' ? ' (Distributed Maps)' : ''}`,
      time(growth, growth.fromClusters, growth.fromMs),
      time(growth, growth.toClusters, growth.toMs),
      growth.ratio === undefined ? 'not measured' : `${growth.ratio.toFixed(2)}x`,
    ]),
  };
}

/** The sizes listed as not run (with why), and the grid's sizes never run at all. */
export function rotationNotRunLines(figures: RotationSectionFigures): string[] {
  const measured = (key: RotationKey) =>
    [...figures.runs, ...figures.notRun].some((entry) => sameRun(entry, key));
  const byReason = new Map<string, string[]>();
  const add = (entry: RotationKey, reason: string) => {
    const list = byReason.get(reason) ?? [];
    list.push(rotationName(entry));
    byReason.set(reason, list);
  };
  for (const entry of figures.notRun) add(entry, entry.reason);
  for (const size of ROTATION_SIZES) {
    for (const mode of ROTATION_MODES) {
      const key = { mode, clusters: size.clusters, workloadsPerCluster: size.workloads };
      if (!measured(key)) {
        const refusal = historyRefusalFor(figures.runs, key);
        add(
          key,
          sizeNotRunReason(size) ??
            (refusal === undefined
              ? `not run yet (\`npm run bench -- --only rotation --rotation-sizes ${sizeName(size)}\`)`
              : historyRefusalReason(refusal)),
        );
      }
    }
  }
  return [...byReason].map(([reason, sizes]) => `${sizes.join(', ')}: ${reason}`);
}

function findRun(figures: RotationSectionFigures, key: RotationKey): RotationRunFigures | undefined {
  return figures.runs.find((run) => sameRun(run, key));
}

/** `growth`'s Maps, mode and workloads at `clusters`. */
function growthKey(growth: GrowthRatio, clusters: number): RotationKey {
  return {
    mode: growth.mode,
    clusters,
    workloadsPerCluster: growth.workloadsPerCluster,
    ...(growth.maps !== undefined && { maps: growth.maps }),
  };
}

/** The rotation of `growth`'s Maps, mode and workloads at `clusters`. */
function growthRun(
  figures: RotationSectionFigures,
  growth: GrowthRatio,
  clusters: number,
): RotationRunFigures | undefined {
  return findRun(figures, growthKey(growth, clusters));
}

/** `emergency x 10`, with ` on Distributed Maps` for those. */
function growthName(growth: GrowthRatio): string {
  return `${growth.mode} x ${growth.workloadsPerCluster}${growth.maps === 'distributed' ? ' on Distributed Maps' : ''}`;
}

/** The rehearsal process's own peak (the lab and the orchestration), or the tree's when not split. */
function rehearsalPeak(run: RotationRunFigures): number {
  return run.peakRss.groups?.rehearsal.bytes ?? run.peakRss.bytes;
}

export function rotationTargetLines(figures: RotationSectionFigures): string[] {
  const t = ROTATION_TARGETS;
  const emergency = findRun(figures, {
    mode: 'emergency',
    clusters: t.emergencyClusters,
    workloadsPerCluster: t.emergencyWorkloads,
  });
  const emergencyVerdict =
    emergency === undefined
      ? 'not run'
      : `${
          emergency.result === 'SUCCEEDED' &&
          emergency.rotationMs <= t.emergencyMs &&
          emergency.handshakes.failed === 0 &&
          emergency.handshakes.attempted >= t.emergencyHandshakes
            ? 'met'
            : 'missed'
        } (${seconds(emergency.rotationMs)}, ${count(emergency.handshakes.failed)} of ${count(emergency.handshakes.attempted)} handshakes failed)`;
  // A rotation that did not succeed (preflight's refusal: no wait at all) has no overhead to judge.
  const withOverhead = figures.runs.filter((run) => run.overhead !== undefined && run.result === 'SUCCEEDED');
  const withinOverhead = withOverhead.filter((run) => (run.overhead as number) <= t.overhead);
  const largest = [...withOverhead].sort((a, b) => (b.overhead as number) - (a.overhead as number))[0];
  const overheadVerdict =
    withOverhead.length === 0
      ? 'not measured'
      : `${withinOverhead.length === withOverhead.length ? 'met' : 'missed'} (${withinOverhead.length} of ${withOverhead.length} rotations within it` +
        (largest === undefined
          ? ')'
          : `; largest ${percent(largest.overhead as number)}, ${rotationName(largest)})`);
  const hundred = figures.growth.filter((growth) => growth.toClusters === 100);
  const growthVerdicts = hundred.map((growth) => {
    const big = growthRun(figures, growth, 100);
    const refusal = historyRefusalFor(figures.runs, growthKey(growth, 100));
    const verdict =
      refusal !== undefined
        ? `refused by preflight (Step Functions' execution history limit, ${rotationName(refusal)}, above)`
        : big !== undefined && big.result !== 'SUCCEEDED'
          ? `missed (the 100-cluster rotation ${big.result}, above)`
          : growth.ratio === undefined || big === undefined
            ? 'not run'
            : `${growth.ratio <= t.growth && rehearsalPeak(big) < t.peakBytes ? 'met' : 'missed'} (${growth.ratio.toFixed(2)}x, rehearsal process ${mib(rehearsalPeak(big))}, ${mib(big.peakRss.bytes)} in all)`;
    return `${growthName(growth)} ${verdict}`;
  });
  return [
    `target (issue 14): emergency rekey of ${t.emergencyClusters} x ${t.emergencyWorkloads} in <= ${t.emergencyMs / 1000} s of rotation with 0 failed handshakes of >= ${count(t.emergencyHandshakes)}: ${emergencyVerdict}`,
    `target (issue 14): orchestration overhead <= ${percent(t.overhead)}: ${overheadVerdict}`,
    `target (issue 14): 100 clusters <= ${t.growth}x the rotation time of 10, the rehearsal process under ${mib(t.peakBytes)}: ${growthVerdicts.join('; ') || 'not run'}`,
  ];
}

/**
 * What bounds a missed time target, from the figures (not a guess): the rotation's time split into its
 * configured waits, istiod load, pod start and the rest (overhead), largest first.
 */
export function rotationBoundLines(figures: RotationSectionFigures): string[] {
  const t = ROTATION_TARGETS;
  const emergency = findRun(figures, {
    mode: 'emergency',
    clusters: t.emergencyClusters,
    workloadsPerCluster: t.emergencyWorkloads,
  });
  const lines: string[] = [];
  if (emergency !== undefined && emergency.handshakes.attempted < t.emergencyHandshakes) {
    lines.push(handshakeBoundLine(emergency));
  }
  if (emergency !== undefined && emergency.rotationMs > t.emergencyMs && emergency.waits !== undefined) {
    const name = `emergency ${t.emergencyClusters} x ${t.emergencyWorkloads}`;
    lines.push(`${name}'s ${seconds(emergency.rotationMs)}: ${splitOf(emergency)}`);
    const states = overheadStatesOf(emergency, 8);
    if (states !== undefined) {
      const overheadMs = emergency.rotationMs - emergency.waits.unavoidableMs;
      lines.push(
        `${name}'s orchestration overhead of ${seconds(overheadMs)}, by the state in progress: ${states}`,
      );
    }
  }
  return [...lines, ...growthBoundLines(figures)];
}

/**
 * Why the emergency rotation made fewer handshakes than the target asks: they are the model lab's probes,
 * as many as its pace allows over the whole rehearsal, not a figure the rotation chooses.
 */
function handshakeBoundLine(run: RotationRunFigures): string {
  const t = ROTATION_TARGETS;
  const perSecond = run.handshakes.attempted / (run.rehearsalMs / 1000);
  return (
    `emergency ${t.emergencyClusters} x ${t.emergencyWorkloads}'s ${count(run.handshakes.attempted)} handshakes: ` +
    `the lab's probes over the rehearsal's ${seconds(run.rehearsalMs)}, lab start and checks included ` +
    `(${perSecond.toFixed(1)} a second), which lab/lab-pace.ts holds to at most ${LAB_HANDSHAKES_PER_SECOND} a second ` +
    "so that the lab's one process keeps up with its renewals (the idle fleet above); at that pace " +
    `${count(t.emergencyHandshakes)} take ${seconds((t.emergencyHandshakes / LAB_HANDSHAKES_PER_SECOND) * 1000)}, ` +
    `where this rehearsal with a rotation of ${t.emergencyMs / 1000} s would have lasted ` +
    seconds(run.rehearsalMs - run.rotationMs + t.emergencyMs)
  );
}

/**
 * For a growth from 10 to 100 clusters that missed its target: what grew, from the two rotations' own
 * splits (overhead and each wait at 10 and at 100 clusters), largest growth first; and the rehearsal
 * process's peak when it is what missed.
 */
function growthBoundLines(figures: RotationSectionFigures): string[] {
  const t = ROTATION_TARGETS;
  const lines: string[] = [];
  for (const growth of figures.growth) {
    if (growth.toClusters !== 100 || growth.ratio === undefined) continue;
    const small = growthRun(figures, growth, growth.fromClusters);
    const big = growthRun(figures, growth, growth.toClusters);
    if (small?.waits === undefined || big?.waits === undefined) continue;
    const slow = growth.ratio > t.growth;
    const heavy = rehearsalPeak(big) >= t.peakBytes;
    if (!slow && !heavy) continue;
    const parts = (
      [
        [
          'orchestration overhead',
          (run: RotationRunFigures) => run.rotationMs - (run.waits?.unavoidableMs ?? 0),
        ],
        ['configured waits', (run: RotationRunFigures) => run.waits?.configuredMs ?? 0],
        ['istiod load', (run: RotationRunFigures) => run.waits?.istiodLoadMs ?? 0],
        ['pod start', (run: RotationRunFigures) => run.waits?.podStartMs ?? 0],
      ] as const
    )
      .map(([name, of]) => ({ name, from: of(small), to: of(big) }))
      .sort((a, b) => b.to - b.from - (a.to - a.from));
    const label = `${growthName(growth)}, ${growth.toClusters}/${growth.fromClusters} clusters`;
    if (slow) {
      lines.push(
        `${label} (${growth.ratio.toFixed(2)}x, ${seconds(small.rotationMs)} -> ${seconds(big.rotationMs)}): ` +
          parts
            .map(
              (part) =>
                `${part.name} ${seconds(part.from)} -> ${seconds(part.to)}` +
                (part.from > 0 ? ` (${(part.to / part.from).toFixed(1)}x)` : ''),
            )
            .join(', '),
      );
    }
    if (heavy) {
      const peak = rehearsalPeak(big);
      lines.push(
        `${label}: the rehearsal process peaked at ${mib(peak)} (target under ${mib(t.peakBytes)})` +
          (big.labPeakRss === undefined ? '' : `; ${whatHeldThePeak(peak, big.labPeakRss)}`),
      );
    }
  }
  return lines;
}

/**
 * Below this share of the peak, the lab's highest reading (every 5 s) did not see the peak: it came
 * where the lab was not reading, as the report's key scan at a run's very end did (docs/workflow.md,
 * slice 7: 1,039 MiB against a highest reading of 800).
 */
const LAB_READING_SAW_PEAK = 0.85;

/** What held a rehearsal's peak, from its lab's highest reading, or that this reading cannot say. */
function whatHeldThePeak(
  peakBytes: number,
  held: { readonly rssMiB: number; readonly heapTotalMiB: number },
): string {
  const reading = `${held.rssMiB.toLocaleString('en-US')} MiB`;
  if (held.rssMiB * 2 ** 20 < peakBytes * LAB_READING_SAW_PEAK) {
    const below = Math.round(peakBytes / 2 ** 20 - held.rssMiB).toLocaleString('en-US');
    return (
      `its lab's highest reading (${reading}) was ${below} MiB below it: the peak came where the lab ` +
      "does not read (its start, or the run's end: checks and report), so what held it is not known " +
      'from these figures (docs/workflow.md, slice 7)'
    );
  }
  return (
    `at its lab's highest reading (${reading}) V8's heap held ${held.heapTotalMiB.toLocaleString('en-US')} MiB ` +
    `and memory outside it ${(held.rssMiB - held.heapTotalMiB).toLocaleString('en-US')} MiB ` +
    `(${heldMost(held)}; docs/workflow.md, slice 7)`
  );
}

/** Which part of a rehearsal's memory was the larger, and what that part is. */
function heldMost(held: { readonly rssMiB: number; readonly heapTotalMiB: number }): string {
  return held.heapTotalMiB >= held.rssMiB - held.heapTotalMiB
    ? "most in V8's heap: the lab's objects"
    : "most outside V8's heap: Buffers, code, malloc's arenas";
}

/** A rotation's time by what it waited on, each share of the rotation time. */
export function splitOf(run: RotationRunFigures): string {
  if (run.waits === undefined) return 'no lab waits recorded';
  const { waits } = run;
  const parts: [string, number][] = [
    ['configured waits (Wait states, soak apart)', waits.configuredMs],
    ['istiod load', waits.istiodLoadMs],
    ['pod start', waits.podStartMs],
    ['orchestration overhead', run.rotationMs - waits.unavoidableMs],
  ];
  const overlap = waits.configuredMs + waits.istiodLoadMs + waits.podStartMs - waits.unavoidableMs;
  return (
    parts
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => `${name} ${seconds(ms)} (${percent(ms / run.rotationMs)})`)
      .join(', ') + (overlap > 1 ? `; the waits overlap by ${seconds(overlap)}` : '')
  );
}

/**
 * A rotation's orchestration overhead by the state in progress (bench/overhead-by-state.ts), largest
 * first; past `limit` states, the rest as one part. Undefined for runs measured before it was kept.
 */
export function overheadStatesOf(
  run: RotationRunFigures,
  limit = Number.POSITIVE_INFINITY,
): string | undefined {
  const parts = run.overheadByState;
  if (parts === undefined || parts.length === 0) return undefined;
  const shown = parts.slice(0, limit).map((part) => `${part.state} ${seconds(part.ms)}`);
  const rest = parts.slice(limit);
  if (rest.length > 0) {
    shown.push(`${rest.length} other states ${seconds(rest.reduce((sum, part) => sum + part.ms, 0))}`);
  }
  return shown.join(', ');
}

/** Every run's split, for the page, with its overhead's largest states where it was kept. */
export function rotationSplitLines(figures: RotationSectionFigures): string[] {
  return figures.runs
    .filter((run) => run.waits !== undefined)
    .map((run) => {
      const states = overheadStatesOf(run, 4);
      return `${rotationName(run)}: ${splitOf(run)}${states === undefined ? '' : `; its overhead by the state in progress: ${states}`}`;
    });
}

/** Each rotation that did not succeed, with the execution's error. */
export function rotationFailureLines(figures: RotationSectionFigures): string[] {
  return figures.runs
    .filter((run) => run.result !== 'SUCCEEDED')
    .map(
      (run) =>
        `${rotationName(run)} ${run.result} after ${seconds(run.rotationMs)}: ` +
        (run.error ?? 'no error recorded'),
    );
}

/** The notes given with the runs (--note), each with the rotations it was given for. */
export function rotationNoteLines(figures: RotationSectionFigures): string[] {
  const byNote = new Map<string, string[]>();
  for (const run of figures.runs) {
    if (run.note === undefined) continue;
    byNote.set(run.note, [...(byNote.get(run.note) ?? []), rotationName(run)]);
  }
  return [...byNote].map(([note, runs]) => `${runs.join(', ')}: ${note}`);
}

/**
 * Runs whose model lab renewed a certificate after it had expired: the lab fell behind, so their failed
 * handshakes may be its own (docs/lab.md, "Time").
 */
export function rotationLateRenewalLines(figures: RotationSectionFigures): string[] {
  return figures.runs
    .filter((run) => (run.labRenewals?.afterExpiry ?? 0) > 0)
    .map(
      (run) =>
        `${rotationName(run)}: the lab renewed ` +
        `${run.labRenewals?.afterExpiry} of ${run.labRenewals?.renewals.toLocaleString('en-US')} certificates after ` +
        `they expired (up to ${((run.labRenewals?.maxLateMs ?? 0) / 1000).toFixed(1)} s late): the lab fell behind, ` +
        'so its failed handshakes may be its own',
    );
}

/** Each run's rehearsal process memory at the lab's highest RSS reading, by what held it. */
export function rotationMemoryLines(figures: RotationSectionFigures): string[] {
  return figures.runs.flatMap((run) => {
    const held = run.labPeakRss;
    if (held === undefined) return [];
    const m = (value: number) => `${value.toLocaleString('en-US')} MiB`;
    return [
      `${rotationName(run)}: ${m(held.rssMiB)}: V8's heap ${m(held.heapTotalMiB)} (${m(held.heapUsedMiB)} of it in objects, ` +
        `live or not yet collected), external ${m(held.externalMiB)} (Buffers, ArrayBuffers), ` +
        `the rest ${m(held.otherMiB)} (code, stacks, native allocations: OpenSSL, libuv)`,
    ];
  });
}

/** Runs made while other work kept the machine busy (a quarter of a core or more on average). */
export function rotationBusyLines(figures: RotationSectionFigures): string[] {
  const busy = figures.runs.filter((run) => run.cpu !== undefined && run.cpu.otherCores >= 0.25);
  if (busy.length === 0) return [];
  return [
    `other work ran on this machine during ${busy.length} of ${figures.runs.length} rehearsals ` +
      `(${busy.map((run) => `${rotationName(run)}: ${run.cpu?.otherCores.toFixed(2)} cores`).join(', ')}): ` +
      'those rotations are slower than on an idle machine, the lab included',
  ];
}
