// How a rehearsal meets an interrupt (the CLI aborts its signal on SIGINT/SIGTERM): before the execution
// starts, as RehearsalInterruptedError once what was started is stopped; after, by reading the fleet
// for the partial report within a time limit.
import { setTimeout as sleep } from 'node:timers/promises';
import { RehearsalInterruptedError } from './rehearsal-errors.js';

/** After an interrupt, how long one read of the fleet for the partial report may take. */
const INTERRUPTED_READ_TIMEOUT_MS = 10_000;

/** The error for an interrupt before the execution started, if `signal` has been aborted. */
export function interruption(
  signal: AbortSignal | undefined,
  when: string,
): RehearsalInterruptedError | undefined {
  return signal?.aborted ? new RehearsalInterruptedError(String(signal.reason), when) : undefined;
}

export function throwIfInterrupted(signal: AbortSignal | undefined, when: string): void {
  const error = interruption(signal, when);
  if (error !== undefined) throw error;
}

/** `work`, or RehearsalInterruptedError as soon as `signal` aborts (the caller then stops what `work` runs). */
export async function untilInterrupted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  when: string,
): Promise<T> {
  if (signal === undefined) return work;
  throwIfInterrupted(signal, when);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(interruption(signal, when));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // The work may still fail after the interrupt won, as what it runs is stopped: nobody waits for it.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A read of the fleet after an interrupt: its value, or `fallback` if it fails or takes too long. */
export async function withinInterruptedRead<T>(read: Promise<T>, fallback: T): Promise<T> {
  const timeout = sleep(INTERRUPTED_READ_TIMEOUT_MS, fallback, { ref: false });
  return Promise.race([read.catch(() => fallback), timeout]);
}
