// One chaos case: `meshtrust rehearse` as an operator runs it (a child process, in a process group of
// its own so a time limit can stop all of it), on the cloud assembly the run synthesized once. While it
// runs, its processes are sampled; after it ends, any that survived it are named and killed by pid.
// Then its report folder is scanned for private keys and its report.json read and judged.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { filesWithPrivateKeys } from '../rehearsal/private-key-scan.js';
import type { RehearsalReport } from '../rehearsal/rehearsal-report.js';
import type { ChaosCase } from './chaos-matrix.js';
import { type CaseVerdict, judgeCase, type ProcessLeft, type RunFacts } from './judge-case.js';
import { watchProcesses } from './process-watch.js';

export interface CaseSettings {
  readonly projectRoot: string;
  readonly cdkOut: string;
  readonly clusters: number;
  readonly workloads: number;
  readonly timeoutMs: number;
  /** Stops the case under way (SIGINT to its group, as a terminal's Ctrl-C would). */
  readonly signal?: AbortSignal;
}

export interface CaseRun {
  readonly verdict: CaseVerdict;
  readonly facts: RunFacts;
  readonly report?: RehearsalReport;
  readonly durationMs: number;
  /** The case was stopped by the signal, not by itself. */
  readonly interrupted: boolean;
}

/** The environment variable each case's processes inherit, so a survivor is found wherever it went. */
export const CASE_MARKER = 'MESHTRUST_CHAOS_CASE';
const SAMPLE_EVERY_MS = 500;
/** After the rehearsal ends, how long its guards get to stop what it started (they act at once). */
const SURVIVOR_GRACE_MS = 5000;
/** After a SIGTERM to an overdue case, how long before SIGKILL. */
const KILL_AFTER_MS = 15_000;

/** `node` arguments of `meshtrust rehearse --json` on the case's assembly, its report in outDir. */
export function rehearseCommand(cdkOut: string, outDir: string, flags: readonly string[]): string[] {
  return [
    '--import',
    'tsx',
    'bin/meshtrust.ts',
    'rehearse',
    '--cdk-out',
    cdkOut,
    '--out',
    outDir,
    '--json',
    ...flags,
  ];
}

/** A case's rehearsal on a fleet of its own, of the settings' size. */
export function rehearseArgs(chaosCase: ChaosCase, settings: CaseSettings, outDir: string): string[] {
  return rehearseCommand(settings.cdkOut, outDir, [
    '--clusters',
    String(settings.clusters),
    '--workloads',
    String(settings.workloads),
    ...chaosCase.flags,
  ]);
}

export async function runCase(
  chaosCase: ChaosCase,
  settings: CaseSettings,
  caseDir: string,
): Promise<CaseRun> {
  const outDir = join(caseDir, 'report');
  const run = await runRehearseProcess(rehearseArgs(chaosCase, settings, outDir), {
    settings,
    marker: `${process.pid}:${chaosCase.id}`,
    logFile: join(caseDir, 'output.log'),
  });
  const filesWithKeys = await filesWithPrivateKeys(outDir, []).catch(() => []);
  const facts: RunFacts = {
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    processesLeft: run.processesLeft,
    filesWithKeys,
  };
  const report = await readReport(outDir);
  return {
    verdict: judgeCase({ ...chaosCase.expected, mode: chaosCase.mode }, report, facts),
    facts,
    ...(report === undefined ? {} : { report }),
    durationMs: run.durationMs,
    interrupted: run.interrupted,
  };
}

/** One rehearse process as runRehearseProcess saw it. */
export interface RehearseProcessRun {
  /** The exit code, or 128 + the signal's number when a signal ended it (as a shell reports it). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Stopped by the settings' signal, not by itself. */
  readonly interrupted: boolean;
  /** Processes it started that outlived it (each killed by its pid). */
  readonly processesLeft: readonly ProcessLeft[];
  readonly durationMs: number;
  /** Everything it printed, stdout and stderr. */
  readonly output: string;
}

/**
 * Runs `node ARGS` in the project (a rehearse command line), in a process group of its own under the
 * time limit, with its processes watched; `whileRunning` is handed its pid once started and returns
 * what to do when it ended (a kill case watches its record there). Resolves once it ended and anything
 * it left was killed.
 */
export async function runRehearseProcess(
  args: readonly string[],
  options: {
    readonly settings: Pick<CaseSettings, 'projectRoot' | 'timeoutMs' | 'signal'>;
    /** The value of CASE_MARKER its processes inherit. */
    readonly marker: string;
    /** Where its output is written. */
    readonly logFile: string;
    /** Given its pid and what it printed so far once started; returns what to do when it ended. */
    readonly whileRunning?: (pid: number, output: () => string) => () => void;
    /** Variables of this run beyond the runner's own environment. */
    readonly env?: Readonly<Record<string, string>>;
  },
): Promise<RehearseProcessRun> {
  const { settings } = options;
  const marker = `${CASE_MARKER}=${options.marker}`;
  const startedAt = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: settings.projectRoot,
    env: { ...process.env, ...options.env, NODE_OPTIONS: '', [CASE_MARKER]: options.marker },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', () => resolve({ code: null, signal: null }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const watch = watchProcesses(child.pid ?? -1, marker);
  const sampler = setInterval(() => watch.sample(), SAMPLE_EVERY_MS);
  watch.sample();
  const ended =
    child.pid === undefined
      ? undefined
      : options.whileRunning?.(child.pid, () => Buffer.concat(output).toString('utf8'));

  let timedOut = false;
  let interrupted = false;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const stopping: Promise<void>[] = [];
  const stop = (signal: NodeJS.Signals) => {
    signalGroup(signal);
    const kill = setTimeout(() => signalGroup('SIGKILL'), KILL_AFTER_MS);
    stopping.push(exited.then(() => clearTimeout(kill)));
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop('SIGTERM');
  }, settings.timeoutMs);
  const onAbort = () => {
    interrupted = true;
    stop('SIGINT');
  };
  settings.signal?.addEventListener('abort', onAbort, { once: true });
  if (settings.signal?.aborted === true) onAbort();

  const { code, signal } = await exited;
  clearTimeout(timer);
  ended?.();
  settings.signal?.removeEventListener('abort', onAbort);
  await Promise.all(stopping);
  clearInterval(sampler);
  const durationMs = Date.now() - startedAt;
  const text = Buffer.concat(output);
  await writeFile(options.logFile, text);
  return {
    exitCode: code ?? (signal === null ? null : 128 + (constants.signals[signal] ?? 0)),
    signal,
    timedOut,
    interrupted,
    processesLeft: await survivors(watch),
    durationMs,
    output: text.toString('utf8'),
  };
}

/** What is still alive after the grace period; each is killed by its pid, being the case's own. */
async function survivors(watch: ReturnType<typeof watchProcesses>) {
  const deadline = Date.now() + SURVIVOR_GRACE_MS;
  let alive = watch.alive();
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(250);
    alive = watch.alive();
  }
  for (const left of alive) {
    try {
      process.kill(left.pid, 'SIGKILL');
    } catch {
      // Ended meanwhile.
    }
  }
  return alive.map((left) => ({ pid: left.pid, command: left.command }));
}

/** DIR/report.json, or undefined when the run wrote none. */
export async function readReport(outDir: string): Promise<RehearsalReport | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as RehearsalReport;
  } catch {
    return undefined;
  }
}
