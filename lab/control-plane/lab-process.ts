// One real lab component as a child process (etcd, kube-apiserver, ...): output to its own log file,
// stopped with SIGTERM then SIGKILL, and started under `setpriv --pdeathsig KILL` so that the kernel
// kills it when the lab's Node process dies, however it dies (a SIGKILL of the lab leaves no orphan).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LabError } from '../lab-errors.js';

const SETPRIV = '/usr/bin/setpriv';
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 30;

export class LabProcessError extends LabError {
  readonly component: string;

  constructor(component: string, message: string, options?: ErrorOptions) {
    super(`${component}: ${message}`, options);
    this.name = 'LabProcessError';
    this.component = component;
  }
}

export interface LabProcessOptions {
  /** What it is, for messages: "etcd", "lab-1 kube-apiserver". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr go here (appended). */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface LabProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Undefined while it runs; its exit code (or signal name) once it has ended. */
  exitStatus(): string | undefined;
  /** Throws LabProcessError, with the end of its log, if it has ended. */
  assertRunning(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export function startLabProcess(options: LabProcessOptions): LabProcess {
  const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 });
  const [command, args] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', options.command, ...options.args]]
    : [options.command, [...options.args]];
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? globalThis.process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let status: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      status = 'not started';
      resolve();
    });
    child.once('exit', (code, signal) => {
      status = signal ?? `exit code ${code}`;
      resolve();
    });
  });
  void exited.then(() => log.end());

  const labProcess: LabProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exitStatus: () => status,
    assertRunning: async () => {
      if (status === undefined) return;
      const tail = await logTail(options.logFile);
      throw new LabProcessError(
        options.name,
        `ended (${status}) ${spawnError ? `: ${spawnError.message} ` : ''}; last lines of ${options.logFile}:\n${tail}`,
        { cause: spawnError },
      );
    },
    stop: async () => {
      if (status !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  return labProcess;
}

/** The last lines of a component's log, for an error message. */
export async function logTail(logFile: string, lines = LOG_TAIL_LINES): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
