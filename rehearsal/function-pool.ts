// Runs the Lambda functions of the rehearsal the way Lambda does: each function in its own processes
// ("containers"), started from its own bundle with only its own environment, kept warm between
// invocations, one invocation per process at a time (a concurrent invocation starts another process).
// A function error comes back as FunctionInvocationError whose name is the function's errorType.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FunctionInvocationError, FunctionRuntimeError } from './rehearsal-errors.js';
import type { TemplateFunction } from './template-functions.js';

/**
 * What each function container runs: lambda-bootstrap.mjs beside this module, in rehearsal/ of a checkout
 * and in dist/rehearsal/ of the installed package. It is plain JavaScript for plain node, which tsc does
 * not emit, so `npm run build` copies it there.
 */
export const LAMBDA_BOOTSTRAP = fileURLToPath(new URL('./lambda-bootstrap.mjs', import.meta.url));

/** One line a function wrote, as CloudWatch Logs would receive it. */
export interface FunctionLogLine {
  readonly at: Date;
  readonly functionName: string;
  readonly handlerName: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface FunctionPoolOptions {
  readonly functions: readonly TemplateFunction[];
  /** Per function (by logical id): its full environment, template variables resolved plus the lab's. */
  readonly environment: (fn: TemplateFunction) => Readonly<Record<string, string>>;
  /** ARN the function is invoked as (the context's invokedFunctionArn). */
  readonly arnOf: (fn: TemplateFunction) => string;
  readonly onLog?: (line: FunctionLogLine) => void;
}

export interface FunctionPool {
  /** Invokes the function; resolves with its result or rejects with FunctionInvocationError. */
  invoke(logicalId: string, event: unknown): Promise<unknown>;
  /**
   * Starts warm processes ahead of the first invocations: `containers` per function (a Map over N
   * clusters invokes its function N times at once, and Lambda would run N containers).
   */
  warm(
    requests: readonly { readonly logicalId: string; readonly containers: number }[],
    concurrency?: number,
  ): Promise<void>;
  /** Invocations so far, per handler name. */
  invocations(): Readonly<Record<string, number>>;
  /**
   * Per handler name, the time of each warm invocation so far (ms, from the event sent to the answer):
   * one that a container already initialised took, as Lambda runs one without a cold start. Failed
   * ones count too (a check that throws to be retried is a real invocation).
   */
  warmInvocationMs(): Readonly<Record<string, readonly number[]>>;
  stop(): Promise<void>;
}

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** Its init (the bundle's import) is over: an invocation now is a warm one. */
  initialised: boolean;
  busy: boolean;
}

type Reply =
  | { type: 'ready' }
  | { type: 'init-error'; errorType: string; errorMessage: string }
  | { type: 'result'; id: string; result: unknown }
  | { type: 'error'; id: string; errorType: string; errorMessage: string };

/**
 * How much lower than the rehearsal's a container's scheduling priority is (nice): on a busy machine the
 * lab's probes and certificate renewals (in the rehearsal's process, or in `meshtrust lab`'s at the same
 * priority) go first, so a burst of containers starting or working does not make the lab's own
 * certificates expire. Lambda gives each function its own CPU; here a function waits a little longer.
 */
export const CONTAINER_NICENESS = 5;

function yieldToTheLab(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    setPriority(child.pid, Math.min(19, getPriority() + CONTAINER_NICENESS));
  } catch {
    // A process that ended at once, or a system that refuses: the container runs at the same priority.
  }
}

export function createFunctionPool(options: FunctionPoolOptions): FunctionPool {
  const byId = new Map(options.functions.map((fn) => [fn.logicalId, fn]));
  const workers = new Map<string, Worker[]>();
  const counts: Record<string, number> = {};
  const warmTimes = new Map<string, number[]>();
  let stopped = false;

  const functionOf = (logicalId: string): TemplateFunction => {
    const fn = byId.get(logicalId);
    if (fn === undefined) {
      throw new FunctionRuntimeError(`the template has no Lambda function ${logicalId}`, logicalId);
    }
    return fn;
  };

  const start = (fn: TemplateFunction): Worker => {
    const child = fork(LAMBDA_BOOTSTRAP, [], {
      cwd: fn.bundleDirectory,
      execArgv: [],
      // A group of its own: a terminal's Ctrl-C is for the rehearsal, which then stops the containers
      // itself. However the rehearsal ends, its IPC channel closes and the container exits
      // (lambda-bootstrap.mjs), so none outlives it, SIGKILL included.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: 'UTC',
        ...options.environment(fn),
        AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        LAMBDA_TASK_ROOT: fn.bundleDirectory,
        _HANDLER: `${fn.bundleFile.replace(/\.mjs$/, '')}.${fn.exportName}`,
        _REHEARSAL_BUNDLE: join(fn.bundleDirectory, fn.bundleFile),
        _REHEARSAL_EXPORT: fn.exportName,
      },
    });
    yieldToTheLab(child);
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (source === null) continue;
      createInterface({ input: source }).on('line', (line) =>
        options.onLog?.({
          at: new Date(),
          functionName: fn.functionName,
          handlerName: fn.handlerName,
          stream,
          line,
        }),
      );
    }
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        if (reply.type === 'ready') resolve();
        if (reply.type === 'init-error') {
          reject(
            new FunctionRuntimeError(
              `${fn.functionName} failed to initialise: ${reply.errorType}: ${reply.errorMessage}`,
              fn.functionName,
            ),
          );
        }
        if (reply.type === 'ready' || reply.type === 'init-error') child.off('message', onMessage);
      };
      child.on('message', onMessage);
      child.once('exit', (code) =>
        reject(
          new FunctionRuntimeError(`${fn.functionName} exited during init (code ${code})`, fn.functionName),
        ),
      );
    });
    ready.catch(() => undefined);
    const worker: Worker = { child, ready, initialised: false, busy: false };
    ready.then(
      () => {
        worker.initialised = true;
      },
      () => undefined,
    );
    child.once('exit', () => {
      const list = workers.get(fn.logicalId) ?? [];
      workers.set(
        fn.logicalId,
        list.filter((candidate) => candidate !== worker),
      );
    });
    workers.set(fn.logicalId, [...(workers.get(fn.logicalId) ?? []), worker]);
    return worker;
  };

  const invokeOn = (fn: TemplateFunction, worker: Worker, event: unknown): Promise<unknown> => {
    const id = randomUUID();
    const timeoutMs = fn.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.child.off('message', onMessage);
        worker.child.off('exit', onExit);
      };
      const onMessage = (reply: Reply) => {
        if ((reply.type !== 'result' && reply.type !== 'error') || reply.id !== id) return;
        done();
        if (reply.type === 'result') resolve(reply.result);
        else reject(new FunctionInvocationError(reply.errorType, reply.errorMessage, fn.functionName));
      };
      const onExit = (code: number | null) => {
        done();
        reject(
          new FunctionInvocationError(
            'Runtime.ExitError',
            `${fn.functionName}: the runtime exited (code ${code}) during the invocation`,
            fn.functionName,
          ),
        );
      };
      const timer = setTimeout(() => {
        done();
        worker.child.kill('SIGKILL');
        reject(
          new FunctionInvocationError(
            'Sandbox.Timedout',
            `${fn.functionName}: task timed out after ${fn.timeoutSeconds} seconds`,
            fn.functionName,
          ),
        );
      }, timeoutMs);
      worker.child.on('message', onMessage);
      worker.child.once('exit', onExit);
      worker.child.send({ type: 'invoke', id, event, timeoutMs, functionArn: options.arnOf(fn) });
    });
  };

  return {
    async invoke(logicalId, event) {
      if (stopped) throw new FunctionRuntimeError('the function pool is stopped', logicalId);
      const fn = functionOf(logicalId);
      counts[fn.handlerName] = (counts[fn.handlerName] ?? 0) + 1;
      const worker = (workers.get(logicalId) ?? []).find((candidate) => !candidate.busy) ?? start(fn);
      worker.busy = true;
      const warm = worker.initialised;
      let sent: number | undefined;
      try {
        await worker.ready;
        sent = performance.now();
        return await invokeOn(fn, worker, event);
      } finally {
        worker.busy = false;
        if (warm && sent !== undefined) {
          const times = warmTimes.get(fn.handlerName) ?? [];
          times.push(performance.now() - sent);
          warmTimes.set(fn.handlerName, times);
        }
      }
    },
    async warm(requests, concurrency = 2) {
      const queue = requests.flatMap(({ logicalId, containers }) => {
        const fn = functionOf(logicalId);
        const missing = containers - (workers.get(logicalId) ?? []).length;
        return Array.from({ length: Math.max(0, missing) }, () => fn);
      });
      const next = async (): Promise<void> => {
        const fn = queue.shift();
        if (fn === undefined) return;
        await start(fn).ready;
        await next();
      };
      await Promise.all(Array.from({ length: concurrency }, next));
    },
    invocations: () => ({ ...counts }),
    warmInvocationMs: () =>
      Object.fromEntries([...warmTimes].map(([handler, times]) => [handler, [...times]])),
    async stop() {
      stopped = true;
      const all = [...workers.values()].flat();
      await Promise.all(
        all.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve();
              worker.child.once('exit', () => resolve());
              worker.child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
