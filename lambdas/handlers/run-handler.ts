import type { RotationPhase } from '../adapters/audit/audit-event.js';
import { type LambdaContext, logger, logInvocation } from '../adapters/audit/logger.js';
import { assertNoPrivateKey } from '../adapters/audit/private-key-guard.js';
import type { RotationLockConnector } from '../adapters/lock/connect-rotation-lock.js';
import {
  createRotationRuntime,
  type RotationRuntime,
  type RuntimeConnectors,
} from '../application/runtime.js';
import { MeshTrustError } from '../core/meshtrust-error.js';
import { RotationError, type RotationErrorOptions } from '../core/rotation-errors.js';

export type { LambdaContext } from '../adapters/audit/logger.js';

/** A handler's output held a PEM block: a bug of the handler, refused before the output leaves it. */
export class PemInOutputError extends MeshTrustError {
  readonly phase: string;

  constructor(phase: string) {
    super(`The output of ${phase} holds a PEM block; handlers return ids and fingerprints only.`);
    this.name = 'PemInOutputError';
    this.phase = phase;
  }
}

/**
 * What a handler's step needs beyond the CA store and EKS, as the runtime's connectors: each handler
 * hands in the ones its step uses (`connectEksCluster`, `connectRootKeys`, `connectRotationLock`,
 * `connectExecutions`), and its bundle holds no other AWS or Kubernetes client.
 */
interface HandlerFrame extends RuntimeConnectors {
  readonly phase: RotationPhase;
  readonly executionId?: string;
  readonly cluster?: string;
  /** The Lambda context of the invocation, whose request id every log line of it carries. */
  readonly lambdaContext?: LambdaContext;
}

export type HandlerContext = HandlerFrame &
  (
    | { readonly writes?: false }
    | {
        /**
         * The step writes to the fleet or the CA store: before it runs, its execution must hold the
         * mesh's rotation lock (acquire-lock took it; a step of a redriven run whose lock another
         * execution took over is refused with RotationLocked), read through `connectLock`. Skipped when
         * the function has no lock table (outside a stack, where acquire-lock cannot run either).
         */
        readonly writes: true;
        readonly connectLock: RotationLockConnector;
      }
  );

/**
 * The frame of every handler: wire the runtime, tag the log lines with the Lambda request id, phase,
 * execution and cluster, run the step, make sure its output carries no PEM at all, and give every
 * rotation error the phase and cluster it happened in (the state machine's Retry/Catch match on the
 * error name, which stays).
 */
export async function runHandler<T extends object>(
  context: HandlerContext,
  step: (runtime: RotationRuntime) => Promise<T>,
): Promise<T> {
  const keys = {
    phase: context.phase,
    ...(context.executionId !== undefined && { executionId: context.executionId }),
    ...(context.cluster !== undefined && { cluster: context.cluster }),
  };
  logInvocation(context.lambdaContext);
  logger.appendKeys(keys);
  let runtime: RotationRuntime | undefined;
  try {
    runtime = createRotationRuntime(undefined, {
      sessionName: `meshtrust-${context.phase}`,
      ...connectorsOf(context),
    });
    if (context.writes === true && context.executionId !== undefined && runtime.config.lock !== undefined) {
      const acquired = await runtime.lock().acquire(context.executionId);
      // acquire-lock took it; finding it free or stale here means this run had lost it (a redrive).
      if (acquired.how !== 'held') {
        logger.warn('took the rotation lock again at a writing step', {
          how: acquired.how,
          ...(acquired.previous !== undefined && { previousHolder: acquired.previous.holder }),
        });
      }
    }
    const output = await step(runtime);
    assertNoPem(output, context.phase);
    logger.info('step finished', { output: summariseOutput(output) });
    return output;
  } catch (error) {
    throw withContext(error, context);
  } finally {
    runtime?.close();
    logger.removeKeys(Object.keys(keys));
  }
}

/** The connectors the handler handed in, and no others. */
function connectorsOf(context: HandlerContext): RuntimeConnectors {
  const { connectCluster, connectRootKeys, connectLock, connectExecutions } = context;
  return {
    ...(connectCluster !== undefined && { connectCluster }),
    ...(connectRootKeys !== undefined && { connectRootKeys }),
    ...(connectLock !== undefined && { connectLock }),
    ...(connectExecutions !== undefined && { connectExecutions }),
  };
}

/** A handler output must hold ids, ARNs, fingerprints and counts only: never a PEM block. */
export function assertNoPem(output: unknown, phase: string): void {
  assertNoPrivateKey(output, `the output of ${phase}`);
  if (JSON.stringify(output)?.includes('-----BEGIN')) {
    throw new PemInOutputError(phase);
  }
}

function summariseOutput(output: object): Record<string, unknown> {
  // Scalars only: the output is already small, but nested plans need not be logged twice.
  return Object.fromEntries(Object.entries(output).filter(([, value]) => typeof value !== 'object'));
}

/** Adds phase and cluster to a rotation error that lacks them, keeping its class name and message. */
function withContext(error: unknown, context: HandlerContext): unknown {
  if (!(error instanceof RotationError)) return error;
  if (error.phase !== undefined && (error.cluster !== undefined || context.cluster === undefined))
    return error;
  const cluster = error.cluster ?? context.cluster;
  // Same class (so instanceof still holds for in-process callers such as the rehearsal), same name.
  const SameClass = error.constructor as new (
    message: string,
    options: RotationErrorOptions,
  ) => RotationError;
  const enriched = new SameClass(error.message, {
    cause: error,
    phase: error.phase ?? context.phase,
    ...(cluster !== undefined && { cluster }),
  });
  enriched.name = error.name;
  // What a subclass carries beyond message, phase and cluster (RotationLocked's holder) stays too.
  const target = enriched as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(error)) {
    if (target[key] === undefined) target[key] = value;
  }
  return enriched;
}
