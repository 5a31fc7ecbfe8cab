// Runs the go commands of a lab build and turns their output into progress: `go list -deps` first
// (it downloads missing modules and tells how many packages there are), then `go build -v`, which
// prints each package as it compiles. Everything go prints goes to the build log; the last lines
// go into the error when a command fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { sep } from 'node:path';
import { estimateRemainingMs, type LabBuildPhase, type LabBuildProgress } from './build-progress.js';
import { INTERRUPTED_MESSAGE, LabBuildError } from './lab-build-errors.js';

/** What decides the binaries besides the sources: part of the cache key. */
export const GO_BUILD_FLAGS: readonly string[] = ['-trimpath', '-ldflags=-s -w'];

/** GO_BUILD_FLAGS with the -X variables added to its -ldflags. */
export function buildFlags(variables: Readonly<Record<string, string>>): string[] {
  const stamps = Object.entries(variables).map(([name, value]) => `-X ${name}=${value}`);
  return GO_BUILD_FLAGS.map((flag) =>
    flag.startsWith('-ldflags=') && stamps.length > 0 ? `${flag} ${stamps.join(' ')}` : flag,
  );
}

/** go.mod and go.sum are inputs, never outputs: refuse to build rather than rewrite them. */
const MOD_FLAGS = ['-mod=readonly'];

/** Lines of go's output kept for the error message. */
export const OUTPUT_TAIL_LINES = 40;

/** A go command asked to stop (SIGINT) gets this long before it is killed. */
const KILL_AFTER_MS = 5000;
const HEARTBEAT_MS = 1000;

export interface GoBuildOptions {
  readonly goDir: string;
  /** Packages to build, as go build takes them (import paths or ./relative). */
  readonly packages: readonly string[];
  /** The binaries go here, each named after its package's last path element. */
  readonly outDir: string;
  readonly logFile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Clock origin of `elapsedMs`. */
  readonly startedAt: number;
  readonly onProgress: (progress: LabBuildProgress) => void;
  /**
   * `-X` linker variables, asked for once the modules are downloaded (they may read them). Derived
   * from go.mod, hence already covered by the cache key.
   */
  readonly linkerVariables?: () => Promise<Readonly<Record<string, string>>>;
}

export async function runGoBuild(options: GoBuildOptions): Promise<void> {
  const log = createWriteStream(options.logFile, { flags: 'w' });
  try {
    const packages = await listPackages(options, log);
    const variables = (await options.linkerVariables?.()) ?? {};
    await compilePackages(options, packages, log, buildFlags(variables));
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

interface PackageList {
  /** Import paths of every non-standard package the build compiles, the targets included. */
  readonly all: ReadonlySet<string>;
  /** Import paths of the main packages among them: once all have compiled, only linking is left. */
  readonly mains: ReadonlySet<string>;
}

async function listPackages(options: GoBuildOptions, log: WriteStream): Promise<PackageList> {
  const all = new Set<string>();
  const mains = new Set<string>();
  let downloads = 0;
  const report = reporter(options, 'download', () => ({
    done: downloads,
    total: 0,
    message: downloads === 0 ? 'listing packages' : `downloading modules (${downloads} so far)`,
  }));
  try {
    await runGo(
      [
        'list',
        ...MOD_FLAGS,
        '-deps',
        '-f',
        '{{if not .Standard}}{{.ImportPath}} {{.Name}}{{end}}',
        ...options.packages,
      ],
      options,
      log,
      {
        stdout: (line) => {
          const [importPath, name] = line.split(' ');
          if (importPath === undefined || importPath === '') return;
          all.add(importPath);
          if (name === 'main') mains.add(importPath);
        },
        stderr: (line) => {
          if (line.startsWith('go: downloading ')) {
            downloads += 1;
            report.now();
          }
        },
      },
    );
  } finally {
    report.stop();
  }
  return { all, mains };
}

async function compilePackages(
  options: GoBuildOptions,
  packages: PackageList,
  log: WriteStream,
  flags: readonly string[],
) {
  const compileStartedAt = Date.now();
  let done = 0;
  let mainsSeen = 0;
  const phase = (): LabBuildPhase =>
    done >= packages.all.size || (packages.mains.size > 0 && mainsSeen >= packages.mains.size)
      ? 'link'
      : 'compile';
  const report = reporter(
    options,
    () => phase(),
    () => {
      const current = phase();
      const etaMs =
        current === 'compile'
          ? estimateRemainingMs(done, packages.all.size, Date.now() - compileStartedAt)
          : undefined;
      return {
        done,
        total: packages.all.size,
        message: current === 'compile' ? 'compiling packages' : 'linking the binaries',
        ...(etaMs !== undefined ? { etaMs } : {}),
      };
    },
  );
  // `-o DIR/` (trailing separator) makes go write one binary per main package into DIR.
  const outDir = options.outDir.endsWith(sep) ? options.outDir : `${options.outDir}${sep}`;
  try {
    await runGo(['build', ...MOD_FLAGS, ...flags, '-v', '-o', outDir, ...options.packages], options, log, {
      // -v writes package names to stderr; standard library packages are printed too but not counted.
      stderr: (line) => {
        if (!packages.all.has(line)) return;
        done += 1;
        if (packages.mains.has(line)) mainsSeen += 1;
        report.now();
      },
    });
  } finally {
    report.stop();
  }
}

interface Reporter {
  now(): void;
  stop(): void;
}

/** Reports on every event and once a second besides, so elapsed time and estimates stay current. */
function reporter(
  options: GoBuildOptions,
  phase: LabBuildPhase | (() => LabBuildPhase),
  state: () => Pick<LabBuildProgress, 'done' | 'total' | 'message' | 'etaMs'>,
): Reporter {
  const now = () =>
    options.onProgress({
      phase: typeof phase === 'function' ? phase() : phase,
      elapsedMs: Date.now() - options.startedAt,
      ...state(),
    });
  const timer = setInterval(now, HEARTBEAT_MS);
  timer.unref();
  now();
  return { now, stop: () => clearInterval(timer) };
}

interface LineHandlers {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
}

async function runGo(
  args: readonly string[],
  options: GoBuildOptions,
  log: WriteStream,
  handlers: LineHandlers,
): Promise<void> {
  const command = `go ${args.map((arg) => (/[\s'{}]/.test(arg) ? `'${arg}'` : arg)).join(' ')}`;
  log.write(`$ cd ${options.goDir} && ${command}\n`);
  const tail: string[] = [];
  // Errors come on stderr; stdout holds only go list's package list, which would bury them.
  const keep = (line: string, stream: 'stdout' | 'stderr') => {
    log.write(`${line}\n`);
    if (stream === 'stdout') return;
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
  };
  options.signal?.throwIfAborted();
  const child = spawn('go', args, {
    cwd: options.goDir,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onAbort = () => stop(child);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  forEachLine(child.stdout, (line) => {
    keep(line, 'stdout');
    handlers.stdout?.(line);
  });
  forEachLine(child.stderr, (line) => {
    keep(line, 'stderr');
    handlers.stderr?.(line);
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
  } catch (error) {
    throw new LabBuildError('go-missing', `cannot run go: ${(error as Error).message}`, { cause: error });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  log.write(`(exit ${exit.code ?? exit.signal})\n`);
  if (options.signal?.aborted) {
    throw new LabBuildError('interrupted', INTERRUPTED_MESSAGE, {
      cause: options.signal.reason,
      logFile: options.logFile,
    });
  }
  if (exit.code !== 0) {
    throw new LabBuildError(
      'build-failed',
      `\`${command}\` failed (exit ${exit.code ?? exit.signal}) in ${options.goDir}. Its output ended:\n` +
        `${tail.join('\n')}\n` +
        `Full output: ${options.logFile}. Fix the cause (e.g. no network to download modules, a compile ` +
        'error in lab/go/cmd) and run `meshtrust lab build` again',
      { logFile: options.logFile },
    );
  }
}

/** SIGINT first: go then stops its compilers and exits; SIGKILL if it has not after a while. */
function stop(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, KILL_AFTER_MS);
  timer.unref();
  child.once('close', () => clearTimeout(timer));
}

function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (partial !== '') onLine(partial);
  });
}
