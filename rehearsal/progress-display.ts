// The live view of a rehearsal: phase, clusters done in it, handshakes so far and failures. On a
// terminal it is one line redrawn in place; anywhere else (a pipe, CI logs) it prints a plain line
// whenever something changes, so logs stay readable.

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressState {
  readonly phase: string;
  readonly clustersDone: number;
  readonly clustersTotal: number;
  readonly handshakes: number;
  readonly failures: number;
}

export interface ProgressDisplay {
  update(state: ProgressState): void;
  /** A message of its own (e.g. synth progress); keeps the live line below it. */
  note(line: string): void;
  stop(): void;
}

const REDRAW_MS = 200;

export function createProgressDisplay(
  stream: ProgressStream,
  options: { readonly now?: () => number } = {},
): ProgressDisplay {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const elapsed = () => `[${((now() - startedAt) / 1000).toFixed(1).padStart(5)}s]`;
  let state: ProgressState | undefined;
  let lastPlain = '';
  const describe = (current: ProgressState) =>
    `phase ${current.phase}${current.clustersTotal > 0 ? ` · clusters ${current.clustersDone}/${current.clustersTotal}` : ''} · handshakes ${current.handshakes} · failed ${current.failures}`;

  if (stream.isTTY === true) {
    const draw = () => {
      if (state !== undefined) stream.write(`\r\x1b[2K${elapsed()} ${describe(state)}`);
    };
    const timer = setInterval(draw, REDRAW_MS);
    timer.unref();
    return {
      update: (next) => {
        state = next;
      },
      note: (line) => {
        stream.write(`\r\x1b[2K${elapsed()} ${line}\n`);
        draw();
      },
      stop: () => {
        clearInterval(timer);
        draw();
        if (state !== undefined) stream.write('\n');
      },
    };
  }

  return {
    update: (next) => {
      state = next;
      // Handshake counts change all the time; a plain line is worth printing on anything else.
      const key = `${next.phase}|${next.clustersDone}|${next.failures}`;
      if (key === lastPlain) return;
      lastPlain = key;
      stream.write(`${elapsed()} ${describe(next)}\n`);
    },
    note: (line) => {
      stream.write(`${elapsed()} ${line}\n`);
    },
    stop: () => {
      if (state !== undefined) stream.write(`${elapsed()} ${describe(state)}\n`);
    },
  };
}
