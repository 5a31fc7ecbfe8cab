// SIGINT and SIGTERM as a request to stop cleanly, for commands that run until told (lab) or tidy up
// when cut short (rehearse). A terminal's Ctrl-C reaches every process of the foreground group and
// wrappers (npx, tsx) forward it again, so repeats within FORCE_EXIT_AFTER_MS count as one; a later one
// exits at once, leaving what still runs to its guards (lab/process-group-guard.ts).
import { EXIT_CODES, type ExitCode } from './cli-errors.js';

export const FORCE_EXIT_AFTER_MS = 2000;

export interface StopSignals {
  /** Aborted by the first signal, with the signal's name as its reason. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/** Listens until dispose(); `stopping` says what the first signal makes the command do. */
export function listenForStopSignals(note: (line: string) => void, stopping: string): StopSignals {
  const controller = new AbortController();
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === undefined) {
      firstAt = Date.now();
      note(`${signal} received: ${stopping} (again after ${FORCE_EXIT_AFTER_MS / 1000} s to force)`);
      controller.abort(signal);
    } else if (Date.now() - firstAt > FORCE_EXIT_AFTER_MS) {
      note(`${signal} received again: exiting without a clean stop`);
      process.exit(exitCodeOfSignal(signal));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/** How a run cut short by `signal` exits: 128 + its number, as a shell reports it. */
export function exitCodeOfSignal(signal: string): ExitCode {
  return signal === 'SIGTERM' ? EXIT_CODES.terminated : EXIT_CODES.interrupted;
}
