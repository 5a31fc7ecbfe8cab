import { emitAuditEvent } from '../adapters/audit/audit-event.js';
import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import * as z from '../adapters/zod.js';
import { readForPreflight } from '../application/preflight-reading.js';
import { judgeForPreflight, type PreflightOutput } from '../application/preflight-verdict.js';
import type { RotationRuntime } from '../application/runtime.js';
import type { PreflightRefusal } from '../core/rotation/preflight-refusals.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { executionIdSchema, modeSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { PreflightOutput } from '../application/preflight-verdict.js';

const PHASE = 'preflight';

const inputSchema = z.object({
  executionId: executionIdSchema,
  mode: z.optional(z.nullable(modeSchema)),
  cluster: z.optional(z.nullable(z.string().check(z.minLength(1)))),
  /** The execution's soakSeconds: the soak's floor (scheduled mode). */
  soakSeconds: z.optional(z.nullable(z.int().check(z.nonnegative()))),
});
export type PreflightInput = z.infer<typeof inputSchema>;

/**
 * preflight: reads every cluster and the CA store and refuses, before anything is written, when the
 * fleet is not fit to rotate; otherwise returns the clusters, the current root and the plan.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<PreflightOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      lambdaContext: context,
      connectCluster: connectEksCluster,
    },
    (runtime) => preflight(input, runtime),
  );
}

async function preflight(input: PreflightInput, runtime: RotationRuntime): Promise<PreflightOutput> {
  const { executionId } = input;
  const refuse = ({ reason, cluster }: PreflightRefusal): never => {
    const where = cluster === undefined ? {} : { cluster };
    emitAuditEvent({ phase: PHASE, action: 'check-fleet', executionId, outcome: 'refused', ...where });
    throw new PreconditionFailed(reason, { phase: PHASE, ...where });
  };
  const reading = await readForPreflight(runtime, input);
  if (!reading.ok) return refuse(reading.refusal);
  const verdict = judgeForPreflight(reading, input, runtime);
  if (!verdict.ok) return refuse(verdict.refusal);
  emitAuditEvent({
    phase: PHASE,
    action: 'check-fleet',
    executionId,
    outcome: 'succeeded',
    fingerprintsBefore: [`root:${reading.currentRoot.ref.fingerprint}`],
    detail: { mode: reading.mode, clusters: reading.readings.length },
  });
  return verdict.output;
}
