// The rotation section: model-engine rehearsals of emergency and scheduled rotations at each size
// (clusters x workloads per cluster), each in its own child process (`meshtrust rehearse`) so that its
// peak memory is its own process tree's. The rotation time, the soak apart, its waits and its overhead
// come from the rehearsal's report.json and history.json (rotation-figures.ts), not from the child's
// wall time, which holds the lab's start and the checks after the end.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ensureCloudAssembly } from '../rehearsal/cloud-assembly.js';
import { watchCpuShare } from './cpu-share.js';
import { historyRefusalFor, historyRefusalReason } from './history-refusal.js';
import { mapsAssemblyOptions } from './maps-assembly.js';
import { type TreeMemoryWatch, watchTreeMemory } from './process-tree-memory.js';
import { rehearseArgs } from './rehearse-args.js';
import {
  mergeRotationFigures,
  ROTATION_MODES,
  type RotationHistoryEvent,
  type RotationMaps,
  type RotationMode,
  type RotationNotRun,
  type RotationReport,
  type RotationRunFigures,
  type RotationSectionFigures,
  type RotationSize,
  rotationName,
  rotationTimes,
  sizeName,
  sizeNotRunReason,
} from './rotation-figures.js';

export interface RotationSectionOptions {
  readonly projectRoot: string;
  readonly workDirectory: string;
  readonly sizes: readonly RotationSize[];
  /** @default ROTATION_MODES */
  readonly modes?: readonly RotationMode[];
  /**
   * The stack's per-cluster Maps: `distributed` rehearses an assembly synthesized with
   * `-c distributedMaps=true` (maps-assembly.ts).
   * @default 'inline'
   */
  readonly maps?: RotationMaps;
  /** Kept with each rotation measured now (--note). */
  readonly note?: string;
  /** The figures results.json holds: sizes not run now keep theirs. */
  readonly previous?: RotationSectionFigures;
  readonly progress: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** Lines of the child's stderr kept for an error message. */
const STDERR_KEPT = 15;

export async function runRotationSection(options: RotationSectionOptions): Promise<RotationSectionFigures> {
  const modes = options.modes ?? ROTATION_MODES;
  const distributed = options.maps === 'distributed' ? ({ maps: 'distributed' } as const) : {};
  const runs: RotationRunFigures[] = [];
  const notRun: RotationNotRun[] = [];
  const toRun = options.sizes.filter((size) => sizeNotRunReason(size) === undefined);
  for (const size of options.sizes) {
    const reason = sizeNotRunReason(size);
    if (reason === undefined) continue;
    options.progress(`rotation: ${sizeName(size)} not run: ${reason}`);
    for (const mode of modes) {
      notRun.push({
        mode,
        clusters: size.clusters,
        workloadsPerCluster: size.workloads,
        ...distributed,
        reason,
      });
    }
  }
  if (toRun.length > 0) {
    const assembly = await ensureCloudAssembly({
      projectRoot: options.projectRoot,
      ...mapsAssemblyOptions(options.projectRoot, options.maps ?? 'inline'),
      onProgress: (line) => options.progress(`rotation: ${line}`),
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    let done = 0;
    for (const size of toRun) {
      for (const mode of modes) {
        done += 1;
        const key = { mode, clusters: size.clusters, workloadsPerCluster: size.workloads, ...distributed };
        const label = rotationName(key);
        // A smaller size preflight refused in this run answers for this one (history-refusal.ts): no
        // fleet is started only to be refused again. A size asked for alone is always rehearsed.
        const refusal = historyRefusalFor(runs, key);
        if (refusal !== undefined) {
          const reason = historyRefusalReason(refusal);
          options.progress(`rotation: [${done}/${toRun.length * modes.length}] ${label} not run: ${reason}`);
          notRun.push({ ...key, reason });
          continue;
        }
        options.progress(
          `rotation: [${done}/${toRun.length * modes.length}] rehearsing ${label} (model engine)`,
        );
        const outcome = await rehearseOnce({
          ...options,
          size,
          mode,
          cdkOut: assembly.directory,
          out: join(
            options.workDirectory,
            `${mode}-${sizeName(size)}${options.maps === 'distributed' ? '-distributed' : ''}`,
          ),
        });
        if ('reason' in outcome) {
          options.progress(`rotation: ${label}: ${outcome.reason}`);
          notRun.push(outcome);
        } else {
          options.progress(
            `rotation: ${label}: ${outcome.result} in ${(outcome.rotationMs / 1000).toFixed(1)} s of rotation` +
              (outcome.soakMs > 0 ? ` (+ ${(outcome.soakMs / 1000).toFixed(1)} s soak)` : '') +
              (outcome.overhead === undefined ? '' : `, overhead ${(outcome.overhead * 100).toFixed(0)}%`) +
              `, ${outcome.handshakes.failed} of ${outcome.handshakes.attempted} handshakes failed, ` +
              `peak ${(outcome.peakRss.bytes / 2 ** 20).toFixed(0)} MiB in all, the rehearsal process ` +
              `${((outcome.peakRss.groups?.rehearsal.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
          );
          runs.push(outcome);
        }
      }
    }
  }
  return mergeRotationFigures(options.previous, runs, notRun);
}

interface RehearseOnceOptions extends RotationSectionOptions {
  readonly size: RotationSize;
  readonly mode: RotationMode;
  readonly cdkOut: string;
  readonly out: string;
}

async function rehearseOnce(options: RehearseOnceOptions): Promise<RotationRunFigures | RotationNotRun> {
  const { size, mode } = options;
  const measuredAt = new Date().toISOString();
  const base = {
    mode,
    clusters: size.clusters,
    workloadsPerCluster: size.workloads,
    ...(options.maps === 'distributed' && { maps: 'distributed' as const }),
  };
  const started = performance.now();
  const cpu = watchCpuShare();
  const child = spawn(
    process.execPath,
    rehearseArgs({
      clusters: size.clusters,
      workloads: size.workloads,
      mode,
      cdkOut: options.cdkOut,
      out: options.out,
    }),
    {
      cwd: options.projectRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(options.signal !== undefined && { signal: options.signal }),
    },
  );
  const memory = child.pid === undefined ? undefined : watchTreeMemory(child.pid);
  const stderr: string[] = [];
  let lastPhase = '';
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (stderr.push(line) > STDERR_KEPT) stderr.shift();
    // `[ 70.6s] phase distribute-bundle · clusters 0/1 · ...`: one line per phase is enough here.
    const phase = /\] phase (\S+)/.exec(line)?.[1];
    if (phase !== undefined && phase === lastPhase) return;
    if (phase !== undefined) lastPhase = phase;
    options.progress(`rotation:   ${line.trim()}`);
  });
  let code: number | null;
  let peak: ReturnType<TreeMemoryWatch['stop']> | undefined;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
  } finally {
    // An interrupted bench rejects here at once (spawn's signal): the watcher's timer must not keep
    // the bench's process alive after it said it stopped.
    peak = memory?.stop();
  }
  const rehearsalMs = performance.now() - started;
  const share = cpu();
  options.signal?.throwIfAborted();
  const report = await readFile(join(options.out, 'report.json'), 'utf8').then(
    (text) => JSON.parse(text) as RotationReport,
    () => undefined,
  );
  const history = await readFile(join(options.out, 'history.json'), 'utf8').then(
    (text) => JSON.parse(text) as RotationHistoryEvent[],
    () => undefined,
  );
  if (report === undefined || history === undefined) {
    return {
      ...base,
      reason: `failed: the rehearsal exited ${code} without report.json and history.json; its stderr ended: ${stderr.slice(-3).join(' | ')}`,
    };
  }
  const executionStarted = history.find((event) => event.type === 'ExecutionStarted') as
    | { input?: { soakSeconds?: unknown } }
    | undefined;
  const soakSeconds = executionStarted?.input?.soakSeconds;
  return {
    ...base,
    measuredAt,
    result: report.result,
    ...(report.error !== undefined && {
      error:
        report.error.cause === undefined ? report.error.name : `${report.error.name}: ${report.error.cause}`,
    }),
    failedChecks: report.checks.filter((check) => !check.ok).map((check) => check.name),
    handshakes: report.totals.handshakes,
    ...rotationTimes(report, history),
    ...(mode === 'scheduled' && typeof soakSeconds === 'number' && { soakSeconds }),
    rehearsalMs,
    peakRss:
      peak === undefined
        ? { bytes: 0, processes: 0 }
        : { bytes: peak.bytes, processes: peak.processes, groups: peak.groups },
    ...(report.labLoad !== undefined && {
      workloadCertTtlMs: report.labLoad.pace.workloadCertTtlMs,
      labEventLoopP99Ms: report.labLoad.eventLoopDelayMs.p99,
      ...(report.labLoad.renewals !== undefined && { labRenewals: report.labLoad.renewals }),
      ...(report.labLoad.peakRssParts !== undefined && {
        labPeakRss: { rssMiB: report.labLoad.peakRssMiB, ...report.labLoad.peakRssParts },
      }),
    }),
    ...(share !== undefined && { cpu: { benchCores: share.benchCores, otherCores: share.otherCores } }),
    ...(options.note !== undefined && { note: options.note }),
  };
}
