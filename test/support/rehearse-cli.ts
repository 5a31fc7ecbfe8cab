// `meshtrust rehearse` as an operator runs it, for the e2e tests: a child process on a cloud assembly
// synthesized once (--cdk-out), its exit code, output and report.json. `startRehearseCli` hands back
// the running process instead, for tests that signal it.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeRenewals } from '../../lab/lab-load.js';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';
import type { RehearsalReport } from '../../rehearsal/rehearsal-report.js';

const run = promisify(execFile);

export interface Rehearsal {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly dir: string;
  readonly report: RehearsalReport;
}

export interface RehearseCliOptions {
  readonly cdkOut: string;
  readonly flags: readonly string[];
  readonly timeoutMs: number;
  /** The report folder is created in tmp and added here, for the caller to remove. */
  readonly outputDirs: string[];
}

function rehearseArgs(cdkOut: string, out: string, flags: readonly string[]): string[] {
  return ['--import', 'tsx', 'bin/meshtrust.ts', 'rehearse', '--cdk-out', cdkOut, '--out', out, ...flags];
}

export async function runRehearseCli(options: RehearseCliOptions): Promise<Rehearsal> {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrust-rehearse-'));
  options.outputDirs.push(dir);
  const args = rehearseArgs(options.cdkOut, dir, options.flags);
  let exitCode = 0;
  let stdout = '';
  let stderr = '';
  try {
    ({ stdout, stderr } = await run(process.execPath, args, {
      cwd: PROJECT_ROOT,
      timeout: options.timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE_OPTIONS: '' },
    }));
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    exitCode = typeof failed.code === 'number' ? failed.code : -1;
    stdout = failed.stdout ?? '';
    stderr = failed.stderr ?? '';
  }
  let report: RehearsalReport;
  try {
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RehearsalReport;
  } catch (error) {
    throw new Error(`no report.json (exit ${exitCode}); stderr:\n${stderr.slice(-4000)}`, { cause: error });
  }
  return { exitCode, stdout, stderr, dir, report };
}

/**
 * The checks that failed, with their detail: the most telling first assertion of a run. Failed
 * handshakes come with what refused them, so that a failure in CI says enough to be understood.
 */
export function failedChecks(report: RehearsalReport): string[] {
  return report.checks
    .filter((check) => !check.ok)
    .map((check) =>
      check.name === 'no-failed-handshake' && report.handshakeFailures.length > 0
        ? `${check.name}: ${check.detail}; ${handshakeFailuresSummary(report)}`
        : `${check.name}: ${check.detail}`,
    );
}

/** The report's handshake failures counted by phase, refusing side and error, the most frequent first. */
function handshakeFailuresSummary(report: RehearsalReport): string {
  const groups = new Map<string, { count: number; first: RehearsalReport['handshakeFailures'][number] }>();
  for (const failure of report.handshakeFailures) {
    const key = `${failure.phase} | refused by ${failure.side} | ${failure.error}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { count: 1, first: failure });
    else group.count += 1;
  }
  const lines = [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count)
    .map(
      ([key, { count, first }]) => `${count}x ${key} (first at ${first.at}, ${first.from} -> ${first.to})`,
    );
  const delay = report.labEventLoopDelayMs;
  const renewals = report.labLoad?.renewals;
  // report.json keeps the first failures only (build-report.ts): say so when the counts cover fewer.
  const kept = report.handshakeFailures.length;
  const prefix = kept < report.totals.handshakes.failed ? `the first ${kept}: ` : '';
  return (
    `${prefix}${lines.join('; ')}; lab event loop delay p99 ${delay.p99} ms, max ${delay.max} ms` +
    (renewals === undefined ? '' : `; the lab's ${describeRenewals(renewals)}`)
  );
}

export interface RunningRehearsal {
  readonly pid: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first stderr line (progress, notes, errors) matching `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves when the process has ended. */
  readonly exit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/** Starts `meshtrust rehearse --cdk-out CDK_OUT --out OUT FLAGS...` and returns at once. */
export function startRehearseCli(options: {
  readonly cdkOut: string;
  readonly out: string;
  readonly flags: readonly string[];
}): RunningRehearsal {
  const child = spawn(process.execPath, rehearseArgs(options.cdkOut, options.out, options.flags), {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    pid: child.pid ?? -1,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    waitForStderr: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = stderr.split('\n').find((candidate) => pattern.test(candidate));
          if (line === undefined) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `no stderr line matched ${pattern} within ${timeoutMs} ms; stderr:\n${stderr.slice(-4000)}`,
            ),
          );
        }, timeoutMs);
        const ended = () => {
          done();
          reject(
            new Error(
              `rehearse ended before a stderr line matched ${pattern}; stderr:\n${stderr.slice(-4000)}`,
            ),
          );
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('close', ended);
        };
        waiters.add(check);
        child.once('close', ended);
        check();
      }),
  };
}
