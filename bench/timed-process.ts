// A whole process timed from spawn to exit: what a user waits for when they run it, startup included.
// Children report progress as lines holding only a count on stderr; anything else on stderr is kept
// for the error message if the process fails.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { BenchCheckFailed } from './bench-errors.js';

export interface TimedProcessOptions {
  /** The bench section it runs for, named in errors. */
  readonly section: string;
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each count the child prints on stderr. */
  readonly onCount?: (count: number) => void;
  /** Stops the child (SIGTERM); the run then rejects. */
  readonly signal?: AbortSignal;
}

export interface TimedProcess {
  readonly wallMs: number;
  readonly stdout: string;
}

export async function runTimedProcess(
  command: string,
  args: readonly string[],
  options: TimedProcessOptions,
): Promise<TimedProcess> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  let stdout = '';
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (/^\d+$/.test(line)) options.onCount?.(Number(line));
    else if (stderr.push(line) > 20) stderr.shift();
  });
  const [code, wallMs] = await new Promise<[number | null, number]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve([exitCode, performance.now() - started]));
  });
  // Let stdout drain: 'exit' can come before the last chunk.
  if (child.stdout.readable) await new Promise((resolve) => child.stdout.once('close', resolve));
  if (code !== 0) {
    throw new BenchCheckFailed(
      options.section,
      `${command} ${args.join(' ')} failed (exit ${code}); its stderr ended:\n${stderr.join('\n')}`,
    );
  }
  return { wallMs, stdout };
}
