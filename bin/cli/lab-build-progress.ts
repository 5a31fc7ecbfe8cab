// How `meshtrust lab build` shows a build that runs for many minutes: on a terminal one line redrawn
// in place; anywhere else (CI logs, a pipe) a plain line on each phase change and otherwise at most
// every PLAIN_LINE_EVERY_MS, so a log shows the build moving without thousands of lines.
import { describeLabBuildProgress, type LabBuildProgress } from '../../lab/binaries/build-progress.js';
import type { OutputStream } from './terminal.js';

export const PLAIN_LINE_EVERY_MS = 10_000;

/** A terminal redraws at most this often: go prints packages far faster than anyone reads. */
const REDRAW_EVERY_MS = 100;

export interface LabBuildProgressView {
  update(progress: LabBuildProgress): void;
  /** Ends the live line so what follows starts on a line of its own. */
  stop(): void;
}

export function createLabBuildProgressView(
  stream: OutputStream,
  options: { readonly now?: () => number } = {},
): LabBuildProgressView {
  const now = options.now ?? Date.now;
  let lastPhase: string | undefined;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let liveLine = false;

  if (stream.isTTY === true) {
    return {
      update: (progress) => {
        const phaseChanged = progress.phase !== lastPhase;
        if (!phaseChanged && now() - lastWriteAt < REDRAW_EVERY_MS) return;
        lastPhase = progress.phase;
        lastWriteAt = now();
        // A waiting message is long and says what to do: keep it on screen rather than overwriting it.
        if (progress.phase === 'wait') {
          stream.write(`${liveLine ? '\r\x1b[2K' : ''}${describeLabBuildProgress(progress)}\n`);
          liveLine = false;
          return;
        }
        stream.write(`\r\x1b[2K${describeLabBuildProgress(progress)}`);
        liveLine = true;
      },
      stop: () => {
        if (liveLine) stream.write('\n');
        liveLine = false;
      },
    };
  }

  return {
    update: (progress) => {
      if (progress.phase === lastPhase && now() - lastWriteAt < PLAIN_LINE_EVERY_MS) return;
      lastPhase = progress.phase;
      lastWriteAt = now();
      stream.write(`${describeLabBuildProgress(progress)}\n`);
    },
    stop: () => undefined,
  };
}
