import type { RotationPhase } from '../../adapters/audit/audit-event.js';
import { logger } from '../../adapters/audit/logger.js';
import { assertNoPrivateKey } from '../../adapters/audit/private-key-guard.js';
import { RotationError, type RotationErrorOptions } from '../../core/rotation-errors.js';
import { createHandlerRuntime, type HandlerRuntime } from './runtime.js';

export interface HandlerContext {
  readonly phase: RotationPhase;
  readonly executionId?: string;
  readonly cluster?: string;
}

/**
 * The frame of every handler: wire the runtime, tag the log lines with phase, execution and cluster,
 * run the step, make sure its output carries no PEM at all, and give every rotation error the phase
 * and cluster it happened in (the state machine's Retry/Catch match on the error name, which stays).
 */
export async function runHandler<T extends object>(
  context: HandlerContext,
  step: (runtime: HandlerRuntime) => Promise<T>,
): Promise<T> {
  const keys = {
    phase: context.phase,
    ...(context.executionId !== undefined && { executionId: context.executionId }),
    ...(context.cluster !== undefined && { cluster: context.cluster }),
  };
  logger.appendKeys(keys);
  let runtime: HandlerRuntime | undefined;
  try {
    runtime = createHandlerRuntime();
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

/** A handler output must hold ids, ARNs, fingerprints and counts only: never a PEM block. */
export function assertNoPem(output: unknown, phase: string): void {
  assertNoPrivateKey(output, `the output of ${phase}`);
  if (JSON.stringify(output)?.includes('-----BEGIN')) {
    throw new Error(`The output of ${phase} holds a PEM block; handlers return ids and fingerprints only.`);
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
  return enriched;
}
