// Lanes of `npm test` (test/run-test-lanes.mts): commands run side by side, each line of their output
// prefixed with its lane's name, and what each ended with. A lane that fails or is killed fails the run.
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
}

export interface RunLanesOptions {
  /** Where each prefixed line goes. */
  readonly write: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting sends SIGTERM to every lane still running. */
  readonly signal?: AbortSignal;
}

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
    const flushers = [child.stdout, child.stderr].map((stream) => prefixLines(stream, label, options.write));
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      options.signal?.removeEventListener('abort', stop);
      for (const flush of flushers) flush();
      resolve({ name: lane.name, exitCode, signal, seconds: (performance.now() - started) / 1000 });
    };
    child.once('error', (error) => {
      options.write(`${label} │ could not start ${lane.command}: ${error.message}`);
      finish(null, null);
    });
    child.once('close', finish);
  });
}

/** Writes each whole line of `stream` with the lane's label; returns a flush for the last partial line. */
function prefixLines(
  stream: NodeJS.ReadableStream,
  label: string,
  write: (line: string) => void,
): () => void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) write(`${label} │ ${line}`);
  });
  return () => {
    if (partial !== '') write(`${label} │ ${partial}`);
    partial = '';
  };
}
