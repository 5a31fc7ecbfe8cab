// Per function, how long its warm invocations took in a rehearsal (function-pool.ts measures each):
// written to report.json so that `npm run bench` can show a warm invoke time for every handler that
// reaches AWS or a cluster, on its real path against moto and the lab (bench/handler-bench.ts).

export interface InvocationTimes {
  readonly count: number;
  readonly medianMs: number;
  /** Nearest rank: the time 90% of the invocations took at most. */
  readonly p90Ms: number;
  readonly maxMs: number;
}

/** Each handler's times summarised, rounded to a hundredth of a millisecond; handlers without a time left out. */
export function summarizeInvocationTimes(
  times: Readonly<Record<string, readonly number[]>>,
): Record<string, InvocationTimes> {
  const summaries: Record<string, InvocationTimes> = {};
  for (const [handler, list] of Object.entries(times)) {
    if (list.length === 0) continue;
    const sorted = [...list].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median =
      sorted.length % 2 === 1
        ? sorted[middle]
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
    summaries[handler] = {
      count: sorted.length,
      medianMs: round(median as number),
      p90Ms: round(sorted[Math.ceil(0.9 * sorted.length) - 1] as number),
      maxMs: round(sorted[sorted.length - 1] as number),
    };
  }
  return summaries;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
