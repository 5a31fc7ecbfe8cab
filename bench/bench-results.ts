// bench/results.json: every figure with the machine and the date it was taken on. A run of some
// sections (--only) replaces those and keeps the others' previous figures, each with its own date and
// machine, so the file and docs/performance.md never mix figures without saying where they came from.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { CostSectionFigures } from './cost-bench.js';
import type { CpuShare } from './cpu-share.js';
import type { HandlersSectionFigures } from './handler-bench.js';
import type { LabIdleSectionFigures } from './lab-idle-bench.js';
import type { PkiSectionFigures } from './pki-bench.js';
import type { RotationSectionFigures } from './rotation-figures.js';

export const RESULTS_SCHEMA = 1;

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryGiB: number;
  /** `linux x64 6.8.0-...`. */
  readonly os: string;
  readonly node: string;
  /** The OpenSSL node links (its WebCrypto runs on it), e.g. `3.0.15+quic`. */
  readonly nodeOpenssl: string;
  /** The openssl CLI's `OpenSSL 3.0.19 27 Jan 2026`, or undefined when openssl is not on PATH. */
  readonly openssl?: string;
  /** 1-minute load average when the section started (the bench's own earlier sections included). */
  readonly loadAverageAtStart: number;
}

export interface Revision {
  readonly commit: string;
  readonly uncommittedChanges: boolean;
}

export interface SectionRun<T> {
  /** ISO date the section started. */
  readonly measuredAt: string;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  /** The code measured: the commit checked out, and whether the working tree had changes on top. */
  readonly revision?: Revision;
  /** How busy the machine was meanwhile, the bench apart from other work (Linux only). */
  readonly cpu?: CpuShare;
  /** What whoever ran the bench said of the run (--note), e.g. what else shared the machine. */
  readonly note?: string;
  readonly figures: T;
}

export interface BenchSections {
  readonly pki?: SectionRun<PkiSectionFigures>;
  readonly handlers?: SectionRun<HandlersSectionFigures>;
  readonly cost?: SectionRun<CostSectionFigures>;
  readonly 'lab-idle'?: SectionRun<LabIdleSectionFigures>;
  readonly rotation?: SectionRun<RotationSectionFigures>;
}

export type BenchSection = keyof BenchSections;
export const BENCH_SECTIONS: readonly BenchSection[] = ['pki', 'handlers', 'cost', 'lab-idle', 'rotation'];

export interface NotMeasuredYet {
  readonly name: string;
  readonly what: string;
}

/** What issue 14 asks for that this bench does not measure yet: printed and written, never faked. */
export const NOT_MEASURED_YET: readonly NotMeasuredYet[] = [];

export interface BenchResults {
  readonly schema: typeof RESULTS_SCHEMA;
  /** When the file was last written. */
  readonly generatedAt: string;
  readonly sections: BenchSections;
  readonly notMeasuredYet: readonly NotMeasuredYet[];
}

/** The previous results.json, or undefined when there is none or it is of another schema. */
export async function readPreviousResults(file: string): Promise<BenchResults | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<BenchResults>;
    return parsed.schema === RESULTS_SCHEMA && typeof parsed.sections === 'object' && parsed.sections !== null
      ? (parsed as BenchResults)
      : undefined;
  } catch {
    return undefined;
  }
}

/** This run's sections over the previous file's: what was not run keeps its figures and their dates. */
export function mergeResults(
  previous: BenchResults | undefined,
  run: BenchSections,
  generatedAt: string,
): BenchResults {
  const sections: BenchSections = { ...previous?.sections, ...run };
  // Known sections only, in a stable order: a section dropped from the bench leaves the file.
  const ordered = Object.fromEntries(
    BENCH_SECTIONS.filter((name) => sections[name] !== undefined).map((name) => [name, sections[name]]),
  ) as BenchSections;
  return { schema: RESULTS_SCHEMA, generatedAt, sections: ordered, notMeasuredYet: NOT_MEASURED_YET };
}

/**
 * results.json's text: figures to 0.01 (ms, cores), finer than any run repeats them; dollars (keys
 * ending in `Usd`) to 4 significant digits, since a rotation costs a fraction of a cent.
 */
export function serializeResults(results: BenchResults): string {
  const rounded = (key: string, value: unknown) => {
    if (typeof value !== 'number' || Number.isInteger(value)) return value;
    return /usd$/i.test(key) ? Number(value.toPrecision(4)) : Math.round(value * 100) / 100;
  };
  return `${JSON.stringify(results, rounded, 2)}\n`;
}

const execFileAsync = promisify(execFile);

/** This machine, as it is now. */
export async function describeMachine(): Promise<MachineInfo> {
  const openssl = await execFileAsync('openssl', ['version']).then(
    // `OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)`: the CLI part.
    ({ stdout }) => stdout.trim().replace(/ \(Library: .*\)$/, ''),
    () => undefined,
  );
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpuCount: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${process.arch} ${release()}`,
    node: process.version,
    nodeOpenssl: process.versions.openssl,
    ...(openssl !== undefined && { openssl }),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/**
 * The commit of `projectRoot` and whether a tracked file differs from it; undefined outside a git
 * checkout. Untracked files do not count: a worktree's node_modules link, scratch output. Code that
 * runs is imported by a tracked file, whose change would show.
 */
export async function describeRevision(projectRoot: string): Promise<Revision | undefined> {
  try {
    const { stdout: commit } = await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot });
    const { stdout: status } = await execFileAsync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: projectRoot,
    });
    return { commit: commit.trim(), uncommittedChanges: status.trim() !== '' };
  } catch {
    return undefined;
  }
}

/** Other work's average use of the machine, in cores, from which the bench notes it in its figures. */
export const OTHER_WORK_NOTED_CORES = 0.25;

/**
 * True when other work kept the machine busy while the section ran (a quarter of a core or more on
 * average), or, where that is unknown, when the load average at its start was half the cores or more.
 */
export function otherWorkRan(run: SectionRun<unknown>): boolean {
  return run.cpu !== undefined
    ? run.cpu.otherCores >= OTHER_WORK_NOTED_CORES
    : run.machine.loadAverageAtStart >= run.machine.cpuCount / 2;
}
