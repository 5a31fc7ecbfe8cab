// Lanes of `npm test` (test/run-test-lanes.mts): commands run side by side, each line of their output
// prefixed with its lane's name, and what each ended with. A lane that fails or is killed fails the run.
// A lane that ends long before the other has its failures scrolled far out of a log's tail, so each
// result keeps the end of its lane's output (jest's summary of failing tests) to be printed again last.
import { spawn } from 'node:child_process';

export interface Lane {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

export interface LaneResult {
  readonly name: string;
  /** null when the lane was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly seconds: number;
  /** The end of the lane's output, unlabelled: from jest's summary of failing tests when it printed one. */
  readonly tail: readonly string[];
}

export interface RunLanesOptions {
  /** Where each prefixed line goes. */
  readonly write: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting sends SIGTERM to every lane still running. */
  readonly signal?: AbortSignal;
}

/** Jest's default reporter prints this line before repeating every failure, when there are many suites. */
const FAILURE_SUMMARY = 'Summary of all failing tests';
/** How many lines of a lane's output its result keeps. */
export const TAIL_LINES = 150;
/** The last lines of a long summary kept besides its first TAIL_LINES: where jest prints its counts. */
const SUMMARY_END_LINES = 12;

export function laneFailed(result: LaneResult): boolean {
  return result.exitCode !== 0;
}

/** Runs every lane at once; resolves when all have ended, in the order given. */
export function runLanes(lanes: readonly Lane[], options: RunLanesOptions): Promise<LaneResult[]> {
  const width = Math.max(...lanes.map((lane) => lane.name.length));
  return Promise.all(lanes.map((lane) => runLane(lane, lane.name.padEnd(width), options)));
}

function runLane(lane: Lane, label: string, options: RunLanesOptions): Promise<LaneResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(lane.command, lane.args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stop = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', stop, { once: true });
    const tail = new LaneTail();
    const write = (line: string) => {
      tail.add(line);
      options.write(`${label} │ ${line}`);
    };
    const flushers = [child.stdout, child.stderr].map((stream) => splitLines(stream, write));
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      options.signal?.removeEventListener('abort', stop);
      for (const flush of flushers) flush();
      const seconds = (performance.now() - started) / 1000;
      resolve({ name: lane.name, exitCode, signal, seconds, tail: tail.lines() });
    };
    child.once('error', (error) => {
      write(`could not start ${lane.command}: ${error.message}`);
      finish(null, null);
    });
    child.once('close', finish);
  });
}

/** Writes each whole line of `stream`; returns a flush for the last partial line. */
function splitLines(stream: NodeJS.ReadableStream, write: (line: string) => void): () => void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) write(line);
  });
  return () => {
    if (partial !== '') write(partial);
    partial = '';
  };
}

/**
 * The last TAIL_LINES lines of a lane. Once jest's summary of failing tests has begun: that summary from
 * its first line, and when it runs past TAIL_LINES, its last lines (jest's counts) after a mark of how
 * many were left out.
 */
class LaneTail {
  #kept: string[] = [];
  #inSummary = false;
  #omitted = 0;
  #end: string[] = [];

  add(line: string): void {
    if (line.includes(FAILURE_SUMMARY)) {
      this.#kept = [];
      this.#inSummary = true;
      this.#omitted = 0;
      this.#end = [];
    }
    if (!this.#inSummary || this.#kept.length < TAIL_LINES) {
      this.#kept.push(line);
      if (this.#kept.length > TAIL_LINES) this.#kept.shift();
      return;
    }
    this.#end.push(line);
    if (this.#end.length > SUMMARY_END_LINES) {
      this.#end.shift();
      this.#omitted += 1;
    }
  }

  lines(): readonly string[] {
    const mark = this.#omitted > 0 ? [`… ${this.#omitted} lines left out …`] : [];
    return [...this.#kept, ...mark, ...this.#end];
  }
}
