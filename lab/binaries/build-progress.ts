// What a running lab build reports, and how to say it in one line. A cold build compiles a few
// thousand packages for many minutes, so the line carries a count and an estimate of the time left.

export type LabBuildPhase =
  /** Another process holds the build lock for the same key; this one waits, then uses its result. */
  | 'wait'
  /** `go list -deps`: downloads missing modules and counts the packages to compile. */
  | 'download'
  /** `go build -v`: one package printed as each starts compiling. */
  | 'compile'
  /** Every package compiled; the linker writes the binaries. */
  | 'link'
  | 'done';

export interface LabBuildProgress {
  readonly phase: LabBuildPhase;
  /** Packages compiled so far (compile, link); modules downloaded (download). */
  readonly done: number;
  /** Packages to compile; 0 while not known yet (wait, download). */
  readonly total: number;
  /** Since ensureLabBinaries started. */
  readonly elapsedMs: number;
  /** From the compile rate so far; absent until there is a rate worth trusting. */
  readonly etaMs?: number;
  readonly message: string;
}

/** An estimate needs this many packages and this much time behind it; earlier ones swing wildly. */
const ETA_MIN_PACKAGES = 20;
const ETA_MIN_MS = 10_000;

/** Time left at the rate so far, or undefined when too little is known. */
export function estimateRemainingMs(done: number, total: number, compilingForMs: number): number | undefined {
  if (done < ETA_MIN_PACKAGES || compilingForMs < ETA_MIN_MS || done >= total) return undefined;
  return Math.round(((total - done) * compilingForMs) / done);
}

/** e.g. `compile 412/1530 packages, 3m10s elapsed, about 8m left`. */
export function describeLabBuildProgress(progress: LabBuildProgress): string {
  const elapsed = `${formatDuration(progress.elapsedMs)} elapsed`;
  const left = progress.etaMs === undefined ? '' : `, about ${formatRemaining(progress.etaMs)} left`;
  switch (progress.phase) {
    case 'compile':
      return `compile ${progress.done}/${progress.total} packages, ${elapsed}${left}`;
    case 'link':
      return `link: writing the binaries, ${elapsed}`;
    default:
      return `${progress.phase}: ${progress.message}, ${elapsed}`;
  }
}

/** 45s, 3m10s, 1h02m. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** An estimate is rough: whole minutes from two minutes on, else tens of seconds. */
function formatRemaining(ms: number): string {
  if (ms >= 120_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.max(10, Math.round(ms / 10_000) * 10)}s`;
}
