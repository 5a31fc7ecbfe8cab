// The rehearsal runs the daily expiry check twice, the second time in the container the first warmed
// (as Lambda may serve the next day's run): both must answer alike, since nothing may outlive a run.
import type { ExpiryCheckAtEnd } from './rehearsal-report.js';

/** What check-expiry returns, as the rehearsal reads it. */
export interface ExpiryAnswer {
  readonly certificates: number;
  readonly days: number;
  readonly first: string;
}

/**
 * The first answer when the second agrees with it, else why not. The days may differ by one: two runs
 * may straddle the instant at which the first certificate's whole days to expiry go down.
 */
export function compareExpiryRuns(first: ExpiryAnswer, again: ExpiryAnswer): ExpiryCheckAtEnd {
  const agree =
    again.certificates === first.certificates &&
    again.first === first.first &&
    Math.abs(again.days - first.days) <= 1;
  return agree
    ? first
    : {
        error:
          `its second run, in the container the first warmed, answered ${describe(again)} ` +
          `where the first answered ${describe(first)}`,
      };
}

function describe(answer: ExpiryAnswer): string {
  return `${answer.certificates} certificate(s), first ${answer.first} in ${answer.days} day(s)`;
}
